// Reporting off the packet path, measured (issue: reporting workers):
//  - startup: with a 1,000,000-row SQLite database, how soon after the process starts a first
//    login is answered;
//  - paced 200 peers / 50 streams at the DMR rate with the workers off, on (MQTT to a local
//    mosquitto + SQLite), and on with the broker stopped and the database locked: loss, p99, CPU;
//  - RSS of the whole process at 2000 peers with reporting off, with only SQLite, only MQTT and
//    both (one reporting thread hosts the sinks), and the thread count;
//  - the operator console (`--only console`): paced 200 peers / 50 streams with everything off
//    against the console on with a dashboard's load (bench/console-client.ts: the event stream
//    open and the API read on the dashboard's own schedule), alternating in the same run; RSS at
//    2000 peers with both sinks and the console on.
//
//   npm run build && node dist/bench/reporting.js [--runs 3] [--seconds 20] [--only startup,paced,rss-each,console] [--chromium]
//   (--chromium: the console's client is the dashboard in Debian's headless Chromium, not bench/console-client.ts's requests;
//   --settle-ms N: in the console rounds, N ms from the last login to the first call (default 300);
//   --browser-warm-ms N: with Chromium, the browser idles N ms on a blank page before it opens the dashboard;
//   --chromium-nice / --chromium-idle: the same browser at nice 19 or under SCHED_IDLE, standing for a
//   browser on another machine: its requests are real, its rendering yields the cores)
//   (`--only rss` measures just off and both; `--only console-paced` the console's paced rounds without its RSS)
//   --client-idle: the console's client (plain or Chromium) under SCHED_IDLE; --no-client: the console
//   on with nobody connected; --snapshot-interval S: console.snapshot_interval in the console rounds;
//   --aa: the console off in both halves of each round (how far two identical rounds fall apart);
//   --capture: also the server's own latency, from a tcpdump capture on lo (bench/lib/pcap.ts; root);
//   --pin: the server alone on CPU 0; this process (the load generator, standing for the hotspots)
//   and the console's client (and its browser) on CPU 1, off and on alike. The server's core is its
//   own, but the client then shares the load generator's, whose delays count in the latency
//   (BENCHMARKS.md, "Telling the console's cost from the host's").
// Prints a table and writes bench/results/reporting-<time>.json.

import Database from 'better-sqlite3';
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import dgram from 'node:dgram';
import { encodeRptl } from '../src/protocol/index.js';
import { runLoad, type LoadResult } from './loadgen.js';
import { median } from './lib/stats.js';
import { num, sleep } from './lib/cli.js';
import { SERVER_NODE_FLAGS } from './lib/server-flags.js';
import { captureLatency, type CaptureLatency } from './lib/pcap.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN_JS = join(REPO, 'dist', 'src', 'main.js');
const SINK_JS = join(REPO, 'dist', 'workers', 'sqlite-sink.js');
const say = (s: string): void => void process.stderr.write(`[reporting] ${s}\n`);

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Broker {
  port: number;
  stop(): Promise<void>;
}

async function startBroker(dir: string): Promise<Broker> {
  const port = await freeTcpPort();
  const conf = join(dir, `mosquitto-${port}.conf`);
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = new Socket();
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
      sock.connect(port, '127.0.0.1');
    });
    if (ok) break;
    await sleep(30);
  }
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Server {
  child: ChildProcess;
  port: number;
  pid: number;
  stop(): Promise<number | null>;
}

interface ServerShape {
  sql: string | null;
  mqttPort: number | null;
  /** The operator console on (any free port). */
  console?: boolean;
  /** console.snapshot_interval (s); the server's default when not given. */
  snapshotS?: number;
}

