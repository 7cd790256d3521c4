// The mesh simulation's checker: an independent reading of the wire. It sees every datagram put on
// the virtual network (with the datagram the sending core was handling: its cause) and every
// datagram handed to a core, and knows the topology and what the test's hotspots sent. It never
// asks a core anything. Its own bookkeeping: who is logged in where (HBP sessions of hotspots and
// of uplinks, from RPTL/RPTO/RPTACK/MSTCL/MSTNAK/RPTCL as they cross the wire), the first copy of
// each stream to reach each server, what each server forwarded from which ingress, and each
// (destination, stream) packet set (the test's packets carry their index in the payload, and
// stream IDs are kept across servers).
//
// Rules (violation codes), on every frame of a test stream a server sends:
//  duplicate        the same packet of a stream sent twice to one destination (peer, link, uplink);
//  two-paths        a server forwards one stream from two ingresses (a peer, a link, an uplink's
//                   master, a downstream uplink client): two paths interleaved. FBP only: a switch
//                   from one FBP link to another after the old one has been quiet for
//                   FBP_SWITCH_QUIET_MS is allowed (the lapsing quench of docs/architecture.md);
//  collision        on one HBP lane (destination, slot) a packet of stream Y while stream X is still
//                   live there (no terminator sent and less than the collision window since X).
//                   Lanes belong to a session: a login proven again (RPTK acknowledged by the
//                   master, or an uplink sending RPTL) starts with both slots free;
//  echo-back        a frame sent back to the address it came from;
//  link-transit     a frame that came in on a link leaves on an OpenBridge v1 link, or one from a
//                   v1 link leaves on an FBP link (v1 has no hop count: dmrhub never relays it);
//  uplink-transit   a frame that came in from an uplink's master leaves on an uplink;
//  local-left       a local talkgroup sent on a link, an uplink or to a downstream uplink client, or
//                   heard by a hotspot of another server than the call's;
//  not-carried      a link or uplink send on a talkgroup (and slot) it does not carry;
//  not-subscribed   a hotspot or downstream client sent a talkgroup it has not asked for on that slot;
//  not-connected    DMRD to an HBP session that is not logged in (by the wire);
//  after-end        a server sends a frame of a stream after it forwarded the stream's terminator
//                   (in an earlier event), or after its ingress went quiet for longer than the
//                   stream timeout (the stream ended there);
//  tick-forward     a frame of a test stream sent while no datagram was being handled;
//  hop-limit        (FBP) a DMRE whose hop field, or whose path by the checker's count, exceeds
//                   FBP_HOP_LIMIT;
//  quench-after-end (FBP) a BCSQ for a stream after the stream ended at that server.
// And for streams of the clean phase (no loss, no faults, one call at a time), at `finish`:
//  not-first        the ingress a server forwarded from is not the first copy that reached it;
//  missed           a destination the rules require (below) did not get every packet of the call.
// Required destinations of server S for a stream on talkgroup T whose first copy came from
// ingress I of kind K (peer, client, link, uplink): every hotspot of S logged in with T on a slot;
// every downstream uplink client logged in at S with T on a slot; when T is not local, every link
// of S carrying T unless K is a link (FBP: FBP links unless K is a v1 link), and every uplink of S
// that is up and carries T unless K is an uplink; never I, nor any address that sent S a copy of
// the stream or (FBP) quenched it. Sessions and uplink states are taken when the first copy
// arrives. Since each server forwards by these rules from the first copy it gets, every subscribed
// hotspot reachable under them hears the call exactly once.

import { LOCAL_TGS, FBP_HOP_LIMIT, HBP_PORT, serverAddress, socketsOf, type HotspotSpec, type LinkEdge, type SocketRole, type Topology, type UplinkEdge } from './mesh-topology.js';
import { ep, type Cause, type WireObserver } from './mesh-world.js';

/** FBP: how long an FBP ingress must have been quiet before another may take the stream over. */
export const FBP_SWITCH_QUIET_MS = 360;

