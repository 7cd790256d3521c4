// Loading voice prompt packs from disk (spec §8.1). A language is either a directory
// `<dir>/<lang>/*.ambe` (one file per word, plus optional `ondemand/*.ambe` clips) or an indexed pack
// `<dir>/<lang>.ambe` + `<dir>/<lang>.indx`. As in FreeDMR, the directory form wins when both exist.
// The bytes are normalised by the pure parsers in src/protocol/dmr/ambe-pack.ts; the result is plain
// data that can be handed to the core in an event.
//
// The packs are GPL-licensed and not shipped with dmrhub: operators point the config at their copy.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIndexedPack, splitWordFile, withSilenceWord, type PromptPack, type WordTail } from '../protocol/dmr/ambe-pack.js';

export type { PromptPack, WordTail } from '../protocol/dmr/ambe-pack.js';

export type PromptPackResult = { ok: true; pack: PromptPack; warnings: string[] } | { ok: false; error: string };

export interface PromptLoadOptions {
  /** How a word that does not fill whole bursts ends; default 'freedmr' (spec §8.1). */
  tail?: WordTail;
}

const LANG = /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/;
const AMBE_EXT = '.ambe';

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function wordName(file: string): string | null {
  if (!file.endsWith(AMBE_EXT) || file.length === AMBE_EXT.length) return null;
  return file.slice(0, -AMBE_EXT.length);
}

interface DirListing {
  /** [word, bytes] in file-name order. */
  words: [string, Uint8Array][];
  ondemand: [string, Uint8Array][];
}

function assembleDir(lang: string, where: string, l: DirListing, tail: WordTail): PromptPackResult {
  if (l.words.length === 0) return { ok: false, error: `prompt pack '${lang}': no *.ambe files in ${where}` };
  const words = new Map<string, Uint8Array>();
  for (const [w, b] of l.words) words.set(w, splitWordFile(b, tail));
  const ondemand = new Map<string, Uint8Array>();
  for (const [w, b] of l.ondemand) ondemand.set(w, splitWordFile(b, tail));
  return { ok: true, pack: { lang, words: withSilenceWord(words), ondemand }, warnings: [] };
}

function assembleIndexed(lang: string, where: string, ambe: Uint8Array, indx: string, tail: WordTail): PromptPackResult {
  const r = parseIndexedPack(ambe, indx, tail);
  if (!r.ok) return { ok: false, error: `prompt pack '${lang}' (${where}): ${r.error}` };
  return { ok: true, pack: { lang, words: withSilenceWord(r.words), ondemand: new Map() }, warnings: r.warnings };
}

const notFound = (dir: string, lang: string): PromptPackResult => ({
  ok: false,
  error: `prompt pack '${lang}' not found: neither ${join(dir, lang)}/ nor ${join(dir, lang)}.ambe + .indx`,
});

const badLang = (lang: string): PromptPackResult => ({ ok: false, error: `bad prompt language name '${lang}'` });

const sorted = (names: string[]): string[] => names.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Load a language synchronously (for tools and tests; the server uses loadPromptPackAsync). Never throws. */
export function loadPromptPack(dir: string, lang: string, opts: PromptLoadOptions = {}): PromptPackResult {
  if (!LANG.test(lang)) return badLang(lang);
  const tail = opts.tail ?? 'freedmr';
  const langDir = join(dir, lang);
  try {
    if (isDirSync(langDir)) {
      const listing: DirListing = { words: [], ondemand: [] };
      for (const f of sorted(readdirSync(langDir))) {
        const w = wordName(f);
        const p = join(langDir, f);
        if (w !== null && isFileSync(p)) listing.words.push([w, readFileSync(p)]);
      }
      const od = join(langDir, 'ondemand');
      if (isDirSync(od)) {
        for (const f of sorted(readdirSync(od))) {
          const w = wordName(f);
          const p = join(od, f);
          if (w !== null && isFileSync(p)) listing.ondemand.push([w, readFileSync(p)]);
        }
      }
      return assembleDir(lang, langDir, listing, tail);
    }
    const ambePath = `${langDir}.ambe`;
    const indxPath = `${langDir}.indx`;
    if (!isFileSync(ambePath) || !isFileSync(indxPath)) return notFound(dir, lang);
    return assembleIndexed(lang, indxPath, readFileSync(ambePath), readFileSync(indxPath, 'utf8'), tail);
  } catch (e) {
    return { ok: false, error: `prompt pack '${lang}': ${errText(e)}` };
  }
}

/** Load a language with non-blocking reads, so it can run at start beside the packet path. Never rejects. */
export async function loadPromptPackAsync(dir: string, lang: string, opts: PromptLoadOptions = {}): Promise<PromptPackResult> {
  if (!LANG.test(lang)) return badLang(lang);
  const tail = opts.tail ?? 'freedmr';
  const langDir = join(dir, lang);
  try {
    if (await isDir(langDir)) {
      const readAll = async (d: string): Promise<[string, Uint8Array][]> => {
        const names = sorted(await readdir(d)).filter((f) => wordName(f) !== null);
        const got = await Promise.all(
          names.map(async (f): Promise<[string, Uint8Array] | null> => {
            const p = join(d, f);
            return (await isFile(p)) ? [wordName(f)!, await readFile(p)] : null;
          }),
        );
        return got.filter((x): x is [string, Uint8Array] => x !== null);
      };
      const od = join(langDir, 'ondemand');
      const [words, ondemand] = await Promise.all([readAll(langDir), (await isDir(od)) ? readAll(od) : Promise.resolve([])]);
      return assembleDir(lang, langDir, { words, ondemand }, tail);
    }
    const ambePath = `${langDir}.ambe`;
    const indxPath = `${langDir}.indx`;
    const [a, i] = await Promise.all([isFile(ambePath), isFile(indxPath)]);
    if (!a || !i) return notFound(dir, lang);
    const [ambe, indx] = await Promise.all([readFile(ambePath), readFile(indxPath, 'utf8')]);
    return assembleIndexed(lang, indxPath, ambe, indx, tail);
  } catch (e) {
    return { ok: false, error: `prompt pack '${lang}': ${errText(e)}` };
  }
}

function isDirSync(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFileSync(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
