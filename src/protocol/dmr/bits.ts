// Bit access on byte buffers, MSB-first: bit 0 is the most significant bit of byte 0, as in the DMR
// air-interface tables (spec §2.3). Callers that work inside a larger packet add `byteOffset * 8`.
// Pure: no Node or DOM APIs.

/** Bit `i` of `b` (0 or 1). Reads past the end give 0. */
export function getBit(b: Uint8Array, i: number): number {
  return ((b[i >> 3] ?? 0) >> (7 - (i & 7))) & 1;
}

/** Set bit `i` of `b` to `v` (any truthy value sets it). Writes outside the buffer are ignored. */
export function setBit(b: Uint8Array, i: number, v: number | boolean): void {
  const byte = i >> 3;
  if (byte < 0 || byte >= b.length) return;
  const m = 0x80 >> (i & 7);
  if (v) b[byte] = b[byte]! | m;
  else b[byte] = b[byte]! & ~m;
}

/** Read `n` (0..32) bits starting at bit `start` as an unsigned integer, first bit most significant. */
export function readBits(b: Uint8Array, start: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) v = ((v << 1) | getBit(b, start + k)) >>> 0;
  return v;
}

/** Write the low `n` (0..32) bits of `v` at bit `start`, most significant first. */
export function writeBits(b: Uint8Array, start: number, n: number, v: number): void {
  for (let k = 0; k < n; k++) setBit(b, start + k, (v >>> (n - 1 - k)) & 1);
}

/** Copy `n` bits from `src` at bit `srcStart` to `dst` at bit `dstStart` (bit by bit; no overlap handling). */
export function copyBits(src: Uint8Array, srcStart: number, dst: Uint8Array, dstStart: number, n: number): void {
  for (let k = 0; k < n; k++) setBit(dst, dstStart + k, getBit(src, srcStart + k));
}

/** Unpack `n` bits of `b` from bit `start` into one 0/1 byte per bit. */
export function unpackBits(b: Uint8Array, start: number, n: number, out: Uint8Array = new Uint8Array(n), outAt = 0): Uint8Array {
  for (let k = 0; k < n; k++) out[outAt + k] = getBit(b, start + k);
  return out;
}

/** Pack `n` 0/1 values of `bits` (from `from`) MSB-first into `out` starting at bit `outStart`. */
export function packBits(bits: ArrayLike<number>, from: number, n: number, out: Uint8Array, outStart = 0): Uint8Array {
  for (let k = 0; k < n; k++) setBit(out, outStart + k, bits[from + k]! & 1);
  return out;
}
