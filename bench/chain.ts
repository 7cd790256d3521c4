// FBP chain: three dmrhub servers in a line, A – B – C, joined by FBP links (A–B and B–C, no A–C),
// all on loopback. The talkers log in to A; the listeners are spread over A, B and C, so every
// stream is heard at 0, 1 and 2 hops. Paced traffic as in run-all's paced part (one frame per 60 ms
// per stream, 10 s calls with 1 s gaps), measured per hop: delivery, loss, duplicates, latency, and
// each server's CPU and RSS.
//
//   npm run build && node dist/bench/chain.js [--runs 3] [--seconds 30] [--peers 200] [--streams 50]
//
// Servers: the benchmark server of run-all (startDmrhub: SERVER_NODE_FLAGS, log level "info",
// SQLite off), each with a [server] ID and its [[links]] (protocol "fbp") on ports that were free a
// moment before. Traffic runs once every link end has logged `link.up` (B forwards A's calls on to C
// only once it has heard C). Links carry TS1 group calls only, so the traffic is on TS1.
// Layout (loadgen's round-robin): peers 0..K-1 are the talkers, on A; listener j (peer K+j) hears
// stream j mod K and is on server floor(j / K) mod 3, so with 150 listeners and 50 streams each
// stream has one listener per hop.
// Prints a table (median and min–max over --runs) and writes bench/results/chain-<time>.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad, type GroupResult, type LoadResult } from './loadgen.js';
import { exitAnomalies, loadAnomalies, serverSettings, startDmrhub, type ServerExit } from './run-all.js';
import { isMain, num, sleep } from './lib/cli.js';
import { udpDropsByPort, type CpuUse } from './lib/procfs.js';
import { median } from './lib/stats.js';
import { bindSocket, closeSocket, udpSocket } from './lib/udp.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const say = (s: string): void => void process.stderr.write(`[chain] ${s}\n`);
const NAMES = ['A', 'B', 'C'] as const;
const IDS = [311901, 311902, 311903];
const PASS = ['alpha-bravo', 'bravo-charlie'];
const LINK_UP_TIMEOUT_MS = 25_000; // keepalives every 10 s: at most one missed at start

export interface ChainPlan {
  peers: number;
  streams: number;
  seconds: number;
  callSeconds: number;
  callGapMs: number;
}

export interface ServerFigures {
  name: string;
  cpuPct: number | null;
  rssMb: number | null;
  hwmMb: number | null;
  /** Kernel receive-buffer drops at its HBP and link sockets, login to end of traffic. */
  kernelDrops: number | null;
  /** Link counters and FBP figures from its exit statistics. */
  stats: Record<string, number>;
  exit: ServerExit;
}

export interface ChainRun {
  loadAvgStart: number[];
  loadAvgEnd: number[];
  linksUpMs: number;
  /** Per hop: "0", "1", "2". */
  hops: Record<string, GroupResult>;
  servers: ServerFigures[];
  generator: { cpuPct: number; rssMb: number; kernelDrops: number | null; maxLagMs: number };
  anomalies: string[];
  raw: LoadResult;
}

/** `count` distinct UDP ports that were free a moment ago (bound at once, then released). */
async function freePorts(count: number): Promise<number[]> {
  const socks = Array.from({ length: count }, () => udpSocket());
  await Promise.all(socks.map((s) => bindSocket(s, 0, '127.0.0.1')));
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => closeSocket(s)));
  return ports;
}

function linkToml(name: string, port: number, target: number, passphrase: string, peerId: number): string {
  return [
    '[[links]]',
    `name = "${name}"`,
    'protocol = "fbp"',
    `port = ${port}`,
    'target_address = "127.0.0.1"',
    `target_port = ${target}`,
    `passphrase = "${passphrase}"`,
    `network_id = ${peerId}`,
  ].join('\n');
}

const loadAvg = (): number[] => os.loadavg().map((x) => Math.round(x * 100) / 100);

