// Soak benchmark: a real dmrhub process (dist/src/main.js, the benchmarks' node flags) with 100
// hotspots over UDP loopback, calls on several talkgroups, and peers logging out and in again
// throughout (bench/lib/soak-peers.ts). Every 10 s it samples the server's memory from
// /proc/<pid>/status (VmRSS and its anonymous, file and shared parts) and, through --trace-gc, the
// V8 heap in use after the last GC of each of the server's isolates (main thread, logger, reporting
// thread). Writes bench/results/soak-<time>.json and prints the trend: start (after the warm-up),
// end, slope per 10 minutes (least squares over the samples after warm-up), max.
//
//   npm run build && node dist/bench/soak.js [--minutes 60] [--peers 100] [--talkgroups 5]
//       [--talkers 2] [--churn 2] [--sample 10] [--warmup 60] [--no-sql] [--flight-recorder N]
//       [--label text] [--snapshot-dir DIR] [--extra TOML]
//
// --no-sql turns the SQLite reporting sink off (MQTT is off in the config anyway, so no reporting
// sink runs), --flight-recorder sets [record] flight_recorder_events (0 turns the ring off): the
// two suspects when RSS drifts.

import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMain, num, sleep, str } from './lib/cli.js';
import { SERVER_NODE_FLAGS } from './lib/server-flags.js';
import { SoakPeers, type SoakCounts } from './lib/soak-peers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN_JS = join(REPO, 'dist', 'src', 'main.js');
const RESULTS_DIR = join(REPO, 'bench', 'results');
const PASS = 'passw0rd';

export interface SoakSample {
  /** Seconds since the peers were logged in. */
  t: number;
  rssMb: number;
  anonMb: number;
  fileMb: number;
  shmemMb: number;
  hwmMb: number;
  /** V8 heap in use after the last GC, per isolate (address from --trace-gc), MB. */
  heapMb: Record<string, number>;
  /** The main thread's isolate (the first one --trace-gc reports). */
  mainHeapMb: number;
  /** The main thread's heap after its last full GC (mark-compact): the live heap. */
  mainLiveMb: number;
  cpuS: number;
  logLines: number;
  logBytes: number;
  counts: SoakCounts;
}

export interface Trend {
  /** The first sample after the warm-up. */
  start: number;
  end: number;
  max: number;
  /** Least-squares slope over the samples after warm-up, per 10 minutes. */
  slopePer10Min: number;
}

function status(pid: number): { rss: number; anon: number; file: number; shmem: number; hwm: number; cpuS: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? 0) / 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1').slice(readFileSync(`/proc/${pid}/stat`, 'latin1').lastIndexOf(')') + 2).split(' ');
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem'), hwm: kb('VmHWM'), cpuS: (Number(stat[11]) + Number(stat[12])) / 100 };
  } catch {
    return null;
  }
}

/**
 * Start (the first sample after the warm-up, when the login of all peers is behind), end, max (of
 * every sample) and the least-squares slope after the warm-up.
 */
