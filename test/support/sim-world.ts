// Virtual-time test worlds for the routing core.
//
//  - SimRandom: a small seeded generator (sfc32), so simulations never touch Math.random.
//  - Timeline: a queue of things to do at virtual times, ties in insertion order.
//  - Driver: one core, an InvariantChecker around it, optional canonical rendering and event
//    recording; it interleaves a Timeline with the core's own deadlines (a `ticked` at each one).
//  - SimWorld: a seeded simulation of many HBP clients (login, options, keepalive, logout, voice
//    streams at the DMR rate with loss, duplication and reordering) against one core, optionally
//    with one OpenBridge link to a scripted far end (FarEnd) that sends its own calls through the
//    same lossy network and takes what the core sends on the link.

import { DeadlineHeap } from '../../src/core/deadlines.js';
import { createCore, type ActionSink, type Core, type CoreConfig, type CoreEvent, type LinkConfig, type LogEntry, type Target } from '../../src/core/index.js';
import {
  encodeDmrd,
  encodeRptc,
  encodeRptcl,
  encodeRptk,
  encodeRptl,
  encodeRpto,
  encodeRptping,
  OBP,
  obpKey,
  parseMasterReply,
  signObp,
  writeU32,
} from '../../src/protocol/index.js';
import { CanonicalSink } from '../../src/replay/render.js';
import { encodeEvent } from '../../src/replay/format.js';
import { hmacSha1, loginDigest, sha256 } from './crypto.js';
import { InvariantChecker } from './invariants.js';

// ── seeded randomness ────────────────────────────────────────────────────────────────────────

/** sfc32: four 32-bit words of state, integer arithmetic only. */
export class SimRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed | 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
}

// ── a queue of timed actions ─────────────────────────────────────────────────────────────────

/** Timed actions of the simulated world, in time order, ties in insertion order (the core's heap). */
export class Timeline {
  private readonly heap = new DeadlineHeap<() => void>();

  get size(): number {
    return this.heap.size;
  }

  at(at: number, run: () => void): void {
    this.heap.schedule(at, run);
  }

  peek(): number | null {
    return this.heap.peek();
  }

  /** The earliest action, removed from the queue (null when empty). */
  pop(): { at: number; run: () => void } | null {
    const at = this.heap.peek();
    if (at === null) return null;
    const d = this.heap.popDue(at)!;
    return { at: d.at, run: d.job };
  }
}


// ── the driver ───────────────────────────────────────────────────────────────────────────────

export interface Reply {
  address: string;
  port: number;
  bytes: Uint8Array;
}

export interface DriverOptions {
  config: CoreConfig;
  seed?: number;
  /** Keep the canonical rendering of every action (for determinism checks). */
  canonical?: boolean;
  /** Keep every event as an event-log line (encodeEvent, before the core sees it). */
  record?: boolean;
  /** Cross-check the checker's model with core.peers() after control events (default true). */
  crossCheck?: boolean;
}

/** Runs one core under an InvariantChecker, with a virtual clock. */
export class Driver {
  readonly core: Core;
  readonly checker: InvariantChecker;
  readonly canonical: CanonicalSink | null;
  readonly events: string[] | null;
  now = 0;
  /** Called for every non-fan-out send on the HBP socket (control replies, MSTCL). */
  onReply: (r: Reply) => void = () => {};
  /** Called for every send on another socket (an OpenBridge link's). */
  onLinkSend: (socket: number, r: Reply) => void = () => {};
  /** Called for every fan-out target. */
  onDeliver: (t: Target, frame: Uint8Array) => void = () => {};
  /** Called for every log entry. */
  onLog: (e: LogEntry) => void = () => {};
  private readonly sink: ActionSink;
  private replies: Reply[] = [];

  constructor(opts: DriverOptions) {
    this.core = createCore({ sha256 });
    this.checker = new InvariantChecker(opts.crossCheck === false ? {} : { core: this.core });
    this.canonical = opts.canonical ? new CanonicalSink() : null;
    this.events = opts.record ? [] : null;
    const canonical = this.canonical;
    const inner: ActionSink = {
      send: (socket, address, port, bytes) => {
        canonical?.send(socket, address, port, bytes);
        const r = { address, port, bytes: bytes.slice() };
        if (socket !== 0) return this.onLinkSend(socket, r);
        this.replies.push(r);
        this.onReply(r);
      },
      fanOut: (frame, targets, count) => {
        canonical?.fanOut(frame, targets, count);
        for (let i = 0; i < count; i++) this.onDeliver(targets[i]!, frame);
      },
      log: (entry) => {
        canonical?.log(entry);
        this.onLog(entry);
      },
      report: (r) => canonical?.report(r),
    };
    this.sink = this.checker.wrap(inner);
    this.event({ kind: 'started', now: 0, seed: opts.seed ?? 1, config: opts.config });
  }

