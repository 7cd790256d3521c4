// The reporting path of the shell: report events leave the packet path through one bounded queue
// per sink and go, in batches, to the reporting thread (piscina, one worker hosting every sink:
// workers/reporting-host.ts). The driver only ever calls `push`, which never waits. Per sink:
//  - at most one batch in flight; a batch goes out when it is full or when the oldest event has
//    waited `batchMs`;
//  - a batch the worker could not deliver (`ok: false`) goes back to the head of the queue and the
//    sink is retried with exponential backoff;
//  - when the queue is full, the least important event goes (subscription events before peer and
//    call events; server and health events are kept), and superseded events are coalesced (a newer
//    options event for the same peer replaces the older one); every drop is counted;
//  - after drops, the next batch carries a snapshot of the current state (connected peers, active
//    calls) so the sink can rebuild retained state; a health event reports the drops when the sink
//    is up again. Health events go to every sink and name the sink they describe, so `seq` has no
//    gaps other than dropped events.

import type { MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import {
  PRIORITY,
  REPORT_VERSION,
  type BatchTask,
  type CallStartEvent,
  type AttachTask,
  type HostedSink,
  type PeerLoginEvent,
  type ReportEvent,
  type ReportingHealthEvent,
  type SinkState,
  type StateSnapshot,
  type StopTask,
  type TaskResult,
} from '../reporting/events.js';
import { coalesceKey, Sink, type Entry, type SinkCounters } from './reporting-queue.js';

export type { SinkCounters } from './reporting-queue.js';

/** An event as the hub receives it: everything but the fields the hub stamps. */
export type ReportInput = ReportEvent extends infer E ? (E extends ReportEvent ? Omit<E, 'v' | 'server' | 'seq'> : never) : never;

/** A sink: its name, the module implementing it (compiled JS, exports `createSink`) and its options. */
export type SinkSpec = HostedSink;

export interface HubOptions {
  server: string;
  queueDepth: number;
  batchSize: number;
  batchMs: number;
  sinks: SinkSpec[];
  /** Absolute path of the reporting thread's module (workers/reporting-host.js, compiled). */
  hostFile: string;
  logger: Logger;
  /** Wall-clock source (ms since the epoch); injectable for tests. */
  clock?: () => number;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** A port handed to one sink when the thread starts (the console sink's channel to the main thread). */
  /** A sink that gets a MessagePort when the thread starts: `port()` makes a new one each start. */
  attach?: { sink: string; port: () => MessagePort };
}

export class ReportingHub {
  private sinks: Sink[];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly peers = new Map<number, PeerLoginEvent>();
  private readonly calls = new Map<string, CallStartEvent>();
  private readonly clock: () => number;
  private readonly backoffMin: number;
  private readonly backoffMax: number;
  private stopping = false;
  private pool: Piscina | null = null;

  constructor(private opts: HubOptions) {
    this.clock = opts.clock ?? Date.now;
    this.backoffMin = opts.backoffMinMs ?? 250;
    // Short: a retry while a sink is down costs one message to the reporting thread, and a long
    // backoff would hold events back for that long after the sink is back.
    this.backoffMax = opts.backoffMaxMs ?? 2000;
    this.sinks = opts.sinks.map((s) => new Sink(s, this.backoffMin));
  }

  get active(): boolean {
    return this.sinks.length > 0;
  }

  /** Start the reporting thread. Call after the sockets are open: nothing here delays routing. */
  start(): void {
    if (this.sinks.length === 0) return;
    // atomics 'disabled': an idle worker must keep its event loop running (the MQTT client's
    // socket, the SQLite pruning timer); piscina's default parks idle threads in Atomics.wait.
    // One task per sink at a time, so the sinks never wait for each other's batches.
    this.pool = new Piscina({
      filename: this.opts.hostFile,
      workerData: { sinks: this.sinks.map((s) => s.spec) },
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: this.sinks.length + 1,
      idleTimeout: Infinity,
      atomics: 'disabled',
      recordTiming: false,
      // A bounded heap: a login storm makes the sinks serialise thousands of events at once, and an
      // unbounded young generation keeps that high-water mark as resident memory. Not too small
      // either: at 2 MB this thread collected its young generation about once a second under a
      // dashboard's load, V8 runs those collections' parallel parts on its own helper threads,
      // which are not niced as this thread is, and the packet path's p99 rose 15-25 % with the
      // console on; at 16 MB, 4 % (BENCHMARKS.md, "Operator console"), and RSS with 2000 peers
      // logged in and every sink on did not move (about 120 MB).
      resourceLimits: { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 64 },
    });
    this.pool.on('error', (err: Error) => {
      for (const sink of this.sinks) this.markDown(sink, `reporting thread error: ${err.message}`);
    });
    const attach = this.opts.attach;
    if (attach !== undefined) {
      const port = attach.port();
      const task: AttachTask = { op: 'attach', sink: attach.sink, port };
      (this.pool.run(task, { transferList: [port] as never }) as Promise<TaskResult>).then(
        (r) => {
          if (!r.ok) this.opts.logger.error({ code: 'reporting.attach-failed', sink: attach.sink, error: r.error }, `${attach.sink}: ${r.error ?? 'not attached'}`);
        },
        (err: unknown) => this.opts.logger.error({ code: 'reporting.attach-failed', sink: attach.sink, error: String(err) }, `${attach.sink}: not attached (${String(err)})`),
      );
    }
    this.timer = setInterval(() => this.pump(), Math.max(10, Math.min(this.opts.batchMs, 100)));
    this.timer.unref();
  }

  sinkNames(): string[] {
    return this.sinks.map((s) => s.spec.name);
  }

  /**
   * A reload changed the sinks' settings: stop the reporting thread (a batch in flight gets up to
   * 2 s), then start it again with the new settings. A sink that stays keeps its queue (events
   * pushed meanwhile wait in it); a sink that goes loses what it had queued (logged); a new sink
   * starts empty.
   */
  async reconfigure(next: Pick<HubOptions, 'server' | 'queueDepth' | 'batchSize' | 'batchMs' | 'sinks'>): Promise<void> {
    const pool = this.pool;
    this.pool = null; // no new batches meanwhile
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const until = Date.now() + 2000;
    while (this.sinks.some((s) => s.inFlight !== null) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    if (pool !== null) {
      const bounded = (p: Promise<unknown>): Promise<unknown> => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      await Promise.all(this.sinks.map((s) => bounded(pool.run({ op: 'stop', sink: s.spec.name } satisfies StopTask))));
      await bounded(pool.destroy());
    }
    const old = new Map(this.sinks.map((s) => [s.spec.name, s]));
    this.sinks = next.sinks.map((spec) => {
      const s = old.get(spec.name);
      old.delete(spec.name);
      if (s === undefined) return new Sink(spec, this.backoffMin);
      s.spec = spec;
      s.generation++;
      if (s.inFlight !== null) {
        // Its answer never came: put the batch back at the head of the queue.
        for (let i = s.inFlight.length - 1; i >= 0; i--) s.queue.unshift(s.inFlight[i]!);
        s.live += s.inFlight.length;
        s.inFlight = null;
      }
      s.state = 'starting';
      s.retryAt = 0;
      s.backoff = this.backoffMin;
      return s;
    });
    for (const gone of old.values()) {
      if (gone.live > 0) this.opts.logger.warn({ code: 'reporting.unflushed', sink: gone.spec.name, events: gone.live }, `${gone.spec.name}: removed by the reload; ${gone.live} queued events not delivered`);
    }
    this.opts = { ...this.opts, ...next };
    this.start();
  }

  /** Take one event. Never waits, never throws. */
  push(input: ReportInput): void {
    const event = { ...input, v: REPORT_VERSION, server: this.opts.server, seq: ++this.seq } as ReportEvent;
    this.track(event);
    const priority = PRIORITY[event.family];
    const key = coalesceKey(event);
    for (const sink of this.sinks) this.enqueue(sink, { event, priority, dead: false, key });
    for (const sink of this.sinks) if (sink.live >= this.opts.batchSize) this.send(sink);
  }

  stats(): Record<string, { state: SinkState; queued: number } & SinkCounters> {
    const out: Record<string, { state: SinkState; queued: number } & SinkCounters> = {};
    for (const s of this.sinks) out[s.spec.name] = { state: s.state, queued: s.live, ...s.counters };
    return out;
  }

  /**
   * Flush everything queued, then stop the workers and close the pools. A sink that is up gets up
   * to `deadlineMs` to take its queue; a sink that is down gets one more try and is then given up
   * (what it loses is logged and counted).
   */
  async stop(deadlineMs = 5000, downGraceMs = 1000): Promise<void> {
    this.stopping = true;
    const start = Date.now();
    const pending = (s: Sink): boolean => this.pool !== null && (s.live > 0 || s.inFlight !== null);
    for (const s of this.sinks) if (s.state === 'down') s.retryAt = 0;
    // A sink that is down (at the start or on the way) gets a short grace, not the whole deadline.
    const giveUp = (s: Sink): number => start + (s.state === 'down' ? Math.min(downGraceMs, deadlineMs) : deadlineMs);
    for (;;) {
      const busy = this.sinks.filter((s) => pending(s) && Date.now() < giveUp(s));
      if (busy.length === 0) break;
      for (const s of busy) if (s.inFlight === null && s.live > 0 && Date.now() >= s.retryAt) this.send(s);
      await new Promise((r) => setTimeout(r, 10));
    }
    if (this.timer) clearInterval(this.timer);
    const bounded = <T>(p: Promise<T>, ms: number): Promise<unknown> => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms))]);
    for (const s of this.sinks) {
      if (s.live > 0) {
        this.opts.logger.warn({ code: 'reporting.unflushed', sink: s.spec.name, events: s.live }, `${s.spec.name}: ${s.live} events not delivered at shutdown`);
      }
    }
    const pool = this.pool;
    if (pool === null) return;
    await Promise.all(this.sinks.map((s) => bounded(pool.run({ op: 'stop', sink: s.spec.name } satisfies StopTask), 2000)));
    await bounded(pool.destroy(), 2000);
    this.pool = null;
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  private track(e: ReportEvent): void {
    if (e.family === 'peer') {
      if (e.type === 'login') this.peers.set(e.peer, e);
      else if (e.type === 'logout') this.peers.delete(e.peer);
    } else if (e.family === 'call') {
      if (e.type === 'start') this.calls.set(e.stream, e);
      else if (e.type === 'end') this.calls.delete(e.stream);
    }
  }

  private snapshot(): StateSnapshot {
    return { at: this.clock(), peers: [...this.peers.values()], activeCalls: [...this.calls.values()] };
  }

  private enqueue(sink: Sink, entry: Entry): void {
    if (entry.key !== null) {
      const old = sink.byKey.get(entry.key);
      if (old && !old.dead) {
        old.dead = true;
        sink.live--;
        sink.counters.coalesced++;
        sink.unreported.coalesced++;
      }
      sink.byKey.set(entry.key, entry);
    }
    sink.queue.push(entry);
    sink.live++;
    if (sink.live > this.opts.queueDepth) this.dropOne(sink);
    if (sink.queue.length > 2 * sink.live + 64) this.compact(sink);
  }

  /** Drop the oldest event of the least important class present. */
  private dropOne(sink: Sink): void {
    let worst: Entry | null = null;
    for (const e of sink.queue) {
      if (e.dead) continue;
      if (worst === null || e.priority > worst.priority) worst = e;
      if (worst.priority === 2) break;
    }
    if (worst === null || worst.priority === 0) {
      // Only server and health events left: keep the queue bound anyway, oldest first.
      worst = sink.queue.find((e) => !e.dead) ?? null;
      if (worst === null) return;
    }
    worst.dead = true;
    if (worst.key !== null && sink.byKey.get(worst.key) === worst) sink.byKey.delete(worst.key);
    sink.live--;
    sink.counters.droppedQueueFull++;
    if (sink.state === 'down') sink.unreported.sinkDown++;
    else sink.unreported.queueFull++;
    sink.needSnapshot = true;
  }

  private compact(sink: Sink): void {
    const live = sink.queue.filter((e) => !e.dead);
    sink.queue.length = 0;
    sink.queue.push(...live);
  }

  private pump(): void {
    const now = Date.now();
    for (const sink of this.sinks) {
      if (sink.inFlight !== null || sink.live === 0 || now < sink.retryAt) continue;
      const oldest = sink.queue.find((e) => !e.dead);
      if (oldest === undefined) continue;
      const t = this.clock();
      // A sink with minBatchMs gets a batch no sooner than that after its last one: an event after
      // a quiet spell goes as soon as for any sink, a steady flow goes in fewer, larger batches.
      const due = t - oldest.event.at >= this.opts.batchMs && t - sink.sentAt >= (sink.spec.minBatchMs ?? 0);
      if (sink.live >= this.opts.batchSize || due || sink.state !== 'up' || this.stopping) this.send(sink);
    }
  }

  private send(sink: Sink): void {
    const pool = this.pool;
    if (sink.inFlight !== null || pool === null || sink.live === 0 || Date.now() < sink.retryAt) return;
    const batch: Entry[] = [];
    while (batch.length < this.opts.batchSize && sink.queue.length > 0) {
      const e = sink.queue.shift()!;
      if (e.dead) continue;
      if (e.key !== null && sink.byKey.get(e.key) === e) sink.byKey.delete(e.key);
      batch.push(e);
    }
    sink.live -= batch.length;
    if (batch.length === 0) return;
    sink.inFlight = batch;
    sink.sentAt = this.clock();
    const task: BatchTask = { op: 'batch', sink: sink.spec.name, events: batch.map((e) => e.event) };
    if (sink.needSnapshot) task.snapshot = this.snapshot();
    const hadSnapshot = sink.needSnapshot;
    sink.needSnapshot = false;
    sink.counters.batches++;
    const generation = sink.generation;
    (pool.run(task) as Promise<TaskResult>).then(
      (result) => generation === sink.generation && this.settle(sink, batch, result, hadSnapshot),
      (err: unknown) => generation === sink.generation && this.settle(sink, batch, { ok: false, delivered: 0, state: 'down', error: err instanceof Error ? err.message : String(err) }, hadSnapshot),
    );
  }

  private settle(sink: Sink, batch: Entry[], result: TaskResult, hadSnapshot: boolean): void {
    sink.inFlight = null;
    if (result.ok) {
      const rejected = result.rejected ?? 0;
      sink.counters.delivered += batch.length - rejected;
      if (rejected > 0) {
        sink.counters.rejected += rejected;
        this.opts.logger.warn(
          { code: 'reporting.rejected', sink: sink.spec.name, events: rejected, error: result.error },
          `${sink.spec.name}: ${rejected} event(s) refused by the sink and skipped (${result.error ?? 'no reason given'})`,
        );
      }
      const wasDown = sink.state !== 'up';
      sink.state = 'up';
      sink.backoff = this.backoffMin;
      sink.retryAt = 0;
      const u = sink.unreported;
      if ((wasDown && sink.lastError !== '') || u.queueFull + u.sinkDown > 0) {
        this.opts.logger.info(
          { code: 'reporting.sink-up', sink: sink.spec.name, dropped: { ...u } },
          `${sink.spec.name}: delivering again${u.queueFull + u.sinkDown > 0 ? `; ${u.queueFull + u.sinkDown} events were dropped` : ''}`,
        );
        sink.lastError = '';
        if (u.queueFull + u.sinkDown + u.coalesced > 0) this.health(sink);
      }
      if (sink.live >= this.opts.batchSize) this.send(sink);
      return;
    }
    // Nothing delivered: put the batch back at the head, in order, and back off.
    sink.counters.failedBatches++;
    for (let i = batch.length - 1; i >= 0; i--) {
      const e = batch[i]!;
      sink.queue.unshift(e);
      if (e.key !== null && !sink.byKey.has(e.key)) sink.byKey.set(e.key, e);
    }
    sink.live += batch.length;
    if (hadSnapshot) sink.needSnapshot = true;
    while (sink.live > this.opts.queueDepth) this.dropOne(sink);
    this.markDown(sink, result.error ?? 'not delivered');
    sink.retryAt = Date.now() + sink.backoff;
    sink.backoff = Math.min(this.backoffMax, sink.backoff * 2);
  }

  private markDown(sink: Sink, error: string): void {
    if (sink.state !== 'down' || sink.lastError !== error) {
      this.opts.logger.warn({ code: 'reporting.sink-down', sink: sink.spec.name, error }, `${sink.spec.name}: not delivering (${error}); events are queued and retried`);
    }
    sink.state = 'down';
    sink.lastError = error;
  }

  /** Queue a health event about one sink's queue, for every sink (so no sink sees a `seq` gap). */
  private health(sink: Sink): void {
    const u = sink.unreported;
    const sinks: Record<string, SinkState> = {};
    for (const s of this.sinks) sinks[s.spec.name] = s.state;
    const event: ReportingHealthEvent = {
      v: REPORT_VERSION,
      server: this.opts.server,
      seq: ++this.seq,
      at: this.clock(),
      family: 'reporting',
      type: 'health',
      sink: sink.spec.name,
      dropped: { ...u },
      queueDepth: sink.live,
      sinks,
    };
    sink.unreported = { queueFull: 0, sinkDown: 0, coalesced: 0 };
    for (const s of this.sinks) this.enqueue(s, { event, priority: 0, dead: false, key: null });
  }
}
