// The BLAKE2b compression function F (RFC 7693 §3.2) as a small WebAssembly module, written out as
// bytecode here at load time (no build step, no binary in the repository).
//
// Why: JavaScript has no 64-bit integer arithmetic short of BigInt (which allocates), so a JS
// BLAKE2b works on pairs of 32-bit halves and spent about 1.4 µs per FBP frame MAC. WebAssembly has
// native i64 add, xor and rotate; the same compression runs several times faster (bench/fbp-mac.ts).
//
// The module exports one memory page and `compress(count, last)`. It works in place on fixed
// addresses: the state h (8 little-endian u64 words) at STATE, the 128-byte message block at BLOCK.
// `count` is the number of message bytes hashed so far including this block (below 2^32 here: the
// caller hashes short frames) and `last` (0 or 1) marks the final block. The sixteen working words
// and the sixteen message words are wasm locals, and the twelve rounds are unrolled, so the body is
// straight-line code with no memory traffic besides the loads and stores at either end.

/** Byte offset of the 64-byte state in the module's memory. */
export const STATE = 0;
/** Byte offset of the 128-byte message block in the module's memory. */
export const BLOCK = 128;

/** The initial vector (the SHA-512 one) as eight u64 words, written as [high, low] 32-bit halves. */
const IV_HALVES: readonly (readonly [number, number])[] = [
  [0x6a09e667, 0xf3bcc908], [0xbb67ae85, 0x84caa73b], [0x3c6ef372, 0xfe94f82b], [0xa54ff53a, 0x5f1d36f1],
  [0x510e527f, 0xade682d1], [0x9b05688c, 0x2b3e6c1f], [0x1f83d9ab, 0xfb41bd6b], [0x5be0cd19, 0x137e2179],
];

/** The initial vector as 64 little-endian bytes (the state of an empty parameter block). */
export const IV_BYTES: Uint8Array = (() => {
  const b = new Uint8Array(64);
  IV_HALVES.forEach(([hi, lo], i) => {
    for (let k = 0; k < 4; k++) {
      b[8 * i + k] = (lo >>> (8 * k)) & 0xff;
      b[8 * i + 4 + k] = (hi >>> (8 * k)) & 0xff;
    }
  });
  return b;
})();

/** Message word order per round; rounds 10 and 11 repeat rounds 0 and 1. */
const SIGMA: readonly (readonly number[])[] = [
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
];

// Opcodes and types used (WebAssembly core spec, binary format).
const OP = {
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  i32Const: 0x41,
  i64Const: 0x42,
  i64Load: 0x29,
  i64Store: 0x37,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Xor: 0x85,
  i64Rotr: 0x8a,
  i64ExtendI32U: 0xad,
} as const;
const I32 = 0x7f;
const I64 = 0x7e;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 of a 64-bit value given as [high, low] 32-bit halves. */
function sleb64(hi: number, lo: number): number[] {
  let v = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  if (v >= 1n << 63n) v -= 1n << 64n;
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/** The body of `compress`: params 0 (count, i32) and 1 (last, i32); locals 2..17 v, 18..33 m. */
function compressBody(): number[] {
  const code: number[] = [];
  const V = (i: number): number => 2 + i;
  const Mw = (i: number): number => 18 + i;
  const get = (l: number): void => void code.push(OP.localGet, ...uleb(l));
  const set = (l: number): void => void code.push(OP.localSet, ...uleb(l));
  const load = (offset: number): void => void code.push(OP.i32Const, 0, OP.i64Load, 3, ...uleb(offset));

  for (let i = 0; i < 8; i++) {
    load(STATE + 8 * i);
    set(V(i));
    const [hi, lo] = IV_HALVES[i]!;
    code.push(OP.i64Const, ...sleb64(hi, lo));
    set(V(8 + i));
  }
  for (let i = 0; i < 16; i++) {
    load(BLOCK + 8 * i);
    set(Mw(i));
  }
  // v12 ^= count (the counter's high word, v13, stays: count < 2^32); v14 ^= ~0 on the last block.
  get(V(12));
  get(0);
  code.push(OP.i64ExtendI32U, OP.i64Xor);
  set(V(12));
  get(V(14));
  code.push(OP.i64Const, 0);
  get(1);
  code.push(OP.i64ExtendI32U, OP.i64Sub, OP.i64Xor);
  set(V(14));

  const g = (a: number, b: number, c: number, d: number, x: number, y: number): void => {
    const addInto = (dst: number, p: number, q: number, r?: number): void => {
      get(p);
      get(q);
      code.push(OP.i64Add);
      if (r !== undefined) {
        get(r);
        code.push(OP.i64Add);
      }
      set(dst);
    };
    const xorRot = (dst: number, p: number, n: number): void => {
      get(dst);
      get(p);
      code.push(OP.i64Xor, OP.i64Const, n, OP.i64Rotr);
      set(dst);
    };
    addInto(V(a), V(a), V(b), Mw(x));
    xorRot(V(d), V(a), 32);
    addInto(V(c), V(c), V(d));
    xorRot(V(b), V(c), 24);
    addInto(V(a), V(a), V(b), Mw(y));
    xorRot(V(d), V(a), 16);
    addInto(V(c), V(c), V(d));
    xorRot(V(b), V(c), 63);
  };
  for (let r = 0; r < 12; r++) {
    const s = SIGMA[r % 10]!;
    g(0, 4, 8, 12, s[0]!, s[1]!);
    g(1, 5, 9, 13, s[2]!, s[3]!);
    g(2, 6, 10, 14, s[4]!, s[5]!);
    g(3, 7, 11, 15, s[6]!, s[7]!);
    g(0, 5, 10, 15, s[8]!, s[9]!);
    g(1, 6, 11, 12, s[10]!, s[11]!);
    g(2, 7, 8, 13, s[12]!, s[13]!);
    g(3, 4, 9, 14, s[14]!, s[15]!);
  }
  // h[i] ^= v[i] ^ v[i + 8]
  for (let i = 0; i < 8; i++) {
    code.push(OP.i32Const, 0);
    load(STATE + 8 * i);
    get(V(i));
    code.push(OP.i64Xor);
    get(V(8 + i));
    code.push(OP.i64Xor, OP.i64Store, 3, ...uleb(STATE + 8 * i));
  }
  code.push(OP.end);
  const locals = [1, 32, I64]; // one run of 32 i64 locals
  return [...locals, ...code];
}

/** The whole module as bytes. */
export function blake2bModuleBytes(): Uint8Array {
  const body = compressBody();
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, I32, I32, 0]), // type 0: (i32, i32) -> ()
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(5, [1, 0x00, 1]), // one memory, at least one page
    ...section(7, [2, ...name('memory'), 0x02, 0, ...name('compress'), 0x00, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ];
  return Uint8Array.from(bytes);
}

/** The instantiated module: its memory as bytes and the compression function. */
export interface Blake2bEngine {
  readonly mem: Uint8Array;
  readonly compress: (count: number, last: number) => void;
}

// The WebAssembly API as far as it is used here: neither ES2022 nor the Node types declare it.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: { memory: { buffer: ArrayBuffer }; compress: (count: number, last: number) => void } };
}

declare const WebAssembly: WasmApi;

let engine: Blake2bEngine | undefined;

/** The module, compiled and instantiated on first use (synchronously: it is about 6 kB). */
export function blake2bEngine(): Blake2bEngine {
  if (engine === undefined) {
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(blake2bModuleBytes()));
    engine = { mem: new Uint8Array(exports.memory.buffer), compress: exports.compress };
  }
  return engine;
}
