import { describe, expect, it } from 'vitest';
import { encodeRptk, encodeRptl, encodeRpto, writeU32 } from '../../src/protocol/index.js';
import { loginDigest } from '../support/crypto.js';
import { parseReply, peerOf, voiceCall, World } from '../support/harness.js';

describe('core basics', () => {
  it('logs in two peers and forwards a call between them on a static talkgroup', () => {
    const w = new World();
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    w.login(1003, 5003, 'TS2=92;');
    const got: number[] = [];
    for (const p of voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 0xabc })) {
      w.now += 60;
      for (const s of w.datagram(5001, p)) got.push(peerOf(s));
    }
    expect(got.length).toBe(8);
    expect(new Set(got)).toEqual(new Set([1002]));
  });

  it('refuses a wrong passphrase with MSTNAK and keeps no state', () => {
    const w = new World();
    const salt = parseReply(w.datagram(6000, encodeRptl(77)), 'RPTACK');
    expect(parseReply(w.datagram(6000, encodeRptk(77, loginDigest(salt, 'wrong'))), 'MSTNAK')).toBe(77);
    expect(w.core.peers()).toEqual([]);
    expect(w.core.pendingLogins).toBe(0);
  });

  it('a stream whose conference emptied and was made again sends to the new members only', () => {
    // A talks on TG 92; B listens. Mid-call both leave 92, so the conference is deleted; C and D
    // then join, so a new conference is made and reaches the same change count the old one had
    // when A's targets were worked out. The next packet must still go to C and D, not to B.
    const w = new World();
    w.login(1001, 5001, 'TS2=92;');
    w.login(1002, 5002, 'TS2=92;');
    w.login(1003, 5003, 'TS2=93;');
    w.login(1004, 5004, 'TS2=93;');
    const call = voiceCall({ peerId: 1001, src: 3100001, tg: 92, slot: 2, streamId: 0xc0f, superframes: 2 });
    expect(w.datagram(5001, call[0]!).map(peerOf)).toEqual([1002]);
    w.datagram(5001, encodeRpto(1001, 'TS2=;'));
    w.datagram(5002, encodeRpto(1002, 'TS2=;'));
    w.datagram(5003, encodeRpto(1003, 'TS2=92;'));
    w.datagram(5004, encodeRpto(1004, 'TS2=92;'));
    w.now += 60;
    expect(w.datagram(5001, call[1]!).map(peerOf).sort()).toEqual([1003, 1004]);
  });
});


describe('refused stream IDs', () => {
  it('are remembered for the stream-ID memory, and no more of them than the bound', () => {
    const w = new World();
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    // Peer 1001's slot is busy with one talker; a flood of made-up streams from another talker is
    // refused packet by packet.
    w.datagram(5001, voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 1 })[0]!);
    const flood = voiceCall({ peerId: 1001, src: 3100002, tg: 91, slot: 2, streamId: 2 })[0]!;
    const ceiling = 10_000;
    for (let id = 2; id < 2 + ceiling + 50; id++) {
      writeU32(flood, 16, id);
      expect(w.datagram(5001, flood)).toEqual([]);
    }
    expect(w.core.refusedOn.size).toBe(ceiling);
    expect(new Map(w.core.stats()).get('stream.refused-memory-full')).toBe(50);
    w.advance(w.core.cfg.timers.streamIdMemoryMs - 1);
    expect(w.core.refusedOn.size).toBe(ceiling);
    w.advance(2);
    expect(w.core.refusedOn.size).toBe(0);
  });
});
