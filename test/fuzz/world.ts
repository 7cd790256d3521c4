// The fuzz world: one Core, the bystanders logged in and pinging on time, and the fuzzed actors.
// `step()` advances virtual time (firing due deadlines and the bystanders' pings on the way),
// makes one datagram, runs the codecs on it and hands it to `Core.handle`. Nothing here reads a
// clock or Math.random: a seed and a shard number give the same datagrams every time.

import { createCore, type ActionSink, type Core, type CoreReport, type LogEntry, type Target } from '../../src/core/index.js';
import { writeDmre } from '../../src/protocol/fbp/index.js';
import { encodeRptc, encodeRptk, encodeRptl, encodeRpto, encodeRptping, readU32, toHex, writeU32 } from '../../src/protocol/index.js';
import { loginDigest, sha256 } from '../support/crypto.js';
import { anyPeerMessage, FarEnd, farEnds, Master, peerMessage, PeerState, type FuzzPeer } from './actors.js';
import { fuzzCodecs } from './codecs.js';
import { mutate } from './mutate.js';
import type { Rng } from './rng.js';
import { BYSTANDERS, FBP_LINK, FBP_LINK_2, fuzzConfig, fuzzPeerId, FUZZ_PEERS, OBP_LINK, PASS, SOCKETS, UPLINK, WALL0, type Addr, type Captured, type VoiceFrames } from './setup.js';

export interface Finding {
  kind: 'exception' | 'codec' | 'bystander' | 'table' | 'amplification';
  /** Index of the datagram in its shard (for a bystander change: the last of the batch). */
  index: number;
  detail: string;
  socket?: number;
  from?: string;
  hex?: string;
  stack?: string;
}

export interface WorldOptions {
  /** Also try proven logins (right passphrase) with a bystander's ID from another address. */
  takeover: boolean;
}

/** Category weights of the datagram mix (per 1000). */
const MIX = {
  peer: 330,
  stranger: 110,
  spoof: 90,
  obp: 110,
  fbp: 170,
  uplink: 50,
  capture: 60,
  random: 50,
  replay: 30,
};
const MIX_W = Object.values(MIX);
const MIX_TOTAL = MIX_W.reduce((a, b) => a + b, 0);
const MIX_NAMES = Object.keys(MIX) as (keyof typeof MIX)[];

const BYSTANDER_PING_MS = 5_000;
const LINK_ADDRS = [OBP_LINK, FBP_LINK, FBP_LINK_2];
const tag = (b: Uint8Array, n = 4): string => String.fromCharCode(...b.subarray(0, n));

export class FuzzWorld implements ActionSink {
  readonly core: Core;
  now = 0;
  readonly peers: FuzzPeer[] = [];
  private readonly byAddr = new Map<string, FuzzPeer>();
  private readonly far: FarEnd[] = farEnds();
  private readonly master = new Master();
  private readonly nextPing: number[];
  readonly findings: Finding[] = [];
  readonly mixCount: Record<string, number> = Object.fromEntries(MIX_NAMES.map((k) => [k, 0]));
  /** What the core emitted: sends, fan-outs (and their targets), logs, reports. */
  readonly out = { sends: 0, fanOuts: 0, targets: 0, logs: 0, reports: 0, mutated: 0, ticks: 0, pings: 0 };
  private donor: Uint8Array = new Uint8Array(0);
  /** The datagram being handled and who sent it (for replies and findings). */
  private cur: { socket: number; address: string; port: number; length: number; peer: FuzzPeer | null; takeover: number } = { socket: 0, address: '', port: 0, length: 0, peer: null, takeover: 0 };
  private takeoverSalt = -1;
  /** Index of the datagram being made. */
  private index = 0;

  constructor(
    private readonly rng: Rng,
    private readonly voices: readonly VoiceFrames[],
    private readonly captured: readonly Captured[],
    private readonly opts: WorldOptions,
  ) {
    this.core = createCore({ sha256 });
    this.core.handle({ kind: 'started', now: 0, seed: rng.u32(), config: fuzzConfig(), wallMs: WALL0 }, this);
    for (let i = 0; i < FUZZ_PEERS; i++) {
      const p: FuzzPeer = { id: fuzzPeerId(i), address: `10.2.${i >> 3}.${(i & 7) + 1}`, homePort: 50_000 + i, altPort: 51_000 + i, port: 50_000 + i, state: PeerState.Out, salt: 0, call: null };
      this.peers.push(p);
      this.byAddr.set(`${p.address}:${p.homePort}`, p);
      this.byAddr.set(`${p.address}:${p.altPort}`, p);
    }
    for (const b of BYSTANDERS) this.loginBystander(b.id, b.address, b.port, b.options);
    this.nextPing = BYSTANDERS.map((_, i) => 1_000 + i * 500);
  }