  event(ev: CoreEvent): void {
    if (this.events) this.events.push(encodeEvent(ev, (c) => c));
    if (this.canonical) this.canonical.now = ev.now;
    this.checker.handle(this.core, ev, this.sink);
  }

  /** A datagram from address:port (on `socket`, 0 = HBP) at the current time; returns the replies sent to that address. */
  datagram(address: string, port: number, bytes: Uint8Array, socket = 0): Reply[] {
    this.replies = [];
    this.event({ kind: 'datagram-received', now: this.now, socket, address, port, bytes: bytes.slice() });
    const out = this.replies.filter((r) => r.address === address && r.port === port);
    this.replies = [];
    return out;
  }

  /** Run the timeline's items and the core's deadlines in time order up to `to` (deadlines first on ties). */
  runUntil(to: number, timeline: Timeline | null = null): void {
    for (;;) {
      const d = this.core.nextDeadline();
      const t = timeline?.peek() ?? null;
      if (d !== null && d <= to && (t === null || d <= t)) {
        this.now = Math.max(this.now, d);
        this.event({ kind: 'ticked', now: this.now });
        continue;
      }
      if (t !== null && t <= to) {
        this.now = Math.max(this.now, t);
        timeline!.pop()!.run();
        continue;
      }
      break;
    }
    this.now = Math.max(this.now, to);
  }

  /** A complete login handshake at the current time; false when any step is refused. */
  login(peerId: number, address: string, port: number, options: string | null, passphrase?: string): boolean {
    const pass = passphrase ?? this.core.cfg.hbp.passphrase;
    const ack = (rs: Reply[]): number | null => {
      const r = rs.length === 1 ? parseMasterReply(rs[0]!.bytes) : null;
      return r && r.ok && r.value.tag === 'RPTACK' ? r.value.arg : null;
    };
    const salt = ack(this.datagram(address, port, encodeRptl(peerId)));
    if (salt === null) return false;
    if (ack(this.datagram(address, port, encodeRptk(peerId, loginDigest(salt, pass)))) !== peerId) return false;
    const rptc = encodeRptc({ peerId, callsign: `N${peerId % 100000}`, slots: '4', softwareId: 'sim', packageId: 'sim' });
    if (ack(this.datagram(address, port, rptc)) !== peerId) return false;
    if (options !== null && ack(this.datagram(address, port, encodeRpto(peerId, options))) !== peerId) return false;
    return true;
  }

  stat(name: string): number {
    return this.core.stats().find(([k]) => k === name)?.[1] ?? 0;
  }
}

/**
 * The packets of one voice call: a header, `superframes` × bursts A–F, and a terminator. Each
 * payload carries `tag` and the packet index, so no two packets of a run are equal.
 */
export function callPackets(o: {
  peerId: number;
  src: number;
  tg: number;
  slot: 1 | 2;
  streamId: number;
  superframes: number;
  tag: number;
  seq0?: number;
}): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seq = o.seq0 ?? 0;
  const mk = (frame: number): Uint8Array => {
    const payload = new Uint8Array(33);
    const i = out.length;
    payload[0] = o.tag >>> 24;
    payload[1] = (o.tag >>> 16) & 0xff;
    payload[2] = (o.tag >>> 8) & 0xff;
    payload[3] = o.tag & 0xff;
    payload[4] = i >>> 8;
    payload[5] = i & 0xff;
    payload[6] = frame;
    return encodeDmrd({ seq: seq++ & 0xff, src: o.src, dst: o.tg, peerId: o.peerId, slot: o.slot, frame, streamId: o.streamId, payload });
  };
  out.push(mk(0x21));
  for (let i = 0; i < o.superframes; i++) for (const f of [0x10, 0x01, 0x02, 0x03, 0x04, 0x05]) out.push(mk(f));
  out.push(mk(0x22));
  return out;
}

// ── the simulation ───────────────────────────────────────────────────────────────────────────

