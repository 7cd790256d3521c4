// Dial-a-TG from the radio's side: a private call to N links the peer's TG 9 lane (TS2) to
// talkgroup N; traffic between the lane and TG N is rewritten in the DMRD header and in the link
// control (full LC of header and terminator, embedded LC of bursts B–E); 4000 unlinks; a default
// reflector from DIAL= is linked at login and comes back one timer period after an unlink.

import { describe, expect, it } from 'vitest';
import { encodeDmrd, readU24, readU32 } from '../../src/protocol/index.js';
import { testConfig, World, type Sent } from '../support/harness.js';
import { lcDestinations, REF_CALLS, refCallPackets, type RefCall } from '../support/voice-frames.js';

const CALLS = REF_CALLS;

/** A real call (correctly encoded LC) from `peerId` on `slot`, as 55-byte DMRD packets. */
function realCall(ref: RefCall, peerId: number, slot: 1 | 2, streamId: number, group = true): Uint8Array[] {
  return refCallPackets(ref, { peerId, slot, streamId, group });
}

/** A private call (control) from `peerId` to `n`: header and terminator. */
function privateCall(peerId: number, n: number, streamId: number, slot: 1 | 2 = 2): Uint8Array[] {
  return [0x21, 0x22].map((frame, seq) => encodeDmrd({ seq, src: 3100001, dst: n, peerId, slot, frame, unit: true, streamId }));
}

/** Let time pass with the peers pinging every 10 s, as real clients do. */
function idle(w: World, ms: number, peers: [number, number][]): void {
  for (let left = ms; left > 0; left -= 10_000) {
    w.advance(Math.min(10_000, left));
    for (const [id, port] of peers) w.ping(id, port);
  }
}

const play = (w: World, port: number, packets: Uint8Array[]): Sent[] => w.play(port, packets);

/** Destination in the DMRD header, the full LC (header/terminator) and the embedded LC (B–E). */
function destinations(frames: Sent[]): { header: number[]; fullLc: (number | null)[]; embedded: number | null } {
  const lc = lcDestinations(frames.map((f) => f.bytes));
  return { header: frames.map((f) => readU24(f.bytes, 8)), fullLc: lc.full, embedded: lc.embedded };
}

const ref2350 = CALLS.find((c) => c.tg === 2350)!;
const refTg9 = CALLS.find((c) => c.tg === 9)!;

