// FBP bridge-control frames (spec §3.2, §3.4, §3.7): a 4-byte tag, a few bytes of content and a
// 20-byte HMAC-SHA1 under the same 20-byte link key as OpenBridge v1 (not BLAKE2b: only DMRE uses
// that). What the MAC covers differs per frame, as FreeDMR computes it:
//
//   tag   length  content                          MAC at    MAC covers
//   BCKA  24      none                             [4, 24)   [0, 4)  the tag
//   BCSQ  31      talkgroup [4, 7), stream [7, 11)  [11, 31)  [0, 11) tag and content
//   BCVE  25      version [4]                      [5, 25)   [4, 5)  the version byte only
//   BCST  24      none                             [4, 24)   [0, 4)  the tag
//
// So a BCKA's MAC depends on the key alone: every keepalive of a link is the same 24 bytes, and
// one overheard can be replayed. A BCVE's MAC does not cover its tag.
// BCST is as FreeDMR sends it; FreeDMR's receiver checks the MAC over the wrong bytes (the MAC
// itself), so it never accepts one. dmrhub decodes and verifies BCST the way it is sent, and never
// sends it.

import { hasAscii, readU24, readU32, writeAscii, writeU24, writeU32 } from '../bytes.js';
import type { HmacSha1 } from '../obp/hmac-sha1.js';
import { FBP_LEN } from './kinds.js';

export const BC_MAC = 20;

export type BcKind = 'bcka' | 'bcsq' | 'bcve' | 'bcst';

/** A bridge-control message, without its MAC. */
export type BcMessage = { kind: 'bcka' } | { kind: 'bcsq'; tg: number; streamId: number } | { kind: 'bcve'; version: number } | { kind: 'bcst' };

/** A decoded bridge-control frame: the message and its MAC as received (a copy). */
export type DecodedBc = BcMessage & { mac: Uint8Array };

const TAG: Record<BcKind, string> = { bcka: 'BCKA', bcsq: 'BCSQ', bcve: 'BCVE', bcst: 'BCST' };
const LEN: Record<BcKind, number> = { bcka: FBP_LEN.BCKA, bcsq: FBP_LEN.BCSQ, bcve: FBP_LEN.BCVE, bcst: FBP_LEN.BCST };

/** Where a frame's MAC starts, and the bytes it covers: [from, to). */
export const BC_LAYOUT: Record<BcKind, { macAt: number; from: number; to: number }> = {
  bcka: { macAt: 4, from: 0, to: 4 },
  bcsq: { macAt: 11, from: 0, to: 11 },
  bcve: { macAt: 5, from: 4, to: 5 },
  bcst: { macAt: 4, from: 0, to: 4 },
};

/** Build and sign a bridge-control frame. */
export function encodeBc(m: BcMessage, hmac: HmacSha1): Uint8Array {
  const out = new Uint8Array(LEN[m.kind]);
  writeAscii(out, 0, TAG[m.kind]);
  if (m.kind === 'bcsq') {
    writeU24(out, 4, m.tg);
    writeU32(out, 7, m.streamId);
  } else if (m.kind === 'bcve') {
    out[4] = m.version & 0xff;
  }
  signBc(out, m.kind, hmac);
  return out;
}

/** Write the MAC of a bridge-control frame of the given kind into it. */
export function signBc(b: Uint8Array, kind: BcKind, hmac: HmacSha1): void {
  const l = BC_LAYOUT[kind];
  hmac.sign(b, l.from, l.to - l.from, b, l.macAt);
}

/** True when `b` is a bridge-control frame of the given kind (tag and length) with the right MAC; constant time. */
export function verifyBc(b: Uint8Array, kind: BcKind, hmac: HmacSha1): boolean {
  if (b.length !== LEN[kind] || !hasAscii(b, TAG[kind])) return false;
  const l = BC_LAYOUT[kind];
  return hmac.verify(b, l.from, l.to - l.from, l.macAt);
}

/** Decode a bridge-control frame already classified (see fbpKind); allocates. */
export function decodeBcFields(b: Uint8Array, kind: BcKind): DecodedBc {
  const mac = b.slice(BC_LAYOUT[kind].macAt, BC_LAYOUT[kind].macAt + BC_MAC);
  switch (kind) {
    case 'bcsq': return { kind, tg: readU24(b, 4), streamId: readU32(b, 7), mac };
    case 'bcve': return { kind, version: b[4]!, mac };
    default: return { kind, mac };
  }
}
