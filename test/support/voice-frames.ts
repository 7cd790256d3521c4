// The reference calls of test/fixtures/voice-frames.json (real, correctly encoded link control),
// and a helper that turns one into DMRD packets for any peer, slot, destination and call type.

import { readFileSync } from 'node:fs';
import { decodeEmbeddedLc, decodeFullLc, readEmbeddedFragment } from '../../src/protocol/dmr/index.js';
import { encodeDmrd, fromHex, readU24 } from '../../src/protocol/index.js';
import { VOICE_FRAMES } from './fixtures.js';

export interface RefCall {
  src: number;
  tg: number;
  head: string;
  term: string;
  bursts: string[];
}

export const REF_CALLS: RefCall[] = JSON.parse(readFileSync(VOICE_FRAMES, 'utf8'));

/** The call as 55-byte DMRD packets from `peerId` on `slot` to `dst` (default its own talkgroup). */
export function refCallPackets(ref: RefCall, o: { peerId: number; slot: 1 | 2; streamId: number; dst?: number; group?: boolean }): Uint8Array[] {
  const frames: [number, string][] = [[0x21, ref.head], ...ref.bursts.map((b, i): [number, string] => [i === 0 ? 0x10 : i, b]), [0x22, ref.term]];
  return frames.map(([frame, hex], seq) =>
    encodeDmrd({ seq, src: ref.src, dst: o.dst ?? ref.tg, peerId: o.peerId, slot: o.slot, frame, unit: o.group === false, streamId: o.streamId, payload: fromHex(hex)! }),
  );
}

/**
 * The destination each frame's link control names: the full LC of every voice header and
 * terminator (null where its Reed-Solomon check fails), and the embedded LC gathered from bursts
 * B–E (null unless it decodes with a good checksum).
 */
export function lcDestinations(frames: readonly Uint8Array[]): { full: (number | null)[]; embedded: number | null } {
  const full: (number | null)[] = [];
  const frags = new Uint8Array(16);
  for (const b of frames) {
    const t = b[15]! & 0x3f;
    if (t === 0x21 || t === 0x22) {
      const d = decodeFullLc(b, 20);
      full.push(d.rsOk ? readU24(d.lc, 3) : null);
    } else if (t >= 1 && t <= 4) readEmbeddedFragment(b, t, frags, 20);
  }
  const e = decodeEmbeddedLc(frags);
  return { full, embedded: e.ok && e.checksumOk ? readU24(e.lc, 3) : null };
}