function configText(o: ServerShape): string {
  return [
    '[hbp]',
    'address = "127.0.0.1"',
    'port = 0',
    '[log]',
    'level = "info"',
    'pretty = false',
    '[record]',
    'flight_recorder_events = 20000',
    '[sql]',
    `enabled = ${o.sql !== null}`,
    ...(o.sql !== null ? [`path = ${JSON.stringify(o.sql)}`] : []),
    '[mqtt]',
    `url = ${JSON.stringify(o.mqttPort !== null ? `mqtt://127.0.0.1:${o.mqttPort}` : '')}`,
    'reconnect_min = 0.5',
    'reconnect_max = 5',
    '[console]',
    `enabled = ${o.console === true}`,
    'port = 0',
    ...(o.snapshotS !== undefined ? [`snapshot_interval = ${o.snapshotS}`] : []),
  ].join('\n');
}

async function startServer(dir: string, o: ServerShape): Promise<Server & { spawnedAt: number; consolePort: Promise<number> }> {
  const cfg = join(dir, `dmrhub-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(cfg, configText(o));
  const spawnedAt = performance.now();
  const argv = [process.execPath, ...SERVER_NODE_FLAGS, MAIN_JS, 'start', '--config', cfg];
  // taskset execs node in place: the child's pid is the server's.
  const [file, ...args] = PIN ? ['taskset', '--cpu-list', '0', ...argv] : argv;
  const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let consoleSeen: (port: number) => void = () => {};
  const consolePort = new Promise<number>((resolve) => (consoleSeen = resolve));
  let all = '';
  // The stream keeps flowing (a paused pipe would block the server's logging); the search stops.
  let consoleFound = !o.console;
  child.stdout!.on('data', (d: Buffer) => {
    if (consoleFound) return;
    all += d.toString();
    const m = /"code":"console\.listening"[^\n]*"port":(\d+)/.exec(all);
    if (m) {
      consoleFound = true;
      all = '';
      consoleSeen(Number(m[1]));
    }
    if (all.length > 1 << 16) all = all.slice(-4096);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('server did not start')), 10_000);
    // Removed once found: the server logs every login and call, and matching the whole output
    // again at each line would cost the load generator, whose event loop this is, more each time.
    const onData = (d: Buffer): void => {
      buf += d.toString();
      const m = /"code":"server\.listening"[^\n]*"port":(\d+)/.exec(buf);
      if (m) {
        clearTimeout(t);
        child.stdout!.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', () => reject(new Error('server exited')));
  });
  return {
    child,
    port,
    pid: child.pid!,
    spawnedAt,
    consolePort,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

function procStatus(pid: number): { rssMb: number; threads: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
  return { rssMb: Math.round(rss * 10) / 10, threads: readdirSync(`/proc/${pid}/task`).length };
}

/** A SQLite file with the server's schema and `rows` rows in the call log. */
async function bigDatabase(path: string, rows: number): Promise<void> {
  const { migrate } = (await import(SINK_JS)) as { migrate(d: Database.Database): number };
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  migrate(db);
  const now = Date.now();
  db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
    INSERT INTO calls (stream, started_at, ended_at, src, dst, peer, slot, call_type, kind, duration_ms, packets, lost, loss, ber, rssi, reason, receivers)
    SELECT printf('%08x', i), ${now} - i * 1000, ${now} - i * 1000 + 3000, 3100000 + i % 5000, 91 + i % 50, 310000000 + i % 200, 2, 'group', 'voice', 3000, 50, 0, 0, 0, 0, 'terminator', 3 FROM n`);
  db.exec(`INSERT INTO lastheard SELECT src, dst, peer, slot, call_type, kind, stream, MAX(started_at), duration_ms, loss, ber, rssi, reason FROM calls GROUP BY src`);
  db.close();
}

/** Time from process spawn until a first RPTL is answered (RPTL sent every 5 ms from spawn). */
async function firstLoginMs(dir: string, db: string): Promise<{ listeningMs: number; firstAnswerMs: number }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  let answeredAt = 0;
  sock.on('message', (m) => {
    if (answeredAt === 0 && m.toString('latin1', 0, 6) === 'RPTACK') answeredAt = performance.now();
  });
  const srvP = startServer(dir, { sql: db, mqttPort: null });
  // The port is unknown until the listening line; poll with RPTL as soon as it is known.
  const srv = await srvP;
  const listeningMs = performance.now() - srv.spawnedAt;
  for (let i = 0; i < 400 && answeredAt === 0; i++) {
    sock.send(encodeRptl(399000001), srv.port, '127.0.0.1');
    await sleep(5);
  }
  const firstAnswerMs = answeredAt - srv.spawnedAt;
  await srv.stop();
  sock.close();
  return { listeningMs: Math.round(listeningMs), firstAnswerMs: Math.round(firstAnswerMs) };
}

