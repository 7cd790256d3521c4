// DMRE, the FBP data frame (spec §3.3), checked against FreeDMR's own traffic
// (test/fixtures/captures/freedmr-openbridge-fbp5.pcap).
//
// Bytes [0, 53) are a DMRD without its BER and RSSI, with the tag DMRE: sequence number at 4,
// source at 5 (3 bytes), destination at 8 (3), the sending server's ID at 11 (4; FreeDMR sends its
// SERVER_ID and wants its configured NETWORK_ID there), flags at 15 (slot bit clear), stream ID at
// 16 (4) and the 33-byte burst at 20, so the DMRD accessors of ../hbp/dmrd.ts read a DMRE as it
// is. Then, in both layouts:
//
//   53  BER            1
//   54  RSSI           1    (so [0, 55) with the tag DMRD is the 55-byte HBP DMRD)
//   55  version        1    the sender's protocol version; above 4 means the v5 layout
//   56  timestamp      8    the sender's clock in nanoseconds since 1970, unsigned big-endian
//   64  source server  4    the server where the call entered the mesh
//
// v5 (89 bytes): source repeater (4, the originating hotspot or repeater) at 68, hops at 72, MAC
// at [73, 89) over [0, 73). v4 (85 bytes): no source repeater; hops at 68, MAC at [69, 85) over
// [0, 69). The MAC is keyed BLAKE2b with a 16-byte digest, the key being the 20-byte link key.
// Locally originated traffic leaves with hops 1; FreeDMR adds 1 on receipt and drops above 10.

import { readU32, writeAscii, writeU32 } from '../bytes.js';
import { decodeDmrd, encodeDmrd, type DmrdFields } from '../hbp/dmrd.js';
import type { Blake2b } from './blake2b.js';
import { DMRE_V4_MAX_VERSION, FBP_LEN } from './kinds.js';

export const DMRE = {
  BER: 53,
  RSSI: 54,
  VERSION: 55,
  TIME: 56,
  SOURCE_SERVER: 64,
  /** v5 only. */
  SOURCE_REPEATER: 68,
  HOPS_V5: 72,
  HOPS_V4: 68,
  /** Where the MAC starts, which is also how many bytes it covers. */
  BODY_V5: 73,
  BODY_V4: 69,
  MAC: 16,
  /** The protocol version dmrhub writes in byte 55. */
  VERSION_CURRENT: 5,
} as const;

/** Bytes covered by the MAC (the MAC follows them): by length, 73 for v5, else 69. */
export const dmreBody = (b: Uint8Array): number => (b.length === FBP_LEN.DMRE_V5 ? DMRE.BODY_V5 : DMRE.BODY_V4);
const isV5 = (b: Uint8Array): boolean => b.length === FBP_LEN.DMRE_V5;

export const dmreVersion = (b: Uint8Array): number => b[DMRE.VERSION]!;
export const dmreSourceServer = (b: Uint8Array): number => readU32(b, DMRE.SOURCE_SERVER);
/** The originating repeater's ID; 0 in a v4 frame, which does not carry it. */
export const dmreSourceRepeater = (b: Uint8Array): number => (isV5(b) ? readU32(b, DMRE.SOURCE_REPEATER) : 0);
export const dmreHops = (b: Uint8Array): number => b[isV5(b) ? DMRE.HOPS_V5 : DMRE.HOPS_V4]!;
export function setDmreHops(b: Uint8Array, hops: number): void {
  b[isV5(b) ? DMRE.HOPS_V5 : DMRE.HOPS_V4] = hops & 0xff;
}

/** The timestamp in milliseconds (as a double: exact to about a microsecond), without a BigInt. */
export const dmreTimeMs = (b: Uint8Array): number => readU32(b, DMRE.TIME) * 4294.967296 + readU32(b, DMRE.TIME + 4) / 1e6;

/** Write a timestamp given in milliseconds (to within a few hundred nanoseconds). */
export function setDmreTimeMs(b: Uint8Array, ms: number): void {
  const ns = Math.max(0, ms) * 1e6;
  const hi = Math.floor(ns / 4294967296);
  writeU32(b, DMRE.TIME, hi);
  writeU32(b, DMRE.TIME + 4, ns - hi * 4294967296);
}

/** The timestamp exactly, in nanoseconds. */
export const dmreTimeNs = (b: Uint8Array): bigint => (BigInt(readU32(b, DMRE.TIME)) << 32n) | BigInt(readU32(b, DMRE.TIME + 4));

/** Write the MAC of a DMRE (its layout by its length) into its last 16 bytes. */
export function signDmre(b: Uint8Array, mac: Blake2b): void {
  const body = dmreBody(b);
  mac.sign(b, 0, body, b, body);
}

