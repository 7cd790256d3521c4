// An invariant checker that watches a run of the routing core from the outside: every event handed
// to the core and every action the core emits. It keeps its own model of who is logged in where and
// which (peer, slot) subscribes to which talkgroup, built only from the datagrams it saw, the
// replies the core sent (RPTACK to RPTK/RPTC/RPTO) and the `peer.logout` log entries, with talkgroup
// lists parsed by its own reading of the options grammar (spec §4.4). It never looks at the core's
// subscription index; when given the core it compares its model with `core.peers()` as an extra
// check.
//
// Usage:
//   const checker = new InvariantChecker({ core });
//   const sink = checker.wrap(innerSink);          // forwards every action to innerSink
//   checker.handle(core, event, sink);             // = observeEvent(event); core.handle; afterEvent()
//   …
//   checker.finish(core);                          // after advancing past streamTimeoutMs
//   expect(checker.violations()).toEqual([]);
//
// Invariants checked on every group packet delivered (fan-out target, or a DMRD `send`):
//  - the receiver is logged in (connected) at the address it is sent to;
//  - the receiver's slot (bit 7 of byte 15 as received) subscribes to the talkgroup in [8:11);
//  - on a (receiver, slot), a packet of stream Y follows one of stream X ≠ Y only if X's terminator
//    was delivered there before, or at least collisionWindowMs passed since X's last packet there;
//  - the same packet (stream, seq, payload…) never reaches the same (receiver, slot) twice (a peer
//    subscribed to one talkgroup on both slots gets it once on each);
//  - the packet was sent to the server by a logged-in peer (equal to a received DMRD after undoing
//    the peer-ID and slot-bit rewrite, and the 53→55 byte padding), and not by the receiver itself
//    (not even when another peer sent the same bytes too: one radio heard by two hotspots);
//  - the packet belongs to a stream that is live (a `call.start` without its `call.end` yet).
// An echo playback (a stream the core makes itself) is checked differently: it goes only to a
// (peer, slot) that made a call to the echo talkgroup before, from the same talker, on the echo
// talkgroup (group call) or TG 9 (private call); the slot-collision rule applies to it like to any
// stream.
// OpenBridge links (cfg.links, each on its own socket) are watched from both ends:
//  - a datagram on a link's socket is read the way the spec says a link frame is checked (length
//    and tag, source address when checkSource, HMAC under the link key, network ID, TS1 group
//    call, talkgroup not local, not prohibited and on the link's list if it has one). A frame that
//    passes counts as sent by that link (so its deliveries to peers go through every check above:
//    connected, subscribed, live stream, no duplicate, slot contention); a frame that fails must
//    produce no action at all;
//  - a send on a link's socket goes to the link's far end, is 73 bytes, TS1, signed with the
//    link's key, carries this server's ID (or the talker's with preserveSourcePeer) and a
//    talkgroup the link carries; it is made only while a peer's DMRD of the same stream is
//    handled, from a packet a peer sent (never one a link sent: no transit), of a live stream;
//  - a stream ID is forwarded (to peers or links) from one source only (a peer, a link, or the
//    core's own playouts) while the core still remembers it (streamIdMemoryMs).
// At the end of a run (finish): every `call.start` has its `call.end`, and `live-streams` is 0.
// Control replies go only to the datagram's sender, except MSTCL to a session's own address.
// Each violation has a code (ViolationCode); `violations({ ignore })` can leave out a code that a
// separate test pins as a known core issue.

import type { ActionSink, Core, CoreConfig, CoreEvent, CoreReport, LinkConfig, LogEntry, Target } from '../../src/core/index.js';
import { obpKey, verifyObp } from '../../src/protocol/index.js';
import { hmacSha1 } from './crypto.js';

const TAG_RPTACK = [0x52, 0x50, 0x54, 0x41, 0x43, 0x4b]; // 'RPTACK'
const TAG_MSTCL = [0x4d, 0x53, 0x54, 0x43, 0x4c]; // 'MSTCL'
const PROBE_ID = 0xffffffff;

const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const u24 = (b: Uint8Array, at: number): number => (b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!;
const startsWith = (b: Uint8Array, tag: readonly number[]): boolean => b.length >= tag.length && tag.every((c, i) => b[i] === c);
const tag4 = (b: Uint8Array): string => (b.length >= 4 ? String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) : '');

/** Is this a DMRD the core may process (right length, non-null stream ID)? */
function isDmrd(b: Uint8Array): boolean {
  return tag4(b) === 'DMRD' && (b.length === 53 || b.length === 55) && (b[16]! | b[17]! | b[18]! | b[19]!) !== 0;
}

/**
 * The static talkgroups an options string asks for, by this checker's reading of the grammar
 * (spec §4.4 as dmrhub scopes it): drop NUL, non-ASCII and quote bytes; split on ';'; an element is
 * `key=value` with exactly one '='; keys `TS1` and `TS2` (in any case, the last one wins) take a
 * comma list of 1–8 digit decimals in 1..16777214, duplicates dropped, at most `limit` kept; every
 * other key is ignored; an absent key means no statics on that slot.
 */
