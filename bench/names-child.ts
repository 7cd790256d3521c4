// One measurement of the names store, in a process of its own (run by bench/names.ts and the
// names end-to-end test, with the server's V8 flags and --expose-gc):
//
//   node <flags> --expose-gc dist/bench/names-child.js FILE... [--talkgroups FILE] [--inline] [--reloads N]
//
// Prints one JSON line: resident set before and after loading (after a full GC each time, with
// the store still referenced), the load time, the entry counts and the tables' own bytes; with
// --reloads, the resident set again after loading N more times, each store replacing the last;
// and this thread's event-loop delay (p99, max) during the first load and idle for as long after.
// --inline parses in this thread instead of a short-lived child process; --thread starts that
// process from a short-lived worker thread, as the server does.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadNames } from '../src/names/index.js';
import { loadNamesOffThread } from '../src/names/thread.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { talkgroups: { type: 'string' }, inline: { type: 'boolean' }, thread: { type: 'boolean' }, reloads: { type: 'string' } } });
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const settle = async (): Promise<number> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage().rss;
};

// The measuring thread's event-loop delay during the load (what routing would feel on the main
// thread), against the same thread idle for as long just after; made before the baseline, so its
// histogram is not counted as added memory.
const lag = monitorEventLoopDelay({ resolution: 1 });

// The loader's code is loaded before the baseline: what is measured is what the data adds.
const before = await settle();
lag.enable();
const t0 = performance.now();
const files = { subscribers: positionals, ...(values.talkgroups ? { talkgroups: [values.talkgroups] } : {}) };
const load = () => (values.thread ? loadNamesOffThread(files) : loadNames(files, { isolated: values.inline !== true }));
let current = await load();
const loadMs = performance.now() - t0;
lag.disable();
const loadLag = { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 };
lag.reset();
lag.enable();
await new Promise((r) => setTimeout(r, loadMs));
lag.disable();
const idleLag = { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 };
const after = await settle();
// A reload: a second store is built while the first is in use, then replaces it.
for (let i = 0; i < Number(values.reloads ?? 0); i++) current = await load();
const afterReloads = await settle();
process.stdout.write(
  JSON.stringify({
    rssBefore: before,
    rssAfter: after,
    addedRss: after - before,
    loadMs: Math.round(loadMs),
    loopDelayMs: { load: loadLag, idle: idleLag },
    addedRssAfterReloads: afterReloads - before,
    subscribers: current.subscriberCount,
    talkgroups: current.talkgroupCount,
    tableBytes: current.byteLength(),
    heapUsed: process.memoryUsage().heapUsed,
  }) + '\n',
);
