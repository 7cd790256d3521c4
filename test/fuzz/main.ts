// `npm run fuzz`: random and mutated datagrams at the routing core and at every codec of
// src/protocol (test/fuzz/README.md). Seeded: the seed is printed, and FUZZ_SEED=<n> replays the
// same datagrams. The run is cut into shards of `--shard-size` datagrams, each with its own
// generator, spread over worker threads; `--shard k` runs one shard alone (to replay a finding).
//
//   npm run fuzz -- [--count 10000000] [--workers N] [--shard-size 1000000] [--shard k]
//                   [--check-every 1000] [--sample-every 25000] [--takeover] [--json FILE]
//
// Exits 1 when anything was found: an exception out of the core or a codec, a bystander changed,
// a table over its bound or still growing, a reply larger than its request to a stranger.

import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { runShard, type ShardOptions, type ShardResult } from './shard.js';

interface Job {
  base: Omit<ShardOptions, 'shard' | 'count'>;
  shards: { shard: number; count: number }[];
}

type Msg = { kind: 'progress'; done: number } | { kind: 'result'; result: ShardResult };

if (!isMainThread) {
  const job = workerData as Job;
  for (const s of job.shards) {
    let last = 0;
    const result = runShard({ ...job.base, ...s }, (done) => {
      parentPort!.postMessage({ kind: 'progress', done: done - last } satisfies Msg);
      last = done;
    });
    parentPort!.postMessage({ kind: 'result', result } satisfies Msg);
  }
} else {
  await main();
}

