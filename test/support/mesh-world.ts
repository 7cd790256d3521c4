// A mesh of dmrhub cores on one virtual network, in virtual time (test/sim/mesh.test.ts).
//
//  - MeshNet: endpoints (address:port) and a seeded network between them: per datagram loss,
//    duplication, reordering (held back 60–180 ms) and delay (a fixed base per pair of hosts plus
//    jitter); connections between two servers can be cut (everything dropped both ways) and mended.
//    Every datagram put on the wire and every datagram handed to a core is shown to a WireObserver
//    (the checker), with the datagram the sending core was handling at the time (its cause).
//  - ServerNode: one core, its sockets (socket number → local port), its sink on the network.
//  - Hotspot: a simulated HBP peer (login with retries, options, pings, calls at the DMR rate).
//  - MeshWorld: the topology's servers and hotspots, the run loop interleaving the Timeline with
//    every core's own deadlines, and the traffic and fault schedule of a run.

import { createCore, type ActionSink, type Core, type Target } from '../../src/core/index.js';
import { encodeRptc, encodeRptk, encodeRptl, encodeRpto, encodeRptping, parseMasterReply, patchTarget } from '../../src/protocol/index.js';
import { loginDigest, sha256 } from './crypto.js';
import { hbpPassphrase, HBP_PORT, serverAddress, serverConfig, socketsOf, type HotspotSpec, type ServerSockets, type Topology } from './mesh-topology.js';
import { callPackets, SimRandom, Timeline } from './sim-world.js';

export const ep = (address: string, port: number): string => `${address}:${port}`;

/** The datagram a core was handling when it sent something (null: a tick, or the start). */
export interface Cause {
  node: number;
  socket: number;
  from: string;
  bytes: Uint8Array;
  at: number;
}

export interface WireObserver {
  /** A datagram put on the wire (before the network's faults). `node` is null for a hotspot. */
  sent(at: number, node: number | null, socket: number, from: string, to: string, bytes: Uint8Array, cause: Cause | null): void;
  /** A datagram handed to a core (after the network's faults). */
  arrived(at: number, node: number, socket: number, from: string, bytes: Uint8Array): void;
}

export interface Faults {
  loss: number;
  duplication: number;
  reordering: number;
  jitterMs: number;
}

export const NO_FAULTS: Faults = { loss: 0, duplication: 0, reordering: 0, jitterMs: 0 };

export class MeshNet {
  faults: Faults = NO_FAULTS;
  readonly r = { datagrams: 0, lost: 0, duplicated: 0, reordered: 0, cutDrops: 0 };
  private readonly handlers = new Map<string, (from: string, bytes: Uint8Array) => void>();
  private readonly hostOf = new Map<string, string>();
  private readonly base = new Map<string, number>();
  /** Cut connections, as 'i-j' of server indices (i < j). */
  readonly cut = new Set<string>();

  constructor(
    readonly timeline: Timeline,
    readonly rng: SimRandom,
    readonly clock: () => number,
    readonly observer: WireObserver,
  ) {}

  /** `address:port` is served by `handle`; `host` names the machine (a server's index, or a site). */
  listen(endpoint: string, host: string, handle: (from: string, bytes: Uint8Array) => void): void {
    this.handlers.set(endpoint, handle);
    this.hostOf.set(endpoint, host);
  }

  private baseDelay(a: string, b: string): number {
    const k = a < b ? `${a}|${b}` : `${b}|${a}`;
    let d = this.base.get(k);
    if (d === undefined) {
      d = a.startsWith('s') && b.startsWith('s') ? this.rng.int(5, 40) : this.rng.int(1, 20);
      this.base.set(k, d);
    }
    return d;
  }

  send(node: number | null, socket: number, from: string, to: string, bytes: Uint8Array, cause: Cause | null): void {
    const now = this.clock();
    this.observer.sent(now, node, socket, from, to, bytes, cause);
    this.r.datagrams++;
    const ha = this.hostOf.get(from) ?? from;
    const hb = this.hostOf.get(to) ?? to;
    if (ha.startsWith('s') && hb.startsWith('s')) {
      const [x, y] = [Number(ha.slice(1)), Number(hb.slice(1))].sort((p, q) => p - q);
      if (this.cut.has(`${x}-${y}`)) {
        this.r.cutDrops++;
        return;
      }
    }
    const f = this.faults;
    const rng = this.rng;
    const u = rng.float();
    if (u < f.loss) {
      this.r.lost++;
      return;
    }
    let delay = this.baseDelay(ha, hb) + (f.jitterMs > 0 ? rng.int(0, f.jitterMs) : 0);
    if (u < f.loss + f.reordering) {
      this.r.reordered++;
      delay += rng.int(60, 180);
    }
    this.deliver(now + delay, from, to, bytes);
    if (rng.float() < f.duplication) {
      this.r.duplicated++;
      this.deliver(now + delay + rng.int(0, 90), from, to, bytes);
    }
  }

