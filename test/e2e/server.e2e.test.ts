// End-to-end acceptance test: the built server as a child process, real HBP peers on real UDP
// sockets (loopback only), real time. Peers log in with different options, carry calls that
// exercise the routing rules of src/core/streams/group-voice.ts (fan-out with peer-ID and slot
// rewrite, first-come-first-served contention, a lost terminator, the group hang time, a
// duplicated packet), then the server is stopped with SIGTERM and the event log it recorded is
// replayed: the replay's sends must be exactly what the peers received.
//
// Timers are short (hang time 1 s, stream timeout 1 s, collision window 0.36 s). Packets of one
// call are 40 ms apart, so no call reaches the rate limit (it starts after 18 packets anyway), and
// two interleaved calls alternate every 20 ms.

import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMstcl, encodeMstpong, encodeRptack, hbpKind, HbpKind, readU32, toHex, writeU32 } from '../../src/protocol/index.js';
import { voiceCall } from '../support/harness.js';
import { HbpClient } from '../support/hbp-client.js';
import { REPO_ROOT, runCli, startServer, type ServerHandle } from '../support/server-process.js';

const HOST = '127.0.0.1';
const PASSPHRASE = 'passw0rd'; // test-minimal.toml's
const GAP_MS = 40; // between two packets of one call
const STEP_MS = 20; // between two events when two calls are interleaved
const SETTLE_MS = 150; // quiet time after a scenario before counting what arrived

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Name = 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G';
const NAMES: Name[] = ['A', 'B', 'C', 'D', 'E', 'F', 'G'];

/** The peers, their RPTO options (undefined: no RPTO at all) and what the server should make of them. */
const PEERS: Record<Name, { id: number; options: string | undefined; ts1: number[]; ts2: number[] }> = {
  A: { id: 3100001, options: 'TS2=91;', ts1: [], ts2: [91] },
  B: { id: 3100002, options: 'TS2=91;', ts1: [], ts2: [91] },
  C: { id: 3100003, options: 'TS1=91;TS2=92', ts1: [91], ts2: [92] },
  D: { id: 3100004, options: 'TS2=92;', ts1: [], ts2: [92] },
  E: { id: 3100005, options: undefined, ts1: [], ts2: [] }, // server defaults: none in this config
  F: { id: 3100006, options: 'TS2=91,abc,0;', ts1: [], ts2: [91] }, // malformed tokens are skipped
  G: { id: 3100007, options: 'TS2=91,92', ts1: [], ts2: [91, 92] }, // two TGs on one slot: hang time applies
};

// Radio (source) IDs and stream IDs of the calls.
const SRC_A = 3100101;
const SRC_B = 3100202;
const SRC_D = 3100404;

/** A DMRD as the receiver `to` must get it: its own peer ID in [11:15), the slot bit of its slot. */
function rewritten(pkt: Uint8Array, to: Name, slot: 1 | 2): Uint8Array {
  const out = pkt.slice();
  writeU32(out, 11, PEERS[to].id);
  out[15] = (out[15]! & 0x7f) | (slot === 2 ? 0x80 : 0);
  return out;
}

/** Lossless, readable rendering for diffs: DMRD split at its field boundaries, others as tag + hex. */
function show(b: Uint8Array): string {
  if (b.length === 55 && hbpKind(b) === HbpKind.DMRD) {
    const h = (from: number, to: number): string => toHex(b.subarray(from, to));
    return `DMRD seq=${h(4, 5)} src=${h(5, 8)} dst=${h(8, 11)} peer=${h(11, 15)} flags=${h(15, 16)} stream=${h(16, 20)} payload=${h(20, 53)} ber/rssi=${h(53, 55)} tag=${h(0, 4)}`;
  }
  return `${b.length}B ${toHex(b)}`;
}

