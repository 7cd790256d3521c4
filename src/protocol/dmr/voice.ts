// Voice stream synthesis: AMBE+2 voice (for example a spoken prompt) → the DMRD packets of a complete
// group or unit voice call (spec §2.2, §2.3, §2.5, §8.1).
//
// Voice representation. Everywhere in dmrhub a run of voice is a packed MSB-first bit stream of
// AMBE+2 frames, 72 bits (9 bytes) each, cut into bursts of 216 bits (27 bytes = 3 frames). The 216
// bits of a burst are FreeDMR's pair of 108-bit halves: half 1 is burst bits [0:108), half 2 is burst
// bits [156:264). Because 216 bits are a whole number of bytes, "two 108-bit halves per burst", "three
// 72-bit frames per burst" and "the raw bit stream of a prompt file" are the same bytes; see
// ambe-pack.ts for how a prompt file is trimmed or padded to whole bursts.
//
// The stream: `headers` × voice LC header, then superframes of bursts A..F — A with the BS voice sync,
// B..E with the EMB (LCSS 1, 3, 3, 2) and the four embedded-LC fragments, F with the EMB (LCSS 0) and
// a null embedded field — then `terminators` × terminator with LC. An incomplete last superframe is
// filled with AMBE+2 silence.
// Pure: no Node or DOM APIs.

import { encodeDmrd } from '../hbp/dmrd.js';
import { copyBits, writeBits } from './bits.js';
import { insertInfoBits } from './bptc196.js';
import { EMBEDDED_FIELD_BIT, EMBEDDED_FIELD_BITS, encodeEmbeddedLc, writeEmbeddedFragment } from './embedded-lc.js';
import { encodeEmb, VOICE_BURST_LCSS, writeEmb } from './emb.js';
import { BURST_BYTES, encodeHeaderLc, encodeTerminatorLc, FLCO_GROUP_VOICE, FLCO_UNIT_VOICE, makeLc } from './lc.js';
import { encodeSlotType, SlotDataType, writeSlotType } from './slot-type.js';

/** One AMBE+2 frame: 72 bits. */
export const AMBE_FRAME_BYTES = 9;
/** Bits of one FreeDMR "half": the voice bits on one side of a burst's sync/EMB field. */
export const AMBE_HALF_BITS = 108;
/** The voice of one burst: 216 bits = 2 halves = 3 AMBE+2 frames. */
export const BURST_VOICE_BYTES = 27;
/** Bursts per superframe (A..F), 360 ms. */
export const SUPERFRAME_BURSTS = 6;

/** The AMBE+2 silence frame (FEC-encoded and interleaved, as carried in a burst). */
export const AMBE_SILENCE_FRAME: Uint8Array = Uint8Array.of(0xb9, 0xe8, 0x81, 0x52, 0x61, 0x73, 0x00, 0x2a, 0x6b);

/** One burst of silence: three silence frames. */
export const SILENCE_BURST_VOICE: Uint8Array = (() => {
  const b = new Uint8Array(BURST_VOICE_BYTES);
  for (let f = 0; f < 3; f++) b.set(AMBE_SILENCE_FRAME, f * AMBE_FRAME_BYTES);
  return b;
})();

/** Base-station-sourced voice sync (burst A), 48 bits. */
export const BS_VOICE_SYNC: Uint8Array = Uint8Array.of(0x75, 0x5f, 0xd7, 0xdf, 0x75, 0xf7);
/** Base-station-sourced data sync (voice LC header, terminator, CSBK, data), 48 bits. */
export const BS_DATA_SYNC: Uint8Array = Uint8Array.of(0xdf, 0xf5, 0x7d, 0x75, 0xdf, 0x5d);
/** First burst bit of the 48-bit sync / EMB + embedded field. */
export const SYNC_BIT = 108;

/** DMRD byte 15 without the slot and call-type bits (spec §2.2). */
export const VOICE_FRAME_FLAGS = {
  header: 0x21,
  terminator: 0x22,
  /** Indexed by the voice sequence: A (voice sync) = 0x10, B..F = 0x01..0x05. */
  bursts: [0x10, 0x01, 0x02, 0x03, 0x04, 0x05] as readonly number[],
} as const;

