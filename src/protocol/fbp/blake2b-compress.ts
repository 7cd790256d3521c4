// The BLAKE2b compression function F (RFC 7693 §3.2), with the 16-word working vector in local
// variables: 64-bit words are [low, high] pairs of int32 locals (v0l, v0h, ...), and the four
// rotations (right by 32, 24, 16, 63) are written out on the halves. An addition adds the low
// halves as unsigned numbers (exact in a double, even three of them), and carries the part above
// 32 bits, sum × 2^-32 (the constant 2.3283064365386963e-10) truncated, into the high half.
// Keeping the vector in locals rather than in an array, and one round's eight G applications
// written out in full, made a block about twice as fast in V8 as a G function over an array.
// The message words come from M by the round's SIGMA permutation (pre-doubled into pair indices).

/** The initial vector (the SHA-512 one), as [low, high] pairs. */
export const IV = Int32Array.of(
  0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85, 0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a,
  0xade682d1, 0x510e527f, 0x2b3e6c1f, 0x9b05688c, 0xfb41bd6b, 0x1f83d9ab, 0x137e2179, 0x5be0cd19,
);

/** Message word order per round (rounds 10 and 11 repeat 0 and 1), doubled into pair indices. */
const S = Uint8Array.from(
  [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  ]
    .flat()
    .map((i) => 2 * i),
);

/** The message block as 16 [low, high] pairs, unsigned (shared scratch: single-threaded, no re-entry). */
const M = new Uint32Array(32);

/**
 * Compress the 128 bytes of `block` at `at` into the state `h` (8 words as 16 halves, updated in
 * place). `count` is the number of message bytes hashed so far including this block (below
 * 2^53); `last` marks the final block.
 */
