// The flood limit on new-stream log lines and report events (src/core/streams/notices.ts): per
// source and per minute, the first `limits.streamNoticesPerMinute` streams are logged and reported,
// the rest are routed as usual and summed up in one line and one report when the window ends.

import { describe, expect, it } from 'vitest';
import { peerOf, testConfig, voiceCall, World } from '../support/harness.js';

/** A short stream (header, one voice frame, terminator: `voiceCall` with 0 superframes is too long). */
function shortStream(w: World, port: number, peerId: number, streamId: number): number[] {
  const got: number[] = [];
  const call = voiceCall({ peerId, src: 3100001, tg: 91, slot: 2, streamId });
  for (const p of [call[0]!, call[call.length - 1]!]) {
    w.now += 60;
    for (const s of w.datagram(port, p)) got.push(peerOf(s));
  }
  return got;
}

const starts = (w: World, peer: number): number => w.sink.logs.filter((l) => l.code === 'call.start' && l.peer === peer).length;
const ends = (w: World, peer: number): number => w.sink.logs.filter((l) => l.code === 'call.end' && l.peer === peer).length;

describe('flood limit on new-stream notices', () => {
  it('logs and reports the first N streams a minute, routes all of them, and sums up the rest once', () => {
    const w = new World(testConfig((c) => (c.limits.streamNoticesPerMinute = 5)));
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    w.sink.logs.length = 0;
    w.sink.reports.length = 0;
    const t0 = w.now;
    let delivered = 0;
    for (let i = 0; i < 40; i++) delivered += shortStream(w, 5001, 1001, 0x100 + i).length;
    expect(delivered).toBe(80); // every frame of every stream reached the listener
    expect(starts(w, 1001)).toBe(5);
    expect(ends(w, 1001)).toBe(5);
    expect(w.sink.reports.filter((r) => r.report === 'call-start')).toHaveLength(5);
    expect(w.sink.reports.filter((r) => r.report === 'call-end')).toHaveLength(5);
    expect(w.sink.logs.filter((l) => l.code === 'call.limited')).toHaveLength(0);
    expect(new Map(w.core.stats()).get('stream.notice-limited')).toBe(35);

    // The window ends a minute after its first stream: one line, one report. (The peers keep pinging.)
    while (w.now < t0 + 60_100) {
      w.advance(Math.min(5000, t0 + 60_100 - w.now));
      w.ping(1001, 5001);
      w.ping(1002, 5002);
    }
    const lines = w.sink.logs.filter((l) => l.code === 'call.limited');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ peer: 1001, count: 35, detail: expect.stringMatching(/^35 more streams from peer 1001 in the last minute \(only the first 5/) });
    expect(w.sink.reports.filter((r) => r.report === 'calls-limited')).toEqual([
      { report: 'calls-limited', now: expect.any(Number), peer: 1001, via: 'peer', name: '', streams: 35, reported: 5, windowMs: 60_000 },
    ]);

    // A new window: the next streams are logged again.
    w.sink.logs.length = 0;
    shortStream(w, 5001, 1001, 0x900);
    expect(starts(w, 1001)).toBe(1);
  });

  it('counts each source on its own, and 0 means no limit', () => {
    const w = new World(testConfig((c) => (c.limits.streamNoticesPerMinute = 2)));
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    for (let i = 0; i < 4; i++) shortStream(w, 5001, 1001, 0x100 + i);
    for (let i = 0; i < 4; i++) shortStream(w, 5002, 1002, 0x200 + i);
    expect(starts(w, 1001)).toBe(2);
    expect(starts(w, 1002)).toBe(2);

    const open = new World(testConfig((c) => (c.limits.streamNoticesPerMinute = 0)));
    open.login(1001, 5001, 'TS2=91;');
    open.login(1002, 5002, 'TS2=91;');
    for (let i = 0; i < 50; i++) shortStream(open, 5001, 1001, 0x100 + i);
    expect(starts(open, 1001)).toBe(50);
  });

  it('a window that ends with an event before its timer is summed up at that event, once', () => {
    const w = new World(testConfig((c) => (c.limits.streamNoticesPerMinute = 1)));
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    const t0 = w.now;
    for (let i = 0; i < 3; i++) shortStream(w, 5001, 1001, 0x100 + i);
    // Jump past the window without a tick: the next stream opens a new window and sums up the old.
    w.now = t0 + 61_000;
    w.ping(1001, 5001);
    w.ping(1002, 5002);
    shortStream(w, 5001, 1001, 0x300);
    expect(w.sink.logs.filter((l) => l.code === 'call.limited').map((l) => l.count)).toEqual([2]);
    w.advance(120_000);
    expect(w.sink.logs.filter((l) => l.code === 'call.limited')).toHaveLength(1);
  });
});
