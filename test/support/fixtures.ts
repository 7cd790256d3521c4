// Where the test data lives. Captured traffic and the reference voice bursts are dmrhub's own test
// data in test/fixtures (see its README), so tests and benches run on a plain clone. Voice prompt
// packs are not shipped (the real ones are GPLv3): prompt tests use a synthetic pack generated at
// run time, and also the real packs in ../shared/vectors/prompts when that directory exists.

import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'vitest';
import { syntheticPromptFiles, writeSyntheticPromptPack } from './synthetic-prompts.js';

/** The repository's test/fixtures directory. */
export const FIXTURES = resolve(import.meta.dirname, '../fixtures');

/** The captured traffic (pcap files, their decoded listing and hexdump heads). */
export const CAPTURES = join(FIXTURES, 'captures');

/** One file of the captured traffic, by name. */
export const capture = (name: string): string => join(CAPTURES, name);

/** The reference DMR calls (voice LC header, bursts A–F, terminator) as JSON. */
export const VOICE_FRAMES = join(FIXTURES, 'voice-frames.json');

/** Where the real prompt packs are when they are beside the clone (never copied into it). */
export const REAL_PROMPTS = resolve(import.meta.dirname, '../../../shared/vectors/prompts');

let synthetic: string | null = null;

/**
 * A directory holding the synthetic prompt pack (en_GB as word files, en_US indexed). It is made
 * once, in the system's temporary directory under a name that is a hash of its contents, and then
 * shared by every test process (written aside and renamed into place, so no process sees it half
 * made); a changed pack gets a new directory.
 */
export function syntheticPromptDir(): string {
  if (synthetic !== null) return synthetic;
  const files = syntheticPromptFiles();
  const hash = createHash('sha256');
  for (const [rel, bytes] of files) hash.update(`${rel}\0${bytes.length}\0`).update(bytes);
  const dir = join(tmpdir(), `dmrhub-test-prompts-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(dir)) {
    const aside = mkdtempSync(`${dir}.tmp-`);
    writeSyntheticPromptPack(aside, files);
    try {
      renameSync(aside, dir);
    } catch (e) {
      rmSync(aside, { recursive: true, force: true });
      if (!existsSync(dir)) throw e; // not just another process that got there first
    }
  }
  synthetic = dir;
  return dir;
}

export interface PromptPackSource {
  /** Shown in the test names. */
  name: string;
  /** The directory to load languages from, or null when it is not there (those tests are skipped). */
  dir: string | null;
}

/** The packs the prompt tests run against: the synthetic pack always, the real packs when present. */
export function promptPackSources(): PromptPackSource[] {
  const real = existsSync(REAL_PROMPTS);
  return [
    { name: 'synthetic pack', dir: syntheticPromptDir() },
    real
      ? { name: 'real packs in ../shared/vectors/prompts', dir: REAL_PROMPTS }
      : { name: 'real packs: ../shared/vectors/prompts not found, skipped', dir: null },
  ];
}

let said = false;
function sayWhichPacks(): void {
  if (said) return;
  said = true;
  if (existsSync(REAL_PROMPTS)) console.log(`prompt tests: synthetic pack, and also checking the real prompt packs in ${REAL_PROMPTS}`);
  else console.log(`prompt tests: synthetic pack only; the real prompt packs were not found at ${REAL_PROMPTS}, their variants are skipped`);
}

/** `describe(title)` once per prompt pack source, `body` getting the pack directory. */
export function describePromptPacks(title: string, body: (dir: string) => void): void {
  sayWhichPacks();
  for (const p of promptPackSources()) {
    const dir = p.dir;
    if (dir === null) describe(`${title} (${p.name})`, () => it.skip('needs the real prompt packs', () => {}));
    else describe(`${title} (${p.name})`, () => body(dir));
  }
}

/** `it(title)` once per prompt pack source, `fn` getting the pack directory. */
export function itPromptPacks(title: string, fn: (dir: string) => Promise<void> | void, timeout?: number): void {
  sayWhichPacks();
  for (const p of promptPackSources()) {
    const dir = p.dir;
    if (dir === null) it.skip(`${title} (${p.name})`, () => {});
    else it(`${title} (${p.name})`, () => fn(dir), timeout);
  }
}
