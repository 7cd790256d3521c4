// The soak benchmark's peers: N hotspots over real UDP (one socket each), logged in with RPTL,
// RPTK, RPTC and RPTO (`TS2=<tg>;`), pinging every 5 s; a few talkers per talkgroup taking turns
// with calls of 5–15 s (one DMRD per 60 ms); and churn: every few seconds a peer that is not
// talking logs out (RPTCL) and logs in again a moment later, half the time from a new port.

import type dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { encodeDmrd, encodeRptc, encodeRptcl, encodeRptk, encodeRptl, encodeRpto, encodeRptping, parseMasterReply } from '../../src/protocol/hbp/index.js';
import { loginDigest } from '../loadgen.js';
import { closeSocket, connectSocket, udpSocket } from './udp.js';

export interface SoakPeersOptions {
  port: number;
  peers: number;
  talkgroups: number;
  /** Talkers per talkgroup (they take turns). */
  talkersPerTg: number;
  /** One peer logs out and in again every this many ms (0: no churn). */
  churnMs: number;
  passphrase: string;
}

export interface SoakCounts {
  logins: number;
  loginRetries: number;
  logouts: number;
  calls: number;
  framesSent: number;
  /** DMRD datagrams the peers received. */
  framesReceived: number;
  /** MSTCL/MSTNAK received by a peer that thought it was logged in. */
  dropped: number;
}

const PING_MS = 5000;
const STEP_TIMEOUT_MS = 2000;

class Peer {
  sock: dgram.Socket | null = null;
  state: 'out' | 'rptl' | 'rptk' | 'rptc' | 'rpto' | 'in' = 'out';
  talking = false;
  private stepTimer: NodeJS.Timeout | null = null;
  private waiters: (() => void)[] = [];

  constructor(
    readonly id: number,
    readonly tg: number,
    private readonly o: SoakPeersOptions,
    private readonly counts: SoakCounts,
  ) {}

  async open(): Promise<void> {
    const s = udpSocket();
    s.on('message', (m) => this.onMessage(m));
    s.on('error', () => {});
    await connectSocket(s, this.o.port, '127.0.0.1');
    this.sock = s;
  }

  send(b: Uint8Array): void {
    try {
      this.sock?.send(b);
    } catch {
      /* closed meanwhile */
    }
  }

