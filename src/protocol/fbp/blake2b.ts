// BLAKE2b (RFC 7693), keyed, for the MAC of FBP data frames (DMRE), without allocation per call.
//
// FreeDMR authenticates a DMRE frame with keyed BLAKE2b, 16-byte digest, key = the 20-byte link key
// (passphrase NUL-padded or cut to 20 bytes; see ../obp obpKey). Keyed BLAKE2b hashes the key,
// zero-padded to a 128-byte block, as the first block of the message, so for a fixed key the state
// after that block is the same every time: it is computed once, in the constructor. A DMRE body
// (73 bytes in v5, 69 in v4) then fits in one more block, and its MAC costs one compression.
//
// The compression function runs in WebAssembly (./blake2b-wasm.ts), on a state and block at fixed
// places in the module's memory; this class keeps each key's starting state and copies it in. All
// scratch is preallocated, so sign and verify allocate nothing.

import { macEqual } from '../obp/mac.js';
import { BLOCK as BLOCK_AT, blake2bEngine, IV_BYTES, STATE } from './blake2b-wasm.js';

const BLOCK = 128;
/** Largest digest and key, in bytes. */
export const BLAKE2B_MAX = 64;

/** A BLAKE2b key and digest length with the keyed first block already compressed. */
export class Blake2b {
  readonly outLen: number;
  /** The state after the parameter block (and, with a key, after the key block), as bytes. */
  private readonly start = new Uint8Array(64);
  /** The state after the parameter block only: needed for a keyed empty message. */
  private readonly param = new Uint8Array(64);
  private readonly keyBlock: Uint8Array | null;

  /** `key` of 0 to 64 bytes (empty: unkeyed hashing); digest of 1 to 64 bytes. */
  constructor(key: Uint8Array = new Uint8Array(0), outLen = BLAKE2B_MAX) {
    if (!Number.isInteger(outLen) || outLen < 1 || outLen > BLAKE2B_MAX) throw new RangeError(`BLAKE2b digest length ${outLen}`);
    if (key.length > BLAKE2B_MAX) throw new RangeError(`BLAKE2b key length ${key.length}`);
    this.outLen = outLen;
    this.param.set(IV_BYTES);
    // Parameter block word 0, little-endian: digest length, key length, fanout 1, depth 1.
    this.param[0]! ^= outLen;
    this.param[1]! ^= key.length;
    this.param[2]! ^= 1;
    this.param[3]! ^= 1;
    this.start.set(this.param);
    if (key.length > 0) {
      const kb = new Uint8Array(BLOCK);
      kb.set(key);
      this.keyBlock = kb;
      const { mem, compress } = blake2bEngine();
      mem.set(this.param, STATE);
      mem.set(kb, BLOCK_AT);
      compress(BLOCK, 0);
      this.start.set(mem.subarray(STATE, STATE + 64));
    } else {
      this.keyBlock = null;
    }
  }

  /** Write the digest of `data[off, off+len)` into `out[outAt, outAt+outLen)`. */
  sign(data: Uint8Array, off: number, len: number, out: Uint8Array, outAt: number): void {
    const mem = this.run(data, off, len);
    for (let i = 0; i < this.outLen; i++) out[outAt + i] = mem[STATE + i]!;
  }

  /** True when `data[macAt, macAt+outLen)` is the digest of `data[off, off+len)`; no early exit. */
  verify(data: Uint8Array, off: number, len: number, macAt: number): boolean {
    if (off < 0 || macAt < 0 || data.length < off + len || data.length < macAt + this.outLen) return false;
    const mem = this.run(data, off, len);
    return macEqual(data, macAt, mem, this.outLen); // the state, digest first, is at STATE = 0
  }

  /** Hash `data[off, off+len)`, leaving the final state (the digest first) in the module's memory. */
  private run(data: Uint8Array, off: number, len: number): Uint8Array {
    const { mem, compress } = blake2bEngine();
    if (this.keyBlock !== null && len === 0) {
      // The key block is then the only, and so the final, block.
      mem.set(this.param, STATE);
      mem.set(this.keyBlock, BLOCK_AT);
      compress(BLOCK, 1);
      return mem;
    }
    mem.set(this.start, STATE);
    const count = this.keyBlock === null ? 0 : BLOCK;
    if (off === 0 && data.length <= BLOCK) {
      // A whole frame of one block or less (every FBP frame): one bulk copy, then zero the tail.
      mem.set(data, BLOCK_AT);
      mem.fill(0, BLOCK_AT + len, BLOCK_AT + BLOCK);
      compress(count + len, 1);
      return mem;
    }
    let p = off;
    let n = count;
    const end = off + len;
    while (end - p > BLOCK) {
      for (let i = 0; i < BLOCK; i++) mem[BLOCK_AT + i] = data[p + i]!;
      n += BLOCK;
      compress(n, 0);
      p += BLOCK;
    }
    const rest = end - p;
    for (let i = 0; i < rest; i++) mem[BLOCK_AT + i] = data[p + i]!;
    mem.fill(0, BLOCK_AT + rest, BLOCK_AT + BLOCK);
    compress(n + rest, 1);
    return mem;
  }
}

/** BLAKE2b of `data` as a new array (allocates: for tests, tools and one-off use). */
export function blake2b(data: Uint8Array, key?: Uint8Array, outLen = BLAKE2B_MAX): Uint8Array {
  const out = new Uint8Array(outLen);
  new Blake2b(key, outLen).sign(data, 0, data.length, out, 0);
  return out;
}
