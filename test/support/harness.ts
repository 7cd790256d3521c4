// Drives a Core directly with events and collects what it emits, with fan-outs expanded into the
// exact bytes each receiver would get. Time is an argument: tests pass `now` explicitly.

import { createCore, DEFAULT_CORE_CONFIG, type ActionSink, type Core, type CoreConfig, type CoreReport, type LogEntry, type Target } from '../../src/core/index.js';
import {
  encodeDmrd,
  encodeRptc,
  encodeRptk,
  encodeRptl,
  encodeRpto,
  encodeRptping,
  parseMasterReply,
  patchTarget,
  readU32,
} from '../../src/protocol/index.js';
import { loginDigest, sha256 } from './crypto.js';

export interface Sent {
  socket: number;
  address: string;
  port: number;
  bytes: Uint8Array;
  /** True when it came from a fan-out (forwarded traffic). */
  forwarded: boolean;
}

export class CollectingSink implements ActionSink {
  sent: Sent[] = [];
  logs: LogEntry[] = [];
  reports: CoreReport[] = [];
  send(socket: number, address: string, port: number, bytes: Uint8Array): void {
    this.sent.push({ socket, address, port, bytes: bytes.slice(), forwarded: false });
  }
  fanOut(frame: Uint8Array, targets: readonly Target[], count: number): void {
    for (let i = 0; i < count; i++) {
      const t = targets[i]!;
      const out = frame.slice();
      patchTarget(out, t.peerId, t.slotBit);
      this.sent.push({ socket: t.socket, address: t.address, port: t.port, bytes: out, forwarded: true });
    }
  }
  log(entry: LogEntry): void {
    this.logs.push({ ...entry });
  }
  report(r: CoreReport): void {
    this.reports.push(structuredClone(r));
  }
  take(): Sent[] {
    const s = this.sent;
    this.sent = [];
    return s;
  }
}

export function testConfig(patch: (c: CoreConfig) => void = () => {}): CoreConfig {
  const c = structuredClone(DEFAULT_CORE_CONFIG);
  patch(c);
  return c;
}

export class World {
  readonly core: Core;
  readonly sink = new CollectingSink();
  now = 0;

  constructor(config: CoreConfig = testConfig(), seed = 1) {
    this.core = createCore({ sha256 });
    this.core.handle({ kind: 'started', now: this.now, seed, config }, this.sink);
  }

  /** Deliver a datagram from address:port; returns what the core sent in response. */
  datagram(port: number, bytes: Uint8Array, address = '127.0.0.1', socket = 0): Sent[] {
    this.core.handle({ kind: 'datagram-received', now: this.now, socket, address, port, bytes: bytes.slice() }, this.sink);
    return this.sink.take();
  }

  /** Send `packets` from the peer at `port`, 60 ms apart, then let 1 s pass; returns what was sent meanwhile. */
  play(port: number, packets: readonly Uint8Array[]): Sent[] {
    const out: Sent[] = [];
    for (const p of packets) {
      this.now += 60;
      out.push(...this.datagram(port, p));
    }
    this.now += 1000;
    return out;
  }

  /** Advance time to `to`, firing every deadline on the way; returns what was sent. */
  advance(ms: number): Sent[] {
    const end = this.now + ms;
    for (;;) {
      const d = this.core.nextDeadline();
      if (d === null || d > end) break;
      this.now = Math.max(this.now, d);
      this.core.handle({ kind: 'ticked', now: this.now }, this.sink);
    }
    this.now = end;
    return this.sink.take();
  }

  /** Full HBP login; returns the replies in order. Throws if the login does not succeed. */
  login(peerId: number, port: number, options?: string, passphrase = 'passw0rd'): void {
    const a = this.datagram(port, encodeRptl(peerId));
    const salt = parseReply(a, 'RPTACK');
    const b = this.datagram(port, encodeRptk(peerId, loginDigest(salt, passphrase)));
    if (parseReply(b, 'RPTACK') !== peerId) throw new Error('RPTK not acked');
    const c = this.datagram(port, encodeRptc({ peerId, callsign: `T${peerId % 1000}`, slots: '4', softwareId: 'test', packageId: 'test' }));
    if (parseReply(c, 'RPTACK') !== peerId) throw new Error('RPTC not acked');
    if (options !== undefined) {
      const d = this.datagram(port, encodeRpto(peerId, options));
      if (parseReply(d, 'RPTACK') !== peerId) throw new Error('RPTO not acked');
    }
  }

  ping(peerId: number, port: number): Sent[] {
    return this.datagram(port, encodeRptping(peerId));
  }
}

export function parseReply(sent: Sent[], tag: 'RPTACK' | 'MSTNAK' | 'MSTPONG' | 'MSTCL'): number {
  if (sent.length !== 1) throw new Error(`expected one reply, got ${sent.length}`);
  const r = parseMasterReply(sent[0]!.bytes);
  if (!r.ok || r.value.tag !== tag) throw new Error(`expected ${tag}, got ${r.ok ? r.value.tag : r.error}`);
  return r.value.arg;
}

/** A voice call: header, `superframes` × bursts A–F, terminator, as 55-byte DMRD packets. */
export function voiceCall(o: { peerId: number; src: number; tg: number; slot: 1 | 2; streamId: number; superframes?: number; seq0?: number }): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seq = o.seq0 ?? 0;
  const mk = (frame: number): Uint8Array => {
    const payload = new Uint8Array(33);
    payload[0] = seq;
    payload[1] = frame;
    return encodeDmrd({ seq: seq++ & 0xff, src: o.src, dst: o.tg, peerId: o.peerId, slot: o.slot, frame, streamId: o.streamId, payload });
  };
  out.push(mk(0x21));
  for (let i = 0; i < (o.superframes ?? 1); i++) for (const f of [0x10, 0x01, 0x02, 0x03, 0x04, 0x05]) out.push(mk(f));
  out.push(mk(0x22));
  return out;
}

export const peerOf = (s: Sent): number => readU32(s.bytes, 11);
