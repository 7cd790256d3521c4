// The reference calls of ../shared/vectors/voice-frames.json (real, correctly encoded link control),
// and a helper that turns one into DMRD packets for any peer, slot, destination and call type.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { encodeDmrd, fromHex } from '../../src/protocol/index.js';

export interface RefCall {
  src: number;
  tg: number;
  head: string;
  term: string;
  bursts: string[];
}

export const REF_CALLS: RefCall[] = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../shared/vectors/voice-frames.json'), 'utf8'));

/** The call as 55-byte DMRD packets from `peerId` on `slot` to `dst` (default its own talkgroup). */
export function refCallPackets(ref: RefCall, o: { peerId: number; slot: 1 | 2; streamId: number; dst?: number; group?: boolean }): Uint8Array[] {
  const frames: [number, string][] = [[0x21, ref.head], ...ref.bursts.map((b, i): [number, string] => [i === 0 ? 0x10 : i, b]), [0x22, ref.term]];
  return frames.map(([frame, hex], seq) =>
    encodeDmrd({ seq, src: ref.src, dst: o.dst ?? ref.tg, peerId: o.peerId, slot: o.slot, frame, unit: o.group === false, streamId: o.streamId, payload: fromHex(hex)! }),
  );
}