export interface SimOptions {
  seed: number;
  peers: number;
  /** Talkgroups peers subscribe to (on either slot) and talk on. */
  talkgroups: number[];
  /** Streams kept going at once (each talker starts a new call a little after the last one ends). */
  talkers: number;
  /** Virtual time during which new calls start; the run then drains. */
  durationMs: number;
  loss: number;
  duplication: number;
  reordering: number;
  /** Share of calls whose terminator is lost. */
  lostTerminator: number;
  /** Mean time between a random peer logging out (it logs in again a few seconds later). */
  churnEveryMs: number;
  /** Peers that stop pinging at some point (and are dropped by the keepalive). */
  silentPeers: number;
  /** Add one call longer than maxStreamMs. */
  overlongCall: boolean;
  /** A far end on the core's first OpenBridge link (cfg.links[0]); null = no link traffic. */
  link: SimLinkOptions | null;
}

export interface SimLinkOptions {
  /** Calls the far end keeps going at once (a link is a trunk: many streams side by side). */
  talkers: number;
  /** Talkgroups its calls use: the peers' ones, and local and prohibited ones the core must refuse. */
  talkgroups: number[];
  /** Share of its frames spoilt on the way (bad MAC, wrong source port, wrong network ID, TS2). */
  badFrames: number;
  /** Share of its calls that send back a stream it got from the core, under the same stream ID (a loop). */
  loopBack: number;
  /**
   * Share of the streams it gets from the core that it sends straight back as they come, one
   * sequence number ahead (a loop while the call is still live).
   */
  echoLive: number;
}

export const DEFAULT_SIM: Omit<SimOptions, 'seed'> = {
  peers: 200,
  talkgroups: [1, 2, 91, 235, 310, 3100, 9990],
  talkers: 26,
  durationMs: 200_000,
  loss: 0.05,
  duplication: 0.02,
  reordering: 0.02,
  lostTerminator: 0.1,
  churnEveryMs: 2_000,
  silentPeers: 5,
  overlongCall: true,
  link: {
    talkers: 3,
    // 1, 2, 9 and 9990 are local by default, 666 is prohibited in the simulation's config, nobody
    // listens to 4321, and the link's list may leave out some of the peers' talkgroups (310); the
    // rest are the peers' talkgroups, weighted up.
    talkgroups: [1, 2, 9, 9990, 666, 4321, 310, 91, 91, 235, 235, 3100, 3100],
    badFrames: 0.03,
    loopBack: 0.15,
    echoLive: 0.1,
  },
};

type ClientState = 'idle' | 'rptl' | 'rptk' | 'rptc' | 'rpto' | 'connected';

interface Client {
  index: number;
  peerId: number;
  address: string;
  port: number;
  options: string | null;
  state: ClientState;
  /** Bumped on every (re)login attempt; stale timers compare it. */
  epoch: number;
  silent: boolean;
  talking: boolean;
  /** Left alone by churn and silencing (the overlong call's talker). */
  pinned: boolean;
  logins: number;
  mstcl: number;
  delivered: number;
}

interface Call {
  client: Client;
  epoch: number;
  packets: Uint8Array[];
  next: number;
  /** Held-back packets, released after packet `after` is sent. */
  held: { after: number; bytes: Uint8Array }[];
  tg: number;
  /** Called once when the call is over (sent out, or cut short by a logout). */
  done: () => void;
}

export interface SimReport {
  /** Dial-a-TG commands (private calls) the talkers made. */
  dials: number;
  seed: number;
  virtualMs: number;
  calls: number;
  callsWithLostTerminator: number;
  datagramsToCore: number;
  dmrdSent: number;
  dmrdLost: number;
  dmrdDuplicated: number;
  dmrdReordered: number;
  logins: number;
  logouts: number;
  mstclReceived: number;
  pingsLost: number;
  /** Sum of `lost` over the core's call.end entries (sequence gaps it saw). */
  lostCounted: number;
  peersAtEnd: number;
  clientsConnectedAtEnd: number;
  /** Clients that received at least one forwarded packet. */
  clientsReached: number;
  /** Checker findings of the known `slot-freed-by-end` kind (see invariants.ts). */
  slotFreedByEnd: number;
  /** The far end's calls (and those among them sent back to the core as loops). */
  linkCalls: number;
  linkLoopCalls: number;
  /** Frames the far end sent straight back as they came (loops of live streams). */
  linkEchoFrames: number;
  /** Link frames the far end put on the network, and what the network did to them. */
  linkFramesSent: number;
  linkFramesLost: number;
  linkFramesReordered: number;
  linkFramesDuplicated: number;
  linkFramesSpoilt: number;
  /** Frames the far end received from the core. */
  linkFramesReceived: number;
  /** Mean and minimum of the live stream count sampled each second in the busy middle of the run. */
  liveMean: number;
  liveMin: number;
  wallMs: number;
}

