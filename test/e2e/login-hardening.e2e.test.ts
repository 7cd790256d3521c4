// The hardened HomeBrew login over real UDP: an RPTL flood from 1000 source ports at 20,000/s for
// 10 s while 100 new hotspots log in and a call runs between peers already connected; a takeover
// attempt with the shared passphrase; per-peer credentials allowed and refused as configured.

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeRptl, hbpKind, HbpKind, readU32 } from '../../src/protocol/index.js';
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
    // The flood: 1000 sockets, RPTLs with random peer IDs, 200 every 10 ms.
    const flooders: dgram.Socket[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, HOST, () => r()));
      s.on('message', () => {});
      flooders.push(s);
    }
    await sleep(500);
    const rssBefore = rssKb(pid);
    let sent = 0;
    let k = 0;
    const floodMs = 10_000;
    const t0 = Date.now();
    const flood = setInterval(() => {
      const due = Math.min(200_000, Math.floor(((Date.now() - t0) / 1000) * 20_000));
      while (sent < due) {
        const id = (Math.random() * 0xfffffff0) >>> 0;
        flooders[k++ % flooders.length]!.send(encodeRptl(id || 1), server.port, HOST);
        sent++;
      }
    }, 10);
    // The call: 8 s of voice from the talker (superframes of 6 bursts, 60 ms apart).
    const call = voiceCall({ peerId: 3200001, src: 3200101, tg: 91, slot: 2, streamId: 0x4242, superframes: 22 });
    const marks = [l1!.mark(), l2!.mark()];
    const sending = talker!.sendPaced(call, 60);
    // 100 new hotspots log in while it all goes on, ten at a time. Like MMDVMHost, a hotspot whose
    // step goes unanswered starts its login again (up to 3 tries); retries are counted and shown.
    const failures: string[] = [];
    let retries = 0;
    const loginWithRetry = async (c: HbpClient): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await c.login(HOST, server.port, { passphrase: PASS });
        } catch (e) {
          if (attempt === 3) throw e;
          retries++;
        }
      }
    };
    const hotspots: HbpClient[] = [];
    await sleep(500);
    for (let batch = 0; batch < 10; batch++) {
      const group = Array.from({ length: 10 }, (_, i) => new HbpClient(3300000 + batch * 10 + i, { stepTimeoutMs: 3000 }));
      hotspots.push(...group);
      await Promise.all(group.map((c) => c.bind()));
      await Promise.all(group.map((c) => loginWithRetry(c).catch((e: Error) => void failures.push(e.message))));
      await sleep(400);
    }
    await sending;
    while (Date.now() - t0 < floodMs) await sleep(100);
    clearInterval(flood);
    await sleep(1000);
    const rssAfter = rssKb(pid);
    console.log(`flood: ${sent} RPTLs in ${Date.now() - t0} ms from ${flooders.length} ports; RSS ${rssBefore} kB before, ${rssAfter} kB after; logins failed: ${failures.length}, retried: ${retries}`);
    expect(sent).toBeGreaterThanOrEqual(195_000);
    expect(failures).toEqual([]);
    // Every frame of the call reached both listeners.
    for (const [i, l] of [l1!, l2!].entries()) {
      const got = l.received.slice(marks[i]).filter((d) => hbpKind(d.bytes) === HbpKind.DMRD && readU32(d.bytes, 16) === 0x4242);
      expect(got).toHaveLength(call.length);
    }
    // No state per RPTL: the server's resident memory grew by less than 16 MB over 200,000 RPTLs.
    expect(rssAfter - rssBefore).toBeLessThan(16 * 1024);
    for (const s of flooders) s.close();
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
    // No passphrase in the server's log.
    const text = JSON.stringify(server.logs);
    for (const secret of ['own secret', 'm0 secret']) expect(text).not.toContain(secret);
  });
});
