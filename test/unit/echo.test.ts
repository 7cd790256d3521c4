// Echo (parrot) from the radio's side: a call to 9990 is not routed; 2 s after its end the caller
// hears it back on its own slot, one frame per 60 ms, with a new stream ID. By private call it
// comes back as a group call on TG 9 with the link control rewritten. The playback waits for a
// busy slot, stops if the caller keys up, and recordings are bounded in length and number.

import { describe, expect, it } from 'vitest';
import { decodeEmbeddedLc, decodeFullLc, readEmbeddedFragment } from '../../src/protocol/dmr/index.js';
import { readU24, readU32 } from '../../src/protocol/index.js';
import { testConfig, voiceCall, World, type Sent } from '../support/harness.js';
import { REF_CALLS, refCallPackets, type RefCall } from '../support/voice-frames.js';

const CALLS = REF_CALLS;

/** A real call re-addressed to `dst` (group or private) from `peerId`. */
function realCall(ref: RefCall, peerId: number, dst: number, slot: 1 | 2, streamId: number, group: boolean): Uint8Array[] {
  return refCallPackets(ref, { peerId, slot, streamId, dst, group });
}

/** Send `packets` from `port` one per 60 ms, firing deadlines; returns everything sent meanwhile. */
function talk(w: World, port: number, packets: Uint8Array[]): Sent[] {
  const out: Sent[] = [];
  for (const p of packets) {
    out.push(...w.datagram(port, p));
    out.push(...w.advance(60));
  }
  return out;
}

/** Advance in 10 ms steps for `ms`, recording the time of each send. */
function watch(w: World, ms: number): { at: number; s: Sent }[] {
  const out: { at: number; s: Sent }[] = [];
  for (let t = 0; t < ms; t += 10) for (const s of w.advance(10)) out.push({ at: w.now, s });
  return out;
}

const dmrd = (s: Sent): boolean => s.bytes.length >= 53 && String.fromCharCode(...s.bytes.subarray(0, 4)) === 'DMRD';

