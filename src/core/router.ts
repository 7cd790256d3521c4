// The routing core: a deterministic state machine. `handle(event, sink)` applies one event and
// emits actions into the sink; `nextDeadline()` says when the shell must next send `ticked`.
// It reads no clock, draws no randomness of its own and imports no Node module.
//
// The router is the one place that sequences what follows an event: it dispatches each datagram
// to its module, runs each named timer through one switch (onDeadline), and ends streams and
// sessions (lifecycle.ts), which is where the echo playback, the dial prompt and the reports that
// follow an end are started.

import { HbpKind, hbpKind } from '../protocol/hbp/kinds.js';
import { readU32 } from '../protocol/bytes.js';
import { checkDmrd, DMRD } from '../protocol/hbp/dmrd.js';
import type { ActionSink } from './actions.js';
import { AclTable } from './acl/table.js';
import { DEFAULT_CORE_CONFIG, withDefaults, type CoreConfig } from './config.js';
import { Counters, LogOnce, type HotCounters } from './counters.js';
import { DeadlineHeap } from './deadlines.js';
import { EffectsPort, type CoreDeps, type CoreEnv } from './effects.js';
import type { CoreEvent, DatagramEvent } from './inputs.js';
import { onOperatorCommand } from './operator/commands.js';
import { StateReporter } from './operator/snapshot.js';
import type { Deadline, RefusedStream, Session } from './model/index.js';
import { Prng } from './prng.js';
import { bad, refuse } from './replies.js';
import { closeSession, endStream, shutdown } from './lifecycle.js';
import { peerViews, statsOf, type PeerView } from './inspect.js';
import { EchoBudget } from './echo/budget.js';
import { dialExpired, restoreDefault } from './dial/index.js';
import { onLinkDatagram } from './links/ingress.js';
import { linkTick, onFbpDatagram, startTicking } from './links/fbp.js';
import { LinkTable } from './links/table.js';
import { playoutFrame } from './playout/index.js';
import { identDue } from './prompts/index.js';
import { PromptPacks } from './prompts/packs.js';
import { onAuxiliary, onClose, onPing, onRpto } from './sessions/control.js';
import { keepaliveDue, loginExpired, onRptc, onRptk, onRptl } from './sessions/login.js';
import { applyDefaults } from './sessions/options.js';
import { SessionState } from './sessions/session.js';
import { LoginGate } from './sessions/gate.js';
import { SessionTable } from './sessions/table.js';
import { onPeerDmrd } from './streams/ingress.js';
import { refusedDue } from './streams/loops.js';
import { noticeSummary } from './streams/notices.js';
import { streamIdleDue } from './streams/stream.js';
import { StreamTable } from './streams/table.js';
import { SubscriptionIndex } from './subscriptions/index.js';
import { expiryDue, unmuteDue } from './subscriptions/user.js';
import { HeardTable } from './unit/heard.js';
import { onUplinkDatagram } from './uplinks/ingress.js';
import { applyUplinks, shutdownUplinks } from './uplinks/lifecycle.js';
import { pingDue, retryDue, stepTimedOut } from './uplinks/login.js';
import { UplinkTable } from './uplinks/table.js';

export type { PeerView } from './inspect.js';

const NULL_SINK: ActionSink = { send() {}, fanOut() {}, log() {} };

/** The router's own view of the environment it hands the modules (they see it read-only). */
type MutableEnv = { -readonly [K in keyof CoreEnv]: CoreEnv[K] };

export class Core {
  private readonly deadlines = new DeadlineHeap<Deadline>();
  private readonly fx = new EffectsPort(NULL_SINK, (at, d) => this.deadlines.schedule(at, d));
  private readonly env: MutableEnv;
  private started = false;
  private stopped = false;
  /** The console's `console-snapshot` timer is scheduled. */
  private snapshotting = false;
  /** What the last state report said, so that the next says only what changed. */
  private readonly reporter = new StateReporter();

  constructor(deps: CoreDeps) {
    const index = new SubscriptionIndex();
    this.env = {
      cfg: DEFAULT_CORE_CONFIG,
      now: 0,
      wallOffset: 0,
      receive: { behind: false, drainedAt: 0 },
      deps,
      prng: new Prng(0),
      fx: this.fx,
      life: {
        endStream: (st, now, reason) => endStream(this.env, st, now, reason),
        closeSession: (s, now, reason) => closeSession(this.env, s, now, reason),
      },
      counters: new Counters(),
      hot: { dmrdIn: 0, framesForwarded: 0, sendsForwarded: 0, markEpoch: 0 } satisfies HotCounters,
      logOnce: new LogOnce(),
      sessions: new SessionTable(),
      gate: new LoginGate(deps, DEFAULT_CORE_CONFIG),
      streams: new StreamTable(),
      index,
      links: new LinkTable(),
      uplinks: new UplinkTable(),
      heard: new HeardTable(),
      prompts: new PromptPacks(),
      echoes: new EchoBudget(),
      acl: new AclTable(),
    };
    index.onChange = (sub, change) => {
      this.env.sessions.changed(sub.session);
      this.fx.report({
        report: 'subscription',
        now: this.env.now,
        change,
        peer: sub.session.peerId,
        slot: sub.slot,
        tg: sub.rfTg,
        conference: sub.conference,
        source: sub.source,
      });
    };
  }

