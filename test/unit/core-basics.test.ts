import { describe, expect, it } from 'vitest';
import { encodeRptk, encodeRptl } from '../../src/protocol/index.js';
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
    expect(w.core.pending.size).toBe(0);
  });
});
