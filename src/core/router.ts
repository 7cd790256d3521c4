// The routing core: a deterministic state machine. `handle(event, sink)` applies one event and
// emits actions into the sink; `nextDeadline()` says when the shell must next send `ticked`.
// It reads no clock, draws no randomness of its own and imports no Node module.

import { HbpKind, hbpKind } from '../protocol/hbp/kinds.js';
import { utf8 } from '../protocol/bytes.js';
import { checkDmrd } from '../protocol/hbp/dmrd.js';
import { encodeMstcl } from '../protocol/hbp/messages.js';
import type { ActionSink, CoreReport, LogEntry } from './actions.js';
import { DEFAULT_CORE_CONFIG, withDefaults, type CoreConfig } from './config.js';
import type { CoreContext, CoreDeps, HotCounters, RefusedStream } from './context.js';
import { Counters, LogOnce } from './counters.js';
import { DeadlineHeap } from './deadlines.js';
import type { CoreEvent, DatagramEvent, PromptPackData } from './events.js';
import { Prng } from './prng.js';
import { applyDefaults } from './sessions/options.js';
import { expireSession, onAuxiliary, onClose, onPing, onRptc, onRptk, onRptl, onRpto } from './sessions/login.js';
import { SessionState, type PendingLogin, type Session } from './sessions/session.js';
import { onGroupPacket } from './streams/group-voice.js';
import type { EndReason, Stream } from './streams/stream.js';
import { SubscriptionIndex } from './subscriptions/index.js';
import { finishEcho } from './echo/index.js';
import { dialFeedback } from './dial/index.js';
import { trackHotspot, type HeardAt } from './streams/unit.js';
import { applyLinks, onLinkDatagram, type Link } from './links/index.js';

const NULL_SINK: ActionSink = { send() {}, fanOut() {}, log() {} };

export interface PeerView {
  peerId: number;
  state: 'waiting-config' | 'connected';
  address: string;
  port: number;
  callsign: string;
  options: string | null;
  ts1: number[];
  ts2: number[];
  lastSeen: number;
}

export class Core implements CoreContext {
  cfg: CoreConfig = DEFAULT_CORE_CONFIG;
  sink: ActionSink = NULL_SINK;
  prng = new Prng(0);
  passphrase: Uint8Array = utf8(DEFAULT_CORE_CONFIG.hbp.passphrase);
  readonly sessions = new Map<number, Session>();
  readonly pending = new Map<string, PendingLogin>();
  readonly index = new SubscriptionIndex();
  readonly deadlines = new DeadlineHeap();
  readonly counters = new Counters();
  readonly hot: HotCounters = { dmrdIn: 0, framesForwarded: 0, sendsForwarded: 0, markEpoch: 0 };
  readonly logOnce = new LogOnce();
  readonly streams = new Map<number, Stream>();
  liveStreamCount = 0;
  peerCount = 0;
  echoActive = 0;
  readonly prompts = new Map<string, PromptPackData>();
  readonly lastHeard = new Map<number, HeardAt>();
  readonly hotspots = new Map<number, Set<Session>>();
  readonly refusedOn = new Map<number, RefusedStream>();
  readonly linksBySocket = new Map<number, Link>();
  readonly links: Link[] = [];
  linkPolicy = 0;
  now = 0;
  private started = false;
  private stopped = false;

  constructor(readonly deps: CoreDeps) {
    this.index.onChange = (sub, change) =>
      this.report({
        report: 'subscription',
        now: this.now,
        change,
        peer: sub.session.peerId,
        slot: sub.slot,
        tg: sub.rfTg,
        conference: sub.conference,
        source: sub.source,
      });
  }

  handle(ev: CoreEvent, sink: ActionSink): void {
    this.sink = sink;
    this.now = ev.now;
    try {
      switch (ev.kind) {
        case 'datagram-received':
          if (this.started && !this.stopped) this.onDatagram(ev);
          else this.counters.add('core.datagram-before-start');
          break;
        case 'ticked':
          this.runDeadlines(ev.now);
          break;
        case 'started':
          this.prng = new Prng(ev.seed);
          this.applyConfig(ev.config);
          this.started = true;
          this.log({ code: 'server.started', level: 'info' });
          break;
        case 'config-applied':
          this.applyConfig(ev.config);
          this.log({ code: 'config.applied', level: 'info' });
          break;
        case 'shutdown-requested':
          this.shutdown(ev.now);
          break;
        case 'prompts-loaded':
          this.prompts.clear();
          for (const p of ev.packs) this.prompts.set(p.lang, p);
          this.log({ code: 'prompts.loaded', level: 'info', detail: ev.packs.map((p) => p.lang).join(', ') || 'none' });
          break;
      }
    } finally {
      this.sink = NULL_SINK;
    }
  }

