// Where the test data lives. Captured traffic and the reference voice bursts are dmrhub's own test
// data in test/fixtures (see its README), so tests and benches run on a plain clone.

import { join, resolve } from 'node:path';

/** The repository's test/fixtures directory. */
export const FIXTURES = resolve(import.meta.dirname, '../fixtures');

/** The captured traffic (pcap files, their decoded listing and hexdump heads). */
export const CAPTURES = join(FIXTURES, 'captures');

/** One file of the captured traffic, by name. */
export const capture = (name: string): string => join(CAPTURES, name);

/** The reference DMR calls (voice LC header, bursts A–F, terminator) as JSON. */
export const VOICE_FRAMES = join(FIXTURES, 'voice-frames.json');
