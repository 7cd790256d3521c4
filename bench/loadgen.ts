// Loopback load generator for HBP masters (dmrhub, or the bare forwarder baseline).
//
// It logs in N peers over real UDP, one socket per peer (the master pins every session to its
// source ip:port), then drives K group-voice streams and measures what comes back to the other
// peers: deliveries, loss, duplicates and latency. Sender and receivers live in this process, so
// they share performance.now().
//
// Peer layout: peers 0..K-1 are the talkers (stream k is sent by peer k to TG tgBase+k, or tgs[k]);
// the remaining peers are listeners, subscribed through their RPTO options (default `TS2=<tg>;`),
// either `listenersPerTg` per stream (extra peers idle on an unused TG) or spread round-robin.
// Several masters (servers joined by links, bench/chain.ts): `portOf` puts each peer on its own
// master, and `groupOf` reports delivery and latency per group of listeners (`byGroup`).
//
// Per-packet measurement data sits in the first 14 bytes of the 33-byte payload:
//   [0:4)   ordinal of the packet within its stream (u32, big-endian, never reset across calls)
//   [4:12)  performance.now() at send (float64, little-endian)
//   [12:14) 16-bit check of the ordinal and a per-run tag
// These bytes survive a master's embedded-LC rewrite of bursts B–E (payload bits [116:148), spec
// §2.6). A rewritten voice header or terminator (bits [0:98) replaced) fails the check; such packets
// are still counted as delivered (by stream ID) but carry no latency and are not checked for
// duplicates ("unverified").
//
// Modes:
//   paced  one frame per 60 ms per stream, like a radio: header, superframes A–F, terminator; a
//          stream is a sequence of calls (callSeconds long, callGapMs apart), each with a fresh
//          stream ID and source ID. Stream start times are spread evenly across the 60 ms period.
//   flat   as fast as possible, one call per stream for the whole run, bounded by `seconds` and/or
//          `packets`, with at most `window` packets in flight per stream (in flight = sent but not
//          yet seen by any listener; a window that makes no progress for stallMs is written off).
//
// Sinks: receiving costs Node about as much CPU as sending, so with fan-out F the generator reads F
// datagrams per datagram it sends and becomes the bottleneck before the master does. With
// `measuredPerTg` set, only that many listeners per stream are read in JS; the others ("sinks")
// stay bound and logged in but stop reading after login, with a minimal receive buffer, and the
// kernel's per-socket drop counter (/proc/net/udp) counts what the master sent them. Their queued
// leftovers are read after the traffic, so sink arrivals = kernel drops + leftovers, exactly.
// Sinks give no latency and no duplicate detection, and are not pinged during traffic (keep such
// runs shorter than the master's keepalive timeout).

import type dgram from 'node:dgram';
import { createHash, randomInt } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { parseArgs } from 'node:util';
import {
  encodeDmrd,
  encodeRptc,
  encodeRptcl,
  encodeRptk,
  encodeRptl,
  encodeRpto,
  encodeRptping,
  parseMasterReply,
  type MasterReply,
} from '../src/protocol/hbp/index.js';
import { isMain, num, sleep, str } from './lib/cli.js';
import { cpuBetween, sampleProcess, udpDrops, udpDropsByPort, type CpuUse } from './lib/procfs.js';
import { LatencyHistogram, round3, type LatencySummary } from './lib/stats.js';
import { bindSocket, closeSocket, connectSocket, setBuffers, setReading, udpSocket } from './lib/udp.js';

export type LoadMode = 'paced' | 'flat';

