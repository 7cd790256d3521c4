// Forwarding saturation at a fixed fan-out: one talker and F listeners on one TG; the talker sends
// flat out (bounded window, see loadgen.ts) for a few seconds and the listeners count what the
// master forwards. Works against any HBP master: dmrhub or the bare forwarder.

import { parseArgs } from 'node:util';
import { runLoad, type LoadResult } from './loadgen.js';
import { isMain, num, str } from './lib/cli.js';
import { median } from './lib/stats.js';
import type { CpuUse } from './lib/procfs.js';

export interface SaturationOptions {
  host?: string;
  port: number;
  /** Listeners on the talker's TG. */
  fanout: number;
  /** Traffic seconds (default 5). */
  seconds?: number;
  /** Packets in flight from the talker (default 64). */
  window?: number;
  /** Busy-poll while the window is full (default false; see LoadOptions.spin). */
  spin?: boolean;
  /** TG used (default 33000). */
  tg?: number;
  passphrase?: string;
  /** Peer IDs start here (default 320000000). */
  idBase?: number;
  /**
   * Listeners read in JS (default 1); the others are kernel-counted sinks, so the generator does
   * not become the bottleneck. Set it to the fan-out to read every listener.
   */
  measured?: number;
  /** Sample the master's CPU and RSS. */
  serverPid?: number;
  log?: (line: string) => void;
}

export interface SaturationResult {
  fanout: number;
  seconds: number;
  /** Talker datagrams per second. */
  sentPerSec: number;
  /** Datagrams that reached the listeners' sockets per second of sending (read in JS or counted at sinks). */
  forwardedPerSec: number;
  /** Median of the per-second counts over the whole seconds of the run. */
  forwardedPerSecMedian: number;
  /** forwardedPerSec plus unintended kernel drops at the measured listeners: what the master sent. */
  masterSendsPerSec: number;
  /** Listeners read in JS / counted at sinks. */
  measured: number;
  sinks: number;
  /** 1 − unique deliveries / (sent × fanout). */
  loss: number;
  kernelDrops: { listeners: number | null; master: number | null };
  latencyMs: { p50: number; p99: number; p999: number; max: number };
  stalls: number;
  generatorCpuPct: number;
  server: CpuUse | null;
  /** The full load-generator result, for anything not summarised here. */
  raw: LoadResult;
}

export async function runSaturation(o: SaturationOptions): Promise<SaturationResult> {
  const seconds = o.seconds ?? 5;
  const F = o.fanout;
  if (!Number.isInteger(F) || F < 1) throw new Error('fanout must be a positive integer');
  const r = await runLoad({
    host: o.host,
    port: o.port,
    peers: F + 1,
    streams: 1,
    listenersPerTg: F,
    measuredPerTg: o.measured ?? 1,
    mode: 'flat',
    seconds,
    window: o.window ?? 64,
    spin: o.spin ?? false,
    tgs: [o.tg ?? 33000],
    passphrase: o.passphrase,
    idBase: o.idBase ?? 320000000,
    serverPid: o.serverPid,
    pingIntervalMs: 10000,
    log: o.log,
  });
  const sendSec = r.traffic.ms / 1000 || 1;
  const whole = r.timeline.slice(0, Math.floor(seconds));
  const rxDrops = r.kernelDrops.peers ?? 0;
  // Everything read in JS (measured listeners, the sinks' leftovers) plus the sinks' kernel drops.
  const arrivals = r.delivery.received + r.delivery.sinkDropped;
  return {
    fanout: F,
    seconds,
    sentPerSec: r.traffic.sentPerSec,
    forwardedPerSec: Math.round(arrivals / sendSec),
    forwardedPerSecMedian: median(whole),
    masterSendsPerSec: Math.round((arrivals + rxDrops) / sendSec),
    measured: F - r.delivery.sinks,
    sinks: r.delivery.sinks,
    loss: r.delivery.loss,
    kernelDrops: { listeners: r.kernelDrops.peers, master: r.kernelDrops.server },
    latencyMs: { p50: r.latencyMs.p50, p99: r.latencyMs.p99, p999: r.latencyMs.p999, max: r.latencyMs.max },
    stalls: r.traffic.stalls,
    generatorCpuPct: r.generator.cpuPct,
    server: r.server,
    raw: r,
  };
}

const USAGE = `usage: node dist/bench/saturation.js --port 62031 [--fanout 10,100] [--seconds 5] [options]
  --host 127.0.0.1   --port N (required unless --spawn-bare)
  --fanout 10,100    one run per listed fan-out, in order
  --seconds 5        sending time per run
  --window 64        talker packets in flight
  --spin             busy-poll while the window is full (instead of parking)
  --measured 1       listeners read in JS (number or 'all'); the rest are kernel-counted sinks
  --tg 33000  --passphrase passw0rd  --id-base 320000000
  --server-pid PID   sample the master's CPU and RSS
  --spawn-bare       run the bare forwarder in a child process and measure it
  --bare-connected   … in its connected-socket mode
  --raw              include the full load-generator result per run
  --quiet
Prints a JSON array of SaturationResult on stdout.`;

async function cli(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      fanout: { type: 'string' },
      seconds: { type: 'string' },
      window: { type: 'string' },
      spin: { type: 'boolean' },
      measured: { type: 'string' },
      tg: { type: 'string' },
      passphrase: { type: 'string' },
      'id-base': { type: 'string' },
      'server-pid': { type: 'string' },
      'spawn-bare': { type: 'boolean' },
      'bare-connected': { type: 'boolean' },
      raw: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return;
  }
  let spawned: { port: number; pid: number; close(): Promise<unknown> } | null = null;
  if (v['spawn-bare']) {
    const { spawnBareForwarder } = await import('./bare-forwarder.js');
    spawned = await spawnBareForwarder({ connected: v['bare-connected'] ?? false });
  }
  const port = spawned ? spawned.port : num(v.port, 'port');
  if (port === undefined) throw new Error('--port is required (or --spawn-bare)');
  const log = v.quiet ? undefined : (line: string): void => void process.stderr.write(`[saturation] ${line}\n`);
  const fanouts = str(v.fanout, '10,100').split(',').map((f) => num(f.trim(), 'fanout', 0));
  const out: unknown[] = [];
  try {
    for (const fanout of fanouts) {
      const res = await runSaturation({
        host: str(v.host, '127.0.0.1'),
        port,
        fanout,
        seconds: num(v.seconds, 'seconds', 5),
        window: num(v.window, 'window'),
        spin: v.spin ?? false,
        measured: v.measured === 'all' ? fanout : num(v.measured, 'measured'),
        tg: num(v.tg, 'tg'),
        passphrase: v.passphrase,
        idBase: num(v['id-base'], 'id-base'),
        serverPid: spawned ? spawned.pid : num(v['server-pid'], 'server-pid'),
        log,
      });
      log?.(
        `fan-out ${fanout}: sent ${res.sentPerSec}/s, forwarded ${res.forwardedPerSec}/s ` +
          `(master sends ${res.masterSendsPerSec}/s), loss ${(res.loss * 100).toFixed(2)}%`,
      );
      if (v.raw) out.push(res);
      else {
        const { raw: _raw, ...rest } = res;
        out.push(rest);
      }
    }
  } finally {
    if (spawned) await spawned.close();
  }
  console.log(JSON.stringify(out, null, 2));
}

if (isMain(import.meta.url)) {
  cli().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
