// Core throughput: time and heap allocation per mid-stream group voice packet, through
// Core.handle only (no sockets). One talker, F listeners on the same talkgroup; with --dial, every
// second listener hears it through a dial-a-TG link instead (DIAL=91: TG 9 on TS2, so each packet
// is also copied for them with its destination and link control rewritten). With --links N, the
// talkgroup also goes out on N OpenBridge links (a signed 73-byte frame per link and packet); with
// --fbp as well, they are FBP links (a DMRE v5 of 89 bytes with its keyed BLAKE2b per link and packet).
//
// Allocation is measured as heap growth over a window with no garbage collection in it: run with a
// young generation large enough for the window (--max-semi-space-size) and check that no GC ran.
//   node --max-semi-space-size=256 --expose-gc dist/bench/core.js [--fanout 10] [--packets 2000000]

import { createHash } from 'node:crypto';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createCore, DEFAULT_CORE_CONFIG, type ActionSink, type DatagramEvent, type Target } from '../src/core/index.js';
import { encodeDmrd, encodeRptc, encodeRptk, encodeRptl, encodeRpto, readU32 } from '../src/protocol/index.js';

const sha256 = (d: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(d).digest());

export interface CoreBenchResult extends WindowResult {
  fanout: number;
  dial: boolean;
  links: number;
  /** The links are FBP links (else OpenBridge v1). */
  fbp: boolean;
}

export function runCoreBench(fanout: number, packets: number, dial = false, links = 0, fbp = false): CoreBenchResult {
  const core = createCore({ sha256 });
  let sends = 0;
  let lastSalt = 0;
  const sink: ActionSink = {
    send(socket, _a, _p, bytes) {
      if (socket !== 0) sends++;
      else if (bytes.length === 10 && bytes[3] === 0x41) lastSalt = readU32(bytes, 6);
    },
    fanOut(_frame: Uint8Array, _t: readonly Target[], count: number) {
      sends += count;
    },
    log() {},
  };
  const cfg = structuredClone(DEFAULT_CORE_CONFIG);
  // The bench sends far faster than real time on one clock tick; lift the per-stream limits.
  cfg.limits.maxPacketRate = 1_000_000_000;
  cfg.timers.maxStreamMs = 1_000_000_000;
  if (links > 0) {
    cfg.serverId = 9991;
    cfg.links = Array.from({ length: links }, (_, i) => ({
      name: `link${i}`,
      socket: i + 1,
      address: '127.0.0.1',
      port: 62100 + i,
      passphrase: 'passw0rd',
      networkId: 0,
      preserveSourcePeer: false,
      checkSource: true,
      talkgroups: [],
      protocol: fbp ? ('fbp' as const) : ('openbridge' as const),
    }));
  }
  core.handle({ kind: 'started', now: 0, seed: 1, config: cfg }, sink);
  const ev = (port: number, bytes: Uint8Array, now = 1): DatagramEvent => ({ kind: 'datagram-received', now, socket: 0, address: '127.0.0.1', port, bytes });
  for (let i = 0; i <= fanout; i++) {
    const id = 310000000 + i;
    const port = 40000 + i;
    core.handle(ev(port, encodeRptl(id)), sink);
    const salt = Buffer.alloc(4 + 8);
    salt.writeUInt32BE(lastSalt, 0);
    salt.write('passw0rd', 4);
    core.handle(ev(port, encodeRptk(id, sha256(salt))), sink);
    core.handle(ev(port, encodeRptc({ peerId: id, callsign: 'BENCH' })), sink);
    core.handle(ev(port, encodeRpto(id, dial && i % 2 === 0 && i > 0 ? 'DIAL=91;' : 'TS2=91;')), sink);
  }
  const talker = 310000000;
  const frame = encodeDmrd({ seq: 0, src: 3100001, dst: 91, peerId: talker, slot: 2, frame: 0x21, streamId: 0xc0ffee });
  const e = ev(40000, frame);
  core.handle(e, sink); // the voice header starts the stream
  let seq = 0;
  const run = (n: number, t0: number): void => {
    for (let k = 1; k <= n; k++) {
      const i = ++seq;
      // Mid-stream voice bursts A..F; the core rewrites the frame in place, so restore its fields.
      frame[4] = i & 0xff;
      frame[11] = talker >>> 24;
      frame[12] = (talker >>> 16) & 0xff;
      frame[13] = (talker >>> 8) & 0xff;
      frame[14] = talker & 0xff;
      frame[15] = 0x80 | (i % 6 === 0 ? 0x10 : i % 6);
      e.now = t0 + (k >> 4);
      core.handle(e, sink);
    }
  };
  run(50_000, 1); // warm up the JIT
  const w = measureWindow(packets, () => {
    sends = 0;
    run(packets, 100_000);
    return sends;
  });
  return { fanout, dial, links, fbp, ...w };
}

/** What a measured window gives, per packet. */
export interface WindowResult {
  packets: number;
  nsPerPacket: number;
  /** CPU time (user + system, whole process) over the window ÷ packets: unlike nsPerPacket it
   *  leaves out the time the process waited for a core, so it is steadier on a busy machine. */
  cpuNsPerPacket: number;
  bytesAllocatedPerPacket: number;
  /** Fill in with gcsBetween(windowStart, windowEnd) after yielding to the event loop. */
  gcsDuringWindow: number;
  windowStart: number;
  windowEnd: number;
  sendsPerPacket: number;
}

/**
 * Time `packets` packets through `body` (which returns the sends it made) after a forced GC: wall
 * and CPU time, and heap growth over the window (an allocation shows unless a GC ran in it).
 */
export function measureWindow(packets: number, body: () => number): WindowResult {
  (globalThis as { gc?: () => void }).gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const sends = body();
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const heap1 = process.memoryUsage().heapUsed;
  return {
    packets,
    nsPerPacket: ((t1 - t0) * 1e6) / packets,
    cpuNsPerPacket: ((cpu.user + cpu.system) * 1e3) / packets,
    bytesAllocatedPerPacket: Math.max(0, heap1 - heap0) / packets,
    gcsDuringWindow: -1,
    windowStart: t0,
    windowEnd: t1,
    sendsPerPacket: sends / packets,
  };
}

/** Start times of every garbage collection (the observer reports them asynchronously). */
const gcStarts: number[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcStarts.push(e.startTime);
}).observe({ entryTypes: ['gc'] });
/** Collections that started inside [t0, t1]; ask after yielding to the event loop. */
export const gcsBetween = (t0: number, t1: number): number => gcStarts.filter((t) => t >= t0 && t <= t1).length;

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { fanout: { type: 'string' }, packets: { type: 'string' }, dial: { type: 'boolean' }, links: { type: 'string' }, fbp: { type: 'boolean' } } });
  const r = runCoreBench(Number(values.fanout ?? 10), Number(values.packets ?? 2_000_000), values.dial === true, Number(values.links ?? 0), values.fbp === true);
  // The GC observer reports asynchronously; let it catch up before printing.
  setTimeout(() => console.log(JSON.stringify({ ...r, gcsDuringWindow: gcsBetween(r.windowStart, r.windowEnd) })), 50);
}
