// The transport shell's driver: owns the sockets, the single timer, the clock, the recorders and
// the core. Each datagram becomes an event stamped with `now`, goes to the recorders, then to the
// core by a plain call; the actions come back through the transport. Signals become events too.

import { createHash, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { loadConfigIsolated } from '../config/load-isolated.js';
import { formatConfigErrors, redactConfig, secretDigest, type AppConfig } from '../config/types.js';
import { createCore, type Core, type CoreConfig, type CoreEvent, type PromptPackData } from '../core/index.js';
import { LOG_FORMAT, LOG_VERSION, redactCore, type LogHeader } from '../replay/format.js';
import { monotonicMs } from './clock.js';
import type { MqttSinkOptions, SqlSinkOptions } from '../reporting/sinks.js';
import { createLogger } from './logger.js';
import { toReportInput } from './report-map.js';
import { ReportingHub, type SinkSpec } from './reporting.js';
import { EventLog, FlightRing } from './recorder.js';
import { BindError, UdpTransport, type SocketSpec } from './transport.js';
import { OverloadGuard } from './overload.js';
import { VERSION } from './version.js';
import { loadPromptPackAsync } from './prompts.js';

export const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
const redact = (c: CoreConfig): CoreConfig => redactCore(c, secretDigest);

/** An uplink's RPTC package ID left empty in the config is this dmrhub's version. */
const withVersion = (c: CoreConfig): CoreConfig => ({ ...c, uplinks: c.uplinks.map((u) => (u.rptc.packageId !== '' ? u : { ...u, rptc: { ...u.rptc, packageId: VERSION } })) });

/** Where the compiled reporting workers are (dist/workers next to dist/src). */
export const workerFile = (name: string): string => fileURLToPath(new URL(`../../workers/${name}`, import.meta.url));

function sinkSpecs(app: AppConfig): SinkSpec[] {
  const sinks: SinkSpec[] = [];
  if (app.mqtt.url !== '') {
    const m = app.mqtt;
    const data: MqttSinkOptions = {
      url: m.url,
      prefix: m.prefix,
      server: app.server.name,
      reconnect: { minMs: m.reconnectMinMs, maxMs: m.reconnectMaxMs },
      ...(m.clientId ? { clientId: m.clientId } : {}),
      ...(m.username ? { username: m.username } : {}),
      ...(m.password ? { password: m.password } : {}),
      tls: {
        ...(m.caFile ? { caFile: m.caFile } : {}),
        ...(m.certFile ? { certFile: m.certFile } : {}),
        ...(m.keyFile ? { keyFile: m.keyFile } : {}),
        rejectUnauthorized: m.rejectUnauthorized,
      },
    };
    sinks.push({ name: 'mqtt', module: workerFile('mqtt-sink.js'), options: data });
  }
  if (app.sql.enabled) {
    const data: SqlSinkOptions = { path: app.sql.path, retentionDays: app.sql.retentionDays, busyTimeoutMs: 100, pruneEveryMs: 10_000, pruneChunk: 1000 };
    sinks.push({ name: 'sql', module: workerFile('sqlite-sink.js'), options: data });
  }
  return sinks;
}

/**
 * Whether better-sqlite3 (an optional dependency) loads: null, or why not and what to do. Asked of
 * a short-lived thread (workers/sqlite-probe.js), so the main thread never loads the module.
 */
export function probeSqlite(): Promise<string | null> {
  return new Promise((resolve) => {
    const worker = new Worker(workerFile('sqlite-probe.js'));
    worker.once('message', (problem: string | null) => {
      resolve(problem);
      void worker.terminate();
    });
    worker.once('error', (err) => resolve(`cannot check for better-sqlite3: ${err.message}`));
    worker.once('exit', (code) => resolve(`cannot check for better-sqlite3: the check exited with code ${code}`));
  });
}

/**
 * The server could not start for a reason the operator can fix: not a crash. `exitCode` 1 for what
 * may pass (a port in use), 2 for what no restart mends (SQL reporting on without its module), so a
 * service manager that stops restarting on 2 (the systemd unit) does not loop.
 */
export class StartError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

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
  /** Wall clock at monotonic time `monoAtStart`, to stamp reports. */
  private readonly epochAtStart = Date.now();
  private readonly monoAtStart = monotonicMs();
  /** When the last overload warning was logged (monotonic ms). */
  private overloadLoggedAt = Number.NEGATIVE_INFINITY;

  constructor(private app: AppConfig, private readonly opts: DriverOptions = {}) {
    this.logger = opts.logger ?? createLogger(app.log);
    this.core = createCore({ sha256 });
    this.reporting = new ReportingHub({
      server: app.server.name,
      queueDepth: app.reporting.queueDepth,
      batchSize: app.reporting.batchSize,
      batchMs: app.reporting.batchMs,
      sinks: sinkSpecs(app),
      hostFile: workerFile('reporting-host.js'),
      logger: this.logger,
    });
    this.transport = new UdpTransport(
      this.logger,
      (socket, bytes, address, port) => this.dispatch({ kind: 'datagram-received', now: monotonicMs(), socket, address, port, bytes }),
      this.reporting.active ? (r) => this.reporting.push(toReportInput(r, (mono) => this.wallClock(mono))) : null,
      new OverloadGuard(app.overload, () => performance.now(), (behind, ms) => this.onBacklog(behind, ms), (socket, probe) => this.transport.sendProbe(socket, probe)),
    );
    this.ring = new FlightRing(app.record.flightRecorderEvents);
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
    if (recordPath) this.eventLog = new EventLog(recordPath, this.header(), redact);
    // SQL reporting configured but better-sqlite3 absent or broken: refuse to start, saying what to
    // do, rather than run with a sink that can never write. Checked while the sockets open.
    const sqlite = this.app.sql.enabled ? probeSqlite() : Promise.resolve(null);
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
    const seed = this.opts.seed ?? randomInt(0, 2 ** 31);
    this.dispatch({ kind: 'started', now: monotonicMs(), seed, config: this.app.core, wallMs: Date.now() });
    // Reporting workers start only now, after the socket is open: no database or broker work
    // stands between start and the first routed packet.
    this.reporting.start();
    this.reporting.push({ family: 'server', type: 'started', at: Date.now(), version: VERSION, port });
    this.logger.info(
      { code: 'server.listening', address: this.app.hbp.address, port, recording: recordPath ?? null, version: VERSION },
      `dmrhub ${VERSION} listening for HomeBrew peers on ${this.app.hbp.address}:${port}`,
    );
    void this.loadPrompts();
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
      this.dispatch({ kind: 'ticked', now: monotonicMs() });
    }, Math.max(0, due - monotonicMs()));
  }

  /** SIGHUP: load the file again; a bad file keeps the running config. */
  async reload(): Promise<boolean> {
    if (!this.app.source) return false;
    const r = await loadConfigIsolated(this.app.source);
    if (!r.ok) {
      this.logger.error({ code: 'config.reload-failed', errors: r.errors }, `config reload refused, keeping the running config:\n${formatConfigErrors(r.errors, this.app.source)}`);
      return false;
    }
    if (r.config.hbp.address !== this.app.hbp.address || r.config.hbp.port !== this.app.hbp.port) {
      this.logger.warn({ code: 'config.restart-needed' }, 'hbp.address/hbp.port changed: takes effect at the next restart');
    }
    const promptsChanged = JSON.stringify(r.config.prompts) !== JSON.stringify(this.app.prompts);
    let core = r.config.core;
    if (JSON.stringify(r.config.links) !== JSON.stringify(this.app.links)) {
      // Sockets open at start: links added, removed, renamed or moved to another local port wait
      // for a restart, and until then the running links stay as they are.
      this.logger.warn({ code: 'config.restart-needed' }, 'links added, removed, renamed or given another local address/port: takes effect at the next restart; the running links are kept');
      core = { ...core, links: this.app.core.links };
    }
    core = withVersion(core);
    if (JSON.stringify(r.config.uplinks) !== JSON.stringify(this.app.uplinks)) {
      // Uplink sockets open at start too: the running uplinks stay until a restart.
      const names = [...new Set([...r.config.uplinks, ...this.app.uplinks].map((u) => u.name))].filter(
        (n) => JSON.stringify(r.config.uplinks.find((u) => u.name === n)) !== JSON.stringify(this.app.uplinks.find((u) => u.name === n)),
      );
      this.logger.warn({ code: 'config.restart-needed', uplinks: names }, `uplinks added, removed or given another local address/port (${names.join(', ')}): takes effect at the next restart; the running uplinks are kept`);
      core = { ...core, uplinks: this.app.core.uplinks };
    } else {
      // The same uplinks on the same sockets (socket numbers follow the running links).
      core = { ...core, uplinks: core.uplinks.map((u) => ({ ...u, socket: this.app.core.uplinks.find((o) => o.name === u.name)!.socket })) };
    }
    this.app = { ...r.config, core, hbp: this.app.hbp, record: this.app.record, links: this.app.links, uplinks: this.app.uplinks };
    this.logger.level = r.config.log.level;
    this.transport.guard.settings = r.config.overload;
    this.dispatch({ kind: 'config-applied', now: monotonicMs(), config: core });
    if (promptsChanged) void this.loadPrompts();
    return true;
  }

  /** Write the flight recorder's ring; returns the file's path. */
  dumpFlightRecorder(reason: string): string {
    const file = join(this.app.record.flightRecorderDir, `dmrhub-${reason}-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`);
    this.ring.dump(file, this.header(), redact);
    return file;
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
    await this.eventLog?.close();
    const stats = Object.fromEntries([...this.core.stats(), ...this.transport.stats()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
    this.logger.info({ code: 'server.exit', stats, reporting: this.reporting.stats() }, 'dmrhub stopped');
    this.logger.flush();
  }
}
