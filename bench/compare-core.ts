// Compares the core bench (bench/core.ts) of two builds: two git revisions, or a revision and the
// working tree. Each side is built into its own temporary directory (its own sources, compiled
// with this checkout's TypeScript and node_modules), then the two core benches run in fresh node
// processes, alternating A B A B … so that machine noise falls on both sides alike. Each run is
// `node --max-semi-space-size=256 --expose-gc <build>/dist/bench/core.js --fanout 10`, as the
// header of bench/core.ts says: a young generation large enough that no GC falls in the window.
//
//   npm run build && node dist/bench/compare-core.js [A] [B] [options]
//     A, B         git revisions (anything `git rev-parse` takes), or `.` for the working tree
//                  (tracked files as they are now, plus untracked ones that are not ignored).
//                  Defaults: A = main, B = `.`.
//     --runs N     runs of each side (default 7), alternating A B A B …
//     --packets N  packets in each measured window (default 2000000)
//     --fanout N   listeners (default 10)
//     --dial       every second listener on dial-a-TG;  --links N  also N OpenBridge links
//     --max-ratio R  fail when the median of B ÷ the median of A is above R (e.g. 1.05)
//     --keep       keep the temporary builds (their paths are printed)
//
// Prints every run (ns/packet, GCs in the window), the medians, B ÷ A (of the medians, the median
// of the per-pair ratios, best ÷ best; and of CPU time per packet when both sides' bench/core.ts
// report it: the wall time includes waiting for a core on a busy machine), and writes bench/results/compare-core-<time>.json. Exits 1 when a
// run had a GC in its window (its time then includes collection work), when a build fails, or
// when --max-ratio is exceeded. Each side runs its own bench/core.ts; a warning says so when the
// two differ, since the harness is then part of what is compared.

import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMain, num } from './lib/cli.js';
import { median } from './lib/stats.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const WORKING_TREE = '.';
const say = (s: string): void => void process.stderr.write(`[compare-core] ${s}\n`);

interface Side {
  label: 'A' | 'B';
  /** As given on the command line. */
  rev: string;
  /** The commit built, or for the working tree the commit it is on. */
  commit: string;
  /** Working tree only: whether it differed from that commit. */
  dirty: boolean | null;
  dir: string;
  coreTsSha1: string | null;
}

export interface CoreRunRecord {
  side: 'A' | 'B';
  pair: number;
  nsPerPacket: number;
  /** Process CPU time in the window ÷ packets; null when that side's bench/core.ts predates it. */
  cpuNsPerPacket: number | null;
  bytesAllocatedPerPacket: number;
  gcsDuringWindow: number;
  sendsPerPacket: number;
}

const git = (args: string[], cwd = REPO): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

/** Put the sources of `rev` (or of the working tree) into `dir`. */
function checkout(rev: string, dir: string): { commit: string; dirty: boolean | null } {
  mkdirSync(dir, { recursive: true });
  if (rev === WORKING_TREE) {
    const list = git(['ls-files', '-z', '--cached', '--others', '--exclude-standard']).split('\0').filter((f) => f !== '');
    for (const f of new Set(list)) {
      const from = join(REPO, f);
      if (!existsSync(from)) continue; // deleted in the working tree
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      cpSync(from, join(dir, f), { dereference: false });
    }
    const dirty = git(['status', '--porcelain']).trim() !== '';
    return { commit: git(['rev-parse', 'HEAD']).trim(), dirty };
  }
  let commit: string;
  try {
    commit = git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).trim();
  } catch {
    throw new Error(`${rev}: not a revision of this repository (or \`.\` for the working tree)`);
  }
  const tar = join(dir, '..', `${commit}.tar`);
  git(['archive', '--format=tar', '-o', tar, commit]);
  execFileSync('tar', ['-xf', tar, '-C', dir]);
  rmSync(tar);
  return { commit, dirty: null };
}

/** Compile the side's sources with this checkout's TypeScript and node_modules. */
function build(dir: string): void {
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? '';
    throw new Error(`tsc failed in ${dir}:\n${out.split('\n').slice(0, 20).join('\n')}`);
  }
  if (!existsSync(join(dir, 'dist', 'bench', 'core.js'))) throw new Error(`${dir}: the build has no dist/bench/core.js`);
}