export function staticTalkgroups(raw: Uint8Array, limit: number): [number[], number[]] {
  let text = '';
  for (const c of raw) if (c !== 0 && c < 0x80 && c !== 0x22 && c !== 0x27) text += String.fromCharCode(c);
  // FreeDMR's rule: a repeated TS1= / TS2= replaces the earlier one; TS1_1…TS1_9 (TS2_n) add to it.
  const plain: [string, string] = ['', ''];
  const numbered: [string[], string[]] = [[], []];
  // DIAL= / StartRef= (a default reflector on the TG 9 lane) is not a static talkgroup: the core
  // reports that subscription (source default-reflector), and it comes and goes with unlinks and
  // expiries, so the model follows it from the reports.
  for (const piece of text.split(';')) {
    const el = piece.trim();
    if (el === '') continue;
    const parts = el.split('=');
    if (parts.length !== 2 || parts[0]!.trim() === '' || el.startsWith('=')) continue;
    const key = parts[0]!.trim();
    const m = /^TS([12])(_[1-9])?$/i.exec(key);
    if (!m) continue;
    const i = m[1] === '1' ? 0 : 1;
    if (m[2] === undefined) plain[i] = parts[1]!;
    else numbered[i].push(parts[1]!);
  }
  const out: [number[], number[]] = [[], []];
  for (const i of [0, 1] as const) {
    const list: number[] = [];
    for (const tok of [plain[i], ...numbered[i]].join(',').split(',')) {
      const t = tok.trim();
      if (!/^[0-9]{1,8}$/.test(t)) continue;
      const n = parseInt(t, 10);
      if (n < 1 || n > 0xfffffe || list.includes(n) || list.length >= limit) continue;
      list.push(n);
    }
    out[i] = list;
  }
  return out;
}

/**
 * What a violation is about. `link-frame`: a malformed, unsigned, TS2 or misaddressed send on a
 * link; `link-talkgroup`: a link send on a talkgroup the link must not carry; `link-transit`: a link
 * send that is not a peer's packet being handled (a link's call passed on to a link, or a stream
 * of the core's own); `link-refused`: an action caused by an inbound link frame that fails a check;
 * `stream-two-sources`: a stream ID forwarded from two sources while still remembered (a loop let
 * through). `collision` is two live streams interleaved on one slot;
 * `slot-freed-by-end` is a new stream within the collision window after one that the core ended
 * without delivering its terminator (sender gone, superseded), so nothing was interleaved but the
 * rule "terminator or collision window" was not kept. `tg-changed-mid-stream` is a packet whose
 * [8:11) names another talkgroup than its stream started on, delivered to a slot that subscribes
 * only to the stream's talkgroup. Both are kept apart so a test can pin a known core issue alone.
 */
export type ViolationCode =
  | 'not-connected'
  | 'not-subscribed'
  | 'tg-changed-mid-stream'
  | 'collision'
  | 'slot-freed-by-end'
  | 'duplicate'
  | 'never-sent'
  | 'own-packet'
  | 'stream-not-live'
  | 'stream-not-ended'
  | 'fan-out'
  | 'misaddressed-reply'
  | 'session-model'
  | 'core-disagrees'
  | 'link-frame'
  | 'link-talkgroup'
  | 'link-transit'
  | 'link-refused'
  | 'stream-two-sources';

interface ModelSession {
  peerId: number;
  address: string;
  port: number;
  connected: boolean;
  /** Whether the peer sent options (else the config defaults apply). */
  hasOptions: boolean;
  /** Static talkgroups by slot, by the checker's own reading of the options: [TS1, TS2]. */
  subs: [Set<number>, Set<number>];
  /**
   * Talkgroups joined by the core on its own (user activation, dial links, default reflector), as
   * its subscription reports said: [TS1, TS2]. Kept apart from the statics, so a report can never
   * change what the checker derived from the options.
   */
  dyn: [Set<number>, Set<number>];
}

interface LaneState {
  stream: number;
  at: number;
  terminated: boolean;
}

interface Receiver {
  /**
   * Packet numbers (see `sent`) this receiver got, by slot. A peer that subscribes to one talkgroup
   * on both slots (a duplex repeater) is meant to get it on both, so "twice" means twice on one slot.
   */
  got: [Set<number>, Set<number>];
  lanes: [LaneState | null, LaneState | null];
}

interface FrameInfo {
  key: string;
  sent: SentPacket | undefined;
  tg: number;
  src: number;
  stream: number;
  terminator: boolean;
}

interface SentPacket {
  id: number;
  /** Peer IDs that sent exactly this packet (after normalisation); a link counts as -socket. */
  senders: Set<number>;
}

