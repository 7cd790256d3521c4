// Key-up storm: N peers log in with no talkgroups, then each keys the same talkgroup once (user
// activation) at a random moment within a few seconds, so every key-up fans out to everyone who
// keyed before it. Afterwards one of them (the talker) makes a call. Measured: sessions kept (every
// peer pings at the end and must get MSTPONG), the talker's call at the measured listeners, what
// the server shed (its exit statistics), and its kernel receive drops.
//
//   npm run build && node dist/bench/storm.js [--runs 3] [--peers 2000] [--window-ms 5000]
//
// Each key-up is a short transmission of --call-frames frames (default 14: header, two voice
// superframes of 6 bursts, terminator), sent back to back (--frame-ms 0, the default), as a
// hotspot flushing a buffered transmission does; that is what overloads a server: a key-up ends
// at once, so the next one finds every receiver's slot free and fans out to all who keyed before.
// Key-ups at the DMR rate (--frame-ms 60) overlap for most of a second, the slot contention lets
// each receiver hear one at a time, and the fan-out stays within what one core can send.
// Peers ping every --ping-ms (default 10 s, the server's default interval) from the start, sinks
// included: that is what keeps their sessions. Peers 1..--measured read in JS (they count the
// talker's frames); the others are sinks, as in loadgen.ts: they stop reading after login with a
// minimal receive buffer, so the generator does not read what the server fans out. The talker's
// call (--talker-frames at the DMR rate) starts --settle-ms after the last key-up was sent.
// The server is run-all's benchmark server (startDmrhub: the flags of bench/lib/server-flags.ts,
// log level "info", SQLite off); --extra adds TOML to its config, --server runs another build's
// dist/src/main.js (e.g. an older revision's, for a before-and-after). Prints a table (median and
// min–max over --runs) and writes bench/results/storm-<time>.json.

import type dgram from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeDmrd, encodeRptc, encodeRptk, encodeRptl, encodeRptping, parseMasterReply, type MasterReply } from '../src/protocol/hbp/index.js';
import { loginDigest } from './loadgen.js';
import { exitAnomalies, serverSettings, startDmrhub, type ServerExit } from './run-all.js';
import { isMain, num, sleep } from './lib/cli.js';
import { cpuBetween, sampleProcess, udpDrops, type CpuUse } from './lib/procfs.js';
import { median } from './lib/stats.js';
import { bindSocket, closeSocket, connectSocket, setBuffers, setReading, udpSocket } from './lib/udp.js';
import { prng } from './lib/prng.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FRAME_MS = 60;
const say = (s: string): void => void process.stderr.write(`[storm] ${s}\n`);

export interface StormOptions {
  host?: string;
  port: number;
  peers: number;
  /** Every peer keys once within this window (ms). */
  windowMs?: number;
  /** Frames per key-up: header, bursts, terminator (default 14: 12 bursts, 0.72 s of speech). */
  callFrames?: number;
  /**
   * Time between two frames of a key-up (default 0: back to back, as a hotspot flushing a
   * buffered transmission does; 60 is the DMR rate).
   */
  frameMs?: number;
  /** Frames of the talker's call after the storm (default 50, 3 s, always at the DMR rate). */
  talkerFrames?: number;
  /** Wait between the end of the storm and the talker's call (default 8000 ms). */
  settleMs?: number;
  /** Listeners read in JS (default 20); the others are sinks. */
  measured?: number;
  pingMs?: number;
  tg?: number;
  idBase?: number;
  passphrase?: string;
  seed?: number;
  serverPid?: number;
}

export interface StormResult {
  peers: number;
  loggedIn: number;
  loginMs: number;
  storm: { frames: number; ms: number };
  /** Final ping of every logged-in peer: MSTPONG = session kept. */
  sessions: { pong: number; nak: number; silent: number; closesSeen: number };
  talker: { frames: number; listeners: number; receivedMin: number; receivedMedian: number; complete: number };
  pingsSent: number;
  serverKernelDrops: number | null;
  server: CpuUse | null;
}

interface Peer {
  idx: number;
  id: number;
  sock: dgram.Socket | null;
  loggedIn: boolean;
  sink: boolean;
  waiter: ((r: MasterReply | null) => void) | null;
  talkerFrames: number;
  closes: number;
}

