// FBP MAC cost: time and heap growth per DMRE v5 frame for the keyed BLAKE2b-128 MAC
// (src/protocol/fbp/blake2b.ts): signing a frame (MAC of bytes [0, 73) written to [73, 89)) and
// verifying one in place. HMAC-SHA1 of a 53-byte OpenBridge v1 frame is timed in the same rounds
// as a yardstick, since on a shared machine absolute times drift from run to run.
//
// Allocation is heap growth over a window with no garbage collection in it: run with a young
// generation large enough for the window, and check that no GC ran (gcs = 0).
//   npm run build && node --max-semi-space-size=64 --expose-gc dist/bench/fbp-mac.js [--frames 1000000] [--rounds 5]
// Prints one JSON line per round and a last line with the medians.

import { PerformanceObserver, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { fbpKeys, signDmre, verifyDmre } from '../src/protocol/fbp/index.js';
import { encodeDmrd } from '../src/protocol/hbp/dmrd.js';
import { HmacSha1 } from '../src/protocol/obp/hmac-sha1.js';
import { obpKey } from '../src/protocol/obp/index.js';
import { isMain, num } from './lib/cli.js';
import { median } from './lib/stats.js';

export interface MacRound {
  frames: number;
  signNs: number;
  verifyNs: number;
  hmacSha1Ns: number;
  /** Heap growth over the sign and verify windows, in bytes, and per frame (sign + verify). */
  heapGrowth: number;
  bytesPerFrame: number;
  /** Collections that started inside the windows (fill in after yielding to the event loop). */
  gcs: number;
  windows: [number, number][];
}

const gcStarts: number[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcStarts.push(e.startTime);
}).observe({ entryTypes: ['gc'] });
const gcsIn = (windows: [number, number][]): number => gcStarts.filter((t) => windows.some(([a, b]) => t >= a && t <= b)).length;

const keys = fbpKeys('passw0rd');
const hmac = new HmacSha1(obpKey('passw0rd'));
const frame = new Uint8Array(89);
frame.set(encodeDmrd({ seq: 0, src: 3100001, dst: 23001, peerId: 9990, slot: 1, frame: 0x21, streamId: 0x8a36cba4 }).subarray(0, 53));
frame.set([0x44, 0x4d, 0x52, 0x45, 0], 0); // DMRE
frame[55] = 5;
const obp = new Uint8Array(73);
obp.set(frame.subarray(0, 53));

function round(frames: number): MacRound {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const s0 = performance.now();
  for (let i = 0; i < frames; i++) {
    frame[4] = i; // a new sequence number: a different body every time
    signDmre(frame, keys.blake2b);
  }
  const s1 = performance.now();
  let ok = 0;
  for (let i = 0; i < frames; i++) {
    const at = 73 + (i & 15);
    frame[at] = frame[at]! ^ (i & 1); // every other frame has a bad MAC, and fails
    if (verifyDmre(frame, keys.blake2b)) ok++;
    frame[at] = frame[at]! ^ (i & 1);
  }
  const v1 = performance.now();
  const heap1 = process.memoryUsage().heapUsed;
  if (ok !== frames / 2) throw new Error(`verify accepted ${ok} of ${frames}, expected half`);
  const h0 = performance.now();
  for (let i = 0; i < frames; i++) {
    obp[4] = i;
    hmac.sign(obp, 0, 53, obp, 53);
  }
  const h1 = performance.now();
  return {
    frames,
    signNs: ((s1 - s0) * 1e6) / frames,
    verifyNs: ((v1 - s1) * 1e6) / frames,
    hmacSha1Ns: ((h1 - h0) * 1e6) / frames,
    heapGrowth: heap1 - heap0,
    bytesPerFrame: Math.max(0, heap1 - heap0) / (2 * frames),
    gcs: -1,
    windows: [[s0, v1]],
  };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { frames: { type: 'string' }, rounds: { type: 'string' } } });
  const frames = 2 * Math.round(num(values.frames, 'frames', 1_000_000) / 2);
  const rounds = num(values.rounds, 'rounds', 5);
  round(100_000); // warm up the JIT
  const out: MacRound[] = [];
  for (let r = 0; r < rounds; r++) out.push(round(frames));
  // The GC observer reports asynchronously; let it catch up before printing.
  setTimeout(() => {
    for (const r of out) {
      r.gcs = gcsIn(r.windows);
      const { windows: _w, ...shown } = r;
      console.log(JSON.stringify(shown));
    }
    const med = (f: (r: MacRound) => number, digits = 1): number => Number(median(out.map(f)).toFixed(digits));
    console.log(
      JSON.stringify({
        median: {
          signNs: med((r) => r.signNs),
          verifyNs: med((r) => r.verifyNs),
          hmacSha1Ns: med((r) => r.hmacSha1Ns),
          heapGrowth: med((r) => r.heapGrowth, 0),
          bytesPerFrame: med((r) => r.bytesPerFrame, 4),
        },
        gcsInWindows: out.reduce((n, r) => n + r.gcs, 0),
        rounds,
        frames,
      }),
    );
  }, 50);
}
