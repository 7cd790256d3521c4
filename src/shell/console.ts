// The main thread's end of the operator console. The console's HTTP server runs in the reporting
// thread (workers/console-sink.ts); this bridge holds the other end of its MessagePort:
//  - the core's state report (made on the core's console-snapshot timer) goes to the sink, with the
//    reporting queues, the process's memory and the main thread's timer lateness (event-loop lag);
//  - a command from the sink becomes an operator-command event, dispatched like a datagram (so it is
//    recorded and replayable), and the core's command-result goes back; a reload runs the driver's
//    reload, which ends in a config-applied event.
// Nothing here waits on the sink: posting a message never blocks, and the sink never reads core
// state except through these messages.

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CommandResult, OperatorCommand, PeerState, StateReport } from '../core/index.js';
import { mergePeers, type ConsoleSinkStats, type FromConsole, type ToConsole } from '../reporting/console.js';

export interface ConsoleHost {
  logger: Logger;
  /** Dispatch an operator-command event; returns the core's command-result (null: none came). */
  command(id: number, who: string, command: OperatorCommand): CommandResult | null;
  reload(): Promise<boolean>;
  reportingStats(): Record<string, ConsoleSinkStats>;
  /** Wall ms minus core (monotonic) ms. */
  wallOffset(): number;
}

/**
 * The heap's figures go with every tenth state report; the resident set with each. In the paced
 * benchmark process.memoryUsage() took the main thread 0.07-0.2 ms a report, its resident set
 * alone (process.memoryUsage.rss()) 0.015-0.03 ms.
 */
const HEAP_EVERY = 10;

export class ConsoleBridge {
  /** Our end of the channel to the console sink (a new one each time the reporting thread starts). */
  private port: MessagePort | null = null;
  private lagSum = 0;
  private lagCount = 0;
  private lagMax = 0;
  /** The peers as the core last reported them, merged from its reports of what changed. */
  private peers = new Map<number, PeerState>();
  /** Each counter's value as last sent to the console. */
  private counters = new Map<string, number>();
  /** The console has nothing yet (a new channel): the next state goes whole. */
  private fresh = true;
  /** The heap's figures as last read, and the reports made since (see HEAP_EVERY). */
  private heap = { heapUsed: 0, heapTotal: 0, external: 0 };
  private sinceHeap = HEAP_EVERY;
  /** Where the console listens, once it said so. */
  listening: { address: string; port: number } | null = null;

  constructor(private readonly host: ConsoleHost) {}

  /**
   * A new channel for the console sink, whose other end is handed (transferred) to it when the
   * reporting thread starts: at start, and again when a reload restarts the thread.
   */
  workerPort(): MessagePort {
    this.port?.close();
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.port.on('message', (m: FromConsole) => this.onMessage(m));
    // The port must not keep the process alive on its own.
    this.port.unref();
    // The new sink knows nothing: the next state goes whole.
    this.fresh = true;
    return channel.port2;
  }

  /** How late the main thread's timer fired (ms): the event-loop lag the console shows. */
  timerLate(ms: number): void {
    this.lagSum += ms;
    this.lagCount++;
    if (ms > this.lagMax) this.lagMax = ms;
  }

  /**
   * The core's state report: merged here, and only what changed goes to the console (a copy into
   * the other thread costs the main thread in proportion to its size), except that a new console
   * gets everything once.
   */
  state(r: StateReport): void {
    mergePeers(this.peers, r);
    const full = this.fresh || r.full;
    this.fresh = false;
    const counters: [string, number][] = [];
    for (const c of r.counters) {
      if (!full && this.counters.get(c[0]) === c[1]) continue;
      this.counters.set(c[0], c[1]);
      counters.push(c);
    }
    let rss: number;
    if (++this.sinceHeap >= HEAP_EVERY || full) {
      const mem = process.memoryUsage();
      this.heap = { heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external };
      this.sinceHeap = 0;
      rss = mem.rss;
    } else rss = process.memoryUsage.rss();
    const msg: ToConsole = {
      type: 'state',
      offset: this.host.wallOffset(),
      state: {
        now: r.now,
        full,
        peers: full ? [...this.peers.values()].sort((a, b) => a.peer - b.peer) : r.peers,
        gone: full ? [] : r.gone,
        seen: full ? [] : r.seen,
        calls: r.calls,
        links: r.links,
        uplinks: r.uplinks,
        counters: full ? r.counters : counters,
      },
      reporting: this.host.reportingStats(),
      process: { rss, ...this.heap, lagMs: this.lagCount > 0 ? this.lagSum / this.lagCount : 0, lagMaxMs: this.lagMax },
    };
    this.lagSum = this.lagCount = this.lagMax = 0;
    this.port?.postMessage(msg);
  }

  /** A reload named other name files: the console loads them again. */
  names(names: { subscribers: string[]; talkgroups: string[] }): void {
    const msg: ToConsole = { type: 'names', names };
    this.port?.postMessage(msg);
  }

  close(): void {
    this.port?.close();
  }

  private onMessage(m: FromConsole): void {
    const log = this.host.logger;
    switch (m.type) {
      case 'listening':
        this.listening = { address: m.address, port: m.port };
        log.info({ code: 'console.listening', address: m.address, port: m.port }, `console on http://${m.address.includes(':') ? `[${m.address}]` : m.address}:${m.port}/`);
        return;
      case 'log':
        log[m.level]({ code: m.code }, m.message);
        return;
      case 'command': {
        if (m.command.op === 'reload') {
          void this.host.reload().then(
            (ok) => this.reply(m.id, ok, ok ? '' : 'bad_request', ok ? 'config reloaded' : 'not reloaded (the file has errors, or the server runs without a file; see the log); the running config is kept', { reloaded: ok }),
            (err: unknown) => this.reply(m.id, false, 'unavailable', `reload failed: ${err instanceof Error ? err.message : String(err)}`, {}),
          );
          return;
        }
        const r = this.host.command(m.id, m.who, m.command);
        if (r === null) this.reply(m.id, false, 'unavailable', 'the server did not answer the command', {});
        else this.reply(r.id, r.ok, r.code, r.message, r.result);
        return;
      }
    }
  }

  private reply(id: number, ok: boolean, code: string, message: string, result: Record<string, string | number | boolean>): void {
    const msg: ToConsole = { type: 'result', id, ok, code, message, result };
    this.port?.postMessage(msg);
  }
}
