// Small helpers for reading and writing big-endian integers and ASCII on Uint8Array.
// Pure: no Node or DOM APIs, so the codecs run the same in the core, in workers and in tests.

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function readU24(b: Uint8Array, at: number): number {
  return (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
}

export function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 24) & 0xff;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

export function writeU24(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 16) & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = v & 0xff;
}

/** True when `b` starts with the ASCII characters of `tag` at `at`. */
export function hasAscii(b: Uint8Array, tag: string, at = 0): boolean {
  if (b.length < at + tag.length) return false;
  for (let i = 0; i < tag.length; i++) if (b[at + i] !== tag.charCodeAt(i)) return false;
  return true;
}

export function writeAscii(b: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i) & 0xff;
}

/** Bytes → string, one char per byte; non-printable bytes become '?'. */
export function readAscii(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to && i < b.length; i++) {
    const c = b[i]!;
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : c === 0 ? '' : '?';
  }
  return s;
}

/** Fixed-width ASCII field: left-aligned, space padded, truncated to width. */
export function writeField(b: Uint8Array, at: number, width: number, s: string, pad = ' '): void {
  const v = s.length > width ? s.slice(0, width) : s + pad.repeat(width - s.length);
  writeAscii(b, at, v);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const HEX = '0123456789abcdef';
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]! >> 4]! + HEX[b[i]! & 15]!;
  return s;
}

/** Hex → bytes; returns null for odd length or a non-hex digit. */
export function fromHex(s: string): Uint8Array | null {
  if (s.length % 2 !== 0) return null;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = HEX.indexOf(s[2 * i]!.toLowerCase());
    const lo = HEX.indexOf(s[2 * i + 1]!.toLowerCase());
    if (hi < 0 || lo < 0) return null;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** UTF-8 encoding without TextEncoder (not available to the pure modules' type library). */
export function utf8(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}
