// ACLs through the built server over real UDP on 127.0.0.1 ([acl] section, spec §5):
//  - a hotspot whose ID the REG list denies is refused at RPTL with MSTNAK, and one missing from
//    the known-ID file (unknown_ids = "deny") too, with one warning each;
//  - the file is read again on SIGHUP: the missing hotspot, once added, gets in;
//  - on TS2, a call from a subscriber the SUB list denies and a call to a talkgroup the TS2 list
//    denies reach nobody, each logged once as refused; a permitted call reaches the other hotspot
//    frame by frame.
// "Nothing arrived" is checked after a fixed quiet time.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readU32 } from '../../src/protocol/index.js';
import { voiceCall } from '../support/harness.js';
import { serversFixture } from '../support/server-process.js';

const HOST = '127.0.0.1';
const QUIET_MS = 800;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isDmrd = (b: Uint8Array): boolean => b.length >= 4 && String.fromCharCode(...b.subarray(0, 4)) === 'DMRD';

describe('ACLs (e2e)', () => {
  const fx = serversFixture();

  it('refuses logins by REG and by the ID file, and calls by SUB and TGID_TS2; permitted ones pass', async () => {
    // The ID file, written before start.
    const dir = fx.track({ path: mkdtempSync(join(tmpdir(), 'dmrhub-acl-')), close: async function () { rmSync(this.path, { recursive: true, force: true }); } }).path;
    const idFile = join(dir, 'user.csv');
    writeFileSync(idFile, 'RADIO_ID,CALLSIGN,FIRST_NAME\n3100001,N0AAA,A\n3100002,N0BBB,B\n3100009,N0CCC,C\n');
    const s = await fx.start({
      config: {
        acl: { reg: 'DENY:3100009', sub: 'DENY:3120101', tgid_ts2: 'DENY:92', id_file: idFile, unknown_ids: 'deny' },
        timers: { group_hangtime: 0.5 },
      },
    });
    await s.waitForLog((l) => l['code'] === 'acl.ids-loaded', 5000, 'the ID file loaded');

    const a = await fx.hotspot(s, 3100001, 'TS2=91,92;');
    const b = await fx.hotspot(s, 3100002, 'TS2=91,92;');

    // REG denies 3100009 (though it is in the file); 3100050 is not in the file.
    const denied = await fx.radio(3100009);
    await expect(denied.login(HOST, s.port, { passphrase: 'passw0rd' })).rejects.toThrow(/RPTL: server answered MSTNAK/);
    const unknown = await fx.radio(3100050);
    await expect(unknown.login(HOST, s.port, { passphrase: 'passw0rd' })).rejects.toThrow(/RPTL: server answered MSTNAK/);
    await s.waitForLog((l) => l['code'] === 'login.refused' && l['peer'] === 3100050, 3000);
    const refusedLogins = s.logs.filter((l) => l['code'] === 'login.refused').map((l) => [l['peer'], l['reason'], l['level']]);
    expect(refusedLogins).toEqual([
      [3100009, 'acl.reg', 40],
      [3100050, 'acl.unknown-id', 40],
    ]);

    // Calls on TS2 from A: refused by SUB, refused by TGID_TS2, then a permitted one.
    const from = b.mark();
    await a.sendPaced(voiceCall({ peerId: 3100001, src: 3120101, tg: 91, slot: 2, streamId: 0x1001 }), 40);
    await a.sendPaced(voiceCall({ peerId: 3100001, src: 3100101, tg: 92, slot: 2, streamId: 0x1002 }), 40);
    await sleep(QUIET_MS);
    expect(b.received.slice(from).filter((d) => isDmrd(d.bytes))).toEqual([]);
    const ok = voiceCall({ peerId: 3100001, src: 3100101, tg: 91, slot: 2, streamId: 0x1003 });
    await a.sendPaced(ok, 40);
    await b.waitFor((d, i) => i >= from && isDmrd(d.bytes) && readU32(d.bytes, 16) === 0x1003 && (d.bytes[15]! & 0x30) === 0x20 && (d.bytes[15]! & 0x0f) === 2, 5000, from, 'the permitted call\'s terminator');
    const got = b.received.slice(from).filter((d) => isDmrd(d.bytes)).map((d) => readU32(d.bytes, 16));
    expect(got).toEqual(ok.map(() => 0x1003));
    const refusedCalls = s.logs.filter((l) => l['code'] === 'call.refused').map((l) => [l['stream'], l['reason']]);
    expect(refusedCalls).toEqual([
      [0x1001, 'acl.sub'],
      [0x1002, 'acl.tgid-ts2'],
    ]);

    // SIGHUP reads the file again: 3100050 is now known and gets in.
    writeFileSync(idFile, 'RADIO_ID,CALLSIGN\n3100001,N0AAA\n3100002,N0BBB\n3100050,N0DDD\n');
    const loaded = s.logs.filter((l) => l['code'] === 'acl.ids-loaded').length;
    s.child.kill('SIGHUP');
    await s.waitForLog((l) => l['code'] === 'acl.ids-loaded' && s.logs.filter((x) => x['code'] === 'acl.ids-loaded').length > loaded, 5000, 'the ID file read again');
    const late = await fx.radio(3100050);
    await late.login(HOST, s.port, { passphrase: 'passw0rd' });
  });
});
