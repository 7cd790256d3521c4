// Subscriber names, measured (issue 12, item 4): the resident memory 250,000 subscribers add to a
// process with the server's V8 flags, after loading and after reloads, and the load time.
//
//   npm run build && node dist/bench/names.js [--runs 5] [--subscribers 250000] [--reloads 2]
//
// Each run is a fresh process (dist/bench/names-child.js) loading a synthetic RadioID file
// (bench/lib/names-synth.ts) one way:
//   thread   as the server does: a short-lived worker thread starts the loader process
//   process  the loader process started from the measuring thread (the console thread's way)
//   inline   parsed in the measuring thread itself (for comparison; not what the server does)
// for users.json and user.csv. Also the measuring thread's event-loop delay (p99) during the load
// and idle for as long after it: the main thread's view of a load. Prints medians with the range
// and writes bench/results/names-<time>.json.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { num } from './lib/cli.js';
import { synthSubscribers, writeUserCsv, writeUsersJson } from './lib/names-synth.js';
import { SERVER_NODE_FLAGS } from './lib/server-flags.js';
import { median } from './lib/stats.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHILD = join(REPO, 'dist', 'bench', 'names-child.js');
const say = (s: string): void => void process.stderr.write(`[names] ${s}\n`);

interface Sample {
  addedRss: number;
  addedRssAfterReloads: number;
  loadMs: number;
  loopDelayMs: { load: { p99: number; max: number }; idle: { p99: number; max: number } };
  subscribers: number;
  tableBytes: number;
}

function measure(file: string, mode: string, reloads: number): Promise<Sample> {
  const args = [...SERVER_NODE_FLAGS, '--expose-gc', CHILD, file, '--reloads', String(reloads), ...(mode === 'thread' ? ['--thread'] : mode === 'inline' ? ['--inline'] : [])];
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Sample))),
  );
}

const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
const ms = (x: number): string => x.toFixed(1);
const range = (xs: number[], f: (x: number) => string): string => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, subscribers: { type: 'string' }, reloads: { type: 'string' } } });
  const runs = num(values.runs, 'runs', 5);
  const n = num(values.subscribers, 'subscribers', 250_000);
  const reloads = num(values.reloads, 'reloads', 2);
  const dir = mkdtempSync(join(tmpdir(), 'dmrhub-names-bench-'));
  try {
    const subs = synthSubscribers(n, 1);
    const files = { json: join(dir, 'users.json'), csv: join(dir, 'user.csv') };
    writeUsersJson(files.json, subs);
    writeUserCsv(files.csv, subs);
    say(`${n} subscribers: users.json ${mib(statSync(files.json).size)} MiB, user.csv ${mib(statSync(files.csv).size)} MiB; ${runs} runs each`);
    const rows: { format: string; mode: string; samples: Sample[] }[] = [];
    for (const [format, mode] of [['json', 'thread'], ['csv', 'thread'], ['json', 'process'], ['json', 'inline']] as const) {
      const samples: Sample[] = [];
      // Interleaved would be fairer on a busy machine, but each run is a fresh process anyway.
      for (let i = 0; i < runs; i++) samples.push(await measure(files[format], mode, reloads));
      rows.push({ format, mode, samples });
      say(
        `${format.padEnd(4)} ${mode.padEnd(7)} added RSS ${range(samples.map((s) => s.addedRss), mib)} MiB, after ${reloads} reloads ${range(samples.map((s) => s.addedRssAfterReloads), mib)} MiB, ` +
          `load ${range(samples.map((s) => s.loadMs), (x) => x.toFixed(0))} ms, tables ${mib(samples[0]!.tableBytes)} MiB; ` +
          `event-loop delay p99 while loading ${range(samples.map((s) => s.loopDelayMs.load.p99), ms)} ms, idle ${range(samples.map((s) => s.loopDelayMs.idle.p99), ms)} ms`,
      );
    }
    const results = join(REPO, 'bench', 'results');
    mkdirSync(results, { recursive: true });
    const out = join(results, `names-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(out, JSON.stringify({ subscribers: n, runs, reloads, rows }, null, 2) + '\n');
    say(`wrote ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