  private deliver(at: number, from: string, to: string, bytes: Uint8Array): void {
    this.timeline.at(at, () => this.handlers.get(to)?.(from, bytes.slice()));
  }
}

export class ServerNode {
  readonly core: Core;
  readonly address: string;
  readonly sockets: ServerSockets['sockets'];
  /** The datagram being handled, for the observer. */
  private cause: Cause | null = null;
  private readonly sink: ActionSink;

  constructor(
    readonly index: number,
    readonly world: MeshWorld,
    topology: Topology,
  ) {
    this.core = createCore({ sha256 });
    this.address = serverAddress(index);
    this.sockets = socketsOf(topology, index).sockets;
    const net = world.net;
    const local = (socket: number): string => ep(this.address, this.sockets[socket]!.port);
    this.sink = {
      send: (socket, address, port, bytes) => net.send(index, socket, local(socket), ep(address, port), bytes.slice(), this.cause),
      fanOut: (frame, targets: readonly Target[], count) => {
        for (let i = 0; i < count; i++) {
          const t = targets[i]!;
          const out = frame.slice();
          patchTarget(out, t.peerId, t.slotBit);
          net.send(index, t.socket, local(t.socket), ep(t.address, t.port), out, this.cause);
        }
      },
      log: (e) => world.onLog(index, e),
    };
    this.sockets.forEach((s, socket) =>
      net.listen(local(socket), `s${index}`, (from, bytes) => {
        const now = world.now;
        world.observer.arrived(now, index, socket, from, bytes);
        const [address, port] = splitEp(from);
        this.cause = { node: index, socket, from, bytes: bytes.slice(), at: now };
        this.core.handle({ kind: 'datagram-received', now, socket, address, port, bytes }, this.sink);
        this.cause = null;
      }),
    );
    this.core.handle({ kind: 'started', now: world.now, seed: world.seed ^ (index * 0x9e3779b1), config: serverConfig(topology, index) }, this.sink);
  }

  tick(now: number): void {
    this.core.handle({ kind: 'ticked', now }, this.sink);
  }

  stat(name: string): number {
    return this.core.stats().find(([k]) => k === name)?.[1] ?? 0;
  }
}

export function splitEp(e: string): [string, number] {
  const i = e.lastIndexOf(':');
  return [e.slice(0, i), Number(e.slice(i + 1))];
}

type HotspotState = 'idle' | 'rptl' | 'rptk' | 'rptc' | 'rpto' | 'connected';

/** A simulated hotspot: logs in (retrying), pings, makes calls when told, counts what it hears. */
export class Hotspot {
  state: HotspotState = 'idle';
  talking = false;
  heard = 0;
  logins = 0;
  readonly endpoint: string;
  private readonly master: string;
  private epoch = 0;

  constructor(
    readonly spec: HotspotSpec,
    private readonly world: MeshWorld,
  ) {
    this.endpoint = ep(spec.address, spec.port);
    this.master = ep(serverAddress(spec.server), HBP_PORT);
    world.net.listen(this.endpoint, `h${spec.server}`, (_from, b) => this.receive(b));
  }

  get options(): string {
    return `TS1=${this.spec.ts1.join(',')};TS2=${this.spec.ts2.join(',')}`;
  }

  send(b: Uint8Array): void {
    this.world.net.send(null, 0, this.endpoint, this.master, b, null);
  }

  login(): void {
    const e = ++this.epoch;
    this.state = 'rptl';
    this.send(encodeRptl(this.spec.peerId));
    // No answer within 3 s: start again.
    this.world.timeline.at(this.world.now + 3_000, () => {
      if (this.epoch === e && this.state !== 'connected') this.login();
    });
  }

  private ping(e: number): void {
    this.world.timeline.at(this.world.now + 10_000, () => {
      if (this.epoch !== e || this.state !== 'connected') return;
      this.send(encodeRptping(this.spec.peerId));
      this.ping(e);
    });
  }