  // ── ActionSink ─────────────────────────────────────────────────────────────────────────────
  send(socket: number, address: string, port: number, bytes: Uint8Array): boolean {
    this.out.sends++;
    const c = this.cur;
    if (socket === 0) {
      const p = this.byAddr.get(`${address}:${port}`);
      if (p !== undefined && p.port === port) this.peerHeard(p, bytes);
      if (address === c.address && port === c.port && bytes.length > c.length && !(bytes.length === 10 && c.length === 8)) this.checkAmplification(bytes);
      if (c.takeover !== 0 && address === c.address && port === c.port && bytes.length === 10 && tag(bytes, 6) === 'RPTACK') this.takeoverSalt = readU32(bytes, 6);
    } else if (socket === UPLINK.socket) {
      this.master.last = tag(bytes);
    } else if (socket <= 3 && bytes.length >= 20 && (tag(bytes) === 'DMRE' || tag(bytes) === 'DMRD')) {
      const seen = this.far[socket - 1]!.seen;
      if (seen.length < 16) seen.push([(bytes[8]! << 16) | (bytes[9]! << 8) | bytes[10]!, readU32(bytes, 16)]);
      else seen[this.out.sends & 15] = [(bytes[8]! << 16) | (bytes[9]! << 8) | bytes[10]!, readU32(bytes, 16)];
    }
    // Now and then the "kernel" queues a send, so the core must not reuse the buffer.
    return (this.out.sends & 127) === 0;
  }

  fanOut(frame: Uint8Array, targets: readonly Target[], count: number): boolean {
    this.out.fanOuts++;
    this.out.targets += count;
    if (count > targets.length || frame.length < 15) throw new Error(`fan-out of ${count} to ${targets.length} targets, frame ${frame.length} bytes`);
    return (this.out.fanOuts & 255) === 0;
  }

  log(_e: LogEntry): void {
    this.out.logs++;
  }

  report(_r: CoreReport): void {
    this.out.reports++;
  }

  /** A reply to a fuzzed peer moves its login along (or back to the start). */
  private peerHeard(p: FuzzPeer, b: Uint8Array): void {
    const t = tag(b, 6);
    if (t === 'RPTACK' && b.length === 10) {
      const arg = readU32(b, 6);
      if (p.state === PeerState.Out && this.cur.peer === p) {
        p.salt = arg;
        p.state = PeerState.Salted;
      } else if (p.state === PeerState.Salted && arg === p.id && this.cur.peer === p) p.state = PeerState.Authed;
      else if (p.state === PeerState.Authed && arg === p.id && this.cur.peer === p) p.state = PeerState.Connected;
    } else if (t === 'MSTNAK' || tag(b, 5) === 'MSTCL') {
      p.state = PeerState.Out;
      p.call = null;
    }
  }

  /** A reply longer than its request is only allowed to a logged-in peer. */
  private checkAmplification(b: Uint8Array): void {
    const c = this.cur;
    if (c.socket !== 0) return;
    for (const s of this.core.sessions.values()) if (s.address === c.address && s.port === c.port) return;
    this.findings.push({ kind: 'amplification', index: this.index, detail: `${b.length}-byte ${tag(b, 6)} to ${c.address}:${c.port} for a ${c.length}-byte datagram`, hex: toHex(b) });
  }

  // ── driving ──────────────────────────────────────────────────────────────────────────────────
  private handle(socket: number, address: string, port: number, bytes: Uint8Array, peer: FuzzPeer | null = null, takeover = 0): void {
    this.cur.socket = socket;
    this.cur.address = address;
    this.cur.port = port;
    this.cur.length = bytes.length;
    this.cur.peer = peer;
    this.cur.takeover = takeover;
    this.core.handle({ kind: 'datagram-received', now: this.now, socket, address, port, bytes }, this);
    this.cur.peer = null;
    this.cur.takeover = 0;
  }

