// Talker alias (DMRA) from the radio's side: the alias of the talker of a live call reaches the
// peers that are hearing that call, with their own peer ID, and nobody else; without a live call,
// or with forwarding off, it goes nowhere.

import { describe, expect, it } from 'vitest';
import { readU32 } from '../../src/protocol/index.js';
import { testConfig, voiceCall, World } from '../support/harness.js';

/** DMRA as DMRGateway sends it: tag, peer ID, source ID, block type, 7 alias bytes. */
function dmra(peerId: number, src: number, text: string): Uint8Array {
  const b = new Uint8Array(19);
  b.set([0x44, 0x4d, 0x52, 0x41]);
  b[4] = peerId >>> 24;
  b[5] = (peerId >>> 16) & 0xff;
  b[6] = (peerId >>> 8) & 0xff;
  b[7] = peerId & 0xff;
  b[8] = src >>> 16;
  b[9] = (src >>> 8) & 0xff;
  b[10] = src & 0xff;
  b[11] = 0;
  for (let i = 0; i < 7; i++) b[12 + i] = text.charCodeAt(i) || 0;
  return b;
}

const isDmra = (b: Uint8Array): boolean => String.fromCharCode(...b.subarray(0, 4)) === 'DMRA';

describe('talker alias', () => {
  function setup(on = true): World {
    const w = new World(
      testConfig((c) => {
        c.routing.talkerAlias = on;
        c.routing.talkerAliasSoftware = ['test']; // World.login's RPTC says software "test"
      }),
    );
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    w.login(1003, 5003, 'TS1=91;TS2=91;'); // hears TG 91 on both slots: still one alias
    w.login(1004, 5004, 'TS2=92;'); // not on the call
    return w;
  }

  it('goes to the peers hearing the talker’s live call, once each, with their own peer ID', () => {
    const w = setup();
    const call = voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 0xa1 });
    w.datagram(5001, call[0]!);
    w.now += 60;
    w.datagram(5001, call[1]!);
    const out = w.datagram(5001, dmra(1001, 3100001, 'G4XYZ  ')).filter((s) => isDmra(s.bytes));
    expect(out.map((s) => s.port).sort()).toEqual([5002, 5003]);
    for (const s of out) {
      expect(readU32(s.bytes, 4)).toBe(s.port - 5002 + 1002);
      expect(s.bytes.subarray(8)).toEqual(dmra(1001, 3100001, 'G4XYZ  ').subarray(8));
    }
  });

  it('goes nowhere without a live call from that talker, or when forwarding is off', () => {
    const w = setup();
    expect(w.datagram(5001, dmra(1001, 3100001, 'G4XYZ')).filter((s) => isDmra(s.bytes))).toEqual([]);
    const call = voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 0xa2 });
    w.datagram(5001, call[0]!);
    // Another talker's alias on this peer (no stream of theirs): nothing.
    expect(w.datagram(5001, dmra(1001, 3100999, 'OTHER')).filter((s) => isDmra(s.bytes))).toEqual([]);
    for (const p of call.slice(1)) {
      w.now += 60;
      w.datagram(5001, p);
    }
    // The call has ended (terminator): nothing.
    expect(w.datagram(5001, dmra(1001, 3100001, 'G4XYZ')).filter((s) => isDmra(s.bytes))).toEqual([]);

    const off = setup(false);
    off.datagram(5001, voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 0xa3 })[0]!);
    expect(off.datagram(5001, dmra(1001, 3100001, 'G4XYZ')).filter((s) => isDmra(s.bytes))).toEqual([]);
  });

  it('a DMRA claiming another peer’s ID from our address is ignored', () => {
    const w = setup();
    w.datagram(5002, voiceCall({ peerId: 1002, src: 3100002, tg: 91, slot: 2, streamId: 0xa4 })[0]!);
    expect(w.datagram(5001, dmra(1002, 3100002, 'SPOOF')).filter((s) => isDmra(s.bytes))).toEqual([]);
  });
});

describe('talker alias: only to peers that accept it', () => {
  it('is off by default, and goes only to peers whose software or credential says they take it', () => {
    const w0 = new World();
    expect(w0.core.cfg.routing.talkerAlias).toBe(false);
    const w = new World(
      testConfig((c) => {
        c.routing.talkerAlias = true;
        c.routing.talkerAliasSoftware = ['hblink'];
        c.hbp.credentials = [{ name: 'ta', ids: [[1003, 1003]], callsign: '', passphrase: 'ta pass', ts1: null, ts2: null, options: true, talkerAlias: true }];
      }),
    );
    w.login(1001, 5001, 'TS2=91;'); // software "test": DMRGateway-like, no alias
    w.login(1002, 5002, 'TS2=91;');
    w.login(1003, 5003, 'TS2=91;', 'ta pass'); // its credential accepts alias
    const call = voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 0xa7 });
    w.datagram(5001, call[0]!);
    const out = w.datagram(5001, dmra(1001, 3100001, 'G4XYZ  ')).filter((s) => isDmra(s.bytes));
    expect(out.map((s) => s.port)).toEqual([5003]);
    expect(new Map(w.core.stats()).get('dmra.not-accepted')).toBe(1);
  });
});