export class SimWorld {
  readonly rng: SimRandom;
  readonly driver: Driver;
  readonly timeline = new Timeline();
  readonly clients: Client[] = [];
  readonly opts: SimOptions;
  readonly far: FarEnd | null;
  private readonly byAddress = new Map<string, Client>();
  private streamCounter = 0;
  private readonly r = {
    calls: 0,
    callsWithLostTerminator: 0,
    dials: 0,
    datagramsToCore: 0,
    dmrdSent: 0,
    dmrdLost: 0,
    dmrdDuplicated: 0,
    dmrdReordered: 0,
    logouts: 0,
    pingsLost: 0,
    lostCounted: 0,
    liveSamples: [] as number[],
  };

  constructor(opts: SimOptions, config: CoreConfig) {
    this.opts = opts;
    this.rng = new SimRandom(opts.seed);
    this.driver = new Driver({ config, seed: opts.seed });
    this.driver.onReply = (r) => this.onReply(r);
    this.driver.onLog = (e) => {
      if (e.code === 'call.end') this.r.lostCounted += e.lost ?? 0;
    };
    this.driver.onDeliver = (t) => {
      const c = this.byAddress.get(`${t.address}:${t.port}`);
      if (c) c.delivered++;
    };
    if (opts.link !== null) {
      const link = config.links[0];
      if (link === undefined) throw new Error('SimOptions.link needs a link in the config');
      const far = new FarEnd(this, opts.link, link);
      this.far = far;
      this.driver.onLinkSend = (socket, r) => far.receive(socket, r);
    } else this.far = null;
    for (let i = 0; i < opts.peers; i++) {
      const c: Client = {
        index: i,
        peerId: 2_340_000 + i * 7 + 1,
        address: `10.${1 + (i >> 8)}.${i & 0xff}.${1 + (i % 7)}`,
        port: 62_031 + (i % 50),
        options: this.randomOptions(),
        state: 'idle',
        epoch: 0,
        silent: false,
        talking: false,
        pinned: false,
        logins: 0,
        mstcl: 0,
        delivered: 0,
      };
      this.clients.push(c);
      this.byAddress.set(`${c.address}:${c.port}`, c);
    }
  }

  /** Options for one peer: mostly TS1=/TS2= lists from the talkgroup set, some none, some malformed. */
  randomOptions(): string | null {
    const rng = this.rng;
    const tgs = this.opts.talkgroups;
    const u = rng.float();
    if (u < 0.08) return null; // server defaults
    const list = (): string => {
      const n = rng.int(0, 2);
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(rng.pick(tgs));
      return out.join(',');
    };
    if (u < 0.13) return rng.pick([`TS1=${list()},x;;TS2=${list()},0`, `TS2=${list()};junk;TS1==1`, `TS1=${list()};TS2=${list()},99999999;`, 'TS1= ;TS2=']);
    if (u < 0.18) return `TS2=${list()};DIAL=0;TS1=${list()};VOICE=1`;
    if (u < 0.24) return `TS1=${list()};DIAL=${rng.pick([91, 235, 3100])}`; // a default reflector on TG 9
    return `TS1=${list()};TS2=${list()}`;
  }

  private send(c: Client, bytes: Uint8Array): void {
    this.r.datagramsToCore++;
    this.driver.datagram(c.address, c.port, bytes);
  }

  // ── clients ──

  private startLogin(c: Client, at: number): void {
    const epoch = ++c.epoch;
    this.timeline.at(at, () => {
      if (c.epoch !== epoch) return;
      c.state = 'rptl';
      this.send(c, encodeRptl(c.peerId));
    });
  }

