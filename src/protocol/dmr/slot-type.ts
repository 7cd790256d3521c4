// Slot type: the 20-bit field of data-sync bursts (voice LC header, terminator, CSBK, data) that names
// the colour code and the data type (ETSI TS 102 361-1 §9.1.3 and annex B.3.1; spec §2.3).
// Eight data bits — colour code (4), data type (4) — protected by the Golay(20,8) code (called
// Golay(20,8,7) in ETSI and MMDVMHost; as built here it is the extended Golay(24,12,8) shortened by 4,
// so its minimum distance is actually 8).
//
// The code as used here: the 8 data bits d(x) are followed by the 11-bit remainder of d(x)·x^11 modulo
// g(x) = x^11 + x^10 + x^6 + x^5 + x^4 + x^2 + 1 (the Golay(23,12) generator, shortened by 4), then
// one bit of even parity over the 19 bits before it. Minimum distance 8: up to 3 bit errors are
// corrected, 4 detected. Checked bit for bit against the voice LC headers and terminators of voice-frames.json.
//
// On the air the slot type is split around the sync: its high 10 bits sit in burst bits [98:108), its
// low 10 bits in [156:166).
// Pure: no Node or DOM APIs.

import { readBits, writeBits } from './bits.js';
import { nearestCodeword, parityExtendedCodewords } from './block-code.js';

/** Data types of the slot type (the same numbers as the low nibble of DMRD byte 15, spec §2.2). */
export const SlotDataType = {
  PiHeader: 0,
  VoiceLcHeader: 1,
  TerminatorWithLc: 2,
  Csbk: 3,
  MbcHeader: 4,
  MbcContinuation: 5,
  DataHeader: 6,
  Rate12Data: 7,
  Rate34Data: 8,
  Idle: 9,
  Rate1Data: 10,
} as const;

export const SLOT_TYPE_HIGH_BIT = 98;
export const SLOT_TYPE_LOW_BIT = 156;

const GOLAY_GENERATOR = 0xc75; // x^11 + x^10 + x^6 + x^5 + x^4 + x^2 + 1

/** All 256 Golay(20,8) codewords, indexed by the 8 data bits. */
export const GOLAY_20_8: Uint32Array = parityExtendedCodewords(8, 11, GOLAY_GENERATOR);

/** The 20-bit slot type word for a colour code (0..15) and data type (0..15). Inputs are masked. */
export function encodeSlotType(colorCode: number, dataType: number): number {
  return GOLAY_20_8[((colorCode & 0x0f) << 4) | (dataType & 0x0f)]!;
}

export interface SlotTypeDecode {
  colorCode: number;
  dataType: number;
  /** Bits that differ from the nearest codeword. */
  errors: number;
  /** errors ≤ 3 (within the code's correction radius). */
  ok: boolean;
}

/** Decode a 20-bit slot type word to its nearest codeword. Never throws. */
export function decodeSlotType(word: number): SlotTypeDecode {
  const { index: best, distance } = nearestCodeword(GOLAY_20_8, word & 0xfffff);
  return { colorCode: best >> 4, dataType: best & 0x0f, errors: distance, ok: distance <= 3 };
}

/** Write a 20-bit slot type word into the data-sync burst at `burst[at..at+33)`. */
export function writeSlotType(burst: Uint8Array, slotType: number, at = 0): void {
  writeBits(burst, at * 8 + SLOT_TYPE_HIGH_BIT, 10, (slotType >>> 10) & 0x3ff);
  writeBits(burst, at * 8 + SLOT_TYPE_LOW_BIT, 10, slotType & 0x3ff);
}

/** Read the 20-bit slot type word of the data-sync burst at `burst[at..at+33)` (missing bytes read as zero). */
export function readSlotType(burst: Uint8Array, at = 0): number {
  return (readBits(burst, at * 8 + SLOT_TYPE_HIGH_BIT, 10) << 10) | readBits(burst, at * 8 + SLOT_TYPE_LOW_BIT, 10);
}