  nextDeadline(): number | null {
    return this.deadlines.peek();
  }

  // ── datagrams ────────────────────────────────────────────────────────────────────────────────

  private onDatagram(ev: DatagramEvent): void {
    if (ev.socket !== 0) {
      const link = this.linksBySocket.get(ev.socket);
      if (link !== undefined) return onLinkDatagram(this, link, ev);
      return this.bad(ev, 'socket.unknown');
    }
    const b = ev.bytes;
    const kind = hbpKind(b);
    if (kind === HbpKind.DMRD) {
      this.hot.dmrdIn++;
      const err = checkDmrd(b);
      if (err !== null) return this.bad(ev, err);
      const peerId = ((b[11]! << 24) | (b[12]! << 16) | (b[13]! << 8) | b[14]!) >>> 0;
      const s = this.sessions.get(peerId);
      if (s === undefined || s.state !== SessionState.Connected || s.port !== ev.port || s.address !== ev.address) {
        this.counters.add('dmrd.not-logged-in');
        return;
      }
      s.lastSeen = ev.now;
      // Group calls, dial commands, echo, unit data and private calls all start as a stream.
      onGroupPacket(this, s, b, b[15]!, ev.now);
      return;
    }
    switch (kind) {
      case HbpKind.RPTL: return onRptl(this, ev);
      case HbpKind.RPTK: return onRptk(this, ev);
      case HbpKind.RPTC: return onRptc(this, ev);
      case HbpKind.RPTO: return onRpto(this, ev);
      case HbpKind.RPTPING: return onPing(this, ev);
      case HbpKind.RPTCL: return onClose(this, ev);
      case HbpKind.DMRA: return onAuxiliary(this, ev, 'dmra');
      case HbpKind.RPTG: return onAuxiliary(this, ev, 'rptg');
      case HbpKind.DMRG: return onAuxiliary(this, ev, 'dmrg');
      case HbpKind.DMRC:
      case HbpKind.Unsupported:
        return this.bad(ev, 'hbp.unsupported');
      case HbpKind.Unknown:
        return this.bad(ev, ev.bytes.length < 4 ? 'hbp.short' : 'hbp.unknown-tag');
      default:
        // Master-to-peer tags (RPTACK, MSTNAK, …) sent to a master.
        return this.bad(ev, 'hbp.unexpected-tag');
    }
  }

  bad(ev: DatagramEvent, code: string, detail?: string): void {
    this.counters.add(code);
    if (this.logOnce.first(`${ev.address}|${ev.port}`, code)) {
      this.log({ code: 'packet.dropped', level: 'debug', reason: code, address: ev.address, port: ev.port, ...(detail ? { detail } : {}) });
    }
  }

  reply(ev: DatagramEvent, bytes: Uint8Array): void {
    this.sink.send(ev.socket, ev.address, ev.port, bytes);
  }

  replyUnauthenticated(ev: DatagramEvent, bytes: Uint8Array): void {
    if (bytes.length <= ev.bytes.length) this.sink.send(ev.socket, ev.address, ev.port, bytes);
    else this.counters.add('reply.withheld-larger-than-request');
  }

  log(entry: LogEntry): void {
    this.sink.log(entry);
  }

  report(r: CoreReport): void {
    this.sink.report?.(r);
  }

  // ── sessions and streams ─────────────────────────────────────────────────────────────────────

  scheduleKeepalive(s: Session): void {
    const limit = this.cfg.hbp.pingIntervalMs * this.cfg.hbp.maxMissedPings;
    const check = (now: number): void => {
      if (s.closed) return;
      const due = s.lastSeen + this.cfg.hbp.pingIntervalMs * this.cfg.hbp.maxMissedPings;
      if (now >= due) expireSession(this, s, now);
      else {
        s.deadlineAt = due;
        this.deadlines.schedule(due, check);
      }
    };
    s.deadlineAt = s.lastSeen + limit;
    this.deadlines.schedule(s.deadlineAt, check);
  }

  closeSession(s: Session, now: number, reason: string): void {
    if (s.closed) return;
    s.closed = true;
    for (const slot of [1, 2] as const) {
      const rx = s.slots[slot].rx;
      if (rx !== null && !rx.ended) this.endStream(rx, now, reason === 'shutdown' ? 'shutdown' : 'peer-gone');
    }
    this.index.removeAll(s);
    trackHotspot(this, s, false);
    if (this.sessions.get(s.peerId) === s) {
      this.sessions.delete(s.peerId);
      if (s.peerId !== 0xffffffff) this.peerCount--;
    }
    this.counters.add(`peer.logout.${reason}`);
    if (s.state === SessionState.Connected) this.report({ report: 'peer-logout', now, peer: s.peerId, reason, durationMs: now - s.loggedInAt });
    this.log({
      code: 'peer.logout',
      level: 'info',
      peer: s.peerId,
      address: s.address,
      port: s.port,
      reason,
      durationMs: now - s.loggedInAt,
    });
  }