export interface LoadOptions {
  /** Master address (default 127.0.0.1). */
  host?: string;
  port: number;
  /** Peers to log in. */
  peers: number;
  /** Concurrent voice streams (talkers); at most `peers`. */
  streams: number;
  mode?: LoadMode;
  /** Traffic phase length in seconds (default 10). */
  seconds?: number;
  /** Flat mode: stop after this many packets in total (default: no limit, `seconds` decides). */
  packets?: number;
  /** Listeners per stream's TG. Default: every non-talker peer, spread round-robin. */
  listenersPerTg?: number;
  /** Listeners per stream read in JS; the rest are kernel-counted sinks (default: all read). */
  measuredPerTg?: number;
  /** Stream k uses TG tgBase + k (default 31000) unless `tgs` is given. */
  tgBase?: number;
  /** Explicit TG per stream (length ≥ streams, distinct). */
  tgs?: number[];
  /** TG for peers that listen to nothing in use (default 16000000). */
  idleTg?: number;
  /** Timeslot of the traffic and of the default options (default 2). */
  slot?: 1 | 2;
  passphrase?: string;
  /**
   * RPTO options per peer; `{tg}`, `{slot}` and `{id}` are substituted. Default `TS{slot}={tg};`.
   * A function chooses the template per peer (peer index; talkers first, then listeners).
   */
  optionsTemplate?: string | ((index: number) => string);
  /** Peer i gets ID idBase + i (default 310000000). */
  idBase?: number;
  /** Logins in flight at once (default 50). */
  loginConcurrency?: number;
  /** Time to wait for each login reply before starting over (default 2000 ms). */
  loginStepTimeoutMs?: number;
  /** Login attempts per peer (default 5). */
  loginAttempts?: number;
  /** RPTPING period per peer (default 10000 ms; 0 disables). */
  pingIntervalMs?: number;
  /** Paced: length of one call (default 60 s). */
  callSeconds?: number;
  /** Paced: silence between two calls of a stream (default 1000 ms, rounded up to 60 ms slots). */
  callGapMs?: number;
  /** Flat: packets in flight per stream (default 64). */
  window?: number;
  /** Flat: write off a window that made no progress for this long (default 20 ms). */
  stallMs?: number;
  /** Flat: busy-poll while every window is full instead of parking until a listener progresses (default false). */
  spin?: boolean;
  /** After the last send, wait until nothing arrived for this long (default 300 ms, max 3 s). */
  drainMs?: number;
  /** Wait between the last login and the first frame (default 300 ms). */
  settleMs?: number;
  /** SO_RCVBUF/SO_SNDBUF per socket (default 4 MiB). */
  bufferBytes?: number;
  /** Sample this process's CPU and RSS over the traffic phase (the master's PID). */
  serverPid?: number;
  /** Several masters (e.g. servers joined by links): the master port of peer i (default `port` for all). */
  portOf?: (index: number) => number;
  /** Groups listeners (e.g. by the master they are on): per-group delivery and latency in `byGroup`. */
  groupOf?: (index: number) => string | undefined;
  /** More processes to sample like `serverPid`, in `servers` (same order). */
  serverPids?: number[];
  /** Include per-stream rows in the result. */
  detail?: boolean;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface StreamResult {
  stream: number;
  tg: number;
  talker: number;
  listeners: number;
  calls: number;
  sent: number;
  unique: number;
  duplicates: number;
  loss: number;
}

export interface LoadResult {
  mode: LoadMode;
  target: string;
  peers: number;
  streams: number;
  login: {
    ok: number;
    failed: number;
    ms: number;
    /** Login attempts beyond the first, over all peers. */
    retries: number;
    naks: number;
  };
  traffic: {
    /** From the first frame to the last. */
    ms: number;
    sent: number;
    sentPerSec: number;
    calls: number;
    /** Paced: worst lateness of a frame behind its 60 ms slot. */
    maxLagMs: number;
    /** Flat: windows written off after stallMs without progress. */
    stalls: number;
  };
  delivery: {
    /** Σ over streams of packets sent × logged-in listeners of its TG. */
    expected: number;
    /** Every DMRD datagram received by any peer. */
    received: number;
    /** Distinct deliveries to the intended listeners (unverified ones included). */
    unique: number;
    lost: number;
    loss: number;
    duplicates: number;
    /** Arrived after a later packet of the same stream at the same listener. */
    reordered: number;
    /** Payload check failed (e.g. LC rewritten): counted by stream ID, no latency, no dup check. */
    unverified: number;
    /** Beyond the 1024-packet duplicate window. */
    tooOld: number;
    /** Peer ID at [11:15) was not the receiving peer's own. */
    wrongPeerId: number;
    /** A listener got a stream of another TG. */
    misrouted: number;
    /** A talker got its own stream back. */
    echoes: number;
    /** Stream ID unknown to this run. */
    foreign: number;
    /** received / traffic seconds (including the drain). */
    receivedPerSec: number;
    /** Listeners per stream that were sinks (summed over streams). */
    sinks: number;
    /** Datagrams that reached sink sockets and were dropped there by the kernel, as intended; the
     *  sinks' leftovers were read in JS and are in `received`. Both are in `unique`. */
    sinkDropped: number;
  };
  latencyMs: LatencySummary;
  /** DMRD datagrams received in each second since the first frame (sinks' drops included, sampled each second). */
  timeline: number[];
  /** Unintended kernel receive-buffer drops during traffic at peers read in JS, and at the master's port (null without /proc). */
  kernelDrops: { peers: number | null; server: number | null };
  pings: { sent: number; pongs: number };
  /** Control replies during traffic that indicate trouble. */
  duringRun: { naks: number; closes: number };
  errors: { send: number };
  generator: { cpuPct: number; rssMb: number };
  server: CpuUse | null;
  /** With `serverPids`: each one's CPU and RSS over the traffic phase. */
  servers?: (CpuUse | null)[];
  /** With `groupOf`: the listeners of each group. */
  byGroup?: Record<string, GroupResult>;
  perStream?: StreamResult[];
}

export interface GroupResult {
  /** Logged-in listeners in the group. */
  listeners: number;
  expected: number;
  unique: number;
  lost: number;
  loss: number;
  duplicates: number;
  reordered: number;
  latencyMs: LatencySummary;
  /** Kernel receive-buffer drops at the group's listener sockets read in JS (null without /proc). */
  kernelDrops: number | null;
}

const FRAME_MS = 60;
const DUP_WINDOW = 1024; // bits per listener, must be 32 × a power of two
const DUP_WORDS = DUP_WINDOW / 32;

interface Peer {
  idx: number;
  id: number;
  tg: number;
  options: string;
  sock: dgram.Socket | null;
  /** Master port (`portOf`). */
  port: number;
  /** Local port of `sock` (kept after it is closed). */
  sockPort: number;
  /** `groupOf` label and that group's latency histogram. */
  group: string | undefined;
  hist: LatencyHistogram | null;
  loggedIn: boolean;
  /** The stream this peer should receive (listeners only). */
  listensTo: Stream | null;
  /** Not read during traffic; arrivals counted by the kernel. */
  sink: boolean;
  sinkDrops: number;
  /** Pending login step. */
  waiter: ((r: MasterReply | null) => void) | null;
  // Receive bookkeeping for `listensTo`.
  unique: number;
  dups: number;
  reordered: number;
  tooOld: number;
  maxOrd: number;
  win: Uint32Array | null;
}

interface Stream {
  k: number;
  tg: number;
  talker: Peer;
  listeners: number;
  /** Logged-in listeners read in JS (they drive the flat-mode window). */
  measured: number;
  buf: Buffer;
  streamId: number;
  seq: number;
  /** Next frame index within the call: 0 header, 1..voiceFrames bursts, then terminator. */
  frame: number;
  inCall: boolean;
  done: boolean;
  /** Paced: no new call before this time. */
  gapUntil: number;
  calls: number;
  /** Next ordinal (= packets sent so far). */
  ord: number;
  nextDue: number;
  // Flat-mode window.
  maxSeen: number;
  ackBase: number;
  lastProgress: number;
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}

/** RPTK digest: SHA-256 over the 4 salt bytes (big-endian) followed by the passphrase bytes. */
export function loginDigest(salt: number, passphrase: string): Uint8Array {
  const b = Buffer.alloc(4 + Buffer.byteLength(passphrase, 'latin1'));
  b.writeUInt32BE(salt >>> 0, 0);
  b.write(passphrase, 4, 'latin1');
  return sha256(b);
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const log = o.log ?? ((): void => {});
  const host = (await dnsLookup(o.host ?? '127.0.0.1', 4)).address;
  const port = o.port;
  const mode = o.mode ?? 'paced';
  const N = o.peers;
  const K = o.streams;
  const slot = o.slot ?? 2;
  const seconds = o.seconds ?? 10;
  const maxPackets = o.packets ?? Infinity;
  const passphrase = o.passphrase ?? 'passw0rd';
  const template = o.optionsTemplate ?? 'TS{slot}={tg};';
  const idBase = o.idBase ?? 310000000;
  const tgBase = o.tgBase ?? 31000;
  const idleTg = o.idleTg ?? 16000000;
  const bufferBytes = o.bufferBytes ?? 4 * 1024 * 1024;
  const stepTimeout = o.loginStepTimeoutMs ?? 2000;
  const attempts = o.loginAttempts ?? 5;
  const concurrency = Math.max(1, o.loginConcurrency ?? 50);
  const pingEvery = o.pingIntervalMs ?? 10000;
  const window = Math.max(1, o.window ?? 64);
  const stallMs = o.stallMs ?? 20;
  const spin = o.spin ?? false;
  const drainMs = o.drainMs ?? 300;
  const settleMs = o.settleMs ?? 300;
  const voiceFrames = Math.max(6, Math.round(((o.callSeconds ?? 60) * 1000) / FRAME_MS));
  const callLimit = mode === 'flat' ? Infinity : voiceFrames; // flat: one call per stream
  const gapMs = Math.ceil((o.callGapMs ?? 1000) / FRAME_MS) * FRAME_MS;

  if (!Number.isInteger(N) || N < 1) throw new Error('peers must be a positive integer');
  if (!Number.isInteger(K) || K < 0 || K > N) throw new Error('streams must be an integer in 0..peers');
  if (o.tgs && o.tgs.length < K) throw new Error(`tgs lists ${o.tgs.length} TGs for ${K} streams`);
  if (o.tgs && new Set(o.tgs.slice(0, K)).size !== K) throw new Error('tgs must be distinct');
  const tgOf = (k: number): number => (o.tgs ? o.tgs[k]! : tgBase + k);

  // ---- layout ----------------------------------------------------------------------------------
  const peers: Peer[] = [];
  for (let i = 0; i < N; i++) {
    peers.push({
      idx: i, id: idBase + i, tg: idleTg, options: '', sock: null, port: o.portOf ? o.portOf(i) : port, sockPort: 0, group: undefined, hist: null, loggedIn: false, listensTo: null, sink: false, sinkDrops: 0,
      waiter: null, unique: 0, dups: 0, reordered: 0, tooOld: 0, maxOrd: -1, win: null,
    });
  }
  const runTag = randomInt(0, 0x10000);
  const check = (ord: number): number => ((Math.imul(ord, 0x9e3779b1) >>> 16) ^ runTag) & 0xffff;
  const streams: Stream[] = [];
  const usedIds = new Set<number>();
  const newStreamId = (): number => {
    for (;;) {
      const id = randomInt(1, 0xffffffff);
      if (!usedIds.has(id)) {
        usedIds.add(id);
        return id;
      }
    }
  };
  for (let k = 0; k < K; k++) {
    const talker = peers[k]!;
    talker.tg = tgOf(k);
    streams.push({
      k, tg: talker.tg, talker, listeners: 0, measured: 0, buf: Buffer.alloc(55), streamId: 0, seq: 0, frame: 0,
      inCall: false, done: false, gapUntil: 0, calls: 0, ord: 0, nextDue: 0, maxSeen: -1, ackBase: 0, lastProgress: 0,
    });
  }
  const pool = N - K;
  const L = o.listenersPerTg;
  if (L !== undefined && K > 0 && K * L > pool) {
    throw new Error(`${K} streams × ${L} listeners need ${K * L} listener peers; only ${pool} (peers − streams)`);
  }
  const measuredPerTg = o.measuredPerTg ?? Infinity;
  const assigned = new Uint32Array(K);
  for (let j = 0; j < pool; j++) {
    const p = peers[K + j]!;
    let s: Stream | undefined;
    if (K > 0) s = L === undefined ? streams[j % K] : j < K * L ? streams[Math.floor(j / L)] : undefined;
    if (s) {
      p.tg = s.tg;
      p.listensTo = s;
      p.win = new Uint32Array(DUP_WORDS);
      p.sink = assigned[s.k]!++ >= measuredPerTg;
    }
  }
  const groupHists = new Map<string, LatencyHistogram>();
  if (o.groupOf) {
    for (const p of peers) {
      if (!p.listensTo) continue;
      p.group = o.groupOf(p.idx);
      if (p.group === undefined) continue;
      let h = groupHists.get(p.group);
      if (!h) groupHists.set(p.group, (h = new LatencyHistogram()));
      p.hist = h;
    }
  }
  for (const p of peers) {
    const t = typeof template === 'function' ? template(p.idx) : template;
    p.options = t.replaceAll('{tg}', String(p.tg)).replaceAll('{slot}', String(slot)).replaceAll('{id}', String(p.id));
  }

  // ---- receive path ----------------------------------------------------------------------------
  const streamById = new Map<number, Stream>();
  const hist = new LatencyHistogram();
  const rx = {
    received: 0, wrongPeerId: 0, misrouted: 0, echoes: 0, foreign: 0, unverified: 0,
    pongs: 0, naks: 0, closes: 0,
  };
  let trafficStart = Infinity;
  /** Flat mode: set while the pump is parked on full windows. */
  let onProgress: (() => void) | null = null;
  const halfWindow = Math.max(1, window >> 1);
  let lastRx = 0;
  const timeline = new Uint32Array(Math.ceil(seconds) + 10);
  let inTraffic = false;

  function onDmrd(r: Peer, b: Buffer): void {
    const now = performance.now();
    lastRx = now;
    rx.received++;
    const sec = ((now - trafficStart) / 1000) | 0;
    if (sec >= 0 && sec < timeline.length) timeline[sec]!++;
    if (b.length < 34) return;
    if (b.readUInt32BE(11) !== r.id) rx.wrongPeerId++;
    const s = streamById.get(b.readUInt32BE(16));
    if (s === undefined) {
      rx.foreign++;
      return;
    }
    if (s.talker === r) {
      rx.echoes++;
      return;
    }
    const mine = r.listensTo === s;
    if (!mine) rx.misrouted++;
    const ord = b.readUInt32BE(20);
    if (b.readUInt16BE(32) !== check(ord)) {
      rx.unverified++;
      if (mine) r.unique++;
      return;
    }
    if (r.sink) {
      // A sink's leftovers were queued early in the run: no latency, no window progress.
      if (mine) countUnique(r, ord);
      return;
    }
    const ms = now - b.readDoubleLE(24);
    hist.add(ms);
    if (mine && r.hist !== null) r.hist.add(ms);
    if (ord > s.maxSeen) {
      s.maxSeen = ord;
      s.lastProgress = now;
      if (onProgress !== null && s.ord - ord <= halfWindow) onProgress();
    }
    if (!mine) return;
    countUnique(r, ord);
  }

  /** Duplicate window per listener: DUP_WINDOW bits indexed by ordinal. */
  function countUnique(r: Peer, ord: number): void {
    const win = r.win!;
    if (ord > r.maxOrd) {
      // Slide the window forward, clearing the slots of the skipped ordinals.
      const d = ord - r.maxOrd;
      if (d >= DUP_WINDOW) win.fill(0);
      else for (let x = r.maxOrd + 1; x < ord; x++) win[(x >>> 5) & (DUP_WORDS - 1)]! &= ~(1 << (x & 31));
      win[(ord >>> 5) & (DUP_WORDS - 1)]! |= 1 << (ord & 31);
      r.maxOrd = ord;
      r.unique++;
    } else if (r.maxOrd - ord >= DUP_WINDOW) {
      r.tooOld++;
      r.unique++;
    } else {
      const w = (ord >>> 5) & (DUP_WORDS - 1);
      const bit = 1 << (ord & 31);
      if ((win[w]! & bit) !== 0) r.dups++;
      else {
        win[w]! |= bit;
        r.reordered++;
        r.unique++;
      }
    }
  }

  function onControl(p: Peer, b: Buffer): void {
    const parsed = parseMasterReply(b);
    if (!parsed.ok) return;
    const rep = parsed.value;
    if (p.waiter) {
      const w = p.waiter;
      p.waiter = null;
      w(rep);
      return;
    }
    if (rep.tag === 'MSTPONG') rx.pongs++;
    else if (rep.tag === 'MSTNAK') {
      if (inTraffic) rx.naks++;
    } else if (rep.tag === 'MSTCL') {
      if (inTraffic) rx.closes++;
    }
  }

  let sendErrors = 0;

  // ---- login -----------------------------------------------------------------------------------
  const loginStats = { ok: 0, failed: 0, retries: 0, naks: 0 };

  async function openSocket(p: Peer): Promise<dgram.Socket> {
    const s = udpSocket();
    s.on('error', () => {
      sendErrors++;
    });
    await bindSocket(s, 0, '127.0.0.1');
    setBuffers(s, bufferBytes);
    p.sockPort = s.address().port;
    await connectSocket(s, p.port, host);
    s.on('message', (b: Buffer) => {
      if (b.length >= 53 && b[0] === 0x44 && b[1] === 0x4d && b[2] === 0x52 && b[3] === 0x44) onDmrd(p, b);
      else onControl(p, b);
    });
    return s;
  }

  function ask(p: Peer, bytes: Uint8Array): Promise<MasterReply | null> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        if (p.waiter === done) p.waiter = null;
        resolve(null);
      }, stepTimeout);
      const done = (r: MasterReply | null): void => {
        clearTimeout(t);
        resolve(r);
      };
      p.waiter = done;
      p.sock!.send(bytes);
    });
  }

  async function loginOnce(p: Peer): Promise<boolean> {
    const ackFor = (r: MasterReply | null): boolean => {
      if (r?.tag === 'MSTNAK') loginStats.naks++;
      return r !== null && r.tag === 'RPTACK' && r.arg === p.id;
    };
    const salt = await ask(p, encodeRptl(p.id));
    if (salt === null || salt.tag !== 'RPTACK') {
      if (salt?.tag === 'MSTNAK') loginStats.naks++;
      return false;
    }
    if (!ackFor(await ask(p, encodeRptk(p.id, loginDigest(salt.arg, passphrase))))) return false;
    const cfg = encodeRptc({
      peerId: p.id,
      callsign: `LG${p.idx.toString(36).toUpperCase()}`,
      rxFreq: '434000000',
      txFreq: '434000000',
      txPower: '01',
      colorCode: '01',
      latitude: '0.000000',
      longitude: '0.0000000',
      height: '000',
      location: 'loopback',
      description: 'dmrhub loadgen',
      slots: '3',
      url: '',
      softwareId: 'dmrhub-bench',
      packageId: 'loadgen',
    });
    if (!ackFor(await ask(p, cfg))) return false;
    if (p.options !== '' && !ackFor(await ask(p, encodeRpto(p.id, p.options)))) return false;
    return true;
  }

  async function login(p: Peer): Promise<void> {
    try {
      p.sock = await openSocket(p);
    } catch {
      loginStats.failed++;
      return;
    }
    for (let a = 0; a < attempts; a++) {
      if (a > 0) {
        loginStats.retries++;
        await sleep(50 * a);
      }
      if (await loginOnce(p)) {
        p.loggedIn = true;
        loginStats.ok++;
        return;
      }
    }
    loginStats.failed++;
  }

  const loginT0 = performance.now();
  {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < N) await login(peers[next++]!);
    };
    const workers: Promise<void>[] = [];
    for (let w = 0; w < Math.min(concurrency, N); w++) workers.push(worker());
    let lastLog = performance.now();
    const progress = setInterval(() => {
      if (performance.now() - lastLog >= 2000) {
        lastLog = performance.now();
        log(`login: ${loginStats.ok} ok, ${loginStats.failed} failed of ${N}`);
      }
    }, 500);
    await Promise.all(workers);
    clearInterval(progress);
  }
  const loginMs = performance.now() - loginT0;
  log(`login: ${loginStats.ok}/${N} in ${Math.round(loginMs)} ms (${loginStats.retries} retries, ${loginStats.naks} NAKs)`);

  // ---- sinks -----------------------------------------------------------------------------------
  const sinkPorts = new Set<number>();
  for (const p of peers) {
    if (!p.sink) continue;
    if (p.loggedIn && p.sock && setReading(p.sock, false)) {
      try {
        p.sock.setRecvBufferSize(2048); // the kernel's minimum: a few datagrams
      } catch {
        /* keep the larger buffer */
      }
      sinkPorts.add(p.sock.address().port);
    } else {
      p.sink = false;
    }
  }
  if (sinkPorts.size > 0) log(`sinks: ${sinkPorts.size} listeners counted by the kernel`);

  // ---- keepalive -------------------------------------------------------------------------------
  let pingsSent = 0;
  let pingTimer: NodeJS.Timeout | null = null;
  if (pingEvery > 0) {
    const tickMs = 100;
    const perTick = (N * tickMs) / pingEvery; // fractional: credit accumulates across ticks
    let credit = 0;
    let ptr = 0;
    pingTimer = setInterval(() => {
      credit += perTick;
      for (; credit >= 1; credit--) {
        const p = peers[ptr]!;
        ptr = (ptr + 1) % N;
        // Sinks are not pinged during traffic: a pong would be counted as a forwarded frame.
        if (p.loggedIn && p.sock && p.waiter === null && !(p.sink && inTraffic)) {
          p.sock.send(encodeRptping(p.id));
          pingsSent++;
        }
      }
    }, tickMs);
    pingTimer.unref();
  }

  // ---- traffic ---------------------------------------------------------------------------------
  const active = streams.filter((s) => s.talker.loggedIn);
  for (const s of active) {
    for (const p of peers) {
      if (p.loggedIn && p.listensTo === s) {
        s.listeners++;
        if (!p.sink) s.measured++;
      }
    }
  }
  if (settleMs > 0) await sleep(settleMs);

  const slotBit = slot === 2 ? 0x80 : 0;
  let srcCounter = 0;
  let sent = 0;
  let stalls = 0;
  let maxLag = 0;

  function startCall(s: Stream): void {
    s.streamId = newStreamId(); // old IDs stay mapped, so late packets of a call still count
    streamById.set(s.streamId, s);
    const tmpl = encodeDmrd({
      seq: 0,
      src: 3100000 + (srcCounter++ % 5000000),
      dst: s.tg,
      peerId: s.talker.id,
      slot,
      frame: 0x21,
      streamId: s.streamId,
    });
    s.buf.set(tmpl);
    s.seq = 0;
    s.frame = 0;
    s.inCall = true;
    s.calls++;
  }

  function send(s: Stream, flags: number): void {
    const b = s.buf;
    b[4] = s.seq;
    s.seq = (s.seq + 1) & 0xff;
    b[15] = slotBit | flags;
    const ord = s.ord++;
    b.writeUInt32BE(ord, 20);
    b.writeDoubleLE(performance.now(), 24);
    b.writeUInt16BE(check(ord), 32);
    s.talker.sock!.send(b);
    sent++;
  }

  /** Send the next frame of the stream's call, starting a call when none is open. */
  function nextFrame(s: Stream, stopping: boolean): void {
    if (!s.inCall) {
      startCall(s);
      send(s, 0x21);
      s.frame = 1;
      return;
    }
    if (stopping || s.frame > callLimit) {
      send(s, 0x22);
      s.inCall = false;
      return;
    }
    const n = (s.frame - 1) % 6;
    send(s, n === 0 ? 0x10 : n);
    s.frame++;
  }

  const cpu0 = process.cpuUsage();
  const srv0 = o.serverPid ? sampleProcess(o.serverPid) : null;
  const more0 = (o.serverPids ?? []).map((pid) => sampleProcess(pid));
  const peerPorts = new Set<number>();
  for (const p of peers) if (p.sock && !p.sink) peerPorts.add(p.sock.address().port);
  const serverPorts = new Set([port, ...peers.map((p) => p.port)]);
  const peerDropsBy0 = o.groupOf ? udpDropsByPort(peerPorts) : null;
  const dropsPeers0 = udpDrops(peerPorts);
  const dropsServer0 = udpDrops(serverPorts);
  const sinkBy0 = sinkPorts.size > 0 ? udpDropsByPort(sinkPorts) : null;
  let sinkDrops0 = 0;
  for (const d of sinkBy0?.values() ?? []) sinkDrops0 += d;
  let sinkSampled = sinkDrops0;
  let sinkTimer: NodeJS.Timeout | null = null;

  trafficStart = performance.now();
  inTraffic = true;
  const endAt = trafficStart + seconds * 1000;
  if (sinkPorts.size > 0) {
    // Fold the sinks' arrivals into the per-second timeline.
    sinkTimer = setInterval(() => {
      const d = udpDrops(sinkPorts) ?? sinkSampled;
      const sec = Math.floor((performance.now() - trafficStart - 1) / 1000);
      if (sec >= 0 && sec < timeline.length) timeline[sec]! += d - sinkSampled;
      sinkSampled = d;
    }, 1000);
  }
  log(`traffic: ${mode}, ${active.length} streams, ${seconds} s`);

  if (active.length > 0 && mode === 'paced') {
    await new Promise<void>((resolve) => {
      const order = active; // phases rise with the index
      const n = order.length;
      for (let i = 0; i < n; i++) order[i]!.nextDue = trafficStart + (i * FRAME_MS) / n;
      let ptr = 0;
      let remaining = n;
      const tick = (): void => {
        const now = performance.now();
        const stopping = now >= endAt;
        for (let guard = 0; guard < 4 * n; guard++) {
          const s = order[ptr]!;
          if (s.nextDue > now) break;
          if (!s.done) {
            const lag = now - s.nextDue;
            if (lag > maxLag) maxLag = lag;
            if (stopping) {
              if (s.inCall) nextFrame(s, true);
              s.done = true;
              remaining--;
            } else if (s.inCall || now >= s.gapUntil) {
              nextFrame(s, false);
              if (!s.inCall) s.gapUntil = s.nextDue + FRAME_MS + gapMs;
            }
          }
          s.nextDue += FRAME_MS;
          ptr = (ptr + 1) % n;
        }
        if (remaining === 0) {
          resolve();
          return;
        }
        setTimeout(tick, Math.max(0, order[ptr]!.nextDue - performance.now()));
      };
      tick();
    });
  } else if (active.length > 0) {
    await new Promise<void>((resolve) => {
      for (const s of active) {
        s.lastProgress = performance.now();
        nextFrame(s, false); // header
      }
      const batch = 32;
      // When every stream's window is full the pump parks instead of spinning: a listener's
      // progress (half a window freed) or the stall timer wakes it.
      let wakeTimer: NodeJS.Timeout | null = null;
      const wake = (): void => {
        onProgress = null;
        if (wakeTimer) clearTimeout(wakeTimer);
        wakeTimer = null;
        setImmediate(pump);
      };
      const pump = (): void => {
        const now = performance.now();
        if (now >= endAt || sent >= maxPackets) {
          for (const s of active) nextFrame(s, true);
          resolve();
          return;
        }
        let blocked = true;
        for (const s of active) {
          if (s.measured > 0) {
            if (s.maxSeen + 1 > s.ackBase) s.ackBase = s.maxSeen + 1;
            let room = window - (s.ord - s.ackBase);
            if (room <= 0) {
              if (now - s.lastProgress < stallMs) continue;
              stalls++;
              s.ackBase = s.ord;
              s.lastProgress = now;
              room = window;
            }
            blocked = false;
            let m = Math.min(room, batch, maxPackets - sent);
            while (m-- > 0) nextFrame(s, false);
          } else {
            blocked = false;
            let m = Math.min(batch, maxPackets - sent);
            while (m-- > 0) nextFrame(s, false);
          }
        }
        if (blocked && !spin) {
          onProgress = wake;
          wakeTimer = setTimeout(wake, Math.max(1, Math.min(stallMs, endAt - now)));
        } else setImmediate(pump);
      };
      setImmediate(pump);
    });
  }
  const lastSend = performance.now();

  // ---- drain -----------------------------------------------------------------------------------
  lastRx = Math.max(lastRx, lastSend);
  while (performance.now() - lastRx < drainMs && performance.now() - lastSend < 3000) await sleep(Math.min(50, drainMs));
  const trafficEnd = performance.now();
  if (sinkTimer) clearInterval(sinkTimer);
  const cpu1 = process.cpuUsage(cpu0);
  const srv1 = o.serverPid ? sampleProcess(o.serverPid) : null;
  const more1 = (o.serverPids ?? []).map((pid) => sampleProcess(pid));
  const peerDropsBy1 = o.groupOf ? udpDropsByPort(peerPorts) : null;
  const dropsPeers1 = udpDrops(peerPorts);
  const dropsServer1 = udpDrops(serverPorts);
  let sinkDropped = 0;
  if (sinkPorts.size > 0) {
    const by1 = udpDropsByPort(sinkPorts);
    for (const p of peers) {
      if (!p.sink || !p.sock) continue;
      const port = p.sock.address().port;
      const d = (by1?.get(port) ?? 0) - (sinkBy0?.get(port) ?? 0);
      p.sinkDrops = d;
      sinkDropped += d;
    }
    const sec = Math.floor((trafficEnd - trafficStart - 1) / 1000);
    if (sec >= 0 && sec < timeline.length) timeline[sec]! += sinkDropped + sinkDrops0 - sinkSampled;
    // Read what is still queued at the sinks.
    for (const p of peers) if (p.sink && p.sock) setReading(p.sock, true);
    await sleep(100);
  }
  inTraffic = false;

  // ---- close -----------------------------------------------------------------------------------
  if (pingTimer) clearInterval(pingTimer);
  for (const p of peers) if (p.sock && p.loggedIn) p.sock.send(encodeRptcl(p.id));
  await sleep(150);
  await Promise.all(peers.map((p) => (p.sock ? closeSocket(p.sock) : Promise.resolve())));

  // ---- results ---------------------------------------------------------------------------------
  const sendMs = lastSend - trafficStart;
  const wallMs = trafficEnd - trafficStart;
  let expected = 0;
  let unique = 0;
  let dups = 0;
  let reordered = 0;
  let tooOld = 0;
  let sinks = 0;
  const perUnique = new Map<Stream, { unique: number; dups: number }>();
  for (const p of peers) {
    if (!p.listensTo || !p.loggedIn) continue;
    if (p.sink) {
      sinks++;
      p.unique += p.sinkDrops; // arrivals the kernel counted for us
    }
    unique += p.unique;
    dups += p.dups;
    reordered += p.reordered;
    tooOld += p.tooOld;
    const u = perUnique.get(p.listensTo) ?? { unique: 0, dups: 0 };
    u.unique += p.unique;
    u.dups += p.dups;
    perUnique.set(p.listensTo, u);
  }
  for (const s of active) expected += s.ord * s.listeners;
  const lost = Math.max(0, expected - unique);
  const calls = active.reduce((a, s) => a + s.calls, 0);
  const tl = Array.from(timeline);
  while (tl.length > 0 && tl[tl.length - 1] === 0) tl.pop();

  const result: LoadResult = {
    mode,
    target: `${host}:${port}`,
    peers: N,
    streams: K,
    login: { ok: loginStats.ok, failed: loginStats.failed, ms: Math.round(loginMs), retries: loginStats.retries, naks: loginStats.naks },
    traffic: {
      ms: Math.round(sendMs),
      sent,
      sentPerSec: Math.round(sent / (sendMs / 1000 || 1)),
      calls,
      maxLagMs: round3(maxLag),
      stalls,
    },
    delivery: {
      expected,
      received: rx.received,
      unique,
      lost,
      loss: expected === 0 ? 0 : Math.round((lost / expected) * 1e6) / 1e6,
      duplicates: dups,
      reordered,
      unverified: rx.unverified,
      tooOld,
      wrongPeerId: rx.wrongPeerId,
      misrouted: rx.misrouted,
      echoes: rx.echoes,
      foreign: rx.foreign,
      receivedPerSec: Math.round(rx.received / (wallMs / 1000 || 1)),
      sinks,
      sinkDropped,
    },
    latencyMs: hist.summary(),
    timeline: tl,
    kernelDrops: {
      peers: dropsPeers0 === null || dropsPeers1 === null ? null : dropsPeers1 - dropsPeers0,
      server: dropsServer0 === null || dropsServer1 === null ? null : dropsServer1 - dropsServer0,
    },
    pings: { sent: pingsSent, pongs: rx.pongs },
    duringRun: { naks: rx.naks, closes: rx.closes },
    errors: { send: sendErrors },
    generator: {
      cpuPct: Math.round(((cpu1.user + cpu1.system) / 1000 / wallMs) * 1000) / 10,
      rssMb: Math.round(process.memoryUsage().rss / 104857.6) / 10,
    },
    server: cpuBetween(srv0, srv1),
  };
  if (o.serverPids) result.servers = more0.map((a, i) => cpuBetween(a, more1[i] ?? null));
  if (o.groupOf) {
    const by: Record<string, GroupResult> = {};
    for (const p of peers) {
      if (!p.listensTo || !p.loggedIn || p.group === undefined) continue;
      const g = (by[p.group] ??= {
        listeners: 0, expected: 0, unique: 0, lost: 0, loss: 0, duplicates: 0, reordered: 0,
        latencyMs: groupHists.get(p.group)!.summary(), kernelDrops: peerDropsBy0 && peerDropsBy1 ? 0 : null,
      });
      g.listeners++;
      g.expected += p.listensTo.ord;
      g.unique += p.unique;
      g.duplicates += p.dups;
      g.reordered += p.reordered;
      if (g.kernelDrops !== null && p.sock && !p.sink) {
        const sp = p.sockPort;
        g.kernelDrops += (peerDropsBy1!.get(sp) ?? 0) - (peerDropsBy0!.get(sp) ?? 0);
      }
    }
    for (const g of Object.values(by)) {
      g.lost = Math.max(0, g.expected - g.unique);
      g.loss = g.expected === 0 ? 0 : Math.round((g.lost / g.expected) * 1e6) / 1e6;
    }
    result.byGroup = by;
  }
  if (o.detail) {
    result.perStream = active.map((s) => {
      const u = perUnique.get(s) ?? { unique: 0, dups: 0 };
      const exp = s.ord * s.listeners;
      return {
        stream: s.k,
        tg: s.tg,
        talker: s.talker.id,
        listeners: s.listeners,
        calls: s.calls,
        sent: s.ord,
        unique: u.unique,
        duplicates: u.dups,
        loss: exp === 0 ? 0 : Math.round((Math.max(0, exp - u.unique) / exp) * 1e6) / 1e6,
      };
    });
  }
  return result;
}