export interface CheckerStats {
  /** DMRD datagrams from logged-in peers that the checker recorded (including duplicates). */
  dmrdFromPeers: number;
  /** Distinct packets among them. */
  distinctPackets: number;
  /** Frames handed to fan-out, and packets delivered to receivers. */
  frames: number;
  deliveries: number;
  deliveriesByTg: Map<number, number>;
  deliveriesByPeer: Map<number, number>;
  /** Deliveries that were echo playbacks. */
  echoFrames: number;
  /** Subscriptions the core added on its own, by source (user activation, dial, default reflector). */
  dynamicAdds: Map<string, number>;
  streamsStarted: number;
  endReasons: Map<string, number>;
  /** Datagrams on link sockets; those that pass the checks up to the network ID (the core's link.<name>.in); those accepted. */
  linkFramesIn: number;
  linkFramesAuthentic: number;
  linkFramesAccepted: number;
  /** Link datagrams refused, by the reason this checker reads. */
  linkRefused: Map<string, number>;
  /** Deliveries to peers of packets a link sent. */
  linkDeliveries: number;
  /** Sends on link sockets, by talkgroup; those whose talkgroup differs from the peer's packet (TG 9 dial lane). */
  linkSends: number;
  linkSendsByTg: Map<number, number>;
  linkSendsRewritten: number;
  /** Most streams live at once (call.start minus call.end). */
  maxLive: number;
  live: number;
  logouts: Map<string, number>;
  logins: number;
}

export interface CheckerOptions {
  /** When given, the model is compared with `core.peers()` after every event that may change sessions. */
  core?: Core;
  /** Violations kept in full (the rest are only counted). */
  keep?: number;
}

export class InvariantChecker {
  private cfg: CoreConfig | null = null;
  private readonly core: Core | null;
  private readonly keep: number;
  private readonly list: { code: ViolationCode; text: string }[] = [];
  private readonly counts = new Map<ViolationCode, number>();

  private now = 0;
  private eventNo = 0;
  private current: {
    kind: CoreEvent['kind'];
    address?: string;
    port?: number;
    bytes?: Uint8Array;
    /** For a datagram: who sent it ('peer:<id>' from its bytes 11-14, 'link:<socket>'), and its stream ID (-1: not a DMRD). */
    source?: string;
    stream?: number;
    /** For a link datagram: why it must be refused (null: accepted, or not a link's). */
    refused?: string | null;
  } | null = null;
  /** Something that may change sessions happened in this event. */
  private dirty = false;

  private readonly sessions = new Map<number, ModelSession>();
  private readonly receivers = new Map<string, Receiver>();
  private readonly sent = new Map<string, SentPacket>();
  /** The same packets by `looseKey`, for frames the core rewrote for a dial-a-TG lane. */
  private readonly sentLoose = new Map<string, SentPacket>();
  /** Talkers (src) each `peer/slot` has sent calls to the echo talkgroup from: group and private. */
  private readonly echoCallers = new Map<string, { group: Set<number>; unit: Set<number> }>();
  /** call.start count minus call.end count, by stream ID. */
  private readonly open = new Map<number, number>();
  /** The talkgroup each stream started on (call.start). */
  private readonly streamTg = new Map<number, number>();
  /** When and why each stream last ended (call.end). */
  private readonly ended = new Map<number, { at: number; reason: string }>();
  /** Per stream ID: each source its packets were forwarded from, and when last. */
  private readonly streamSources = new Map<number, Map<string, number>>();
  /** Link keys by passphrase. */
  private readonly linkKeys = new Map<string, Uint8Array>();

  readonly stats: CheckerStats = {
    dmrdFromPeers: 0,
    distinctPackets: 0,
    frames: 0,
    deliveries: 0,
    deliveriesByTg: new Map(),
    deliveriesByPeer: new Map(),
    echoFrames: 0,
    dynamicAdds: new Map(),
    streamsStarted: 0,
    endReasons: new Map(),
    linkFramesIn: 0,
    linkFramesAuthentic: 0,
    linkFramesAccepted: 0,
    linkRefused: new Map(),
    linkDeliveries: 0,
    linkSends: 0,
    linkSendsByTg: new Map(),
    linkSendsRewritten: 0,
    maxLive: 0,
    live: 0,
    logouts: new Map(),
    logins: 0,
  };

  constructor(opts: CheckerOptions = {}) {
    this.core = opts.core ?? null;
    this.keep = opts.keep ?? 50;
  }

  /**
   * Violations seen so far: the first `keep` of each code in full, then a count of the rest.
   * `ignore` leaves out the given codes (for a known core issue that is tested on its own).
   */
  violations(opts: { ignore?: readonly ViolationCode[] } = {}): string[] {
    const ignore = new Set(opts.ignore ?? []);
    const out = this.list.filter((v) => !ignore.has(v.code)).map((v) => `[${v.code}] ${v.text}`);
    for (const [code, n] of this.counts) {
      const shown = this.list.filter((v) => v.code === code).length;
      if (!ignore.has(code) && n > shown) out.push(`[${code}] … and ${n - shown} more`);
    }
    return out;
  }

  /** How many violations of `code` were seen. */
  count(code: ViolationCode): number {
    return this.counts.get(code) ?? 0;
  }

  /** Talkgroups the model says (peer, slot) subscribes to, or null when the peer is not connected. */
  subscriptions(peerId: number): { ts1: number[]; ts2: number[] } | null {
    const s = this.sessions.get(peerId);
    if (!s || !s.connected) return null;
    const sorted = (x: Set<number>): number[] => [...x].sort((a, b) => a - b);
    const both = (i: 0 | 1): Set<number> => new Set([...s.subs[i], ...s.dyn[i]]);
    return { ts1: sorted(both(0)), ts2: sorted(both(1)) };
  }