describe('echo (parrot) on TG 9990', () => {
  it('plays a group call back to the caller only, after 2 s, paced at 60 ms, with a new stream ID', () => {
    const w = new World();
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    const call = voiceCall({ peerId: 1001, src: 3100001, tg: 9990, slot: 2, streamId: 0xec01, superframes: 2 });
    expect(talk(w, 5001, call).filter(dmrd)).toEqual([]); // recorded, not routed
    const endAt = w.now - 60;
    const heard = watch(w, 4000).filter((x) => dmrd(x.s));
    expect(heard.map((x) => x.s.port)).toEqual(call.map(() => 5001));
    expect(heard[0]!.at - endAt).toBeGreaterThanOrEqual(2000);
    expect(heard[0]!.at - endAt).toBeLessThan(2100);
    for (let i = 1; i < heard.length; i++) expect(heard[i]!.at - heard[i - 1]!.at).toBe(60);
    const ids = new Set(heard.map((x) => readU32(x.s.bytes, 16)));
    expect(ids.size).toBe(1);
    expect([...ids][0]).not.toBe(0xec01);
    heard.forEach((x, i) => {
      const b = x.s.bytes;
      expect(b[4]).toBe(i); // sequence from 0
      expect(readU24(b, 5)).toBe(3100001);
      expect(readU24(b, 8)).toBe(9990);
      expect(b[15]).toBe(call[i]![15]); // TS2, group, same frame type
      expect(b.subarray(20, 53)).toEqual(call[i]!.subarray(20, 53)); // the voice itself, untouched
    });
    expect(w.core.stats().find(([k]) => k === 'playout.echo.played')?.[1]).toBe(1);
  });

  it('a private call to 9990 comes back as a group call on TG 9, link control rewritten', () => {
    const ref = CALLS[0]!;
    const w = new World();
    w.login(1001, 5001);
    talk(w, 5001, realCall(ref, 1001, 9990, 1, 0xec02, false));
    const heard = watch(w, 4000).filter((x) => dmrd(x.s)).map((x) => x.s);
    expect(heard).toHaveLength(8);
    const frags = new Uint8Array(16);
    for (const s of heard) {
      const b = s.bytes;
      expect(readU24(b, 8)).toBe(9);
      expect(b[15]! & 0x40).toBe(0); // group call
      expect(b[15]! & 0x80).toBe(0); // TS1, the slot it was made on
      const f = b[15]! & 0x3f;
      if (f === 0x21 || f === 0x22) {
        const d = decodeFullLc(b, 20);
        expect(d.rsOk).toBe(true);
        expect(d.lc[0]).toBe(0); // FLCO group
        expect(readU24(d.lc, 3)).toBe(9);
        expect(readU24(d.lc, 6)).toBe(ref.src);
      } else if (f >= 1 && f <= 4) readEmbeddedFragment(b, f, frags, 20);
    }
    const emb = decodeEmbeddedLc(frags);
    expect(emb.ok && emb.checksumOk).toBe(true);
    expect(readU24(emb.lc, 3)).toBe(9);
  });

  it('waits for the slot: never plays over another stream, nor within another talkgroup’s hang time', () => {
    // A short hang time, so that other traffic can reach the caller's slot during the 2 s pause
    // (with the default 5 s, the caller's own TG 9990 call keeps other talkgroups off its slot).
    const w = new World(testConfig((c) => (c.timers.groupHangtimeMs = 500)));
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    talk(w, 5001, voiceCall({ peerId: 1001, src: 3100001, tg: 9990, slot: 2, streamId: 0xec03 }));
    // During the 2 s pause, 1002 starts a long call on TG 91, which 1001 hears on TS2.
    w.advance(1000);
    const other = voiceCall({ peerId: 1002, src: 3100002, tg: 91, slot: 2, streamId: 0x9101, superframes: 4 });
    const during = talk(w, 5002, other).filter((s) => s.port === 5001 && dmrd(s));
    expect(during.map((s) => readU24(s.bytes, 8))).toEqual(other.map(() => 91)); // the live call only, whole
    const lastLive = w.now - 60;
    const heard = watch(w, 8000).filter((x) => dmrd(x.s) && x.s.port === 5001);
    expect(heard).toHaveLength(8);
    expect(heard.every((x) => readU24(x.s.bytes, 8) === 9990)).toBe(true);
    // Not before the hang time after the last TG 91 frame sent to that slot.
    expect(heard[0]!.at - lastLive).toBeGreaterThanOrEqual(500);
    expect(heard[0]!.at - lastLive).toBeLessThan(500 + 60 + 10);
  });

  it('a playback that ends without a terminator holds the slot for the collision window', () => {
    // Echo A lost its terminator: it ends by timeout and plays back without one. Echo B ended 100 ms
    // later, so its playback would start 100 ms after A's last frame; it waits until the collision
    // window has passed, as a forwarded stream must after a stream that ended without a terminator.
    const w = new World();
    w.login(1001, 5001);
    const a = voiceCall({ peerId: 1001, src: 3100001, tg: 9990, slot: 2, streamId: 0xa0, superframes: 0 });
    w.datagram(5001, a[0]!); // the header, then nothing
    const timeout = w.core.cfg.timers.streamTimeoutMs;
    w.advance(timeout + 40);
    const b = voiceCall({ peerId: 1001, src: 3100001, tg: 9990, slot: 2, streamId: 0xb0, superframes: 0 });
    talk(w, 5001, b);
    const heard = watch(w, 3000).filter((x) => dmrd(x.s));
    const ids = [...new Set(heard.map((x) => readU32(x.s.bytes, 16)))];
    expect(ids).toHaveLength(2);
    const first = heard.filter((x) => readU32(x.s.bytes, 16) === ids[0]);
    const second = heard.filter((x) => readU32(x.s.bytes, 16) === ids[1]);
    expect(first.map((x) => x.s.bytes[15]! & 0x3f)).toEqual([0x21]); // A: its header only
    expect(second[0]!.at - first[0]!.at).toBeGreaterThanOrEqual(w.core.cfg.timers.collisionWindowMs);
    expect(second.map((x) => x.s.bytes[15]! & 0x3f)).toEqual([0x21, 0x22]);
  });

  it('stops when the caller keys up during the playback', () => {
    const w = new World();
    w.login(1001, 5001);
    talk(w, 5001, voiceCall({ peerId: 1001, src: 3100001, tg: 9990, slot: 2, streamId: 0xec04, superframes: 3 }));
    const first = watch(w, 2300).filter((x) => dmrd(x.s));
    expect(first.length).toBeGreaterThan(0);
    w.datagram(5001, voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 0x9102 })[0]!);
    expect(watch(w, 3000).filter((x) => dmrd(x.s))).toEqual([]);
    expect(w.core.stats().find(([k]) => k === 'playout.echo.interrupted')?.[1]).toBe(1);
  });

  it('bounds recordings in length and in number', () => {
    const w = new World(testConfig((c) => ((c.echo.maxMs = 600), (c.echo.maxRecordings = 1))));
    w.login(1001, 5001);
    w.login(1002, 5002);
    const a = voiceCall({ peerId: 1001, src: 3100001, tg: 9990, slot: 2, streamId: 0xec05, superframes: 3 });
    const b = voiceCall({ peerId: 1002, src: 3100002, tg: 9990, slot: 2, streamId: 0xec06, superframes: 3 });
    // Both talk at once: only the first gets a recording.
    for (let i = 0; i < a.length; i++) {
      w.datagram(5001, a[i]!);
      w.datagram(5002, b[i]!);
      w.advance(60);
    }
    const heard = watch(w, 4000).filter((x) => dmrd(x.s)).map((x) => x.s);
    expect(heard.every((s) => s.port === 5001)).toBe(true);
    expect(heard).toHaveLength(Math.ceil(600 / 60) + 2); // cut at 600 ms of frames
    expect(w.core.stats().find(([k]) => k === 'echo.busy')?.[1]).toBe(1);
    // With the first echo played back, the next one is recorded again.
    talk(w, 5002, voiceCall({ peerId: 1002, src: 3100002, tg: 9990, slot: 2, streamId: 0xec07 }));
    expect(watch(w, 4000).filter((x) => dmrd(x.s)).every((x) => x.s.port === 5002)).toBe(true);
  });

  it('is off with talkgroup 0: a call to 9990 is then an ordinary (unrouted) group call', () => {
    const w = new World(testConfig((c) => (c.echo.tg = 0)));
    w.login(1001, 5001);
    talk(w, 5001, voiceCall({ peerId: 1001, src: 3100001, tg: 9990, slot: 2, streamId: 0xec08 }));
    expect(watch(w, 4000).filter((x) => dmrd(x.s))).toEqual([]);
  });
});