export async function runStorm(o: StormOptions): Promise<StormResult> {
  const host = o.host ?? '127.0.0.1';
  const N = o.peers;
  const windowMs = o.windowMs ?? 5000;
  const callFrames = Math.max(2, o.callFrames ?? 14);
  const talkerFrames = Math.max(2, o.talkerFrames ?? 50);
  const measured = Math.min(N - 1, o.measured ?? 20);
  const pingMs = o.pingMs ?? 10_000;
  const tg = o.tg ?? 2350;
  const idBase = o.idBase ?? 330000000;
  const passphrase = o.passphrase ?? 'passw0rd';
  const rand = prng(o.seed ?? 1);
  const peers: Peer[] = [];
  for (let i = 0; i < N; i++) peers.push({ idx: i, id: idBase + i, sock: null, loggedIn: false, sink: i > measured, waiter: null, talkerFrames: 0, closes: 0 });
  const talker = peers[0]!;
  const talkerStream = 0x7a000000 + (o.seed ?? 1);

  // ---- login ------------------------------------------------------------------------------------
  const ask = (p: Peer, bytes: Uint8Array, ms = 2000): Promise<MasterReply | null> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        if (p.waiter === done) p.waiter = null;
        resolve(null);
      }, ms);
      const done = (r: MasterReply | null): void => {
        clearTimeout(t);
        p.waiter = null;
        resolve(r);
      };
      p.waiter = done;
      p.sock!.send(bytes);
    });
  const onMessage = (p: Peer, b: Buffer): void => {
    if (b.length >= 53 && b[0] === 0x44 && b[1] === 0x4d && b[2] === 0x52 && b[3] === 0x44) {
      if (b.readUInt32BE(16) === talkerStream) p.talkerFrames++;
      return;
    }
    const r = parseMasterReply(b);
    if (!r.ok) return;
    if (r.value.tag === 'MSTCL') p.closes++;
    p.waiter?.(r.value);
  };
  const loginOnce = async (p: Peer): Promise<boolean> => {
    const salt = await ask(p, encodeRptl(p.id));
    if (salt === null || salt.tag !== 'RPTACK') return false;
    const k = await ask(p, encodeRptk(p.id, loginDigest(salt.arg, passphrase)));
    if (k?.tag !== 'RPTACK') return false;
    const c = await ask(p, encodeRptc({ peerId: p.id, callsign: `ST${p.idx.toString(36).toUpperCase()}`, slots: '3', description: 'dmrhub storm', softwareId: 'dmrhub-bench', packageId: 'storm' }));
    return c?.tag === 'RPTACK';
  };
  const t0 = performance.now();
  {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < N) {
        const p = peers[next++]!;
        const s = udpSocket();
        s.on('error', () => {});
        await bindSocket(s, 0, '127.0.0.1');
        setBuffers(s, 4 * 1024 * 1024);
        await connectSocket(s, o.port, host);
        s.on('message', (b: Buffer) => onMessage(p, b));
        p.sock = s;
        for (let a = 0; a < 5 && !p.loggedIn; a++) p.loggedIn = await loginOnce(p);
      }
    };
    await Promise.all(Array.from({ length: Math.min(50, N) }, worker));
  }
  const loginMs = Math.round(performance.now() - t0);
  const live = peers.filter((p) => p.loggedIn);
  say(`login: ${live.length}/${N} in ${loginMs} ms`);
  const sinkPorts = new Set<number>();
  for (const p of live) {
    if (!p.sink) continue;
    if (setReading(p.sock!, false)) {
      try {
        p.sock!.setRecvBufferSize(2048);
      } catch {
        /* keep the larger buffer */
      }
      sinkPorts.add(p.sock!.address().port);
    } else p.sink = false;
  }

  // ---- pings: every peer, sinks too, spread over the interval --------------------------------------
  let pingsSent = 0;
  const pingTimers: NodeJS.Timeout[] = [];
  if (pingMs > 0) {
    for (const p of live) {
      const first = setTimeout(() => {
        const ping = (): void => {
          p.sock!.send(encodeRptping(p.id));
          pingsSent++;
        };
        ping();
        pingTimers.push(setInterval(ping, pingMs));
      }, Math.floor(rand() * pingMs));
      pingTimers.push(first);
    }
  }

  // ---- the storm: each peer keys the talkgroup once within the window -------------------------------
  const cpu0 = o.serverPid ? sampleProcess(o.serverPid) : null;
  const serverPorts = new Set([o.port]);
  const drops0 = udpDrops(serverPorts);
  let stormFrames = 0;
  const stormFrameMs = o.frameMs ?? 0;
  const keyUp = (p: Peer, streamId: number, frames: number, onFrame?: () => void, frameMs = FRAME_MS): Promise<void> =>
    new Promise((resolve) => {
      const b = Buffer.from(encodeDmrd({ seq: 0, src: 3100000 + p.idx, dst: tg, peerId: p.id, slot: 2, frame: 0x21, streamId }));
      let n = 0;
      let t: NodeJS.Timeout | undefined;
      const step = (): void => {
        b[4] = n & 0xff;
        b[15] = 0x80 | (n === 0 ? 0x21 : n === frames - 1 ? 0x22 : (n - 1) % 6 === 0 ? 0x10 : (n - 1) % 6);
        p.sock!.send(b);
        onFrame?.();
        if (++n >= frames) {
          if (t !== undefined) clearInterval(t);
          resolve();
        }
      };
      if (frameMs === 0) {
        while (n < frames) step();
        return;
      }
      t = setInterval(step, frameMs);
      step();
    });
  const stormT0 = performance.now();
  await Promise.all(
    live.map(
      (p) =>
        new Promise<void>((resolve) => {
          setTimeout(() => void keyUp(p, 0x10000000 + p.idx, callFrames, () => stormFrames++, stormFrameMs).then(resolve), Math.floor(rand() * windowMs));
        }),
    ),
  );
  const stormMs = Math.round(performance.now() - stormT0);
  say(`storm: ${stormFrames} frames from ${live.length} peers in ${stormMs} ms; settling ${o.settleMs ?? 8000} ms`);
  await sleep(o.settleMs ?? 8000);

  // ---- the talker's call ------------------------------------------------------------------------------
  if (talker.loggedIn) await keyUp(talker, talkerStream, talkerFrames);
  await sleep(2000);
  const cpu1 = o.serverPid ? sampleProcess(o.serverPid) : null;
  const drops1 = udpDrops(serverPorts);
  const listeners = live.filter((p) => !p.sink && p !== talker);
  const got = listeners.map((p) => p.talkerFrames);
  say(`talker: ${talkerFrames} frames; listeners got ${got.join(' ')}`);

  // ---- sessions: every peer pings once more and must get MSTPONG -----------------------------------
  for (const t of pingTimers) clearTimeout(t);
  for (const p of live) if (p.sink) setReading(p.sock!, true);
  await sleep(500);
  const answers = await Promise.all(live.map((p) => ask(p, encodeRptping(p.id), 3000)));
  const sessions = {
    pong: answers.filter((r) => r?.tag === 'MSTPONG').length,
    nak: answers.filter((r) => r?.tag === 'MSTNAK').length,
    silent: answers.filter((r) => r === null).length,
    closesSeen: live.reduce((n, p) => n + p.closes, 0),
  };
  say(`sessions: ${sessions.pong} pong, ${sessions.nak} nak, ${sessions.silent} silent of ${live.length}`);
  await Promise.all(peers.map((p) => (p.sock ? closeSocket(p.sock) : Promise.resolve())));
  return {
    peers: N,
    loggedIn: live.length,
    loginMs,
    storm: { frames: stormFrames, ms: stormMs },
    sessions,
    talker: {
      frames: talkerFrames,
      listeners: listeners.length,
      receivedMin: got.length ? Math.min(...got) : 0,
      receivedMedian: median(got),
      complete: got.filter((n) => n >= talkerFrames).length,
    },
    pingsSent,
    serverKernelDrops: drops0 !== null && drops1 !== null ? drops1 - drops0 : null,
    server: cpuBetween(cpu0, cpu1),
  };
}

