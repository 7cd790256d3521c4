// A scenario builder for golden event logs. A scenario is a short script (peers log in, ping, talk,
// go quiet) played against a live core exactly as the shell would play it: every event is recorded
// before the core sees it, and after each event the builder asks `core.nextDeadline()` and inserts
// `ticked` events at those times before the next scripted event. Because a real core answers, the
// script can read the salts from the RPTACKs and send correct RPTK digests.
//
// The result is an event log (header line + NDJSON events, passphrase redacted as
// "sha256:<hex>") plus the canonical lines the live core emitted while it was built, so a test can
// check that replaying the log gives back exactly what the live core did.

import { createHash } from 'node:crypto';
import { createCore, DEFAULT_CORE_CONFIG, type ActionSink, type Core, type CoreConfig, type CoreEvent, type CoreReport, type LogEntry, type OperatorCommand, type PromptPackData, type Target } from '../../src/core/index.js';
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
} from '../../src/protocol/index.js';
import { CanonicalSink, encodeEvent, LOG_FORMAT, LOG_VERSION, redactCore, type LogHeader } from '../../src/replay/index.js';
import { loginDigest, sha256 } from './crypto.js';

/** The passphrase every scenario config uses (what the golden test's resolveSecret gives back). */
export const SCENARIO_PASSPHRASE = 'passw0rd';

/** How the shell redacts a secret in an event log: "sha256:" + hex SHA-256 of its UTF-8 bytes. */
export const secretDigest = (s: string): string => 'sha256:' + createHash('sha256').update(s, 'utf8').digest('hex');

/** Hex SHA-256 of a text (the replay digest). */
export const textDigest = (t: string): string => createHash('sha256').update(t, 'utf8').digest('hex');

/** A copy of the default core config with `patch` applied. */
export function scenarioConfig(patch: (c: CoreConfig) => void = () => {}): CoreConfig {
  const c = structuredClone(DEFAULT_CORE_CONFIG);
  c.hbp.passphrase = SCENARIO_PASSPHRASE;
  patch(c);
  return c;
}

/** A simulated hotspot or repeater: its peer ID and the UDP address it sends from. */
export interface Peer {
  id: number;
  port: number;
  address?: string;
}

export const DEFAULT_ADDRESS = '192.0.2.1';
const addr = (p: Peer): string => p.address ?? DEFAULT_ADDRESS;

/** A reply the core sent straight back (not a fan-out), decoded when it is a master reply. */
export interface Reply {
  address: string;
  port: number;
  bytes: Uint8Array;
  reply: MasterReply | null;
}

/** One DMRD to send at a given time (used to interleave calls). */
export interface Timed {
  at: number;
  peer: Peer;
  bytes: Uint8Array;
}

export interface FrameSpec {
  peer: Peer;
  src: number;
  tg: number;
  slot: 1 | 2;
  streamId: number;
  seq: number;
  /** Byte 15 without slot/call-type bits: 0x21 voice header, 0x10 sync burst A, 0x01..0x05 bursts B–F, 0x22 terminator. */
  frame: number;
  /** A private call (call-type bit set). */
  private?: boolean;
}

/** One 55-byte group-call DMRD. The payload carries seq and frame so each packet is recognisable. */
export function dmrd(f: FrameSpec): Uint8Array {
  const payload = new Uint8Array(33);
  payload[0] = f.seq & 0xff;
  payload[1] = f.frame;
  return encodeDmrd({ seq: f.seq, src: f.src, dst: f.tg, peerId: f.peer.id, slot: f.slot, frame: f.frame, streamId: f.streamId, payload, unit: f.private === true });
}

/** The frame types of a voice call: header, `superframes` × bursts A–F, terminator. */
export function voiceFrameTypes(superframes = 1, terminator = true): number[] {
  const out = [0x21];
  for (let i = 0; i < superframes; i++) out.push(0x10, 0x01, 0x02, 0x03, 0x04, 0x05);
  if (terminator) out.push(0x22);
  return out;
}

export interface CallSpec {
  peer: Peer;
  src: number;
  tg: number;
  slot: 1 | 2;
  streamId: number;
  /** Time of the first packet. */
  at: number;
  /** Packet spacing in ms (a DMR burst is 60 ms). */
  interval?: number;
  superframes?: number;
  /** false: the terminator is lost. */
  terminator?: boolean;
  seq0?: number;
  /** A private (unit-to-unit) call to `tg` rather than a group call. */
  private?: boolean;
}

