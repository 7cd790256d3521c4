// A HomeBrew (HBP) peer over a real UDP socket, for end-to-end tests against a running server.
// One socket per client: the server pins each session to the address:port it logged in from.
// Every datagram the socket receives is kept, in arrival order, so a test can compare exactly what
// a peer got with what it should have got.

import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import {
  encodeRptc,
  encodeRptcl,
  encodeRptk,
  encodeRptl,
  encodeRpto,
  encodeRptping,
  HbpKind,
  hbpKind,
  parseMasterReply,
  type MasterReply,
  type RepeaterConfig,
} from '../../src/protocol/index.js';
import { loginDigest } from './crypto.js';

export interface Received {
  /** performance.now() when the datagram arrived. */
  at: number;
  bytes: Uint8Array;
}

export interface HbpClientOptions {
  /** Local address to bind (default 127.0.0.1). */
  address?: string;
  /** Default timeout in ms for each login step and ping (default 2000). */
  stepTimeoutMs?: number;
}

export interface LoginOptions {
  passphrase: string;
  /** RPTO options string; when absent no RPTO is sent and the server's defaults apply. */
  options?: string;
  callsign?: string;
  /** Other RPTC fields (location, softwareId, slots, …) over the test defaults. */
  rptc?: Partial<Omit<RepeaterConfig, 'peerId' | 'callsign'>>;
}

interface Waiter {
  pred: (d: Received, index: number) => boolean;
  from: number;
  resolve: (d: Received) => void;
}

export class HbpClient {
  readonly received: Received[] = [];
  private readonly socket: dgram.Socket;
  private readonly waiters = new Set<Waiter>();
  private readonly stepTimeoutMs: number;
  private readonly bindAddress: string;
  private host: string | null = null;
  private port = 0;
  private closed = false;
  localPort = 0;

  constructor(
    readonly peerId: number,
    opts: HbpClientOptions = {},
  ) {
    this.bindAddress = opts.address ?? '127.0.0.1';
    this.stepTimeoutMs = opts.stepTimeoutMs ?? 2000;
    this.socket = dgram.createSocket('udp4');
    this.socket.on('message', (msg) => {
      const d: Received = { at: performance.now(), bytes: new Uint8Array(msg) };
      const index = this.received.length;
      this.received.push(d);
      for (const w of [...this.waiters]) {
        if (index >= w.from && w.pred(d, index)) {
          this.waiters.delete(w);
          w.resolve(d);
        }
      }
    });
  }

