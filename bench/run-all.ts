// Runs every benchmark, prints a table, writes bench/results/<timestamp>.json and regenerates
// BENCHMARKS.md.
//
//   npm run bench                          (= npm run build && node dist/bench/run-all.js)
//   node dist/bench/run-all.js --quick     one short run of everything, a smoke check
//   node dist/bench/run-all.js --only saturation --runs 5
//
// Parts (each repeated --runs times; the table shows the median and the min–max):
//   core        time and heap allocation per mid-stream voice packet through the routing core
//               alone, fan-out 10, in a child `node --expose-gc dist/bench/core.js`.
//   paced       200 peers over real UDP, 50 streams at the DMR frame rate, 3 listeners each:
//               loss, latency, server CPU and RSS.
//   saturation  one talker flat out at fan-out 10 and 100: dmrhub against the bare forwarder,
//               alternating, the ratio taken per pair.
//   rss         server RSS with 2000 peers logged in, and with none.
//
// Every dmrhub measurement gets a fresh server process (dist/src/main.js, a temporary config on
// port 0, log level "info" as by default), stopped with SIGTERM afterwards. Its port comes from the
// `server.listening` log line, or from /proc (the UDP socket among its file descriptors) when the
// line does not appear.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnBareForwarder } from './bare-forwarder.js';
import { runLoad, type LoadResult } from './loadgen.js';
import { runSaturation, type SaturationResult } from './saturation.js';
import { isMain, sleep } from './lib/cli.js';
import { sampleProcess } from './lib/procfs.js';
import { median } from './lib/stats.js';
import { SERVER_NODE_FLAGS } from './lib/server-flags.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN_JS = join(REPO, 'dist', 'src', 'main.js');
const CORE_JS = join(REPO, 'dist', 'bench', 'core.js');
const RESULTS_DIR = join(REPO, 'bench', 'results');
const MARKDOWN = join(REPO, 'BENCHMARKS.md');
const NOTES_OPEN = '<!-- notes -->';
const NOTES_CLOSE = '<!-- /notes -->';

const PARTS = ['core', 'paced', 'saturation', 'rss'] as const;
type Part = (typeof PARTS)[number];

/** Durations and sizes; `--quick` shortens them. */
export interface Plan {
  runs: number;
  quick: boolean;
  only: Set<Part>;
  corePackets: number;
  coreFanout: number;
  pacedSeconds: number;
  pacedPeers: number;
  pacedStreams: number;
  pacedListeners: number;
  pacedCallSeconds: number;
  satSeconds: number;
  satFanouts: number[];
  satWindow: number;
  rssPeers: number;
  /** Wait after the last login before RSS is read. */
  rssSettleMs: number;
  idleSettleMs: number;
  profile: boolean;
}

const GOALS = {
  coreNs: 1000,
  pacedLoss: 0,
  pacedP99Ms: 5,
  satRatio: 0.75,
  rssMb: 80,
};

// ---- helpers ---------------------------------------------------------------------------------

const say = (line: string): void => void process.stderr.write(`[bench] ${line}\n`);

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim() || null;
  } catch {
    return null;
  }
}

function gitDirty(): boolean | null {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
    return out.trim() !== '';
  } catch {
    return null;
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const round = (x: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** The local port of a UDP socket owned by `pid`, from /proc; null when none (yet). */
function udpPortOf(pid: number): number | null {
  let inodes: Set<string>;
  try {
    inodes = new Set();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m) inodes.add(m[1]!);
    }
  } catch {
    return null;
  }
  if (inodes.size === 0) return null;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
      const local = cols[1];
      const inode = cols[9];
      if (local === undefined || inode === undefined || !inodes.has(inode)) continue;
      const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (port > 0) return port;
    }
  }
  return null;
}

// ---- the dmrhub server process ---------------------------------------------------------------

export interface ServerExit {
  code: number | null;
  signal: string | null;
  /** Count of log lines at warn or above, by code. */
  warnings: Record<string, number>;
  stderr: string;
}

interface DmrhubProcess {
  pid: number;
  port: number;
  stop(): Promise<ServerExit>;
}

type Limits = 'default' | 'lifted';

/** Server settings every run shares; `--no-sql` turns the SQLite reporting sink off. */
/**
 * Settings of every benchmark server: the SQLite sink on or off, TOML appended to its config, a
 * command in front of it, and the server's main.js (another build's, to compare one with another).
 */
export const serverSettings = { sql: true, extraConfig: '', wrap: [] as string[], mainJs: MAIN_JS };

function configText(dir: string, limits: Limits): string {
  const lines = [
    '# Written by bench/run-all.ts for one benchmark run.',
    '[hbp]',
    'address = "127.0.0.1"',
    'port = 0',
    'passphrase = "passw0rd"',
    '',
    '[record]',
    'enabled = false',
    `flight_recorder_dir = ${JSON.stringify(dir)}`,
    '',
    '[log]',
    'level = "info"',
    'pretty = false',
  ];
  if (limits === 'lifted') {
    // Flat-out traffic is far above the DMR rate: lift the per-call rate limit and duration.
    lines.push('', '[limits]', 'max_packet_rate = 1000000000', '', '[timers]', 'max_stream = 86400');
  }
  // Otherwise the SQLite sink keeps its default (on), its file relative to this config: in `dir`.
  if (!serverSettings.sql) lines.push('', '[sql]', 'enabled = false');
  // The console (on by default in the file) is measured by bench/reporting.ts; here it is off, so
  // these figures stay comparable with the ones before it existed.
  if (!serverSettings.extraConfig.includes('[console]')) lines.push('', '[console]', 'enabled = false');
  if (serverSettings.extraConfig !== '') lines.push('', serverSettings.extraConfig);
  return lines.join('\n') + '\n';
}

