// The shell's receive backlog (`backlog-changed` events) and the keepalive limit: silence while the
// shell is behind is not held against a peer, and after the backlog drains a peer gets a whole
// limit from then. The backlog changes nothing else: the same events replay to the same actions.

import { describe, expect, it } from 'vitest';
import { parseMasterReply } from '../../src/protocol/hbp/index.js';
import { decodeEvent, encodeEvent } from '../../src/replay/format.js';
import { peerOf, voiceCall, World } from '../support/harness.js';

const LIMIT = 30_000; // default ping interval 10 s × 3 missed pings

const closes = (sent: { bytes: Uint8Array }[]): number[] =>
  sent.flatMap((s) => {
    const r = parseMasterReply(s.bytes);
    return r.ok && r.value.tag === 'MSTCL' ? [r.value.arg] : [];
  });

const stat = (w: World, name: string): number => w.core.stats().find(([k]) => k === name)?.[1] ?? 0;

function backlog(w: World, behind: boolean): void {
  w.core.handle({ kind: 'backlog-changed', now: w.now, behind }, w.sink);
  w.sink.take();
}

describe('keepalive and the receive backlog', () => {
  it('drops a silent peer at the limit when there is no backlog', () => {
    const w = new World();
    w.login(3100001, 50001);
    expect(closes(w.advance(LIMIT - 1))).toEqual([]);
    expect(closes(w.advance(1))).toEqual([3100001]);
    expect(w.core.sessions.size).toBe(0);
  });

  it('keeps a silent peer while the shell is behind, and gives it a whole limit after the drain', () => {
    const w = new World();
    w.login(3100001, 50001);
    w.login(3100002, 50002);
    w.advance(LIMIT - 5000);
    backlog(w, true);
    // Far past the limit, but behind: nobody is dropped, and each deferral is counted.
    expect(closes(w.advance(3 * LIMIT))).toEqual([]);
    expect(w.core.sessions.size).toBe(2);
    expect(stat(w, 'keepalive.deferred')).toBeGreaterThanOrEqual(2);
    backlog(w, false);
    // Peer 2's ping was waiting in the queue: read now, it is current again.
    w.ping(3100002, 50002);
    expect(closes(w.advance(LIMIT - 1))).toEqual([]);
    // A whole limit after the drain, both are silent that long (peer 1 since the drain, peer 2 since its ping).
    expect(closes(w.advance(1)).sort()).toEqual([3100001, 3100002]);
    expect(stat(w, 'receive.backlog')).toBe(1);
    expect(stat(w, 'receive.drained')).toBe(1);
  });

  it('counts from the last packet when it came after the drain', () => {
    const w = new World();
    w.login(3100001, 50001);
    backlog(w, true);
    w.advance(1000);
    backlog(w, false);
    w.advance(5000);
    w.ping(3100001, 50001);
    expect(closes(w.advance(LIMIT - 1))).toEqual([]);
    expect(closes(w.advance(1))).toEqual([3100001]);
  });

  it('is written to the event log and read back', () => {
    for (const behind of [true, false]) {
      const line = encodeEvent({ kind: 'backlog-changed', now: 1234, behind }, (c) => c);
      expect(decodeEvent(line)).toEqual({ ok: true, event: { kind: 'backlog-changed', now: 1234, behind } });
    }
    expect(decodeEvent('{"kind":"backlog-changed","now":1}')).toEqual({ ok: false, error: 'bad backlog-changed fields' });
  });

  it('a repeated state is no change, and the events replay to the same actions', () => {
    const run = (): string[] => {
      const w = new World();
      w.login(3100001, 50001);
      backlog(w, true);
      backlog(w, true);
      const out = w.advance(2 * LIMIT).map((s) => Buffer.from(s.bytes).toString('hex'));
      backlog(w, false);
      out.push(...w.advance(LIMIT + 1).map((s) => Buffer.from(s.bytes).toString('hex')));
      expect(stat(w, 'receive.backlog')).toBe(1);
      return out;
    };
    expect(run()).toEqual(run());
  });

  it('while behind, group voice is not fanned out (counted per frame); after the drain the call goes on', () => {
    const w = new World();
    w.login(3100001, 50001, 'TS2=91;');
    w.login(3100002, 50002, 'TS2=91;');
    const call = voiceCall({ peerId: 3100001, src: 3100101, tg: 91, slot: 2, streamId: 0x5151, superframes: 2 });
    const first = call.slice(0, 5);
    const rest = call.slice(5);
    expect(w.play(50001, first.slice(0, 2)).map(peerOf)).toEqual([3100002, 3100002]);
    backlog(w, true);
    expect(w.play(50001, first.slice(2))).toEqual([]);
    expect(stat(w, 'forward.shed-behind')).toBe(3);
    backlog(w, false);
    expect(w.play(50001, rest).map(peerOf)).toEqual(rest.map(() => 3100002));
  });
});