function runCore(side: Side, pair: number, args: string[]): Promise<CoreRunRecord> {
  return new Promise((resolve, reject) => {
    const core = join(side.dir, 'dist', 'bench', 'core.js');
    const child = spawn(process.execPath, ['--max-semi-space-size=256', '--expose-gc', core, ...args], { cwd: side.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        const r = JSON.parse(out.trim().split('\n').pop() ?? '') as Partial<CoreRunRecord>;
        if (typeof r.nsPerPacket !== 'number' || typeof r.gcsDuringWindow !== 'number') throw new Error('fields missing');
        resolve({
          side: side.label,
          pair,
          nsPerPacket: Math.round(r.nsPerPacket * 10) / 10,
          cpuNsPerPacket: typeof r.cpuNsPerPacket === 'number' ? Math.round(r.cpuNsPerPacket * 10) / 10 : null,
          bytesAllocatedPerPacket: Math.round((r.bytesAllocatedPerPacket ?? NaN) * 1000) / 1000,
          gcsDuringWindow: r.gcsDuringWindow,
          sendsPerPacket: r.sendsPerPacket ?? NaN,
        });
      } catch {
        reject(new Error(`${side.label} (${side.rev}) core bench, exit ${code}, printed no result: ${out.trim()} ${err.trim()}`));
      }
    });
  });
}