export function compress(h: Int32Array, block: Uint8Array, at: number, count: number, last: boolean): void {
  for (let i = 0; i < 32; i++) {
    const p = at + 4 * i;
    M[i] = block[p]! | (block[p + 1]! << 8) | (block[p + 2]! << 16) | (block[p + 3]! << 24);
  }
  let v0l = h[0]!, v0h = h[1]!;
  let v1l = h[2]!, v1h = h[3]!;
  let v2l = h[4]!, v2h = h[5]!;
  let v3l = h[6]!, v3h = h[7]!;
  let v4l = h[8]!, v4h = h[9]!;
  let v5l = h[10]!, v5h = h[11]!;
  let v6l = h[12]!, v6h = h[13]!;
  let v7l = h[14]!, v7h = h[15]!;
  let v8l = IV[0]!, v8h = IV[1]!;
  let v9l = IV[2]!, v9h = IV[3]!;
  let v10l = IV[4]!, v10h = IV[5]!;
  let v11l = IV[6]!, v11h = IV[7]!;
  let v12l = IV[8]! ^ (count | 0), v12h = IV[9]! ^ (Math.floor(count / 0x100000000) | 0);
  let v13l = IV[10]!, v13h = IV[11]!;
  let v14l = last ? ~IV[12]! : IV[12]!, v14h = last ? ~IV[13]! : IV[13]!;
  let v15l = IV[14]!, v15h = IV[15]!;
  let t: number, u: number, i: number;
  for (let s = 0; s < 192; s += 16) {
    // G on v0, v4, v8, v12 with message words sigma[0], sigma[1]
    i = S[s + 0]!; t = (v0l >>> 0) + (v4l >>> 0) + M[i]!;
    v0h = (v0h + v4h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v0l = t | 0;
    t = v12l ^ v0l; v12l = v12h ^ v0h; v12h = t;
    t = (v8l >>> 0) + (v12l >>> 0); v8h = (v8h + v12h + ((t * 2.3283064365386963e-10) | 0)) | 0; v8l = t | 0;
    t = v4l ^ v8l; u = v4h ^ v8h; v4l = (t >>> 24) | (u << 8); v4h = (u >>> 24) | (t << 8);
    i = S[s + 1]!; t = (v0l >>> 0) + (v4l >>> 0) + M[i]!;
    v0h = (v0h + v4h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v0l = t | 0;
    t = v12l ^ v0l; u = v12h ^ v0h; v12l = (t >>> 16) | (u << 16); v12h = (u >>> 16) | (t << 16);
    t = (v8l >>> 0) + (v12l >>> 0); v8h = (v8h + v12h + ((t * 2.3283064365386963e-10) | 0)) | 0; v8l = t | 0;
    t = v4l ^ v8l; u = v4h ^ v8h; v4l = (t << 1) | (u >>> 31); v4h = (u << 1) | (t >>> 31);
    // G on v1, v5, v9, v13 with message words sigma[2], sigma[3]
    i = S[s + 2]!; t = (v1l >>> 0) + (v5l >>> 0) + M[i]!;
    v1h = (v1h + v5h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v1l = t | 0;
    t = v13l ^ v1l; v13l = v13h ^ v1h; v13h = t;
    t = (v9l >>> 0) + (v13l >>> 0); v9h = (v9h + v13h + ((t * 2.3283064365386963e-10) | 0)) | 0; v9l = t | 0;
    t = v5l ^ v9l; u = v5h ^ v9h; v5l = (t >>> 24) | (u << 8); v5h = (u >>> 24) | (t << 8);
    i = S[s + 3]!; t = (v1l >>> 0) + (v5l >>> 0) + M[i]!;
    v1h = (v1h + v5h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v1l = t | 0;
    t = v13l ^ v1l; u = v13h ^ v1h; v13l = (t >>> 16) | (u << 16); v13h = (u >>> 16) | (t << 16);
    t = (v9l >>> 0) + (v13l >>> 0); v9h = (v9h + v13h + ((t * 2.3283064365386963e-10) | 0)) | 0; v9l = t | 0;
    t = v5l ^ v9l; u = v5h ^ v9h; v5l = (t << 1) | (u >>> 31); v5h = (u << 1) | (t >>> 31);
    // G on v2, v6, v10, v14 with message words sigma[4], sigma[5]
    i = S[s + 4]!; t = (v2l >>> 0) + (v6l >>> 0) + M[i]!;
    v2h = (v2h + v6h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v2l = t | 0;
    t = v14l ^ v2l; v14l = v14h ^ v2h; v14h = t;
    t = (v10l >>> 0) + (v14l >>> 0); v10h = (v10h + v14h + ((t * 2.3283064365386963e-10) | 0)) | 0; v10l = t | 0;
    t = v6l ^ v10l; u = v6h ^ v10h; v6l = (t >>> 24) | (u << 8); v6h = (u >>> 24) | (t << 8);
    i = S[s + 5]!; t = (v2l >>> 0) + (v6l >>> 0) + M[i]!;
    v2h = (v2h + v6h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v2l = t | 0;
    t = v14l ^ v2l; u = v14h ^ v2h; v14l = (t >>> 16) | (u << 16); v14h = (u >>> 16) | (t << 16);
    t = (v10l >>> 0) + (v14l >>> 0); v10h = (v10h + v14h + ((t * 2.3283064365386963e-10) | 0)) | 0; v10l = t | 0;
    t = v6l ^ v10l; u = v6h ^ v10h; v6l = (t << 1) | (u >>> 31); v6h = (u << 1) | (t >>> 31);
    // G on v3, v7, v11, v15 with message words sigma[6], sigma[7]
    i = S[s + 6]!; t = (v3l >>> 0) + (v7l >>> 0) + M[i]!;
    v3h = (v3h + v7h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v3l = t | 0;
    t = v15l ^ v3l; v15l = v15h ^ v3h; v15h = t;
    t = (v11l >>> 0) + (v15l >>> 0); v11h = (v11h + v15h + ((t * 2.3283064365386963e-10) | 0)) | 0; v11l = t | 0;
    t = v7l ^ v11l; u = v7h ^ v11h; v7l = (t >>> 24) | (u << 8); v7h = (u >>> 24) | (t << 8);
    i = S[s + 7]!; t = (v3l >>> 0) + (v7l >>> 0) + M[i]!;
    v3h = (v3h + v7h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v3l = t | 0;
    t = v15l ^ v3l; u = v15h ^ v3h; v15l = (t >>> 16) | (u << 16); v15h = (u >>> 16) | (t << 16);
    t = (v11l >>> 0) + (v15l >>> 0); v11h = (v11h + v15h + ((t * 2.3283064365386963e-10) | 0)) | 0; v11l = t | 0;
    t = v7l ^ v11l; u = v7h ^ v11h; v7l = (t << 1) | (u >>> 31); v7h = (u << 1) | (t >>> 31);
    // G on v0, v5, v10, v15 with message words sigma[8], sigma[9]
    i = S[s + 8]!; t = (v0l >>> 0) + (v5l >>> 0) + M[i]!;
    v0h = (v0h + v5h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v0l = t | 0;
    t = v15l ^ v0l; v15l = v15h ^ v0h; v15h = t;
    t = (v10l >>> 0) + (v15l >>> 0); v10h = (v10h + v15h + ((t * 2.3283064365386963e-10) | 0)) | 0; v10l = t | 0;
    t = v5l ^ v10l; u = v5h ^ v10h; v5l = (t >>> 24) | (u << 8); v5h = (u >>> 24) | (t << 8);
    i = S[s + 9]!; t = (v0l >>> 0) + (v5l >>> 0) + M[i]!;
    v0h = (v0h + v5h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v0l = t | 0;
    t = v15l ^ v0l; u = v15h ^ v0h; v15l = (t >>> 16) | (u << 16); v15h = (u >>> 16) | (t << 16);
    t = (v10l >>> 0) + (v15l >>> 0); v10h = (v10h + v15h + ((t * 2.3283064365386963e-10) | 0)) | 0; v10l = t | 0;
    t = v5l ^ v10l; u = v5h ^ v10h; v5l = (t << 1) | (u >>> 31); v5h = (u << 1) | (t >>> 31);
    // G on v1, v6, v11, v12 with message words sigma[10], sigma[11]
    i = S[s + 10]!; t = (v1l >>> 0) + (v6l >>> 0) + M[i]!;
    v1h = (v1h + v6h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v1l = t | 0;
    t = v12l ^ v1l; v12l = v12h ^ v1h; v12h = t;
    t = (v11l >>> 0) + (v12l >>> 0); v11h = (v11h + v12h + ((t * 2.3283064365386963e-10) | 0)) | 0; v11l = t | 0;
    t = v6l ^ v11l; u = v6h ^ v11h; v6l = (t >>> 24) | (u << 8); v6h = (u >>> 24) | (t << 8);
    i = S[s + 11]!; t = (v1l >>> 0) + (v6l >>> 0) + M[i]!;
    v1h = (v1h + v6h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v1l = t | 0;
    t = v12l ^ v1l; u = v12h ^ v1h; v12l = (t >>> 16) | (u << 16); v12h = (u >>> 16) | (t << 16);
    t = (v11l >>> 0) + (v12l >>> 0); v11h = (v11h + v12h + ((t * 2.3283064365386963e-10) | 0)) | 0; v11l = t | 0;
    t = v6l ^ v11l; u = v6h ^ v11h; v6l = (t << 1) | (u >>> 31); v6h = (u << 1) | (t >>> 31);
    // G on v2, v7, v8, v13 with message words sigma[12], sigma[13]
    i = S[s + 12]!; t = (v2l >>> 0) + (v7l >>> 0) + M[i]!;
    v2h = (v2h + v7h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v2l = t | 0;
    t = v13l ^ v2l; v13l = v13h ^ v2h; v13h = t;
    t = (v8l >>> 0) + (v13l >>> 0); v8h = (v8h + v13h + ((t * 2.3283064365386963e-10) | 0)) | 0; v8l = t | 0;
    t = v7l ^ v8l; u = v7h ^ v8h; v7l = (t >>> 24) | (u << 8); v7h = (u >>> 24) | (t << 8);
    i = S[s + 13]!; t = (v2l >>> 0) + (v7l >>> 0) + M[i]!;
    v2h = (v2h + v7h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v2l = t | 0;
    t = v13l ^ v2l; u = v13h ^ v2h; v13l = (t >>> 16) | (u << 16); v13h = (u >>> 16) | (t << 16);
    t = (v8l >>> 0) + (v13l >>> 0); v8h = (v8h + v13h + ((t * 2.3283064365386963e-10) | 0)) | 0; v8l = t | 0;
    t = v7l ^ v8l; u = v7h ^ v8h; v7l = (t << 1) | (u >>> 31); v7h = (u << 1) | (t >>> 31);
    // G on v3, v4, v9, v14 with message words sigma[14], sigma[15]
    i = S[s + 14]!; t = (v3l >>> 0) + (v4l >>> 0) + M[i]!;
    v3h = (v3h + v4h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v3l = t | 0;
    t = v14l ^ v3l; v14l = v14h ^ v3h; v14h = t;
    t = (v9l >>> 0) + (v14l >>> 0); v9h = (v9h + v14h + ((t * 2.3283064365386963e-10) | 0)) | 0; v9l = t | 0;
    t = v4l ^ v9l; u = v4h ^ v9h; v4l = (t >>> 24) | (u << 8); v4h = (u >>> 24) | (t << 8);
    i = S[s + 15]!; t = (v3l >>> 0) + (v4l >>> 0) + M[i]!;
    v3h = (v3h + v4h + M[i + 1]! + ((t * 2.3283064365386963e-10) | 0)) | 0; v3l = t | 0;
    t = v14l ^ v3l; u = v14h ^ v3h; v14l = (t >>> 16) | (u << 16); v14h = (u >>> 16) | (t << 16);
    t = (v9l >>> 0) + (v14l >>> 0); v9h = (v9h + v14h + ((t * 2.3283064365386963e-10) | 0)) | 0; v9l = t | 0;
    t = v4l ^ v9l; u = v4h ^ v9h; v4l = (t << 1) | (u >>> 31); v4h = (u << 1) | (t >>> 31);
  }
  h[0] = h[0]! ^ v0l ^ v8l;
  h[1] = h[1]! ^ v0h ^ v8h;
  h[2] = h[2]! ^ v1l ^ v9l;
  h[3] = h[3]! ^ v1h ^ v9h;
  h[4] = h[4]! ^ v2l ^ v10l;
  h[5] = h[5]! ^ v2h ^ v10h;
  h[6] = h[6]! ^ v3l ^ v11l;
  h[7] = h[7]! ^ v3h ^ v11h;
  h[8] = h[8]! ^ v4l ^ v12l;
  h[9] = h[9]! ^ v4h ^ v12h;
  h[10] = h[10]! ^ v5l ^ v13l;
  h[11] = h[11]! ^ v5h ^ v13h;
  h[12] = h[12]! ^ v6l ^ v14l;
  h[13] = h[13]! ^ v6h ^ v14h;
  h[14] = h[14]! ^ v7l ^ v15l;
  h[15] = h[15]! ^ v7h ^ v15h;
}