export type MeshViolation =
  | 'duplicate'
  | 'two-paths'
  | 'collision'
  | 'echo-back'
  | 'link-transit'
  | 'uplink-transit'
  | 'local-left'
  | 'not-carried'
  | 'not-subscribed'
  | 'not-connected'
  | 'after-end'
  | 'tick-forward'
  | 'hop-limit'
  | 'quench-after-end'
  | 'not-first'
  | 'missed';

const COLLISION_WINDOW_MS = 360;
const STREAM_TIMEOUT_MS = 5000;
const LOCAL_RANGES: [number, number][] = [
  [1, 79],
  [4000, 4000],
  [5000, 5000],
  [9990, 9999],
];
export const isLocalTg = (tg: number): boolean => LOCAL_RANGES.some(([a, b]) => tg >= a && tg <= b);

const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const u24 = (b: Uint8Array, at: number): number => (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
const tag4 = (b: Uint8Array): string => (b.length >= 4 ? String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) : '');
const tagN = (b: Uint8Array, n: number): string => (b.length >= n ? String.fromCharCode(...b.subarray(0, n)) : '');

interface Frame {
  wire: 'hbp' | 'obp' | 'dmre';
  stream: number;
  tg: number;
  slot: 1 | 2;
  terminator: boolean;
  /** The packet's index in its call (payload bytes 4–5 of the test's calls). */
  idx: number;
  /** DMRE hop field (FBP), else -1. */
  hops: number;
}

function readFrame(b: Uint8Array): Frame | null {
  const t = tag4(b);
  let wire: Frame['wire'];
  if (t === 'DMRD' && (b.length === 53 || b.length === 55)) wire = 'hbp';
  else if (t === 'DMRD' && b.length === 73) wire = 'obp';
  else if (t === 'DMRE' && (b.length === 85 || b.length === 89)) wire = 'dmre';
  else return null;
  const flags = b[15]!;
  return {
    wire,
    stream: u32(b, 16),
    tg: u24(b, 8),
    slot: (flags & 0x80) !== 0 ? 2 : 1,
    terminator: (flags & 0x3f) === 0x22,
    idx: (b[24]! << 8) | b[25]!,
    hops: wire === 'dmre' ? b[b.length === 89 ? 72 : 68]! : -1,
  };
}

/** The static talkgroups of an options string of the test's form `TS1=a,b;TS2=c`. */
function parseOptions(text: string): [Set<number>, Set<number>] {
  const out: [Set<number>, Set<number>] = [new Set(), new Set()];
  for (const part of text.split(';')) {
    const m = /^TS([12])=(.*)$/.exec(part.trim());
    if (!m) continue;
    for (const x of m[2]!.split(',')) if (/^[0-9]+$/.test(x.trim())) out[m[1] === '1' ? 0 : 1].add(Number(x));
  }
  return out;
}

type Remote =
  | { kind: 'hotspot'; spec: HotspotSpec }
  | { kind: 'client'; node: number; edge: UplinkEdge }
  | { kind: 'link'; node: number; edge: LinkEdge }
  | { kind: 'master'; node: number };

type IngressKind = 'peer' | 'client' | 'link-openbridge' | 'link-fbp' | 'uplink' | 'other';

interface Session {
  connected: boolean;
  /** The login message the master is answering ('RPTK', 'RPTC', or the options of an RPTO). */
  step: string | null;
  subs: [Set<number>, Set<number>];
}

interface Forwarding {
  source: string;
  sourceKind: IngressKind;
  lastAt: number;
  /** The event in which the terminator was forwarded. */
  endCause: Cause | null;
  /** Ended by the checker's timeout reading (its ingress quiet for longer than the stream timeout). */
  timedOut: boolean;
}

interface FirstArrival {
  key: string;
  kind: IngressKind;
  from: string;
  at: number;
  /** Required destinations (clean streams only), snapshot at the first arrival. */
  required: string[] | null;
}

