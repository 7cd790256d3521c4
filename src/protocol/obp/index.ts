// OpenBridge v1 framing (spec §3.1): a 53-byte DMRD (no BER/RSSI) followed by HMAC-SHA1 of those
// 53 bytes under the link key, 73 bytes in all. No login, no keepalive. The core signs and checks
// with its precomputed key (./hmac-sha1.ts); signObp and verifyObp take any HMAC-SHA1 function,
// so clients and tests can bring their own (node:crypto's, as an independent check).

import { hasAscii, utf8 } from '../bytes.js';
import { macEqual } from './mac.js';

export const OBP = {
  /** DMRD without BER and RSSI. */
  BODY: 53,
  MAC: 20,
  FRAME: 73,
  /** Length of the link key: the passphrase NUL-padded or cut to exactly this many bytes. */
  KEY: 20,
} as const;

export type ObpError = 'obp.bad-length' | 'obp.unsupported-tag' | 'obp.unknown-tag' | 'obp.null-stream';

/** FreeDMR bridge-control and extended frames: valid on an FBP link, not on a v1 one. */
const FBP_TAGS = ['DMRE', 'BCKA', 'BCSQ', 'BCST', 'BCTO', 'BCVE'] as const;

/**
 * The link key from the configured passphrase: its UTF-8 bytes NUL-padded or truncated to 20, as
 * HBlink3 and FreeDMR do. (HMAC pads short keys with zeros itself, so only truncation changes the
 * MAC; keyed BLAKE2b for FBP depends on the exact 20 bytes.)
 */
export function obpKey(passphrase: string): Uint8Array {
  const key = new Uint8Array(OBP.KEY);
  key.set(utf8(passphrase).subarray(0, OBP.KEY));
  return key;
}

/** Check a datagram received on a v1 link before its MAC is verified; null when it is a v1 DMRD. */
export function checkObpFrame(b: Uint8Array): ObpError | null {
  if (!hasAscii(b, 'DMRD')) {
    for (const t of FBP_TAGS) if (hasAscii(b, t)) return 'obp.unsupported-tag';
    return 'obp.unknown-tag';
  }
  if (b.length !== OBP.FRAME) return 'obp.bad-length';
  if (b[16] === 0 && b[17] === 0 && b[18] === 0 && b[19] === 0) return 'obp.null-stream';
  return null;
}


/** True when the last 20 bytes of `frame` are the HMAC of its first 53 under `key`. */
export function verifyObp(frame: Uint8Array, key: Uint8Array, hmacSha1: (key: Uint8Array, data: Uint8Array) => Uint8Array): boolean {
  return macEqual(frame, OBP.BODY, hmacSha1(key, frame.subarray(0, OBP.BODY)), OBP.MAC);
}

/** Write the HMAC of `frame[0:53)` into `frame[53:73)`. */
export function signObp(frame: Uint8Array, key: Uint8Array, hmacSha1: (key: Uint8Array, data: Uint8Array) => Uint8Array): void {
  frame.set(hmacSha1(key, frame.subarray(0, OBP.BODY)).subarray(0, OBP.MAC), OBP.BODY);
}
