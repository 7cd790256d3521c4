// A small synthetic voice prompt pack, written to disk in both formats dmrhub reads (spec §8.1,
// src/shell/prompts.ts), so the prompt tests need no real pack (those are GPLv3 and not shipped):
//  - en_GB/: one `<word>.ambe` file per word, plus `ondemand/9991..9993.ambe` information clips;
//  - en_US.ambe + en_US.indx: an indexed pack, `word<TAB>start<TAB>length` in 9-byte frames.
// The voice is not speech: each word is a run of 9-byte (72-bit) AMBE+2 frames of pseudo-random
// bytes, different for every word, which is all routing and playout tests need. Word lengths vary
// so that every way a word can end (3k, 3k+1, 3k+2 frames) occurs.
//
// Deterministic: the same bytes on every run and machine. The golden 'prompts' pair in test/replay
// pins them, so a change here means regenerating that pair.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const FRAME = 9;

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const NATO = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa', 'quebec', 'romeo', 'sierra', 'tango', 'uniform', 'victor', 'whiskey', 'x-ray', 'yankee', 'zulu'];
const LETTERS = Array.from({ length: 26 }, (_, i) => String.fromCharCode(65 + i));

/** The directory pack's words (file names without `.ambe`). */
export const SYNTHETIC_EN_GB_WORDS: readonly string[] = [...DIGITS, ...NATO, 'linked-to', 'not-linked', 'busy', 'this-is', 'freedmr'];
/** The directory pack's information clips and their lengths in frames (9991 plays for about 12 s). */
export const SYNTHETIC_EN_GB_ONDEMAND: Readonly<Record<string, number>> = { '9991': 600, '9992': 366, '9993': 200 };
/** The indexed pack's words, in the order they are stored. */
export const SYNTHETIC_EN_US_WORDS: readonly string[] = [...DIGITS, 'alpha', 'bravo', 'charlie', 'delta', ...LETTERS, 'linked', 'notlinked', 'linking', 'isbusy'];

/** FNV-1a (32 bit) of a string's UTF-8 bytes. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(s, 'utf8')) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h;
}

/** `frames` frames of pseudo-random bytes (xorshift32) seeded by `name`. */
function voice(name: string, frames: number): Uint8Array {
  const out = new Uint8Array(frames * FRAME);
  let x = fnv1a(name) || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A word's length in frames: 24 to 47 (8 to 16 bursts), fixed by its name. */
const wordFrames = (name: string): number => 24 + (fnv1a(name) % 24);

/** The synthetic pack (languages en_GB and en_US): each file's path under the pack directory, and its bytes. */
export function syntheticPromptFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const w of SYNTHETIC_EN_GB_WORDS) files.set(`en_GB/${w}.ambe`, voice(`en_GB/${w}`, wordFrames(`en_GB/${w}`)));
  for (const [n, frames] of Object.entries(SYNTHETIC_EN_GB_ONDEMAND)) files.set(`en_GB/ondemand/${n}.ambe`, voice(`en_GB/ondemand/${n}`, frames));

  // Indexed: a lead-in no word uses, then the words with 0 to 2 unused frames between them.
  const parts: Uint8Array[] = [voice('en_US/lead-in', 12)];
  let at = 12;
  const index: string[] = [];
  for (const w of SYNTHETIC_EN_US_WORDS) {
    const frames = wordFrames(`en_US/${w}`);
    const gap = fnv1a(`en_US/${w}/gap`) % 3;
    parts.push(voice(`en_US/${w}`, frames), voice(`en_US/${w}/gap`, gap));
    index.push(`${w}\t${at}\t${frames}`);
    at += frames + gap;
  }
  files.set('en_US.ambe', Buffer.concat(parts));
  files.set('en_US.indx', Buffer.from(index.join('\n') + '\n', 'utf8'));
  return files;
}

/** Write the synthetic pack into `dir` (created if needed). */
export function writeSyntheticPromptPack(dir: string, files = syntheticPromptFiles()): void {
  for (const [rel, bytes] of files) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
  }
}
