// Per-stream LC rewriting (spec §2.6 rules 2 and 3). The codewords for one LC are encoded once, laid
// out as burst images, and patching a burst is then a handful of masked byte copies with no allocation:
//   voice LC header / terminator: bits [0:98) and [166:264) take the 196-bit codeword, [98:166)
//     (slot type and sync) is kept;
//   voice bursts B..E (sequence 1..4): bits [116:148) take embedded fragment n; A and F are untouched.
// Bit 98 is bit 6 of byte 12, bit 166 is bit 2 of byte 20, bit 116 is bit 4 of byte 14 and bit 148 is
// bit 4 of byte 18 (MSB-first numbering), hence the masks below.
// Pure: no Node or DOM APIs.

import { BPTC196_BYTES, insertInfoBits } from './bptc196.js';
import { encodeEmbeddedLc, writeEmbeddedFragment } from './embedded-lc.js';
import { BURST_BYTES, encodeHeaderLc, encodeTerminatorLc, LC_BYTES } from './lc.js';

/** Offset of the 33-byte burst inside a DMRD packet. */
export const DMRD_PAYLOAD_OFFSET = 20;

// Local copy of the burst length: an imported binding in the patch loop costs a lookup per iteration
// under some loaders.
const BURST_LEN = 33;
const HEAD_IMG = 0;
const TERM_IMG = BURST_LEN;
const VOICE_IMG = 2 * BURST_LEN; // 4 × 5 bytes: burst bytes 14..18 for fragments 1..4
const IMG_BYTES = VOICE_IMG + 20;

export class LcRewriter {
  /** The LC this rewriter writes (a private copy; use setLc to change it). */
  readonly lc = new Uint8Array(LC_BYTES);
  /** Packed 196-bit codewords (25 bytes each). */
  readonly headerCodeword = new Uint8Array(BPTC196_BYTES);
  readonly terminatorCodeword = new Uint8Array(BPTC196_BYTES);
  /** The four embedded fragments, B..E, 4 bytes each. */
  readonly fragments = new Uint8Array(16);
  private readonly img = new Uint8Array(IMG_BYTES);
  private readonly scratch = new Uint8Array(BURST_BYTES);

  constructor(lc9: Uint8Array) {
    this.setLc(lc9);
  }

  /** Re-encode for another LC, reusing this object's buffers (no allocation). */
  setLc(lc9: Uint8Array): void {
    for (let i = 0; i < LC_BYTES; i++) this.lc[i] = lc9[i] ?? 0;
    encodeHeaderLc(this.lc, this.headerCodeword);
    encodeTerminatorLc(this.lc, this.terminatorCodeword);
    encodeEmbeddedLc(this.lc, 0, this.fragments);
    this.img.fill(0);
    insertInfoBits(this.headerCodeword, this.img, HEAD_IMG);
    insertInfoBits(this.terminatorCodeword, this.img, TERM_IMG);
    for (let n = 1; n <= 4; n++) {
      this.scratch.fill(0);
      writeEmbeddedFragment(this.fragments, n, this.scratch, 0);
      for (let k = 0; k < 5; k++) this.img[VOICE_IMG + (n - 1) * 5 + k] = this.scratch[14 + k]!;
    }
  }

  /** Replace the info bits of the voice LC header burst at `burst[at..at+33)`. */
  patchHeader(burst: Uint8Array, at = 0): void {
    this.patchInfo(burst, at, HEAD_IMG);
  }

  /** Replace the info bits of the terminator-with-LC burst at `burst[at..at+33)`. */
  patchTerminator(burst: Uint8Array, at = 0): void {
    this.patchInfo(burst, at, TERM_IMG);
  }

  /** Replace the embedded field of voice burst `n` (1..4 = B..E) at `burst[at..at+33)`; other n do nothing. */
  patchVoice(burst: Uint8Array, n: number, at = 0): void {
    if (n < 1 || n > 4) return;
    const img = this.img;
    const s = VOICE_IMG + (n - 1) * 5;
    const b = at + 14;
    burst[b] = (burst[b]! & 0xf0) | img[s]!;
    burst[b + 1] = img[s + 1]!;
    burst[b + 2] = img[s + 2]!;
    burst[b + 3] = img[s + 3]!;
    burst[b + 4] = (burst[b + 4]! & 0x0f) | img[s + 4]!;
  }

  /**
   * Patch the burst at `buf[at..at+33)` according to a DMRD flags byte (spec §2.2): a voice LC header
   * (data sync, data type 1), a terminator (data type 2) or voice bursts B..E (voice, sequence 1..4).
   * Returns whether anything was written. `at` defaults to the payload offset of a DMRD packet.
   */
  patchFrame(buf: Uint8Array, flags: number, at = DMRD_PAYLOAD_OFFSET): boolean {
    const frameType = (flags >> 4) & 3;
    const low = flags & 0x0f;
    if (frameType === 2) {
      if (low === 1) this.patchInfo(buf, at, HEAD_IMG);
      else if (low === 2) this.patchInfo(buf, at, TERM_IMG);
      else return false;
      return true;
    }
    if (frameType === 0 && low >= 1 && low <= 4) {
      this.patchVoice(buf, low, at);
      return true;
    }
    return false;
  }

  private patchInfo(burst: Uint8Array, at: number, from: number): void {
    const img = this.img;
    for (let i = 0; i < 12; i++) burst[at + i] = img[from + i]!;
    burst[at + 12] = (burst[at + 12]! & 0x3f) | img[from + 12]!;
    burst[at + 20] = (burst[at + 20]! & 0xfc) | img[from + 20]!;
    for (let i = 21; i < BURST_LEN; i++) burst[at + i] = img[from + i]!;
  }
}
