// Unit data and private voice from the radios' side: data to a subscriber goes to the peer and slot
// where it was last heard (or the hotspot whose ID starts with its 7 digits, on TS2), only to an
// idle slot, and leaves that slot's voice state alone; private voice is a dial command unless the
// server routes private calls, in which case it reaches the called subscriber, and the answer gets
// through the hang time that keeps other traffic off.

import { describe, expect, it } from 'vitest';
import { encodeDmrd, readU24, readU32 } from '../../src/protocol/index.js';
import { testConfig, voiceCall, World, type Sent } from '../support/harness.js';

/** A unit data burst (data header 0x26 or rate-½ block 0x27) from `peerId`. */
const data = (peerId: number, src: number, dst: number, slot: 1 | 2, streamId: number, seq: number, frame = 0x26): Uint8Array =>
  encodeDmrd({ seq, src, dst, peerId, slot, frame, unit: true, streamId });

function privateVoice(peerId: number, src: number, dst: number, slot: 1 | 2, streamId: number): Uint8Array[] {
  return voiceCall({ peerId, src, tg: dst, slot, streamId }).map((p) => {
    p[15] = p[15]! | 0x40;
    return p;
  });
}

const dmrd = (s: Sent): boolean => String.fromCharCode(...s.bytes.subarray(0, 4)) === 'DMRD';

function talk(w: World, port: number, packets: Uint8Array[]): Sent[] {
  const out: Sent[] = [];
  for (const p of packets) {
    out.push(...w.datagram(port, p).filter(dmrd));
    out.push(...w.advance(60).filter(dmrd));
  }
  return out;
}

describe('unit data', () => {
  it('goes to the slot where the destination was last heard, and only there', () => {
    const w = new World();
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS1=91;');
    w.login(1003, 5003, 'TS2=91;');
    talk(w, 5002, voiceCall({ peerId: 1002, src: 3100002, tg: 91, slot: 1, streamId: 0xd1 })); // 3100002 heard at 1002 TS1
    w.advance(6000);
    const out = talk(w, 5001, [data(1001, 3100001, 3100002, 2, 0xd2, 0), data(1001, 3100001, 3100002, 2, 0xd2, 1, 0x27)]);
    expect(out.map((s) => s.port)).toEqual([5002, 5002]);
    for (const s of out) {
      expect(readU32(s.bytes, 11)).toBe(1002);
      expect(s.bytes[15]! & 0x80).toBe(0); // TS1, where it was heard
      expect(s.bytes[15]! & 0x40).toBe(0x40); // still a unit call
      expect(readU24(s.bytes, 8)).toBe(3100002);
    }
  });

  it('falls back to the hotspot whose ID starts with the destination, on TS2', () => {
    const w = new World();
    w.login(1001, 5001);
    w.login(310000201, 5002);
    const out = talk(w, 5001, [data(1001, 3100001, 3100002, 1, 0xd3, 0)]);
    expect(out.map((s) => [s.port, s.bytes[15]! & 0x80])).toEqual([[5002, 0x80]]);
    expect(talk(w, 5001, [data(1001, 3100001, 3100099, 1, 0xd4, 0)])).toEqual([]); // nobody
    expect(w.core.stats().find(([k]) => k === 'unit-data.unknown-destination')?.[1]).toBe(1);
  });

  it('waits for an idle slot and leaves the slot’s voice state (hang time) alone', () => {
    // Single mode off: 1002's own TG 92 call must not mute its TG 91 (the call that keeps it busy).
    const w = new World(testConfig((c) => (c.routing.singleMode = false)));
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91,92;');
    w.login(1003, 5003, 'TS2=92;');
    talk(w, 5002, voiceCall({ peerId: 1002, src: 3100002, tg: 92, slot: 2, streamId: 0xd5 }));
    w.advance(6000);
    // 1001 talks on TG 91 to 1002 TS2; data for 3100002 meanwhile finds the slot busy.
    const call = voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 0xd6, superframes: 2 });
    w.datagram(5001, call[0]!);
    w.advance(60);
    expect(talk(w, 5003, [data(1003, 3100003, 3100002, 2, 0xd7, 0)])).toEqual([]);
    expect(w.core.stats().find(([k]) => k === 'unit-data.busy')?.[1]).toBe(1);
    talk(w, 5001, call.slice(1));
    w.advance(6000);
    // Idle now: the data goes, and a call on TG 92 right after it is not held off by it.
    expect(talk(w, 5003, [data(1003, 3100003, 3100002, 2, 0xd8, 0)]).map((s) => s.port)).toEqual([5002]);
    const next = talk(w, 5003, voiceCall({ peerId: 1003, src: 3100003, tg: 92, slot: 2, streamId: 0xd9 }));
    expect(next.filter((s) => s.port === 5002)).toHaveLength(8);
  });
});

describe('private voice', () => {
  it('is a dial command unless the server routes private calls', () => {
    const w = new World();
    w.login(1001, 5001);
    w.login(1002, 5002);
    talk(w, 5002, voiceCall({ peerId: 1002, src: 3100002, tg: 91, slot: 2, streamId: 0xe1 }));
    expect(talk(w, 5001, privateVoice(1001, 3100001, 3100002, 2, 0xe2))).toEqual([]);
    expect(w.sink.logs.some((l) => l.code === 'dial.refused' && l.tg === 3100002)).toBe(true);
  });

  it('reaches the called subscriber; the answer gets through the hang time that holds others off', () => {
    const w = new World(testConfig((c) => (c.routing.privateCalls = true)));
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    w.login(1003, 5003, 'TS2=91;');
    talk(w, 5002, voiceCall({ peerId: 1002, src: 3100002, tg: 91, slot: 2, streamId: 0xe3 }));
    w.advance(6000);
    const call = privateVoice(1001, 3100001, 3100002, 2, 0xe4);
    const out = talk(w, 5001, call);
    expect(out.map((s) => s.port)).toEqual(call.map(() => 5002));
    // Within the hang time: a TG 91 call from 1003 does not reach 1001's slot, 3100002's answer does.
    const group = talk(w, 5003, voiceCall({ peerId: 1003, src: 3100003, tg: 91, slot: 2, streamId: 0xe5 }));
    expect(group.filter((s) => s.port === 5001 || s.port === 5002)).toEqual([]);
    w.advance(400);
    const answer = talk(w, 5002, privateVoice(1002, 3100002, 3100001, 2, 0xe6));
    expect(answer.map((s) => s.port)).toEqual(call.map(() => 5001));
  });
});
