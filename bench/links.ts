// OpenBridge link cost: the same traffic with no link and with every call also sent on links.
//  - core: time and heap bytes per mid-stream packet through Core.handle, fan-out 10, with 0, 1
//    and 2 links (each packet signed with HMAC-SHA1 once per link);
//  - paced: 200 peers / 50 streams at the DMR rate over loopback UDP, without a link and with one
//    link to a UDP socket of this process that counts and checks what arrives (every talker packet
//    should arrive once, 73 bytes, with a valid MAC): forwarded datagrams/s, loss, p99, server CPU.
// Runs alternate, so each ratio is measured in one run. Medians over --runs.
//
//   npm run build && node dist/bench/links.js [--runs 3] [--seconds 20]
// Prints a table and writes bench/results/links-<time>.json.

import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './lib/stats.js';
import { bindSocket, closeSocket, udpSocket } from './lib/udp.js';
import { runCoreChild, runPaced, serverSettings, type CoreRun, type PacedRun, type Plan } from './run-all.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const say = (s: string): void => console.error(`[links] ${s}`);
const KEY = Buffer.alloc(20);
KEY.write('passw0rd');

/** The far end of a link: counts frames, checks every MAC. */
async function farEnd(): Promise<{ port: number; frames: () => number; bad: () => number; close: () => Promise<void> }> {
  const sock = udpSocket();
  let frames = 0;
  let bad = 0;
  sock.on('message', (m) => {
    frames++;
    const mac = createHmac('sha1', KEY).update(m.subarray(0, 53)).digest();
    if (m.length !== 73 || !mac.equals(m.subarray(53)) || (m[15]! & 0x80) !== 0) bad++;
  });
  await bindSocket(sock, 0, '127.0.0.1');
  return { port: sock.address().port, frames: () => frames, bad: () => bad, close: () => closeSocket(sock) };
}

async function freePort(): Promise<number> {
  const s = udpSocket();
  await bindSocket(s, 0, '127.0.0.1');
  const port = s.address().port;
  await closeSocket(s);
  return port;
}

interface LinkedRun extends PacedRun {
  linkFrames: number;
  linkBad: number;
  linkLoss: number;
}

async function pacedWithLink(plan: Plan): Promise<LinkedRun> {
  const far = await farEnd();
  const port = await freePort();
  serverSettings.extraConfig = [
    '[server]',
    'id = 9991',
    '',
    '[[links]]',
    'name = "bench"',
    `port = ${port}`,
    'target_address = "127.0.0.1"',
    `target_port = ${far.port}`,
    'passphrase = "passw0rd"',
  ].join('\n');
  try {
    const r = await runPaced(plan);
    await new Promise((res) => setTimeout(res, 200));
    const frames = far.frames();
    return { ...r, linkFrames: frames, linkBad: far.bad(), linkLoss: r.sent > 0 ? Math.max(0, 1 - frames / r.sent) : 0 };
  } finally {
    serverSettings.extraConfig = '';
    await far.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, seconds: { type: 'string' } } });
  const runs = Number(values.runs ?? 3);
  serverSettings.sql = false;
  const plan = { pacedSeconds: Number(values.seconds ?? 20), pacedPeers: 200, pacedStreams: 50, pacedListeners: 3, pacedCallSeconds: 10 } as Plan;
  const core: CoreRun[][] = [[], [], []];
  for (let i = 0; i < runs; i++) {
    for (const n of [0, 1, 2]) core[n]!.push(await runCoreChild(10, 2_000_000, false, n));
    say(`core ${i + 1}/${runs}: ${core.map((c) => `${c.at(-1)!.nsPerPacket} ns`).join(' / ')} (0 / 1 / 2 links)`);
  }
  const plain: PacedRun[] = [];
  const linked: LinkedRun[] = [];
  for (let i = 0; i < runs; i++) {
    plain.push(await runPaced(plan));
    linked.push(await pacedWithLink(plan));
    const [a, b] = [plain.at(-1)!, linked.at(-1)!];
    say(`paced ${i + 1}/${runs}: no link p99 ${a.latencyMs.p99} ms CPU ${a.serverCpuPct}%; link p99 ${b.latencyMs.p99} ms CPU ${b.serverCpuPct}%, ${b.linkFrames}/${b.sent} on the link, ${b.linkBad} bad`);
  }
  const med = (xs: number[]): number => Math.round(median(xs) * 1000) / 1000;
  const ns = core.map((c) => med(c.map((r) => r.nsPerPacket)));
  const table = [
    `| measurement (median of ${runs}) | no link | 1 link | 2 links |`,
    '|---|---:|---:|---:|',
    `| core: time per packet, fan-out 10 | ${ns[0]} ns | ${ns[1]} ns | ${ns[2]} ns |`,
    `| core: heap bytes allocated per packet (max GCs in window) | ${core.map((c) => `${med(c.map((r) => r.bytesAllocatedPerPacket))} B (${Math.max(...c.map((r) => r.gcsDuringWindow))})`).join(' | ')} |`,
    `| paced 200 peers / 50 streams: forwarded to peers/s, loss | ${med(plain.map((r) => r.forwardedPerSec))}, ${med(plain.map((r) => r.loss))} | ${med(linked.map((r) => r.forwardedPerSec))}, ${med(linked.map((r) => r.loss))} | |`,
    `| paced: latency p99 to peers | ${med(plain.map((r) => r.latencyMs.p99))} ms | ${med(linked.map((r) => r.latencyMs.p99))} ms | |`,
    `| paced: server CPU | ${med(plain.map((r) => r.serverCpuPct ?? 0))} % | ${med(linked.map((r) => r.serverCpuPct ?? 0))} % | |`,
    `| paced: talker packets on the link (bad MAC, length or slot) | | ${med(linked.map((r) => r.linkFrames))} of ${med(linked.map((r) => r.sent))} (${Math.max(...linked.map((r) => r.linkBad))}) | |`,
  ].join('\n');
  console.log(table);
  const dir = join(REPO, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `links-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ runs, plan, core, plain, linked }, null, 2) + '\n');
  say(`wrote ${file}`);
}

await main();
