// Three dmrhub servers in a triangle (a cycle) of FBP links, through the real built server over UDP
// on 127.0.0.1, heard from the hotspots' side:
//  - a hotspot's call on one server reaches the hotspots on the other two exactly once each, frame
//    by frame, though each of them gets it twice (directly and in transit through the third);
//  - the losing path is quenched: B answers C's transit copy with a BCSQ (seen on the wire, and in
//    the exit statistics of both ends);
//  - when the A–B link goes dead mid-call, B takes the rest of the call from C (failover after
//    500 ms of quiet, once C's quench has lapsed), with no frame twice and a gap of at most 3 s;
//  - a call on a local talkgroup (TG 70) stays on its server.
// The A–B and B–C links run through small UDP relays in the test: A–B can be cut (both ways), and
// B–C is the slow way round (25 ms each way), so that B and C always hear A's own copy first
// (otherwise which path wins would be a race between processes: a C whose copy came through B
// would lose the call at the cut as well, and a B whose copy came through C would test nothing).
// Every wait is bounded; "nothing arrived" is checked after a fixed quiet time.

import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { decodeFbp } from '../../src/protocol/fbp/index.js';
import { encodeDmrd, fromHex, readU32 } from '../../src/protocol/index.js';
import { HbpClient, type Received } from '../support/hbp-client.js';
import { freePorts, serversFixture, startServer, type ServerHandle } from '../support/server-process.js';
import { REF_CALLS, refCallPackets } from '../support/voice-frames.js';

const HOST = '127.0.0.1';
const TG = 2350;
const OPTIONS = `TS1=70,${TG}`;
/** How long to listen before deciding that nothing is coming. */
const QUIET_MS = 1000;
const IDS = { a: 310_901, b: 310_902, c: 310_903 } as const;
type Name = keyof typeof IDS;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isDmrd = (b: Uint8Array): boolean => b.length >= 4 && String.fromCharCode(...b.subarray(0, 4)) === 'DMRD';
const streamOf = (b: Uint8Array): number => readU32(b, 16);
const framesOf = (c: HbpClient, streamId: number, from = 0): Received[] => c.received.slice(from).filter((d) => isDmrd(d.bytes) && streamOf(d.bytes) === streamId);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What went through a relay: which way, when (performance.now()), the bytes. */
interface Passed {
  to: 'left' | 'right';
  at: number;
  bytes: Uint8Array;
}

/**
 * A wire between two link ports: each server's link targets its own side of the relay, which
 * forwards to the other server from the other side (so each server sees its frames come from where
 * it sends them, as check_source wants). `cut` drops everything both ways; `delayMs` holds every
 * frame back that long (in order). Everything forwarded is kept in `passed`.
 */
class Relay {
  readonly left = dgram.createSocket('udp4');
  readonly right = dgram.createSocket('udp4');
  readonly passed: Passed[] = [];
  leftPort = 0; // the server on the left sends here
  rightPort = 0; // the server on the right sends here
  cut = false;
  delayMs = 0;

  /** Bind both sides; `to` gives the link ports of the two servers once they are known. */
  async bind(): Promise<void> {
    const bind = (s: dgram.Socket): Promise<number> => new Promise((res, rej) => {
      s.once('error', rej);
      s.bind(0, HOST, () => res(s.address().port));
    });
    [this.leftPort, this.rightPort] = await Promise.all([bind(this.left), bind(this.right)]);
  }

  connect(leftServerPort: number, rightServerPort: number): void {
    // From the left server (on our left socket) to the right server (from our right socket), and back.
    this.left.on('message', (msg) => this.pass(msg, 'right', () => this.right.send(msg, rightServerPort, HOST)));
    this.right.on('message', (msg) => this.pass(msg, 'left', () => this.left.send(msg, leftServerPort, HOST)));
  }

