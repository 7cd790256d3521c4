// BPTC(196,96): the block product turbo code that carries the full LC of voice LC headers and
// terminators (and other data-sync frames) in the 196 "info" bits of a burst (ETSI TS 102 361-1
// annex B.1.1; spec §2.4).
//
// Matrix order: position 0 is a lone reserved bit; positions 1 + 15·r + c (r = 0..12, c = 0..14) form a
// 13 × 15 matrix. Rows 0..8 hold 11 data bits and 4 Hamming(15,11,3) parity bits each; rows 9..12 are
// the Hamming(13,9,3) parity of every column. The 100 data positions (position 0, then rows 0..8,
// columns 0..10) carry 4 reserved zero bits followed by the 96 information bits.
// Transmit order: matrix position i goes to codeword bit (i × 181) mod 196.
//
// A codeword here is 196 bits packed MSB-first into 25 bytes (the last 4 bits unused). On the air it
// sits in burst bits [0:98) and [166:264); see extractInfoBits / insertInfoBits.
// Pure: no Node or DOM APIs.

import { getBit, setBit } from './bits.js';
import { HAMMING_13_9_3, HAMMING_15_11_3 } from './hamming.js';

export const BPTC196_BITS = 196;
export const BPTC196_BYTES = 25;

/** INTERLEAVE[i] = codeword bit that carries matrix position i. */
export const BPTC196_INTERLEAVE = new Uint8Array(196);
for (let i = 0; i < 196; i++) BPTC196_INTERLEAVE[i] = (i * 181) % 196;

/** Matrix position of data bit k (k = 0..99; bits 0..3 are the reserved ones). */
const DATA_POS = new Uint8Array(100);
DATA_POS[0] = 0;
for (let k = 1; k < 100; k++) DATA_POS[k] = 1 + 15 * Math.floor((k - 1) / 11) + ((k - 1) % 11);

const at = (r: number, c: number): number => 1 + 15 * r + c;

// Scratch matrix, one 0/1 byte per position. Encoding and decoding are synchronous, so one is enough.
const m = new Uint8Array(196);

/**
 * Encode the 96 bits (12 bytes) at `info[infoAt..infoAt+12)` into a 196-bit codeword, written packed to
 * `out` (25 bytes, fully overwritten).
 */
export function bptc196Encode(info: Uint8Array, infoAt = 0, out: Uint8Array = new Uint8Array(BPTC196_BYTES)): Uint8Array {
  m.fill(0);
  for (let k = 0; k < 96; k++) m[DATA_POS[k + 4]!] = getBit(info, infoAt * 8 + k);
  for (let r = 0; r < 9; r++) {
    let d = 0;
    for (let c = 0; c < 11; c++) d = (d << 1) | m[at(r, c)]!;
    const p = HAMMING_15_11_3.parity(d);
    for (let j = 0; j < 4; j++) m[at(r, 11 + j)] = (p >> (3 - j)) & 1;
  }
  for (let c = 0; c < 15; c++) {
    let d = 0;
    for (let r = 0; r < 9; r++) d = (d << 1) | m[at(r, c)]!;
    const p = HAMMING_13_9_3.parity(d);
    for (let j = 0; j < 4; j++) m[at(9 + j, c)] = (p >> (3 - j)) & 1;
  }
  for (let i = 0; i < BPTC196_BYTES; i++) out[i] = 0;
  for (let i = 0; i < 196; i++) if (m[i]) setBit(out, BPTC196_INTERLEAVE[i]!, 1);
  return out;
}

function rowWord(r: number): number {
  let w = 0;
  for (let c = 0; c < 15; c++) w = (w << 1) | m[at(r, c)]!;
  return w;
}

function colWord(c: number): number {
  let w = 0;
  for (let r = 0; r < 13; r++) w = (w << 1) | m[at(r, c)]!;
  return w;
}

const MAX_PASSES = 5;

/**
 * Decode a packed 196-bit codeword (25 bytes, as produced by bptc196Encode or extractInfoBits) into its
 * 96 information bits at `out[outAt..outAt+12)`. Corrects errors by alternating Hamming(13,9,3) column
 * and Hamming(15,11,3) row passes; any single bit error is always corrected.
 * Returns the number of bits flipped, or -1 when the matrix still fails a row or column check (the
 * output then holds the best effort). The reserved bits are ignored. Never throws; a short input reads
 * as zeros.
 */
export function bptc196Decode(cw: Uint8Array, out: Uint8Array = new Uint8Array(12), outAt = 0): number {
  for (let i = 0; i < 196; i++) m[i] = getBit(cw, BPTC196_INTERLEAVE[i]!);
  let flipped = 0;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let changed = 0;
    for (let c = 0; c < 15; c++) {
      const pos = HAMMING_13_9_3.errorPosition(colWord(c));
      if (pos >= 0) {
        m[at(pos, c)] = m[at(pos, c)]! ^ 1;
        changed++;
      }
    }
    for (let r = 0; r < 13; r++) {
      const pos = HAMMING_15_11_3.errorPosition(rowWord(r));
      if (pos >= 0) {
        m[at(r, pos)] = m[at(r, pos)]! ^ 1;
        changed++;
      }
    }
    flipped += changed;
    if (changed === 0) break;
  }
  let ok = true;
  for (let c = 0; c < 15 && ok; c++) if (HAMMING_13_9_3.syndrome(colWord(c)) !== 0) ok = false;
  for (let r = 0; r < 13 && ok; r++) if (HAMMING_15_11_3.syndrome(rowWord(r)) !== 0) ok = false;
  for (let k = 0; k < 96; k++) setBit(out, (outAt * 8) + k, m[DATA_POS[k + 4]!]!);
  return ok ? flipped : -1;
}

/** Copy the 196 info bits of the burst at `burst[at..at+33)` (bits [0:98) and [166:264)) into packed `out`. */
export function extractInfoBits(burst: Uint8Array, at = 0, out: Uint8Array = new Uint8Array(BPTC196_BYTES)): Uint8Array {
  const base = at * 8;
  out[BPTC196_BYTES - 1] = 0;
  for (let k = 0; k < 98; k++) setBit(out, k, getBit(burst, base + k));
  for (let k = 0; k < 98; k++) setBit(out, 98 + k, getBit(burst, base + 166 + k));
  return out;
}

/** Write a packed 196-bit codeword into the info bits of the burst at `burst[at..at+33)`, keeping [98:166). */
export function insertInfoBits(cw: Uint8Array, burst: Uint8Array, at = 0): void {
  const base = at * 8;
  for (let k = 0; k < 98; k++) setBit(burst, base + k, getBit(cw, k));
  for (let k = 0; k < 98; k++) setBit(burst, base + 166 + k, getBit(cw, 98 + k));
}