describe('dial-a-TG', () => {
  it('links TG 9 to the dialled talkgroup both ways, rewriting header and link control', () => {
    const w = new World();
    w.login(1001, 5001, 'TS2=2350;');
    w.login(1002, 5002, 'TS1=91;');
    // Peer 1002 dials 2350 from TS1: the link is on its TS2 TG 9 lane.
    expect(play(w, 5002, privateCall(1002, 2350, 0x111, 1))).toEqual([]);
    expect(w.core.peers().find((p) => p.peerId === 1002)!.ts2).toEqual([9]);

    // 1001 talks on TG 2350: 1002 hears it on TS2 TG 9, with LC rewritten to 9.
    const heard = play(w, 5001, realCall(ref2350, 1001, 2, 0x222)).filter((s) => s.port === 5002);
    expect(heard).toHaveLength(8);
    for (const f of heard) {
      expect(readU32(f.bytes, 11)).toBe(1002);
      expect(f.bytes[15]! & 0x80).toBe(0x80);
    }
    const d1 = destinations(heard);
    expect(new Set(d1.header)).toEqual(new Set([9]));
    expect(d1.fullLc).toEqual([9, 9]);
    expect(d1.embedded).toBe(9);

    // 1002 talks on TG 9: 1001 hears it on TG 2350, LC rewritten to 2350; the voice is untouched.
    const sent = realCall(refTg9, 1002, 2, 0x333);
    const back = play(w, 5002, sent).filter((s) => s.port === 5001);
    expect(back).toHaveLength(8);
    const d2 = destinations(back);
    expect(new Set(d2.header)).toEqual(new Set([2350]));
    expect(d2.fullLc).toEqual([2350, 2350]);
    expect(d2.embedded).toBe(2350);
    // Burst A and F, and the AMBE bits of every burst, are exactly what was sent.
    for (let i = 0; i < back.length; i++) {
      const a = sent[i]!, b = back[i]!.bytes;
      const flags = a[15]! & 0x3f;
      if (flags === 0x10 || flags === 0x05) expect(b.subarray(20, 53)).toEqual(a.subarray(20, 53));
      if (flags >= 0x01 && flags <= 0x04) {
        // B–E: only the embedded signalling bits [116:148) change; the AMBE halves do not.
        expect(b.subarray(20, 33)).toEqual(a.subarray(20, 33));
        expect(b.subarray(41, 53)).toEqual(a.subarray(41, 53));
      }
      if (flags === 0x21 || flags === 0x22) expect(b.subarray(33, 40)).toEqual(a.subarray(33, 40)); // slot type + sync
    }
  });

  it('re-encodes the LC of the reference call bit for bit: TG 9 rewritten to 91 equals the reference TG 91 call', () => {
    const ref91 = CALLS.find((c) => c.src === refTg9.src && c.tg === 91)!;
    const w = new World();
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002);
    play(w, 5002, privateCall(1002, 91, 0x444));
    const out = play(w, 5002, realCall(refTg9, 1002, 2, 0x555)).filter((s) => s.port === 5001);
    const expected = realCall(ref91, 1001, 2, 0x555);
    expect(out.map((s) => Buffer.from(s.bytes.subarray(0, 53)).toString('hex'))).toEqual(expected.map((b) => Buffer.from(b.subarray(0, 53)).toString('hex')));
  });

  it('4000 unlinks; one link per peer; dialling another number moves the link', () => {
    const w = new World();
    w.login(1001, 5001, 'TS2=2350;');
    w.login(1003, 5003, 'TS2=3100;');
    w.login(1002, 5002);
    play(w, 5002, privateCall(1002, 2350, 0x1));
    play(w, 5002, privateCall(1002, 3100, 0x2));
    expect(w.core.peers().find((p) => p.peerId === 1002)!.ts2).toEqual([9]);
    expect(play(w, 5001, realCall(ref2350, 1001, 2, 0x3)).filter((s) => s.port === 5002)).toEqual([]);
    expect(play(w, 5003, realCall(ref2350, 1003, 2, 0x4).map((p) => { const c = p.slice(); c[8] = 0; c[9] = 0x0c; c[10] = 0x1c; return c; })).filter((s) => s.port === 5002)).toHaveLength(8);
    play(w, 5002, privateCall(1002, 4000, 0x5));
    expect(w.core.peers().find((p) => p.peerId === 1002)!.ts2).toEqual([]);
  });

  it('a default reflector from DIAL= is linked at login, gives way to a dial, and returns after the link expires', () => {
    const w = new World(testConfig((c) => (c.routing.userActivationMs = 60_000)));
    w.login(1002, 5002, 'DIAL=2350;');
    const lane = () => w.core.peers().find((p) => p.peerId === 1002)!.ts2;
    expect(lane()).toEqual([9]);
    const dialled = w.sink.reports.filter((r) => r.report === 'subscription' && r.peer === 1002).map((r) => r.report === 'subscription' && `${r.change}:${r.source}:${r.conference}`);
    expect(dialled).toContain('added:default-reflector:2350');
    play(w, 5002, privateCall(1002, 3100, 0x7));
    idle(w, 58_000, [[1002, 5002]]);
    expect(w.sink.reports.some((r) => r.report === 'subscription' && r.change === 'expired')).toBe(false);
    idle(w, 3_000, [[1002, 5002]]);
    const after = w.sink.reports.filter((r) => r.report === 'subscription' && r.peer === 1002).map((r) => r.report === 'subscription' && `${r.change}:${r.source}:${r.conference}`);
    expect(after.slice(-2)).toEqual(['expired:dial:3100', 'added:default-reflector:2350']);
    // 4000 unlinks the default too; it returns one timer period later.
    play(w, 5002, privateCall(1002, 4000, 0x8));
    expect(lane()).toEqual([]);
    idle(w, 58_000, [[1002, 5002]]);
    expect(lane()).toEqual([]);
    idle(w, 3_000, [[1002, 5002]]);
    expect(lane()).toEqual([9]);
  });

  it('refuses prohibited and service numbers, and a lane held by a static TG 9', () => {
    const w = new World(testConfig((c) => (c.routing.prohibited = [666])));
    w.login(1002, 5002);
    play(w, 5002, privateCall(1002, 666, 0x9));
    play(w, 5002, privateCall(1002, 9990, 0xa));
    expect(w.core.peers().find((p) => p.peerId === 1002)!.ts2).toEqual([]);
    w.login(1004, 5004, 'TS2=9;');
    play(w, 5004, privateCall(1004, 2350, 0xb));
    const p4 = w.core.peers().find((p) => p.peerId === 1004)!;
    expect(p4.ts2).toEqual([9]);
    expect(w.sink.logs.some((l) => l.code === 'dial.refused' && l.peer === 1004)).toBe(true);
  });

  it('reuses its rewrite buffer only while the shell does not hold on to it (a queued send)', () => {
    for (const retains of [false, true]) {
      const w = new World();
      w.login(1001, 5001, 'TS2=2350;');
      w.login(1002, 5002);
      play(w, 5002, privateCall(1002, 2350, 0x61));
      // A sink that keeps the frames it is given, as a queued send would, and says so (or not).
      const kept: { frame: Uint8Array; copy: Uint8Array }[] = [];
      const sink = {
        send() {},
        log() {},
        fanOut(frame: Uint8Array) {
          kept.push({ frame, copy: frame.slice() });
          return retains;
        },
      };
      for (const [i, p] of realCall(ref2350, 1001, 2, 0x62).entries()) {
        w.core.handle({ kind: 'datagram-received', now: w.now + 60 * (i + 1), socket: 0, address: '127.0.0.1', port: 5001, bytes: p }, sink);
      }
      const rewritten = kept.filter((k) => readU24(k.copy, 8) === 9);
      expect(rewritten).toHaveLength(8);
      const distinct = new Set(rewritten.map((k) => k.frame)).size;
      if (retains) {
        // Every frame the sink still holds is untouched, so each rewritten frame is a new buffer.
        expect(distinct).toBe(8);
        for (const k of rewritten) expect(k.frame).toEqual(k.copy);
      } else expect(distinct).toBe(1); // one buffer, reused: no allocation per packet
    }
  });
});