// ---- CLI ---------------------------------------------------------------------------------------

const USAGE = `usage: node dist/bench/loadgen.js --port 62031 [options]
  --host 127.0.0.1          master address
  --port N                  master port (required unless --spawn-bare)
  --peers 200               peers to log in (one UDP socket each)
  --streams 50              concurrent voice streams (talkers)
  --mode paced|flat         paced: 1 frame / 60 ms / stream; flat: as fast as the window allows
  --seconds 10              traffic duration
  --packets N               flat: stop after N packets in total
  --listeners-per-tg N      listeners per stream (default: all other peers, round-robin)
  --measured-per-tg N       listeners per stream read in JS; the rest are kernel-counted sinks
  --tg-base 31000           stream k → TG tg-base + k
  --tgs 91,92,...           explicit TG per stream
  --idle-tg 16000000        TG of peers that listen to no stream
  --slot 2                  timeslot of the traffic
  --passphrase passw0rd
  --options 'TS{slot}={tg};'  RPTO template ({tg} {slot} {id})
  --id-base 310000000       peer i has ID id-base + i
  --login-concurrency 50  --login-timeout-ms 2000  --login-attempts 5
  --ping-interval-ms 10000  (0: no keepalive)
  --call-seconds 60  --call-gap-ms 1000      paced call structure
  --window 64  --stall-ms 20                 flat-mode flow control, per stream
  --drain-ms 300  --settle-ms 300  --buffer-bytes 4194304
  --server-pid PID          sample the master's CPU and RSS during traffic
  --spawn-bare              start the bare forwarder in a child process and target it
  --bare-connected          … in its connected-socket mode
  --detail                  per-stream rows
  --quiet                   no progress on stderr
Prints one JSON object (LoadResult) on stdout.`;