interface PacedRow {
  scenario: string;
  loss: number;
  p99: number;
  p999: number;
  cpuPct: number | null;
  rssMb: number | null;
  threads: number;
}

async function paced(dir: string, scenario: 'off' | 'on' | 'down', seconds: number): Promise<PacedRow> {
  const dbPath = join(dir, `paced-${scenario}-${Date.now()}.sqlite`);
  const broker = scenario === 'off' ? null : await startBroker(dir);
  const srv = await startServer(dir, { sql: scenario === 'off' ? null : dbPath, mqttPort: broker?.port ?? null });
  let locker: Database.Database | null = null;
  if (scenario === 'down') {
    await sleep(500); // let the sinks start and create the file
    await broker!.stop();
    locker = new Database(dbPath);
    locker.exec('BEGIN EXCLUSIVE');
  }
  const r: LoadResult = await runLoad({ port: srv.port, peers: 200, streams: 50, mode: 'paced', seconds, listenersPerTg: 3, serverPid: srv.pid });
  const st = procStatus(srv.pid);
  if (locker) {
    locker.exec('ROLLBACK');
    locker.close();
  }
  await srv.stop();
  await broker?.stop();
  return {
    scenario,
    loss: r.delivery.loss,
    p99: r.latencyMs.p99,
    p999: r.latencyMs.p999,
    cpuPct: r.server?.cpuPct ?? null,
    rssMb: r.server?.rssMb ?? null,
    threads: st.threads,
  };
}

/**
 * A dashboard's load on the console: the event stream open and the API read on the dashboard's
 * schedule (or, with --chromium, the dashboard itself in headless Chromium), from a process of its
 * own (bench/console-client.ts), so that its work does not share the load generator's event loop.
 */
async function dashboardClient(base: string, burn = 0): Promise<{ stop(): Promise<ClientSeen> }> {
  const args = [base, ...(burn > 0 ? ['--burn', String(burn)] : CHROMIUM ? ['--chromium', ...(BROWSER_WARM_MS > 0 ? ['--warm', String(BROWSER_WARM_MS)] : [])] : []), ...(CLIENT_SCHED !== '' ? [`--${CLIENT_SCHED}`] : []), ...(PIN ? ['--cpu', '1'] : [])];
  const child = fork(fileURLToPath(new URL('./console-client.js', import.meta.url)), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`console client exited with ${code}`)));
  });
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('message', (m) => resolve(m as ClientSeen));
        child.send('stop');
      }),
  };
}

/** --chromium: the dashboard's load is the dashboard itself, in headless Chromium. */
let CHROMIUM = false;
/**
 * --chromium-nice / --chromium-idle: that browser at nice 19 or SCHED_IDLE (standing for one on
 * another machine); --client-idle: the console's client, plain or Chromium, under SCHED_IDLE.
 */
let CLIENT_SCHED: '' | 'nice' | 'idle' = '';
/** --snapshot-interval S: console.snapshot_interval in the console-on rounds (default: the server's, 1 s). */
let SNAPSHOT_S: number | undefined;
/** --no-client: the console on with nobody connected (its cost without a client's requests). */
let NO_CLIENT = false;
/** --aa: both halves of each console round with the console off (the noise floor of the ratio). */
let AA = false;
/**
 * --burn PCT (with --aa): the second half of each round also runs bench/console-client.ts --burn,
 * PCT % of a core of plain work (under SCHED_IDLE with --client-idle), and no console: how far a
 * browser's share of the CPU beside the server moves its p99 with no console at all.
 */
let BURN = 0;
/**
 * --browser-warm-ms N (with --chromium…): the browser idles N ms on a blank page before it opens
 * the dashboard, so that the work a freshly started Chromium does about 30 s after launch falls
 * before the round's traffic (an operator's browser is long past it). The round waits for it.
 */