export async function runChain(plan: ChainPlan): Promise<ChainRun> {
  const loadAvgStart = loadAvg();
  // Link ports: A to B, B to A, B to C, C to B.
  const [aB, bA, bC, cB] = (await freePorts(4)) as [number, number, number, number];
  const links = [
    [linkToml('to-b', aB, bA, PASS[0]!, IDS[1]!)],
    [linkToml('to-a', bA, aB, PASS[0]!, IDS[0]!), linkToml('to-c', bC, cB, PASS[1]!, IDS[2]!)],
    [linkToml('to-b', cB, bC, PASS[1]!, IDS[1]!)],
  ];
  const linkPorts = [[aB], [bA, bC], [cB]];
  const up = [new Set<string>(), new Set<string>(), new Set<string>()];
  const stats: Record<string, number>[] = [{}, {}, {}];
  const servers: Awaited<ReturnType<typeof startDmrhub>>[] = [];
  const exits: ServerExit[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of servers.splice(0)) exits.push(await s.stop());
  };
  const t0 = performance.now();
  let r: LoadResult;
  let drops0: Map<number, number> | null;
  let drops1: Map<number, number> | null;
  let linksUpMs = 0;
  const hbpPorts: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      serverSettings.extraConfig = [`[server]\nid = ${IDS[i]}\nname = "${NAMES[i]}"`, ...links[i]!].join('\n\n');
      const onLog = (o: Record<string, unknown>): void => {
        if (o['code'] === 'link.up') up[i]!.add(String(o['detail'] ?? ''));
        if (o['code'] === 'server.exit' && typeof o['stats'] === 'object' && o['stats'] !== null) {
          for (const [k, v] of Object.entries(o['stats'] as Record<string, unknown>)) {
            if (typeof v === 'number' && (k.startsWith('link.') || k.startsWith('fbp.') || k.startsWith('obp.'))) stats[i]![k] = v;
          }
        }
      };
      servers.push(await startDmrhub('default', [], onLog));
    }
    serverSettings.extraConfig = '';
    while (!up.every((u, i) => u.size >= links[i]!.length)) {
      if (performance.now() - t0 > LINK_UP_TIMEOUT_MS) throw new Error(`links not up after ${LINK_UP_TIMEOUT_MS} ms: ${up.map((u, i) => `${NAMES[i]} ${u.size}/${links[i]!.length}`).join(', ')}`);
      await sleep(50);
    }
    linksUpMs = Math.round(performance.now() - t0);
    hbpPorts.push(...servers.map((s) => s.port));
    say(`servers ${servers.map((s, i) => `${NAMES[i]}:${s.port}`).join(' ')}, links up after ${linksUpMs} ms`);
    const serverPorts = new Set([...servers.map((s) => s.port), ...linkPorts.flat()]);
    const K = plan.streams;
    const hopOf = (i: number): number => Math.floor((i - K) / K) % 3;
    drops0 = udpDropsByPort(serverPorts);
    r = await runLoad({
      peers: plan.peers,
      streams: K,
      port: servers[0]!.port,
      portOf: (i) => (i < K ? servers[0]!.port : servers[hopOf(i)]!.port),
      groupOf: (i) => (i < K ? undefined : String(hopOf(i))),
      serverPids: servers.map((s) => s.pid),
      mode: 'paced',
      slot: 1,
      optionsTemplate: 'TS{slot}={tg};',
      seconds: plan.seconds,
      callSeconds: plan.callSeconds,
      callGapMs: plan.callGapMs,
      log: say,
    });
    drops1 = udpDropsByPort(serverPorts);
  } finally {
    serverSettings.extraConfig = '';
    await stopAll();
  }
  const dropsOf = (ports: number[]): number | null =>
    drops0 && drops1 ? ports.reduce((a, p) => a + (drops1!.get(p) ?? 0) - (drops0!.get(p) ?? 0), 0) : null;
  const figures: ServerFigures[] = NAMES.map((name, i) => {
    const c: CpuUse | null = r.servers?.[i] ?? null;
    return {
      name,
      cpuPct: c?.cpuPct ?? null,
      rssMb: c?.rssMb ?? null,
      hwmMb: c?.hwmMb ?? null,
      kernelDrops: dropsOf([hbpPorts[i]!, ...linkPorts[i]!]),
      stats: stats[i]!,
      exit: exits[i]!,
    };
  });
  const hops = r.byGroup ?? {};
  const anomalies = [...loadAnomalies(r, plan.peers), ...exits.flatMap((e, i) => exitAnomalies(e).map((a) => `${NAMES[i]}: ${a}`))];
  for (const [h, g] of Object.entries(hops)) {
    if (g.duplicates > 0) anomalies.push(`hop ${h}: ${g.duplicates} duplicates`);
    if (g.kernelDrops) anomalies.push(`hop ${h}: ${g.kernelDrops} kernel drops at the generator's listener sockets`);
  }
  return {
    loadAvgStart,
    loadAvgEnd: loadAvg(),
    linksUpMs,
    hops,
    servers: figures,
    generator: { cpuPct: r.generator.cpuPct, rssMb: r.generator.rssMb, kernelDrops: r.kernelDrops.peers, maxLagMs: r.traffic.maxLagMs },
    anomalies,
    raw: r,
  };
}

// ---- summary -----------------------------------------------------------------------------------