export interface StormRun {
  result: StormResult;
  /** The server's counters at exit (core and transport), from its `server.exit` log line. */
  stats: Record<string, number>;
  /** Sessions the server closed, by reason, from its log. */
  closed: Record<string, number>;
  exit: ServerExit;
  anomalies: string[];
}

async function oneRun(o: Omit<StormOptions, 'port' | 'serverPid'>): Promise<StormRun> {
  let stats: Record<string, number> = {};
  const closed: Record<string, number> = {};
  const srv = await startDmrhub('default', [], (line) => {
    if (line['code'] === 'server.exit') {
      stats = line['stats'] as Record<string, number>;
    }
    if (line['code'] === 'peer.logout') {
      const why = String(line['reason'] ?? '?');
      closed[why] = (closed[why] ?? 0) + 1;
    }
  });
  let result: StormResult;
  try {
    result = await runStorm({ ...o, port: srv.port, serverPid: srv.pid });
  } catch (err) {
    await srv.stop();
    throw err;
  }
  const exit = await srv.stop();
  const anomalies = exitAnomalies(exit).filter((a) => !a.startsWith('server logged'));
  return { result, stats, closed, exit, anomalies };
}

function spread(xs: number[], digits = 0): string {
  const f = (x: number): string => x.toFixed(digits);
  return `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
}

export function stormTable(runs: StormRun[]): string {
  const r = runs.map((x) => x.result);
  const stat = (k: string): number[] => runs.map((x) => x.stats[k] ?? 0);
  const rows: [string, string][] = [
    ['peers logged in', spread(r.map((x) => x.loggedIn))],
    ['storm frames sent (key-ups)', spread(r.map((x) => x.storm.frames))],
    ['sessions kept (MSTPONG at the end)', spread(r.map((x) => x.sessions.pong))],
    ['sessions lost (MSTNAK or no answer)', spread(r.map((x) => x.sessions.nak + x.sessions.silent))],
    ['talker frames at the median listener', spread(r.map((x) => x.talker.receivedMedian))],
    ['talker frames at the worst listener', spread(r.map((x) => x.talker.receivedMin))],
    ['listeners with the whole call', spread(r.map((x) => x.talker.complete))],
    ['server: fan-out datagrams routing asked for (forward.sends)', spread(stat('forward.sends'))],
    ['server: of these, sent', spread(runs.map((x) => (x.stats['forward.sends'] ?? 0) - (x.stats['shed.backlog'] ?? 0) - (x.stats['shed.turn-budget'] ?? 0) - (x.stats['shed.send-queue'] ?? 0)))],
    ['server: frames not fanned out while behind (forward.shed-behind)', spread(stat('forward.shed-behind'))],
    ['server: voice datagrams shed, backlog', spread(stat('shed.backlog'))],
    ['server: voice datagrams shed, turn budget', spread(stat('shed.turn-budget'))],
    ['server: voice datagrams shed, send queue', spread(stat('shed.send-queue'))],
    ['server: times behind (backlogs)', spread(stat('overload.backlogs'))],
    ['server: longest backlog, ms', spread(stat('overload.longest-backlog-ms'))],
    ['server: keepalive checks deferred', spread(stat('keepalive.deferred'))],
    ['server: kernel receive drops', spread(r.map((x) => x.serverKernelDrops ?? 0))],
    ['server: CPU, % of a core', spread(r.map((x) => x.server?.cpuPct ?? 0), 1)],
  ];
  return ['| median of runs (min–max) | value |', '|---|---:|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      runs: { type: 'string' },
      peers: { type: 'string' },
      'window-ms': { type: 'string' },
      'call-frames': { type: 'string' },
      'talker-frames': { type: 'string' },
      'frame-ms': { type: 'string' },
      'settle-ms': { type: 'string' },
      measured: { type: 'string' },
      'ping-ms': { type: 'string' },
      extra: { type: 'string' },
      server: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (v.help) {
    process.stdout.write('usage: node dist/bench/storm.js [--runs 3] [--peers 2000] [--window-ms 5000] [--call-frames 14] [--frame-ms 0] [--talker-frames 50] [--settle-ms 8000] [--measured 20] [--ping-ms 10000] [--extra TOML] [--server PATH/dist/src/main.js]\n');
    return;
  }
  serverSettings.sql = false;
  if (v.extra) serverSettings.extraConfig = v.extra;
  if (v.server) serverSettings.mainJs = v.server;
  const runs = num(v.runs, 'runs', 3);
  const out: StormRun[] = [];
  for (let i = 0; i < runs; i++) {
    say(`run ${i + 1}/${runs}`);
    const run = await oneRun({
      peers: num(v.peers, 'peers', 2000),
      windowMs: num(v['window-ms'], 'window-ms', 5000),
      callFrames: num(v['call-frames'], 'call-frames', 14),
      talkerFrames: num(v['talker-frames'], 'talker-frames', 50),
      frameMs: num(v['frame-ms'], 'frame-ms', 0),
      settleMs: num(v['settle-ms'], 'settle-ms', 8000),
      measured: num(v.measured, 'measured', 20),
      pingMs: num(v['ping-ms'], 'ping-ms', 10_000),
      seed: i + 1,
    });
    say(`stats: ${JSON.stringify(run.stats)}; closed: ${JSON.stringify(run.closed)}${run.anomalies.length ? `; anomalies: ${run.anomalies.join('; ')}` : ''}`);
    out.push(run);
    await sleep(2000);
  }
  const dir = join(REPO, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `storm-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { cpu: os.cpus()[0]?.model ?? '?', cpus: os.cpus().length, node: process.version, loadAtEnd: os.loadavg() };
  writeFileSync(file, JSON.stringify({ machine, server: serverSettings.mainJs, argv: process.argv.slice(2), runs: out }, null, 2) + '\n');
  process.stdout.write(stormTable(out) + '\n');
  if (out.some((r) => r.anomalies.length > 0)) say(`anomalies: ${out.flatMap((r) => r.anomalies).join('; ')}`);
  say(`raw results in ${file}`);
}

if (isMain(import.meta.url)) void main();