export function trend(points: readonly { t: number; v: number }[], warmupS: number): Trend {
  const all = points.filter((p) => Number.isFinite(p.v));
  const after = all.filter((p) => p.t >= warmupS);
  const xs = after.length >= 2 ? after : all;
  const n = xs.length;
  const mx = xs.reduce((a, p) => a + p.t, 0) / Math.max(1, n);
  const my = xs.reduce((a, p) => a + p.v, 0) / Math.max(1, n);
  let sxy = 0;
  let sxx = 0;
  for (const p of xs) {
    sxy += (p.t - mx) * (p.v - my);
    sxx += (p.t - mx) ** 2;
  }
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  return { start: r1(xs[0]?.v ?? NaN), end: r1(all[all.length - 1]?.v ?? NaN), max: r1(Math.max(...all.map((p) => p.v))), slopePer10Min: sxx > 0 ? Math.round((sxy / sxx) * 600 * 100) / 100 : 0 };
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      minutes: { type: 'string' },
      peers: { type: 'string' },
      talkgroups: { type: 'string' },
      talkers: { type: 'string' },
      churn: { type: 'string' },
      sample: { type: 'string' },
      warmup: { type: 'string' },
      'no-sql': { type: 'boolean' },
      'flight-recorder': { type: 'string' },
      label: { type: 'string' },
      'snapshot-dir': { type: 'string' },
      extra: { type: 'string' },
    },
  });
  const minutes = num(v.minutes, 'minutes', 60);
  const sampleS = num(v.sample, 'sample', 10);
  const warmupS = num(v.warmup, 'warmup', 60);
  const sql = !(v['no-sql'] ?? false);
  const flight = num(v['flight-recorder'], 'flight-recorder');
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} not found: run \`npm run build\` first`);

  const dir = mkdtempSync(join(os.tmpdir(), 'dmrhub-soak-'));
  const cfg = join(dir, 'dmrhub.toml');
  const lines = ['[hbp]', 'address = "127.0.0.1"', 'port = 0', `passphrase = "${PASS}"`, '', '[record]', 'enabled = false', `flight_recorder_dir = ${JSON.stringify(dir)}`];
  if (flight !== undefined) lines.push(`flight_recorder_events = ${flight}`);
  lines.push('', '[log]', 'level = "info"', 'pretty = false');
  if (!sql) lines.push('', '[sql]', 'enabled = false');
  // --extra: more TOML for the server's config (a section the lines above do not write).
  if (v.extra !== undefined) lines.push('', v.extra.replace(/\\n/g, '\n'));
  writeFileSync(cfg, lines.join('\n') + '\n');

  // --snapshot-dir: V8 heap snapshots of the server's main thread after the warm-up and at the
  // end (SIGUSR1 through --heapsnapshot-signal), to compare what the heap holds.
  const snapDir = v['snapshot-dir'];
  const snapFlags = snapDir !== undefined ? ['--heapsnapshot-signal=SIGUSR1'] : [];
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...snapFlags, '--trace-gc', MAIN_JS, 'start', '--config', cfg], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let port: number | null = null;
  let logLines = 0;
  let logBytes = 0;
  let stderr = '';
  const heap: Record<string, number> = {};
  const live: Record<string, number> = {};
  const warnings: Record<string, number> = {};
  child.stderr.setEncoding('utf8').on('data', (s: string) => void (stderr.length < 20_000 && (stderr += s)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    // --trace-gc: "[pid:0xISOLATE]  123 ms: Scavenge 3.9 (5.1) -> 3.2 (6.1) MB, ..."
    const gc = /^\[\d+:(0x[0-9a-f]+)\]\s+\d+ ms: ([A-Za-z-]+(?: [A-Za-z-]+)?)(?: \([a-z ]+\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(([\d.]+)\) MB/.exec(line);
    if (gc) {
      heap[gc[1]!] = Number(gc[3]);
      // After a full collection (mark-compact) what is left is live; after a scavenge, old-space
      // garbage not collected yet is still counted.
      if (gc[2] === 'Mark-Compact') live[gc[1]!] = Number(gc[3]);
      return;
    }
    logLines++;
    logBytes += line.length + 1;
    try {
      const o = JSON.parse(line) as { code?: string; port?: number; level?: number };
      if (o.code === 'server.listening' && typeof o.port === 'number') port ??= o.port;
      if ((o.level ?? 0) >= 40) warnings[o.code ?? '?'] = (warnings[o.code ?? '?'] ?? 0) + 1;
    } catch {
      /* not JSON */
    }
  });
  for (let i = 0; i < 500 && port === null && child.exitCode === null; i++) await sleep(20);
  if (port === null) {
    child.kill('SIGKILL');
    throw new Error(`dmrhub did not start; stderr: ${stderr.trim() || '(empty)'}`);
  }
  await sleep(200);

  const peers = new SoakPeers({ port, peers: num(v.peers, 'peers', 100), talkgroups: num(v.talkgroups, 'talkgroups', 5), talkersPerTg: num(v.talkers, 'talkers', 2), churnMs: num(v.churn, 'churn', 2) * 1000, passphrase: PASS });
  const label = str(v.label, sql ? 'default' : 'no-sql') + (flight !== undefined ? ` flight=${flight}` : '');
  console.log(`soak (${label}): server pid ${child.pid} on 127.0.0.1:${port}, ${minutes} min, samples every ${sampleS} s`);
  await peers.start();
  const t0 = performance.now();
  const samples: SoakSample[] = [];
  const take = (): void => {
    const st = status(child.pid!);
    if (st === null) return;
    // The main thread's isolate is the first to collect garbage (the workers start later).
    const mainHeapMb = Object.values(heap)[0] ?? 0;
    const main = Object.keys(heap)[0];
    const mainLiveMb = main !== undefined ? (live[main] ?? NaN) : NaN;
    const r1 = (x: number): number => Math.round(x * 10) / 10;
    samples.push({ t: Math.round((performance.now() - t0) / 1000), rssMb: r1(st.rss), anonMb: r1(st.anon), fileMb: r1(st.file), shmemMb: r1(st.shmem), hwmMb: r1(st.hwm), heapMb: { ...heap }, mainHeapMb, mainLiveMb, cpuS: st.cpuS, logLines, logBytes, counts: { ...peers.counts } });
    const s = samples[samples.length - 1]!;
    if (samples.length % 6 === 1) console.log(`[${String(s.t).padStart(5)} s] RSS ${s.rssMb} MB (anon ${s.anonMb}, file ${s.fileMb}, shmem ${s.shmemMb}), main heap ${s.mainHeapMb} MB (live ${s.mainLiveMb}), logins ${s.counts.logins}, calls ${s.counts.calls}, frames ${s.counts.framesSent} → ${s.counts.framesReceived}, log ${Math.round(s.logBytes / 1000)} kB`);
  };
  take();
  const end = t0 + minutes * 60_000;
  let snapped = false;
  while (performance.now() < end && child.exitCode === null) {
    await sleep(Math.min(sampleS * 1000, end - performance.now()));
    take();
    if (snapDir !== undefined && !snapped && performance.now() - t0 >= warmupS * 1000) {
      snapped = true;
      child.kill('SIGUSR1');
    }
  }
  if (snapDir !== undefined) {
    child.kill('SIGUSR1');
    await sleep(5000);
    mkdirSync(snapDir, { recursive: true });
    for (const f of readdirSync(dir)) if (f.endsWith('.heapsnapshot')) copyFileSync(join(dir, f), join(snapDir, f));
  }
  await peers.stop();
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('close', r)));
  rmSync(dir, { recursive: true, force: true });

  const series = (f: (s: SoakSample) => number): Trend => trend(samples.map((s) => ({ t: s.t, v: f(s) })), warmupS);
  const trends = { rssMb: series((s) => s.rssMb), anonMb: series((s) => s.anonMb), fileMb: series((s) => s.fileMb), mainHeapMb: series((s) => s.mainHeapMb), mainLiveMb: series((s) => s.mainLiveMb), allHeapsMb: series((s) => Object.values(s.heapMb).reduce((a, b) => a + b, 0)) };
  const last = samples[samples.length - 1];
  const result = { kind: 'soak', label, date: new Date().toISOString(), minutes, sql, flightRecorderEvents: flight ?? 'default', node: process.version, warmupS, trends, counts: last?.counts, logBytes: last?.logBytes, warnings, exit: child.exitCode ?? child.signalCode, samples };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nsoak (${label}), ${minutes} min, ${samples.length} samples; trend after ${warmupS} s of warm-up (MB; slope per 10 min):`);
  for (const [k, t] of Object.entries(trends)) console.log(`  ${k.padEnd(11)} start ${t.start}  end ${t.end}  max ${t.max}  slope ${t.slopePer10Min >= 0 ? '+' : ''}${t.slopePer10Min}`);
  if (last) console.log(`  peers: ${last.counts.logins} logins (${last.counts.loginRetries} retries), ${last.counts.logouts} logouts, ${last.counts.dropped} dropped by the server; ${last.counts.calls} calls, ${last.counts.framesSent} frames sent, ${last.counts.framesReceived} received; server log ${Math.round(last.logBytes / 1000)} kB`);
  console.log(`  warnings: ${JSON.stringify(warnings)}; results in ${file}`);
}

if (isMain(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
