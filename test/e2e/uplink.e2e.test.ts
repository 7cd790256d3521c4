// Uplinks through the real built server over UDP on 127.0.0.1:
//  - dmrhub A logs in to dmrhub B as a HomeBrew peer (options TS2=2350): a hotspot on A keying TG
//    2350 is heard by a hotspot on B subscribed to it, frame by frame, and back;
//  - B stops (A is sent MSTCL) and starts again on the same port: A logs in again within its
//    backoff (short ping interval and backoff in the test config);
//  - against a master standing in with a bare UDP socket that refuses every passphrase: one clear
//    warning on A naming the uplink, and RPTLs spaced by the backoff, not a tight loop.
// Every wait is bounded.

import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { encodeMstnak, encodeRptackSalt, readU32 } from '../../src/protocol/index.js';
import { HbpClient, type Received } from '../support/hbp-client.js';
import { freePorts, serversFixture, type ConfigOverrides, type ServerHandle } from '../support/server-process.js';
import { REF_CALLS, refCallPackets } from '../support/voice-frames.js';

const HOST = '127.0.0.1';
const UPLINK_ID = 234000199;
const TG = 2350;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isDmrd = (b: Uint8Array): boolean => b.length >= 4 && String.fromCharCode(...b.subarray(0, 4)) === 'DMRD';
const streamOf = (b: Uint8Array): number => readU32(b, 16);

const freePort = async (): Promise<number> => (await freePorts(1))[0]!;

// Everything a test starts is stopped or closed after it, whatever happened.
const fx = serversFixture();
const hotspot = (s: ServerHandle, peerId: number, options: string): Promise<HbpClient> => fx.hotspot(s, peerId, options);

function server(config: ConfigOverrides): Promise<ServerHandle> {
  return fx.start({ config: { sql: { enabled: false }, timers: { group_hangtime: 0.5 }, ...config } });
}

/** A's uplink to the master at `port`, with short timers. */
const uplinkTo = (port: number, passphrase = 'passw0rd'): Record<string, unknown> => ({
  name: 'upstream',
  address: HOST,
  port,
  local_address: HOST,
  passphrase,
  peer_id: UPLINK_ID,
  callsign: 'N0HUB',
  options: `TS2=${TG}`,
  ping_interval: 0.5,
  max_missed_pongs: 3,
  reconnect_min: 0.2,
  reconnect_max: 1,
});

const ups = (s: ServerHandle): Record<string, unknown>[] => s.logs.filter((l) => l['code'] === 'uplink.up');

/** Wait until `c` holds `count` DMRD frames of stream `streamId` received since `from`. */
const heard = (c: HbpClient, streamId: number, count: number, timeoutMs: number, from = 0): Promise<Received> => {
  let n = 0;
  return c.waitFor((d) => isDmrd(d.bytes) && streamOf(d.bytes) === streamId && ++n >= count, timeoutMs, from, `${count} frames of stream ${streamId.toString(16)}`);
};

