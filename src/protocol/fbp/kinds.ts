// Telling FreeDMR bridge protocol (FBP) datagrams apart (spec §3.2–3.3), before any MAC is checked.
//
// An FBP link carries data frames (DMRE) and bridge-control frames (BC*), each a 4-byte ASCII tag
// and a fixed length:
//
//   DMRE v5   89 bytes   byte 55 (the sender's protocol version) above 4
//   DMRE v4   85 bytes   byte 55 at most 4
//   BCKA      24 bytes   keepalive
//   BCSQ      31 bytes   source quench (talkgroup, stream)
//   BCVE      25 bytes   version advertisement
//   BCST      24 bytes   "stop bridging"; decoded, never sent by dmrhub
//
// FreeDMR picks the DMRE layout from byte 55 alone; here the length must agree with it, because a
// frame whose length and byte 55 disagree fails FreeDMR's MAC check whichever layout it picks (its
// v4 sender writes 5 there by mistake, so no FreeDMR accepts what that sender produces). Plain
// OpenBridge DMRD, the retired DMRF (v2/v3), KF7EEL's EOBP and any other BC tag are recognised and
// refused with their own codes. fbpKind never throws and allocates nothing.

import { hasAscii } from '../bytes.js';

/** What a well-formed FBP datagram is. */
export type FbpKind = 'dmre-v5' | 'dmre-v4' | 'bcka' | 'bcsq' | 'bcve' | 'bcst';

export type FbpError =
  /** Shorter than a tag. */
  | 'fbp.short'
  /** Not a tag any OpenBridge variant uses. */
  | 'fbp.unknown-tag'
  /** DMRF (protocol v2/v3, retired), EOBP, or a BC tag FreeDMR does not define. */
  | 'fbp.unsupported-tag'
  /** A plain OpenBridge v1 DMRD: refused on an FBP link (FreeDMR answers it with a BCVE). */
  | 'fbp.v1-frame'
  /** A known tag at a length other than its own. */
  | 'fbp.bad-length'
  /** A DMRE whose length and version byte (55) name different layouts. */
  | 'fbp.version-mismatch'
  /** A DMRE with stream ID 0. */
  | 'fbp.null-stream';

/** Every FbpError, for tests and counters. */
export const FBP_ERRORS: readonly FbpError[] = [
  'fbp.short',
  'fbp.unknown-tag',
  'fbp.unsupported-tag',
  'fbp.v1-frame',
  'fbp.bad-length',
  'fbp.version-mismatch',
  'fbp.null-stream',
];

export const isFbpError = (k: FbpKind | FbpError): k is FbpError => k.charCodeAt(3) === 0x2e; // 'fbp.'

/** Frame lengths in bytes, and where the version byte of a DMRE sits. */
export const FBP_LEN = {
  DMRE_V5: 89,
  DMRE_V4: 85,
  BCKA: 24,
  BCSQ: 31,
  BCVE: 25,
  BCST: 24,
} as const;

/** Byte 55 of a DMRE: above this, the 89-byte (v5) layout. */
export const DMRE_V4_MAX_VERSION = 4;

export type FbpParsed<T> = { ok: true; value: T } | { ok: false; error: FbpError };

const B = 0x42, C = 0x43;

/** Classify a datagram received on an FBP link by its tag and length. */
export function fbpKind(b: Uint8Array): FbpKind | FbpError {
  if (b.length < 4) return 'fbp.short';
  if (hasAscii(b, 'DMRE')) {
    if (b.length !== FBP_LEN.DMRE_V5 && b.length !== FBP_LEN.DMRE_V4) return 'fbp.bad-length';
    const v5 = b[55]! > DMRE_V4_MAX_VERSION;
    if (v5 !== (b.length === FBP_LEN.DMRE_V5)) return 'fbp.version-mismatch';
    if (b[16] === 0 && b[17] === 0 && b[18] === 0 && b[19] === 0) return 'fbp.null-stream';
    return v5 ? 'dmre-v5' : 'dmre-v4';
  }
  if (b[0] === B && b[1] === C) {
    if (hasAscii(b, 'KA', 2)) return b.length === FBP_LEN.BCKA ? 'bcka' : 'fbp.bad-length';
    if (hasAscii(b, 'SQ', 2)) return b.length === FBP_LEN.BCSQ ? 'bcsq' : 'fbp.bad-length';
    if (hasAscii(b, 'VE', 2)) return b.length === FBP_LEN.BCVE ? 'bcve' : 'fbp.bad-length';
    if (hasAscii(b, 'ST', 2)) return b.length === FBP_LEN.BCST ? 'bcst' : 'fbp.bad-length';
    return 'fbp.unsupported-tag';
  }
  if (hasAscii(b, 'DMRD')) return 'fbp.v1-frame';
  if (hasAscii(b, 'DMRF') || hasAscii(b, 'EOBP')) return 'fbp.unsupported-tag';
  return 'fbp.unknown-tag';
}