let BROWSER_WARM_MS = 0;
/** --capture: the server's own latency from a loopback capture, beside the end-to-end one. */
let CAPTURE = false;
/** --pin: the server on CPU 0; the load generator, the console's client and its browser on CPU 1. */
let PIN = false;

/**
 * --settle-ms: the wait between the last login and the first voice frame in the console rounds,
 * off and on alike (runLoad's default, 300 ms, when not given). With a few seconds, the dashboard
 * has drawn the 200 logins before the calls begin, and p99 is the steady state's.
 */
let CONSOLE_SETTLE_MS: number | undefined;

/** Paced 200 peers / 50 streams with reporting off, the console off or on (with a dashboard client). */
async function pacedConsole(dir: string, on: boolean, second: boolean, seconds: number): Promise<ConsoleRow> {
  const srv = await startServer(dir, { sql: null, mqttPort: null, console: on, snapshotS: SNAPSHOT_S });
  const capture = CAPTURE ? await startCapture(join(dir, `capture-${srv.port}.pcap`), srv.port) : null;
  const client =
    on && !NO_CLIENT ? await dashboardClient(`http://127.0.0.1:${await srv.consolePort}`) : second && BURN > 0 ? await dashboardClient('none', BURN) : null;
  const r: LoadResult = await runLoad({ port: srv.port, peers: 200, streams: 50, mode: 'paced', seconds, listenersPerTg: 3, serverPid: srv.pid, settleMs: CONSOLE_SETTLE_MS });
  const st = procStatus(srv.pid);
  const seen = (await client?.stop()) ?? { events: 0, polls: 0 };
  const own = capture !== null ? await capture.stop() : null;
  await srv.stop();
  return {
    scenario: on ? 'console' : 'console-off',
    loss: r.delivery.loss,
    p99: r.latencyMs.p99,
    p999: r.latencyMs.p999,
    cpuPct: r.server?.cpuPct ?? null,
    rssMb: r.server?.rssMb ?? null,
    threads: st.threads,
    ...seen,
    ...(own !== null ? { serverP99: Math.round(own.p99 * 1000) / 1000, serverMatched: own.matched } : {}),
  };
}

/**
 * --capture: tcpdump on `lo` for the server's UDP port during the traffic; stop() reads the file
 * for the server's own latency (bench/lib/pcap.ts).
 */
