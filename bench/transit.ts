// Transit cost: time per packet of a call that comes in on one FBP link and goes on to N other FBP
// links (no peers listen, so the figure is the link path alone: the ingress BLAKE2b check, the
// checks of a DMRE, and per outgoing link a DMRE v5 built and signed). Through Core.handle only, no
// sockets; the frames are signed before the window, and each is copied into the datagram buffer
// the core owns (the copy is inside the window, as a socket read would be).
//   node --max-semi-space-size=256 --expose-gc dist/bench/transit.js [--links 10] [--packets 1000000]

import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import { createCore, DEFAULT_CORE_CONFIG, type ActionSink, type DatagramEvent } from '../src/core/index.js';
import { encodeBc, fbpKeys, writeDmre } from '../src/protocol/fbp/index.js';
import { encodeDmrd } from '../src/protocol/index.js';
import { gcsBetween, measureWindow, type WindowResult } from './core.js';

const sha256 = (d: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(d).digest());

export interface TransitBenchResult extends WindowResult {
  /** Outgoing FBP links (the call comes in on one more). */
  links: number;
}

export function runTransitBench(links: number, packets: number): TransitBenchResult {
  const core = createCore({ sha256 });
  let sends = 0;
  const sink: ActionSink = {
    send(socket) {
      if (socket !== 1) sends++;
    },
    fanOut() {},
    log() {},
  };
  const cfg = structuredClone(DEFAULT_CORE_CONFIG);
  cfg.limits.maxPacketRate = 1_000_000_000;
  cfg.timers.maxStreamMs = 1_000_000_000;
  cfg.serverId = 9991;
  // Link 0 (socket 1) brings the call; links 1..N take it on. The frames' timestamps are fixed, so
  // their age check is lifted (the window runs far faster than real time on one clock anyway).
  cfg.links = Array.from({ length: links + 1 }, (_, i) => ({
    name: `link${i}`,
    socket: i + 1,
    address: '127.0.0.1',
    port: 62100 + i,
    passphrase: 'passw0rd',
    networkId: 0,
    preserveSourcePeer: false,
    checkSource: true,
    talkgroups: [],
    protocol: 'fbp' as const,
    maxAgeMs: 1_000_000_000,
  }));
  core.handle({ kind: 'started', now: 0, seed: 1, config: cfg }, sink);
  const keys = fbpKeys('passw0rd');
  const ev = (socket: number, bytes: Uint8Array, now = 1): DatagramEvent => ({ kind: 'datagram-received', now, socket, address: '127.0.0.1', port: 62100 + socket - 1, bytes });
  // Every far end has been heard from (a call in transit goes only to a link that is alive).
  for (let i = 0; i <= links; i++) core.handle(ev(i + 1, encodeBc({ kind: 'bcka' }, keys.hmac)), sink);
  // 256 signed frames of one call (sequence numbers 0..255), the first a voice header.
  const frames = Array.from({ length: 256 }, (_, seq) => {
    const out = new Uint8Array(89);
    const frame = seq === 0 ? 0x21 : seq % 6 === 0 ? 0x10 : seq % 6;
    writeDmre(out, encodeDmrd({ seq, src: 3100001, dst: 2350, peerId: 9990, slot: 1, frame, streamId: 0xc0ffee }), { version: 5, sourceServer: 3101, sourceRepeater: 310000001, hops: 1 }, 0, keys.blake2b);
    return out;
  });
  const buf = new Uint8Array(89);
  buf.set(frames[0]!);
  const e = ev(1, buf);
  core.handle(e, sink); // the voice header starts the stream
  let seq = 0;
  const run = (n: number, t0: number): void => {
    for (let k = 1; k <= n; k++) {
      buf.set(frames[++seq & 0xff]!);
      // 256 packets a millisecond: a million packets stay well inside the minute a link counts as alive.
      e.now = t0 + (k >> 8);
      core.handle(e, sink);
    }
  };
  run(50_000, 1);
  const w = measureWindow(packets, () => {
    sends = 0;
    run(packets, 1_000);
    return sends;
  });
  return { links, ...w };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { links: { type: 'string' }, packets: { type: 'string' } } });
  const r = runTransitBench(Number(values.links ?? 10), Number(values.packets ?? 1_000_000));
  setTimeout(() => console.log(JSON.stringify({ ...r, gcsDuringWindow: gcsBetween(r.windowStart, r.windowEnd) })), 50);
}
