// The hardened HomeBrew login over real UDP: an RPTL flood from 1000 source ports at 20,000/s for
// 10 s while 100 new hotspots log in and a call runs between peers already connected; a takeover
// attempt with the shared passphrase; per-peer credentials allowed and refused as configured.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hbpKind, HbpKind, readU32 } from '../../src/protocol/index.js';
import { voiceCall } from '../support/harness.js';
import { HbpClient } from '../support/hbp-client.js';
import { serverFixture } from '../support/server-process.js';

const HOST = '127.0.0.1';
const PASS = 'passw0rd';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

const fx = serverFixture();

describe('login hardening', () => {
  it('an RPTL flood from 1000 ports at 20,000/s for 10 s: 100 new hotspots log in, the call loses nothing, memory stays bounded', async () => {
    const [talker, l1, l2] = await fx.withPeers({}, [
      [3200001, 'TS2=91;'],
      [3200002, 'TS2=91;'],
      [3200003, 'TS2=91;'],
    ]);
    const server = fx.server!;
    const pid = server.child.pid!;
    // The flood runs in a process of its own (test/support/rptl-flood.mjs): 1000 sockets, RPTLs
    // with random peer IDs, 20,000 a second for 10 s. In this process it would starve the
    // talker's pacing and the listeners' reading of CPU, and measure the test, not the server.
    const flooder = spawn(process.execPath, [fileURLToPath(new URL('../support/rptl-flood.mjs', import.meta.url)), HOST, String(server.port), '1000', '20000', '10000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    flooder.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const finished = new Promise<void>((r) => flooder.on('exit', () => r()));
    while (!out.includes('ready')) await sleep(20);
    const rssBefore = rssKb(pid);
    const t0 = Date.now();
    // The call: 8 s of voice from the talker (superframes of 6 bursts, 60 ms apart).
    const call = voiceCall({ peerId: 3200001, src: 3200101, tg: 91, slot: 2, streamId: 0x4242, superframes: 22 });
    const marks = [l1!.mark(), l2!.mark()];
    const sending = talker!.sendPaced(call, 60);
    // 100 new hotspots log in while it all goes on, ten at a time, each with one try: a step
    // unanswered within 3 s fails the login.
    const failures: string[] = [];
    const hotspots: HbpClient[] = [];
    await sleep(500);
    for (let batch = 0; batch < 10; batch++) {
      const group = Array.from({ length: 10 }, (_, i) => new HbpClient(3300000 + batch * 10 + i, { stepTimeoutMs: 3000 }));
      hotspots.push(...group);
      await Promise.all(group.map((c) => c.bind()));
      await Promise.all(group.map((c) => c.login(HOST, server.port, { passphrase: PASS }).catch((e: Error) => void failures.push(e.message))));
      await sleep(400);
    }
    const loginsDoneMs = Date.now() - t0;
    await sending;
    await finished;
    await sleep(1000);
    const rssAfter = rssKb(pid);
    const { sent, ms } = JSON.parse(out.slice(out.indexOf('{'))) as { sent: number; ms: number };
    console.log(
      `flood: ${sent} RPTLs (failures: ${[...new Set(failures)].join(" | ")}) in ${ms} ms from 1000 ports; the 100 logins done ${loginsDoneMs} ms into it; RSS ${rssBefore} kB before, ${rssAfter} kB after; logins failed: ${failures.length}`,
    );
    expect(sent).toBe(200_000);
    expect(loginsDoneMs).toBeLessThan(ms); // the logins happened during the flood
    expect(failures).toEqual([]);
    // Every frame of the call reached both listeners.
    for (const [i, l] of [l1!, l2!].entries()) {
      const got = l.received.slice(marks[i]).filter((d) => hbpKind(d.bytes) === HbpKind.DMRD && readU32(d.bytes, 16) === 0x4242);
      expect(got).toHaveLength(call.length);
    }
    // No state per RPTL: the server's resident memory grew by less than 16 MB over 200,000 RPTLs.
    expect(rssAfter - rssBefore).toBeLessThan(16 * 1024);
    await Promise.all(hotspots.map((c) => c.close()));
  }, 90_000);

  it('refuses a takeover with the shared passphrase, and warns once naming both addresses', async () => {
    const [owner] = await fx.withPeers({}, [[3200010, 'TS2=91;']]);
    const server = fx.server!;
    const squatter = await fx.radio(3200010);
    await expect(squatter.login(HOST, server.port, { passphrase: PASS })).rejects.toThrow(/MSTNAK/);
    await expect(squatter.login(HOST, server.port, { passphrase: PASS })).rejects.toThrow(/MSTNAK/);
    const warning = await server.waitForLog((l) => l['code'] === 'login.refused' && l['reason'] === 'in-use', 3000);
    expect(String(warning['detail'])).toContain(`${HOST}:${owner!.localPort}`);
    expect(String(warning['detail'])).toContain(`${HOST}:${squatter.localPort}`);
    expect(server.logs.filter((l) => l['code'] === 'login.refused' && l['reason'] === 'in-use')).toHaveLength(1);
    await owner!.ping(); // still logged in
  });

  it('allows and refuses per-peer credentials as configured; the own credential may take over', async () => {
    const server = await fx.start({
      config: {
        hbp: {
          credentials: [
            { name: 'own', ids: [3200020], passphrase: 'own secret' },
            { name: 'm0', callsign: 'M0*', passphrase: 'm0 secret' },
            { name: 'club', ids: ['3200030-3200039'], passphrase: 'club secret', reg_acl: 'DENY:3200035' },
          ],
        },
      },
    });
    const shared = await fx.radio(3200020);
    await expect(shared.login(HOST, server.port, { passphrase: PASS })).rejects.toThrow(/MSTNAK/);
    const own = await fx.radio(3200020);
    await own.login(HOST, server.port, { passphrase: 'own secret' });
    const m0 = await fx.radio(3200021);
    await m0.login(HOST, server.port, { passphrase: 'm0 secret', callsign: 'M0ABC' });
    const g4 = await fx.radio(3200022);
    await expect(g4.login(HOST, server.port, { passphrase: 'm0 secret', callsign: 'G4XYZ' })).rejects.toThrow(/MSTNAK/);
    // The ID's own credential from another port takes it over at once; the old one gets MSTCL.
    const mark = own.mark();
    const second = await fx.radio(3200020);
    await second.login(HOST, server.port, { passphrase: 'own secret' });
    await own.waitFor((d) => hbpKind(d.bytes) === HbpKind.MSTCL, 2000, mark, 'MSTCL');
    await second.ping();
    // A credential's own REG list: one ID of its range refused, another let in.
    const barred = await fx.radio(3200035);
    await expect(barred.login(HOST, server.port, { passphrase: 'club secret' })).rejects.toThrow(/MSTNAK/);
    await (await fx.radio(3200031)).login(HOST, server.port, { passphrase: 'club secret' });
    // The log line comes through the logger's thread and the server's stdout: it may trail the MSTNAK.
    await server.waitForLog((l) => l['code'] === 'login.refused' && l['peer'] === 3200035 && l['reason'] === 'acl.reg', 5000, 'the acl.reg refusal in the log');
    // No passphrase in the server's log.
    const text = JSON.stringify(server.logs);
    for (const secret of ['own secret', 'm0 secret', 'club secret']) expect(text).not.toContain(secret);
  });
});
