// A dashboard's load on the console, in a process of its own (bench/reporting.ts starts it): the
// event stream open, and the API read on the schedule console/assets/app.js keeps (calls every
// second, the server every 2 s, peers, talkgroups and links every 5 s, lastheard every 10 s), plus
// a Prometheus scrape of /metrics every 15 s. In the load generator's process it would compete
// with the generator's own event loop, and the latency measured would be partly the client's.
// Usage: node dist/bench/console-client.js <base URL> [--chromium [--warm MS] | --burn PCT] [--nice|--idle] [--cpu N]; it answers a
// "stop" message (IPC) with { events, polls, browserCpuPct } and exits. With --chromium the load is
// the dashboard itself, open in Debian's headless Chromium (through playwright-core): the same
// requests, plus the browser's own rendering on this machine's cores (events: what the page's event
// stream received; browserCpuPct: the CPU the browser's processes used, in % of one core).

import { execFileSync } from 'node:child_process';
import { setPriority } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { descendants, sampleProcess, treeCpuMs } from './lib/procfs.js';

/** CPU time (ms) of this process's descendants by Chromium process type (--type=…; "browser" without). */
function cpuByType(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of descendants(pid)) {
    let type = 'other';
    try {
      const cmd = readFileSync(`/proc/${c}/cmdline`, 'latin1');
      type = /--type=([a-z-]+)/.exec(cmd)?.[1] ?? (cmd.includes('chrom') ? 'browser' : 'other');
    } catch {
      continue;
    }
    out.set(type, (out.get(type) ?? 0) + (sampleProcess(c)?.cpuMs ?? 0));
  }
  return out;
}

function sum(m: Map<string, number>): number {
  let total = 0;
  for (const v of m.values()) total += v;
  return total;
}

const base = process.argv[2]!;
// --cpu N: this process and everything it starts (the browser) on that CPU only.
const cpuAt = process.argv.indexOf('--cpu');
if (cpuAt > 0) execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', process.argv[cpuAt + 1]!, String(process.pid)], { stdio: 'ignore' });
/** The event names the stream sends (the dashboard listens to the same, console/assets/app.js). */
const STREAM_EVENTS = [
  'server.started', 'server.stopped', 'peer.login', 'peer.options', 'peer.keepalive-lost', 'peer.logout',
  'subscription.added', 'subscription.removed', 'subscription.expired', 'call.start', 'call.end',
  'link.up', 'link.down', 'link.changed', 'reporting.health', 'message',
];

// A client on another machine, approximated: its requests reach the server, its own work (the
// browser's rendering, or this process's parsing) yields the cores. --nice: nice 19, which still
// takes a small share of a busy core; --idle: SCHED_IDLE, which runs only on a core nothing else
// wants. This process's children (the browser) inherit both.
if (process.argv.includes('--nice')) setPriority(19);
if (process.argv.includes('--idle')) {
  execFileSync('chrt', ['--all-tasks', '--idle', '--pid', '0', String(process.pid)]);
  idleGroup();
}

/**
 * A policy or a nice value ranks threads within their scheduling group only. With autogroups on
 * (kernel.sched_autogroup_enabled, the default on Debian), every session is a group of its own, and
 * Playwright starts the browser in a new session: the browser's group then competes with the
 * server's as an equal, whatever its threads' policy (a scheduler trace showed SCHED_IDLE browser
 * threads holding the server's main thread off a core for up to 4.7 ms). In a cgroup whose cpu.idle
 * is set, joined before the browser starts, this process and all it starts are idle at the top
 * level too: any other thread that wakes takes the core at once.
 */
function idleGroup(): void {
  for (const dir of ['/sys/fs/cgroup/cpu/dmrhub-bench-idle', '/sys/fs/cgroup/dmrhub-bench-idle']) {
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'cpu.idle'), '1');
      writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
      return;
    } catch {
      // Not this hierarchy (cgroup v1 or v2), or not permitted: try the next.
    }
  }
  process.stderr.write('[console-client] no idle cgroup could be joined: with autogroups on, the browser competes with the server as an equal\n');
}