  /** Talkgroups with at least one connected, subscribed (peer, slot) in the model right now. */
  listenedTalkgroups(): Set<number> {
    const out = new Set<number>();
    for (const s of this.sessions.values()) if (s.connected) for (const set of s.subs) for (const tg of set) out.add(tg);
    return out;
  }

  /** Drive one event through the core with observation on both sides. `sink` must come from wrap(). */
  handle(core: Core, ev: CoreEvent, sink: ActionSink): void {
    this.observeEvent(ev);
    core.handle(ev, sink);
    this.afterEvent();
  }

  /** An ActionSink that observes every action and forwards it to `inner`. */
  wrap(inner: ActionSink): ActionSink {
    return {
      send: (socket, address, port, bytes) => {
        this.onSend(socket, address, port, bytes);
        inner.send(socket, address, port, bytes);
      },
      fanOut: (frame, targets, count) => {
        this.onFanOut(frame, targets, count);
        return inner.fanOut(frame, targets, count);
      },
      log: (entry) => {
        this.onLog(entry);
        inner.log(entry);
      },
      report: (r) => {
        this.onReport(r);
        inner.report?.(r);
      },
    };
  }

  /** Call with each event before the core handles it (the core may rewrite datagram bytes in place). */
  observeEvent(ev: CoreEvent): void {
    this.now = ev.now;
    this.eventNo++;
    this.dirty = false;
    switch (ev.kind) {
      case 'started':
      case 'config-applied':
        this.cfg = ev.config;
        this.current = { kind: ev.kind };
        this.applyDefaultsToAll();
        this.dirty = true;
        return;
      case 'datagram-received': {
        const bytes = ev.bytes.slice();
        const stream = bytes.length >= 20 && tag4(bytes) === 'DMRD' ? u32(bytes, 16) : -1;
        const link = ev.socket !== 0 ? this.linkOn(ev.socket) : undefined;
        this.current = { kind: ev.kind, address: ev.address, port: ev.port, bytes, stream };
        if (link !== undefined) {
          this.current.source = `link:${link.socket}`;
          this.current.refused = this.recordLinkFrame(link, bytes, ev.address, ev.port);
        } else {
          this.current.source = bytes.length >= 15 ? `peer:${u32(bytes, 11)}` : 'peer:?';
          if (isDmrd(bytes)) this.recordSent(bytes, ev.address, ev.port);
          else this.dirty = true;
        }
        return;
      }
      default:
        this.current = { kind: ev.kind };
        return;
    }
  }

  /** Call after the core handled the event. */
  afterEvent(): void {
    if (this.dirty && this.core !== null) this.crossCheck(this.core);
    this.current = null;
  }

  /** End-of-run checks: call after advancing time past streamTimeoutMs with no traffic left. */
  finish(core: Core): void {
    for (const [stream, n] of this.open) {
      if (n !== 0) this.violation('stream-not-ended', `stream ${hex(stream)}: ${n > 0 ? `${n} call.start without call.end` : `${-n} call.end without call.start`}`);
    }
    const live = core.stats().find(([k]) => k === 'live-streams')?.[1];
    if (live !== 0) this.violation('stream-not-ended', `live-streams stat is ${live} at the end of the run`);
    if (this.core !== null) this.crossCheck(this.core);
  }

  // ── observation ────────────────────────────────────────────────────────────────────────────

  private violation(code: ViolationCode, text: string): void {
    const n = (this.counts.get(code) ?? 0) + 1;
    this.counts.set(code, n);
    if (n <= this.keep) this.list.push({ code, text: `@${this.now} (event ${this.eventNo}) ${text}` });
  }

  /** Subscriptions the core made or dropped on its own (not the static ones, which the model derives). */
  private onReport(r: CoreReport): void {
    if (r.report !== 'subscription' || r.source === 'default' || r.source === 'options') return;
    const s = this.sessions.get(r.peer);
    if (!s) return;
    const set = s.dyn[r.slot === 2 ? 1 : 0];
    if (r.change === 'added') {
      set.add(r.tg);
      this.stats.dynamicAdds.set(r.source, (this.stats.dynamicAdds.get(r.source) ?? 0) + 1);
    }
    else set.delete(r.tg);
    this.dirty = true;
  }

  private recordSent(bytes: Uint8Array, address: string, port: number): void {
    const peerId = u32(bytes, 11);
    const s = this.sessions.get(peerId);
    if (!s || !s.connected || s.address !== address || s.port !== port) return;
    const echoTg = this.cfg?.echo?.tg ?? 0;
    if (echoTg !== 0 && u24(bytes, 8) === echoTg) {
      const k = `${peerId}/${(bytes[15]! & 0x80) !== 0 ? 2 : 1}`;
      let e = this.echoCallers.get(k);
      if (!e) this.echoCallers.set(k, (e = { group: new Set(), unit: new Set() }));
      ((bytes[15]! & 0x40) !== 0 ? e.unit : e.group).add(u24(bytes, 5));
    }
    const key = normalise(bytes);
    let p = this.sent.get(key);
    if (!p) {
      p = { id: this.sent.size, senders: new Set() };
      this.sent.set(key, p);
      this.sentLoose.set(looseKey(bytes), p);
      this.stats.distinctPackets++;
    }
    p.senders.add(peerId);
    this.stats.dmrdFromPeers++;
  }

