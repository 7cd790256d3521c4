// The three Hamming codes used by DMR (ETSI TS 102 361-1 annex B), as systematic codes on small
// integers. A codeword of length n is held in an integer whose most significant bit (bit n-1) is data
// bit d0; the k data bits come first and the n-k parity bits p0.. follow, p0 being the most significant
// of them. The parity equations below were checked against real and reference bursts (see the tests).
// Pure: no Node or DOM APIs.

export class HammingCode {
  readonly n: number;
  readonly k: number;
  /** For each data bit d_j, the parity bits it feeds, as an (n-k)-bit mask with p0 most significant. */
  private readonly dataMasks: Uint8Array;
  /** Parity of every data word, indexed by the k-bit data value. */
  private readonly parityOf: Uint8Array;
  /** Syndrome → position (0 = d0 … n-1 = last parity bit) of the single bit error it means; -1 if none. */
  private readonly errorAt: Int8Array;

  /** `equations[p]` lists the data bit indices whose sum (mod 2) is parity bit p. */
  constructor(n: number, k: number, equations: readonly (readonly number[])[]) {
    const r = n - k;
    if (equations.length !== r) throw new RangeError('one equation per parity bit');
    this.n = n;
    this.k = k;
    this.dataMasks = new Uint8Array(k);
    equations.forEach((eq, p) => {
      for (const j of eq) this.dataMasks[j] = this.dataMasks[j]! | (1 << (r - 1 - p));
    });
    this.parityOf = new Uint8Array(1 << k);
    for (let d = 0; d < 1 << k; d++) {
      let par = 0;
      for (let j = 0; j < k; j++) if ((d >> (k - 1 - j)) & 1) par ^= this.dataMasks[j]!;
      this.parityOf[d] = par;
    }
    this.errorAt = new Int8Array(1 << r).fill(-1);
    for (let pos = 0; pos < n; pos++) {
      const s = pos < k ? this.dataMasks[pos]! : 1 << (n - 1 - pos);
      this.errorAt[s] = pos;
    }
  }

  /** Parity bits of a k-bit data value. */
  parity(data: number): number {
    return this.parityOf[data & ((1 << this.k) - 1)]!;
  }

  /** Full n-bit codeword of a k-bit data value. */
  encode(data: number): number {
    const d = data & ((1 << this.k) - 1);
    return (d << (this.n - this.k)) | this.parityOf[d]!;
  }

  /** Syndrome of an n-bit word: 0 for a codeword. */
  syndrome(word: number): number {
    const r = this.n - this.k;
    return this.parityOf[(word >>> r) & ((1 << this.k) - 1)]! ^ (word & ((1 << r) - 1));
  }

  /**
   * Position (0 = d0) of the single bit error the word's syndrome points at, -1 when the word is a
   * codeword, -2 when the syndrome matches no single error (detected, uncorrectable).
   */
  errorPosition(word: number): number {
    const s = this.syndrome(word);
    if (s === 0) return -1;
    const pos = this.errorAt[s]!;
    return pos < 0 ? -2 : pos;
  }

  /** The word with a single bit error corrected, or -1 when its syndrome matches no single error. */
  correct(word: number): number {
    const pos = this.errorPosition(word);
    if (pos === -1) return word;
    if (pos === -2) return -1;
    return word ^ (1 << (this.n - 1 - pos));
  }
}

/** Hamming(15,11,3): the rows of BPTC(196,96). Perfect code: every non-zero syndrome names one bit. */
export const HAMMING_15_11_3 = new HammingCode(15, 11, [
  [0, 1, 2, 3, 5, 7, 8],
  [1, 2, 3, 4, 6, 8, 9],
  [2, 3, 4, 5, 7, 9, 10],
  [0, 1, 2, 4, 6, 7, 10],
]);

/** Hamming(13,9,3): the columns of BPTC(196,96). Two of its 15 non-zero syndromes name no single bit. */
export const HAMMING_13_9_3 = new HammingCode(13, 9, [
  [0, 1, 3, 5, 6],
  [0, 1, 2, 4, 6, 7],
  [0, 1, 2, 3, 5, 7, 8],
  [0, 2, 4, 5, 8],
]);

/**
 * Hamming(16,11,4): the rows of the embedded-LC matrix. It is Hamming(15,11,3) with one more parity
 * bit, so it corrects one error and detects two (a double error never matches a single-error syndrome).
 */
export const HAMMING_16_11_4 = new HammingCode(16, 11, [
  [0, 1, 2, 3, 5, 7, 8],
  [1, 2, 3, 4, 6, 8, 9],
  [2, 3, 4, 5, 7, 9, 10],
  [0, 1, 2, 4, 6, 7, 10],
  [0, 2, 5, 6, 8, 9, 10],
]);