const burnAt = process.argv.indexOf('--burn');
if (burnAt > 0) {
  burner(Number(process.argv[burnAt + 1]));
} else if (process.argv[3] === '--chromium') {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // --warm MS: the browser first idles that long on a blank page. A freshly started Chromium
  // does work of its own about 30 s after launch (10-15 % of a core for two seconds, with
  // about:blank as with the dashboard); an operator's browser is long past it.
  const warmAt = process.argv.indexOf('--warm');
  if (warmAt > 0) await new Promise((resolve) => setTimeout(resolve, Number(process.argv[warmAt + 1])));
  let reads = 0;
  page.on('requestfinished', (r) => void (r.url().includes('/api/v1/') && !r.url().endsWith('/events') && reads++));
  // Count the stream's events in the page, beside the dashboard's own listeners (page script:
  // a string, as this file is compiled without the DOM's types).
  await page.addInitScript(`
    window.__events = 0;
    const Original = window.EventSource;
    window.EventSource = class extends Original {
      constructor(url, init) {
        super(url, init);
        const count = (e) => { if (e.lastEventId !== '') window.__events++; };
        for (const name of ${JSON.stringify(STREAM_EVENTS)}) this.addEventListener(name, count);
      }
    };
  `);
  await page.goto(`${base}/`);
  await page.locator('#live[data-state="live"]').waitFor({ timeout: 15_000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async (): Promise<Map<string, number>> =>
    new Map(((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.map((m) => [m.name, m.value]));
  const m0 = await metrics();
  const byType0 = cpuByType(process.pid);
  const cpu0 = sum(byType0);
  const t0 = performance.now();
  const timeline: number[] = [];
  let lastCpu = cpu0;
  // The browser's CPU second by second (% of one core): a login burst shows apart from the steady state.
  const sampler = setInterval(() => {
    const c = treeCpuMs(process.pid);
    timeline.push(Math.round((c - lastCpu) / 10));
    lastCpu = c;
  }, 1000);
  process.send?.({ ready: true });
  process.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    void (async () => {
      const events = (await page.evaluate('window.__events')) as number;
      const wall = performance.now() - t0;
      const byType1 = cpuByType(process.pid);
      const browserCpuPct = Math.round(((sum(byType1) - cpu0) / wall) * 1000) / 10;
      // Where it went: each kind of Chromium process, and the page's main thread by activity.
      const m1 = await metrics();
      const share = (ms: number): string => `${Math.round((ms / wall) * 1000) / 10}%`;
      const page1 = ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration'].map((k) => `${k.replace('Duration', '')} ${share(((m1.get(k) ?? 0) - (m0.get(k) ?? 0)) * 1000)}`);
      const types = [...byType1].map(([t, ms]) => `${t} ${share(ms - (byType0.get(t) ?? 0))}`);
      clearInterval(sampler);
      process.stderr.write(`[console-client] browser ${browserCpuPct}%: ${types.join(', ')}; page main thread: ${page1.join(', ')}\n[console-client] % each second: ${timeline.join(' ')}\n`);
      await browser.close();
      process.send?.({ events, polls: reads, browserCpuPct }, () => process.exit(0));
    })();
  });
} else {
  await plainClient();
}

/**
 * --burn PCT: no console, no requests: PCT % of one core of plain work, a slice of every 50 ms, each
 * slice walking a 16 MB buffer a cache line at a time (a browser's rendering both takes a core and
 * fills the caches). With --idle, it stands for the browser's own CPU, as bench/reporting.ts --burn
 * uses it: does any such load beside the server move its p99, console or none?
 */
function burner(pct: number): void {
  const buf = new Float64Array(2 * 1024 * 1024);
  const sliceMs = (50 * pct) / 100;
  let at = 0;
  let busyMs = 0;
  const t0 = performance.now();
  const timer = setInterval(() => {
    const start = performance.now();
    while (performance.now() - start < sliceMs) {
      for (let i = 0; i < 4096; i++) {
        buf[at] = buf[at]! + 1;
        at = (at + 8) % buf.length;
      }
    }
    busyMs += performance.now() - start;
  }, 50);
  process.send?.({ ready: true });
  process.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    clearInterval(timer);
    const browserCpuPct = Math.round((busyMs / (performance.now() - t0)) * 1000) / 10;
    process.send?.({ events: 0, polls: 0, browserCpuPct }, () => process.exit(0));
  });
}

/** The dashboard's requests without a browser. */
async function plainClient(): Promise<void> {
  /** Path and period (ms) of each read; the dashboard's own periods. */
  const SCHEDULE: [string, number][] = [
    ['/api/v1/calls', 1000],
    ['/api/v1/server', 2000],
    ['/api/v1/peers', 5000],
    ['/api/v1/talkgroups', 5000],
    ['/api/v1/links', 5000],
    ['/api/v1/lastheard', 10_000],
    ['/metrics', 15_000],
  ];
  let events = 0;
  let polls = 0;
  const abort = new AbortController();
  const res = await fetch(`${base}/api/v1/events`, { signal: abort.signal });
  const reading = (async () => {
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        events += (dec.decode(value, { stream: true }).match(/^id: /gm) ?? []).length;
      }
    } catch {
      /* aborted */
    }
  })();
  const read = (path: string): void => {
    void fetch(base + path)
      .then((r) => r.text())
      .then(
        () => polls++,
        () => {},
      );
  };
  // Like the dashboard, everything once at the start, then each on its own period.
  const timers = SCHEDULE.map(([path, every]) => {
    read(path);
    return setInterval(() => read(path), every);
  });
  process.send?.({ ready: true });
  process.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    for (const t of timers) clearInterval(t);
    abort.abort();
    void reading.then(() => {
      process.send?.({ events, polls }, () => process.exit(0));
    });
  });
}
