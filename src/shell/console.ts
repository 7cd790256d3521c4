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
import type { CommandResult, OperatorCommand, StateReport } from '../core/index.js';
import type { ConsoleSinkStats, FromConsole, ToConsole } from '../reporting/console.js';

export interface ConsoleHost {
  logger: Logger;
  /** Dispatch an operator-command event; returns the core's command-result (null: none came). */
  command(id: number, who: string, command: OperatorCommand): CommandResult | null;
  reload(): Promise<boolean>;
  reportingStats(): Record<string, ConsoleSinkStats>;
  /** Wall ms minus core (monotonic) ms. */
  wallOffset(): number;
}

export class ConsoleBridge {
  private readonly channel = new MessageChannel();
  /** Handed to the console sink (transferred) when the reporting thread starts. */
  readonly workerPort: MessagePort = this.channel.port2;
  private readonly port: MessagePort = this.channel.port1;
  private lagSum = 0;
  private lagCount = 0;
  private lagMax = 0;
  /** Each peer's login time whose RPTC details the console already has (peer ID → loggedInAt). */
  private detailsSent = new Map<number, number>();
  /** Where the console listens, once it said so. */
  listening: { address: string; port: number } | null = null;

  constructor(private readonly host: ConsoleHost) {
    this.port.on('message', (m: FromConsole) => this.onMessage(m));
    // The port must not keep the process alive on its own.
    this.port.unref();
  }

  /** How late the main thread's timer fired (ms): the event-loop lag the console shows. */
  timerLate(ms: number): void {
    this.lagSum += ms;
    this.lagCount++;
    if (ms > this.lagMax) this.lagMax = ms;
  }

  state(r: StateReport): void {
    // A peer's RPTC details do not change during its session: they cross once, then null (the
    // console keeps them). The copy into the other thread is most of the report's cost.
    const sent = new Map<number, number>();
    for (const p of r.peers) {
      if (this.detailsSent.get(p.peer) === p.loggedInAt) p.config = null;
      sent.set(p.peer, p.loggedInAt);
    }
    this.detailsSent = sent;
    const mem = process.memoryUsage();
    const msg: ToConsole = {
      type: 'state',
      offset: this.host.wallOffset(),
      state: { now: r.now, peers: r.peers, calls: r.calls, links: r.links, uplinks: r.uplinks, counters: r.counters },
      reporting: this.host.reportingStats(),
      process: { rss: mem.rss, heapUsed: mem.heapUsed, heapTotal: mem.heapTotal, external: mem.external, lagMs: this.lagCount > 0 ? this.lagSum / this.lagCount : 0, lagMaxMs: this.lagMax },
    };
    this.lagSum = this.lagCount = this.lagMax = 0;
    this.port.postMessage(msg);
  }

  /** A reload named other name files: the console loads them again. */
  names(names: { subscribers: string[]; talkgroups: string[] }): void {
    const msg: ToConsole = { type: 'names', names };
    this.port.postMessage(msg);
  }

  close(): void {
    this.port.close();
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
    this.port.postMessage(msg);
  }
}