async function startCapture(file: string, port: number): Promise<{ stop(): Promise<CaptureLatency> }> {
  const child = spawn('tcpdump', ['-i', 'lo', '-n', '-s', '96', '-B', '32768', '-w', file, `udp port ${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve();
    });
    child.once('error', (e) => reject(new Error(`tcpdump: ${e.message} (--capture needs tcpdump: apt-get install tcpdump)`)));
    child.once('exit', (code) => reject(new Error(`tcpdump exited with ${code}: ${err.trim()}`)));
  });
  return {
    stop: async () => {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      });
      return captureLatency(file, port);
    },
  };
}

/** The console-on rounds as the table names them. */
function consoleOnLabel(): string {
  const client = NO_CLIENT ? 'on, nobody connected' : CHROMIUM ? 'on + the dashboard open in headless Chromium' : "on + event stream + the dashboard's reads";
  const sched = NO_CLIENT ? '' : CLIENT_SCHED === 'nice' ? ' (client at nice 19)' : CLIENT_SCHED === 'idle' ? ' (client under SCHED_IDLE)' : '';
  return client + sched + (SNAPSHOT_S !== undefined ? `, state report every ${SNAPSHOT_S} s` : '');
}

/** What the dashboard client saw (bench/console-client.ts); browserCpuPct with --chromium only. */
type ClientSeen = { events: number; polls: number; browserCpuPct?: number };
/** With --capture: the server's own p99 (ms) and how many of its sends it rests on. */
type ConsoleRow = PacedRow & ClientSeen & { serverP99?: number; serverMatched?: number };

type RssSinks = 'none' | 'sql' | 'mqtt' | 'both' | 'both+console';

async function rss2000(dir: string, sinks: RssSinks): Promise<{ on: boolean; sinks: RssSinks; rssMb: number; threads: number }> {
  const both = sinks === 'both' || sinks === 'both+console';
  const broker = sinks === 'mqtt' || both ? await startBroker(dir) : null;
  const sql = sinks === 'sql' || both ? join(dir, `rss-${Date.now()}.sqlite`) : null;
  const srv = await startServer(dir, { sql, mqttPort: broker?.port ?? null, console: sinks === 'both+console' });
  const load = runLoad({ port: srv.port, peers: 2000, streams: 0, mode: 'paced', seconds: 6 });
  await sleep(4500);
  const st = procStatus(srv.pid);
  await load;
  await srv.stop();
  await broker?.stop();
  return { on: sinks === 'both', sinks, ...st };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' }, rows: { type: 'string' }, only: { type: 'string' }, chromium: { type: 'boolean' }, 'chromium-nice': { type: 'boolean' }, 'chromium-idle': { type: 'boolean' }, 'client-idle': { type: 'boolean' }, aa: { type: 'boolean' }, 'no-client': { type: 'boolean' }, 'snapshot-interval': { type: 'string' }, 'settle-ms': { type: 'string' }, 'browser-warm-ms': { type: 'string' }, pin: { type: 'boolean' }, capture: { type: 'boolean' }, burn: { type: 'string' } } });
  PIN = values.pin === true;
  CAPTURE = values.capture === true;
  AA = values.aa === true;
  NO_CLIENT = values['no-client'] === true;
  BURN = num(values.burn, 'burn') ?? 0;
  if (BURN > 0 && !AA) throw new Error('--burn goes with --aa (the console off in both halves; the burner in the second)');
  SNAPSHOT_S = num(values['snapshot-interval'], 'snapshot-interval');
  // Every thread of this process; the console's client inherits it, the server is started on CPU 0.
  if (PIN) execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', '1', String(process.pid)], { stdio: 'ignore' });
  CONSOLE_SETTLE_MS = num(values['settle-ms'], 'settle-ms');
  BROWSER_WARM_MS = num(values['browser-warm-ms'], 'browser-warm-ms') ?? 0;
  CLIENT_SCHED = values['chromium-idle'] === true || values['client-idle'] === true ? 'idle' : values['chromium-nice'] === true ? 'nice' : '';
  CHROMIUM = values.chromium === true || values['chromium-idle'] === true || values['chromium-nice'] === true;
  const only = new Set((values.only ?? 'startup,paced,rss-each').split(','));
  const runs = Number(values.runs ?? 3);
  const seconds = Number(values.seconds ?? 20);
  const rows = Number(values.rows ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'dmrhub-reporting-bench-'));
  try {
    const startup = [];
    const big = join(dir, 'big.sqlite');
    if (only.has('startup')) {
      say(`building a ${rows}-row database`);
      const t0 = performance.now();
      await bigDatabase(big, rows);
      say(`built in ${Math.round(performance.now() - t0)} ms`);
    }
    for (let i = 0; i < (only.has('startup') ? runs : 0); i++) {
      startup.push(await firstLoginMs(dir, big));
      say(`startup ${i + 1}/${runs}: ${JSON.stringify(startup.at(-1))}`);
    }
    const pacedRows: PacedRow[] = [];
    for (let i = 0; i < (only.has('paced') ? runs : 0); i++) {
      for (const sc of ['off', 'on', 'down'] as const) {
        const r = await paced(dir, sc, seconds);
        pacedRows.push(r);
        say(`paced ${sc} ${i + 1}/${runs}: loss ${r.loss}, p99 ${r.p99} ms, CPU ${r.cpuPct}%, RSS ${r.rssMb} MB, ${r.threads} threads`);
      }
    }
    const consoleRows: ConsoleRow[] = [];
    const consoleRss: { rssMb: number; threads: number }[] = [];
    // console-paced: the paced rounds only, without the 2000-peer RSS after each.
    if (only.has('console-paced')) only.add('console');
    for (let i = 0; i < (only.has('console') ? runs : 0); i++) {
      // --aa: the console off in both halves of a round, to show how far apart two identical
      // rounds fall on this host (the ratio's noise floor).
      for (const [half, on] of [false, !AA].entries()) {
        const r = await pacedConsole(dir, on, half === 1, seconds);
        consoleRows.push(r);
        say(`paced ${r.scenario} ${i + 1}/${runs}: loss ${r.loss}, p99 ${r.p99} ms, p99.9 ${r.p999} ms, CPU ${r.cpuPct}%, RSS ${r.rssMb} MB, events ${r.events}, polls ${r.polls}${r.browserCpuPct !== undefined ? `, browser CPU ${r.browserCpuPct}%` : ''}${r.serverP99 !== undefined ? `, server's own p99 ${r.serverP99} ms (${r.serverMatched} sends)` : ''}`);
      }
      if (only.has('console-paced')) continue;
      consoleRss.push(await rss2000(dir, 'both+console'));
      say(`rss 2000 peers, both sinks and the console: ${JSON.stringify(consoleRss.at(-1))}`);
    }
    const rss: { on: boolean; sinks: RssSinks; rssMb: number; threads: number }[] = [];
    const rssSinks: RssSinks[] = only.has('rss-each') ? ['none', 'sql', 'mqtt', 'both'] : ['none', 'both'];
    for (let i = 0; i < (only.has('rss') || only.has('rss-each') ? runs : 0); i++) {
      for (const sinks of rssSinks) {
        rss.push(await rss2000(dir, sinks));
        say(`rss 2000 peers, sinks ${sinks}: ${JSON.stringify(rss.at(-1))}`);
      }
    }
    const med = (xs: number[]): number => Math.round(median(xs) * 1000) / 1000;
    const by = (sc: string, f: (r: PacedRow) => number | null): number => med(pacedRows.filter((r) => r.scenario === sc).map((r) => f(r) ?? 0));
    const rssOn = med(rss.filter((r) => r.on).map((r) => r.rssMb));
    const rssOff = med(rss.filter((r) => r.sinks === 'none').map((r) => r.rssMb));
    const rssSql = med(rss.filter((r) => r.sinks === 'sql').map((r) => r.rssMb));
    const rssMqtt = med(rss.filter((r) => r.sinks === 'mqtt').map((r) => r.rssMb));
    const thrOn = med(rss.filter((r) => r.on).map((r) => r.threads));
    const thrOff = med(rss.filter((r) => r.sinks === 'none').map((r) => r.threads));
    // Only the parts that were measured.
    const measured = only.has('startup') || only.has('paced') || only.has('rss') || only.has('rss-each');
    const table = (measured ? [] : ['(startup, paced and rss not measured)']).concat(!measured ? [] : [
      `| measurement | median of ${runs} | goal |`,
      '|---|---:|---|',
      `| startup with a ${rows.toLocaleString('en')}-row database: listening after | ${med(startup.map((s) => s.listeningMs))} ms | |`,
      `| … first login answered after (from process spawn) | ${med(startup.map((s) => s.firstAnswerMs))} ms | ≤ 1000 ms |`,
      ...(['off', 'on', 'down'] as const).map(
        (sc) =>
          `| paced 200 peers / 50 streams, workers ${sc === 'off' ? 'off' : sc === 'on' ? 'on (MQTT + SQLite)' : 'on, broker stopped + database locked'}: loss / p99 / p99.9 / server CPU | ${by(sc, (r) => r.loss * 100)} % / ${by(sc, (r) => r.p99)} ms / ${by(sc, (r) => r.p999)} ms / ${by(sc, (r) => r.cpuPct)} % | ${sc === 'off' ? 'baseline' : 'no loss, p99 within 10% of off'} |`,
      ),
      `| RSS, 2000 peers logged in, workers off | ${rssOff} MB | |`,
      `| RSS, 2000 peers logged in, workers on (whole process) | ${rssOn} MB | ≤ 120 MB |`,
      `| threads: workers off / on (one reporting thread hosts both sinks) | ${thrOff} / ${thrOn} | |`,
      `| RSS of the reporting thread with both sinks (on − off) | ${Math.round((rssOn - rssOff) * 10) / 10} MB | |`,
      ...(only.has('rss-each')
        ? [`| RSS added by the reporting thread with only SQLite / only MQTT | ${Math.round((rssSql - rssOff) * 10) / 10} MB / ${Math.round((rssMqtt - rssOff) * 10) / 10} MB | |`]
        : []),
    ]).join('\n');
    const byC = (sc: string, f: (r: PacedRow) => number | null): number => med(consoleRows.filter((r) => r.scenario === sc).map((r) => f(r) ?? 0));
    // Off and on alternate, one of each per round: a ratio within a round shares the host's mood.
    // The first and second half of each round (off, then on; or off twice with --aa).
    const firstHalf = consoleRows.filter((_r, i) => i % 2 === 0);
    const secondHalf = consoleRows.filter((_r, i) => i % 2 === 1);
    const pairRatio = (p99: (r: ConsoleRow) => number = (r) => r.p99): number => med(secondHalf.map((r, i) => p99(r) / p99(firstHalf[i]!)));
    const consoleTable = only.has('console')
      ? [
          '',
          `| console measurement | median of ${runs} | goal |`,
          '|---|---:|---|',
          // With --aa there are no console-on rounds to show.
          ...(AA ? (['console-off'] as const) : (['console-off', 'console'] as const)).map(
            (sc) =>
              `| paced 200 peers / 50 streams, console ${sc === 'console' ? consoleOnLabel() : 'off'}${PIN ? ' (server on CPU 0; load and client on CPU 1)' : ''}: loss / p99 / p99.9 / server CPU / RSS | ${byC(sc, (r) => r.loss * 100)} % / ${byC(sc, (r) => r.p99)} ms / ${byC(sc, (r) => r.p999)} ms / ${byC(sc, (r) => r.cpuPct)} % / ${byC(sc, (r) => r.rssMb)} MB | ${sc === 'console' ? 'no loss, p99 within 10% of off' : 'baseline'} |`,
          ),
          ...(BURN > 0 ? [`| the second half's burner (bench/console-client.ts --burn${CLIENT_SCHED === 'idle' ? ', SCHED_IDLE' : ''}), % of one core | ${med(secondHalf.map((r) => r.browserCpuPct ?? 0))} % | |`] : []),
          ...(CHROMIUM && !AA ? [`| the browser's own CPU (all its processes), % of one core | ${med(consoleRows.filter((r) => r.browserCpuPct !== undefined).map((r) => r.browserCpuPct!))} % | |`] : []),
          `| p99 ${AA ? 'console off (second) / off (first)' : 'console on / off'}, median of the ${runs} rounds' ratios (each round runs off, then ${AA ? 'off again' : 'on'}${CONSOLE_SETTLE_MS !== undefined ? `; ${CONSOLE_SETTLE_MS} ms from the last login to the first call` : ''}) | ${pairRatio().toFixed(2)} | ≤ 1.10 |`,
          ...(CAPTURE
            ? [
                `| the server's own p99 from a loopback capture (arrival to send), first / second half of the rounds | ${med(firstHalf.map((r) => r.serverP99 ?? 0))} / ${med(secondHalf.map((r) => r.serverP99 ?? 0))} ms | |`,
                `| … median of the rounds' ratios of the server's own p99 | ${pairRatio((r) => r.serverP99 ?? 0).toFixed(2)} | ≤ 1.10 |`,
              ]
            : []),
          ...(consoleRss.length > 0 ? [`| RSS, 2000 peers logged in, both sinks and the console on (whole process) | ${med(consoleRss.map((r) => r.rssMb))} MB | ≤ 130 MB |`] : []),
        ].join('\n')
      : '';
    process.stdout.write(table + '\n' + consoleTable + '\n');
    mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
    const file = join(REPO, 'bench', 'results', `reporting-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ runs, seconds, rows, startup, paced: pacedRows, rss, console: { paced: consoleRows, rss: consoleRss }, table: table + '\n' + consoleTable }, null, 2) + '\n');
    say(`raw results: ${file}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