/** The packets of a voice call with their send times (sequence numbers count up from seq0). */
export function callPackets(c: CallSpec): Timed[] {
  const interval = c.interval ?? 60;
  return voiceFrameTypes(c.superframes ?? 1, c.terminator ?? true).map((frame, i) => ({
    at: c.at + i * interval,
    peer: c.peer,
    bytes: dmrd({ peer: c.peer, src: c.src, tg: c.tg, slot: c.slot, streamId: c.streamId, seq: (c.seq0 ?? 0) + i, frame, private: c.private === true }),
  }));
}

/** Forwards to the canonical renderer and keeps direct sends of the current event for the script. */
class TeeSink implements ActionSink {
  readonly canonical = new CanonicalSink();
  direct: Reply[] = [];

  send(socket: number, address: string, port: number, bytes: Uint8Array): void {
    this.canonical.send(socket, address, port, bytes);
    const copy = bytes.slice();
    const r = parseMasterReply(copy);
    this.direct.push({ address, port, bytes: copy, reply: r.ok ? r.value : null });
  }

  fanOut(frame: Uint8Array, targets: readonly Target[], count: number): void {
    this.canonical.fanOut(frame, targets, count);
  }

  log(entry: LogEntry): void {
    this.canonical.log(entry);
  }

  report(r: CoreReport): void {
    this.canonical.report(r);
  }
}

export interface ScenarioOptions {
  seed?: number;
  config?: CoreConfig;
  /** The wall clock (ms since 1970) at the start, for FBP timestamps; left out of the event when not given. */
  wallMs?: number;
}

export interface BuiltScenario {
  /** The event log: header line, then one NDJSON event per line, with a final newline. */
  log: string;
  /** Canonical action lines the live core emitted while the log was recorded. */
  liveLines: string[];
}

export class Scenario {
  readonly core: Core;
  private readonly sink = new TeeSink();
  private readonly lines: string[] = [];
  private readonly redact: (c: CoreConfig) => CoreConfig = (c) => redactCore(c, secretDigest);
  private finished = false;
  now = 0;

  constructor(opts: ScenarioOptions = {}) {
    const config = opts.config ?? scenarioConfig();
    this.core = createCore({ sha256 });
    const header: LogHeader = {
      format: LOG_FORMAT,
      version: LOG_VERSION,
      // Synthetic logs: a fixed producer name and epoch keep the files stable across versions.
      dmrhub: 'scenario',
      epochMs: 0,
      nowAtEpoch: 0,
      configPath: null,
      config: { core: this.redact(config) },
    };
    this.lines.push(JSON.stringify(header));
    this.record({ kind: 'started', now: this.now, seed: opts.seed ?? 1, config, ...(opts.wallMs !== undefined ? { wallMs: opts.wallMs } : {}) });
  }

  /** Record an event, then hand it to the core (the recorder serialises before `handle`). */
  private record(ev: CoreEvent): Reply[] {
    if (this.finished) throw new Error('scenario already shut down');
    this.lines.push(encodeEvent(ev, this.redact));
    this.sink.direct = [];
    this.sink.canonical.now = ev.now;
    this.core.handle(ev, this.sink);
    return this.sink.direct;
  }

  /** Move the clock to `t`, sending `ticked` at every deadline due on the way (those at `t` included). */
  at(t: number): this {
    if (t < this.now) throw new Error(`time goes backwards: ${t} < ${this.now}`);
    for (let d = this.core.nextDeadline(); d !== null && d <= t; d = this.core.nextDeadline()) {
      this.now = Math.max(this.now, d);
      this.record({ kind: 'ticked', now: this.now });
    }
    this.now = t;
    return this;
  }

  wait(ms: number): this {
    return this.at(this.now + ms);
  }

  /** Canonical action lines the core has emitted so far. */
  get actions(): readonly string[] {
    return this.sink.canonical.lines;
  }

  /** The shell applied a new core config (a reload), at the current time. */
  configApplied(config: CoreConfig): this {
    this.record({ kind: 'config-applied', now: this.now, config });
    return this;
  }

  /** The shell loaded these prompt packs, at the current time. */
  promptsLoaded(packs: PromptPackData[]): this {
    this.record({ kind: 'prompts-loaded', now: this.now, packs });
    return this;
  }

  /** An operator command from the console, at the current time; returns what the core sent. */
  operator(id: number, command: OperatorCommand, who = 'token:test'): Reply[] {
    return this.record({ kind: 'operator-command', now: this.now, id, who, command });
  }

