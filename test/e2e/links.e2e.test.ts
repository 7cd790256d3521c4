// OpenBridge v1 links and local talkgroups through the real built server over UDP on 127.0.0.1,
// heard from the hotspots' side:
//  - two dmrhub servers linked to each other carry a call on TG 2350 from a hotspot on one to a
//    hotspot on the other, both ways, frame by frame; calls on local talkgroups (TG 70 by default,
//    TG 2351 added in the config) are heard on their own server only;
//  - against a UDP socket owned by the test and standing in for FreeDMR, the frames FreeDMR sent
//    to its OpenBridge target (captured) reach a hotspot; a hotspot's call leaves as signed 73-byte
//    TS1 frames carrying our server ID; a frame with a broken MAC, or on a local talkgroup, is not
//    delivered;
//  - the server logs `link.listening` for each enabled link.
// Every wait is bounded; "nothing arrived" is checked after a fixed quiet time.

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { capture } from '../support/fixtures.js';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { OBP, obpKey, signObp, verifyObp } from '../../src/protocol/obp/index.js';
import { readU24, readU32, writeU32 } from '../../src/protocol/index.js';
import { hmacSha1 } from '../support/crypto.js';
import { HbpClient, type Received } from '../support/hbp-client.js';
import { readPcapUdp } from '../support/pcap.js';
import { freePorts, serversFixture, type ConfigOverrides, type ServerHandle, type StartOptions } from '../support/server-process.js';
import { REF_CALLS, refCallPackets } from '../support/voice-frames.js';

const HOST = '127.0.0.1';
const CAPTURE = capture('freedmr-openbridge-obp1.pcap');
/** How long to listen before deciding that nothing is coming. */
const QUIET_MS = 1500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isDmrd = (b: Uint8Array): boolean => b.length >= 4 && String.fromCharCode(...b.subarray(0, 4)) === 'DMRD';
const streamOf = (b: Uint8Array): number => readU32(b, 16);
const slotBit = (b: Uint8Array): number => b[15]! & 0x80;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** DMRD frames of one stream among what a hotspot received since `from`. */
const framesOf = (c: HbpClient, streamId: number, from = 0): Uint8Array[] =>
  c.received.slice(from).map((d) => d.bytes).filter((b) => isDmrd(b) && streamOf(b) === streamId);
const dmrdSince = (c: HbpClient, from: number): Uint8Array[] => c.received.slice(from).map((d) => d.bytes).filter(isDmrd);

/**
 * Start something on `count` ports that were free a moment ago. Another process may take one in
 * between; the server then refuses to start with "already in use", and this tries new ports (at
 * most three times).
 */
async function withFreePorts<T>(count: number, start: (ports: number[]) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(count);
    try {
      return await start(ports);
    } catch (err) {
      if (attempt >= 3 || !/already in use/.test(String(err))) throw err;
    }
  }
}

/** A bare UDP socket standing in for the other end of a link: keeps what it receives, sends raw bytes. */
class LinkEnd {
  readonly received: Received[] = [];
  readonly socket = dgram.createSocket('udp4');
  private readonly waiters = new Set<() => void>();
  port = 0;

  constructor() {
    this.socket.on('message', (msg) => {
      this.received.push({ at: performance.now(), bytes: new Uint8Array(msg) });
      for (const w of [...this.waiters]) w();
    });
  }

  bind(): Promise<number> {
    return new Promise((res, rej) => {
      this.socket.once('error', rej);
      this.socket.bind(0, HOST, () => {
        this.port = this.socket.address().port;
        res(this.port);
      });
    });
  }

  send(bytes: Uint8Array, port: number): void {
    this.socket.send(bytes, port, HOST);
  }

  async sendPaced(packets: readonly Uint8Array[], port: number, gapMs = 60): Promise<void> {
    for (const p of packets) {
      this.send(p, port);
      await sleep(gapMs);
    }
  }

