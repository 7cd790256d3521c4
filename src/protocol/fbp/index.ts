// The FreeDMR bridge protocol (FBP; spec §3.2–3.7) on the wire: telling frames apart (./kinds.ts),
// DMRE data frames with their keyed BLAKE2b MAC (./dmre.ts, ./blake2b.ts) and the BC* control
// frames with their HMAC-SHA1 (./control.ts). Both MACs use the OpenBridge link key: the
// passphrase as UTF-8, NUL-padded or cut to 20 bytes (../obp obpKey); BLAKE2b is keyed with all
// 20 bytes, padding included. Pure; the link state (version, keepalive, quench) lives in the core.

import { obpKey } from '../obp/index.js';
import { HmacSha1 } from '../obp/hmac-sha1.js';
import { Blake2b } from './blake2b.js';
import { decodeBcFields, verifyBc, type DecodedBc } from './control.js';
import { DMRE, decodeDmreFields, verifyDmre, type DecodedDmre } from './dmre.js';
import { fbpKind, isFbpError, type FbpParsed } from './kinds.js';

export * from './blake2b.js';
export * from './control.js';
export * from './dmre.js';
export * from './kinds.js';

/** A link's two MAC keys, each with its fixed part precomputed. */
export interface FbpKeys {
  /** For DMRE: keyed BLAKE2b, 16-byte digest. */
  blake2b: Blake2b;
  /** For BC* frames. */
  hmac: HmacSha1;
}

export function fbpKeys(passphrase: string): FbpKeys {
  const key = obpKey(passphrase);
  return { blake2b: new Blake2b(key, DMRE.MAC), hmac: new HmacSha1(key) };
}

export type FbpMessage = DecodedDmre | DecodedBc;

/** Decode any FBP datagram (the MAC is not checked); never throws. Allocates: not the hot path. */
export function decodeFbp(b: Uint8Array): FbpParsed<FbpMessage> {
  const k = fbpKind(b);
  if (isFbpError(k)) return { ok: false, error: k };
  if (k === 'dmre-v5' || k === 'dmre-v4') return { ok: true, value: decodeDmreFields(b) };
  return { ok: true, value: decodeBcFields(b, k) };
}

/** Check the MAC of a datagram fbpKind accepted, by its kind; constant time. */
export function verifyFbp(b: Uint8Array, keys: FbpKeys): boolean {
  const k = fbpKind(b);
  if (isFbpError(k)) return false;
  if (k === 'dmre-v5' || k === 'dmre-v4') return verifyDmre(b, keys.blake2b);
  return verifyBc(b, k, keys.hmac);
}