  endStream(st: Stream, now: number, reason: EndReason): void {
    if (st.ended) return;
    st.ended = true;
    st.endReason = reason;
    this.liveStreamCount--;
    if (st.echo !== null) finishEcho(this, st, now, reason);
    if (st.dialOutcome !== null && (reason === 'terminator' || reason === 'timeout')) dialFeedback(this, st.session, st.dialOutcome, now);
    // Receivers that got the terminator were freed as it went out. Any other end (timeout, the
    // talker gone) leaves their slots busy until the collision window has passed, as for a lost
    // terminator. The ID stays known for a while, to drop late duplicates and loops.
    const forget = (): void => {
      if (this.streams.get(st.id) === st) this.streams.delete(st.id);
    };
    this.deadlines.schedule(now + this.cfg.timers.streamIdMemoryMs, forget);
    this.counters.add(`call.end.${reason}`);
    this.report({
      report: 'call-end',
      now,
      stream: st.id,
      peer: st.session.peerId,
      src: st.src,
      dst: st.tg,
      slot: st.slot,
      callType: st.unit ? 'private' : 'group',
      kind: st.data ? 'data' : 'voice',
      startedNow: st.startedAt,
      durationMs: st.lastAt - st.startedAt,
      packets: st.packets,
      lost: st.lost,
      berSum: st.berSum,
      rssiSum: st.rssiSum,
      qualityPackets: st.qualityPackets,
      reason,
      receivers: st.receivers,
    });
    this.log({
      code: 'call.end',
      level: 'info',
      peer: st.session.peerId,
      src: st.src,
      tg: st.tg,
      slot: st.slot,
      stream: st.id,
      durationMs: st.lastAt - st.startedAt,
      packets: st.packets,
      lost: st.lost,
      reason,
      ...(st.link !== null ? { detail: `link ${st.link.cfg.name}` } : {}),
    });
  }

  private runDeadlines(now: number): void {
    for (let d = this.deadlines.popDue(now); d !== null; d = this.deadlines.popDue(now)) d.fire(now);
  }

  private applyConfig(cfg: CoreConfig): void {
    // An event log written by an older version lacks the newer keys: they take their defaults.
    this.cfg = withDefaults(cfg);
    this.passphrase = utf8(cfg.hbp.passphrase);
    applyLinks(this, this.cfg.links, this.now);
    for (const s of this.sessions.values()) {
      if (s.state === SessionState.Connected && s.options === null && s.peerId !== 0xffffffff) applyDefaults(this, s);
    }
  }

  private shutdown(now: number): void {
    if (this.stopped) return;
    for (const s of [...this.sessions.values()]) {
      this.sink.send(s.socket, s.address, s.port, encodeMstcl(s.peerId));
      this.closeSession(s, now, 'shutdown');
    }
    // Calls coming in on links end with the server too.
    for (const st of [...this.streams.values()]) if (st.link !== null && !st.ended) this.endStream(st, now, 'shutdown');
    this.pending.clear();
    this.deadlines.clear();
    this.stopped = true;
    this.log({ code: 'server.stopped', level: 'info' });
  }

  // ── inspection (tests, tools, dashboards; allocates) ─────────────────────────────────────────

  peers(): PeerView[] {
    return [...this.sessions.values()]
      .sort((a, b) => a.peerId - b.peerId)
      .map((s) => ({
        peerId: s.peerId,
        state: s.state === SessionState.Connected ? 'connected' : 'waiting-config',
        address: s.address,
        port: s.port,
        callsign: s.config?.callsign ?? '',
        options: s.options,
        ts1: [...s.subs[1].keys()].sort((a, b) => a - b),
        ts2: [...s.subs[2].keys()].sort((a, b) => a - b),
        lastSeen: s.lastSeen,
      }));
  }

  stats(): [string, number][] {
    const out = this.counters.snapshot();
    out.push(['dmrd.in', this.hot.dmrdIn], ['forward.frames', this.hot.framesForwarded], ['forward.sends', this.hot.sendsForwarded]);
    for (const l of this.links) out.push([`link.${l.cfg.name}.in`, l.framesIn], [`link.${l.cfg.name}.out`, l.framesOut], [`link.${l.cfg.name}.dropped`, l.dropped]);
    out.push(['peers', this.peerCount], ['pending-logins', this.pending.size], ['subscriptions', this.index.size], ['live-streams', this.liveStreamCount]);
    return out;
  }
}

export function createCore(deps: CoreDeps): Core {
  return new Core(deps);
}