  private onReply(r: Reply): void {
    const c = this.byAddress.get(`${r.address}:${r.port}`);
    if (!c) return;
    const p = parseMasterReply(r.bytes);
    if (!p.ok) return;
    const now = this.driver.now;
    const later = (f: () => void): void => {
      const epoch = c.epoch;
      this.timeline.at(now + this.rng.int(1, 20), () => {
        if (c.epoch === epoch) f();
      });
    };
    switch (p.value.tag) {
      case 'RPTACK':
        if (c.state === 'rptl') {
          const salt = p.value.arg;
          c.state = 'rptk';
          later(() => this.send(c, encodeRptk(c.peerId, loginDigest(salt, this.driver.core.cfg.hbp.passphrase))));
        } else if (c.state === 'rptk') {
          c.state = 'rptc';
          later(() => this.send(c, encodeRptc({ peerId: c.peerId, callsign: `S${c.index}`, slots: '4', softwareId: 'sim', packageId: 'sim' })));
        } else if (c.state === 'rptc') {
          if (c.options === null) this.connected(c);
          else {
            c.state = 'rpto';
            const opts = c.options;
            later(() => this.send(c, encodeRpto(c.peerId, opts)));
          }
        } else if (c.state === 'rpto') {
          this.connected(c);
        }
        return;
      case 'MSTNAK':
        c.state = 'idle';
        this.startLogin(c, now + 5_000);
        return;
      case 'MSTCL':
        c.mstcl++;
        c.state = 'idle';
        c.talking = false;
        if (!c.silent) this.startLogin(c, now + this.rng.int(2_000, 10_000));
        return;
      case 'MSTPONG':
        return;
    }
  }

  private connected(c: Client): void {
    c.state = 'connected';
    c.logins++;
    const epoch = c.epoch;
    const ping = (at: number): void => {
      this.timeline.at(at, () => {
        if (c.epoch !== epoch || c.state !== 'connected' || c.silent) return;
        if (this.rng.chance(this.opts.loss)) this.r.pingsLost++;
        else this.send(c, encodeRptping(c.peerId));
        ping(at + 10_000 + this.rng.int(-150, 150));
      });
    };
    ping(this.driver.now + this.rng.int(1_000, 10_000));
  }

  private logout(c: Client): void {
    c.epoch++;
    c.state = 'idle';
    c.talking = false;
    this.r.logouts++;
    this.send(c, encodeRptcl(c.peerId));
    if (this.rng.chance(0.3)) c.options = this.randomOptions();
    this.startLogin(c, this.driver.now + this.rng.int(3_000, 15_000));
  }

  // ── calls ──

  private connectedClients(): Client[] {
    return this.clients.filter((c) => c.state === 'connected' && !c.talking && !c.silent);
  }

  private startCall(long: boolean, done: () => void): boolean {
    const rng = this.rng;
    const free = this.connectedClients();
    if (free.length === 0) return false;
    const c = rng.pick(free);
    const slot: 1 | 2 = rng.chance(0.5) ? 1 : 2;
    if (!long && rng.chance(0.06)) {
      // A dial-a-TG command: a short private call to a reflector, 4000 (unlink) or 5000 (status).
      const n = rng.pick([91, 235, 310, 3100, 4000, 5000]);
      const streamId = (((++this.streamCounter * 0x9e3779b1) >>> 0) ^ rng.u32()) >>> 0 || 1;
      const packets = callPackets({ peerId: c.peerId, src: 3_100_000 + rng.int(0, 9999), tg: n, slot, streamId, superframes: 0, tag: this.streamCounter }).map((p) => {
        p[15] = p[15]! | 0x40; // a unit (private) call
        return p;
      });
      c.talking = true;
      this.r.calls++;
      this.r.dials++;
      const call: Call = { client: c, epoch: c.epoch, packets, next: 0, held: [], tg: n, done };
      this.timeline.at(this.driver.now + rng.int(0, 59), () => this.step(call));
      return true;
    }
    const subs = this.driver.checker.subscriptions(c.peerId);
    const mine = subs ? (slot === 1 ? subs.ts1 : subs.ts2) : [];
    const tg = mine.length > 0 && rng.chance(0.85) ? rng.pick(mine) : rng.pick(this.opts.talkgroups);
    const superframes = long
      ? Math.ceil((this.driver.core.cfg.timers.maxStreamMs + 10_000) / 360)
      : rng.chance(0.15)
        ? rng.int(30, 100)
        : rng.int(1, 25);
    const streamId = (((++this.streamCounter * 0x9e3779b1) >>> 0) ^ rng.u32()) >>> 0 || 1;
    const packets = callPackets({ peerId: c.peerId, src: 3_100_000 + rng.int(0, 9999), tg, slot, streamId, superframes, tag: this.streamCounter, seq0: rng.int(0, 255) });
    if (rng.chance(this.opts.lostTerminator)) {
      packets.pop();
      this.r.callsWithLostTerminator++;
    }
    c.talking = true;
    if (long) c.pinned = true;
    this.r.calls++;
    const call: Call = { client: c, epoch: c.epoch, packets, next: 0, held: [], tg, done };
    this.timeline.at(this.driver.now + rng.int(0, 59), () => this.step(call));
    return true;
  }

