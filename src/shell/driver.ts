// The transport shell's driver: owns the sockets, the single timer, the clock, the recorders and
// the core. Each datagram becomes an event stamped with `now`, goes to the recorders, then to the
// core by a plain call; the actions come back through the transport. Signals become events too.

import { createHash, randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { loadConfigIsolated } from '../config/load-isolated.js';
import { formatConfigErrors, redactConfig, secretDigest, type AppConfig } from '../config/types.js';
import { createCore, type CommandResult, type Core, type CoreConfig, type CoreEvent, type CoreReport, type PromptPackData } from '../core/index.js';
import { LOG_FORMAT, LOG_VERSION, redactCore, type LogHeader } from '../replay/format.js';
import { monotonicMs } from './clock.js';
import { ConsoleBridge } from './console.js';
import { createLogger } from './logger.js';
import { toReportInput } from './report-map.js';
import { ReportingHub } from './reporting.js';
import { hubSettings, probeSqlite, workerFile } from './sink-specs.js';
import { EventLog } from './event-log.js';
import { dumpInChunks, FlightRing } from './recorder.js';
import { BindError, UdpTransport, type SocketSpec } from './transport.js';
import { planReload } from './reload.js';
import { OverloadGuard } from './overload.js';
import { VERSION } from './version.js';
import { loadPromptPackAsync } from './prompts.js';
import { NamesHolder } from './names.js';
import { readIdFile, type IdFileResult } from './id-file.js';

export { probeSqlite, workerFile } from './sink-specs.js';
export { StartError } from './start-error.js';
import { StartError } from './start-error.js';

export const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
const redact = (c: CoreConfig): CoreConfig => redactCore(c, secretDigest);

/** An uplink's RPTC package ID left empty in the config is this dmrhub's version. */
const withVersion = (c: CoreConfig): CoreConfig => ({ ...c, uplinks: c.uplinks.map((u) => (u.rptc.packageId !== '' ? u : { ...u, rptc: { ...u.rptc, packageId: VERSION } })) });

export interface DriverOptions {
  /** Record every event to this file (overrides the config's record settings). */
  recordPath?: string | null;
  seed?: number;
  logger?: Logger;
}

export class Driver {
  readonly logger: Logger;
  readonly core: Core;
  private readonly transport: UdpTransport;
  private readonly ring: FlightRing;
  private eventLog: EventLog | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt: number | null = null;
  private stopping = false;
  hbpPort = 0;
  readonly reporting: ReportingHub;
  /** The operator console's channel (null when the console is off). */
  readonly console: ConsoleBridge | null;
  private commandResult: CommandResult | null = null;
  /** Subscriber and talkgroup names ([console] subscriber_names, talkgroup_names), for the log lines. */
  readonly names: NamesHolder;
  /** Wall clock at monotonic time `monoAtStart`, to stamp reports. */
  private readonly epochAtStart = Date.now();
  private readonly monoAtStart = monotonicMs();
  /** When the last overload warning was logged (monotonic ms). */
  private overloadLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(private app: AppConfig, private readonly opts: DriverOptions = {}) {
    this.logger = opts.logger ?? createLogger(app.log);
    this.core = createCore({ sha256 });
    this.console = app.console.enabled
      ? new ConsoleBridge({
          logger: this.logger,
          command: (id, who, command) => {
            this.commandResult = null;
            this.dispatch({ kind: 'operator-command', now: monotonicMs(), id, who, command });
            return this.commandResult;
          },
          reload: () => this.reload(),
          reportingStats: () => this.reporting.stats(),
          wallOffset: () => this.wallClock(0),
        })
      : null;
    const bridge = this.console;
    this.reporting = new ReportingHub({
      ...hubSettings(app),
      hostFile: workerFile('reporting-host.js'),
      logger: this.logger,
      ...(bridge !== null ? { attach: { sink: 'console', port: () => bridge.workerPort() } } : {}),
    });
    this.transport = new UdpTransport(
      this.logger,
      (socket, bytes, address, port) => this.dispatch({ kind: 'datagram-received', now: monotonicMs(), socket, address, port, bytes }),
      // Always wired: a reload may add a sink to a server that started with none.
      (r) => this.onReport(r),
      new OverloadGuard(app.overload, () => performance.now(), (behind, ms) => this.onBacklog(behind, ms), (socket, probe) => this.transport.sendProbe(socket, probe)),
    );
    this.ring = new FlightRing(app.record.flightRecorderEvents);
    this.names = new NamesHolder(this.logger, (store) => void (this.transport.names = store));
  }

  /** A core report: the console's own go to its bridge, the v1 ones to the reporting hub. */
  private onReport(r: CoreReport): void {
    // The shell's own counters (sends queued and failed, voice shed under overload) go with the
    // core's; the overload maxima are gauges, not counters, and stay in server.exit only.
    if (r.report === 'state') this.console?.state({ ...r, counters: [...r.counters, ...this.transport.stats().filter(([k]) => !k.startsWith('overload.'))] });
    else if (r.report === 'command-result') this.commandResult = { ...r, result: { ...r.result } };
    else if (this.reporting.active) this.reporting.push(toReportInput(r, (mono) => this.wallClock(mono)));
  }

  /**
   * The receive queue fell behind (voice fan-out is shed until it drains) or drained: the core is
   * told, so that silence meanwhile does not drop peers. Warned at most every 10 s.
   */
  private onBacklog(behind: boolean, ms: number): void {
    if (this.stopping) return;
    const now = monotonicMs();
    this.dispatch({ kind: 'backlog-changed', now, behind });
    if (!behind || now - this.overloadLoggedAt < 10_000) return;
    this.overloadLoggedAt = now;
    const g = this.transport.guard;
    const frames = this.core.stats().find(([k]) => k === 'forward.shed-behind')?.[1] ?? 0;
    this.logger.warn(
      { code: 'overload.behind', waitedMs: Math.round(ms), backlogs: g.backlogs, framesShedBehind: frames, shed: { ...g.shed } },
      `overload: datagrams waited ${Math.round(ms)} ms or more to be read; voice is not fanned out until the receive queue drains ` +
        `(so far: ${g.backlogs} backlog(s), ${frames} group-call frames not fanned out while behind; voice datagrams shed: ` +
        `${g.shed.turnBudget} over the turn budget, ${g.shed.backlog} for the backlog, ${g.shed.sendQueue} for a full send queue)`,
    );
  }

  wallClock(now: number): number {
    return this.epochAtStart + (now - this.monoAtStart);
  }

  header(partial = false): LogHeader {
    return {
      format: LOG_FORMAT,
      version: LOG_VERSION,
      dmrhub: VERSION,
      epochMs: Date.now(),
      nowAtEpoch: monotonicMs(),
      configPath: this.app.source,
      config: redactConfig(this.app),
      ...(partial ? { partial } : {}),
    };
  }

  async start(): Promise<void> {
    const recordPath = this.opts.recordPath ?? (this.app.record.enabled ? this.app.record.path : null);
    if (recordPath) this.eventLog = new EventLog(recordPath, () => this.header(), redact, this.logger);
    // SQL reporting configured but better-sqlite3 absent or broken: refuse to start, saying what to
    // do, rather than run with a sink that can never write. Checked while the sockets open.
    const sqlite = this.app.sql.enabled ? probeSqlite() : Promise.resolve(null);
    // The known-ID list is read while the sockets open and handed in right after `started`, so no
    // login is judged without it.
    const idFile = this.app.acl.idFile;
    const ids = idFile !== '' ? readIdFile(idFile) : null;
    const { port } = await this.openSocket('HomeBrew peers ([hbp] address and port)', { address: this.app.hbp.address, port: this.app.hbp.port, recvBufferBytes: this.app.hbp.recvBufferBytes });
    this.hbpPort = port;
    // One socket per OpenBridge link, opened in config order so link i is socket i + 1.
    for (const [i, link] of this.app.links.entries()) {
      const opened = await this.openSocket(`link ${link.name} ([[links]] address and port)`, { address: link.address, port: link.port, recvBufferBytes: this.app.hbp.recvBufferBytes });
      if (opened.index !== i + 1) throw new Error(`link ${link.name} got socket ${opened.index}, expected ${i + 1}`);
      const target = this.app.core.links[i]!;
      this.logger.info(
        { code: 'link.listening', link: link.name, address: link.address, port: opened.port, target: `${target.address}:${target.port}` },
        `OpenBridge link ${link.name} on ${link.address}:${opened.port}, to ${target.address}:${target.port}`,
      );
    }
    // One socket per uplink after the links', bound to its local address and port.
    const firstUplink = this.app.links.length + 1;
    for (const [i, up] of this.app.uplinks.entries()) {
      const opened = await this.openSocket(`uplink ${up.name} ([[uplinks]] local_address and local_port)`, { address: up.address, port: up.port, recvBufferBytes: this.app.hbp.recvBufferBytes });
      if (opened.index !== firstUplink + i) throw new Error(`uplink ${up.name} got socket ${opened.index}, expected ${firstUplink + i}`);
      const master = this.app.core.uplinks[i]!;
      this.logger.info(
        { code: 'uplink.listening', uplink: up.name, address: up.address, port: opened.port, master: `${master.address}:${master.port}` },
        `uplink ${up.name} on ${up.address}:${opened.port}, to the master at ${master.address}:${master.port}`,
      );
    }
    this.app = { ...this.app, core: withVersion(this.app.core) };
    const sqliteProblem = await sqlite;
    if (sqliteProblem !== null) throw new StartError(sqliteProblem, 2);
    const idsRead = ids === null ? null : await ids;
    if (idsRead !== null && !idsRead.ok) throw new StartError(`[acl] id_file: ${idsRead.error}`, 2);
    const seed = this.opts.seed ?? randomInt(0, 2 ** 31);
    this.dispatch({ kind: 'started', now: monotonicMs(), seed, config: this.app.core, wallMs: Date.now() });
    if (idsRead !== null) this.idsRead(idFile, idsRead);
    // Reporting workers start only now, after the socket is open: no database or broker work
    // stands between start and the first routed packet.
    this.reporting.start();
    this.reporting.push({ family: 'server', type: 'started', at: Date.now(), version: VERSION, port });
    this.logger.info(
      { code: 'server.listening', address: this.app.hbp.address, port, recording: recordPath ?? null, version: VERSION },
      `dmrhub ${VERSION} listening for HomeBrew peers on ${this.app.hbp.address}:${port}`,
    );
    void this.loadPrompts();
    void this.names.load(this.app.names);
  }

  /** Open a UDP socket; a port that cannot be opened becomes a StartError naming what it was for. */
  private async openSocket(what: string, spec: SocketSpec): Promise<{ index: number; port: number }> {
    try {
      return await this.transport.open(spec);
    } catch (err) {
      if (err instanceof BindError) throw new StartError(`${what}: ${err.message}`);
      throw err;
    }
  }

  /** Read the voice prompt packs (non-blocking file reads, after the socket is open) and hand them to the core. */
  private async loadPrompts(): Promise<void> {
    const { directory, languages } = this.app.prompts;
    if (directory === '') {
      this.logger.info({ code: 'prompts.none' }, 'voice prompts: prompts.directory is not set, so dial-a-TG answers, the info service and the voice ident are silent');
      return;
    }
    const packs: PromptPackData[] = [];
    for (const lang of languages) {
      const r = await loadPromptPackAsync(directory, lang);
      if (!r.ok) {
        this.logger.warn({ code: 'prompts.load-failed', lang, error: r.error }, `voice prompts: ${r.error}; prompts in '${lang}' are skipped`);
        continue;
      }
      for (const w of r.warnings) this.logger.warn({ code: 'prompts.pack-warning', lang }, `voice prompts '${lang}': ${w}`);
      packs.push({ lang, words: Object.fromEntries(r.pack.words), ondemand: Object.fromEntries(r.pack.ondemand) });
    }
    if (this.stopping) return;
    this.dispatch({ kind: 'prompts-loaded', now: monotonicMs(), packs });
  }

  /** Read the known-ID list again (SIGHUP); a file that cannot be read keeps the list in force. */
  private async loadIds(): Promise<void> {
    const file = this.app.acl.idFile;
    if (file === '') return;
    const r = await readIdFile(file);
    if (this.stopping) return;
    if (!r.ok) {
      this.logger.error({ code: 'acl.ids-failed', file, error: r.error }, `[acl] id_file: ${r.error}; the known-ID list in force is kept`);
      return;
    }
    this.idsRead(file, r);
  }

  private idsRead(file: string, r: Extract<IdFileResult, { ok: true }>): void {
    if (r.skipped > 0) this.logger.warn({ code: 'acl.ids-skipped', file, skipped: r.skipped }, `[acl] id_file: ${r.skipped} lines without an ID were skipped`);
    this.dispatch({ kind: 'ids-loaded', now: monotonicMs(), source: file, ids: r.ids });
  }

  /** Every event enters here: recorded, then handed to the core; then the timer is re-armed. */
  dispatch(ev: CoreEvent): void {
    this.ring.push(ev);
    this.eventLog?.write(ev);
    this.core.handle(ev, this.transport);
    const due = this.core.nextDeadline();
    if (due !== this.timerAt) this.arm(due);
  }

  private arm(due: number | null): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = due;
    if (due === null || this.stopping) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = null;
      const now = monotonicMs();
      this.console?.timerLate(Math.max(0, now - due));
      this.dispatch({ kind: 'ticked', now });
    }, Math.max(0, due - monotonicMs()));
  }

  /** SIGHUP: load the file again; a bad file keeps the running config. What applies and what waits: reload.ts. */
  async reload(): Promise<boolean> {
    if (!this.app.source) return false;
    const r = await loadConfigIsolated(this.app.source);
    if (!r.ok) {
      this.logger.error({ code: 'config.reload-failed', errors: r.errors }, `config reload refused, keeping the running config:\n${formatConfigErrors(r.errors, this.app.source)}`);
      return false;
    }
    const plan = planReload(this.app, r.config, withVersion);
    if (plan.restartKeys.length > 0) {
      this.logger.warn({ code: 'config.restart-needed', keys: plan.restartKeys }, `changed, taking effect at the next restart (the running values are kept): ${plan.restartKeys.join(', ')}`);
    }
    if (plan.restartLinks.length > 0) {
      this.logger.warn({ code: 'config.restart-needed', links: plan.restartLinks }, `links added, removed, renamed or given another local address/port (${plan.restartLinks.join(', ')}): takes effect at the next restart; the running links are kept`);
    }
    if (plan.restartUplinks.length > 0) {
      this.logger.warn({ code: 'config.restart-needed', uplinks: plan.restartUplinks }, `uplinks added, removed or given another local address/port (${plan.restartUplinks.join(', ')}): takes effect at the next restart; the running uplinks are kept`);
    }
    const consoleChanged = JSON.stringify(plan.app.console) !== JSON.stringify(this.app.console);
    if (consoleChanged) {
      // The console's server and its thread start with the process; its snapshot follows the running console.
      this.logger.warn({ code: 'config.restart-needed', keys: ['console'] }, 'console settings changed: take effect at the next restart (the running values are kept)');
    }
    const namesChanged = JSON.stringify(plan.app.names) !== JSON.stringify(this.app.names);
    const core = consoleChanged ? { ...plan.core, console: this.app.core.console } : plan.core;
    this.app = { ...plan.app, core, console: this.app.console };
    this.logger.level = plan.app.log.level;
    this.transport.guard.settings = plan.app.overload;
    this.dispatch({ kind: 'config-applied', now: monotonicMs(), config: core });
    if (namesChanged) this.console?.names(plan.app.names);
    // The name files are read again at every reload: they are downloads that change under us.
    void this.names.load(plan.app.names);
    if (plan.prompts) void this.loadPrompts();
    if (plan.record && !this.opts.recordPath) await this.switchRecording();
    else this.eventLog?.resumeNow();
    if (plan.reporting) {
      await this.reporting.reconfigure(hubSettings(this.app));
      this.logger.info({ code: 'reporting.reconfigured', sinks: this.reporting.sinkNames() }, `reporting restarted with the new settings (sinks: ${this.reporting.sinkNames().join(', ') || 'none'})`);
    }
    // The ID file may have changed even where its name did not: read it again on every reload.
    void this.loadIds();
    return true;
  }

  /** [record] enabled or path changed on reload: close the running log, open the new one (a partial log). */
  private async switchRecording(): Promise<void> {
    const old = this.eventLog;
    this.eventLog = null;
    await old?.close();
    const path = this.app.record.enabled ? this.app.record.path : null;
    if (path !== null) this.eventLog = new EventLog(path, () => this.header(true), redact, this.logger);
    this.logger.info({ code: 'record.switched', file: path }, path === null ? 'recording stopped (record.enabled = false)' : `recording now to ${path} (a partial log: it starts at this reload)`);
  }

  private flightFile(reason: string): string {
    return join(this.app.record.flightRecorderDir, `dmrhub-${reason}-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`);
  }

  /** Write the flight recorder's ring at once (the crash path: nothing runs after it); returns the file's path. */
  dumpFlightRecorder(reason: string): string {
    const file = this.flightFile(reason);
    this.ring.dump(file, this.header(), redact);
    return file;
  }

  private dumping: Promise<void> | null = null;
  /** Flight-recorder dumps that failed to write (the routing went on). */
  flightDumpErrors = 0;

  /**
   * SIGUSR2: write a copy of the ring in chunks across event-loop turns, so the packet path never
   * waits more than one chunk. One dump at a time; a write error is logged and counted.
   */
  dumpFlightRecorderAsync(reason: string): void {
    if (this.ring.capacity === 0) {
      this.logger.info({ code: 'flight-recorder.off' }, 'flight recorder is off (record.flight_recorder_events = 0): nothing to write');
      return;
    }
    if (this.dumping !== null) {
      this.logger.info({ code: 'flight-recorder.busy' }, 'flight recorder: a dump is still being written; this request is ignored');
      return;
    }
    const file = this.flightFile(reason);
    this.dumping = dumpInChunks(this.ring, file, this.header(), redact).then(
      () => {
        this.dumping = null;
        this.logger.info({ code: 'flight-recorder.dumped', file }, `flight recorder written to ${file}`);
      },
      (err: unknown) => {
        this.dumping = null;
        this.flightDumpErrors++;
        const why = err instanceof Error ? err.message : String(err);
        this.logger.error({ code: 'flight-recorder.write-failed', file, error: why }, `flight recorder could not be written to ${file}: ${why}; routing goes on`);
      },
    );
  }

  /** Recording health: the event log's counters and the flight recorder's failed dumps. */
  recordingStats(): Record<string, unknown> {
    return { eventLog: this.eventLog ? { file: this.eventLog.file, recording: this.eventLog.recording, ...this.eventLog.counters } : null, flightDumpErrors: this.flightDumpErrors };
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.dispatch({ kind: 'shutdown-requested', now: monotonicMs() });
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    // MSTCL went out synchronously; give the kernel a moment, then close.
    await new Promise((r) => setImmediate(r));
    await this.transport.close();
    this.reporting.push({ family: 'server', type: 'stopped', at: Date.now(), version: VERSION, port: this.hbpPort });
    await this.reporting.stop();
    this.console?.close();
    await this.eventLog?.close();
    const stats = Object.fromEntries([...this.core.stats(), ...this.transport.stats()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    this.logger.info({ code: 'server.exit', stats, reporting: this.reporting.stats(), recording: this.recordingStats() }, 'dmrhub stopped');
    this.logger.flush();
  }
}