  handle(ev: CoreEvent, sink: ActionSink): void {
    this.fx.sink = sink;
    this.env.now = ev.now;
    try {
      switch (ev.kind) {
        case 'datagram-received':
          if (this.started && !this.stopped) this.onDatagram(ev);
          else this.env.counters.add('core.datagram-before-start');
          break;
        case 'ticked':
          for (let d = this.deadlines.popDue(ev.now); d !== null; d = this.deadlines.popDue(ev.now)) this.onDeadline(d.job, ev.now);
          break;
        case 'started':
          this.env.prng = new Prng(ev.seed);
          this.env.gate.rekey(ev.seed);
          this.env.wallOffset = ev.wallMs !== undefined ? ev.wallMs - ev.now : 0;
          this.applyConfig(ev.config);
          this.started = true;
          this.fx.log({ code: 'server.started', level: 'info' });
          break;
        case 'config-applied':
          this.applyConfig(ev.config);
          this.fx.log({ code: 'config.applied', level: 'info' });
          break;
        case 'shutdown-requested':
          if (this.stopped) break;
          shutdown(this.env, ev.now);
          shutdownUplinks(this.env, ev.now);
          this.deadlines.clear();
          this.stopped = true;
          this.fx.log({ code: 'server.stopped', level: 'info' });
          break;
        case 'operator-command':
          if (this.started && !this.stopped) onOperatorCommand(this.env, ev);
          else this.env.fx.report({ report: 'command-result', now: ev.now, id: ev.id, ok: false, code: 'unavailable', message: 'the server is not running', result: {} });
          break;
        case 'backlog-changed':
          if (ev.behind === this.env.receive.behind) break;
          this.env.receive = { behind: ev.behind, drainedAt: ev.behind ? this.env.receive.drainedAt : ev.now };
          this.env.counters.add(ev.behind ? 'receive.backlog' : 'receive.drained');
          break;
        case 'prompts-loaded':
          this.env.prompts.replace(ev.packs);
          this.fx.log({ code: 'prompts.loaded', level: 'info', detail: ev.packs.map((p) => p.lang).join(', ') || 'none' });
          break;
        case 'ids-loaded':
          this.env.acl.replaceIds(ev.ids, ev.source);
          this.fx.log({ code: 'acl.ids-loaded', level: 'info', count: ev.ids.length, detail: `${ev.ids.length} known IDs from ${ev.source}` });
          break;
      }
    } finally {
      this.fx.sink = NULL_SINK;
    }
  }

  nextDeadline(): number | null {
    return this.deadlines.peek();
  }

  private onDatagram(ev: DatagramEvent): void {
    const env = this.env;
    if (ev.socket !== 0) {
      const link = env.links.bySocketNumber(ev.socket);
      if (link !== undefined) return link.fbp !== null ? onFbpDatagram(env, link, ev) : onLinkDatagram(env, link, ev);
      const uplink = env.uplinks.bySocketNumber(ev.socket);
      if (uplink !== undefined) return onUplinkDatagram(env, uplink, ev);
      return bad(env, ev, 'socket.unknown');
    }
    const b = ev.bytes;
    const kind = hbpKind(b);
    if (kind === HbpKind.DMRD) {
      env.hot.dmrdIn++;
      const err = checkDmrd(b);
      if (err !== null) return bad(env, ev, err);
      const s = env.sessions.byId.get(readU32(b, DMRD.PEER));
      if (s === undefined || s.state !== SessionState.Connected || s.port !== ev.port || s.address !== ev.address) {
        // MSTNAK, so a hotspot that lost its session (say, this server restarted) logs in again now.
        env.counters.add('dmrd.not-logged-in');
        return refuse(env, ev, readU32(b, DMRD.PEER));
      }
      s.lastSeen = ev.now;
      return onPeerDmrd(env, s, b, ev.now);
    }
    switch (kind) {
      case HbpKind.RPTL: return onRptl(env, ev);
      case HbpKind.RPTK: return onRptk(env, ev);
      case HbpKind.RPTC: return onRptc(env, ev);
      case HbpKind.RPTO: return onRpto(env, ev);
      case HbpKind.RPTPING: return onPing(env, ev);
      case HbpKind.RPTCL: return onClose(env, ev);
      case HbpKind.DMRA: return onAuxiliary(env, ev, 'dmra');
      case HbpKind.RPTG: return onAuxiliary(env, ev, 'rptg');
      case HbpKind.DMRG: return onAuxiliary(env, ev, 'dmrg');
      case HbpKind.DMRC:
      case HbpKind.Unsupported:
        return bad(env, ev, 'hbp.unsupported');
      case HbpKind.Unknown:
        return bad(env, ev, ev.bytes.length < 4 ? 'hbp.short' : 'hbp.unknown-tag');
      default:
        // Master-to-peer tags (RPTACK, MSTNAK, …) sent to a master.
        return bad(env, ev, 'hbp.unexpected-tag');
    }
  }

