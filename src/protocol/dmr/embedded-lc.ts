// Embedded LC: the full LC spread over the 32-bit embedded-signalling fields of voice bursts B..E
// (ETSI TS 102 361-1 annex B.2.1; spec §2.4).
//
// An 8 × 16 bit matrix. Rows 0..6 are Hamming(16,11,4) codewords whose 11 data bits hold:
//   rows 0, 1:   LC bits 0..10 and 11..21 (bit 0 = MSB of LC byte 0);
//   rows 2..6:   10 LC bits each (22..31, 32..41, …, 62..71), then one checksum bit in column 10,
//                the 5-bit checksum most significant bit first (row 2 carries its bit 4).
// Row 7 is the even parity of each column. The 128 bits are sent column by column, top to bottom, and
// cut into four 32-bit fragments for bursts B, C, D, E. So byte j of the 16 fragment bytes is exactly
// column j, row 0 in its most significant bit. (This is the ETSI mapping; dmr_utils3 reads one bit of
// the burst-D fragment from the wrong matrix cell, which only shows with service-option bits 0x10/0x08.)
// Pure: no Node or DOM APIs.

import { getBit, setBit } from './bits.js';
import { HAMMING_16_11_4 } from './hamming.js';

/** First bit of the embedded-signalling field in a voice burst, and its length. */
export const EMBEDDED_FIELD_BIT = 116;
export const EMBEDDED_FIELD_BITS = 32;

/** 5-bit checksum of the 9 LC bytes at `lc[at..at+9)`: their sum mod 31. */
export function csum5(lc: Uint8Array, at = 0): number {
  let s = 0;
  for (let i = 0; i < 9; i++) s += lc[at + i] ?? 0;
  return s % 31;
}

// Scratch rows (16-bit words, column 0 most significant).
const rows = new Uint16Array(8);

/**
 * Encode the LC at `lc[lcAt..lcAt+9)` into the 128 embedded bits: four 4-byte fragments written to
 * `out[0..16)`, fragment for burst B first.
 */
export function encodeEmbeddedLc(lc: Uint8Array, lcAt = 0, out: Uint8Array = new Uint8Array(16)): Uint8Array {
  const base = lcAt * 8;
  const cs = csum5(lc, lcAt);
  let bit = 0;
  let parityRow = 0;
  for (let r = 0; r < 7; r++) {
    let d = 0;
    const lcBits = r < 2 ? 11 : 10;
    for (let k = 0; k < lcBits; k++) d = (d << 1) | getBit(lc, base + bit++);
    if (r >= 2) d = (d << 1) | ((cs >> (6 - r)) & 1);
    rows[r] = HAMMING_16_11_4.encode(d);
    parityRow ^= rows[r]!;
  }
  rows[7] = parityRow;
  for (let c = 0; c < 16; c++) {
    let col = 0;
    for (let r = 0; r < 8; r++) col = (col << 1) | ((rows[r]! >> (15 - c)) & 1);
    out[c] = col;
  }
  return out;
}

export interface EmbeddedLcDecode {
  /** The 9 LC bytes (after any Hamming correction). */
  lc: Uint8Array;
  /** The 5-bit checksum carried in the matrix. */
  checksum: number;
  /** The carried checksum equals csum5(lc). */
  checksumOk: boolean;
  /** Every Hamming(16,11,4) row was a codeword or had one correctable error. */
  hammingOk: boolean;
  /** The column-parity row matches the (corrected) rows, or differs in one bit only when no row needed correcting. */
  parityOk: boolean;
  /** Bits corrected (by the row codes, or one bit of the parity row). */
  corrected: number;
  /** checksumOk && hammingOk && parityOk. */
  ok: boolean;
}

/**
 * Decode the 16 fragment bytes at `frags[at..at+16)` (B, C, D, E in order). Never throws: missing bytes
 * read as zero and failures are reported in the flags.
 */
export function decodeEmbeddedLc(frags: Uint8Array, at = 0): EmbeddedLcDecode {
  rows.fill(0);
  for (let c = 0; c < 16; c++) {
    const col = frags[at + c] ?? 0;
    for (let r = 0; r < 8; r++) rows[r] = rows[r]! | (((col >> (7 - r)) & 1) << (15 - c));
  }
  let hammingOk = true;
  let corrected = 0;
  let parity = 0;
  for (let r = 0; r < 7; r++) {
    const w = HAMMING_16_11_4.correct(rows[r]!);
    if (w < 0) hammingOk = false;
    else if (w !== rows[r]) {
      corrected++;
      rows[r] = w;
    }
    parity ^= rows[r]!;
  }
  // Rows 0..6 are right (or known bad). A mismatch in exactly one column with no row corrected means
  // the column-parity row itself took the hit: the data is intact.
  let mismatch = parity ^ rows[7]!;
  if (hammingOk && corrected === 0 && mismatch !== 0 && (mismatch & (mismatch - 1)) === 0) {
    mismatch = 0;
    corrected++;
  }
  const parityOk = mismatch === 0;
  const lc = new Uint8Array(9);
  let bit = 0;
  let checksum = 0;
  for (let r = 0; r < 7; r++) {
    const d = rows[r]! >> 5;
    const lcBits = r < 2 ? 11 : 10;
    for (let k = 0; k < lcBits; k++) setBit(lc, bit++, (d >> (10 - k)) & 1);
    if (r >= 2) checksum = (checksum << 1) | (d & 1);
  }
  const checksumOk = checksum === csum5(lc);
  return { lc, checksum, checksumOk, hammingOk, parityOk, corrected, ok: checksumOk && hammingOk && parityOk };
}

/** Copy the 32-bit embedded field of the voice burst at `burst[at..)` into fragment slot `n` (1..4 = B..E) of `frags`. */
export function readEmbeddedFragment(burst: Uint8Array, n: number, frags: Uint8Array, at = 0): void {
  const src = at * 8 + EMBEDDED_FIELD_BIT;
  const dst = (n - 1) * 32;
  for (let k = 0; k < 32; k++) setBit(frags, dst + k, getBit(burst, src + k));
}

/** Write fragment `n` (1..4 = B..E) of `frags` into the embedded field of the voice burst at `burst[at..)`. */
export function writeEmbeddedFragment(frags: Uint8Array, n: number, burst: Uint8Array, at = 0): void {
  const src = (n - 1) * 32;
  const dst = at * 8 + EMBEDDED_FIELD_BIT;
  for (let k = 0; k < 32; k++) setBit(burst, dst + k, getBit(frags, src + k));
}