  private loginBystander(id: number, address: string, port: number, options: string | null): void {
    let salt = -1;
    const grab: ActionSink = { send: (_s, _a, _p, b) => void (b.length === 10 && (salt = readU32(b, 6))), fanOut() {}, log() {} };
    const h = (bytes: Uint8Array): void => this.core.handle({ kind: 'datagram-received', now: this.now, socket: 0, address, port, bytes }, grab);
    h(encodeRptl(id));
    h(encodeRptk(id, loginDigest(salt, PASS)));
    h(encodeRptc({ peerId: id, callsign: `BY${id % 100}`, slots: '3', softwareId: 'bystander', packageId: 'fuzz' }));
    if (options !== null) h(encodeRpto(id, options));
    const s = this.core.sessions.get(id);
    if (s === undefined || s.state !== 2) throw new Error(`bystander ${id} did not log in`);
  }

  /** Move virtual time to `to`, firing deadlines and bystander pings in time order. */
  advanceTo(to: number): void {
    for (;;) {
      const d = this.core.nextDeadline();
      let bi = 0;
      for (let i = 1; i < this.nextPing.length; i++) if (this.nextPing[i]! < this.nextPing[bi]!) bi = i;
      const b = this.nextPing[bi]!;
      const next = d === null ? b : Math.min(d, b);
      if (next > to) break;
      this.now = Math.max(this.now, next);
      if (b <= next) {
        const by = BYSTANDERS[bi]!;
        this.nextPing[bi] = b + BYSTANDER_PING_MS;
        this.out.pings++;
        this.handle(0, by.address, by.port, encodeRptping(by.id));
      } else {
        this.out.ticks++;
        this.core.handle({ kind: 'ticked', now: this.now }, this);
      }
    }
    this.now = Math.max(this.now, to);
  }

  private dt(): number {
    const r = this.rng.int(1000);
    if (r < 800) return this.rng.int(21);
    if (r < 980) return this.rng.range(20, 200);
    if (r < 998) return this.rng.range(200, 5_000);
    return this.rng.range(5_000, 40_000);
  }

