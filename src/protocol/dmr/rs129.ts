// Reed-Solomon (12,9) over GF(256) as used for the full LC of voice LC headers and terminators
// (ETSI TS 102 361-1 annex B.3.6; spec §2.4). Field polynomial x^8+x^4+x^3+x^2+1 (0x11D), primitive
// element α = 2. The generator has roots α, α², α³:
//   g(x) = (x+α)(x+α²)(x+α³) = x³ + 14x² + 56x + 64,
// which is the "[64, 56, 14]" of the spec, low-order coefficient first.
// Codeword byte 0 is the highest-degree coefficient; the 3 parity bytes are the remainder of
// data(x)·x³ mod g(x), and on the air they are XOR-masked per frame kind.
// Pure: no Node or DOM APIs.

/** α^i for i in 0..509 (doubled so products need no modulo). */
export const GF_EXP = new Uint8Array(510);
/** log_α(x) for x in 1..255; GF_LOG[0] is unused (0). */
export const GF_LOG = new Uint8Array(256);

{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    GF_EXP[i] = x;
    GF_LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 510; i++) GF_EXP[i] = GF_EXP[i - 255]!;
}

export function gfMul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : GF_EXP[GF_LOG[a]! + GF_LOG[b]!]!;
}

/** a / b in GF(256); b must be non-zero. */
export function gfDiv(a: number, b: number): number {
  return a === 0 ? 0 : GF_EXP[GF_LOG[a]! + 255 - GF_LOG[b]!]!;
}

/** Generator coefficients below x³: x², x¹, x⁰. */
const G2 = GF_EXP[1]! ^ GF_EXP[2]! ^ GF_EXP[3]!; // 14
const G1 = GF_EXP[3]! ^ GF_EXP[4]! ^ GF_EXP[5]!; // 56
const G0 = GF_EXP[6]!; // 64
export const RS129_GENERATOR: readonly number[] = [G0, G1, G2];

/** XOR masks applied to all three parity bytes. */
export const RS129_MASK_VOICE_HEADER = 0x96;
export const RS129_MASK_TERMINATOR = 0x99;

/**
 * Unmasked RS(12,9) parity of the 9 bytes at `data[at..at+9)`, written to `out[outAt..outAt+3)`.
 * Pass `mask` to XOR it into each parity byte.
 */
export function rs129Parity(data: Uint8Array, at = 0, out: Uint8Array = new Uint8Array(3), outAt = 0, mask = 0): Uint8Array {
  let r2 = 0; // coefficient of x²
  let r1 = 0;
  let r0 = 0;
  for (let i = 0; i < 9; i++) {
    const fb = (data[at + i] ?? 0) ^ r2;
    r2 = r1 ^ gfMul(fb, G2);
    r1 = r0 ^ gfMul(fb, G1);
    r0 = gfMul(fb, G0);
  }
  out[outAt] = r2 ^ mask;
  out[outAt + 1] = r1 ^ mask;
  out[outAt + 2] = r0 ^ mask;
  return out;
}

/**
 * The three syndromes c(α), c(α²), c(α³) of the 12-byte codeword at `cw[at..at+12)`, with `mask`
 * removed from its parity bytes first, packed as (S1 << 16) | (S2 << 8) | S3. Zero for a codeword.
 */
export function rs129Syndromes(cw: Uint8Array, at = 0, mask = 0): number {
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < 12; i++) {
    const c = (cw[at + i] ?? 0) ^ (i >= 9 ? mask : 0);
    s1 = gfMul(s1, 2) ^ c; // α = 2
    s2 = gfMul(s2, 4) ^ c; // α² = 4
    s3 = gfMul(s3, 8) ^ c; // α³ = 8
  }
  return (s1 << 16) | (s2 << 8) | s3;
}

/** True when the 12 bytes at `cw[at..)` form an RS(12,9) codeword once `mask` is removed from the parity. */
export function rs129Check(cw: Uint8Array, at = 0, mask = 0): boolean {
  return rs129Syndromes(cw, at, mask) === 0;
}

/**
 * Correct at most one wrong byte of the masked codeword at `cw[at..at+12)` in place. Returns 0 when it
 * was already a codeword, 1 when one byte was corrected, -1 when the errors are not a single byte
 * (the buffer is then left unchanged). With only three parity bytes, use this only when a wrong
 * correction is acceptable; plain checking detects more.
 */
export function rs129Correct(cw: Uint8Array, at = 0, mask = 0): number {
  const s = rs129Syndromes(cw, at, mask);
  if (s === 0) return 0;
  const s1 = (s >>> 16) & 0xff;
  const s2 = (s >>> 8) & 0xff;
  const s3 = s & 0xff;
  if (s1 === 0 || s2 === 0 || s3 === 0) return -1;
  // One error of value e at degree p: S_j = e·X^j with X = α^p.
  const x = gfDiv(s2, s1);
  if (gfMul(s2, x) !== s3) return -1;
  const p = GF_LOG[x]!;
  if (p > 11) return -1;
  const e = gfDiv(s1, x);
  const i = at + 11 - p;
  if (i >= cw.length) return -1;
  cw[i] = cw[i]! ^ e;
  return 1;
}