function int(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name}: expected a whole number, got ${JSON.stringify(v)}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string' },
      workers: { type: 'string' },
      'shard-size': { type: 'string' },
      shard: { type: 'string' },
      'check-every': { type: 'string' },
      'sample-every': { type: 'string' },
      takeover: { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('npm run fuzz -- [--count N] [--workers N] [--shard-size N] [--shard K] [--check-every N] [--sample-every N] [--takeover] [--json FILE]');
    return;
  }
  const count = int(values.count, 'count', 10_000_000);
  const shardSize = Math.max(1, int(values['shard-size'], 'shard-size', 1_000_000));
  const seedText = process.env['FUZZ_SEED'];
  const seed = seedText !== undefined ? int(seedText, 'FUZZ_SEED', 0) >>> 0 : randomInt(2 ** 31);
  const base = {
    seed,
    checkEvery: Math.max(1, int(values['check-every'], 'check-every', 1000)),
    sampleEvery: Math.max(1, int(values['sample-every'], 'sample-every', 25_000)),
    takeover: values.takeover,
  };
  let shards = Array.from({ length: Math.ceil(count / shardSize) }, (_, k) => ({ shard: k, count: Math.min(shardSize, count - k * shardSize) }));
  if (values.shard !== undefined) {
    const k = int(values.shard, 'shard', 0);
    shards = [{ shard: k, count: shardSize }];
  }
  const total = shards.reduce((a, s) => a + s.count, 0);
  const workers = Math.max(1, Math.min(int(values.workers, 'workers', availableParallelism()), shards.length));
  console.log(`fuzz seed ${seed} (replay: FUZZ_SEED=${seed} npm run fuzz -- --count ${count}${values['shard-size'] ? ` --shard-size ${shardSize}` : ''}${values.takeover ? ' --takeover' : ''})`);
  console.log(`${total.toLocaleString('en')} datagrams in ${shards.length} shard(s) of up to ${shardSize.toLocaleString('en')}, ${workers} worker thread(s); bystanders checked every ${base.checkEvery}, tables sampled every ${base.sampleEvery}`);

  const t0 = performance.now();
  let done = 0;
  let lastPrint = 0;
  const results: ShardResult[] = [];
  await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const mine = shards.filter((_, i) => i % workers === w);
      return new Promise<void>((resolve, reject) => {
        const worker = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { base, shards: mine } satisfies Job });
        worker.on('message', (m: Msg) => {
          if (m.kind === 'result') {
            results.push(m.result);
            return;
          }
          done += m.done;
          const now = performance.now();
          if (now - lastPrint > 5000) {
            lastPrint = now;
            const s = (now - t0) / 1000;
            console.log(`[${s.toFixed(0).padStart(4)} s] ${done.toLocaleString('en')} / ${total.toLocaleString('en')} datagrams (${Math.round(done / s).toLocaleString('en')}/s), shards done ${results.length}/${shards.length}, findings so far ${results.reduce((a, r) => a + r.findings.length, 0)}`);
          }
        });
        worker.on('error', reject);
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${w} exited with ${code}`))));
      });
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  results.sort((a, b) => a.shard - b.shard);
  report(results, { seed, count: total, secs, workers, takeover: base.takeover }, values.json);
}

function report(results: ShardResult[], run: { seed: number; count: number; secs: number; workers: number; takeover: boolean }, json: string | undefined): void {
  const sum = (f: (r: ShardResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const max = (f: (r: ShardResult) => number): number => results.reduce((a, r) => Math.max(a, f(r)), 0);
  const tables: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.tableMax)) tables[k] = Math.max(tables[k] ?? 0, v);
  const mix: Record<string, number> = {};
  const out: Record<string, number> = {};
  for (const r of results) {
    for (const [k, v] of Object.entries(r.mix)) mix[k] = (mix[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.out)) out[k] = (out[k] ?? 0) + v;
  }
  const stats: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.stats)) stats[k] = (stats[k] ?? 0) + v;
  const findings = results.flatMap((r) => r.findings.map((f) => ({ shard: r.shard, ...f })));
  console.log('');
  console.log(`${run.count.toLocaleString('en')} datagrams in ${run.secs.toFixed(1)} s (${Math.round(run.count / run.secs).toLocaleString('en')}/s) on ${run.workers} worker thread(s), seed ${run.seed}`);
  console.log(`mix: ${Object.entries(mix).map(([k, v]) => `${k} ${v}`).join(', ')}; mutated ${out['mutated']}`);
  console.log(`core emitted: ${out['sends']} sends, ${out['fanOuts']} fan-outs to ${out['targets']} targets, ${out['logs']} logs, ${out['reports']} reports; ${out['ticks']} ticks and ${out['pings']} bystander pings in between`);
  const reached = ['dmrd.in', 'forward.frames', 'forward.sends', 'link.obp.in', 'link.fbp.in', 'link.fbp2.in', 'fbp.keepalive', 'fbp.quench-received', 'uplink.up', 'echo.recorded', 'dial.linked', 'peer.logout.replaced', 'login.refused.passphrase'];
  console.log(`reached (core counters): ${reached.map((k) => `${k} ${stats[k] ?? 0}`).join(', ')}`);
  console.log(`largest tables: ${Object.entries(tables).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`max heap after GC ${max((r) => r.heapMaxMb).toFixed(1)} MB (per worker thread), max RSS ${max((r) => r.rssMaxMb).toFixed(1)} MB (the process); worlds rebuilt after an exception: ${sum((r) => r.rebuilds)}`);
  if (findings.length === 0) console.log('findings: none');
  else {
    console.log(`findings: ${findings.length}`);
    for (const f of findings) {
      console.log(`- ${f.kind} in shard ${f.shard} at datagram ${f.index}${f.socket !== undefined ? ` (socket ${f.socket}, from ${f.from})` : ''}: ${f.detail}`);
      if (f.hex) console.log(`  datagram ${f.hex}`);
      if (f.stack) console.log(`  ${f.stack.split('\n').slice(0, 8).join('\n  ')}`);
    }
  }
  if (json !== undefined) writeFileSync(json, JSON.stringify({ ...run, mix, out, tables, stats, heapMaxMb: max((r) => r.heapMaxMb), rssMaxMb: max((r) => r.rssMaxMb), shards: results, findings }, null, 2) + '\n');
  process.exitCode = findings.length > 0 ? 1 : 0;
}