  /** One fuzzed datagram (plus whatever deadlines fall due before it). */
  step(index: number): void {
    this.index = index;
    this.advanceTo(this.now + this.dt());
    const rng = this.rng;
    const which = MIX_NAMES[rng.weighted(MIX_W, MIX_TOTAL)]!;
    this.mixCount[which]!++;
    let socket = 0;
    let from: { address: string; port: number };
    let bytes: Uint8Array;
    let peer: FuzzPeer | null = null;
    let mutateP = 0.4;
    let takeover = 0;
    switch (which) {
      case 'peer': {
        const p = rng.pick(this.peers);
        if (p.state === PeerState.Out && rng.chance(0.05)) p.port = p.port === p.homePort ? p.altPort : p.homePort;
        bytes = peerMessage(rng, p, this.voices);
        from = rng.chance(0.95) ? { address: p.address, port: p.port } : this.strangerAddr();
        peer = from.port === p.port && from.address === p.address ? p : null;
        mutateP = 0.3;
        break;
      }
      case 'stranger': {
        const r = rng.int(100);
        const id = r < 40 ? rng.u32() : r < 70 ? 3_300_000 + rng.int(5000) : r < 85 ? rng.pick(this.peers).id : rng.pick(BYSTANDERS).id;
        bytes = anyPeerMessage(rng, id, this.voices);
        from = this.strangerAddr();
        mutateP = 0.6;
        break;
      }
      case 'spoof': {
        // A bystander's ID from an address that is not the bystander's.
        const by = rng.pick(BYSTANDERS);
        const r = rng.int(3);
        from = r === 0 ? { address: by.address, port: by.port + 1 + rng.int(3) } : r === 1 ? { address: `10.1.9.${rng.range(1, 250)}`, port: by.port } : this.strangerAddr();
        if (this.opts.takeover && rng.chance(0.2)) {
          // The whole login with the right passphrase: RPTL now, RPTK with the salt we get back.
          takeover = by.id;
          this.takeoverSalt = -1;
          this.handle(0, from.address, from.port, encodeRptl(by.id), null, by.id);
          bytes = this.takeoverSalt >= 0 ? encodeRptk(by.id, loginDigest(this.takeoverSalt, PASS)) : encodeRptl(by.id);
          mutateP = 0;
        } else bytes = anyPeerMessage(rng, by.id, this.voices);
        break;
      }
      case 'obp':
      case 'fbp': {
        const i = which === 'obp' ? 0 : rng.chance(0.6) ? 1 : 2;
        const at: Addr = LINK_ADDRS[i]!;
        socket = at.socket;
        bytes = this.far[i]!.frame(rng, this.voices, WALL0 + this.now);
        from = rng.chance(0.9) ? at : this.strangerAddr();
        mutateP = 0.3;
        break;
      }
      case 'uplink':
        socket = UPLINK.socket;
        bytes = this.master.message(rng, this.voices);
        from = rng.chance(0.95) ? UPLINK : this.strangerAddr();
        mutateP = 0.1;
        break;
      case 'capture': {
        const c = rng.pick(this.captured);
        bytes = c.bytes.slice();
        socket = c.socket;
        from = c.socket === 0 ? c : LINK_ADDRS[c.socket - 1] ?? UPLINK;
        // A captured DMRD as one of our logged-in peers: real bursts on the authenticated path.
        const p = rng.pick(this.peers);
        if (socket === 0 && tag(bytes) === 'DMRD' && bytes.length >= 15 && p.state === PeerState.Connected && rng.chance(0.7)) {
          writeU32(bytes, 11, p.id);
          from = { address: p.address, port: p.port };
        } else if (socket === FBP_LINK.socket && tag(bytes) === 'DMRE' && bytes.length === 89 && bytes[55]! > 4 && rng.chance(0.7)) {
          // Brought up to date (FreeDMR's timestamps are old) and signed again.
          refreshDmre(this.far[1]!, bytes, WALL0 + this.now);
        }
        mutateP = 0.5;
        break;
      }
      case 'random':
        bytes = rng.bytes(rng.chance(0.7) ? rng.int(64) : rng.int(400));
        socket = rng.int(SOCKETS);
        from = rng.chance(0.5) ? this.strangerAddr() : rng.pick([...LINK_ADDRS, UPLINK, { address: this.peers[0]!.address, port: this.peers[0]!.port }]);
        mutateP = 0;
        break;
      case 'replay':
      default:
        // The last datagram again, to another socket or from another address.
        bytes = this.donor.slice();
        socket = rng.int(SOCKETS);
        from = rng.chance(0.5) ? this.strangerAddr() : rng.pick([...LINK_ADDRS, UPLINK]);
        mutateP = 0.5;
        break;
    }
    if (mutateP > 0 && rng.chance(mutateP)) {
      bytes = mutate(rng, bytes, this.donor);
      this.out.mutated++;
    }
    const keep = bytes.slice();
    try {
      fuzzCodecs(bytes, this.far[1]!.keys, this.far[0]!.hmac);
    } catch (e) {
      this.finding('codec', index, e, socket, from, keep);
    }
    try {
      this.handle(socket, from.address, from.port, bytes, peer, takeover);
    } catch (e) {
      this.finding('exception', index, e, socket, from, keep);
      throw new WorldBroken();
    }
    this.donor = keep;
  }

  private strangerAddr(): { address: string; port: number } {
    const r = this.rng.u32();
    return { address: `10.3.${r & 7}.${(r >>> 3) & 0xff}`, port: 1024 + ((r >>> 11) % 64_000) };
  }

  private finding(kind: Finding['kind'], index: number, e: unknown, socket: number, from: { address: string; port: number }, bytes: Uint8Array): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.findings.push({ kind, index, detail: err.message, socket, from: `${from.address}:${from.port}`, hex: toHex(bytes), stack: err.stack ?? '' });
  }
}

/** An exception escaped the core: its state can no longer be trusted, so the world is rebuilt. */
export class WorldBroken extends Error {}

/** A captured DMRE with a fresh timestamp, signed again with the far end's key. */
function refreshDmre(fe: FarEnd, frame: Uint8Array, wallNow: number): void {
  const dmrd = frame.slice(0, 55);
  const meta = { version: frame[55]!, sourceServer: readU32(frame, 64), sourceRepeater: readU32(frame, 68), hops: frame[72]! };
  writeDmre(frame, dmrd, meta, wallNow, fe.keys.blake2b);
}
