// EMB: the 16-bit embedded signalling header of voice bursts B..F (ETSI TS 102 361-1 §9.1.2 and
// annex B.3.2; spec §2.3). Seven data bits — colour code (4), PI (1), LCSS (2) — protected by the
// quadratic residue code QR(16,7,6).
//
// The code as used here: the 7 data bits d(x) are followed by the 8-bit remainder of d(x)·x^8 modulo
// g(x) = x^8 + x^5 + x^4 + x^3 + 1 (a cyclic (17,9) QR code shortened to (15,7)), then one bit of even
// parity over the 15 bits before it. Minimum distance 6: up to 2 bit errors are corrected, 3 detected.
// Checked bit for bit against the B..F bursts of the shared voice-frames.json (colour code 1).
//
// On the air the EMB is split around the embedded-signalling field: its high 8 bits sit in burst bits
// [108:116) and its low 8 bits in [148:156) (MSB-first numbering from payload byte 0).
// Pure: no Node or DOM APIs.

import { readBits, writeBits } from './bits.js';
import { nearestCodeword, parityExtendedCodewords } from './block-code.js';

/** LCSS values (link control start/stop) of the EMB. */
export const Lcss = {
  /** A single fragment, or no LC at all (burst F of a voice superframe carries a null field). */
  Single: 0,
  First: 1,
  Last: 2,
  Continuation: 3,
} as const;

/** LCSS of each voice burst of a superframe, indexed by the voice sequence (0 = A … 5 = F). A has no EMB. */
export const VOICE_BURST_LCSS: readonly number[] = [0, Lcss.First, Lcss.Continuation, Lcss.Continuation, Lcss.Last, Lcss.Single];

/** Burst bit positions of the two EMB halves. */
export const EMB_HIGH_BIT = 108;
export const EMB_LOW_BIT = 148;

const QR_GENERATOR = 0x139; // x^8 + x^5 + x^4 + x^3 + 1

/** All 128 QR(16,7,6) codewords, indexed by the 7 data bits. */
export const QR_16_7_6: Uint16Array = Uint16Array.from(parityExtendedCodewords(7, 8, QR_GENERATOR));

/** The 16-bit EMB word for a colour code (0..15), PI flag and LCSS (0..3). Out-of-range inputs are masked. */
export function encodeEmb(colorCode: number, lcss: number, pi: number | boolean = 0): number {
  return QR_16_7_6[((colorCode & 0x0f) << 3) | ((pi ? 1 : 0) << 2) | (lcss & 3)]!;
}

export interface EmbDecode {
  colorCode: number;
  pi: boolean;
  lcss: number;
  /** Bits that differ from the nearest codeword. */
  errors: number;
  /** errors ≤ 2 (within the code's correction radius). */
  ok: boolean;
}

/** Decode a 16-bit EMB word to its nearest codeword. Never throws. */
export function decodeEmb(word: number): EmbDecode {
  const { index: best, distance } = nearestCodeword(QR_16_7_6, word & 0xffff);
  return { colorCode: best >> 3, pi: (best & 4) !== 0, lcss: best & 3, errors: distance, ok: distance <= 2 };
}

/** Write a 16-bit EMB word into the voice burst at `burst[at..at+33)`. */
export function writeEmb(burst: Uint8Array, emb: number, at = 0): void {
  writeBits(burst, at * 8 + EMB_HIGH_BIT, 8, (emb >> 8) & 0xff);
  writeBits(burst, at * 8 + EMB_LOW_BIT, 8, emb & 0xff);
}

/** Read the 16-bit EMB word of the voice burst at `burst[at..at+33)` (missing bytes read as zero). */
export function readEmb(burst: Uint8Array, at = 0): number {
  return (readBits(burst, at * 8 + EMB_HIGH_BIT, 8) << 8) | readBits(burst, at * 8 + EMB_LOW_BIT, 8);
}