const sha1 = (file: string): string | null => (existsSync(file) ? createHash('sha1').update(readFileSync(file)).digest('hex') : null);
const r3 = (x: number): number => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      runs: { type: 'string' },
      packets: { type: 'string' },
      fanout: { type: 'string' },
      dial: { type: 'boolean' },
      links: { type: 'string' },
      'max-ratio': { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write('node dist/bench/compare-core.js [A=main] [B=.] [--runs 7] [--packets 2000000] [--fanout 10] [--dial] [--links N] [--max-ratio R] [--keep]\n');
    return;
  }
  if (positionals.length > 2) throw new Error('at most two revisions');
  const revs = [positionals[0] ?? 'main', positionals[1] ?? WORKING_TREE] as const;
  const runs = num(values.runs, 'runs', 7);
  const packets = num(values.packets, 'packets', 2_000_000);
  const fanout = num(values.fanout, 'fanout', 10);
  const links = num(values.links, 'links', 0);
  const maxRatio = num(values['max-ratio'], 'max-ratio');
  // Only the options asked for, so that an older bench/core.ts without --links still runs.
  const args = ['--fanout', String(fanout), '--packets', String(packets), ...(values.dial ? ['--dial'] : []), ...(links > 0 ? ['--links', String(links)] : [])];

  const tmp = realpathSync(mkdtempSync(join(os.tmpdir(), 'dmrhub-compare-core-')));
  const sides: Side[] = [];
  try {
    for (const [i, rev] of revs.entries()) {
      const label = i === 0 ? 'A' : 'B';
      const dir = join(tmp, label);
      say(`${label}: ${rev === WORKING_TREE ? 'the working tree' : rev}: building in ${dir}`);
      const { commit, dirty } = checkout(rev, dir);
      build(dir);
      sides.push({ label, rev, commit, dirty, dir, coreTsSha1: sha1(join(dir, 'bench', 'core.ts')) });
    }
    const [a, b] = sides as [Side, Side];
    const sameHarness = a.coreTsSha1 === b.coreTsSha1;
    if (!sameHarness) say('warning: bench/core.ts differs between A and B; the harness is part of the comparison');

    const loadAvgAtStart = os.loadavg().map((x) => Math.round(x * 100) / 100);
    const records: CoreRunRecord[] = [];
    for (let pair = 1; pair <= runs; pair++) {
      for (const side of [a, b]) {
        const r = await runCore(side, pair, args);
        records.push(r);
        say(`${pair}/${runs} ${side.label}: ${r.nsPerPacket} ns/packet${r.cpuNsPerPacket !== null ? ` (CPU ${r.cpuNsPerPacket})` : ''}, ${r.gcsDuringWindow} GC in the window, ${r.bytesAllocatedPerPacket} B/packet`);
      }
    }
    const loadAvgAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);

    const ns = (s: 'A' | 'B'): number[] => records.filter((r) => r.side === s).map((r) => r.nsPerPacket);
    const [nsA, nsB] = [ns('A'), ns('B')];
    const medA = median(nsA);
    const medB = median(nsB);
    const ratio = r3(medB / medA);
    const pairRatios = nsA.map((x, i) => r3(nsB[i]! / x));
    const bestRatio = r3(Math.min(...nsB) / Math.min(...nsA));
    // CPU time per packet, when both sides' core benches report it.
    const hasCpu = records.every((r) => r.cpuNsPerPacket !== null);
    const cpu = (s: 'A' | 'B'): number[] => records.filter((r) => r.side === s).map((r) => r.cpuNsPerPacket ?? NaN);
    const cpuA = hasCpu ? cpu('A') : [];
    const cpuB = hasCpu ? cpu('B') : [];
    const cpuRatio = hasCpu ? r3(median(cpuB) / median(cpuA)) : null;
    const gcRuns = records.filter((r) => r.gcsDuringWindow > 0);
    const name = (s: Side): string => `${s.rev === WORKING_TREE ? 'working tree' : s.rev} (${s.commit.slice(0, 10)}${s.dirty ? ', modified' : ''})`;

    const lines = [
      `core bench, mid-stream packet, fan-out ${fanout}${values.dial ? ', dial' : ''}${links > 0 ? `, ${links} link(s)` : ''}; ${packets} packets per window; ${runs} runs each, alternating`,
      `A = ${name(a)}`,
      `B = ${name(b)}`,
      '',
      `| pair | A ns/packet | A GCs | B ns/packet | B GCs | B ÷ A |${hasCpu ? ' A CPU ns | B CPU ns | B ÷ A (CPU) |' : ''}`,
      `|---:|---:|---:|---:|---:|---:|${hasCpu ? '---:|---:|---:|' : ''}`,
      ...nsA.map((x, i) => {
        const ga = records.find((r) => r.side === 'A' && r.pair === i + 1)!.gcsDuringWindow;
        const gb = records.find((r) => r.side === 'B' && r.pair === i + 1)!.gcsDuringWindow;
        const c = hasCpu ? ` ${cpuA[i]} | ${cpuB[i]} | ${r3(cpuB[i]! / cpuA[i]!)} |` : '';
        return `| ${i + 1} | ${x} | ${ga} | ${nsB[i]} | ${gb} | ${pairRatios[i]} |${c}`;
      }),
      '',
      `median A ${medA} ns (${Math.min(...nsA)}–${Math.max(...nsA)}), median B ${medB} ns (${Math.min(...nsB)}–${Math.max(...nsB)})`,
      `B ÷ A: ${ratio} (medians); per-pair median ${r3(median(pairRatios))} (${Math.min(...pairRatios)}–${Math.max(...pairRatios)}); best run ÷ best run ${bestRatio}`,
      ...(hasCpu
        ? [`CPU time per packet: median A ${median(cpuA)} ns, median B ${median(cpuB)} ns, B ÷ A ${cpuRatio} (steadier than wall time when the machine is busy)`]
        : ['CPU time per packet: not reported by both sides (bench/core.ts without cpuNsPerPacket)']),
      `GCs in the window: ${gcRuns.length === 0 ? 'none' : `${gcRuns.length} run(s) had some`}; load average ${loadAvgAtStart.join(' / ')} at the start, ${loadAvgAtEnd.join(' / ')} at the end`,
    ];
    process.stdout.write(lines.join('\n') + '\n');

    const problems: string[] = [];
    if (gcRuns.length > 0) problems.push(`GC in the measured window: ${gcRuns.map((r) => `${r.side} run ${r.pair} (${r.gcsDuringWindow})`).join(', ')}`);
    if (maxRatio !== undefined && ratio > maxRatio) problems.push(`B ÷ A = ${ratio} is above --max-ratio ${maxRatio}`);

    mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
    const file = join(REPO, 'bench', 'results', `compare-core-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    const cpus = os.cpus();
    const result = {
      date: new Date().toISOString(),
      machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, loadAvgAtStart, loadAvgAtEnd },
      command: ['node', 'dist/bench/compare-core.js', ...process.argv.slice(2)].join(' '),
      coreArgs: ['--max-semi-space-size=256', '--expose-gc', 'dist/bench/core.js', ...args],
      a: { rev: a.rev, commit: a.commit, dirty: a.dirty },
      b: { rev: b.rev, commit: b.commit, dirty: b.dirty },
      sameHarness,
      runs: records,
      medianNsA: medA,
      medianNsB: medB,
      ratio,
      pairRatios,
      medianPairRatio: r3(median(pairRatios)),
      bestRatio,
      medianCpuNsA: hasCpu ? median(cpuA) : null,
      medianCpuNsB: hasCpu ? median(cpuB) : null,
      cpuRatio,
      maxRatio: maxRatio ?? null,
      problems,
      table: lines.join('\n'),
    };
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    say(`raw results: ${file}`);
    for (const p of problems) say(`FAIL: ${p}`);
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    if (values.keep) say(`builds kept in ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  main().catch((e: unknown) => {
    say(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