  /** Log in; resolves when RPTO is acknowledged (retrying from RPTL after a silent step). */
  login(): Promise<void> {
    this.state = 'rptl';
    this.send(encodeRptl(this.id));
    this.arm();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private arm(): void {
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.stepTimer = setTimeout(() => {
      if (this.state === 'in' || this.state === 'out') return;
      this.counts.loginRetries++;
      this.state = 'rptl';
      this.send(encodeRptl(this.id));
      this.arm();
    }, STEP_TIMEOUT_MS);
  }

  private onMessage(m: Buffer): void {
    if (m.length >= 4 && m[0] === 0x44 && m[1] === 0x4d && m[2] === 0x52 && m[3] === 0x44) {
      this.counts.framesReceived++;
      return;
    }
    const r = parseMasterReply(m);
    if (!r.ok) return;
    const { tag, arg } = r.value;
    if (tag === 'MSTCL' || tag === 'MSTNAK') {
      if (this.state === 'in') this.counts.dropped++;
      if (this.state !== 'out') {
        this.state = 'rptl';
        this.send(encodeRptl(this.id));
        this.arm();
      }
      return;
    }
    if (tag !== 'RPTACK') return;
    switch (this.state) {
      case 'rptl':
        this.state = 'rptk';
        this.send(encodeRptk(this.id, loginDigest(arg, this.o.passphrase)));
        break;
      case 'rptk':
        this.state = 'rptc';
        this.send(encodeRptc({ peerId: this.id, callsign: `S${this.id % 100000}`, slots: '3', softwareId: 'soak', packageId: 'bench' }));
        break;
      case 'rptc':
        this.state = 'rpto';
        this.send(encodeRpto(this.id, `TS2=${this.tg};`));
        break;
      case 'rpto':
        this.state = 'in';
        if (this.stepTimer) clearTimeout(this.stepTimer);
        this.counts.logins++;
        for (const w of this.waiters.splice(0)) w();
        break;
      default:
        break;
    }
  }

  ping(): void {
    if (this.state === 'in') this.send(encodeRptping(this.id));
  }

  /** RPTCL, then (half the time) a new socket, so the next login comes from a new port. */
  async logout(newPort: boolean): Promise<void> {
    this.send(encodeRptcl(this.id));
    this.state = 'out';
    this.counts.logouts++;
    if (newPort) {
      const old = this.sock;
      this.sock = null;
      if (old) await closeSocket(old);
      await this.open();
    }
  }

  async close(): Promise<void> {
    if (this.stepTimer) clearTimeout(this.stepTimer);
    this.state = 'out';
    if (this.sock) await closeSocket(this.sock);
    this.sock = null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The population, started by `start()` and run until `stop()`. */
export class SoakPeers {
  readonly counts: SoakCounts = { logins: 0, loginRetries: 0, logouts: 0, calls: 0, framesSent: 0, framesReceived: 0, dropped: 0 };
  private readonly peers: Peer[] = [];
  private running = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly loops: Promise<void>[] = [];

  constructor(private readonly o: SoakPeersOptions) {
    for (let i = 0; i < o.peers; i++) this.peers.push(new Peer(310_100_000 + i, 31_000 + (i % o.talkgroups), o, this.counts));
  }

  async start(): Promise<void> {
    this.running = true;
    for (const p of this.peers) await p.open();
    for (let i = 0; i < this.peers.length; i += 20) await Promise.all(this.peers.slice(i, i + 20).map((p) => p.login()));
    this.timers.push(setInterval(() => this.peers.forEach((p) => p.ping()), PING_MS));
    for (let t = 0; t < this.o.talkgroups; t++) this.loops.push(this.floor(t));
    if (this.o.churnMs > 0) this.loops.push(this.churn());
  }

  /** One talkgroup: its talkers take turns, a call of 5–15 s, then 2–5 s of quiet. */
  private async floor(t: number): Promise<void> {
    const talkers = this.peers.filter((_, i) => i % this.o.talkgroups === t).slice(0, this.o.talkersPerTg);
    let seq = 0;
    while (this.running) {
      const p = talkers[randomInt(talkers.length)]!;
      if (p.state === 'in') {
        p.talking = true;
        this.counts.calls++;
        const streamId = randomInt(1, 2 ** 32 - 1);
        const frames = Math.round((5000 + randomInt(10_000)) / 60);
        const t0 = performance.now();
        for (let k = 0; k < frames && this.running && p.state === 'in'; k++) {
          const frame = k === 0 ? 0x21 : k === frames - 1 ? 0x22 : [0x10, 0x01, 0x02, 0x03, 0x04, 0x05][(k - 1) % 6]!;
          p.send(encodeDmrd({ seq: seq++ & 0xff, src: 3_100_000 + (p.id % 1000), dst: p.tg, peerId: p.id, slot: 2, frame, streamId, payload: new Uint8Array(33) }));
          this.counts.framesSent++;
          // Paced against the call's start, so timer lateness does not add up.
          const wait = t0 + (k + 1) * 60 - performance.now();
          if (wait > 0) await sleep(wait);
        }
        p.talking = false;
      }
      await sleep(2000 + randomInt(3000));
    }
  }

  private async churn(): Promise<void> {
    while (this.running) {
      await sleep(this.o.churnMs);
      const idle = this.peers.filter((p) => p.state === 'in' && !p.talking);
      const p = idle[randomInt(Math.max(1, idle.length))];
      if (p === undefined || !this.running) continue;
      await p.logout(randomInt(2) === 0);
      await sleep(1000 + randomInt(2000));
      if (this.running) void p.login();
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.loops);
    await Promise.all(this.peers.map((p) => p.close()));
  }
}