/** True when the MAC of a DMRE (its layout by its length) is right; constant time. */
export function verifyDmre(b: Uint8Array, mac: Blake2b): boolean {
  if (b.length !== FBP_LEN.DMRE_V5 && b.length !== FBP_LEN.DMRE_V4) return false;
  return mac.verify(b, 0, dmreBody(b), dmreBody(b));
}

/**
 * The 55-byte HBP DMRD inside a DMRE (tag DMRD, then bytes [4, 55): header, burst, BER, RSSI),
 * written into `out[0, 55)`.
 */
export function dmreToDmrd(b: Uint8Array, out: Uint8Array): void {
  writeAscii(out, 0, 'DMRD');
  for (let i = 4; i < 55; i++) out[i] = b[i]!;
}

/** What a DMRE adds to the DMRD it carries. */
export interface DmreMeta {
  /** Byte 55: above 4 selects the 89-byte layout, 4 or below the 85-byte one. */
  version: number;
  sourceServer: number;
  /** Written in the v5 layout only. */
  sourceRepeater: number;
  hops: number;
}

/**
 * Build a DMRE into `out` (89 or 85 bytes, as `meta.version` says) from a 53- or 55-byte DMRD
 * (BER and RSSI 0 when it has none), with the timestamp `timeMs`, and sign it. Allocates nothing.
 */
export function writeDmre(out: Uint8Array, dmrd: Uint8Array, meta: DmreMeta, timeMs: number, mac: Blake2b): void {
  const v5 = meta.version > DMRE_V4_MAX_VERSION;
  if (out.length !== (v5 ? FBP_LEN.DMRE_V5 : FBP_LEN.DMRE_V4)) throw new RangeError(`DMRE v${meta.version} needs ${v5 ? 89 : 85} bytes, not ${out.length}`);
  writeAscii(out, 0, 'DMRE');
  for (let i = 4; i < 53; i++) out[i] = dmrd[i]!;
  out[DMRE.BER] = dmrd.length >= 55 ? dmrd[53]! : 0;
  out[DMRE.RSSI] = dmrd.length >= 55 ? dmrd[54]! : 0;
  out[DMRE.VERSION] = meta.version & 0xff;
  setDmreTimeMs(out, timeMs);
  writeU32(out, DMRE.SOURCE_SERVER, meta.sourceServer);
  if (v5) writeU32(out, DMRE.SOURCE_REPEATER, meta.sourceRepeater);
  out[v5 ? DMRE.HOPS_V5 : DMRE.HOPS_V4] = meta.hops & 0xff;
  signDmre(out, mac);
}

/** Every field of a DMRE but its MAC. */
export interface DmreFields extends DmrdFields, DmreMeta {
  /** Nanoseconds since 1970 (beyond 2^53, hence a BigInt). */
  timeNs: bigint;
}

/** A decoded DMRE: fields, and the MAC as received (a copy). */
export interface DecodedDmre extends DmreFields {
  kind: 'dmre';
  mac: Uint8Array;
}

/** Build and sign a DMRE from fields (allocates: for clients, tools and tests). */
export function encodeDmre(f: DmreFields, mac: Blake2b): Uint8Array {
  const v5 = f.version > DMRE_V4_MAX_VERSION;
  const out = new Uint8Array(v5 ? FBP_LEN.DMRE_V5 : FBP_LEN.DMRE_V4);
  out.set(encodeDmrd(f).subarray(4, 55), 4);
  writeAscii(out, 0, 'DMRE');
  out[DMRE.VERSION] = f.version & 0xff;
  const t = BigInt.asUintN(64, f.timeNs);
  writeU32(out, DMRE.TIME, Number(t >> 32n));
  writeU32(out, DMRE.TIME + 4, Number(t & 0xffffffffn));
  writeU32(out, DMRE.SOURCE_SERVER, f.sourceServer);
  if (v5) writeU32(out, DMRE.SOURCE_REPEATER, f.sourceRepeater);
  out[v5 ? DMRE.HOPS_V5 : DMRE.HOPS_V4] = f.hops & 0xff;
  signDmre(out, mac);
  return out;
}

/** Decode a DMRE already classified as one (see fbpKind); allocates. */
export function decodeDmreFields(b: Uint8Array): DecodedDmre {
  const body = dmreBody(b);
  return {
    kind: 'dmre',
    ...decodeDmrd(b),
    version: dmreVersion(b),
    timeNs: dmreTimeNs(b),
    sourceServer: dmreSourceServer(b),
    sourceRepeater: dmreSourceRepeater(b),
    hops: dmreHops(b),
    mac: b.slice(body, body + DMRE.MAC),
  };
}