  private receive(b: Uint8Array): void {
    if (b.length >= 4 && b[0] === 0x44 && b[1] === 0x4d && b[2] === 0x52 && b[3] === 0x44) {
      this.heard++;
      return;
    }
    const r = parseMasterReply(b);
    if (!r.ok) return;
    const { tag, arg } = r.value;
    const id = this.spec.peerId;
    if (tag === 'MSTNAK' || tag === 'MSTCL') {
      this.state = 'idle';
      this.epoch++;
      this.world.timeline.at(this.world.now + 1_000, () => this.state === 'idle' && this.login());
      return;
    }
    if (tag !== 'RPTACK') return;
    if (this.state === 'rptl') {
      this.state = 'rptk';
      this.send(encodeRptk(id, loginDigest(arg, hbpPassphrase(this.spec.server))));
    } else if (this.state === 'rptk' && arg === id) {
      this.state = 'rptc';
      this.send(encodeRptc({ peerId: id, callsign: `H${id % 100000}`, slots: '4', softwareId: 'sim', packageId: 'sim' }));
    } else if (this.state === 'rptc' && arg === id) {
      this.state = 'rpto';
      this.send(encodeRpto(id, this.options));
    } else if (this.state === 'rpto' && arg === id) {
      this.state = 'connected';
      this.logins++;
      this.ping(this.epoch);
    }
  }
}

/** A call the test made: what it sent, for the checker's bookkeeping. */
export interface CallRecord {
  stream: number;
  server: number;
  peerId: number;
  endpoint: string;
  tg: number;
  slot: 1 | 2;
  /** Packets the hotspot meant to send (indices 0..count-1; the terminator is the last, if any). */
  count: number;
  terminator: boolean;
  clean: boolean;
  startAt: number;
  endAt: number;
}

export interface MeshWorldOptions {
  seed: number;
  topology: Topology;
  observer: WireObserver;
}

export class MeshWorld {
  now = 0;
  readonly seed: number;
  readonly rng: SimRandom;
  readonly timeline = new Timeline();
  readonly net: MeshNet;
  readonly observer: WireObserver;
  readonly nodes: ServerNode[] = [];
  readonly hotspots: Hotspot[] = [];
  readonly calls: CallRecord[] = [];
  readonly topology: Topology;
  readonly logs = new Map<string, number>();
  private readonly streamIds = new Set<number>();
  private tag = 0;

  constructor(o: MeshWorldOptions) {
    this.seed = o.seed;
    this.rng = new SimRandom(o.seed);
    this.topology = o.topology;
    this.observer = o.observer;
    this.net = new MeshNet(this.timeline, new SimRandom(o.seed ^ 0x5a5a5a5a), () => this.now, o.observer);
    for (let i = 0; i < o.topology.n; i++) this.nodes.push(new ServerNode(i, this, o.topology));
    for (const h of o.topology.hotspots) this.hotspots.push(new Hotspot(h, this));
  }

  onLog(_node: number, e: { code: string }): void {
    this.logs.set(e.code, (this.logs.get(e.code) ?? 0) + 1);
  }

  /** Run the timeline and every core's deadlines in time order up to `to`. */
  runUntil(to: number): void {
    for (;;) {
      let at = this.timeline.peek();
      let who = -1;
      for (const n of this.nodes) {
        const d = n.core.nextDeadline();
        if (d !== null && (at === null || d < at)) {
          at = d;
          who = n.index;
        }
      }
      if (at === null || at > to) break;
      this.now = Math.max(this.now, at);
      if (who >= 0) this.nodes[who]!.tick(this.now);
      else this.timeline.pop()!.run();
    }
    this.now = Math.max(this.now, to);
  }

  private newStreamId(): number {
    for (;;) {
      const id = this.rng.u32();
      if (id !== 0 && !this.streamIds.has(id)) {
        this.streamIds.add(id);
        return id;
      }
    }
  }

  /**
   * `h` makes a call on `tg` (one of its slot's statics) at the DMR rate, 60 ms a packet; `done`
   * when its last packet is sent. `dropTerminator`: the radio's terminator is never sent.
   */
  call(h: Hotspot, slot: 1 | 2, tg: number, superframes: number, o: { clean: boolean; dropTerminator: boolean }, done: () => void): CallRecord {
    const stream = this.newStreamId();
    const packets = callPackets({ peerId: h.spec.peerId, src: 3_200_000 + this.rng.int(0, 9999), tg, slot, streamId: stream, superframes, tag: ++this.tag, seq0: this.rng.int(0, 255) });
    if (o.dropTerminator) packets.pop();
    const rec: CallRecord = {
      stream,
      server: h.spec.server,
      peerId: h.spec.peerId,
      endpoint: h.endpoint,
      tg,
      slot,
      count: packets.length,
      terminator: !o.dropTerminator,
      clean: o.clean,
      startAt: this.now,
      endAt: this.now + 60 * (packets.length - 1),
    };
    this.calls.push(rec);
    h.talking = true;
    let i = 0;
    const step = (): void => {
      h.send(packets[i++]!);
      if (i < packets.length) this.timeline.at(this.now + 60, step);
      else {
        h.talking = false;
        done();
      }
    };
    step();
    return rec;
  }
}