/** "median (min–max)" of a list, or the single value. */
function spread(xs: number[], digits: number): string {
  const f = (x: number): string => x.toFixed(digits);
  if (xs.length === 0) return '—';
  if (xs.length === 1 || Math.min(...xs) === Math.max(...xs)) return f(xs[0]!);
  return `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
}

export function chainTable(runs: ChainRun[]): string {
  const hops = ['0', '1', '2'];
  const per = (h: string, f: (g: GroupResult) => number): number[] => runs.map((r) => r.hops[h]).filter((g) => g !== undefined).map(f);
  const L = [
    `| hop (listeners on) | listeners | expected | delivered | loss % | dups | p50 ms | p99 ms | p99.9 ms | max ms |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const h of hops) {
    L.push(
      `| ${h} (${NAMES[Number(h)]}) | ${spread(per(h, (g) => g.listeners), 0)} | ${spread(per(h, (g) => g.expected), 0)} | ${spread(per(h, (g) => g.unique), 0)} | ` +
        `${spread(per(h, (g) => g.loss * 100), 4)} | ${spread(per(h, (g) => g.duplicates), 0)} | ${spread(per(h, (g) => g.latencyMs.p50), 2)} | ` +
        `${spread(per(h, (g) => g.latencyMs.p99), 2)} | ${spread(per(h, (g) => g.latencyMs.p999), 2)} | ${spread(per(h, (g) => g.latencyMs.max), 1)} |`,
    );
  }
  L.push('', '| process | CPU % of a core | RSS MB at the end | kernel drops |', '|---|---:|---:|---:|');
  for (let i = 0; i < 3; i++) {
    const sv = runs.map((r) => r.servers[i]!);
    L.push(`| server ${NAMES[i]} | ${spread(sv.map((s) => s.cpuPct ?? NaN), 1)} | ${spread(sv.map((s) => s.rssMb ?? NaN), 1)} | ${spread(sv.map((s) => s.kernelDrops ?? NaN), 0)} |`);
  }
  L.push(`| generator | ${spread(runs.map((r) => r.generator.cpuPct), 1)} | ${spread(runs.map((r) => r.generator.rssMb), 1)} | ${spread(runs.map((r) => r.generator.kernelDrops ?? NaN), 0)} |`);
  return L.join('\n');
}

const USAGE = `usage: node dist/bench/chain.js [--runs 3] [--seconds 30] [--peers 200] [--streams 50]
  [--call-seconds 10] [--call-gap-ms 1000]
Three dmrhub servers A–B–C joined by FBP links; talkers on A, listeners on A, B and C.`;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      runs: { type: 'string' },
      seconds: { type: 'string' },
      peers: { type: 'string' },
      streams: { type: 'string' },
      'call-seconds': { type: 'string' },
      'call-gap-ms': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  const runs = num(v.runs, 'runs', 3);
  const plan: ChainPlan = {
    peers: num(v.peers, 'peers', 200),
    streams: num(v.streams, 'streams', 50),
    seconds: num(v.seconds, 'seconds', 30),
    callSeconds: num(v['call-seconds'], 'call-seconds', 10),
    callGapMs: num(v['call-gap-ms'], 'call-gap-ms', 1000),
  };
  if (plan.peers < plan.streams * 4) say(`note: ${plan.peers - plan.streams} listeners for ${plan.streams} streams: not every stream is heard at every hop`);
  serverSettings.sql = false;
  const started = new Date();
  const loadAvgStart = loadAvg();
  say(`load average at start ${loadAvgStart.join(' / ')}`);
  const results: ChainRun[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runChain(plan);
    results.push(r);
    const h = (k: string): string => {
      const g = r.hops[k];
      return g ? `hop ${k}: ${g.lost}/${g.expected} lost, p99 ${g.latencyMs.p99} ms` : `hop ${k}: —`;
    };
    say(`run ${i + 1}/${runs}: ${['0', '1', '2'].map(h).join('; ')}; CPU ${r.servers.map((s) => `${s.name} ${s.cpuPct}%`).join(' ')}; load ${r.loadAvgEnd.join(' / ')}`);
    for (const a of r.anomalies) say(`  anomaly: ${a}`);
  }
  const loadAvgEnd = loadAvg();
  console.log(`FBP chain A–B–C: ${plan.peers} peers, ${plan.streams} streams, ${plan.seconds} s paced, ${runs} run(s); median (min–max)\n`);
  console.log(chainTable(results));
  console.log(`\nload average at start ${loadAvgStart.join(' / ')}, at the end ${loadAvgEnd.join(' / ')}`);
  const dir = join(REPO, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chain-${started.toISOString().replace(/[:.]/g, '-')}.json`);
  const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version };
  writeFileSync(file, JSON.stringify({ date: started.toISOString(), machine, plan, runs, loadAvgStart, loadAvgEnd, results }, null, 2) + '\n');
  say(`wrote ${file}`);
}

if (isMain(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.stack ?? e.message : e);
    process.exit(1);
  });
}