/** `onLog` sees every JSON log line of the server (e.g. to wait for `link.up`). */
export async function startDmrhub(limits: Limits, nodeArgs: string[] = [], onLog?: (line: Record<string, unknown>) => void): Promise<DmrhubProcess> {
  const mainJs = serverSettings.mainJs;
  if (!existsSync(mainJs)) throw new Error(`${mainJs} not found: run \`npm run build\` first`);
  const dir = mkdtempSync(join(os.tmpdir(), 'dmrhub-bench-'));
  const cfg = join(dir, 'dmrhub.toml');
  writeFileSync(cfg, configText(dir, limits));
  // The server runs with the same V8 flag as `npm start` and the dmrhub command (see src/main.ts).
  // --server-wrap puts a command in front (it must exec node, so the PID stays the server's).
  const [command, ...prefix] = [...serverSettings.wrap, process.execPath];
  const child: ChildProcess = spawn(command!, [...prefix, ...SERVER_NODE_FLAGS, ...nodeArgs, mainJs, 'start', '--config', cfg], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const warnings: Record<string, number> = {};
  let stderr = '';
  let loggedPort: number | null = null;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < 20_000) stderr += s;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let o: { level?: number; code?: string; port?: number; msg?: string };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      warnings['(not json)'] = (warnings['(not json)'] ?? 0) + 1;
      return;
    }
    if (o.code === 'server.listening' && typeof o.port === 'number') loggedPort = o.port;
    onLog?.(o as Record<string, unknown>);
    if ((o.level ?? 0) >= 40) {
      const key = o.code ?? o.msg ?? '?';
      warnings[key] = (warnings[key] ?? 0) + 1;
    }
  });
  let exit: { code: number | null; signal: string | null } | null = null;
  const closed = new Promise<void>((resolve) =>
    child.once('close', (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  const stop = async (): Promise<ServerExit> => {
    if (exit === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => {
        if (exit === null) child.kill('SIGKILL');
      }, 5000);
      await closed;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
    const e = exit as { code: number | null; signal: string | null } | null;
    return { code: e?.code ?? null, signal: e?.signal ?? null, warnings, stderr };
  };

  const t0 = performance.now();
  let port: number | null = null;
  for (let i = 0; i < 500 && performance.now() - t0 < 10_000; i++) {
    if (exit !== null) break;
    // With links the process has several UDP sockets: only the log line says which is HBP's.
    port = loggedPort ?? (serverSettings.extraConfig.includes('[[links]]') ? null : udpPortOf(child.pid!));
    if (port !== null) break;
    await sleep(20);
  }
  if (port === null) {
    const e = await stop();
    throw new Error(`dmrhub did not start (exit ${e.code ?? e.signal}); stderr: ${e.stderr.trim() || '(empty)'}`);
  }
  await sleep(100); // the socket is bound before the core has its 'started' event; give it a moment
  return { pid: child.pid!, port, stop };
}

// ---- parts -----------------------------------------------------------------------------------

export interface CoreRun {
  fanout: number;
  packets: number;
  nsPerPacket: number;
  bytesAllocatedPerPacket: number;
  gcsDuringWindow: number;
  sendsPerPacket: number;
}

export function runCoreChild(fanout: number, packets: number, dial = false, links = 0): Promise<CoreRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', CORE_JS, '--fanout', String(fanout), '--packets', String(packets), ...(dial ? ['--dial'] : []), '--links', String(links)], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (out += s));
    child.stderr.on('data', (s: string) => (err += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const r = JSON.parse(line) as CoreRun;
        resolve({
          fanout: r.fanout,
          packets: r.packets,
          nsPerPacket: round(r.nsPerPacket, 1),
          bytesAllocatedPerPacket: round(r.bytesAllocatedPerPacket, 3),
          gcsDuringWindow: r.gcsDuringWindow,
          sendsPerPacket: r.sendsPerPacket,
        });
      } catch {
        reject(new Error(`core bench (exit ${code}) printed no result: ${out.trim()} ${err.trim()}`));
      }
    });
  });
}

export interface PacedRun {
  /** DMRD datagrams received by the listeners per second of sending. */
  forwardedPerSec: number;
  expectedPerSec: number;
  sent: number;
  expected: number;
  lost: number;
  loss: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number; samples: number };
  serverCpuPct: number | null;
  serverRssMb: number | null;
  serverHwmMb: number | null;
  generatorCpuPct: number;
  maxLagMs: number;
  anomalies: string[];
  server: ServerExit;
  raw: LoadResult;
}

/** Things the server must never do, from a load result: anything nonzero is reported. */
export function loadAnomalies(r: LoadResult, wantPeers: number): string[] {
  const a: string[] = [];
  const d = r.delivery;
  if (r.login.ok !== wantPeers) a.push(`${wantPeers - r.login.ok} of ${wantPeers} peers failed to log in`);
  if (r.login.naks > 0) a.push(`${r.login.naks} MSTNAK during login`);
  if (d.wrongPeerId > 0) a.push(`${d.wrongPeerId} datagrams carried another peer's ID`);
  if (d.misrouted > 0) a.push(`${d.misrouted} datagrams reached a listener of another TG`);
  if (d.echoes > 0) a.push(`${d.echoes} datagrams echoed to their talker`);
  if (d.duplicates > 0) a.push(`${d.duplicates} duplicate deliveries`);
  if (d.foreign > 0) a.push(`${d.foreign} datagrams with an unknown stream ID`);
  if (r.duringRun.naks > 0) a.push(`${r.duringRun.naks} MSTNAK during traffic`);
  if (r.duringRun.closes > 0) a.push(`${r.duringRun.closes} MSTCL during traffic`);
  if (r.errors.send > 0) a.push(`${r.errors.send} send errors at the generator`);
  if (r.pings.sent > 0 && r.pings.pongs < r.pings.sent) a.push(`${r.pings.sent - r.pings.pongs} of ${r.pings.sent} pings unanswered`);
  return a;
}