  private pass(msg: Buffer, to: 'left' | 'right', send: () => void): void {
    if (this.cut) return;
    this.passed.push({ to, at: performance.now(), bytes: new Uint8Array(msg) });
    if (this.delayMs > 0) setTimeout(send, this.delayMs);
    else send();
  }

  close(): Promise<void> {
    return Promise.all([this.left, this.right].map((s) => new Promise<void>((res) => s.close(() => res())))).then(() => undefined);
  }
}

/** A call on TG 2350 with the reference call's real voice: header, `superframes` × bursts A–F, terminator. */
function longCall(peerId: number, streamId: number, superframes: number): Uint8Array[] {
  const ref = REF_CALLS.find((c) => c.tg === TG)!;
  const frames: [number, string][] = [[0x21, ref.head]];
  for (let s = 0; s < superframes; s++) ref.bursts.forEach((b, i) => frames.push([i === 0 ? 0x10 : i, b]));
  frames.push([0x22, ref.term]);
  return frames.map(([frame, h], seq) => encodeDmrd({ seq, src: ref.src, dst: TG, peerId, slot: 1, frame, unit: false, streamId, payload: fromHex(h)! }));
}

// Everything a test starts is stopped or closed after it, whatever happened.
const fx = serversFixture();
const hotspot = (s: ServerHandle, peerId: number): Promise<HbpClient> => fx.hotspot(s, peerId, OPTIONS);

interface Mesh {
  s: Record<Name, ServerHandle>;
  /** The A–B wire (A on the left) and the B–C wire (B on the left). */
  ab: Relay;
  bc: Relay;
}

/**
 * A, B and C, each with an FBP link to each of the other two (one passphrase per pair, network_id
 * the other's server ID). A–B and B–C go through relays; C–A is direct.
 */
async function mesh(): Promise<Mesh> {
  const ab = fx.track(new Relay());
  const bc = fx.track(new Relay());
  await Promise.all([ab.bind(), bc.bind()]);
  for (let attempt = 1; ; attempt++) {
    // The link ports: A's to B, A's to C, B's to A, B's to C, C's to A, C's to B.
    const [aB, aC, bA, bC, cA, cB] = (await freePorts(6)) as [number, number, number, number, number, number];
    const link = (name: string, port: number, target: number, pass: string, peer: Name): Record<string, unknown> => ({
      name, port, target_address: HOST, target_port: target, passphrase: pass, network_id: IDS[peer], protocol: 'fbp',
    });
    const config = (me: Name, links: Record<string, unknown>[]) => ({
      config: { server: { id: IDS[me], name: me }, sql: { enabled: false }, timers: { group_hangtime: 0.2 }, links },
    });
    const started: ServerHandle[] = [];
    try {
      started.push(await startServer(config('a', [link('to-b', aB, ab.leftPort, 'alpha-bravo', 'b'), link('to-c', aC, cA, 'charlie-alpha', 'c')])));
      started.push(await startServer(config('b', [link('to-a', bA, ab.rightPort, 'alpha-bravo', 'a'), link('to-c', bC, bc.leftPort, 'bravo-charlie', 'c')])));
      started.push(await startServer(config('c', [link('to-a', cA, aC, 'charlie-alpha', 'a'), link('to-b', cB, bc.rightPort, 'bravo-charlie', 'b')])));
    } catch (err) {
      for (const s of started) {
        await s.stop();
        s.cleanup();
      }
      // Another process took one of the ports in between: try new ones (at most three times).
      if (attempt >= 3 || !/already in use/.test(String(err))) throw err;
      continue;
    }
    for (const s of started) fx.adopt(s);
    ab.connect(aB, bA);
    bc.delayMs = 25;
    bc.connect(bC, cB);
    const [a, b, c] = started as [ServerHandle, ServerHandle, ServerHandle];
    return { s: { a, b, c }, ab, bc };
  }
}