  private onSend(socket: number, address: string, port: number, bytes: Uint8Array): void {
    this.checkRefused('send');
    if (socket !== 0) {
      const link = this.linkOn(socket);
      if (link === undefined) this.violation('link-frame', `send on socket ${socket}, which is no link's, to ${address}:${port}`);
      else this.onLinkSend(link, address, port, bytes);
      return;
    }
    if (tag4(bytes) === 'DMRD') {
      const s = this.sessions.get(u32(bytes, 11));
      const slot = (bytes[15]! & 0x80) !== 0 ? 2 : 1;
      const info = this.frameInfo(bytes);
      this.deliver(info, u32(bytes, 11), address, port, slot);
      if (!s) this.violation('not-connected', `DMRD sent to ${address}:${port} for peer ${u32(bytes, 11)} with no session`);
      return;
    }
    const cur = this.current;
    const toSender = cur !== null && cur.kind === 'datagram-received' && cur.address === address && cur.port === port;
    if (startsWith(bytes, TAG_MSTCL)) {
      const s = this.sessions.get(u32(bytes, 5));
      if (!toSender && (!s || s.address !== address || s.port !== port))
        this.violation('misaddressed-reply', `MSTCL for ${u32(bytes, 5)} sent to ${address}:${port}, which is not that peer's session`);
      return;
    }
    if (!toSender) {
      this.violation('misaddressed-reply', `control reply ${tag4(bytes)} sent to ${address}:${port}, which did not send the datagram being handled`);
      return;
    }
    if (startsWith(bytes, TAG_RPTACK) && bytes.length === 10) this.onAck(u32(bytes, 6), address, port, cur!.bytes!);
  }

  /** RPTACK+arg to the sender of `req`: what it acknowledges depends on the request. */
  private onAck(arg: number, address: string, port: number, req: Uint8Array): void {
    const tag = tag4(req);
    if (req.length < 8) return;
    const peerId = u32(req, 4);
    if (arg !== peerId) return; // RPTACK+salt to an RPTL
    const s = this.sessions.get(peerId);
    const here = s !== undefined && s.address === address && s.port === port;
    if (tag === 'RPTK' && req.length === 40) {
      if (s) this.violation('session-model', `peer ${peerId} logged in again at ${address}:${port} while its session at ${s.address}:${s.port} was not logged out`);
      this.sessions.set(peerId, { peerId, address, port, connected: false, hasOptions: false, subs: [new Set(), new Set()], dyn: [new Set(), new Set()] });
      this.dirty = true;
    } else if (tag === 'RPTC' && req.length === 302) {
      if (!here) return this.violation('session-model', `RPTACK to RPTC of peer ${peerId} from ${address}:${port}, which has no session there`);
      if (!s.connected) {
        s.connected = true;
        this.stats.logins++;
        this.applyDefaults(s);
      }
    } else if (tag === 'RPTO' && req.length >= 8) {
      if (!here || !s.connected) return this.violation('session-model', `RPTACK to RPTO of peer ${peerId} from ${address}:${port}, which is not connected there`);
      if (peerId === PROBE_ID) return;
      s.hasOptions = true;
      const [ts1, ts2] = staticTalkgroups(req.subarray(8), this.cfg?.routing.maxStaticPerSlot ?? 64);
      s.subs = [new Set(ts1), new Set(ts2)];
    }
  }

  private onLog(e: LogEntry): void {
    switch (e.code) {
      case 'peer.logout': {
        this.dirty = true;
        const s = e.peer !== undefined ? this.sessions.get(e.peer) : undefined;
        this.stats.logouts.set(e.reason ?? '?', (this.stats.logouts.get(e.reason ?? '?') ?? 0) + 1);
        if (!s || s.address !== e.address || s.port !== e.port) {
          this.violation('session-model', `peer.logout for ${e.peer} at ${e.address}:${e.port}, which has no session there`);
          return;
        }
        this.sessions.delete(s.peerId);
        // A new session starts with a fresh link: forget the slot history of the old one.
        const r = this.receivers.get(receiverKey(s.peerId, s.address, s.port));
        if (r) r.lanes = [null, null];
        return;
      }
      case 'call.start': {
        const id = e.stream ?? -1;
        this.open.set(id, (this.open.get(id) ?? 0) + 1);
        if (e.tg !== undefined) this.streamTg.set(id, e.tg);
        this.stats.streamsStarted++;
        this.stats.live++;
        if (this.stats.live > this.stats.maxLive) this.stats.maxLive = this.stats.live;
        return;
      }
      case 'call.end': {
        const id = e.stream ?? -1;
        const n = (this.open.get(id) ?? 0) - 1;
        if (n < 0) this.violation('stream-not-ended', `call.end for stream ${hex(id)}, which is not live`);
        this.ended.set(id, { at: this.now, reason: e.reason ?? '?' });
        if (n === 0) this.open.delete(id);
        else this.open.set(id, n);
        this.stats.live--;
        this.stats.endReasons.set(e.reason ?? '?', (this.stats.endReasons.get(e.reason ?? '?') ?? 0) + 1);
        return;
      }
    }
  }

