// Small systematic block codes decoded by table: the slot type's Golay(20,8) and the EMB's
// QR(16,7,6) are both a cyclic code (data bits, then the remainder of data·x^r by the generator)
// extended by one even-parity bit. With 256 or 128 codewords, the nearest one is found by scanning.
// Pure: no Node or DOM APIs.

/** Number of set bits in a 32-bit value. */
export function popcount(v: number): number {
  let n = 0;
  for (let x = v >>> 0; x !== 0; x &= x - 1) n++;
  return n;
}

/**
 * Every codeword of the parity-extended cyclic code with `dataBits` data bits, `remainderBits`
 * check bits from `generator` (its top bit at `remainderBits`), and a final even-parity bit,
 * indexed by the data value.
 */
export function parityExtendedCodewords(dataBits: number, remainderBits: number, generator: number): Uint32Array {
  const table = new Uint32Array(1 << dataBits);
  const top = dataBits + remainderBits - 1;
  for (let d = 0; d < table.length; d++) {
    let r = d << remainderBits;
    for (let bit = top; bit >= remainderBits; bit--) if (r & (1 << bit)) r ^= generator << (bit - remainderBits);
    const word = (d << remainderBits) | (r & ((1 << remainderBits) - 1));
    table[d] = ((word << 1) | (popcount(word) & 1)) >>> 0;
  }
  return table;
}

/** The index of the codeword nearest to `word` (the first on a tie) and its distance in bits. */
export function nearestCodeword(table: ArrayLike<number>, word: number): { index: number; distance: number } {
  let index = 0;
  let distance = 33;
  for (let d = 0; d < table.length; d++) {
    const dist = popcount(table[d]! ^ word);
    if (dist < distance) {
      distance = dist;
      index = d;
      if (dist === 0) break;
    }
  }
  return { index, distance };
}