export function exitAnomalies(e: ServerExit): string[] {
  const a: string[] = [];
  if (e.code !== 0) a.push(`server exited with ${e.code ?? e.signal} after SIGTERM`);
  const w = Object.entries(e.warnings);
  if (w.length > 0) a.push(`server logged ${w.map(([k, n]) => `${n}× ${k}`).join(', ')}`);
  if (e.stderr.trim() !== '') a.push(`server stderr: ${e.stderr.trim().slice(0, 300)}`);
  return a;
}

export async function runPaced(p: Plan, optionsTemplate?: (index: number) => string): Promise<PacedRun> {
  const srv = await startDmrhub('default');
  let r: LoadResult;
  try {
    r = await runLoad({
      port: srv.port,
      peers: p.pacedPeers,
      streams: p.pacedStreams,
      listenersPerTg: p.pacedListeners,
      mode: 'paced',
      seconds: p.pacedSeconds,
      callSeconds: p.pacedCallSeconds,
      serverPid: srv.pid,
      ...(optionsTemplate ? { optionsTemplate } : {}),
    });
  } catch (e) {
    await srv.stop();
    throw e;
  }
  const exit = await srv.stop();
  const sendSec = r.traffic.ms / 1000 || 1;
  return {
    forwardedPerSec: Math.round(r.delivery.received / sendSec),
    expectedPerSec: Math.round(r.delivery.expected / sendSec),
    sent: r.traffic.sent,
    expected: r.delivery.expected,
    lost: r.delivery.lost,
    loss: r.delivery.loss,
    latencyMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99, p999: r.latencyMs.p999, max: r.latencyMs.max, samples: r.latencyMs.samples },
    serverCpuPct: r.server?.cpuPct ?? null,
    serverRssMb: r.server?.rssMb ?? null,
    serverHwmMb: r.server?.hwmMb ?? null,
    generatorCpuPct: r.generator.cpuPct,
    maxLagMs: r.traffic.maxLagMs,
    anomalies: [...loadAnomalies(r, p.pacedPeers), ...exitAnomalies(exit)],
    server: exit,
    raw: r,
  };
}

type SatSummary = Omit<SaturationResult, 'raw'> & { anomalies: string[]; serverExit?: ServerExit };

interface SatPair {
  fanout: number;
  pair: number;
  dmrhub: SatSummary;
  bare: SatSummary;
  /** dmrhub forwarded/s ÷ bare forwarded/s. */
  ratio: number;
}

function satSummary(s: SaturationResult, anomalies: string[]): SatSummary {
  const { raw: _raw, ...rest } = s;
  return { ...rest, anomalies };
}

async function satDmrhub(p: Plan, fanout: number, nodeArgs: string[] = []): Promise<SatSummary> {
  const srv = await startDmrhub('lifted', nodeArgs);
  let s: SaturationResult;
  try {
    s = await runSaturation({ port: srv.port, fanout, seconds: p.satSeconds, window: p.satWindow, serverPid: srv.pid });
  } catch (e) {
    await srv.stop();
    throw e;
  }
  const exit = await srv.stop();
  const a = [...loadAnomalies(s.raw, fanout + 1), ...exitAnomalies(exit)];
  return { ...satSummary(s, a), serverExit: exit };
}

async function satBare(p: Plan, fanout: number): Promise<SatSummary> {
  const fwd = await spawnBareForwarder();
  let s: SaturationResult;
  try {
    s = await runSaturation({ port: fwd.port, fanout, seconds: p.satSeconds, window: p.satWindow, serverPid: fwd.pid });
  } finally {
    await fwd.close();
  }
  return satSummary(s, loadAnomalies(s.raw, fanout + 1).filter((x) => !x.includes('pings unanswered')));
}

interface RssRun {
  peers: number;
  loggedIn: number;
  loginMs: number;
  /** VmRSS after the logins settled. */
  rssMb: number | null;
  hwmMb: number | null;
  idleRssMb: number | null;
  anomalies: string[];
}

async function runRss(p: Plan): Promise<RssRun> {
  // Idle server first: nothing logged in.
  const idle = await startDmrhub('default');
  await sleep(p.idleSettleMs);
  const idleSample = sampleProcess(idle.pid);
  const idleExit = await idle.stop();

  const srv = await startDmrhub('default');
  let r: LoadResult;
  try {
    r = await runLoad({
      port: srv.port,
      peers: p.rssPeers,
      streams: 0,
      mode: 'paced',
      seconds: 0,
      settleMs: p.rssSettleMs,
      drainMs: 0,
      serverPid: srv.pid,
    });
  } catch (e) {
    await srv.stop();
    throw e;
  }
  const exit = await srv.stop();
  return {
    peers: p.rssPeers,
    loggedIn: r.login.ok,
    loginMs: r.login.ms,
    rssMb: r.server?.rssMb ?? null,
    hwmMb: r.server?.hwmMb ?? null,
    idleRssMb: idleSample?.rssMb ?? null,
    anomalies: [...loadAnomalies(r, p.rssPeers), ...exitAnomalies(exit), ...exitAnomalies(idleExit).map((x) => `idle ${x}`)],
  };
}

// ---- profile ---------------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  fn: string;
  where: string;
  selfMs: number;
  selfPct: number;
}