  private frameInfo(frame: Uint8Array): FrameInfo {
    const key = normalise(frame);
    // A frame for a dial-a-TG lane is rewritten (destination and link control): match it by
    // everything the rewrite leaves alone, and only to a talkgroup the receiver's lane allows.
    const sent = this.sent.get(key) ?? this.sentLoose.get(looseKey(frame));
    return { key, sent, tg: u24(frame, 8), src: u24(frame, 5), stream: u32(frame, 16), terminator: (frame[15]! & 0x3f) === 0x22 };
  }

  /** A frame no peer sent, to a (peer, slot) that called the echo talkgroup as this talker: a playback. */
  private echoPlayback(info: FrameInfo, peerId: number, slot: 1 | 2): boolean {
    if (info.sent !== undefined || this.open.has(info.stream)) return false;
    const e = this.echoCallers.get(`${peerId}/${slot}`);
    if (!e) return false;
    const echoTg = this.cfg?.echo?.tg ?? 0;
    return (info.tg === echoTg && e.group.has(info.src)) || (info.tg === 9 && e.unit.has(info.src));
  }

  private onFanOut(frame: Uint8Array, targets: readonly Target[], count: number): void {
    this.checkRefused('fan-out');
    this.stats.frames++;
    if (count <= 0) this.violation('fan-out', 'fan-out with no targets');
    const info = this.frameInfo(frame);
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) {
      const t = targets[i]!;
      const slot: 1 | 2 = t.slotBit === 0x80 ? 2 : 1;
      if (t.slotBit !== 0 && t.slotBit !== 0x80) this.violation('fan-out', `fan-out target ${t.peerId} with slot bit ${t.slotBit}`);
      const k = `${receiverKey(t.peerId, t.address, t.port)}/${slot}`;
      if (seen.has(k)) this.violation('fan-out', `one fan-out lists ${t.peerId} slot ${slot} twice`);
      seen.add(k);
      this.deliver(info, t.peerId, t.address, t.port, slot);
    }
  }

  private deliver(info: FrameInfo, peerId: number, address: string, port: number, slot: 1 | 2): void {
    this.stats.deliveries++;
    this.stats.deliveriesByTg.set(info.tg, (this.stats.deliveriesByTg.get(info.tg) ?? 0) + 1);
    this.stats.deliveriesByPeer.set(peerId, (this.stats.deliveriesByPeer.get(peerId) ?? 0) + 1);
    const what = `stream ${hex(info.stream)} TG ${info.tg} to peer ${peerId} TS${slot}`;
    const si = slot === 2 ? 1 : 0;
    const echo = this.echoPlayback(info, peerId, slot);
    if (echo) this.stats.echoFrames++;

    const s = this.sessions.get(peerId);
    if (!s || !s.connected || s.address !== address || s.port !== port) {
      this.violation('not-connected', `${what}: the receiver is not connected at ${address}:${port}`);
    } else if (!echo && !s.subs[si].has(info.tg) && !s.dyn[si].has(info.tg)) {
      const text = `${what}: not subscribed (TS${slot} has ${[...s.subs[si]].join(',') || 'nothing'})`;
      const startTg = this.streamTg.get(info.stream);
      if (startTg !== undefined && startTg !== info.tg && s.subs[si].has(startTg)) this.violation('tg-changed-mid-stream', `${text}; the stream started on TG ${startTg}`);
      else this.violation('not-subscribed', text);
    }
    if (!echo && (this.open.get(info.stream) ?? 0) <= 0) this.violation('stream-not-live', `${what}: the stream is not live (no call.start, or ended)`);

    this.forwardedFrom(info.stream, what);
    if (info.sent !== undefined && this.current?.source?.startsWith('link:') === true && info.stream === this.current.stream) this.stats.linkDeliveries++;

    if (echo) {
      /* made by the core: no sender to check */
    } else if (info.sent === undefined) {
      this.violation('never-sent', `${what}: no logged-in peer sent this packet`);
    } else if (info.sent.senders.has(peerId)) {
      this.violation('own-packet', `${what}: the receiver itself sent this packet`);
    }

    const rk = receiverKey(peerId, address, port);
    let r = this.receivers.get(rk);
    if (!r) {
      r = { got: [new Set(), new Set()], lanes: [null, null] };
      this.receivers.set(rk, r);
    }
    if (info.sent !== undefined) {
      const got = r.got[si];
      if (got.has(info.sent.id)) this.violation('duplicate', `${what}: delivered twice (packet #${info.sent.id})`);
      got.add(info.sent.id);
    }
    const lane = r.lanes[si];
    const window = this.cfg?.timers.collisionWindowMs ?? 0;
    if (lane !== null && lane.stream === info.stream) {
      lane.at = this.now;
      lane.terminated ||= info.terminator;
    } else {
      if (lane !== null && !lane.terminated && this.now - lane.at < window) {
        const ended = this.ended.get(lane.stream);
        const text = `${what}: stream ${hex(lane.stream)} was sent there ${this.now - lane.at} ms ago and not terminated`;
        if (ended !== undefined) this.violation('slot-freed-by-end', `${text} (it ended at @${ended.at}, ${ended.reason})`);
        else this.violation('collision', text);
      }
      r.lanes[si] = { stream: info.stream, at: this.now, terminated: info.terminator };
    }
  }

  // ── links ──────────────────────────────────────────────────────────────────────────────────

  private linkOn(socket: number): LinkConfig | undefined {
    return (this.cfg?.links ?? []).find((l) => l.socket === socket);
  }

  private linkKey(link: LinkConfig): Uint8Array {
    let k = this.linkKeys.get(link.passphrase);
    if (k === undefined) this.linkKeys.set(link.passphrase, (k = obpKey(link.passphrase)));
    return k;
  }

  /** Why `link` must not carry `tg` under the config in force, or null when it may. */
  private notCarried(link: LinkConfig, tg: number): string | null {
    const r = this.cfg!.routing;
    if (tg === 0 || tg >= 0xffffff) return 'not a talkgroup';
    if ((r.localTalkgroups ?? []).some(([a, b]) => tg >= a && tg <= b)) return 'local';
    if (r.prohibited.includes(tg)) return 'prohibited';
    if (link.talkgroups.length > 0 && !link.talkgroups.includes(tg)) return 'not on the list';
    return null;
  }

  /**
   * A datagram on `link`'s socket: why it must be refused (null when it is accepted, and then it
   * counts as a packet the link sent).
   */
  private recordLinkFrame(link: LinkConfig, b: Uint8Array, address: string, port: number): string | null {
    this.stats.linkFramesIn++;
    const why = ((): string | null => {
      if (b.length !== 73 || tag4(b) !== 'DMRD' || (b[16]! | b[17]! | b[18]! | b[19]!) === 0) return 'not a v1 frame';
      if (link.checkSource && (address !== link.address || port !== link.port)) return 'wrong source';
      if (!verifyObp(b, this.linkKey(link), hmacSha1)) return 'bad MAC';
      if (link.networkId !== 0 && u32(b, 11) !== link.networkId) return 'wrong network ID';
      this.stats.linkFramesAuthentic++;
      if ((b[15]! & 0x40) !== 0) return 'unit call';
      if ((b[15]! & 0x80) !== 0) return 'TS2';
      return this.notCarried(link, u24(b, 8));
    })();
    if (why !== null) {
      this.stats.linkRefused.set(why, (this.stats.linkRefused.get(why) ?? 0) + 1);
      return why;
    }
    this.stats.linkFramesAccepted++;
    // What the core forwards: the 53-byte DMRD (its MAC gone), as if a peer had sent it.
    const key = normalise(b.subarray(0, 53));
    let p = this.sent.get(key);
    if (!p) {
      p = { id: this.sent.size, senders: new Set() };
      this.sent.set(key, p);
      this.sentLoose.set(looseKey(b), p);
      this.stats.distinctPackets++;
    }
    p.senders.add(-link.socket);
    return null;
  }

  /** Any action while a refused link frame is handled is a violation. */
  private checkRefused(action: string): void {
    const cur = this.current;
    if (cur?.refused == null || cur.bytes === undefined) return;
    this.violation('link-refused', `${action} while handling a ${cur.source} frame (TG ${cur.bytes.length >= 11 ? u24(cur.bytes, 8) : '?'}, stream ${hex(cur.stream ?? -1)}) refused for ${cur.refused}`);
  }

  /** Stream `stream` was forwarded now: from the datagram being handled if it is that stream's, else from the core itself. */
  private forwardedFrom(stream: number, what: string): void {
    const cur = this.current;
    const from = cur !== null && cur.stream === stream && cur.source !== undefined ? cur.source : 'core';
    let m = this.streamSources.get(stream);
    if (!m) this.streamSources.set(stream, (m = new Map()));
    const memory = this.cfg?.timers.streamIdMemoryMs ?? 0;
    for (const [other, at] of m) {
      if (other !== from && this.now - at < memory) this.violation('stream-two-sources', `${what}: forwarded from ${from}, and from ${other} at @${at}`);
    }
    m.set(from, this.now);
  }

  private onLinkSend(link: LinkConfig, address: string, port: number, b: Uint8Array): void {
    this.stats.linkSends++;
    const stream = b.length >= 20 ? u32(b, 16) : -1;
    const tg = b.length >= 11 ? u24(b, 8) : -1;
    const what = `link ${link.name} frame of stream ${hex(stream)} TG ${tg}`;
    this.stats.linkSendsByTg.set(tg, (this.stats.linkSendsByTg.get(tg) ?? 0) + 1);
    if (address !== link.address || port !== link.port) this.violation('link-frame', `${what}: sent to ${address}:${port}, not the link's ${link.address}:${link.port}`);
    if (b.length !== 73 || tag4(b) !== 'DMRD') return this.violation('link-frame', `${what}: ${b.length} bytes, tag ${tag4(b)}`);
    if ((b[15]! & 0x80) !== 0) this.violation('link-frame', `${what}: on TS2`);
    if (!verifyObp(b, this.linkKey(link), hmacSha1)) this.violation('link-frame', `${what}: bad MAC`);
    const cur = this.current;
    const talker = cur?.bytes !== undefined && cur.bytes.length >= 15 ? u32(cur.bytes, 11) : -1;
    const id = link.preserveSourcePeer ? talker : (this.cfg?.serverId ?? 0);
    if (u32(b, 11) !== id) this.violation('link-frame', `${what}: ID ${u32(b, 11)} in bytes 11-14, expected ${id}`);
    const why = this.notCarried(link, tg);
    if (why !== null) this.violation('link-talkgroup', `${what}: the link must not carry it (${why})`);
    // Only a peer's packet, while it is handled, goes out on a link.
    if (cur === null || cur.kind !== 'datagram-received' || cur.source?.startsWith('peer:') !== true || cur.stream !== stream) {
      this.violation('link-transit', `${what}: sent while handling ${cur === null ? 'nothing' : (cur.source ?? cur.kind)}${cur?.stream !== undefined ? ` stream ${hex(cur.stream)}` : ''}`);
    }
    const info = this.frameInfo(b.subarray(0, 53));
    if (info.sent === undefined) this.violation('link-transit', `${what}: no logged-in peer sent this packet`);
    else if (![...info.sent.senders].some((x) => x > 0)) this.violation('link-transit', `${what}: only a link sent this packet`);
    if (cur?.bytes !== undefined && cur.bytes.length >= 11 && u24(cur.bytes, 8) !== tg) this.stats.linkSendsRewritten++;
    if ((this.open.get(stream) ?? 0) <= 0) this.violation('stream-not-live', `${what}: the stream is not live`);
    this.forwardedFrom(stream, what);
  }

  // ── the session model ──────────────────────────────────────────────────────────────────────

  private applyDefaults(s: ModelSession): void {
    if (s.peerId === PROBE_ID || this.cfg === null) {
      s.subs = [new Set(), new Set()];
      return;
    }
    s.subs = [new Set(this.cfg.routing.ts1Static), new Set(this.cfg.routing.ts2Static)];
  }

  private applyDefaultsToAll(): void {
    for (const s of this.sessions.values()) if (s.connected && !s.hasOptions) this.applyDefaults(s);
  }

  private crossCheck(core: Core): void {
    const views = core.peers();
    const seen = new Set<number>();
    for (const v of views) {
      seen.add(v.peerId);
      const s = this.sessions.get(v.peerId);
      if (!s) {
        this.violation('core-disagrees', `core has peer ${v.peerId} at ${v.address}:${v.port}, the model has no session`);
        continue;
      }
      const where = `peer ${v.peerId}`;
      if (s.address !== v.address || s.port !== v.port) this.violation('core-disagrees', `${where}: core at ${v.address}:${v.port}, model at ${s.address}:${s.port}`);
      if ((v.state === 'connected') !== s.connected) this.violation('core-disagrees', `${where}: core state ${v.state}, model connected=${s.connected}`);
      if ((v.options !== null) !== s.hasOptions) this.violation('core-disagrees', `${where}: core options ${JSON.stringify(v.options)}, model hasOptions=${s.hasOptions}`);
      const m = this.subscriptions(v.peerId) ?? { ts1: [], ts2: [] };
      if (m.ts1.join(',') !== v.ts1.join(',') || m.ts2.join(',') !== v.ts2.join(','))
        this.violation('core-disagrees', `${where}: core subscriptions TS1=${v.ts1} TS2=${v.ts2}, model TS1=${m.ts1} TS2=${m.ts2} (options ${JSON.stringify(v.options)})`);
    }
    for (const s of this.sessions.values()) if (!seen.has(s.peerId)) this.violation('core-disagrees', `model has peer ${s.peerId} at ${s.address}:${s.port}, the core does not`);
  }
}

