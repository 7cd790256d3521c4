// UDP sockets and the action sink that sends through them.
//
// Sending one frame to many peers without copying it: for each target we write the peer ID and the
// slot bit into the frame and send. That is only safe if each send leaves the process before the
// next patch, so the sockets get a synchronous address lookup (Node's default defers every send to
// the next tick, which would send the last patch to everyone), and after each send we check the
// socket's send queue: if the kernel buffer was full and Node queued the send, it still points at
// our frame, so the remaining targets get a copy.
//
// Voice fan-out is shed when the machine cannot keep up (see overload.ts): the receive path comes
// first. Single sends (replies, the control path, a link's or one peer's frame) are never shed.

import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { ActionSink, CoreReport, LogEntry, Target } from '../core/actions.js';
import { writeEntry } from './logger.js';
import type { NameStore } from '../names/index.js';
import { patchTarget } from '../protocol/hbp/dmrd.js';
import { PROBE_LEN, type OverloadGuard } from './overload.js';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

function literalLookup(address: string, _opts: unknown, cb: LookupCallback): void {
  const family = isIP(address);
  if (family === 0) cb(Object.assign(new Error(`not an IP address: ${address}`), { code: 'EINVAL' }), '', 0);
  else cb(null, address, family);
}

export interface SocketSpec {
  address: string;
  port: number;
  recvBufferBytes: number;
}

/** A UDP port that could not be opened, said in an operator's words. */
export class BindError extends Error {
  constructor(address: string, port: number, cause: Error) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown';
    const why: Record<string, string> = {
      EADDRINUSE: 'the port is already in use (another dmrhub, or another server, is listening there)',
      EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE; use a higher port)',
      EADDRNOTAVAIL: 'the address is not one of this machine\'s (check the address key)',
    };
    super(`cannot listen on ${address.includes(':') ? `[${address}]` : address}:${port}: ${why[code] ?? cause.message}`);
    this.name = 'BindError';
  }
}

export class UdpTransport implements ActionSink {
  private readonly sockets: dgram.Socket[] = [];
  /** Sends that found the socket's queue non-empty (kernel buffer full). */
  queuedSends = 0;
  sendErrors = 0;
  /** A fan-out send was queued since a socket's send queue was last seen empty. */
  private sendsWaiting = false;

  constructor(
    private readonly logger: Logger,
    private readonly onDatagram: (socket: number, bytes: Buffer, address: string, port: number) => void,
    onReport: ((r: CoreReport) => void) | null,
    /** Decides what voice fan-out is shed; its probes go out through `sendProbe`. */
    readonly guard: OverloadGuard,
  ) {
    // Without a reporting sink configured, reports are not even converted.
    if (onReport) this.report = onReport;
  }

  report?: (r: CoreReport) => void;
  /** Where each socket sends the guard's probes: its own address (loopback for a wildcard) and port. */
  private readonly self: { address: string; port: number }[] = [];

  /** Send the overload guard's probe to socket `socket` itself; it queues behind what waits there. */
  sendProbe(socket: number, probe: Uint8Array): void {
    const sock = this.sockets[socket];
    const self = this.self[socket];
    if (sock !== undefined && self !== undefined) sock.send(probe, self.port, self.address);
  }