/** Self time per function (summed over call sites) from a .cpuprofile, the `top` largest; percentages are of busy (non-idle) time. */
export function topSelfTime(profile: CpuProfile, top = 15): ProfileRow[] {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const agg = new Map<string, ProfileRow>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const cf = n.callFrame;
    if (cf.functionName === '(idle)') continue; // waiting in epoll: not work
    total += us;
    const fn = cf.functionName || '(anonymous)';
    const file = cf.url.replace(/^file:\/\//, '').replace(REPO, '');
    const where = file ? `${file}:${cf.lineNumber + 1}` : '';
    const key = `${fn}@${where}`;
    const row = agg.get(key) ?? { fn, where, selfMs: 0, selfPct: 0 };
    row.selfMs += us / 1000;
    agg.set(key, row);
  }
  const rows = [...agg.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  for (const r of rows) {
    r.selfPct = total > 0 ? round((r.selfMs / (total / 1000)) * 100, 1) : 0;
    r.selfMs = round(r.selfMs, 0);
  }
  return rows;
}

async function profileSaturation(p: Plan, fanout: number): Promise<{ fanout: number; forwardedPerSec: number; top: ProfileRow[] } | null> {
  const dir = mkdtempSync(join(os.tmpdir(), 'dmrhub-prof-'));
  try {
    const s = await satDmrhub(p, fanout, ['--cpu-prof', '--cpu-prof-dir', dir]);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) return null;
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    return { fanout, forwardedPerSec: s.forwardedPerSec, top: topSelfTime(prof) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- summary table ---------------------------------------------------------------------------

interface Row {
  part: Part;
  metric: string;
  unit: string;
  values: number[];
  /** Goal: `<=` or `>=` a bound, or none. */
  goal?: { op: '<=' | '>='; bound: number; text: string };
  /** Override the median-based verdict (e.g. "every run had 0 GCs"). */
  verdictValue?: number;
  digits?: number;
}

interface Verdict {
  median: number;
  min: number;
  max: number;
  met: boolean | null;
  text: string;
}

function verdict(r: Row): Verdict {
  const vals = r.values.filter((v) => Number.isFinite(v));
  const med = median(vals);
  const min = vals.length ? Math.min(...vals) : NaN;
  const max = vals.length ? Math.max(...vals) : NaN;
  if (!r.goal || vals.length === 0) return { median: med, min, max, met: null, text: vals.length === 0 ? 'no data' : '—' };
  const v = r.verdictValue ?? med;
  const { op, bound } = r.goal;
  const met = op === '<=' ? v <= bound : v >= bound;
  if (met) return { median: med, min, max, met, text: 'met' };
  const digits = r.digits ?? 1;
  const diff = Math.abs(v - bound);
  let by: string;
  if (bound === 0) by = `${fmt(diff, digits)} ${r.unit} over`.trim();
  else {
    const pct = round((diff / Math.abs(bound)) * 100, 1);
    by = op === '<=' ? `${fmt(diff, digits)} ${r.unit} (${pct}%) over` : `${fmt(diff, digits)} ${r.unit} (${pct}%) short`;
  }
  return { median: med, min, max, met, text: `missed: ${by.replace(/\s+/g, ' ')}` };
}

function fmt(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return '–';
  if (Math.abs(x) >= 10000) return Math.round(x).toLocaleString('en-US');
  return String(round(x, digits));
}

function buildRows(res: Results): Row[] {
  const rows: Row[] = [];
  const c = res.parts.core;
  if (c) {
    rows.push({ part: 'core', metric: `core: time per packet (fan-out ${c.fanout})`, unit: 'ns', values: c.runs.map((r) => r.nsPerPacket), goal: { op: '<=', bound: GOALS.coreNs, text: `≤ ${GOALS.coreNs} ns` }, digits: 0 });
    rows.push({ part: 'core', metric: 'core: heap bytes allocated per packet', unit: 'B', values: c.runs.map((r) => r.bytesAllocatedPerPacket), digits: 3 });
    const gcs = c.runs.map((r) => r.gcsDuringWindow);
    rows.push({ part: 'core', metric: 'core: GCs during the measured window', unit: '', values: gcs, goal: { op: '<=', bound: 0, text: '0 (every run)' }, verdictValue: Math.max(...gcs), digits: 0 });
  }
  const p = res.parts.paced;
  if (p) {
    const runs = p.runs;
    rows.push({ part: 'paced', metric: 'paced: forwarded datagrams/s', unit: '/s', values: runs.map((r) => r.forwardedPerSec), digits: 0 });
    rows.push({ part: 'paced', metric: 'paced: loss', unit: '%', values: runs.map((r) => round(r.loss * 100, 4)), goal: { op: '<=', bound: GOALS.pacedLoss, text: '0' }, digits: 4 });
    rows.push({ part: 'paced', metric: 'paced: latency p50', unit: 'ms', values: runs.map((r) => r.latencyMs.p50), digits: 2 });
    rows.push({ part: 'paced', metric: 'paced: latency p99', unit: 'ms', values: runs.map((r) => r.latencyMs.p99), goal: { op: '<=', bound: GOALS.pacedP99Ms, text: `≤ ${GOALS.pacedP99Ms} ms` }, digits: 2 });
    rows.push({ part: 'paced', metric: 'paced: latency p99.9', unit: 'ms', values: runs.map((r) => r.latencyMs.p999), digits: 2 });
    rows.push({ part: 'paced', metric: 'paced: server CPU', unit: '% of a core', values: runs.map((r) => r.serverCpuPct ?? NaN), digits: 1 });
    rows.push({ part: 'paced', metric: 'paced: server RSS at the end', unit: 'MB', values: runs.map((r) => r.serverRssMb ?? NaN), digits: 1 });
  }
  const s = res.parts.saturation;
  if (s) {
    for (const f of s.fanouts) {
      const pairs = s.pairs.filter((x) => x.fanout === f);
      rows.push({ part: 'saturation', metric: `saturation F=${f}: dmrhub forwarded/s`, unit: '/s', values: pairs.map((x) => x.dmrhub.forwardedPerSec), digits: 0 });
      rows.push({ part: 'saturation', metric: `saturation F=${f}: bare forwarder forwarded/s`, unit: '/s', values: pairs.map((x) => x.bare.forwardedPerSec), digits: 0 });
      rows.push({
        part: 'saturation',
        metric: `saturation F=${f}: dmrhub ÷ bare (per pair)`,
        unit: '',
        values: pairs.map((x) => x.ratio),
        goal: { op: '>=', bound: GOALS.satRatio, text: `≥ ${GOALS.satRatio}` },
        digits: 3,
      });
    }
  }
  const m = res.parts.rss;
  if (m) {
    rows.push({ part: 'rss', metric: `rss: server with ${m.peers} peers logged in`, unit: 'MB', values: m.runs.map((r) => r.rssMb ?? NaN), goal: { op: '<=', bound: GOALS.rssMb, text: `≤ ${GOALS.rssMb} MB` }, digits: 1 });
    rows.push({ part: 'rss', metric: 'rss: idle server, no peers', unit: 'MB', values: m.runs.map((r) => r.idleRssMb ?? NaN), digits: 1 });
    rows.push({
      part: 'rss',
      metric: 'rss: per logged-in peer (difference ÷ peers)',
      unit: 'KB',
      values: m.runs.map((r) => (r.rssMb === null || r.idleRssMb === null ? NaN : round(((r.rssMb - r.idleRssMb) * 1024) / m.peers, 2))),
      digits: 2,
    });
  }
  return rows;
}

function textTable(rows: Row[]): string {
  const head = ['metric', 'median', 'min–max', 'goal', 'result'];
  const body = rows.map((r) => {
    const v = verdict(r);
    const d = r.digits ?? 1;
    const unit = r.unit === '' ? '' : ` ${r.unit}`;
    return [r.metric, `${fmt(v.median, d)}${unit}`, `${fmt(v.min, d)}–${fmt(v.max, d)}`, r.goal?.text ?? '', v.text];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

function markdownTable(rows: Row[]): string {
  const out = ['| Metric | Median | Min–max | Goal | Result |', '|---|---:|---:|---|---|'];
  for (const r of rows) {
    const v = verdict(r);
    const d = r.digits ?? 1;
    const unit = r.unit === '' ? '' : ` ${r.unit}`;
    const result = v.met === null ? v.text : v.met ? '✅ met' : `❌ ${v.text}`;
    out.push(`| ${r.metric} | ${fmt(v.median, d)}${unit} | ${fmt(v.min, d)}–${fmt(v.max, d)} | ${r.goal?.text ?? ''} | ${result} |`);
  }
  return out.join('\n');
}

// ---- results ---------------------------------------------------------------------------------

interface Results {
  startedAt: string;
  finishedAt: string;
  durationSec: number;
  command: string;
  runs: number;
  quick: boolean;
  only: Part[];
  machine: ReturnType<typeof machine>;
  commit: string | null;
  dirty: boolean | null;
  plan: Plan & { only: Part[] };
  server: { sql: boolean };
  parts: {
    core?: { fanout: number; packets: number; runs: CoreRun[] };
    paced?: { peers: number; streams: number; listenersPerTg: number; seconds: number; callSeconds: number; runs: PacedRun[] };
    saturation?: { fanouts: number[]; seconds: number; window: number; pairs: SatPair[]; medianRatio: Record<string, number> };
    rss?: { peers: number; settleMs: number; runs: RssRun[] };
  };
  profile?: { fanout: number; forwardedPerSec: number; top: ProfileRow[] }[];
  anomalies: string[];
  errors: string[];
}

function partMissedText(rows: Row[]): string[] {
  const out: string[] = [];
  for (const r of rows) {
    const v = verdict(r);
    if (v.met === false) out.push(`- **${r.metric}**: ${fmt(r.verdictValue ?? v.median, r.digits ?? 1)}${r.unit ? ` ${r.unit}` : ''} against a goal of ${r.goal!.text}; ${v.text}.`);
  }
  return out;
}

/** "where: what" lines with the same `what` become one line listing every `where`. */
function groupProblems(lines: string[]): string[] {
  const byWhat = new Map<string, string[]>();
  for (const line of lines) {
    const i = line.indexOf(': ');
    const where = i < 0 ? '' : line.slice(0, i);
    const what = i < 0 ? line : line.slice(i + 2);
    const list = byWhat.get(what) ?? [];
    if (where !== '') list.push(where);
    byWhat.set(what, list);
  }
  return [...byWhat].map(([what, wheres]) => (wheres.length === 0 ? what : `${what} (${wheres.join(', ')})`));
}

function readNotes(): string {
  const fallback =
    '## Notes\n\n' +
    '_Hand-written notes go here; `bench/run-all.ts` keeps everything between the notes markers when it regenerates this file._\n';
  if (!existsSync(MARKDOWN)) return fallback;
  const text = readFileSync(MARKDOWN, 'utf8');
  const a = text.indexOf(NOTES_OPEN);
  const b = text.indexOf(NOTES_CLOSE, a + NOTES_OPEN.length);
  if (a < 0 || b < 0) return fallback;
  return text.slice(a + NOTES_OPEN.length, b).replace(/^\n+|\n+$/g, '') + '\n';
}

function renderMarkdown(res: Results, rows: Row[], resultsFile: string): string {
  const m = res.machine;
  const date = res.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const L: string[] = [];
  L.push('# Benchmarks');
  L.push('');
  L.push('<!-- Generated by bench/run-all.ts: edit only the notes section at the end, the rest is rewritten on every run. -->');
  L.push('');
  L.push('Reproduce with:');
  L.push('');
  L.push('```sh');
  L.push('npm run bench        # = npm run build && node dist/bench/run-all.js  (3 runs of each part)');
  L.push('```');
  L.push('');
  L.push(
    `This file came from \`${res.command}\`: ${res.runs} run${res.runs === 1 ? '' : 's'} of each part${res.quick ? ' (--quick: shortened, a smoke check, not a measurement)' : ''}; ` +
      `raw results in \`${resultsFile}\`. Other flags: \`--runs N\`, \`--quick\`, \`--only core,paced,saturation,rss\`, \`--no-sql\`, \`--profile\` (see \`--help\`).`,
  );
  L.push('');
  L.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, ${m.platform}; Node ${m.node}`);
  L.push(`- Date: ${date}; run took ${Math.round(res.durationSec)} s; load average at start ${m.loadAvgAtStart.join(' / ')}`);
  L.push(`- Commit: ${res.commit ?? 'unknown'}${res.dirty ? ' (with uncommitted changes)' : ''}`);
  L.push('');
  L.push('Each row is the median over the runs, with the smallest and largest run beside it. A goal is judged on the median');
  L.push('(for GCs: on the worst run). Every dmrhub measurement uses a fresh server process (`dist/src/main.js start`, a');
  L.push(
    'temporary config on port 0, log level "info" (the default), everything else at its default: flight recorder on, ' +
      (res.server.sql ? 'SQLite reporting sink on (writing to the temporary directory)' : 'SQLite reporting sink off (`--no-sql`)') +
      '), stopped with SIGTERM afterwards.',
  );
  L.push('The load generator runs in the benchmark process on the same machine, so server and generator share the cores.');
  L.push('');
  L.push('## Results');
  L.push('');
  L.push(markdownTable(rows));
  L.push('');
  const missed = partMissedText(rows);
  if (missed.length > 0) {
    L.push('**Goals missed:**');
    L.push('');
    L.push(...missed);
    L.push('');
  }
  if (res.anomalies.length > 0 || res.errors.length > 0) {
    L.push('**Problems seen during the run:**');
    L.push('');
    for (const a of groupProblems([...res.errors, ...res.anomalies])) L.push(`- ${a}`);
    L.push('');
  }
  L.push('## How measured');
  L.push('');
  const p = res.plan;
  if (res.parts.core) {
    L.push('### core');
    L.push('');
    L.push(
      `\`node --expose-gc dist/bench/core.js --fanout ${p.coreFanout} --packets ${p.corePackets}\` in a child process: one talker and ${p.coreFanout} ` +
        'listeners logged in through the core; mid-stream voice bursts (A–F) go straight into `Core.handle`, with an action sink that ' +
        'only counts (no sockets, no logging). After a 50 000-packet warm-up and a forced GC, the window times the packets with ' +
        '`performance.now()` and takes the heap growth (`heapUsed`) over the window; a `gc` performance observer counts collections ' +
        'that started inside it. With no GC in the window, heap growth ÷ packets is the allocation per packet; a GC in the window ' +
        'means allocation (the growth figure then undercounts). Goal: ≤ 1 µs per packet and no allocation in steady state.',
    );
    L.push('');
  }
  if (res.parts.paced) {
    const x = res.parts.paced;
    L.push('### paced');
    L.push('');
    L.push(
      `${x.peers} peers log in over UDP loopback (one socket each). Peers 0–${x.streams - 1} are talkers, stream k on TG ${31000}+k, timeslot 2; ` +
        `the next ${x.streams * x.listenersPerTg} peers listen, ${x.listenersPerTg} per stream's TG (RPTO \`TS2=<tg>;\`), so every stream has ` +
        `${x.listenersPerTg} listeners and fan-out ${x.listenersPerTg}. Each talker sends one DMRD frame per 60 ms (header, bursts A–F, ` +
        `terminator) in calls of ${x.callSeconds} s with 1 s between calls, the ${x.streams} streams phased evenly over the 60 ms; ` +
        `${x.seconds} s of traffic, server at default limits (25 packets/s per call). ` +
        'Forwarded datagrams/s = DMRD datagrams the listeners received ÷ sending time. Loss = 1 − distinct deliveries ÷ (sent × listeners). ' +
        'Latency: each payload carries its send time (`performance.now()` of the generator, which also receives), 10 µs histogram buckets. ' +
        'Server CPU = utime+stime from `/proc/<pid>/stat` over the traffic phase, in % of one core; RSS = VmRSS at the end of the traffic. ' +
        'Goal: no loss, p99 ≤ 5 ms.',
    );
    L.push('');
  }
  if (res.parts.saturation) {
    const x = res.parts.saturation;
    L.push('### saturation');
    L.push('');
    L.push(
      `One talker and F listeners (F = ${x.fanouts.join(' and ')}) on one TG; the talker sends as fast as a window of ${x.window} ` +
        `packets in flight allows (parking, not spinning, while the window is full) for ${x.seconds} s. One listener is read in JS ` +
        '(it drives the window and gives latency); the other F−1 stop reading after login and the kernel counts what reaches them ' +
        '(`/proc/net/udp` drops), so the generator does not have to read F datagrams per datagram it sends. Forwarded/s = datagrams ' +
        'that reached any listener socket ÷ sending time. The same options measure the bare forwarder (`bench/bare-forwarder.ts`: a ' +
        'TG → target-list map, peer ID patched in place, no sessions or checks), the least a Node UDP forwarder can do. Runs ' +
        'alternate dmrhub, bare, dmrhub, bare, … each with a fresh process, so machine noise hits both; the ratio is taken per ' +
        `adjacent pair, and its median is the result. dmrhub runs with \`[limits] max_packet_rate\` and \`[timers] max_stream\` lifted. Goal: dmrhub ≥ ${GOALS.satRatio * 100}% of bare.`,
    );
    L.push('');
    L.push('| F | pair | dmrhub /s | bare /s | ratio | dmrhub CPU % | bare CPU % | dmrhub p99 ms | bare p99 ms |');
    L.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const pr of x.pairs) {
      L.push(
        `| ${pr.fanout} | ${pr.pair} | ${fmt(pr.dmrhub.forwardedPerSec, 0)} | ${fmt(pr.bare.forwardedPerSec, 0)} | ${fmt(pr.ratio, 3)} | ` +
          `${fmt(pr.dmrhub.server?.cpuPct ?? NaN)} | ${fmt(pr.bare.server?.cpuPct ?? NaN)} | ${fmt(pr.dmrhub.latencyMs.p99, 2)} | ${fmt(pr.bare.latencyMs.p99, 2)} |`,
      );
    }
    L.push('');
  }
  if (res.parts.rss) {
    const x = res.parts.rss;
    L.push('### rss');
    L.push('');
    L.push(
      `A fresh server with no peers is left ${p.idleSettleMs / 1000} s and its VmRSS read (\`/proc/<pid>/status\`). Then another fresh server gets ` +
        `${x.peers} peers logged in (RPTL, RPTK, RPTC, RPTO \`TS2=16000000;\`, 50 logins in flight, pings every 10 s) and no traffic; ` +
        `VmRSS is read ${x.settleMs / 1000} s after the last login completed. Per-peer = (RSS − idle RSS) ÷ peers, from the same run. Goal: ≤ ${GOALS.rssMb} MB with ${x.peers} peers.`,
    );
    L.push('');
  }
  if (res.profile && res.profile.length > 0) {
    L.push('### CPU profile (--profile)');
    L.push('');
    for (const pr of res.profile) {
      L.push(`Saturation at F=${pr.fanout} with \`--cpu-prof\` (${fmt(pr.forwardedPerSec, 0)}/s, slowed by the profiler), top self time as % of the busy (non-idle) samples over the whole process life (start-up and logins included):`);
      L.push('');
      L.push('| self % | self ms | function | where |');
      L.push('|---:|---:|---|---|');
      for (const r of pr.top) L.push(`| ${r.selfPct} | ${r.selfMs} | \`${r.fn}\` | ${r.where} |`);
      L.push('');
    }
  }
  L.push(NOTES_OPEN);
  L.push(readNotes().trimEnd());
  L.push(NOTES_CLOSE);
  L.push('');
  return L.join('\n');
}

// ---- main ------------------------------------------------------------------------------------

const USAGE = `usage: node dist/bench/run-all.js [--runs 3] [--quick] [--only core,paced,saturation,rss] [--no-sql] [--profile]
  --runs N        runs of each part (default 3; the table shows the median and min–max)
  --quick         1 run with shorter durations: a smoke check (does not rewrite BENCHMARKS.md)
  --only LIST     parts to run, comma-separated: core, paced, saturation, rss (default all;
                  a partial run does not rewrite BENCHMARKS.md)
  --markdown      rewrite BENCHMARKS.md even after --quick or --only
  --no-markdown   never rewrite BENCHMARKS.md
  --no-sql        run dmrhub with [sql] enabled = false (default: the server's default, on,
                  writing to a temporary directory)
  --server-wrap "CMD ARGS"  start each dmrhub server through this command, which must exec its
                  arguments (e.g. "bench/lib/confine.sh 0 256M": one CPU, 256 MB); does not
                  rewrite BENCHMARKS.md
  --profile       afterwards, one dmrhub saturation run per fan-out with --cpu-prof; prints the
                  top self-time functions (not part of the measured numbers)
Writes bench/results/<timestamp>.json. Run \`npm run build\` first (\`npm run bench\` does).`;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      runs: { type: 'string' },
      quick: { type: 'boolean' },
      only: { type: 'string' },
      markdown: { type: 'boolean' },
      'no-markdown': { type: 'boolean' },
      profile: { type: 'boolean' },
      'no-sql': { type: 'boolean' },
      'server-wrap': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const quick = v.quick ?? false;
  const runs = v.runs !== undefined ? Number(v.runs) : quick ? 1 : 3;
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error('--runs must be an integer 1..50');
  const only = new Set<Part>();
  for (const name of (v.only ?? PARTS.join(',')).split(',')) {
    const t = name.trim();
    if (t === '') continue;
    if (!(PARTS as readonly string[]).includes(t)) throw new Error(`--only: unknown part '${t}' (parts: ${PARTS.join(', ')})`);
    only.add(t as Part);
  }
  if (only.size === 0) throw new Error('--only: name at least one part');
  const plan: Plan = {
    runs,
    quick,
    only,
    corePackets: quick ? 500_000 : 2_000_000,
    coreFanout: 10,
    pacedSeconds: quick ? 5 : 20,
    pacedPeers: 200,
    pacedStreams: 50,
    pacedListeners: 3,
    pacedCallSeconds: quick ? 3 : 10,
    satSeconds: quick ? 2 : 5,
    satFanouts: [10, 100],
    satWindow: 64,
    rssPeers: 2000,
    rssSettleMs: quick ? 1000 : 3000,
    idleSettleMs: quick ? 1000 : 2000,
    profile: v.profile ?? false,
  };
  serverSettings.sql = !(v['no-sql'] ?? false);
  serverSettings.wrap = (v['server-wrap'] ?? '').split(' ').filter((w) => w !== '');
  // The servers run in temporary directories: a relative command path is taken from here.
  if (serverSettings.wrap[0]?.includes('/')) serverSettings.wrap[0] = resolve(serverSettings.wrap[0]);
  for (const f of [MAIN_JS, CORE_JS]) if (!existsSync(f)) throw new Error(`${f} not found: run \`npm run build\` first`);

  const t0 = Date.now();
  const res: Results = {
    startedAt: new Date(t0).toISOString(),
    finishedAt: '',
    durationSec: 0,
    command: `node dist/bench/run-all.js${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
    runs,
    quick,
    only: [...only],
    machine: machine(),
    commit: gitCommit(),
    dirty: gitDirty(),
    plan: { ...plan, only: [...only] } as Plan & { only: Part[] },
    server: { ...serverSettings },
    parts: {},
    anomalies: [],
    errors: [],
  };
  say(`${res.machine.cpu}, ${res.machine.cores} cores, Node ${res.machine.node}, commit ${res.commit ?? '?'}; ${runs} run(s)${quick ? ', quick' : ''}; parts: ${[...only].join(', ')}`);

  const guard = async (what: string, f: () => Promise<void>): Promise<void> => {
    try {
      await f();
    } catch (e) {
      const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
      say(`ERROR ${msg}`);
      res.errors.push(msg);
    }
  };

  if (only.has('core')) {
    const part = { fanout: plan.coreFanout, packets: plan.corePackets, runs: [] as CoreRun[] };
    res.parts.core = part;
    for (let i = 0; i < runs; i++) {
      await guard(`core run ${i + 1}`, async () => {
        const r = await runCoreChild(plan.coreFanout, plan.corePackets);
        part.runs.push(r);
        say(`core ${i + 1}/${runs}: ${r.nsPerPacket} ns/packet, ${r.bytesAllocatedPerPacket} B/packet, ${r.gcsDuringWindow} GCs`);
      });
    }
  }

  if (only.has('paced')) {
    const part = { peers: plan.pacedPeers, streams: plan.pacedStreams, listenersPerTg: plan.pacedListeners, seconds: plan.pacedSeconds, callSeconds: plan.pacedCallSeconds, runs: [] as PacedRun[] };
    res.parts.paced = part;
    for (let i = 0; i < runs; i++) {
      await guard(`paced run ${i + 1}`, async () => {
        const r = await runPaced(plan);
        part.runs.push(r);
        for (const a of r.anomalies) res.anomalies.push(`paced run ${i + 1}: ${a}`);
        say(
          `paced ${i + 1}/${runs}: ${r.forwardedPerSec}/s forwarded (expected ${r.expectedPerSec}/s), loss ${r.lost}/${r.expected}, ` +
            `p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} p99.9 ${r.latencyMs.p999} ms, server ${r.serverCpuPct}% CPU ${r.serverRssMb} MB` +
            (r.anomalies.length ? `; ${r.anomalies.join('; ')}` : ''),
        );
      });
    }
  }

  if (only.has('saturation')) {
    const part = { fanouts: plan.satFanouts, seconds: plan.satSeconds, window: plan.satWindow, pairs: [] as SatPair[], medianRatio: {} as Record<string, number> };
    res.parts.saturation = part;
    for (const fanout of plan.satFanouts) {
      for (let i = 0; i < runs; i++) {
        await guard(`saturation F=${fanout} pair ${i + 1}`, async () => {
          const d = await satDmrhub(plan, fanout);
          const b = await satBare(plan, fanout);
          const ratio = b.forwardedPerSec > 0 ? round(d.forwardedPerSec / b.forwardedPerSec, 3) : NaN;
          part.pairs.push({ fanout, pair: i + 1, dmrhub: d, bare: b, ratio });
          for (const a of d.anomalies) res.anomalies.push(`saturation F=${fanout} pair ${i + 1} dmrhub: ${a}`);
          for (const a of b.anomalies) res.anomalies.push(`saturation F=${fanout} pair ${i + 1} bare: ${a}`);
          say(
            `saturation F=${fanout} ${i + 1}/${runs}: dmrhub ${d.forwardedPerSec}/s (${d.server?.cpuPct ?? '?'}% CPU), ` +
              `bare ${b.forwardedPerSec}/s (${b.server?.cpuPct ?? '?'}% CPU), ratio ${ratio}`,
          );
        });
      }
      part.medianRatio[String(fanout)] = median(part.pairs.filter((x) => x.fanout === fanout && Number.isFinite(x.ratio)).map((x) => x.ratio));
    }
  }

  if (only.has('rss')) {
    const part = { peers: plan.rssPeers, settleMs: plan.rssSettleMs, runs: [] as RssRun[] };
    res.parts.rss = part;
    for (let i = 0; i < runs; i++) {
      await guard(`rss run ${i + 1}`, async () => {
        const r = await runRss(plan);
        part.runs.push(r);
        for (const a of r.anomalies) res.anomalies.push(`rss run ${i + 1}: ${a}`);
        say(`rss ${i + 1}/${runs}: ${r.loggedIn}/${r.peers} peers in ${r.loginMs} ms → ${r.rssMb} MB (peak ${r.hwmMb}); idle ${r.idleRssMb} MB`);
      });
    }
  }

  if (plan.profile) {
    res.profile = [];
    for (const fanout of plan.satFanouts) {
      await guard(`profile F=${fanout}`, async () => {
        const pr = await profileSaturation(plan, fanout);
        if (!pr) throw new Error('no .cpuprofile written');
        res.profile!.push(pr);
      });
    }
  }

  res.finishedAt = new Date().toISOString();
  res.durationSec = round((Date.now() - t0) / 1000, 1);

  // ---- output ----
  const rows = buildRows(res);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = res.startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const file = join(RESULTS_DIR, `${stamp}.json`);
  writeFileSync(file + '.tmp', JSON.stringify({ ...res, table: rows.map((r) => ({ ...r, ...verdict(r) })) }, null, 2) + '\n');
  renameSync(file + '.tmp', file);
  const rel = file.slice(REPO.length);

  console.log(textTable(rows));
  if (res.profile) {
    for (const pr of res.profile) {
      console.log(`\nCPU profile, saturation F=${pr.fanout} (${pr.forwardedPerSec}/s under the profiler), top self time:`);
      for (const r of pr.top) console.log(`  ${String(r.selfPct).padStart(5)}%  ${String(r.selfMs).padStart(6)} ms  ${r.fn}  ${r.where}`);
    }
  }
  const problems = [...res.errors, ...res.anomalies];
  if (problems.length > 0) {
    console.log('\nProblems:');
    for (const a of groupProblems(problems)) console.log(`  - ${a}`);
  }
  console.log(`\nraw results: ${rel}`);

  const full = !quick && only.size === PARTS.length;
  const writeMd = v['no-markdown'] ? false : (v.markdown ?? (full && serverSettings.wrap.length === 0));
  if (writeMd) {
    writeFileSync(MARKDOWN + '.tmp', renderMarkdown(res, rows, rel));
    renameSync(MARKDOWN + '.tmp', MARKDOWN);
    console.log('BENCHMARKS.md regenerated');
  } else {
    console.log('BENCHMARKS.md left as it is (quick or partial run; --markdown writes it anyway)');
  }
  console.log(`took ${Math.round(res.durationSec)} s`);
  if (res.errors.length > 0) process.exitCode = 1;
}

if (isMain(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