/** Copy the 27 voice bytes `voice[from..from+27)` into the voice bits of `burst[at..at+33)`; short input reads as zero. */
export function insertVoiceBits(voice: Uint8Array, from: number, burst: Uint8Array, at = 0): void {
  const base = at * 8;
  const tmp = voice.length >= from + BURST_VOICE_BYTES ? voice.subarray(from, from + BURST_VOICE_BYTES) : padTo27(voice, from, false);
  copyBits(tmp, 0, burst, base, AMBE_HALF_BITS);
  copyBits(tmp, AMBE_HALF_BITS, burst, base + 156, AMBE_HALF_BITS);
}

/** The 216 voice bits of the burst at `burst[at..at+33)` as 27 bytes (the inverse of insertVoiceBits). */
export function extractVoiceBits(burst: Uint8Array, at = 0, out: Uint8Array = new Uint8Array(BURST_VOICE_BYTES)): Uint8Array {
  const base = at * 8;
  copyBits(burst, base, out, 0, AMBE_HALF_BITS);
  copyBits(burst, base + 156, out, AMBE_HALF_BITS, AMBE_HALF_BITS);
  return out;
}

/** `voice[from..)` as exactly 27 bytes; missing bytes come from the silence burst or are zero. */
function padTo27(voice: Uint8Array, from: number, silence: boolean): Uint8Array {
  const out = silence ? SILENCE_BURST_VOICE.slice() : new Uint8Array(BURST_VOICE_BYTES);
  const n = Math.max(0, Math.min(BURST_VOICE_BYTES, voice.length - from));
  if (n > 0) out.set(voice.subarray(from, from + n), 0);
  return out;
}

/**
 * A data-sync burst carrying a full-LC codeword (from encodeHeaderLc / encodeTerminatorLc): codeword in
 * the info bits, the slot type for `colorCode` and `dataType`, and the BS data sync.
 */
export function buildLcBurst(codeword: Uint8Array, colorCode: number, dataType: number, out: Uint8Array = new Uint8Array(BURST_BYTES)): Uint8Array {
  insertInfoBits(codeword, out, 0);
  writeSlotType(out, encodeSlotType(colorCode, dataType), 0);
  copyBits(BS_DATA_SYNC, 0, out, SYNC_BIT, 48);
  return out;
}

/**
 * Voice burst `n` (0 = A … 5 = F) of a superframe: the 27 voice bytes at `voice[from..)` (silence where
 * the input runs out), then for A the BS voice sync, for B..E the EMB and embedded fragment n of
 * `fragments` (16 bytes from encodeEmbeddedLc), for F the EMB and a null embedded field.
 */
export function buildVoiceBurst(
  voice: Uint8Array,
  from: number,
  n: number,
  colorCode: number,
  fragments: Uint8Array,
  out: Uint8Array = new Uint8Array(BURST_BYTES),
): Uint8Array {
  const src = voice.length >= from + BURST_VOICE_BYTES ? voice : padTo27(voice, from, true);
  insertVoiceBits(src, src === voice ? from : 0, out, 0);
  const seq = ((n % SUPERFRAME_BURSTS) + SUPERFRAME_BURSTS) % SUPERFRAME_BURSTS;
  if (seq === 0) {
    copyBits(BS_VOICE_SYNC, 0, out, SYNC_BIT, 48);
    return out;
  }
  writeEmb(out, encodeEmb(colorCode, VOICE_BURST_LCSS[seq]!), 0);
  if (seq <= 4) writeEmbeddedFragment(fragments, seq, out, 0);
  else writeBits(out, EMBEDDED_FIELD_BIT, EMBEDDED_FIELD_BITS, 0);
  return out;
}

/** Number of voice bursts `voice` fills: whole 27-byte bursts (a partial one counts), rounded up to superframes when `pad`. */
export function voiceBurstCount(voice: Uint8Array, padSuperframe = true): number {
  const n = Math.ceil(voice.length / BURST_VOICE_BYTES);
  return padSuperframe ? Math.ceil(n / SUPERFRAME_BURSTS) * SUPERFRAME_BURSTS : n;
}