  /** A datagram from `peer` at the current time; returns what the core sent straight back. */
  datagram(peer: Peer, bytes: Uint8Array): Reply[] {
    return this.record({ kind: 'datagram-received', now: this.now, socket: 0, address: addr(peer), port: peer.port, bytes: bytes.slice() });
  }

  /** A datagram on another of the shell's sockets (an OpenBridge link) from address:port. */
  socketDatagram(socket: number, address: string, port: number, bytes: Uint8Array): Reply[] {
    return this.record({ kind: 'datagram-received', now: this.now, socket, address, port, bytes: bytes.slice() });
  }

  /** The one master reply to the last datagram, or an error naming what came instead. */
  private expectReply(replies: Reply[], tag: MasterReply['tag'], what: string): number {
    const r = replies.length === 1 ? replies[0]!.reply : null;
    if (r === null || r.tag !== tag) throw new Error(`${what}: expected one ${tag}, got ${replies.length} repl${replies.length === 1 ? 'y' : 'ies'}`);
    return r.arg;
  }

  /**
   * HBP login: RPTL, RPTK, RPTC and (when `options` is given) RPTO, `step` ms apart. With the right
   * passphrase every step must be acked; with a wrong one the RPTK must be refused (MSTNAK) and the
   * login stops there. Returns the salt the core chose.
   */
  login(peer: Peer, o: { options?: string; passphrase?: string; step?: number; callsign?: string } = {}): number {
    const step = o.step ?? 10;
    const passphrase = o.passphrase ?? SCENARIO_PASSPHRASE;
    const salt = this.expectReply(this.datagram(peer, encodeRptl(peer.id)), 'RPTACK', `RPTL ${peer.id}`);
    this.wait(step);
    const k = this.datagram(peer, encodeRptk(peer.id, loginDigest(salt, passphrase)));
    if (passphrase !== SCENARIO_PASSPHRASE) {
      this.expectReply(k, 'MSTNAK', `RPTK ${peer.id} (wrong passphrase)`);
      return salt;
    }
    this.expectReply(k, 'RPTACK', `RPTK ${peer.id}`);
    this.wait(step);
    const cfg = encodeRptc({ peerId: peer.id, callsign: o.callsign ?? `N0P${peer.id % 100}`, slots: '3', softwareId: 'scenario', packageId: 'scenario' });
    this.expectReply(this.datagram(peer, cfg), 'RPTACK', `RPTC ${peer.id}`);
    if (o.options !== undefined) {
      this.wait(step);
      this.expectReply(this.datagram(peer, encodeRpto(peer.id, o.options)), 'RPTACK', `RPTO ${peer.id}`);
    }
    return salt;
  }

  /** RPTL only (a challenge the peer then may or may not answer). Returns the salt. */
  challenge(peer: Peer): number {
    return this.expectReply(this.datagram(peer, encodeRptl(peer.id)), 'RPTACK', `RPTL ${peer.id}`);
  }

  /** RPTK with the digest of `salt` and `passphrase` (no expectation about the reply). */
  answer(peer: Peer, salt: number, passphrase = SCENARIO_PASSPHRASE): Reply[] {
    return this.datagram(peer, encodeRptk(peer.id, loginDigest(salt, passphrase)));
  }

  ping(peer: Peer): Reply[] {
    return this.datagram(peer, encodeRptping(peer.id));
  }

  options(peer: Peer, options: string): Reply[] {
    return this.datagram(peer, encodeRpto(peer.id, options));
  }

  logout(peer: Peer): Reply[] {
    return this.datagram(peer, encodeRptcl(peer.id));
  }

  /** Send DMRDs at their times, in time order (ties keep the given order). */
  play(items: readonly Timed[]): this {
    const sorted = items.map((x, i) => ({ x, i })).sort((a, b) => a.x.at - b.x.at || a.i - b.i);
    for (const { x } of sorted) {
      this.at(x.at);
      this.datagram(x.peer, x.bytes);
    }
    return this;
  }

  /** One voice call, packets `interval` ms apart from `c.at`. */
  call(c: CallSpec): this {
    return this.play(callPackets(c));
  }

  /** Send `shutdown-requested` at `t` (after the deadlines due by then) and return the log. */
  shutdown(t: number): BuiltScenario {
    this.at(t);
    this.record({ kind: 'shutdown-requested', now: this.now });
    this.finished = true;
    return { log: this.lines.join('\n') + '\n', liveLines: [...this.sink.canonical.lines] };
  }
}