/** Wait until `c` holds `count` DMRD frames of stream `streamId` received since `from`. */
const heard = (c: HbpClient, streamId: number, count: number, timeoutMs: number, from = 0): Promise<Received> => {
  let n = 0;
  return c.waitFor((d) => isDmrd(d.bytes) && streamOf(d.bytes) === streamId && ++n >= count, timeoutMs, from, `${count} frames of stream ${streamId.toString(16)}`);
};

/** The sequence number and voice payload of each frame (what must arrive unchanged, in order). */
const voice = (b: Uint8Array): string => `${b[4]}:${hex(b.subarray(20, 53))}`;

/** The exit statistics of a stopped server (its `server.exit` log line). */
function exitStats(s: ServerHandle): Record<string, number> {
  const exit = s.logs.find((l) => l['code'] === 'server.exit');
  expect(exit, 'server.exit log line').toBeDefined();
  return exit!['stats'] as Record<string, number>;
}

describe('three dmrhub servers in a triangle of FBP links', () => {
  it('carry a call to each server once, quench the losing path, fail over when a link dies, and keep TG 70 local', async () => {
    const { s, ab, bc } = await mesh();
    const hs = { a: await hotspot(s.a, 3109011), b: await hotspot(s.b, 3109021), c: await hotspot(s.c, 3109031) };
    const ref = REF_CALLS.find((c) => c.tg === TG)!;

    // Short calls from B and C first: every link has then heard its far end (a link never heard
    // from carries no transit), and each call reaches the other two servers once.
    let n = 0;
    for (const from of ['b', 'c'] as const) {
      const id = 0x23500b00 + n++;
      const call = refCallPackets(ref, { peerId: hs[from].peerId, slot: 1, streamId: id });
      const others = (['a', 'b', 'c'] as const).filter((x) => x !== from);
      await hs[from].sendPaced(call);
      await Promise.all(others.map((x) => heard(hs[x], id, call.length, 3000)));
      await sleep(300);
      for (const x of others) expect(framesOf(hs[x], id).map((d) => voice(d.bytes))).toEqual(call.map(voice));
      expect(framesOf(hs[from], id)).toEqual([]);
    }

    // The long call from A: 98 frames, about 6 s. B hears it directly (A–B) and from C; C directly
    // and from B. Both keep the first copy and quench the other.
    const ID = 0x2350a0a0;
    const call = longCall(hs.a.peerId, ID, 16);
    const CUT_AT = 25;
    const [fromB, fromC] = [hs.b.mark(), hs.c.mark()];
    let cutAt = 0;
    const sent: number[] = [];
    for (let i = 0; i < call.length; i++) {
      if (i === CUT_AT) {
        // The A–B link goes dead (both ways), mid-call.
        ab.cut = true;
        cutAt = performance.now();
      }
      hs.a.send(call[i]!);
      sent.push(performance.now());
      await sleep(60);
    }
    const last = (d: Received): boolean => isDmrd(d.bytes) && streamOf(d.bytes) === ID && d.bytes[4] === call.length - 1;
    await Promise.all([hs.c.waitFor(last, 4000, fromC, "the call's terminator on C"), hs.b.waitFor(last, 4000, fromB, "the call's terminator on B")]);
    await sleep(300);

    // C: every frame once, in order (A–C was never cut).
    expect(framesOf(hs.c, ID, fromC).map((d) => voice(d.bytes))).toEqual(call.map(voice));

    // B: frames 0..CUT_AT-1 from A, then after a gap the rest of the call from C: every frame it
    // got is the call's frame with that sequence number, none twice, in order, and no hole after
    // the gap.
    const gotB = framesOf(hs.b, ID, fromB);
    const seqs = gotB.map((d) => d.bytes[4]!);
    expect(new Set(seqs).size, 'no frame twice').toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(gotB.map((d) => voice(d.bytes))).toEqual(seqs.map((q) => voice(call[q]!)));
    const resumeIdx = seqs.findIndex((q, i) => i > 0 && q !== seqs[i - 1]! + 1);
    expect(seqs.slice(0, CUT_AT)).toEqual([...Array(CUT_AT).keys()]);
    expect(resumeIdx, 'a gap after the cut').toBe(CUT_AT);
    const resumed = seqs[resumeIdx]!;
    expect(seqs.slice(resumeIdx)).toEqual([...Array(call.length - resumed).keys()].map((k) => k + resumed));
    const gapMs = gotB[resumeIdx]!.at - gotB[resumeIdx - 1]!.at;
    // Failover after 500 ms of quiet, once C's quench (2 s, renewed at most once a second) lapses.
    expect(gapMs).toBeGreaterThanOrEqual(450);
    expect(gapMs).toBeLessThan(3000);
    console.log(`fbp-mesh: A–B cut ${Math.round(cutAt - sent[0]!)} ms into the call; B heard frame ${CUT_AT - 1}, then frame ${resumed} ${Math.round(gapMs)} ms later (${resumed - CUT_AT} frames lost)`);
    expect(s.b.logs.filter((l) => l['code'] === 'call.start' && l['stream'] === ID).map((l) => l['detail'])).toEqual(['link to-a', 'link to-c']);

    // The quench on the wire: B told C (through the B–C relay) to stop sending this stream, while
    // A–B still carried it; C's copies to B are few (one per lapse) until the cut.
    const onBc = bc.passed.map((p) => ({ ...p, m: decodeFbp(p.bytes) }));
    const quenches = onBc.filter((p) => p.to === 'right').filter((p) => p.m.ok && p.m.value.kind === 'bcsq' && p.m.value.streamId === ID);
    expect(quenches.length, 'BCSQ from B to C').toBeGreaterThanOrEqual(1);
    const dmreCToB = onBc.filter((p) => p.to === 'left' && p.m.ok && p.m.value.kind === 'dmre' && streamOf(p.bytes) === ID && p.at < cutAt);
    expect(dmreCToB.length).toBeLessThan(CUT_AT / 2);

    // TG 70 is local by default: a call on it from A stays on A.
    const local = refCallPackets(ref, { peerId: hs.a.peerId, slot: 1, streamId: 0x0070a001, dst: 70 });
    const [b70, c70] = [hs.b.mark(), hs.c.mark()];
    const a2 = await hotspot(s.a, 3109012);
    await hs.a.sendPaced(local);
    await heard(a2, 0x0070a001, local.length, 3000);
    await sleep(QUIET_MS);
    expect(framesOf(hs.b, 0x0070a001, b70)).toEqual([]);
    expect(framesOf(hs.c, 0x0070a001, c70)).toEqual([]);

    // The exit statistics: quenches sent and received on both ends of B–C, the failover on B.
    for (const x of [s.a, s.b, s.c]) await x.stop();
    const stats = { a: exitStats(s.a), b: exitStats(s.b), c: exitStats(s.c) };
    console.log(`fbp-mesh: quench-sent/received A ${stats.a['fbp.quench-sent'] ?? 0}/${stats.a['fbp.quench-received'] ?? 0}, B ${stats.b['fbp.quench-sent'] ?? 0}/${stats.b['fbp.quench-received'] ?? 0}, C ${stats.c['fbp.quench-sent'] ?? 0}/${stats.c['fbp.quench-received'] ?? 0}; failover on B ${stats.b['fbp.failover'] ?? 0}`);
    expect(stats.b['fbp.quench-sent']).toBeGreaterThanOrEqual(1);
    expect(stats.c['fbp.quench-received']).toBeGreaterThanOrEqual(1);
    // And C quenched B's transit copy the same way.
    expect(stats.c['fbp.quench-sent']).toBeGreaterThanOrEqual(1);
    expect(stats.b['fbp.quench-received']).toBeGreaterThanOrEqual(1);
    expect(stats.b['fbp.failover']).toBe(1);
  }, 30_000);
});
