// HMAC-SHA1 (RFC 2104 over FIPS 180-4 SHA-1) for OpenBridge frames, without allocation.
//
// A link signs and checks every frame with one fixed key, so the key's inner and outer padded
// blocks are compressed once, up front. A 53-byte frame then costs two SHA-1 compressions: one for
// the frame (it fits one block with its padding) and one for the outer hash. Node's createHmac
// redoes the key blocks and allocates a hasher and a digest on every call, which made a linked
// call cost about 20 times as much per packet as its local fan-out (BENCHMARKS.md, "Links").

import { readU32, writeU32 } from '../bytes.js';
import { macEqual } from './mac.js';

const BLOCK = 64;
export const SHA1_DIGEST = 20;

/** The SHA-1 state after the initial vector. */
const IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0] as const;

/** Scratch shared by every key: the message schedule and one block. Single-threaded, no re-entry. */
const W = new Int32Array(80);
const BUF = new Uint8Array(BLOCK);

/** Run one SHA-1 compression of `block[at, at+64)` over `h` (five words, updated in place). */
function compress(h: Int32Array, block: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) W[i] = readU32(block, at + 4 * i);
  for (let i = 16; i < 80; i++) {
    const x = W[i - 3]! ^ W[i - 8]! ^ W[i - 14]! ^ W[i - 16]!;
    W[i] = (x << 1) | (x >>> 31);
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  // Four loops of 20 rounds, one per round function, so no round branches.
  let t: number;
  for (let i = 0; i < 20; i++) {
    t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
}

/**
 * Hash `data[off, off+len)` as the continuation of a message whose first `prefix` bytes (a whole
 * number of blocks) are already folded into `h`; finish with the padding and length.
 */
function finish(h: Int32Array, data: Uint8Array, off: number, len: number, prefix: number): void {
  let p = off;
  const end = off + len;
  while (end - p >= BLOCK) {
    compress(h, data, p);
    p += BLOCK;
  }
  const rest = end - p;
  BUF.fill(0);
  for (let i = 0; i < rest; i++) BUF[i] = data[p + i]!;
  BUF[rest] = 0x80;
  if (rest >= BLOCK - 8) {
    compress(h, BUF, 0);
    BUF.fill(0);
  }
  // Message length in bits, big-endian in the last 8 bytes (messages here are far below 2^32 bits).
  const bits = (prefix + len) * 8;
  writeU32(BUF, 56, Math.floor(bits / 2 ** 32));
  writeU32(BUF, 60, bits);
  compress(h, BUF, 0);
}

function writeState(h: Int32Array, out: Uint8Array, at: number): void {
  for (let i = 0; i < 5; i++) writeU32(out, at + 4 * i, h[i]!);
}

/** SHA-1 of `data` (20 bytes, a new array). For keys longer than a block, and for tests. */
export function sha1(data: Uint8Array): Uint8Array {
  const h = Int32Array.from(IV);
  finish(h, data, 0, data.length, 0);
  const out = new Uint8Array(SHA1_DIGEST);
  writeState(h, out, 0);
  return out;
}

/** An HMAC-SHA1 key with its padded blocks already compressed. */
export class HmacSha1 {
  private readonly inner = new Int32Array(5);
  private readonly outer = new Int32Array(5);
  private readonly h = new Int32Array(5);
  private readonly digest = new Uint8Array(SHA1_DIGEST);

  constructor(key: Uint8Array) {
    const k = key.length > BLOCK ? sha1(key) : key;
    const pad = new Uint8Array(BLOCK);
    this.inner.set(IV);
    this.outer.set(IV);
    for (let i = 0; i < BLOCK; i++) pad[i] = (k[i] ?? 0) ^ 0x36;
    compress(this.inner, pad, 0);
    for (let i = 0; i < BLOCK; i++) pad[i] = (k[i] ?? 0) ^ 0x5c;
    compress(this.outer, pad, 0);
  }

  /** Write the MAC of `data[off, off+len)` into `out[outAt, outAt+20)`. */
  sign(data: Uint8Array, off: number, len: number, out: Uint8Array, outAt: number): void {
    const h = this.h;
    h.set(this.inner);
    finish(h, data, off, len, BLOCK);
    writeState(h, this.digest, 0);
    h.set(this.outer);
    finish(h, this.digest, 0, SHA1_DIGEST, BLOCK);
    writeState(h, out, outAt);
  }

  /** True when `data[macAt, macAt+20)` is the MAC of `data[off, off+len)`; no early exit. */
  verify(data: Uint8Array, off: number, len: number, macAt: number): boolean {
    if (data.length < macAt + SHA1_DIGEST) return false;
    this.sign(data, off, len, this.digest, 0);
    return macEqual(data, macAt, this.digest, SHA1_DIGEST);
  }
}