  /** Send packet `next` of the call (with the network's faults), then schedule the next one in 60 ms. */
  private step(call: Call): void {
    const c = call.client;
    const rng = this.rng;
    if (c.epoch !== call.epoch || c.state !== 'connected') {
      call.held = [];
      call.done(); // the client logged out or was dropped: its radio link is gone
      return;
    }
    const i = call.next++;
    const b = call.packets[i];
    if (b !== undefined) {
      this.r.dmrdSent++;
      const u = rng.float();
      const o = this.opts;
      if (u < o.loss) this.r.dmrdLost++;
      else if (u < o.loss + o.reordering) {
        this.r.dmrdReordered++;
        call.held.push({ after: i + rng.int(1, 2), bytes: b });
      } else {
        this.send(c, b);
        if (u < o.loss + o.reordering + o.duplication) {
          this.r.dmrdDuplicated++;
          if (rng.chance(0.5)) this.send(c, b);
          else call.held.push({ after: i + 1, bytes: b });
        }
      }
    }
    const due = call.held.filter((h) => h.after <= i || i >= call.packets.length);
    call.held = call.held.filter((h) => !due.includes(h));
    for (const h of due) this.send(c, h.bytes);
    if (i < call.packets.length || call.held.length > 0) {
      this.timeline.at(this.driver.now + 60, () => this.step(call));
    } else {
      c.talking = false;
      call.done();
    }
  }

  /** One talker: calls back to back with a short gap, until the end of the busy period. */
  private talker(at: number): void {
    this.timeline.at(at, () => {
      if (this.driver.now >= this.opts.durationMs) return;
      const next = (): void => this.talker(this.driver.now + this.rng.int(200, 2_500));
      if (!this.startCall(false, next)) this.talker(this.driver.now + 500);
    });
  }

  run(): SimReport {
    const started = performance.now();
    const rng = this.rng;
    const o = this.opts;
    // Logins spread over the first 5 seconds.
    for (const c of this.clients) this.startLogin(c, rng.int(0, 5_000));
    // Talkers start once most peers are in.
    for (let i = 0; i < o.talkers; i++) this.talker(6_000 + i * 150);
    if (o.overlongCall) this.timeline.at(7_000, () => this.startCall(true, () => {}));
    // The far end's talkers start with the peers' ones.
    if (this.far !== null) for (let i = 0; i < this.far.opts.talkers; i++) this.far.talker(6_000 + i * 400);
    // Churn: a random connected peer logs out (talking or not), and logs in again later.
    const churn = (at: number): void => {
      this.timeline.at(at, () => {
        if (this.driver.now >= o.durationMs) return;
        const cs = this.clients.filter((c) => c.state === 'connected' && !c.silent && !c.pinned);
        if (cs.length > 0) this.logout(rng.pick(cs));
        churn(this.driver.now + rng.int(o.churnEveryMs / 2, (o.churnEveryMs * 3) / 2));
      });
    };
    churn(10_000);
    // Option changes now and then.
    const reopt = (at: number): void => {
      this.timeline.at(at, () => {
        if (this.driver.now >= o.durationMs) return;
        const cs = this.clients.filter((c) => c.state === 'connected' && !c.silent);
        if (cs.length > 0) {
          const c = rng.pick(cs);
          const opts = this.randomOptions();
          if (opts !== null) {
            c.options = opts;
            this.send(c, encodeRpto(c.peerId, opts));
          }
        }
        reopt(this.driver.now + rng.int(2_000, 8_000));
      });
    };
    reopt(15_000);
    // Some peers fall silent (stop pinging and talking) and are dropped by the keepalive.
    for (let i = 0; i < o.silentPeers; i++) {
      this.timeline.at(20_000 + i * 17_000, () => {
        const cs = this.clients.filter((c) => c.state === 'connected' && !c.silent && !c.talking && !c.pinned);
        if (cs.length > 0) rng.pick(cs).silent = true;
      });
    }
    // Sample the live stream count each second in the busy middle.
    for (let t = 30_000; t < o.durationMs - 10_000; t += 1_000) this.timeline.at(t, () => this.r.liveSamples.push(this.driver.checker.stats.live));

    // Busy period, then drain: calls still running finish, lost terminators time out.
    const c = this.driver.core.cfg;
    const overlongEnd = o.overlongCall ? 7_000 + c.timers.maxStreamMs + 12_000 : 0;
    const end = Math.max(o.durationMs + 40_000, overlongEnd) + c.timers.streamTimeoutMs + 1_000;
    this.driver.runUntil(end, this.timeline);
    this.driver.checker.finish(this.driver.core);

    const samples = this.r.liveSamples;
    return {
      seed: o.seed,
      virtualMs: this.driver.now,
      calls: this.r.calls,
      callsWithLostTerminator: this.r.callsWithLostTerminator,
      dials: this.r.dials,
      datagramsToCore: this.r.datagramsToCore,
      dmrdSent: this.r.dmrdSent,
      dmrdLost: this.r.dmrdLost,
      dmrdDuplicated: this.r.dmrdDuplicated,
      dmrdReordered: this.r.dmrdReordered,
      logins: this.clients.reduce((n, x) => n + x.logins, 0),
      logouts: this.r.logouts,
      mstclReceived: this.clients.reduce((n, x) => n + x.mstcl, 0),
      pingsLost: this.r.pingsLost,
      lostCounted: this.r.lostCounted,
      peersAtEnd: this.driver.core.peers().length,
      clientsConnectedAtEnd: this.clients.filter((x) => x.state === 'connected').length,
      clientsReached: this.clients.filter((x) => x.delivered > 0).length,
      slotFreedByEnd: this.driver.checker.count('slot-freed-by-end'),
      linkCalls: this.far?.r.calls ?? 0,
      linkLoopCalls: this.far?.r.loopCalls ?? 0,
      linkEchoFrames: this.far?.r.echoed ?? 0,
      linkFramesSent: this.far?.r.sent ?? 0,
      linkFramesLost: this.far?.r.lost ?? 0,
      linkFramesReordered: this.far?.r.reordered ?? 0,
      linkFramesDuplicated: this.far?.r.duplicated ?? 0,
      linkFramesSpoilt: this.far?.r.spoilt ?? 0,
      linkFramesReceived: this.far?.r.received ?? 0,
      liveMean: samples.length > 0 ? samples.reduce((a, b) => a + b, 0) / samples.length : 0,
      liveMin: samples.length > 0 ? Math.min(...samples) : 0,
      wallMs: Math.round(performance.now() - started),
    };
  }
}