  async open(spec: SocketSpec): Promise<{ index: number; port: number }> {
    const type = isIP(spec.address) === 6 ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type, lookup: literalLookup as never, recvBufferSize: spec.recvBufferBytes, sendBufferSize: spec.recvBufferBytes });
    await new Promise<void>((resolve, reject) => {
      const refused = (err: Error): void => {
        sock.close();
        reject(new BindError(spec.address, spec.port, err));
      };
      sock.once('error', refused);
      sock.bind(spec.port, spec.address, () => {
        sock.off('error', refused);
        resolve();
      });
    });
    const index = this.sockets.length;
    this.sockets.push(sock);
    // Linux reports twice what it grants (the other half is its bookkeeping) and caps the request
    // at net.core.rmem_max: say so when the receive buffer is smaller than asked for.
    const granted = process.platform === 'linux' ? sock.getRecvBufferSize() / 2 : sock.getRecvBufferSize();
    if (granted < spec.recvBufferBytes) {
      this.logger.info(
        { code: 'socket.small-buffer', socket: index, requested: spec.recvBufferBytes, granted },
        `socket ${index}: the kernel granted a receive buffer of ${granted} bytes, less than the ${spec.recvBufferBytes} of hbp.recv_buffer_bytes; ` +
          'raise net.core.rmem_max (sysctl) so that a burst cannot overflow it',
      );
    }
    const port = sock.address().port;
    const self = { address: spec.address === '0.0.0.0' ? '127.0.0.1' : spec.address === '::' ? '::1' : spec.address, port };
    this.self.push(self);
    sock.on('message', (msg, rinfo) => {
      // A probe counts as read (it was one of the batch), but never reaches the core.
      this.guard.onRead(index);
      if (msg.length === PROBE_LEN && rinfo.port === port && this.guard.onProbe(index, msg)) return;
      this.onDatagram(index, msg, rinfo.address, rinfo.port);
    });
    sock.on('error', (err) => {
      this.sendErrors++;
      this.logger.warn({ err: err.message, socket: index }, 'socket error');
    });
    return { index, port };
  }

  send(socket: number, address: string, port: number, bytes: Uint8Array): boolean {
    const sock = this.sockets[socket];
    if (sock === undefined) return false;
    sock.send(bytes, port, address);
    // Queued (kernel buffer full): the send still points at `bytes`.
    return sock.getSendQueueCount() > 0;
  }

  fanOut(frame: Uint8Array, targets: readonly Target[], count: number): boolean {
    const guard = this.guard;
    if (count === 0) return false;
    if (guard.behind) {
      guard.shed.backlog += count;
      return false;
    }
    const budget = guard.settings.fanoutPerTurn - guard.sendsThisTurn;
    const n = count <= budget ? count : budget > 0 ? budget : 0;
    if (n < count) guard.shed.turnBudget += count - n;
    const queueLimit = guard.settings.sendQueueBytes;
    if (this.sendsWaiting) {
      // A send was queued lately: while the first receiver's socket is still over the limit, the
      // whole frame is shed.
      const waiting = this.sockets[targets[0]!.socket]!.getSendQueueSize();
      if (waiting > queueLimit) {
        guard.shed.sendQueue += n;
        return false;
      }
      if (waiting === 0) this.sendsWaiting = false;
    }
    let buf = frame;
    let retained = false;
    let i = 0;
    for (; i < n; i++) {
      const t = targets[i]!;
      const sock = this.sockets[t.socket]!;
      patchTarget(buf, t.peerId, t.slotBit);
      sock.send(buf, t.port, t.address);
      if (sock.getSendQueueCount() > 0) {
        // The send may still be waiting with `buf`: later receivers get their own copy, and if it
        // was the caller's frame, the caller is told not to reuse it.
        if (buf === frame) retained = true;
        this.sendsWaiting = true;
        if (sock.getSendQueueSize() > queueLimit) {
          // The kernel is not taking what we send: the rest of this frame is shed, not queued.
          i++;
          guard.shed.sendQueue += n - i;
          break;
        }
        if (i + 1 < n) {
          this.queuedSends++;
          buf = buf.slice();
        }
      }
    }
    guard.sendsThisTurn += i;
    return retained;
  }

  /** Subscriber and talkgroup names for the log lines; swapped whole when they are reloaded. */
  names: NameStore | null = null;
  /** Transport counters for the server's statistics. */
  stats(): [string, number][] {
    return [['transport.queued-sends', this.queuedSends], ['transport.send-errors', this.sendErrors], ...this.guard.stats()];
  }

  log(entry: LogEntry): void {
    writeEntry(this.logger, entry, this.names);
  }

  async close(): Promise<void> {
    await Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
