// One shard of a fuzz run: a fresh world driven by its own generator (seed and shard number), with
// the bystanders compared every `checkEvery` datagrams and the tables and heap sampled every
// `sampleEvery`. Shards are independent, so a run splits across worker threads in any way and a
// shard replays on its own (`--shard`).

import { BYSTANDERS, captures, FUZZ_PEERS, voiceFrames } from './setup.js';
import { bystanderStates, TableProbe, tableBounds, type Tables } from './probe.js';
import { Rng } from './rng.js';
import { FuzzWorld, WorldBroken, type Finding, type WorldOptions } from './world.js';

export interface ShardOptions extends WorldOptions {
  seed: number;
  shard: number;
  count: number;
  checkEvery: number;
  sampleEvery: number;
}

export interface ShardResult {
  shard: number;
  count: number;
  ms: number;
  findings: Finding[];
  /** Largest size of each table, and the bounds it was held to. */
  tableMax: Tables;
  /** Heap after a full GC (where --expose-gc allows one) and RSS, MB, largest sample. */
  heapMaxMb: number;
  rssMaxMb: number;
  mix: Record<string, number>;
  out: FuzzWorld['out'];
  /** Worlds rebuilt after an exception escaped. */
  rebuilds: number;
  /** The core's counters (Core.stats), summed over the shard's worlds: what the datagrams reached. */
  stats: Record<string, number>;
}

const MAX_FINDINGS = 20;
const ids = BYSTANDERS.map((b) => b.id);
const gc = (globalThis as { gc?: () => void }).gc;
let material: { voices: ReturnType<typeof voiceFrames>; caps: ReturnType<typeof captures> } | null = null;

/** Max over samples[from, to) of each key. */
function maxOver(samples: Tables[], from: number, to: number): Tables {
  const out: Tables = {};
  for (let i = Math.max(0, from); i < Math.min(samples.length, to); i++) for (const [k, v] of Object.entries(samples[i]!)) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}

/**
 * Tables (and the heap) that keep growing: the largest value in the last quarter of the shard
 * against the largest in its second quarter. A bounded table levels off early; one that grows
 * with the number of datagrams doubles between the two. Tables with a hard bound are held to it
 * instead.
 */
export function growth(samples: Tables[], index: number, bounded: Tables = {}): Finding[] {
  if (samples.length < 8) return [];
  const n = samples.length;
  const mid = maxOver(samples, Math.floor(n / 4), Math.floor(n / 2));
  const end = maxOver(samples, Math.floor((3 * n) / 4), n);
  const out: Finding[] = [];
  for (const [k, v] of Object.entries(end)) {
    // A table with a hard bound (checked at every sample) may fill up to it and start again.
    if (bounded[k] !== undefined) continue;
    const m = mid[k] ?? 0;
    const slack = k === 'heapMb' ? 4 : 64;
    if (v > m * 1.5 + slack) out.push({ kind: 'table', index, detail: `${k} keeps growing: at most ${m} in the second quarter of the shard, ${v} in the last` });
  }
  return out;
}

export function runShard(o: ShardOptions, progress: (done: number) => void): ShardResult {
  material ??= { voices: voiceFrames(), caps: captures() };
  const t0 = performance.now();
  const rng = new Rng(o.seed, o.shard);
  const bounds = tableBounds(BYSTANDERS.length + FUZZ_PEERS);
  const findings: Finding[] = [];
  const samples: Tables[] = [];
  const tableMax: Tables = {};
  let heapMaxMb = 0;
  let rssMaxMb = 0;
  let rebuilds = 0;
  const mix: Record<string, number> = {};
  const out = { sends: 0, fanOuts: 0, targets: 0, logs: 0, reports: 0, mutated: 0, ticks: 0, pings: 0 };
  const stats: Record<string, number> = {};
  /** Take the world's findings; at its end also its counts and the core's counters. */
  const fold = (w: FuzzWorld, end = false): void => {
    for (const f of w.findings) if (findings.length < MAX_FINDINGS) findings.push(f);
    w.findings.length = 0;
    if (!end) return;
    for (const [k, v] of w.core.stats()) stats[k] = (stats[k] ?? 0) + v;
    for (const [k, v] of Object.entries(w.mixCount)) mix[k] = (mix[k] ?? 0) + v;
    for (const k of Object.keys(out) as (keyof typeof out)[]) out[k] += w.out[k];
  };

  let w = new FuzzWorld(rng, material.voices, material.caps, o);
  let probe = new TableProbe(w.core);
  let before = bystanderStates(w.core, ids);
  for (let i = 0; i < o.count; i++) {
    try {
      w.step(i);
    } catch (e) {
      if (!(e instanceof WorldBroken)) throw e;
      fold(w, true);
      rebuilds++;
      w = new FuzzWorld(rng, material.voices, material.caps, o);
      probe = new TableProbe(w.core);
      before = bystanderStates(w.core, ids);
      continue;
    }
    if ((i + 1) % o.checkEvery === 0) {
      const after = bystanderStates(w.core, ids);
      after.forEach((a, k) => {
        const b = before[k]!;
        if (a.session !== b.session || a.text !== b.text) {
          w.findings.push({
            kind: 'bystander',
            index: i,
            detail: `bystander ${ids[k]} changed in datagrams ${i + 1 - o.checkEvery}..${i} (replay with --shard ${o.shard} --check-every 1): ${a.session !== b.session ? 'another session object; ' : ''}before ${b.text.slice(0, 400)} after ${a.text.slice(0, 400)}`,
          });
        }
      });
      before = after;
    }
    if ((i + 1) % o.sampleEvery === 0 || i + 1 === o.count) {
      gc?.();
      const mem = process.memoryUsage();
      const t = probe.sizes();
      t['heapMb'] = Math.round(mem.heapUsed / 1048576);
      heapMaxMb = Math.max(heapMaxMb, mem.heapUsed / 1048576);
      rssMaxMb = Math.max(rssMaxMb, mem.rss / 1048576);
      samples.push(t);
      for (const [k, v] of Object.entries(t)) {
        tableMax[k] = Math.max(tableMax[k] ?? 0, v);
        const bound = bounds[k];
        if (bound !== undefined && v > bound) w.findings.push({ kind: 'table', index: i, detail: `${k} holds ${v}, above its bound ${bound}` });
      }
      progress(i + 1);
    }
    if (w.findings.length > 0) fold(w);
  }
  fold(w, true);
  for (const f of growth(samples, o.count - 1, bounds)) if (findings.length < MAX_FINDINGS) findings.push(f);
  return { shard: o.shard, count: o.count, ms: performance.now() - t0, findings, tableMax, heapMaxMb, rssMaxMb, mix, out, rebuilds, stats };
}
