// Comparing MACs: every byte is looked at, so the time taken does not tell how many matched.

/** True when `a[aAt, aAt+len)` equals `b[0, len)`; no early exit on the first differing byte. */
export function macEqual(a: Uint8Array, aAt: number, b: Uint8Array, len: number): boolean {
  if (a.length < aAt + len || b.length < len) return false;
  let diff = 0;
  for (let i = 0; i < len; i++) diff |= a[aAt + i]! ^ b[i]!;
  return diff === 0;
}
