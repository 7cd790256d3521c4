// Voice prompt packs (spec §8.1): the two storage formats FreeDMR reads, turned into the packed voice
// form the synthesizer takes (voice.ts: 27 bytes = two 108-bit halves = three AMBE+2 frames per burst).
//
// How FreeDMR turns a word into bursts (both formats): the word's bytes are read as one MSB-first bit
// stream and cut into 108-bit halves; a short last half is zero-padded to 108 bits; consecutive halves
// are paired, each pair being the voice of one burst; an unpaired last half is dropped. As bytes that
// is: let h = ceil(8·len / 108) halves and p = floor(h / 2) bursts; the word is its first 27·p bytes,
// zero-padded to 27·p bytes when shorter. (splitWordFile with tail 'freedmr'.)
// For prompt files made of whole 72-bit frames this either drops one frame (3k+1 frames) or ends the
// last burst with a zero frame (3k+2 frames). Tail 'silence' instead keeps every frame and completes
// the last burst with AMBE+2 silence frames.
//
// Indexed packs (DMRGateway style): `<lang>.indx` lines `word start length` (whitespace separated),
// start and length in 9-byte frames into `<lang>.ambe`; each word's bytes are then split as above.
// Pure: no Node or DOM APIs. Parsers never throw; problems come back as results and warnings.

import { AMBE_FRAME_BYTES, AMBE_HALF_BITS, AMBE_SILENCE_FRAME, BURST_VOICE_BYTES, SILENCE_BURST_VOICE } from './voice.js';

/** A loaded language: plain data (maps of packed voice), safe to hand to the core in an event. */
export interface PromptPack {
  lang: string;
  /** Word → packed voice (whole bursts). Always holds `silence`. */
  words: Map<string, Uint8Array>;
  /** On-demand clips (`ondemand/<n>.ambe`), by file name without extension. */
  ondemand: Map<string, Uint8Array>;
}

/** How the end of a word that does not fill whole bursts is handled. */
export type WordTail = 'freedmr' | 'silence';

/** The synthetic word added to every language (FreeDMR adds one burst of silence too). */
export const SILENCE_WORD = 'silence';

/** Normalise the bytes of one prompt word (a raw AMBE+2 bit stream) to whole bursts. Never throws. */
export function splitWordFile(bytes: Uint8Array, tail: WordTail = 'freedmr'): Uint8Array {
  if (tail === 'silence') {
    const frames = Math.ceil(bytes.length / AMBE_FRAME_BYTES);
    const bursts = Math.ceil(frames / 3);
    const out = new Uint8Array(bursts * BURST_VOICE_BYTES);
    out.set(bytes, 0);
    // A partial last frame keeps its zero fill; whole missing frames become silence.
    for (let f = frames; f < bursts * 3; f++) out.set(AMBE_SILENCE_FRAME, f * AMBE_FRAME_BYTES);
    return out;
  }
  const halves = Math.ceil((bytes.length * 8) / AMBE_HALF_BITS);
  const bursts = Math.floor(halves / 2);
  const out = new Uint8Array(bursts * BURST_VOICE_BYTES);
  out.set(bytes.subarray(0, out.length), 0);
  return out;
}

export type IndexedPackResult =
  | { ok: true; words: Map<string, Uint8Array>; warnings: string[] }
  | { ok: false; error: string };

const DECIMAL = /^\d{1,12}$/;

/**
 * Parse an indexed pack: the `.ambe` bytes and the `.indx` text. Lines that are blank are ignored;
 * malformed lines, words past the end of the `.ambe` data and repeated words are reported in
 * `warnings` (a repeated word keeps its last entry, as FreeDMR's dict does; a word running past the
 * end keeps the bytes that exist, as FreeDMR's short read does). Fails only when no word is usable.
 */
export function parseIndexedPack(ambe: Uint8Array, indx: string, tail: WordTail = 'freedmr'): IndexedPackResult {
  const words = new Map<string, Uint8Array>();
  const warnings: string[] = [];
  const lines = typeof indx === 'string' ? indx.split(/\r?\n/) : [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const f = line.split(/\s+/);
    if (f.length !== 3 || !DECIMAL.test(f[1]!) || !DECIMAL.test(f[2]!)) {
      warnings.push(`line ${i + 1}: expected 'word start length', got '${line.slice(0, 60)}'`);
      return;
    }
    const word = f[0]!;
    const start = Number(f[1]) * AMBE_FRAME_BYTES;
    const end = start + Number(f[2]) * AMBE_FRAME_BYTES;
    if (start >= ambe.length && end > start) {
      warnings.push(`line ${i + 1}: '${word}' starts past the end of the .ambe data`);
      return;
    }
    if (end > ambe.length) warnings.push(`line ${i + 1}: '${word}' runs past the end of the .ambe data (truncated)`);
    if (words.has(word)) warnings.push(`line ${i + 1}: '${word}' repeated (the last entry wins)`);
    words.set(word, splitWordFile(ambe.subarray(start, Math.min(end, ambe.length)), tail));
  });
  if (words.size === 0) return { ok: false, error: warnings.length > 0 ? `no usable entries (${warnings[0]})` : 'empty index' };
  return { ok: true, words, warnings };
}

/** Add the synthetic `silence` word (one burst of AMBE+2 silence) unless the pack has its own. */
export function withSilenceWord(words: Map<string, Uint8Array>): Map<string, Uint8Array> {
  if (!words.has(SILENCE_WORD)) words.set(SILENCE_WORD, SILENCE_BURST_VOICE.slice());
  return words;
}
