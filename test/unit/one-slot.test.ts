// One call reaches a peer at most once, whatever its subscriptions: a peer with TG 2350 static on
// TS1 and its TS2 dial lane linked to 2350 gets each call on one slot only (fanout.ts `preferred`).

import { describe, expect, it } from 'vitest';
import { encodeRpto } from '../../src/protocol/index.js';
import { parseReply, peerOf, voiceCall, World, type Sent } from '../support/harness.js';

const slotOf = (s: Sent): number => ((s.bytes[15]! & 0x80) !== 0 ? 2 : 1);
const dmrd = (sent: Sent[]): Sent[] => sent.filter((s) => s.forwarded);

/** A private call from `peerId` to `tg`: a dial-a-TG command on its dial lane (TS2). */
function dial(w: World, peerId: number, port: number, tg: number): void {
  const call = voiceCall({ peerId, src: 3100099, tg, slot: 2, streamId: 0xd1a1 + tg });
  for (const p of call) {
    p[15] = p[15]! | 0x40; // private call
    w.now += 60;
    w.datagram(port, p);
  }
  w.advance(3000);
}

describe('one call, one slot per peer', () => {
  it('a static TS1 subscription and a TS2 dial link to the same talkgroup: the dial lane carries it, once', () => {
    const w = new World();
    w.login(1001, 5001, 'TS1=2350;');
    w.login(1002, 5002, 'TS2=2350;');
    dial(w, 1001, 5001, 2350);
    expect([...w.core.sessions.get(1001)!.subs[2].values()].map((s) => `${s.rfTg}->${s.conference} ${s.source}`)).toEqual(['9->2350 dial']);
    const got = dmrd(w.play(5002, voiceCall({ peerId: 1002, src: 3100002, tg: 2350, slot: 2, streamId: 0x77 })));
    const toA = got.filter((s) => peerOf(s) === 1001);
    expect(toA).toHaveLength(8);
    expect(new Set(toA.map(slotOf))).toEqual(new Set([2]));
    // Once the dial link is gone, TS1's static subscription carries the next call again.
    dial(w, 1001, 5001, 4000);
    w.advance(10_000);
    const again = dmrd(w.play(5002, voiceCall({ peerId: 1002, src: 3100002, tg: 2350, slot: 2, streamId: 0x78 }))).filter((s) => peerOf(s) === 1001);
    expect(again).toHaveLength(8);
    expect(new Set(again.map(slotOf))).toEqual(new Set([1]));
  });

  it('the same static talkgroup on both slots: TS2 carries it, once', () => {
    const w = new World();
    w.login(1001, 5001, 'TS1=91;TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    const toA = dmrd(w.play(5002, voiceCall({ peerId: 1002, src: 3100002, tg: 91, slot: 2, streamId: 0x91 }))).filter((s) => peerOf(s) === 1001);
    expect(toA).toHaveLength(8);
    expect(new Set(toA.map(slotOf))).toEqual(new Set([2]));
  });

  it('a membership change mid-call moves the call to the preferred lane without doubling it', () => {
    const w = new World();
    w.login(1001, 5001, 'TS1=91;');
    w.login(1002, 5002, 'TS2=91;');
    const call = voiceCall({ peerId: 1002, src: 3100002, tg: 91, slot: 2, streamId: 0x92, superframes: 2 });
    const out: Sent[] = [];
    for (const [i, p] of call.entries()) {
      w.now += 60;
      if (i === 4) expect(parseReply(w.datagram(5001, encodeRpto(1001, 'TS1=91;TS2=91')), 'RPTACK')).toBe(1001);
      out.push(...dmrd(w.datagram(5002, p)));
    }
    const toA = out.filter((s) => peerOf(s) === 1001);
    // Every packet reached peer 1001 exactly once (on TS1 until its TS2 joined, then on TS2 only
    // once TS1's hang-time rules let it; never both for one packet).
    const seqs = toA.map((s) => s.bytes[4]!);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('a single-slot subscriber is not affected', () => {
    const w = new World();
    w.login(1001, 5001, 'TS1=91;');
    w.login(1002, 5002, 'TS2=91;');
    const toA = dmrd(w.play(5002, voiceCall({ peerId: 1002, src: 3100002, tg: 91, slot: 2, streamId: 0x93 }))).filter((s) => peerOf(s) === 1001);
    expect(toA.map(slotOf)).toEqual(Array(8).fill(1));
  });
});