// ── the far end of a link ────────────────────────────────────────────────────────────────────

interface LinkCall {
  frames: Uint8Array[];
  next: number;
  held: { after: number; bytes: Uint8Array }[];
  done: () => void;
}

type Spoil = 'bad-mac' | 'wrong-port' | 'wrong-net' | 'ts2';
const SPOILS: readonly Spoil[] = ['bad-mac', 'wrong-port', 'wrong-net', 'ts2'];

/**
 * Another server at the far end of an OpenBridge v1 link, scripted: `talkers` calls at a time on
 * random talkgroups, signed 73-byte frames on TS1 with its network ID, through the world's lossy
 * network (loss, duplication and reordering at the world's rates, and a share of frames spoilt).
 * It keeps the streams the core sends it for a while, and now and then sends one back (a loop).
 */
export class FarEnd {
  readonly r = { calls: 0, loopCalls: 0, echoed: 0, sent: 0, lost: 0, reordered: 0, duplicated: 0, spoilt: 0, received: 0 };
  private readonly key: Uint8Array;
  /** Streams received from the core lately: their frames as received, when the last came, and whether they are sent straight back. */
  private readonly heard = new Map<number, { frames: Uint8Array[]; at: number; echo: boolean }>();
  private calls = 0;

  constructor(
    private readonly world: SimWorld,
    readonly opts: SimLinkOptions,
    readonly link: LinkConfig,
  ) {
    this.key = obpKey(link.passphrase);
  }

  /** A frame the core sent on a link socket (the checker judges it; here it is only kept). */
  receive(socket: number, r: Reply): void {
    if (socket !== this.link.socket || r.address !== this.link.address || r.port !== this.link.port) return;
    this.r.received++;
    if (r.bytes.length !== OBP.FRAME) return;
    const id = ((r.bytes[16]! << 24) | (r.bytes[17]! << 16) | (r.bytes[18]! << 8) | r.bytes[19]!) >>> 0;
    const w = this.world;
    let h = this.heard.get(id);
    if (!h) {
      this.heard.set(id, (h = { frames: [], at: 0, echo: w.rng.chance(this.opts.echoLive) }));
      // Keep the latest 32 streams.
      if (this.heard.size > 32) this.heard.delete(this.heard.keys().next().value!);
    }
    if (h.frames.length < 64) h.frames.push(r.bytes);
    h.at = w.driver.now;
    if (h.echo) {
      // Back a moment later (the core is still handling this event), one sequence number ahead.
      const back = r.bytes.slice(0, OBP.BODY);
      back[4] = (back[4]! + 1) & 0xff;
      const f = this.frame(back);
      this.r.echoed++;
      w.timeline.at(w.driver.now + w.rng.int(1, 40), () => this.send(f));
    }
  }