async function cli(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      peers: { type: 'string' },
      streams: { type: 'string' },
      mode: { type: 'string' },
      seconds: { type: 'string' },
      packets: { type: 'string' },
      'listeners-per-tg': { type: 'string' },
      'measured-per-tg': { type: 'string' },
      'tg-base': { type: 'string' },
      tgs: { type: 'string' },
      'idle-tg': { type: 'string' },
      slot: { type: 'string' },
      passphrase: { type: 'string' },
      options: { type: 'string' },
      'id-base': { type: 'string' },
      'login-concurrency': { type: 'string' },
      'login-timeout-ms': { type: 'string' },
      'login-attempts': { type: 'string' },
      'ping-interval-ms': { type: 'string' },
      'call-seconds': { type: 'string' },
      'call-gap-ms': { type: 'string' },
      window: { type: 'string' },
      'stall-ms': { type: 'string' },
      'drain-ms': { type: 'string' },
      'settle-ms': { type: 'string' },
      'buffer-bytes': { type: 'string' },
      'server-pid': { type: 'string' },
      'spawn-bare': { type: 'boolean' },
      'bare-connected': { type: 'boolean' },
      detail: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const mode = str(v.mode, 'paced');
  if (mode !== 'paced' && mode !== 'flat') throw new Error('--mode must be paced or flat');
  const slot = num(v.slot, 'slot', 2);
  if (slot !== 1 && slot !== 2) throw new Error('--slot must be 1 or 2');
  let spawned: { port: number; pid: number; close(): Promise<unknown> } | null = null;
  if (v['spawn-bare']) {
    const { spawnBareForwarder } = await import('./bare-forwarder.js');
    spawned = await spawnBareForwarder({ connected: v['bare-connected'] ?? false });
  }
  const port = spawned ? spawned.port : num(v.port, 'port');
  if (port === undefined) throw new Error('--port is required (or --spawn-bare)');
  const log = v.quiet ? undefined : (line: string): void => void process.stderr.write(`[loadgen] ${line}\n`);
  try {
    const res = await runLoad({
      host: str(v.host, '127.0.0.1'),
      port,
      peers: num(v.peers, 'peers', 200),
      streams: num(v.streams, 'streams', 50),
      mode,
      seconds: num(v.seconds, 'seconds', 10),
      packets: num(v.packets, 'packets'),
      listenersPerTg: num(v['listeners-per-tg'], 'listeners-per-tg'),
      measuredPerTg: num(v['measured-per-tg'], 'measured-per-tg'),
      tgBase: num(v['tg-base'], 'tg-base'),
      tgs: v.tgs ? v.tgs.split(',').map((t) => num(t.trim(), 'tgs', 0)) : undefined,
      idleTg: num(v['idle-tg'], 'idle-tg'),
      slot,
      passphrase: v.passphrase,
      optionsTemplate: v.options,
      idBase: num(v['id-base'], 'id-base'),
      loginConcurrency: num(v['login-concurrency'], 'login-concurrency'),
      loginStepTimeoutMs: num(v['login-timeout-ms'], 'login-timeout-ms'),
      loginAttempts: num(v['login-attempts'], 'login-attempts'),
      pingIntervalMs: num(v['ping-interval-ms'], 'ping-interval-ms'),
      callSeconds: num(v['call-seconds'], 'call-seconds'),
      callGapMs: num(v['call-gap-ms'], 'call-gap-ms'),
      window: num(v.window, 'window'),
      stallMs: num(v['stall-ms'], 'stall-ms'),
      drainMs: num(v['drain-ms'], 'drain-ms'),
      settleMs: num(v['settle-ms'], 'settle-ms'),
      bufferBytes: num(v['buffer-bytes'], 'buffer-bytes'),
      serverPid: spawned ? spawned.pid : num(v['server-pid'], 'server-pid'),
      detail: v.detail ?? false,
      log,
    });
    console.log(JSON.stringify(res, null, 2));
  } finally {
    if (spawned) await spawned.close();
  }
}

if (isMain(import.meta.url)) {
  cli().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
