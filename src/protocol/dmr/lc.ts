// The full Link Control (LC) word and its voice-header / terminator encoding (spec §2.4):
// 9 LC bytes + RS(12,9) parity masked per frame kind, BPTC(196,96)-encoded into the burst's info bits.
// Pure: no Node or DOM APIs.

import { BPTC196_BYTES, bptc196Decode, bptc196Encode, extractInfoBits } from './bptc196.js';
import { rs129Check, rs129Parity, RS129_MASK_TERMINATOR, RS129_MASK_VOICE_HEADER } from './rs129.js';

export const LC_BYTES = 9;
export const BURST_BYTES = 33;

export const FLCO_GROUP_VOICE = 0x00;
export const FLCO_UNIT_VOICE = 0x03;
export const FID_STANDARD = 0x00;
export const FID_MOTOROLA = 0x10;
/** HBlink's default first three LC bytes when no header was seen (group, FID 0, service options 0x20). */
export const LC_OPT_GROUP: readonly number[] = [0x00, 0x00, 0x20];
/** The unit-call variant. */
export const LC_OPT_UNIT: readonly number[] = [0x03, 0x00, 0x00];

/** The fields of a 9-byte full LC. */
export interface FullLc {
  /** Protect flag (bit 7 of byte 0). Absent means false. Bit 6 (reserved) is dropped on parsing. */
  pf?: boolean;
  /** Full LC opcode, 6 bits: 0 group voice, 3 unit-to-unit voice. */
  flco: number;
  /** Feature set ID: 0x00 standard, 0x10 Motorola. */
  fid: number;
  serviceOptions: number;
  /** 24-bit destination: TG for group calls, subscriber ID for unit calls. */
  dst: number;
  /** 24-bit source subscriber ID. */
  src: number;
}

/** Serialise an LC to 9 bytes at `out[at..at+9)`. */
export function lcToBytes(lc: FullLc, out: Uint8Array = new Uint8Array(LC_BYTES), at = 0): Uint8Array {
  out[at] = (lc.pf ? 0x80 : 0) | (lc.flco & 0x3f);
  out[at + 1] = lc.fid & 0xff;
  out[at + 2] = lc.serviceOptions & 0xff;
  out[at + 3] = (lc.dst >>> 16) & 0xff;
  out[at + 4] = (lc.dst >>> 8) & 0xff;
  out[at + 5] = lc.dst & 0xff;
  out[at + 6] = (lc.src >>> 16) & 0xff;
  out[at + 7] = (lc.src >>> 8) & 0xff;
  out[at + 8] = lc.src & 0xff;
  return out;
}

/** Parse the 9 LC bytes at `b[at..at+9)` (missing bytes read as zero). */
export function lcFromBytes(b: Uint8Array, at = 0): FullLc {
  const u = (i: number): number => b[at + i] ?? 0;
  return {
    pf: (u(0) & 0x80) !== 0,
    flco: u(0) & 0x3f,
    fid: u(1),
    serviceOptions: u(2),
    dst: (u(3) << 16) | (u(4) << 8) | u(5),
    src: (u(6) << 16) | (u(7) << 8) | u(8),
  };
}

/**
 * The LC for a re-targeted stream (spec §2.6 rule 1): the first three bytes of `opts` (normally the
 * source LC; LC_OPT_GROUP when none was seen), then `dst`, then `src`.
 */
export function makeLc(opts: ArrayLike<number>, dst: number, src: number, out: Uint8Array = new Uint8Array(LC_BYTES)): Uint8Array {
  out[0] = opts[0]! & 0xff;
  out[1] = opts[1]! & 0xff;
  out[2] = opts[2]! & 0xff;
  out[3] = (dst >>> 16) & 0xff;
  out[4] = (dst >>> 8) & 0xff;
  out[5] = dst & 0xff;
  out[6] = (src >>> 16) & 0xff;
  out[7] = (src >>> 8) & 0xff;
  out[8] = src & 0xff;
  return out;
}

export type FullLcKind = 'header' | 'terminator';

const rsScratch = new Uint8Array(12);

/**
 * Encode the LC at `lc[0..9)` with RS(12,9) parity XOR-masked by `mask` into a packed 196-bit
 * BPTC(196,96) codeword (25 bytes).
 */
export function encodeFullLc(lc: Uint8Array, mask: number, out: Uint8Array = new Uint8Array(BPTC196_BYTES)): Uint8Array {
  for (let i = 0; i < 9; i++) rsScratch[i] = lc[i] ?? 0;
  rs129Parity(rsScratch, 0, rsScratch, 9, mask);
  return bptc196Encode(rsScratch, 0, out);
}

/** The 196-bit codeword (packed, 25 bytes) of a voice LC header carrying `lc`. */
export function encodeHeaderLc(lc: Uint8Array, out?: Uint8Array): Uint8Array {
  return encodeFullLc(lc, RS129_MASK_VOICE_HEADER, out);
}

/** The 196-bit codeword (packed, 25 bytes) of a terminator with LC carrying `lc`. */
export function encodeTerminatorLc(lc: Uint8Array, out?: Uint8Array): Uint8Array {
  return encodeFullLc(lc, RS129_MASK_TERMINATOR, out);
}

export interface FullLcDecode {
  /** The 9 LC bytes (after BPTC correction; not RS-corrected). */
  lc: Uint8Array;
  /** The 3 RS parity bytes as received (still masked). */
  parity: Uint8Array;
  /** The RS(12,9) check passed with the header or the terminator mask. */
  rsOk: boolean;
  /** Which mask made the RS check pass; 'unknown' when neither did. */
  kind: FullLcKind | 'unknown';
  /** BPTC rows and columns all check after correction. */
  bptcOk: boolean;
  /** Bits the BPTC decoder flipped, -1 when it failed. */
  bptcCorrected: number;
}

const cwScratch = new Uint8Array(BPTC196_BYTES);

/**
 * Decode the full LC from the data-sync burst at `burst[at..at+33)` (a voice LC header or terminator).
 * Never throws: a short buffer or a corrupt burst is reported through the flags.
 */
export function decodeFullLc(burst: Uint8Array, at = 0): FullLcDecode {
  const info = new Uint8Array(12);
  if (at < 0 || burst.length < at + BURST_BYTES) {
    return { lc: info.subarray(0, 9), parity: info.subarray(9, 12), rsOk: false, kind: 'unknown', bptcOk: false, bptcCorrected: -1 };
  }
  extractInfoBits(burst, at, cwScratch);
  const corrected = bptc196Decode(cwScratch, info, 0);
  let kind: FullLcKind | 'unknown' = 'unknown';
  if (rs129Check(info, 0, RS129_MASK_VOICE_HEADER)) kind = 'header';
  else if (rs129Check(info, 0, RS129_MASK_TERMINATOR)) kind = 'terminator';
  return {
    lc: info.subarray(0, 9),
    parity: info.subarray(9, 12),
    rsOk: kind !== 'unknown',
    kind,
    bptcOk: corrected >= 0,
    bptcCorrected: corrected,
  };
}
