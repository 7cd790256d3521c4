// What the core's modules are handed: the effects port (the only way out of the core), the
// lifecycle port (the router's stream and session ends, which sequence what follows them), and the
// tables, each owned by its folder and changed only through its own methods.

import type { AclTable } from './acl/table.js';
import type { ActionSink, CoreReport, LogEntry, Target } from './actions.js';
import type { CoreConfig } from './config.js';
import type { Counters, HotCounters, LogOnce } from './counters.js';
import type { EchoBudget } from './echo/budget.js';
import type { LinkTable } from './links/table.js';
import type { Deadline, EndReason, Session, Stream } from './model/index.js';
import type { PromptPacks } from './prompts/packs.js';
import type { Prng } from './prng.js';
import type { LoginGate } from './sessions/gate.js';
import type { SessionTable } from './sessions/table.js';
import type { StreamTable } from './streams/table.js';
import type { SubscriptionIndex } from './subscriptions/index.js';
import type { HeardTable } from './unit/heard.js';
import type { UplinkTable } from './uplinks/table.js';

export interface CoreDeps {
  /** SHA-256 of `data` (32 bytes). Injected so the core stays free of node:crypto. */
  sha256(data: Uint8Array): Uint8Array;
  // OpenBridge MACs are computed by the core's own HMAC-SHA1 (src/protocol/obp/hmac-sha1.ts): a
  // link key is fixed, and precomputing its blocks makes a frame's MAC cheaper than a call out.
}

/** The effects port: everything the core does to the outside, and its one timer. */
export interface Effects {
  send(socket: number, address: string, port: number, bytes: Uint8Array): boolean | void;
  fanOut(frame: Uint8Array, targets: readonly Target[], count: number): boolean | void;
  log(entry: LogEntry): void;
  report(r: CoreReport): void;
  /** Run the named timer `d` at core time `at` (the router's onDeadline says what each does). */
  schedule(at: number, d: Deadline): void;
}

/** Stream and session ends: the router sequences what follows them (echo, prompts, reports). */
export interface Lifecycle {
  endStream(st: Stream, now: number, reason: EndReason): void;
  closeSession(s: Session, now: number, reason: string): void;
}

/** The shell's receive backlog, as its `backlog-changed` events said (changed by the router only). */
export interface ReceiveBacklog {
  /** Datagrams are waiting to be read beyond the shell's limit. */
  behind: boolean;
  /** When the last backlog drained (core time); 0 when there was none. */
  drainedAt: number;
}

export interface CoreEnv {
  readonly cfg: CoreConfig;
  /** `now` of the event being handled. */
  readonly now: number;
  /** Wall clock minus core time (ms), from the `started` event: FBP timestamps are wall-clock. */
  readonly wallOffset: number;
  readonly receive: Readonly<ReceiveBacklog>;
  readonly deps: CoreDeps;
  readonly prng: Prng;
  readonly fx: Effects;
  readonly life: Lifecycle;
  readonly counters: Counters;
  readonly hot: HotCounters;
  readonly logOnce: LogOnce;
  readonly sessions: SessionTable;
  /** The login path's key, credentials and per-address limits (no per-RPTL state). */
  readonly gate: LoginGate;
  readonly streams: StreamTable;
  readonly index: SubscriptionIndex;
  readonly links: LinkTable;
  readonly uplinks: UplinkTable;
  readonly heard: HeardTable;
  readonly prompts: PromptPacks;
  readonly echoes: EchoBudget;
  readonly acl: AclTable;
}

/** The effects port over the sink of the event being handled. */
export class EffectsPort implements Effects {
  sink: ActionSink;
  constructor(
    sink: ActionSink,
    private readonly timer: (at: number, d: Deadline) => void,
  ) {
    this.sink = sink;
  }

  send(socket: number, address: string, port: number, bytes: Uint8Array): boolean | void {
    return this.sink.send(socket, address, port, bytes);
  }

  fanOut(frame: Uint8Array, targets: readonly Target[], count: number): boolean | void {
    return this.sink.fanOut(frame, targets, count);
  }

  log(entry: LogEntry): void {
    this.sink.log(entry);
  }

  report(r: CoreReport): void {
    this.sink.report?.(r);
  }

  schedule(at: number, d: Deadline): void {
    this.timer(at, d);
  }
}