  /** The first 53 bytes of `body` with this end's network ID, signed. */
  private frame(body: Uint8Array): Uint8Array {
    const f = new Uint8Array(OBP.FRAME);
    f.set(body.subarray(0, OBP.BODY));
    writeU32(f, 11, this.link.networkId);
    signObp(f, this.key, hmacSha1);
    return f;
  }

  /** One talker: calls back to back with a short gap, until the end of the busy period. */
  talker(at: number): void {
    const w = this.world;
    w.timeline.at(at, () => {
      if (w.driver.now >= w.opts.durationMs) return;
      this.startCall(() => this.talker(w.driver.now + w.rng.int(200, 2_500)));
    });
  }

  private startCall(done: () => void): void {
    const w = this.world;
    const rng = w.rng;
    const now = w.driver.now;
    this.r.calls++;
    // A loop: a stream the core sent here a moment ago comes back, same stream ID.
    const recent = [...this.heard.values()].filter((h) => now - h.at < 20_000);
    let frames: Uint8Array[];
    if (recent.length > 0 && rng.chance(this.opts.loopBack)) {
      this.r.loopCalls++;
      frames = rng.pick(recent).frames.map((f) => this.frame(f));
    } else {
      const tg = rng.pick(this.opts.talkgroups);
      const streamId = rng.u32() || 1;
      const superframes = rng.chance(0.15) ? rng.int(30, 60) : rng.int(1, 25);
      const packets = callPackets({ peerId: this.link.networkId, src: 2_350_000 + rng.int(0, 9999), tg, slot: 1, streamId, superframes, tag: 0x4c000000 + ++this.calls, seq0: rng.int(0, 255) });
      if (rng.chance(w.opts.lostTerminator)) packets.pop();
      frames = packets.map((p) => this.frame(p));
    }
    const call: LinkCall = { frames, next: 0, held: [], done };
    w.timeline.at(now + rng.int(0, 59), () => this.step(call));
  }

  private send(f: Uint8Array): void {
    const w = this.world;
    let bytes = f;
    let port = this.link.port;
    if (w.rng.chance(this.opts.badFrames)) {
      // Spoilt on the way: it arrives, and must change nothing.
      this.r.spoilt++;
      bytes = f.slice();
      const how = w.rng.pick(SPOILS);
      if (how === 'bad-mac') bytes[OBP.BODY + w.rng.int(0, OBP.MAC - 1)]! ^= 1 << w.rng.int(0, 7);
      else if (how === 'wrong-port') port = this.link.port + 1;
      else {
        if (how === 'wrong-net') writeU32(bytes, 11, this.link.networkId + 1);
        else bytes[15] = bytes[15]! | 0x80;
        signObp(bytes, this.key, hmacSha1);
      }
    }
    w.driver.datagram(this.link.address, port, bytes, this.link.socket);
  }

  /** Send frame `next` of the call through the lossy network, then the next one in 60 ms. */
  private step(call: LinkCall): void {
    const w = this.world;
    const rng = w.rng;
    const o = w.opts;
    const i = call.next++;
    const f = call.frames[i];
    if (f !== undefined) {
      this.r.sent++;
      const u = rng.float();
      if (u < o.loss) this.r.lost++;
      else if (u < o.loss + o.reordering) {
        this.r.reordered++;
        call.held.push({ after: i + rng.int(1, 2), bytes: f });
      } else {
        this.send(f);
        if (u < o.loss + o.reordering + o.duplication) {
          this.r.duplicated++;
          if (rng.chance(0.5)) this.send(f);
          else call.held.push({ after: i + 1, bytes: f });
        }
      }
    }
    const due = call.held.filter((h) => h.after <= i || i >= call.frames.length);
    call.held = call.held.filter((h) => !due.includes(h));
    for (const h of due) this.send(h.bytes);
    if (i < call.frames.length || call.held.length > 0) w.timeline.at(w.driver.now + 60, () => this.step(call));
    else call.done();
  }
}
