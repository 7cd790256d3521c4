// BLAKE2b (RFC 7693), keyed, for the MAC of FBP data frames (DMRE), without allocation per call.
//
// FreeDMR authenticates a DMRE frame with keyed BLAKE2b, 16-byte digest, key = the 20-byte link key
// (passphrase NUL-padded or cut to 20 bytes; see ../obp obpKey). Keyed BLAKE2b hashes the key,
// zero-padded to a 128-byte block, as the first block of the message, so for a fixed key the state
// after that block is the same every time: it is computed once, in the constructor. A DMRE body
// (73 bytes in v5, 69 in v4) then fits in one more block, and its MAC costs one compression.
//
// 64-bit words are kept as pairs of 32-bit halves (low half at the even index, high at the odd
// one) in Int32Arrays; the compression function is in ./blake2b-compress.ts. All scratch is
// preallocated, so sign and verify allocate nothing.

import { macEqual } from '../obp/mac.js';
import { compress, IV } from './blake2b-compress.js';

const BLOCK = 128;
/** Largest digest and key, in bytes. */
export const BLAKE2B_MAX = 64;

/** The last, partial block, zero-padded (shared scratch: single-threaded, no re-entry). */
const PAD = new Uint8Array(BLOCK);

/**
 * Hash `data[off, off+len)` into `h`, which already holds the state after `prefix` bytes (0, or
 * one block for a key). Assumes len > 0 or prefix == 0 (an empty unkeyed message is one empty
 * final block); the caller handles the keyed empty message.
 */
function absorb(h: Int32Array, prefix: number, data: Uint8Array, off: number, len: number): void {
  let p = off;
  let count = prefix;
  const end = off + len;
  while (end - p > BLOCK) {
    count += BLOCK;
    compress(h, data, p, count, false);
    p += BLOCK;
  }
  const rest = end - p;
  PAD.fill(0);
  for (let i = 0; i < rest; i++) PAD[i] = data[p + i]!;
  compress(h, PAD, 0, count + rest, true);
}

/** Write the first `n` bytes of the state `h` (little-endian words) to `out[at, at+n)`. */
function output(h: Int32Array, n: number, out: Uint8Array, at: number): void {
  for (let i = 0; i < n; i++) out[at + i] = (h[i >> 2]! >>> (8 * (i & 3))) & 0xff;
}

/** A BLAKE2b key and digest length with the keyed first block already compressed. */
export class Blake2b {
  readonly outLen: number;
  /** The state after the parameter block (and, with a key, after the key block). */
  private readonly start = new Int32Array(16);
  /** The state after the parameter block only: needed for a keyed empty message. */
  private readonly param = new Int32Array(16);
  private readonly keyBlock: Uint8Array | null;
  private readonly h = new Int32Array(16);
  private readonly digest = new Uint8Array(BLAKE2B_MAX);

  /** `key` of 0 to 64 bytes (empty: unkeyed hashing); digest of 1 to 64 bytes. */
  constructor(key: Uint8Array = new Uint8Array(0), outLen = BLAKE2B_MAX) {
    if (!Number.isInteger(outLen) || outLen < 1 || outLen > BLAKE2B_MAX) throw new RangeError(`BLAKE2b digest length ${outLen}`);
    if (key.length > BLAKE2B_MAX) throw new RangeError(`BLAKE2b key length ${key.length}`);
    this.outLen = outLen;
    this.param.set(IV);
    // Parameter block word 0: digest length, key length, fanout 1, depth 1.
    this.param[0] = this.param[0]! ^ (0x01010000 | (key.length << 8) | outLen);
    this.start.set(this.param);
    if (key.length > 0) {
      const kb = new Uint8Array(BLOCK);
      kb.set(key);
      this.keyBlock = kb;
      compress(this.start, kb, 0, BLOCK, false);
    } else {
      this.keyBlock = null;
    }
  }

  /** Write the digest of `data[off, off+len)` into `out[outAt, outAt+outLen)`. */
  sign(data: Uint8Array, off: number, len: number, out: Uint8Array, outAt: number): void {
    const h = this.h;
    if (this.keyBlock !== null && len === 0) {
      // The key block is then the only, and so the final, block.
      h.set(this.param);
      compress(h, this.keyBlock, 0, BLOCK, true);
    } else {
      h.set(this.start);
      absorb(h, this.keyBlock === null ? 0 : BLOCK, data, off, len);
    }
    output(h, this.outLen, out, outAt);
  }

  /** True when `data[macAt, macAt+outLen)` is the digest of `data[off, off+len)`; no early exit. */
  verify(data: Uint8Array, off: number, len: number, macAt: number): boolean {
    if (off < 0 || macAt < 0 || data.length < off + len || data.length < macAt + this.outLen) return false;
    this.sign(data, off, len, this.digest, 0);
    return macEqual(data, macAt, this.digest, this.outLen);
  }
}

/** BLAKE2b of `data` as a new array (allocates: for tests, tools and one-off use). */
export function blake2b(data: Uint8Array, key?: Uint8Array, outLen = BLAKE2B_MAX): Uint8Array {
  const out = new Uint8Array(outLen);
  new Blake2b(key, outLen).sign(data, 0, data.length, out, 0);
  return out;
}