export interface MeshStats {
  violations: number;
  /** Test packets sent by hotspots, distinct streams among them. */
  hotspotPackets: number;
  /** DMRD frames delivered to hotspots, by server. */
  hotspotFrames: number[];
  linkFrames: number;
  uplinkFrames: number;
  clientFrames: number;
  /** FBP: DMRE frames and BCSQ quenches seen sent. */
  dmreFrames: number;
  quenches: number;
  /** Clean calls checked, (server, destination) pairs required, and those fully delivered. */
  cleanCalls: number;
  cleanRequired: number;
  cleanComplete: number;
  /** Hotspot destinations among the required ones that got the whole call. */
  cleanHotspotsComplete: number;
  maxLineage: number;
}

export class MeshChecker implements WireObserver {
  readonly stats: MeshStats;
  private readonly list: string[] = [];
  private readonly counts = new Map<MeshViolation, number>();
  private readonly remotes = new Map<string, Remote>();
  private readonly roles: SocketRole[][];
  private readonly localEp: string[][];
  /** Master-side HBP sessions: `${node}|${ep}`. */
  private readonly sessions = new Map<string, Session>();
  /** Client-side uplink state: `${node}|${socket}` → up, and the options sent while logging in. */
  private readonly uplinkUp = new Map<string, boolean>();
  private readonly uplinkPending = new Set<string>();
  /** Test streams: origin server and hotspot, talkgroup, and whether it is a clean-phase call. */
  private readonly origins = new Map<number, { server: number; from: string; tg: number; clean: boolean; count: number }>();
  private readonly forwarding = new Map<string, Forwarding>();
  private readonly first = new Map<string, FirstArrival>();
  /** Per server and stream: the addresses that sent it a copy (or FBP quenched it). */
  private readonly copiesFrom = new Map<string, Set<string>>();
  private readonly lastArrival = new Map<string, number>();
  private readonly got = new Map<string, Map<number, number>>();
  private readonly lanes = new Map<string, { stream: number; at: number; terminated: boolean }>();
  private readonly lineage = new Map<string, number>();
  phase: 'chaos' | 'clean' = 'chaos';

  constructor(readonly topology: Topology) {
    this.stats = {
      violations: 0,
      hotspotPackets: 0,
      hotspotFrames: new Array<number>(topology.n).fill(0),
      linkFrames: 0,
      uplinkFrames: 0,
      clientFrames: 0,
      dmreFrames: 0,
      quenches: 0,
      cleanCalls: 0,
      cleanRequired: 0,
      cleanComplete: 0,
      cleanHotspotsComplete: 0,
      maxLineage: 0,
    };
    this.roles = [];
    this.localEp = [];
    for (let i = 0; i < topology.n; i++) {
      const { sockets } = socketsOf(topology, i);
      this.roles.push(sockets.map((s) => s.role));
      this.localEp.push(sockets.map((s) => ep(serverAddress(i), s.port)));
      sockets.forEach((s, k) => {
        const e = ep(serverAddress(i), s.port);
        if (s.role.kind === 'hbp') this.remotes.set(e, { kind: 'master', node: i });
        else if (s.role.kind === 'link') this.remotes.set(e, { kind: 'link', node: i, edge: s.role.edge });
        else this.remotes.set(e, { kind: 'client', node: i, edge: s.role.edge });
        if (s.role.kind === 'uplink') this.uplinkUp.set(`${i}|${k}`, false);
      });
    }
    for (const h of topology.hotspots) this.remotes.set(ep(h.address, h.port), { kind: 'hotspot', spec: h });
  }