  /** The one switch over the core's named timers. */
  private onDeadline(d: Deadline, now: number): void {
    const env = this.env;
    switch (d.kind) {
      case 'keepalive':
        return keepaliveDue(env, d, now);
      case 'login-expiry':
        return loginExpired(env, d.session, now);
      case 'stream-idle':
        return streamIdleDue(env, d, now);
      case 'stream-forget':
        return env.streams.forget(d.stream);
      case 'refused-forget':
        return refusedDue(env, d, now);
      case 'subscription-expiry':
        expiryDue(env, d, now);
        return;
      case 'dial-expiry':
        if (expiryDue(env, d, now)) dialExpired(env, d.sub, now);
        return;
      case 'unmute':
        return unmuteDue(env, d.sub, now);
      case 'default-reflector':
        return restoreDefault(env, d.session, now);
      case 'playout-frame':
        // An echo playback gives its place back when it ends, however it ends.
        if (playoutFrame(env, d, now) !== null && d.playout.kind === 'echo') env.echoes.release();
        return;
      case 'ident':
        return identDue(env, d.session, now);
      case 'link-tick':
        return linkTick(env, d, now);
      case 'uplink-retry':
        return retryDue(env, d.uplink, d.gen, now);
      case 'uplink-step-timeout':
        return stepTimedOut(env, d.uplink, d.gen, now);
      case 'uplink-ping':
        return pingDue(env, d.uplink, d.gen, now);
      case 'notice-summary':
        return noticeSummary(env, d.session, d.start, now);
      case 'console-snapshot':
        this.snapshotting = false;
        if (env.cfg.console.snapshotMs <= 0) return this.reporter.reset(env);
        env.fx.report(this.reporter.report(env, now));
        return this.armSnapshot(now);
    }
  }

  private applyConfig(cfg: CoreConfig): void {
    const env = this.env;
    // An event log written by an older version lacks the newer keys: they take their defaults.
    env.cfg = withDefaults(cfg);
    env.gate.apply(env.cfg, (credential, key, message) =>
      this.fx.log({ code: 'acl.invalid', level: 'error', reason: key, detail: `credential ${credential}: ${key}: ${message}; it refuses everything` }),
    );
    env.acl.apply(env.cfg, (key, message) => this.fx.log({ code: 'acl.invalid', level: 'error', reason: key, detail: `[acl] ${key}: ${message}; it refuses everything` }));
    env.links.apply(env.cfg.links, env.now, (link, key, message) =>
      this.fx.log({ code: 'acl.invalid', level: 'error', reason: key, detail: `link ${link}: ${key === 'tgidTs1' ? 'tgid_acl' : 'sub_acl'}: ${message}; it refuses everything` }),
    );
    for (const l of env.links.all) startTicking(env, l, env.now);
    applyUplinks(env, env.cfg.uplinks, env.now);
    for (const s of env.sessions.values()) {
      if (s.state === SessionState.Connected && s.optionsText === null && s.peerId !== 0xffffffff) applyDefaults(env, s);
    }
    this.armSnapshot(env.now);
  }

  /** Schedule the next console state report, when the console is on and none is scheduled. */
  private armSnapshot(now: number): void {
    if (this.snapshotting || this.env.cfg.console.snapshotMs <= 0) return;
    this.snapshotting = true;
    this.fx.schedule(now + this.env.cfg.console.snapshotMs, { kind: 'console-snapshot' });
  }

  // ── inspection (tests, tools, dashboards; allocates) ─────────────────────────────────────────

  get cfg(): CoreConfig {
    return this.env.cfg;
  }

  get now(): number {
    return this.env.now;
  }

  get sessions(): ReadonlyMap<number, Session> {
    return this.env.sessions.sessionMap;
  }

  /** Logins proven with RPTK and waiting for RPTC (RPTL leaves nothing anywhere). */
  get pendingLogins(): number {
    return this.env.sessions.pendingCount;
  }

  /** Addresses the login path's two rate limits track (a fixed-size table each). */
  get limitedAddresses(): number {
    return this.env.gate.naks.size + this.env.gate.failures.size;
  }

  get refusedOn(): ReadonlyMap<number, RefusedStream> {
    return this.env.streams.refusedMap;
  }

  get index(): SubscriptionIndex {
    return this.env.index;
  }

  peers(): PeerView[] {
    return peerViews(this.env);
  }

  stats(): [string, number][] {
    return statsOf(this.env);
  }
}

export function createCore(deps: CoreDeps): Core {
  return new Core(deps);
}