const receiverKey = (peerId: number, address: string, port: number): string => `${peerId}|${address}|${port}`;
const hex = (n: number): string => '0x' + (n >>> 0).toString(16);

/**
 * A DMRD as the server received it, comparable with what a receiver gets: 55 bytes (a 53-byte one
 * padded with zero BER/RSSI), the peer ID [11:15) zeroed and the slot bit cleared.
 */
function normalise(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 55; i++) {
    let v = i < b.length ? b[i]! : 0;
    if (i >= 11 && i < 15) v = 0;
    else if (i === 15) v &= 0x7f;
    s += HEX[v]!;
  }
  return s;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * What a dial-a-TG rewrite leaves of a DMRD: sequence, source, stream ID, frame type and the payload
 * bits that carry no link control (none of a voice header or terminator; bursts B–E without their
 * embedded signalling, payload bytes 14..18; A and F whole). The destination [8:11) is left out.
 */
function looseKey(b: Uint8Array): string {
  const flags = b[15]! & 0x3f;
  let s = `${b[4]}|${u24(b, 5)}|${u32(b, 16)}|${flags}|`;
  if (flags === 0x21 || flags === 0x22) return s;
  for (let i = 20; i < 53; i++) if (!(flags >= 0x01 && flags <= 0x04 && i >= 34 && i <= 38)) s += HEX[b[i]!]!;
  return s;
}