  private violation(code: MeshViolation, text: string): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
    this.stats.violations++;
    if (this.list.length < 40) this.list.push(`[${code}] ${text}`);
  }

  count(code: MeshViolation): number {
    return this.counts.get(code) ?? 0;
  }

  /** The violations kept in full (the first 40), and a count line per code. */
  violations(ignore: readonly MeshViolation[] = []): string[] {
    const kept = this.list.filter((v) => !ignore.some((c) => v.startsWith(`[${c}]`)));
    const more = [...this.counts].filter(([c]) => !ignore.includes(c)).map(([c, n]) => `${c}: ${n}`);
    return kept.length === 0 && more.length === 0 ? [] : [...kept, `counts: ${more.join(', ')}`];
  }

  private ingressKind(node: number, socket: number, from: string): IngressKind {
    const role = this.roles[node]![socket]!;
    if (role.kind === 'link') return role.edge.protocol === 'fbp' ? 'link-fbp' : 'link-openbridge';
    if (role.kind === 'uplink') return 'uplink';
    const r = this.remotes.get(from);
    return r?.kind === 'hotspot' ? 'peer' : r?.kind === 'client' ? 'client' : 'other';
  }

  /** Is the uplink on `socket` of `node` up, by the wire? */
  uplinkIsUp(node: number, socket: number): boolean {
    return this.uplinkUp.get(`${node}|${socket}`) === true;
  }

  /** Is `who` logged in at server `node`, by the wire? */
  loggedIn(node: number, who: string): boolean {
    return this.sessions.get(`${node}|${who}`)?.connected === true;
  }

  // ── arrivals ──

  arrived(at: number, node: number, socket: number, from: string, b: Uint8Array): void {
    const role = this.roles[node]![socket]!;
    const t = tag4(b);
    if (role.kind === 'hbp' && t !== 'DMRD') {
      const key = `${node}|${from}`;
      const s = this.sessions.get(key) ?? { connected: false, step: null, subs: [new Set(), new Set()] };
      this.sessions.set(key, s);
      // An RPTL changes nothing: the session stays until the newcomer proves the passphrase.
      if (tagN(b, 5) === 'RPTCL') {
        s.connected = false;
        s.step = null;
      } else if (t === 'RPTK' || t === 'RPTC') s.step = t;
      else if (t === 'RPTO' && b.length > 8) s.step = `options:${String.fromCharCode(...b.subarray(8)).replace(/\0+$/, '')}`;
      else s.step = null;
      return;
    }
    if (role.kind === 'uplink' && t !== 'DMRD') {
      const key = `${node}|${socket}`;
      if (tagN(b, 6) === 'RPTACK' && this.uplinkPending.has(key)) {
        this.uplinkPending.delete(key);
        this.uplinkUp.set(key, true);
      } else if (tagN(b, 6) === 'MSTNAK' || tagN(b, 5) === 'MSTCL') {
        this.uplinkPending.delete(key);
        this.uplinkUp.set(key, false);
      }
      return;
    }
    if (t === 'BCSQ' && b.length === 31) {
      // FBP: the far end quenched this stream; it need not get it any more.
      const k = `${node}|${u32(b, 7)}`;
      let set = this.copiesFrom.get(k);
      if (!set) this.copiesFrom.set(k, (set = new Set()));
      set.add(from);
      return;
    }
    const f = readFrame(b);
    if (f === null || !this.origins.has(f.stream)) return;
    const k = `${node}|${f.stream}`;
    let set = this.copiesFrom.get(k);
    if (!set) this.copiesFrom.set(k, (set = new Set()));
    set.add(from);
    const key = `${socket}|${from}`;
    // FBP: a call leaves its first server with hop 1 and each receiver adds one; a frame that would
    // arrive above the limit is refused there (spec §3.5), so that server owes it to nobody.
    if (f.wire === 'dmre' && f.hops + 1 > FBP_HOP_LIMIT) return;
    if (!this.first.has(k)) {
      const kind = this.ingressKind(node, socket, from);
      const o = this.origins.get(f.stream)!;
      this.first.set(k, { key, kind, from, at, required: o.clean ? this.required(node, o.tg, kind, from, o.from) : null });
    }
    // The stream's ingress at this server went quiet for longer than the stream timeout: it ended.
    const fw = this.forwarding.get(k);
    const la = `${k}|${key}`;
    const last = this.lastArrival.get(la);
    if (fw !== undefined && fw.source === key && last !== undefined && at - last > STREAM_TIMEOUT_MS + 20) fw.timedOut = true;
    this.lastArrival.set(la, at);
  }

  /** Where server `node` must send a stream on `tg` whose first copy came from `from` (kind `kind`). */
  private required(node: number, tg: number, kind: IngressKind, from: string, origin: string): string[] {
    const out: string[] = [];
    for (const h of this.topology.hotspots) {
      const e = ep(h.address, h.port);
      if (h.server === node && e !== origin && e !== from && (h.ts1.includes(tg) || h.ts2.includes(tg)) && this.loggedIn(node, e)) out.push(e);
    }
    for (const [key, s] of this.sessions) {
      const [n, who] = [Number(key.slice(0, key.indexOf('|'))), key.slice(key.indexOf('|') + 1)];
      if (n !== node || !s.connected || who === from || this.remotes.get(who)?.kind !== 'client') continue;
      if (s.subs[0].has(tg) || s.subs[1].has(tg)) out.push(who);
    }
    if (isLocalTg(tg)) return out;
    this.roles[node]!.forEach((role, socket) => {
      if (role.kind === 'link') {
        const to = ep(serverAddress(role.peer), socketsOf(this.topology, role.peer).sockets.find((s) => s.role.kind === 'link' && s.role.edge === role.edge)!.port);
        if (to === from || !this.linkCarries(role.edge, tg)) return;
        const fbpOut = role.edge.protocol === 'fbp';
        // v1 ingress: no link at all; FBP ingress: FBP links only.
        if (kind === 'link-openbridge' || (kind === 'link-fbp' && !fbpOut)) return;
        out.push(to);
      } else if (role.kind === 'uplink') {
        const to = ep(serverAddress(role.master), HBP_PORT);
        if (kind === 'uplink' || to === from || !this.uplinkIsUp(node, socket)) return;
        if (role.edge.ts1.includes(tg) || role.edge.ts2.includes(tg)) out.push(to);
      }
    });
    return out;
  }

  private linkCarries(e: LinkEdge, tg: number): boolean {
    return !isLocalTg(tg) && (e.talkgroups.length === 0 || e.talkgroups.includes(tg));
  }

  // ── sends ──

  sent(at: number, node: number | null, socket: number, from: string, to: string, b: Uint8Array, cause: Cause | null): void {
    if (node === null) return this.hotspotSent(from, b);
    const t = tag4(b);
    const role = this.roles[node]![socket]!;
    if (role.kind === 'hbp' && t !== 'DMRD') return this.masterReply(node, to, b);
    if (role.kind === 'uplink' && t !== 'DMRD') {
      const key = `${node}|${socket}`;
      if (t === 'RPTL' || tagN(b, 5) === 'RPTCL') {
        this.uplinkUp.set(key, false);
        this.uplinkPending.delete(key);
        this.resetLanes(node, to);
      } else if (t === 'RPTO') this.uplinkPending.add(key);
      return;
    }
    if (t === 'BCSQ' && b.length === 31) {
      // FBP: a quench must not outlive its stream.
      this.stats.quenches++;
      const stream = u32(b, 7);
      const fw = this.forwarding.get(`${node}|${stream}`);
      if (fw !== undefined && (fw.timedOut || (fw.endCause !== null && fw.endCause !== cause)))
        this.violation('quench-after-end', `server ${node} quenched stream ${hex(stream)} on ${to} after it ended there (t=${at})`);
      return;
    }
    const f = readFrame(b);
    if (f === null) return;
    const origin = this.origins.get(f.stream);
    if (origin === undefined) return;
    const what = `server ${node} stream ${hex(f.stream)} #${f.idx} TG ${f.tg} to ${to} (t=${at})`;
    if (cause === null) return this.violation('tick-forward', what);
    const k = `${node}|${f.stream}`;
    const inKind = this.ingressKind(node, cause.socket, cause.from);
    const inKey = `${cause.socket}|${cause.from}`;

    // One ingress per stream and server; it ends once.
    let fw = this.forwarding.get(k);
    if (fw === undefined) this.forwarding.set(k, (fw = { source: inKey, sourceKind: inKind, lastAt: at, endCause: null, timedOut: false }));
    else if (fw.source !== inKey) {
      const fbpSwitch = fw.sourceKind === 'link-fbp' && inKind === 'link-fbp' && at - fw.lastAt >= FBP_SWITCH_QUIET_MS;
      if (!fbpSwitch) this.violation('two-paths', `${what}: from ${cause.from} (${inKind}) after ${fw.source} (${fw.sourceKind})`);
      fw.source = inKey;
      fw.sourceKind = inKind;
    }
    if (fw.timedOut || (fw.endCause !== null && fw.endCause !== cause)) this.violation('after-end', `${what}: ${fw.timedOut ? 'its ingress was quiet longer than the stream timeout' : 'after its terminator'}`);
    fw.lastAt = at;
    if (f.terminator && fw.endCause === null) fw.endCause = cause;

    if (to === cause.from) this.violation('echo-back', what);
    const remote = this.remotes.get(to);
    const local = isLocalTg(f.tg);
    if (role.kind === 'link') {
      this.stats.linkFrames++;
      if (inKind === 'link-openbridge' || (inKind === 'link-fbp' && role.edge.protocol === 'openbridge'))
        this.violation('link-transit', `${what}: came in on ${inKind} from ${cause.from}`);
      if (local) this.violation('local-left', `${what}: on a link`);
      else if (!this.linkCarries(role.edge, f.tg)) this.violation('not-carried', `${what}: link carries ${role.edge.talkgroups.join(',')}`);
    } else if (role.kind === 'uplink') {
      this.stats.uplinkFrames++;
      if (inKind === 'uplink') this.violation('uplink-transit', `${what}: came in from the master at ${cause.from}`);
      if (local) this.violation('local-left', `${what}: on an uplink`);
      else if (!(f.slot === 1 ? role.edge.ts1 : role.edge.ts2).includes(f.tg)) this.violation('not-carried', `${what}: uplink carries TS1 ${role.edge.ts1} TS2 ${role.edge.ts2}, sent on TS${f.slot}`);
      if (!this.uplinkIsUp(node, socket)) this.violation('not-connected', `${what}: the uplink is not up`);
    } else if (remote?.kind === 'hotspot' || remote?.kind === 'client') {
      const s = this.sessions.get(`${node}|${to}`);
      if (s === undefined || !s.connected) this.violation('not-connected', what);
      else if (!s.subs[f.slot - 1]!.has(f.tg)) this.violation('not-subscribed', `${what} on TS${f.slot}`);
      if (remote.kind === 'client') {
        this.stats.clientFrames++;
        if (local) this.violation('local-left', `${what}: to a downstream uplink client`);
      } else {
        this.stats.hotspotFrames[node]!++;
        if (local && origin.server !== node) this.violation('local-left', `${what}: a call of server ${origin.server}`);
      }
    }

    // FBP: hops, by the header and by the checker's own count of FBP links crossed.
    if (f.wire === 'dmre') {
      this.stats.dmreFrames++;
      const before = inKind === 'link-fbp' ? (this.lineage.get(`${this.localEp[node]![cause.socket]}|${f.stream}`) ?? 0) : 0;
      const mine = before + 1;
      this.lineage.set(`${to}|${f.stream}`, mine);
      this.stats.maxLineage = Math.max(this.stats.maxLineage, mine);
      if (f.hops > FBP_HOP_LIMIT || mine > FBP_HOP_LIMIT) this.violation('hop-limit', `${what}: hop field ${f.hops}, ${mine} FBP links crossed`);
    }

    // Each packet once per destination.
    const gk = `${node}|${to}|${f.stream}`;
    let g = this.got.get(gk);
    if (!g) this.got.set(gk, (g = new Map()));
    const n = g.get(f.idx) ?? 0;
    g.set(f.idx, n + 1);
    if (n > 0) this.violation('duplicate', what);

    // HBP lanes: one stream at a time per slot.
    if (f.wire === 'hbp') {
      const lk = `${node}|${to}|${f.slot}`;
      const lane = this.lanes.get(lk);
      if (lane !== undefined && lane.stream !== f.stream && !lane.terminated && at - lane.at < COLLISION_WINDOW_MS)
        this.violation('collision', `${what} on TS${f.slot}: stream ${hex(lane.stream)} had a packet ${at - lane.at} ms before and no terminator`);
      if (lane === undefined || lane.stream !== f.stream) this.lanes.set(lk, { stream: f.stream, at, terminated: f.terminator });
      else {
        lane.at = at;
        lane.terminated ||= f.terminator;
      }
    }
  }

  private hotspotSent(from: string, b: Uint8Array): void {
    const f = readFrame(b);
    if (f === null) return;
    const r = this.remotes.get(from);
    if (r?.kind !== 'hotspot') return;
    this.stats.hotspotPackets++;
    if (!this.origins.has(f.stream)) this.origins.set(f.stream, { server: r.spec.server, from, tg: f.tg, clean: this.phase === 'clean', count: 0 });
  }

  /** A control message from a master to a peer (hotspot or downstream uplink client). */
  private masterReply(node: number, to: string, b: Uint8Array): void {
    const s = this.sessions.get(`${node}|${to}`);
    if (s === undefined) return;
    if (tagN(b, 6) === 'RPTACK') {
      // RPTK proven: the old session (if any) is replaced by one waiting for its config. RPTC:
      // logged in, with the server's default statics (none in the mesh). RPTO: its options.
      if (s.step === 'RPTK') {
        s.connected = false;
        this.resetLanes(node, to);
      }
      else if (s.step === 'RPTC' && !s.connected) {
        s.connected = true;
        s.subs = [new Set(), new Set()];
      } else if (s.step?.startsWith('options:') && s.connected) s.subs = parseOptions(s.step.slice(8));
      s.step = null;
    } else if (tagN(b, 5) === 'MSTCL' || (tagN(b, 6) === 'MSTNAK' && s.step !== 'RPTK')) {
      // MSTNAK to an RPTK (a late duplicate: its challenge is gone) leaves the session as it is.
      s.connected = false;
      s.step = null;
    }
  }

  /**
   * A new HBP session between `node` and `to` (a login proven at the master, or an uplink logging
   * in again): its slots start free. Lanes belong to a session; the old one's calls ended with it.
   */
  private resetLanes(node: number, to: string): void {
    this.lanes.delete(`${node}|${to}|1`);
    this.lanes.delete(`${node}|${to}|2`);
  }

  // ── the clean phase ──

  /** Declare how many packets each clean call has (the test knows; the wire may not show it). */
  cleanCall(stream: number, count: number): void {
    const o = this.origins.get(stream);
    if (o !== undefined) o.count = count;
  }

  /** After the run: every clean call reached every required destination, in full, from its first copy. */
  finish(): void {
    for (const [stream, o] of this.origins) {
      if (!o.clean) continue;
      this.stats.cleanCalls++;
      for (let node = 0; node < this.topology.n; node++) {
        const k = `${node}|${stream}`;
        const fa = this.first.get(k);
        if (fa === undefined) continue;
        const fw = this.forwarding.get(k);
        if (fw !== undefined && fw.source !== fa.key) this.violation('not-first', `server ${node} stream ${hex(stream)}: forwarded from ${fw.source}, first copy from ${fa.key}`);
        const exempt = this.copiesFrom.get(k) ?? new Set<string>();
        for (const to of fa.required ?? []) {
          if (exempt.has(to)) continue;
          this.stats.cleanRequired++;
          const g = this.got.get(`${node}|${to}|${stream}`);
          let missing = 0;
          for (let i = 0; i < o.count; i++) if ((g?.get(i) ?? 0) === 0) missing++;
          if (missing > 0) this.violation('missed', `server ${node} stream ${hex(stream)} TG ${o.tg} (from server ${o.server}, first copy via ${fa.kind} ${fa.from}): ${to} missed ${missing} of ${o.count} packets`);
          else {
            this.stats.cleanComplete++;
            if (this.remotes.get(to)?.kind === 'hotspot') this.stats.cleanHotspotsComplete++;
          }
        }
      }
    }
  }

  /** Servers that got a copy of `stream` (for sanity numbers). */
  reached(stream: number): number[] {
    const out: number[] = [];
    for (let node = 0; node < this.topology.n; node++) if (this.first.has(`${node}|${stream}`)) out.push(node);
    return out;
  }
}

const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
export { LOCAL_TGS };