describe('dmrhub A as a peer of dmrhub B', () => {
  it('carries calls both ways, and logs in again after B restarts on the same port', async () => {
    const bPort = await freePort();
    let b = await server({ hbp: { port: bPort } });
    const a = await server({ uplinks: [uplinkTo(bPort)] });
    await a.waitForLog((l) => l['code'] === 'uplink.up', 5000, 'uplink.up on A');
    expect(ups(a)[0]).toMatchObject({ address: HOST, port: bPort, peer: UPLINK_ID, level: 30 });
    await b.waitForLog((l) => l['code'] === 'peer.login' && l['peer'] === UPLINK_ID, 2000, 'the uplink logged in on B');

    const onA = await hotspot(a, 2340001, `TS1=${TG}`);
    const onB = await hotspot(b, 2340002, `TS1=${TG}`);
    const ref = REF_CALLS.find((c) => c.tg === TG)!;

    // A's hotspot → A → uplink → B → B's hotspot.
    const there = refCallPackets(ref, { peerId: onA.peerId, slot: 1, streamId: 0x0a0b0c01 });
    const fromB = onB.mark();
    await onA.sendPaced(there);
    await heard(onB, 0x0a0b0c01, there.length, 3000, fromB);
    const gotB = onB.received.slice(fromB).map((d) => d.bytes).filter((x) => isDmrd(x) && streamOf(x) === 0x0a0b0c01);
    expect(gotB.map((x) => [readU32(x, 11), x[15]! & 0x80, readU32(x, 8) >>> 8])).toEqual(Array(there.length).fill([onB.peerId, 0, TG]));
    expect(gotB.map((x) => Buffer.from(x.subarray(20, 53)).toString('hex'))).toEqual(there.map((x) => Buffer.from(x.subarray(20, 53)).toString('hex')));
    await sleep(700);

    // And back: B's hotspot → B → the uplink's lane on TS2 → A → A's hotspot.
    const back = refCallPackets(ref, { peerId: onB.peerId, slot: 1, streamId: 0x0a0b0c02 });
    const fromA = onA.mark();
    await onB.sendPaced(back);
    await heard(onA, 0x0a0b0c02, back.length, 3000, fromA);
    const gotA = onA.received.slice(fromA).map((d) => d.bytes).filter((x) => isDmrd(x) && streamOf(x) === 0x0a0b0c02);
    expect(gotA.map((x) => [readU32(x, 11), x[15]! & 0x80])).toEqual(Array(back.length).fill([onA.peerId, 0]));
    const callStart = a.logs.find((l) => l['code'] === 'call.start' && l['stream'] === 0x0a0b0c02);
    expect(callStart).toMatchObject({ detail: 'uplink upstream' });

    // B stops (A gets MSTCL) and starts again on the same port: A is back within its backoff.
    fx.forget(b);
    await b.stop();
    b.cleanup();
    await a.waitForLog((l) => l['code'] === 'uplink.down', 3000, 'uplink.down on A');
    expect(a.logs.find((l) => l['code'] === 'uplink.down')).toMatchObject({ reason: 'closed' });
    await sleep(1500); // A keeps trying meanwhile: its steps time out and it backs off
    const restarted = performance.now();
    b = await server({ hbp: { port: bPort } });
    await a.waitForLog((l) => l['code'] === 'uplink.up' && ups(a).length >= 2, 5000, 'the second uplink.up on A');
    // At most the capped backoff (1 s) plus one unanswered step (0.5 s) after B is back.
    expect(performance.now() - restarted).toBeLessThan(4000);
  }, 30_000);
});

describe('a master that refuses the passphrase', () => {
  it('gets one clear warning naming the uplink, and RPTLs spaced by the backoff', async () => {
    const master = dgram.createSocket('udp4');
    fx.track({ close: () => new Promise<void>((r) => master.close(() => r())) });
    const rptls: number[] = [];
    master.on('message', (msg, rinfo) => {
      const tag = msg.subarray(0, 4).toString('latin1');
      if (tag === 'RPTL') {
        rptls.push(performance.now());
        master.send(encodeRptackSalt(0x01020304), rinfo.port, rinfo.address);
      } else if (tag === 'RPTK') master.send(encodeMstnak(msg.readUInt32BE(4)), rinfo.port, rinfo.address);
    });
    const port = await new Promise<number>((res) => master.bind(0, HOST, () => res(master.address().port)));
    const a = await server({ uplinks: [uplinkTo(port, 'not the passphrase')] });
    await a.waitForLog((l) => l['code'] === 'uplink.down', 3000, 'the refusal on A');
    const t0 = rptls[0]!;
    await sleep(4000);
    const within = rptls.filter((t) => t - t0 < 4000);
    // Backoff 0.2 s doubling to 1 s, each drawn in [d/2, d]: about 7 attempts in 4 s; a tight loop
    // would be thousands.
    expect(within.length).toBeGreaterThanOrEqual(3);
    expect(within.length).toBeLessThanOrEqual(14);
    within.slice(1).forEach((t, i) => expect(t - within[i]!).toBeGreaterThan(80));
    const warnings = a.logs.filter((l) => l['code'] === 'uplink.down' && l['level'] === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ reason: 'passphrase', address: HOST, port });
    expect(String(warnings[0]!['msg'])).toMatch(/^uplink upstream: the master refused the passphrase/);
    expect(a.logs.filter((l) => l['code'] === 'uplink.down')).toHaveLength(1); // the rest are counted (debug)
  }, 20_000);
});