describe('dmrhub end to end: real process, real UDP', () => {
  let server: ServerHandle;
  const clients = {} as Record<Name, HbpClient>;
  /** DMRDs each peer must have received so far, in order (built up scenario by scenario). */
  const expectedDmrd = Object.fromEntries(NAMES.map((n) => [n, [] as Uint8Array[]])) as Record<Name, Uint8Array[]>;
  let stopCode: number | null = null;

  beforeAll(async () => {
    server = await startServer({
      record: true,
      config: { timers: { group_hangtime: 1, stream_timeout: 1, collision_window: 0.36 } },
    });
    for (const n of NAMES) {
      clients[n] = new HbpClient(PEERS[n].id, { stepTimeoutMs: 3000 });
      await clients[n].bind();
    }
  }, 30_000);

  afterAll(async () => {
    for (const n of NAMES) await clients[n]?.close();
    if (server) {
      if (stopCode === null) await server.stop(3000);
      if (process.env['DMRHUB_E2E_KEEP'] === undefined) server.cleanup();
      else console.log(`e2e files kept in ${server.dir}`);
    }
  });

  /** Marks of every peer's received list, to look at what one scenario delivered. */
  const marks = (): Record<Name, number> => Object.fromEntries(NAMES.map((n) => [n, clients[n].mark()])) as Record<Name, number>;

  /** Send `steps` one after another, `gapMs` apart. */
  async function play(steps: [Name, Uint8Array][], gapMs: number): Promise<void> {
    for (let i = 0; i < steps.length; i++) {
      if (i > 0) await sleep(gapMs);
      const [who, pkt] = steps[i]!;
      clients[who].send(pkt);
    }
  }

  /** After a scenario: every peer received exactly `want` (peers left out: nothing) since `from`. */
  async function expectDelivered(from: Record<Name, number>, want: Partial<Record<Name, Uint8Array[]>>): Promise<void> {
    for (const n of NAMES) {
      const w = want[n] ?? [];
      if (w.length > 0) await clients[n].waitForCount(from[n] + w.length, 3000).catch(() => undefined);
    }
    await sleep(SETTLE_MS);
    for (const n of NAMES) {
      const got = clients[n].received.slice(from[n]).map((d) => show(d.bytes));
      expect.soft(got, `datagrams received by peer ${n} (${PEERS[n].id})`).toEqual((want[n] ?? []).map(show));
      expectedDmrd[n].push(...(want[n] ?? []));
    }
  }

  it('logs seven peers in with their options (malformed tokens skipped, no options = server defaults)', async () => {
    for (const n of NAMES) {
      const o = PEERS[n].options;
      await clients[n].login(HOST, server.port, { passphrase: PASSPHRASE, ...(o !== undefined ? { options: o } : {}), callsign: `E2E${n}` });
    }
    // What the server made of the options, from its own log.
    for (const n of NAMES) {
      if (PEERS[n].options === undefined) continue;
      const l = await server.waitForLog((x) => x['code'] === 'peer.options' && x['peer'] === PEERS[n].id, 2000, `peer.options for ${n}`);
      expect(l['detail'], `options of peer ${n}`).toBe(`TS1=${PEERS[n].ts1.join(',')} TS2=${PEERS[n].ts2.join(',')}`);
    }
    const rejected = await server.waitForLog((x) => x['code'] === 'options.rejected' && x['peer'] === PEERS.F.id, 2000, 'options.rejected for F');
    expect(String(rejected['detail'])).toContain("'abc'");
    expect(String(rejected['detail'])).toContain("'0'");
    expect(server.logs.filter((x) => x['code'] === 'peer.login').map((x) => x['peer'])).toEqual(NAMES.map((n) => PEERS[n].id));
  });

  it('a. a call from A on TG 91 TS2 reaches B, F, G on TS2 and C on TS1, rewritten; A, D, E get nothing', async () => {
    const call = voiceCall({ peerId: PEERS.A.id, src: SRC_A, tg: 91, slot: 2, streamId: 0xa0000001 });
    expect(call).toHaveLength(8);
    const m = marks();
    await play(
      call.map((p) => ['A', p]),
      GAP_MS,
    );
    await expectDelivered(m, {
      B: call.map((p) => rewritten(p, 'B', 2)),
      C: call.map((p) => rewritten(p, 'C', 1)),
      F: call.map((p) => rewritten(p, 'F', 2)),
      G: call.map((p) => rewritten(p, 'G', 2)),
    });
    // Spot check of the rewrite itself on C's copy: peer field = C, slot bit clear, the rest as sent.
    const c0 = clients.C.received[m.C]!.bytes;
    expect(readU32(c0, 11)).toBe(PEERS.C.id);
    expect(c0[15]! & 0x80).toBe(0);
    expect(toHex(c0.subarray(16))).toBe(toHex(call[0]!.subarray(16)));
    expect(toHex(c0.subarray(0, 11))).toBe(toHex(call[0]!.subarray(0, 11)));
  });

  it('b. collision: B keys up on TG 91 TS2 while A is mid-call; first come, first served', async () => {
    await sleep(200);
    const a = voiceCall({ peerId: PEERS.A.id, src: SRC_A, tg: 91, slot: 2, streamId: 0xa0000002, superframes: 2 }); // 14 packets
    const b = voiceCall({ peerId: PEERS.B.id, src: SRC_B, tg: 91, slot: 2, streamId: 0xb0000002 }); // 8 packets
    expect(a).toHaveLength(14);
    // A0 _ A1 _ A2 B0 A3 B1 A4 B2 … A9 B7(terminator) A10 _ A11 _ A12 _ A13, one event every 20 ms.
    const steps: ([Name, Uint8Array] | null)[] = [];
    for (let i = 0; i < 3; i++) steps.push(['A', a[i]!], null);
    steps.pop();
    for (let k = 0; k < b.length; k++) steps.push(['B', b[k]!], ['A', a[3 + k]!]);
    steps.pop(); // after B's terminator A goes on at its own pace
    for (let i = 3 + b.length - 1; i < a.length; i++) steps.push(['A', a[i]!], null);
    steps.pop();
    const m = marks();
    for (let i = 0; i < steps.length; i++) {
      if (i > 0) await sleep(STEP_MS);
      const s = steps[i];
      if (s) clients[s[0]].send(s[1]);
    }
    // B transmits from just after A2 until its terminator, which comes before A10: while B's own
    // stream is live on TS2, A's packets skip B; afterwards B gets A again. B's stream reaches
    // nobody: A is transmitting on that slot, and C, F, G are busy with A's stream.
    const bMisses = new Set([3, 4, 5, 6, 7, 8, 9]);
    await expectDelivered(m, {
      B: a.filter((_p, i) => !bMisses.has(i)).map((p) => rewritten(p, 'B', 2)),
      C: a.map((p) => rewritten(p, 'C', 1)),
      F: a.map((p) => rewritten(p, 'F', 2)),
      G: a.map((p) => rewritten(p, 'G', 2)),
    });
  });

  it('d. a packet sent twice is delivered once', async () => {
    await sleep(200);
    const call = voiceCall({ peerId: PEERS.A.id, src: SRC_A, tg: 91, slot: 2, streamId: 0xa0000004 });
    const m = marks();
    const withDup = [...call.slice(0, 4), call[3]!, ...call.slice(4)];
    await play(
      withDup.map((p) => ['A', p]),
      GAP_MS / 2,
    );
    await expectDelivered(m, {
      B: call.map((p) => rewritten(p, 'B', 2)),
      C: call.map((p) => rewritten(p, 'C', 1)),
      F: call.map((p) => rewritten(p, 'F', 2)),
      G: call.map((p) => rewritten(p, 'G', 2)),
    });
  });

  it('c. a call without terminator times out; then a new call on TG 91 from B is delivered; the hang time holds TG 92 off G', async () => {
    await sleep(200);
    // c1: A's call loses its terminator.
    const lost = voiceCall({ peerId: PEERS.A.id, src: SRC_A, tg: 91, slot: 2, streamId: 0xa0000003 }).slice(0, -1);
    let m = marks();
    await play(
      lost.map((p) => ['A', p]),
      GAP_MS,
    );
    await expectDelivered(m, {
      B: lost.map((p) => rewritten(p, 'B', 2)),
      C: lost.map((p) => rewritten(p, 'C', 1)),
      F: lost.map((p) => rewritten(p, 'F', 2)),
      G: lost.map((p) => rewritten(p, 'G', 2)),
    });
    // The server ends it after stream_timeout (1 s) without a packet.
    const ended = await server.waitForLog((l) => l['code'] === 'call.end' && l['stream'] === 0xa0000003, 4000, 'call.end of the call without terminator');
    expect(ended['reason']).toBe('timeout');

    // c2: B calls TG 91 (same TG: no hang time); A, C, F, G all get it.
    const b3 = voiceCall({ peerId: PEERS.B.id, src: SRC_B, tg: 91, slot: 2, streamId: 0xb0000003 });
    m = marks();
    await play(
      b3.map((p) => ['B', p]),
      GAP_MS,
    );
    await expectDelivered(m, {
      A: b3.map((p) => rewritten(p, 'A', 2)),
      C: b3.map((p) => rewritten(p, 'C', 1)),
      F: b3.map((p) => rewritten(p, 'F', 2)),
      G: b3.map((p) => rewritten(p, 'G', 2)),
    });

    // c3: D calls TG 92 right away. C's TS2 has carried nothing else: it gets the call. G's TS2
    // carried TG 91 less than the hang time (1 s) ago: every packet of this short call skips G.
    const d1 = voiceCall({ peerId: PEERS.D.id, src: SRC_D, tg: 92, slot: 2, streamId: 0xd0000001 });
    m = marks();
    await play(
      d1.map((p) => ['D', p]),
      GAP_MS,
    );
    await expectDelivered(m, { C: d1.map((p) => rewritten(p, 'C', 2)) });

    // c4: once the hang time has passed, TG 92 reaches G too.
    await sleep(1300);
    const d2 = voiceCall({ peerId: PEERS.D.id, src: SRC_D, tg: 92, slot: 2, streamId: 0xd0000002 });
    m = marks();
    await play(
      d2.map((p) => ['D', p]),
      GAP_MS,
    );
    await expectDelivered(m, {
      C: d2.map((p) => rewritten(p, 'C', 2)),
      G: d2.map((p) => rewritten(p, 'G', 2)),
    });
  });

  it('answers pings; a peer that logs out (RPTCL) gets no reply', async () => {
    for (const n of NAMES) await clients[n].ping(3000);
    const before = clients.E.mark();
    clients.E.logout();
    await server.waitForLog((l) => l['code'] === 'peer.logout' && l['peer'] === PEERS.E.id, 2000, 'peer.logout of E');
    await sleep(100);
    expect(clients.E.received.length).toBe(before);
  });

  it('SIGTERM: every peer still logged in gets MSTCL with its ID; exit code 0', async () => {
    const m = marks();
    stopCode = await server.stop(5000);
    expect(stopCode, `exit code; stderr: ${server.stderr()}`).toBe(0);
    for (const n of NAMES) {
      if (n === 'E') continue;
      await clients[n].waitFor((d) => hbpKind(d.bytes) === HbpKind.MSTCL, 2000, m[n], 'MSTCL').catch(() => undefined);
    }
    await sleep(50);
    for (const n of NAMES) {
      const got = clients[n].received.slice(m[n]).map((d) => show(d.bytes));
      expect.soft(got, `after SIGTERM, peer ${n}`).toEqual(n === 'E' ? [] : [show(encodeMstcl(PEERS[n].id))]);
    }
  });

  it('each peer received exactly: login replies, its DMRDs, MSTPONG, MSTCL — nothing else', () => {
    for (const n of NAMES) {
      const id = PEERS[n].id;
      const got = clients[n].received.map((d) => d.bytes);
      const salt = got[0];
      expect(salt && salt.length === 10 && hbpKind(salt) === HbpKind.RPTACK, `peer ${n}: first reply is RPTACK + salt`).toBe(true);
      const acks = PEERS[n].options === undefined ? 2 : 3;
      const want = [
        salt!,
        ...Array.from({ length: acks }, () => encodeRptack(id)),
        ...expectedDmrd[n],
        encodeMstpong(id),
        ...(n === 'E' ? [] : [encodeMstcl(id)]),
      ];
      expect.soft(got.map(show), `everything peer ${n} received`).toEqual(want.map(show));
    }
  });

  it('replay of the event log sends, per destination, exactly what each peer received; the digest is stable', async () => {
    expect(stopCode).toBe(0);
    const log = server.recordPath!;
    const eventLines = readFileSync(log, 'utf8').split('\n').filter((l) => l.trim() !== '').length - 1; // minus the header
    // The config (for the passphrase) is found through the log's header.
    const r = await runCli(['replay', log, '--sends']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const byPort = new Map<number, string[]>();
    const sendRe = /^@(\d+) send (\d+) ([0-9a-fA-F.:]+):(\d+) ([0-9a-f]+)$/;
    const tail: string[] = [];
    for (const line of lines) {
      const s = sendRe.exec(line);
      if (!s) {
        tail.push(line);
        continue;
      }
      expect(s[3]).toBe(HOST);
      const port = Number(s[4]);
      if (!byPort.has(port)) byPort.set(port, []);
      byPort.get(port)!.push(s[5]!);
    }
    expect(tail[0]).toBe(`events ${eventLines}`);
    expect(tail[1]).toMatch(/^actions \d+$/);
    expect(tail[2]).toMatch(/^digest [0-9a-f]{64}$/);
    expect(tail).toHaveLength(3);
    // The peers are the only destinations, and each got exactly the replayed sends, in order.
    expect([...byPort.keys()].sort((x, y) => x - y)).toEqual(NAMES.map((n) => clients[n].localPort).sort((x, y) => x - y));
    for (const n of NAMES) {
      const replayed = (byPort.get(clients[n].localPort) ?? []).map((h) => show(Buffer.from(h, 'hex')));
      expect.soft(replayed, `replayed sends to peer ${n}`).toEqual(clients[n].received.map((d) => show(d.bytes)));
    }
    // The same log replays to the same digest, every time and with or without --sends.
    const d1 = await runCli(['replay', log, '--digest-only', '--config', server.configPath]);
    const d2 = await runCli(['replay', log, '--digest-only']);
    expect(d1.code, d1.stderr).toBe(0);
    expect(d2.code, d2.stderr).toBe(0);
    const digestOf = (out: string): string | undefined => /^digest ([0-9a-f]{64})$/m.exec(out)?.[1];
    expect(digestOf(d1.stdout)).toBeDefined();
    expect(digestOf(d1.stdout)).toBe(digestOf(d2.stdout));
    expect(digestOf(d1.stdout)).toBe(tail[2]!.slice('digest '.length));
  });
});

describe('the example config', () => {
  // The example file as shipped, copied into a temporary directory with only its HBP port changed
  // to one that was free a moment ago: the test needs no fixed port, and the paths the file names
  // (data/, recordings/) land in that directory, not in config/.
  it('starts as shipped (on a free port instead of 62031), takes a login and a ping, and stops with MSTCL and exit code 0', async () => {
    const example = readFileSync(join(REPO_ROOT, 'config', 'dmrhub.example.toml'), 'utf8');
    const portLine = /^port = 62031$/m;
    expect(example, 'the example config listens on 62031, the usual HomeBrew port').toMatch(portLine);
    const dir = mkdtempSync(join(tmpdir(), 'dmrhub-e2e-example-'));
    const client = new HbpClient(3109999, { stepTimeoutMs: 3000 });
    let server: ServerHandle | null = null;
    try {
      // Another process may take the port between the probe and the start: then try another.
      let port = 0;
      for (let attempt = 1; server === null; attempt++) {
        port = await freeUdpPort();
        const file = join(dir, 'dmrhub.example.toml');
        writeFileSync(file, example.replace(portLine, `port = ${port}`));
        try {
          server = await startServer({ configFile: file });
        } catch (err) {
          if (attempt >= 3 || !/already in use/.test(String(err))) throw err;
        }
      }
      expect(server.port).toBe(port);
      await client.bind();
      await client.login(HOST, server.port, { passphrase: 'passw0rd', options: 'TS2=91;' });
      await client.ping();
      const from = client.mark();
      expect(await server.stop(5000), server.stderr()).toBe(0);
      const cl = await client.waitFor((d) => hbpKind(d.bytes) === HbpKind.MSTCL, 2000, from, 'MSTCL');
      expect(show(cl.bytes)).toBe(show(encodeMstcl(3109999)));
    } finally {
      await client.close();
      if (server !== null) {
        await server.stop(3000);
        server.cleanup();
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A UDP port on 127.0.0.1 that was free a moment ago (bound by the OS, then released). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = dgram.createSocket('udp4');
    probe.once('error', reject);
    probe.bind(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

describe('a port that cannot be opened', () => {
  it('stops the start with exit code 1 and a line naming the port and why, not a crash', async () => {
    const taken = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve) => taken.bind(0, HOST, () => resolve(taken.address().port)));
    try {
      const started = startServer({ config: { hbp: { port } } });
      await expect(started).rejects.toThrow(/exited \(code 1, .*fatal: not started: HomeBrew peers \(\[hbp\] address and port\): cannot listen on 127\.0\.0\.1:\d+: the port is already in use/);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});

describe('check-config', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dmrhub-e2e-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a bad file with exit code 1 and "file:line: key: message" lines', async () => {
    const file = join(dir, 'bad.toml');
    writeFileSync(file, ['[hbp]', 'prot = 62031', '', '[timers]', 'group_hangtime = "five"', ''].join('\n'));
    const r = await runCli(['check-config', file]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${escape(file)}:2: hbp\\.prot: unknown key in \\[hbp\\]; expected one of .*\\bport\\b`));
    expect(lines[1]).toMatch(new RegExp(`^${escape(file)}:5: timers\\.group_hangtime: expected a number of seconds .*, got "five"$`));
    expect(lines[2]).toBe(`${file}: 2 error(s)`);
    expect(lines).toHaveLength(3);
  });

  it('accepts a good file with exit code 0', async () => {
    const file = join(REPO_ROOT, 'config', 'test-minimal.toml');
    const r = await runCli(['check-config', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`${file}: ok`);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
