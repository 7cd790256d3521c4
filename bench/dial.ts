// Dial-a-TG cost: the same traffic with every listener on a static talkgroup ("plain") and with
// half of the listeners hearing it through a dial-a-TG link (DIAL=<tg>: TG 9 on TS2), where every
// forwarded frame is also copied with its destination and link control rewritten (full LC of the
// voice header and terminator, embedded LC of bursts B–E).
//  - core: time and heap bytes per mid-stream packet through Core.handle, fan-out 10 (5 on dial);
//  - paced: 200 peers / 50 streams at the DMR rate over loopback UDP, 3 listeners per talkgroup
//    (listeners alternate static / dial): forwarded datagrams/s, loss, p99, server CPU;
//  - flat: the same peers and streams as fast as the generator can send: forwarded datagrams/s.
// Plain and dial runs alternate, so each ratio is measured in one run. Medians over --runs.
//
//   npm run build && node dist/bench/dial.js [--runs 3] [--seconds 20] [--flat-seconds 5]
// Prints a table and writes bench/results/dial-<time>.json.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad } from './loadgen.js';
import { median } from './lib/stats.js';
import { runCoreChild, runPaced, serverSettings, startDmrhub, type CoreRun, type PacedRun, type Plan } from './run-all.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const say = (s: string): void => console.error(`[dial] ${s}`);

/** Talkers are peers 0..49; listeners after them alternate static (even) and dial (odd). */
const dialTemplate = (streams: number) => (index: number): string => (index >= streams && (index - streams) % 2 === 1 ? 'DIAL={tg};' : 'TS{slot}={tg};');

async function flat(streams: number, peers: number, seconds: number, template?: (i: number) => string): Promise<{ forwardedPerSec: number; loss: number; cpuPct: number | null }> {
  const srv = await startDmrhub('lifted');
  try {
    const r = await runLoad({ port: srv.port, peers, streams, listenersPerTg: 3, mode: 'flat', seconds, serverPid: srv.pid, ...(template ? { optionsTemplate: template } : {}) });
    return { forwardedPerSec: Math.round(r.delivery.received / ((r.traffic.ms || 1) / 1000)), loss: r.delivery.loss, cpuPct: r.server?.cpuPct ?? null };
  } finally {
    await srv.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' }, 'flat-seconds': { type: 'string' } } });
  const runs = Number(values.runs ?? 3);
  serverSettings.sql = false; // routing only, as in the foundation benchmarks
  const plan = {
    pacedSeconds: Number(values.seconds ?? 20),
    pacedPeers: 200,
    pacedStreams: 50,
    pacedListeners: 3,
    pacedCallSeconds: 10,
  } as Plan;
  const flatSeconds = Number(values['flat-seconds'] ?? 5);
  const template = dialTemplate(plan.pacedStreams);
  const core: { plain: CoreRun[]; dial: CoreRun[] } = { plain: [], dial: [] };
  const paced: { plain: PacedRun[]; dial: PacedRun[] } = { plain: [], dial: [] };
  const flats: { plain: { forwardedPerSec: number; loss: number; cpuPct: number | null }[]; dial: { forwardedPerSec: number; loss: number; cpuPct: number | null }[] } = { plain: [], dial: [] };
  for (let i = 0; i < runs; i++) {
    core.plain.push(await runCoreChild(10, 2_000_000));
    core.dial.push(await runCoreChild(10, 2_000_000, true));
    say(`core ${i + 1}/${runs}: plain ${core.plain.at(-1)!.nsPerPacket} ns, dial ${core.dial.at(-1)!.nsPerPacket} ns (${core.dial.at(-1)!.bytesAllocatedPerPacket} B/packet)`);
  }
  for (let i = 0; i < runs; i++) {
    paced.plain.push(await runPaced(plan));
    paced.dial.push(await runPaced(plan, template));
    const [a, b] = [paced.plain.at(-1)!, paced.dial.at(-1)!];
    say(`paced ${i + 1}/${runs}: plain ${a.forwardedPerSec}/s p99 ${a.latencyMs.p99} ms CPU ${a.serverCpuPct}% loss ${a.loss}; dial ${b.forwardedPerSec}/s p99 ${b.latencyMs.p99} ms CPU ${b.serverCpuPct}% loss ${b.loss}`);
    flats.plain.push(await flat(plan.pacedStreams, plan.pacedPeers, flatSeconds));
    flats.dial.push(await flat(plan.pacedStreams, plan.pacedPeers, flatSeconds, template));
    say(`flat ${i + 1}/${runs}: plain ${flats.plain.at(-1)!.forwardedPerSec}/s, dial ${flats.dial.at(-1)!.forwardedPerSec}/s`);
  }
  const med = (xs: number[]): number => Math.round(median(xs) * 1000) / 1000;
  const ratio = (a: number, b: number): string => `${Math.round((b / a) * 1000) / 1000}`;
  const c0 = med(core.plain.map((r) => r.nsPerPacket));
  const c1 = med(core.dial.map((r) => r.nsPerPacket));
  const f0 = med(flats.plain.map((r) => r.forwardedPerSec));
  const f1 = med(flats.dial.map((r) => r.forwardedPerSec));
  const table = [
    `| measurement (median of ${runs}) | plain (static TGs) | half on dial-a-TG | dial ÷ plain |`,
    '|---|---:|---:|---:|',
    `| core: time per packet, fan-out 10 | ${c0} ns | ${c1} ns | ${ratio(c0, c1)} |`,
    `| core: heap bytes allocated per packet | ${med(core.plain.map((r) => r.bytesAllocatedPerPacket))} B | ${med(core.dial.map((r) => r.bytesAllocatedPerPacket))} B | |`,
    `| core: GCs in the measured window (max) | ${Math.max(...core.plain.map((r) => r.gcsDuringWindow))} | ${Math.max(...core.dial.map((r) => r.gcsDuringWindow))} | |`,
    `| paced 200 peers / 50 streams: forwarded datagrams/s | ${med(paced.plain.map((r) => r.forwardedPerSec))} | ${med(paced.dial.map((r) => r.forwardedPerSec))} | |`,
    `| paced: loss | ${med(paced.plain.map((r) => r.loss * 100))} % | ${med(paced.dial.map((r) => r.loss * 100))} % | |`,
    `| paced: latency p99 | ${med(paced.plain.map((r) => r.latencyMs.p99))} ms | ${med(paced.dial.map((r) => r.latencyMs.p99))} ms | |`,
    `| paced: server CPU | ${med(paced.plain.map((r) => r.serverCpuPct ?? NaN))} % | ${med(paced.dial.map((r) => r.serverCpuPct ?? NaN))} % | |`,
    `| flat 200 peers / 50 streams: forwarded datagrams/s | ${f0} | ${f1} | ${ratio(f0, f1)} |`,
  ].join('\n');
  process.stdout.write(table + '\n');
  mkdirSync(join(REPO, 'bench', 'results'), { recursive: true });
  const file = join(REPO, 'bench', 'results', `dial-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const strip = (r: PacedRun): Omit<PacedRun, 'raw'> => {
    const { raw: _raw, ...rest } = r;
    return rest;
  };
  writeFileSync(file, JSON.stringify({ runs, core, paced: { plain: paced.plain.map(strip), dial: paced.dial.map(strip) }, flat: flats, table }, null, 2) + '\n');
  say(`raw results: ${file}`);
}

void main();