  /** Resolves once `count` datagrams have come in (in total); rejects after `timeoutMs`. */
  waitForCount(count: number, timeoutMs: number, what: string): Promise<void> {
    if (this.received.length >= count) return Promise.resolve();
    return new Promise((res, rej) => {
      const check = (): void => {
        if (this.received.length < count) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        res();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        rej(new Error(`link end: no ${what} within ${timeoutMs} ms (got ${this.received.length} of ${count} datagrams)`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  close(): Promise<void> {
    return new Promise((res) => this.socket.close(() => res()));
  }
}

// Everything a test starts is stopped or closed after it, whatever happened.
const fx = serversFixture();
const hotspot = (s: ServerHandle, peerId: number, options: string): Promise<HbpClient> => fx.hotspot(s, peerId, options);

function server(config: ConfigOverrides, opts: Omit<StartOptions, 'config'> = {}): Promise<ServerHandle> {
  return fx.start({ ...opts, config: { sql: { enabled: false }, ...config } });
}

async function linkEnd(): Promise<LinkEnd> {
  const e = fx.track(new LinkEnd());
  await e.bind();
  return e;
}

/** Wait until `c` holds `count` DMRD frames of stream `streamId` received since `from`. */
const heard = (c: HbpClient, streamId: number, count: number, timeoutMs: number, from = 0): Promise<Received> => {
  let n = 0;
  return c.waitFor((d) => isDmrd(d.bytes) && streamOf(d.bytes) === streamId && ++n >= count, timeoutMs, from, `${count} frames of stream ${streamId.toString(16)}`);
};

/**
 * What a hotspot must get for each sent frame: the same tag, sequence, talker, talkgroup, frame type,
 * stream ID and voice payload (bytes 20..53), with its own peer ID in bytes 11..15 and its own slot.
 */
function expectDelivered(got: readonly Uint8Array[], sent: readonly Uint8Array[], to: HbpClient, slot: 1 | 2): void {
  expect(got.length, 'number of frames delivered').toBe(sent.length);
  const view = (b: Uint8Array, peer: number, s: number): string[] => [
    hex(b.subarray(0, 11)), // DMRD, seq, src, dst
    String(peer),
    String(s),
    (b[15]! & 0x7f).toString(16), // call type and frame type
    hex(b.subarray(16, 53)), // stream ID, voice payload
  ];
  expect(got.map((b) => view(b, readU32(b, 11), slotBit(b)))).toEqual(sent.map((b) => view(b, to.peerId, slot === 2 ? 0x80 : 0)));
}

describe('OpenBridge links between two dmrhub servers', () => {
  const PASS = 'a shared link secret';
  const A_ID = 310_901;
  const B_ID = 310_902;
  // TG 2351 is made local on both ends; TG 70 is local by default.
  const LOCAL = ['1-79', 4000, 5000, '9990-9999', 2351];

  /** Servers A and B with one link each, aimed at the other's link port. */
  async function linkedPair(): Promise<{ a: ServerHandle; b: ServerHandle }> {
    const link = (name: string, port: number, target: number, networkId: number): Record<string, unknown> => ({
      name,
      port,
      target_address: HOST,
      target_port: target,
      passphrase: PASS,
      network_id: networkId,
    });
    return withFreePorts(2, async ([aPort, bPort]) => {
      // One after the other, so a failed start never leaves the other process behind.
      const a = await server({ server: { id: A_ID, name: 'alpha' }, routing: { local_talkgroups: LOCAL }, links: [link('to-bravo', aPort!, bPort!, B_ID)] });
      try {
        const b = await server({ server: { id: B_ID, name: 'bravo' }, routing: { local_talkgroups: LOCAL }, links: [link('to-alpha', bPort!, aPort!, A_ID)] });
        return { a, b };
      } catch (err) {
        await a.stop();
        throw err;
      }
    });
  }

  const OPTIONS = 'TS1=70;TS2=2350,2351';
  const ref = REF_CALLS.find((c) => c.tg === 2350)!;

  it('a call on TG 2350 crosses the link both ways, every frame intact', async () => {
    const { a, b } = await linkedPair();
    const a1 = await hotspot(a, 3109011, OPTIONS);
    const a2 = await hotspot(a, 3109012, OPTIONS);
    const b1 = await hotspot(b, 3109021, OPTIONS);

    // A → B: the hotspot on B gets every frame on its TS2, as its own; A's other hotspot too.
    const out = refCallPackets(ref, { peerId: a1.peerId, slot: 2, streamId: 0x2350a001 });
    await a1.sendPaced(out);
    await Promise.all([heard(b1, 0x2350a001, out.length, 3000), heard(a2, 0x2350a001, out.length, 3000)]);
    expectDelivered(framesOf(b1, 0x2350a001), out, b1, 2);
    expectDelivered(framesOf(a2, 0x2350a001), out, a2, 2);

    // B → A: the answer reaches both hotspots on A.
    await sleep(300);
    const back = refCallPackets(ref, { peerId: b1.peerId, slot: 2, streamId: 0x2350b001 });
    const [fromA1, fromA2] = [a1.mark(), a2.mark()];
    await b1.sendPaced(back);
    await Promise.all([heard(a1, 0x2350b001, back.length, 3000, fromA1), heard(a2, 0x2350b001, back.length, 3000, fromA2)]);
    expectDelivered(framesOf(a1, 0x2350b001, fromA1), back, a1, 2);
    expectDelivered(framesOf(a2, 0x2350b001, fromA2), back, a2, 2);
    // Nothing comes back to the talkers: a link never returns a call to where it came from.
    expect(framesOf(a1, 0x2350a001)).toEqual([]);
    expect(framesOf(b1, 0x2350b001)).toEqual([]);
  });

  it('calls on local talkgroups (TG 70, and TG 2351 from the config) stay on their own server', async () => {
    const { a, b } = await linkedPair();
    const a1 = await hotspot(a, 3109031, OPTIONS);
    const a2 = await hotspot(a, 3109032, OPTIONS);
    const b1 = await hotspot(b, 3109041, OPTIONS);
    const fromB1 = b1.mark();

    const on70 = refCallPackets(ref, { peerId: a1.peerId, slot: 1, streamId: 0x0070a001, dst: 70 });
    await a1.sendPaced(on70);
    const on2351 = refCallPackets(ref, { peerId: a1.peerId, slot: 2, streamId: 0x2351a001, dst: 2351 });
    await a1.sendPaced(on2351);
    // Heard on A...
    await Promise.all([heard(a2, 0x0070a001, on70.length, 3000), heard(a2, 0x2351a001, on2351.length, 3000)]);
    expectDelivered(framesOf(a2, 0x0070a001), on70, a2, 1);
    expectDelivered(framesOf(a2, 0x2351a001), on2351, a2, 2);
    // ...and not on B, though its hotspot has both talkgroups.
    await sleep(QUIET_MS);
    expect(dmrdSince(b1, fromB1).map(hex)).toEqual([]);
    expect(b.logs.filter((l) => l['code'] === 'call.start')).toEqual([]);
    // B refused nothing either: A never put these calls on the link.
    expect(b.logs.filter((l) => l['code'] === 'link.dropped')).toEqual([]);

    // The same hotspot on B does hear a talkgroup that is not local, so the silence above is the
    // local talkgroups' doing and not a broken link.
    const control = refCallPackets(ref, { peerId: a1.peerId, slot: 2, streamId: 0x2350a002 });
    await a1.sendPaced(control);
    await heard(b1, 0x2350a002, control.length, 3000, fromB1);
    expectDelivered(framesOf(b1, 0x2350a002, fromB1), control, b1, 2);
  });
});

describe('an OpenBridge link to a FreeDMR-like peer (a test socket)', () => {
  const PASS = 'passw0rd';
  const KEY = obpKey(PASS);
  const SERVER_ID = 9991;
  const FREEDMR_ID = 9990;
  const captured = readPcapUdp(CAPTURE).map((r) => r.payload);

  /** A signed copy of a captured frame with another stream ID and talkgroup (FreeDMR's own layout). */
  const restamp = (b: Uint8Array, streamId: number, tg?: number): Uint8Array => {
    const out = b.slice();
    writeU32(out, 16, streamId);
    if (tg !== undefined) {
      out[8] = (tg >> 16) & 0xff;
      out[9] = (tg >> 8) & 0xff;
      out[10] = tg & 0xff;
    }
    signObp(out, KEY, hmacSha1);
    return out;
  };

  async function setUp(): Promise<{ s: ServerHandle; peer: LinkEnd; linkPort: number; rx: HbpClient; tx: HbpClient }> {
    const peer = await linkEnd();
    const { s, linkPort } = await withFreePorts(1, async ([linkPort]) => ({
      linkPort: linkPort!,
      s: await server({
        server: { id: SERVER_ID },
        links: [{ name: 'freedmr', port: linkPort, target_address: HOST, target_port: peer.port, passphrase: PASS, network_id: FREEDMR_ID }],
      }),
    }));
    const rx = await hotspot(s, 3109051, 'TS1=23001,70');
    const tx = await hotspot(s, 3109052, 'TS2=23001');
    return { s, peer, linkPort, rx, tx };
  }

  it('the captured FreeDMR frames reach a hotspot on TG 23001', async () => {
    // The capture as it should be: FreeDMR's frames, signed with the key, from its server ID, on TS1.
    expect(captured.length).toBeGreaterThan(60);
    for (const b of captured) {
      expect([b.length, verifyObp(b, KEY, hmacSha1), readU32(b, 11), slotBit(b), readU24(b, 8)]).toEqual([OBP.FRAME, true, FREEDMR_ID, 0, 23001]);
    }
    const streams = [...new Set(captured.map(streamOf))];
    expect(streams).toContain(146707360);

    const { peer, linkPort, rx } = await setUp();
    await peer.sendPaced(captured, linkPort);
    await heard(rx, 146707360, captured.filter((b) => streamOf(b) === 146707360).length, 3000);
    // Every stream, every frame, in order, on the hotspot's TS1 under its own peer ID.
    const got = dmrdSince(rx, 0);
    expectDelivered(got, captured.map((b) => b.subarray(0, OBP.BODY)), rx, 1);
    expect(got.every((b) => b.length === 55)).toBe(true);
  });

  it('a frame with a broken MAC, or on a local talkgroup, is not delivered', async () => {
    const { s, peer, linkPort, rx } = await setUp();
    const main = captured.filter((b) => streamOf(b) === 146707360).slice(0, 8);
    // The first frames of the main call under a new stream ID, each with one MAC byte flipped.
    const broken = main.map((b) => {
      const out = restamp(b, 0x0bad0001);
      out[OBP.BODY + 7] = out[OBP.BODY + 7]! ^ 0x01;
      return out;
    });
    expect(broken.map((b) => verifyObp(b, KEY, hmacSha1))).toEqual(broken.map(() => false));
    // The same call, correctly signed, on TG 70: local here, so it must not come in from a link.
    const local = main.map((b) => restamp(b, 0x0bad0002, 70));
    await peer.sendPaced(broken, linkPort);
    await peer.sendPaced(local, linkPort);
    await sleep(QUIET_MS);
    expect(dmrdSince(rx, 0).map(hex)).toEqual([]);
    // The server says why, once for each kind of refusal.
    const dropped = (reason: string): Promise<unknown> =>
      s.waitForLog((l) => l['code'] === 'link.dropped' && l['reason'] === reason, 2000, `link.dropped for ${reason}`);
    await Promise.all([dropped('obp.bad-mac'), dropped('obp.local-talkgroup')]);

    // Control: the same frames correctly signed on TG 23001 are heard, so the drops above are the
    // MAC's and the talkgroup's doing.
    const good = main.map((b) => restamp(b, 0x0bad0001));
    await peer.sendPaced(good, linkPort);
    await heard(rx, 0x0bad0001, good.length, 3000);
    expectDelivered(dmrdSince(rx, 0), good, rx, 1);
  });

  it('a hotspot call on TG 23001 leaves as signed 73-byte TS1 frames with the server ID; one on TG 70 does not', async () => {
    const { peer, rx, tx } = await setUp();
    const ref = REF_CALLS.find((c) => c.tg === 2350)!;
    const call = refCallPackets(ref, { peerId: tx.peerId, slot: 2, streamId: 0x23001001, dst: 23001 });
    await tx.sendPaced(call);
    await peer.waitForCount(call.length, 3000, 'frames of the hotspot call');
    await heard(rx, 0x23001001, call.length, 3000); // heard locally as well, on the other hotspot's TS1
    await sleep(200); // room for any extra frame that should not be there
    const sent = peer.received.map((d) => d.bytes);
    expect(sent.map((b) => [b.length, verifyObp(b, KEY, hmacSha1), readU32(b, 11), slotBit(b)])).toEqual(call.map(() => [OBP.FRAME, true, SERVER_ID, 0]));
    // Apart from peer ID, slot and MAC, each frame is the hotspot's frame as sent.
    const body = (b: Uint8Array): string[] => [hex(b.subarray(0, 11)), (b[15]! & 0x7f).toString(16), hex(b.subarray(16, 53))];
    expect(sent.map(body)).toEqual(call.map(body));

    // A call on TG 70 (local by default) does not leave.
    const before = peer.received.length;
    await rx.sendPaced(refCallPackets(ref, { peerId: rx.peerId, slot: 1, streamId: 0x0070c001, dst: 70 }));
    await sleep(QUIET_MS);
    expect(peer.received.slice(before).map((d) => hex(d.bytes))).toEqual([]);
  });
});

describe('link start-up', () => {
  it('logs link.listening for each enabled link, with its local port and its target', async () => {
    const { s, p1, p2 } = await withFreePorts(3, async ([p1, p2, p3]) => {
      const links = [
        { name: 'north', port: p1, target_address: HOST, target_port: 62044, passphrase: 'one', network_id: 7 },
        { name: 'south.2', port: p2, target_address: '127.0.0.2', target_port: 62045, passphrase: 'two', talkgroups: [2350, 91] },
        { name: 'spare', enabled: false, port: p3, target_address: HOST, target_port: 62046, passphrase: 'three' },
      ];
      return { s: await server({ server: { id: 310_999 }, links }), p1, p2 };
    });
    // The config written for the server holds the links as [[links]] tables.
    const text = readFileSync(s.configPath, 'utf8');
    expect(text.match(/^\[\[links\]\]$/gm)?.length).toBe(3);
    const listening = s.logs.filter((l) => l['code'] === 'link.listening');
    expect(listening.map((l) => [l['link'], l['address'], l['port'], l['target']])).toEqual([
      ['north', HOST, p1, `${HOST}:62044`],
      ['south.2', HOST, p2, '127.0.0.2:62045'],
    ]);
    // Each link's socket is open before the server says it is listening.
    const at = (code: string): number => s.logs.findIndex((l) => l['code'] === code);
    expect(at('link.listening')).toBeLessThan(at('server.listening'));
  });
});
