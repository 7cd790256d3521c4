// Encoders and decoders for the HBP control messages (spec §1.2). Decoders return a typed result
// with a stable error code and never throw on bad bytes.

import { hasAscii, readU32, writeAscii, writeU32 } from '../bytes.js';

/** Stable error codes for bad HBP input. They appear in counters and logs; do not rename them. */
export type HbpError =
  | 'hbp.short'
  | 'hbp.unknown-tag'
  | 'hbp.bad-length'
  | 'hbp.unsupported'
  | 'dmrd.bad-length'
  | 'dmrd.null-stream';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: HbpError };

export const fail = <T>(error: HbpError): Parsed<T> => ({ ok: false, error });
export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });

export const LEN = {
  RPTL: 8,
  RPTK: 40,
  RPTC: 302,
  RPTCL: 9,
  RPTPING: 11,
  RPTACK: 10,
  MSTNAK: 10,
  MSTPONG: 11,
  MSTCL: 9,
  DMRD_SHORT: 53,
  DMRD: 55,
  RPTO_MIN: 8,
  /** Options strings longer than this are refused (FreeDMR's limit is the UDP datagram; 300 is ample). */
  RPTO_MAX: 8 + 300,
} as const;

/** Peer ID of the server status probe (spec §1.9). */
export const STATUS_PROBE_ID = 0xffffffff;

export interface Rptl { peerId: number }
export interface Rptk { peerId: number; digest: Uint8Array }
export interface PeerOnly { peerId: number }
export interface Rpto { peerId: number; options: Uint8Array }

/** RPTL + peer ID (8 bytes). */
export function parseRptl(b: Uint8Array): Parsed<Rptl> {
  if (b.length !== LEN.RPTL) return fail('hbp.bad-length');
  return ok({ peerId: readU32(b, 4) });
}

/** RPTK + peer ID + 32-byte SHA-256 digest (40 bytes). */
export function parseRptk(b: Uint8Array): Parsed<Rptk> {
  if (b.length !== LEN.RPTK) return fail('hbp.bad-length');
  return ok({ peerId: readU32(b, 4), digest: b.subarray(8, 40) });
}

/** RPTPING (11 bytes), RPTCL (9 bytes): tag + peer ID. */
export function parsePeerOnly(b: Uint8Array, tagLength: number): Parsed<PeerOnly> {
  if (b.length !== tagLength + 4) return fail('hbp.bad-length');
  return ok({ peerId: readU32(b, tagLength) });
}

/** RPTO + peer ID + options bytes (no terminator). */
export function parseRpto(b: Uint8Array): Parsed<Rpto> {
  if (b.length < LEN.RPTO_MIN || b.length > LEN.RPTO_MAX) return fail('hbp.bad-length');
  return ok({ peerId: readU32(b, 4), options: b.subarray(8) });
}

function tagged(tag: string, length: number, value: number, at: number): Uint8Array {
  const out = new Uint8Array(length);
  writeAscii(out, 0, tag);
  writeU32(out, at, value);
  return out;
}

export const encodeRptackSalt = (salt: number): Uint8Array => tagged('RPTACK', LEN.RPTACK, salt, 6);
export const encodeRptack = (peerId: number): Uint8Array => tagged('RPTACK', LEN.RPTACK, peerId, 6);
export const encodeMstnak = (peerId: number): Uint8Array => tagged('MSTNAK', LEN.MSTNAK, peerId, 6);
export const encodeMstpong = (peerId: number): Uint8Array => tagged('MSTPONG', LEN.MSTPONG, peerId, 7);
export const encodeMstcl = (peerId: number): Uint8Array => tagged('MSTCL', LEN.MSTCL, peerId, 5);

// Client side (used by the load generator, tests and later by outbound links).
export const encodeRptl = (peerId: number): Uint8Array => tagged('RPTL', LEN.RPTL, peerId, 4);
export const encodeRptping = (peerId: number): Uint8Array => tagged('RPTPING', LEN.RPTPING, peerId, 7);
export const encodeRptcl = (peerId: number): Uint8Array => tagged('RPTCL', LEN.RPTCL, peerId, 5);

export function encodeRptk(peerId: number, digest: Uint8Array): Uint8Array {
  const out = tagged('RPTK', LEN.RPTK, peerId, 4);
  out.set(digest.subarray(0, 32), 8);
  return out;
}

export function encodeRpto(peerId: number, options: string): Uint8Array {
  const out = new Uint8Array(8 + options.length);
  writeAscii(out, 0, 'RPTO');
  writeU32(out, 4, peerId);
  writeAscii(out, 8, options);
  return out;
}

/** What a client reads from a master's reply: tag and the 4-byte argument. */
export interface MasterReply {
  tag: 'RPTACK' | 'MSTNAK' | 'MSTPONG' | 'MSTCL';
  arg: number;
}

export function parseMasterReply(b: Uint8Array): Parsed<MasterReply> {
  if (hasAscii(b, 'RPTACK')) return b.length === 10 ? ok({ tag: 'RPTACK', arg: readU32(b, 6) }) : fail('hbp.bad-length');
  if (hasAscii(b, 'MSTNAK')) return b.length === 10 ? ok({ tag: 'MSTNAK', arg: readU32(b, 6) }) : fail('hbp.bad-length');
  if (hasAscii(b, 'MSTPONG')) return b.length === 11 ? ok({ tag: 'MSTPONG', arg: readU32(b, 7) }) : fail('hbp.bad-length');
  if (hasAscii(b, 'MSTCL')) return b.length === 9 ? ok({ tag: 'MSTCL', arg: readU32(b, 5) }) : fail('hbp.bad-length');
  return fail(b.length < 4 ? 'hbp.short' : 'hbp.unknown-tag');
}