  /** Bind the client's socket to an OS-chosen port on 127.0.0.1; returns that port. */
  bind(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new Error(`peer ${this.peerId}: cannot bind a UDP socket: ${err.message}`));
      this.socket.once('error', onError);
      this.socket.bind(0, this.bindAddress, () => {
        this.socket.off('error', onError);
        this.localPort = this.socket.address().port;
        resolve(this.localPort);
      });
    });
  }

  /** Index the next received datagram will have (for `waitFor(..., from)`). */
  mark(): number {
    return this.received.length;
  }

  /**
   * The first received datagram at index `from` or later that satisfies `pred` (already received
   * or still to come). Rejects after `timeoutMs`.
   */
  waitFor(pred: (d: Received, index: number) => boolean, timeoutMs: number, from = 0, what = 'a matching datagram'): Promise<Received> {
    for (let i = from; i < this.received.length; i++) {
      const d = this.received[i]!;
      if (pred(d, i)) return Promise.resolve(d);
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        from,
        resolve: (d) => {
          clearTimeout(timer);
          resolve(d);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`peer ${this.peerId}: no ${what} within ${timeoutMs} ms (received ${this.received.length - from} datagram(s) since index ${from})`));
      }, timeoutMs);
      this.waiters.add(w);
    });
  }

  /** Wait until at least `count` datagrams have been received in total. */
  waitForCount(count: number, timeoutMs: number): Promise<Received> {
    return this.waitFor((_d, i) => i >= count - 1, timeoutMs, 0, `datagram number ${count}`);
  }

  /** Send each packet in turn, `gapMs` apart (60 ms: one DMR voice frame each). */
  async sendPaced(packets: readonly Uint8Array[], gapMs = 60): Promise<void> {
    for (const p of packets) {
      this.send(p);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }

  /** Send raw bytes to the server this client logged in to. */
  send(bytes: Uint8Array): void {
    if (this.host === null) throw new Error(`peer ${this.peerId}: send before login`);
    this.sendTo(this.host, this.port, bytes);
  }

  private sendTo(host: string, port: number, bytes: Uint8Array): void {
    if (this.closed) throw new Error(`peer ${this.peerId}: send on a closed client`);
    this.socket.send(bytes, port, host);
  }

  /** Send `bytes` and wait for the master's reply (RPTACK, MSTNAK, MSTPONG or MSTCL). */
  private async exchange(step: string, bytes: Uint8Array, expect: MasterReply['tag'], timeoutMs: number): Promise<MasterReply> {
    const from = this.mark();
    this.send(bytes);
    const isReply = (d: Received): boolean => {
      const k = hbpKind(d.bytes);
      return k === HbpKind.RPTACK || k === HbpKind.MSTNAK || k === HbpKind.MSTPONG || k === HbpKind.MSTCL;
    };
    let d: Received;
    try {
      d = await this.waitFor(isReply, timeoutMs, from, `reply to ${step}`);
    } catch {
      throw new Error(`peer ${this.peerId}: ${step}: no reply from ${this.host}:${this.port} within ${timeoutMs} ms`);
    }
    const r = parseMasterReply(d.bytes);
    if (!r.ok) throw new Error(`peer ${this.peerId}: ${step}: malformed reply (${r.error}): ${Buffer.from(d.bytes).toString('hex')}`);
    if (r.value.tag !== expect) {
      const hint = r.value.tag === 'MSTNAK' && step === 'RPTK' ? ' (wrong passphrase?)' : '';
      throw new Error(`peer ${this.peerId}: ${step}: server answered ${r.value.tag}${hint}, expected ${expect}`);
    }
    return r.value;
  }

  /** The full HBP login: RPTL → salt, RPTK → ack, RPTC → ack, then RPTO → ack if options are given. */
  async login(host: string, port: number, o: LoginOptions): Promise<void> {
    this.host = host;
    this.port = port;
    const t = this.stepTimeoutMs;
    const salt = await this.exchange('RPTL', encodeRptl(this.peerId), 'RPTACK', t);
    const ack = async (step: string, bytes: Uint8Array): Promise<void> => {
      const r = await this.exchange(step, bytes, 'RPTACK', t);
      if (r.arg !== this.peerId) throw new Error(`peer ${this.peerId}: ${step}: RPTACK carries peer ID ${r.arg}`);
    };
    await ack('RPTK', encodeRptk(this.peerId, loginDigest(salt.arg, o.passphrase)));
    await ack(
      'RPTC',
      encodeRptc({
        peerId: this.peerId,
        callsign: o.callsign ?? `T${this.peerId % 100000}`,
        rxFreq: '434000000',
        txFreq: '434000000',
        txPower: '01',
        colorCode: '01',
        latitude: '0.0000',
        longitude: '0.0000',
        height: '000',
        location: 'loopback',
        description: 'dmrhub e2e',
        slots: '4',
        url: '',
        softwareId: 'dmrhub-e2e',
        packageId: 'dmrhub-e2e',
        ...o.rptc,
      }),
    );
    if (o.options !== undefined) await ack('RPTO', encodeRpto(this.peerId, o.options));
  }

  /** RPTPING; resolves when MSTPONG arrives. */
  async ping(timeoutMs = this.stepTimeoutMs): Promise<void> {
    const r = await this.exchange('RPTPING', encodeRptping(this.peerId), 'MSTPONG', timeoutMs);
    if (r.arg !== this.peerId) throw new Error(`peer ${this.peerId}: MSTPONG carries peer ID ${r.arg}`);
  }

  /** RPTCL: tell the server we are going (it sends no reply). The socket stays open. */
  logout(): void {
    this.send(encodeRptcl(this.peerId));
  }

  /** Close the socket (no RPTCL is sent; use logout() for that). Pending waits time out on their own. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