export interface VoiceStreamOptions {
  /** Packed AMBE+2 voice, 27 bytes (two 108-bit halves = three 72-bit frames) per burst. */
  voice: Uint8Array;
  /** Source subscriber ID (24 bits). */
  src: number;
  /** Destination: TG for a group call, subscriber ID for a unit call (24 bits). */
  dst: number;
  slot: 1 | 2;
  /** Stream ID (32 bits). Callers should avoid 0: FreeDMR drops streams with a null ID. */
  streamId: number;
  /** Written into DMRD bytes [11:15). */
  peerId: number;
  /** Colour code for the slot type and EMB, 0..15; default 1. */
  colorCode?: number;
  /** Voice LC headers sent first; default 3 (as FreeDMR). */
  headers?: number;
  /** Terminators with LC sent last; default 1 (as FreeDMR). */
  terminators?: number;
  /** Sequence number of the first packet; default 0. Wraps mod 256. */
  seq0?: number;
  /** Group call (FLCO 0, flags bit 0x40 clear) or unit call (FLCO 3, bit 0x40 set); default true. */
  group?: boolean;
  /**
   * The first three LC bytes (FLCO/PF, FID, service options). Default `00 00 00` for group calls and
   * `03 00 00` for unit calls. FreeDMR uses HBlink's `00 00 20` (LC_OPT_GROUP) for its prompts.
   */
  lcOptions?: ArrayLike<number>;
  /** Fill an incomplete last superframe with silence bursts; default true. */
  padSuperframe?: boolean;
  /** BER and RSSI bytes [53:55); default 0 and 0. */
  ber?: number;
  rssi?: number;
}

const clampCount = (v: number | undefined, dflt: number): number =>
  v === undefined || !Number.isFinite(v) ? dflt : Math.max(0, Math.floor(v));

/**
 * The complete voice call as 55-byte DMRD packets: headers, voiceBurstCount(voice) voice bursts in
 * A..F order, terminators. Sequence numbers run from `seq0` mod 256. Never throws; out-of-range fields
 * are masked to their width.
 */
export function buildVoiceStream(opts: VoiceStreamOptions): Uint8Array[] {
  const group = opts.group ?? true;
  const cc = (opts.colorCode ?? 1) & 0x0f;
  const headers = clampCount(opts.headers, 3);
  const terminators = clampCount(opts.terminators, 1);
  const lcOpts = opts.lcOptions ?? (group ? [FLCO_GROUP_VOICE, 0x00, 0x00] : [FLCO_UNIT_VOICE, 0x00, 0x00]);
  const src = opts.src & 0xffffff;
  const dst = opts.dst & 0xffffff;
  const lc = makeLc([lcOpts[0] ?? 0, lcOpts[1] ?? 0, lcOpts[2] ?? 0], dst, src);
  const fragments = encodeEmbeddedLc(lc);
  const headBurst = buildLcBurst(encodeHeaderLc(lc), cc, SlotDataType.VoiceLcHeader);
  const termBurst = buildLcBurst(encodeTerminatorLc(lc), cc, SlotDataType.TerminatorWithLc);
  const bursts = voiceBurstCount(opts.voice, opts.padSuperframe ?? true);

  const out: Uint8Array[] = [];
  let seq = Math.floor(opts.seq0 ?? 0) & 0xff;
  const emit = (frame: number, payload: Uint8Array): void => {
    out.push(
      encodeDmrd({
        seq,
        src,
        dst,
        peerId: opts.peerId >>> 0,
        slot: opts.slot === 2 ? 2 : 1,
        unit: !group,
        frame,
        streamId: opts.streamId >>> 0,
        payload,
        ber: (opts.ber ?? 0) & 0xff,
        rssi: (opts.rssi ?? 0) & 0xff,
      }),
    );
    seq = (seq + 1) & 0xff;
  };

  for (let i = 0; i < headers; i++) emit(VOICE_FRAME_FLAGS.header, headBurst);
  const burst = new Uint8Array(BURST_BYTES);
  for (let i = 0; i < bursts; i++) {
    const n = i % SUPERFRAME_BURSTS;
    buildVoiceBurst(opts.voice, i * BURST_VOICE_BYTES, n, cc, fragments, burst);
    emit(VOICE_FRAME_FLAGS.bursts[n]!, burst);
  }
  for (let i = 0; i < terminators; i++) emit(VOICE_FRAME_FLAGS.terminator, termBurst);
  return out;
}

/**
 * Join prompt words (each in the packed voice form) into one voice run. Each word is completed to a
 * whole burst with silence, so every word starts on a burst boundary, as in FreeDMR.
 */
export function concatPrompt(words: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const w of words) total += Math.ceil(w.length / BURST_VOICE_BYTES) * BURST_VOICE_BYTES;
  const out = new Uint8Array(total);
  let o = 0;
  for (const w of words) {
    const whole = Math.ceil(w.length / BURST_VOICE_BYTES) * BURST_VOICE_BYTES;
    out.set(w, o);
    for (let k = w.length; k < whole; k++) out[o + k] = SILENCE_BURST_VOICE[k % BURST_VOICE_BYTES]!;
    o += whole;
  }
  return out;
}
