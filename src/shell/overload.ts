// The overload guard: when fan-out outruns the machine, voice is shed so that the socket is still
// read and keepalives, logins and the control path are still served.
//
// A turn is what the shell does between two visits of the event loop's check phase: libuv hands
// over at most READ_BATCH datagrams per socket per turn, and each may fan out to thousands of
// peers. Two limits apply to the voice fan-out (`UdpTransport.fanOut`; single sends, which carry
// the control path, are never shed):
//   - the turn budget: at most `fanoutPerTurn` fan-out datagrams per turn; the rest of the turn's
//     voice is shed ("turn-budget"), so no turn keeps the receive path waiting for long;
//   - the backlog: a turn that read a full batch from a socket may have left datagrams waiting.
//     The guard then measures how long they wait: it sends the socket a probe datagram, which
//     queues behind them. When a probe waits `maxReceiveWaitMs` or longer (or is still missing by
//     then: the kernel drops what overflows the receive buffer), the shell is behind, and all voice
//     fan-out is shed ("backlog") until a turn reads less than a batch (the queue is drained).
//     A queue that never empties but moves fast (a flat-out talker) is not a backlog.
// A socket whose send queue (datagrams the kernel would not take yet, copied and waiting in Node)
// holds more than `sendQueueBytes` gets no voice fan-out until it drains ("send-queue"); this
// bounds the memory of queued sends.
// Changes of the backlog state go to the core as `backlog-changed` events (see keepaliveDue).

import { randomBytes } from 'node:crypto';

/** Datagrams libuv reads from one UDP socket before it returns to the event loop (Node 20). */
export const READ_BATCH = 32;

/** The `[limits]` keys of the config (defaults in src/config/schema.ts). */
export interface OverloadSettings {
  /** Voice datagrams fanned out per turn before the rest of the turn's voice is shed. */
  fanoutPerTurn: number;
  /** How long datagrams may wait to be read before all voice fan-out is shed. */
  maxReceiveWaitMs: number;
  /** Bytes in a socket's send queue above which voice fan-out to it is shed. */
  sendQueueBytes: number;
}

/** Voice datagrams shed, by reason. */
export interface ShedCounters {
  backlog: number;
  turnBudget: number;
  sendQueue: number;
}

/** A probe: tag, this process's key, sequence number, send time (float64 ms). */
export const PROBE_LEN = 20;
const PROBE_TAG = 0x00504200; // "\0PB\0": no HBP or FBP tag starts with a zero byte

export class OverloadGuard {
  settings: OverloadSettings;
  /** True while the receive queue is behind: all voice fan-out is shed. */
  behind = false;
  /** Fan-out datagrams sent in the current turn. */
  sendsThisTurn = 0;
  readonly shed: ShedCounters = { backlog: 0, turnBudget: 0, sendQueue: 0 };
  /** Times the shell fell behind, the longest a backlog lasted and the longest a probe waited (ms). */
  backlogs = 0;
  longestBacklogMs = 0;
  longestWaitMs = 0;
  probes = 0;
  /** Most datagrams read from one socket in one turn. */
  maxTurnReads = 0;

  private turnOpen = false;
  /** Datagrams read in this turn, per socket. */
  private readonly reads: number[] = [];
  /** Sequence number of the probe in flight per socket (0 = none), and when it was sent. */
  private readonly probeSeq: number[] = [];
  private readonly probeSentAt: number[] = [];
  private nextSeq = 1;
  private readonly key = randomBytes(4).readUInt32BE(0);
  private behindSince = 0;

  constructor(
    settings: OverloadSettings,
    private readonly clock: () => number,
    private readonly onChange: (behind: boolean, waitedMs: number) => void,
    /** Send `probe` to socket `socket`'s own address and port. */
    private readonly sendProbe: (socket: number, probe: Uint8Array) => void = () => {},
  ) {
    this.settings = settings;
  }

  /** A datagram was read from `socket`: the first of a turn opens it. */
  onRead(socket: number): void {
    if (!this.turnOpen) {
      this.turnOpen = true;
      this.sendsThisTurn = 0;
      setImmediate(this.closeTurn);
    }
    this.reads[socket] = (this.reads[socket] ?? 0) + 1;
  }

  /** Whether `b`, read from `socket`, is this guard's probe; if so, how long it waited is noted. */
  onProbe(socket: number, b: Buffer): boolean {
    if (b.length !== PROBE_LEN || b.readUInt32BE(0) !== PROBE_TAG || b.readUInt32BE(4) !== this.key) return false;
    if (b.readUInt32BE(8) !== this.probeSeq[socket]) return true; // one from before a drain
    this.probeSeq[socket] = 0;
    const waited = this.clock() - b.readDoubleLE(12);
    if (waited > this.longestWaitMs) this.longestWaitMs = waited;
    if (waited >= this.settings.maxReceiveWaitMs) this.fallBehind(waited);
    return true;
  }

  private readonly closeTurn = (): void => {
    this.turnOpen = false;
    const now = this.clock();
    let full = false;
    for (let i = 0; i < this.reads.length; i++) {
      const n = this.reads[i] ?? 0;
      this.reads[i] = 0;
      if (n > this.maxTurnReads) this.maxTurnReads = n;
      if (n < READ_BATCH) {
        // Read to the end: a probe sent before this turn was read, or dropped by the kernel.
        this.probeSeq[i] = 0;
        continue;
      }
      full = true;
      // Datagrams may be waiting: measure how long with a probe, or judge by the one in flight.
      const seq = this.probeSeq[i] ?? 0;
      if (seq === 0) {
        const next = this.nextSeq;
        this.nextSeq = (next % 0xffff_ffff) + 1;
        this.probeSeq[i] = next;
        this.probeSentAt[i] = now;
        // A buffer per probe (one per full batch with no probe in flight, far fewer than datagrams):
        // a send the kernel queued keeps the bytes it was given.
        const probe = Buffer.alloc(PROBE_LEN);
        probe.writeUInt32BE(PROBE_TAG, 0);
        probe.writeUInt32BE(this.key, 4);
        probe.writeUInt32BE(next, 8);
        probe.writeDoubleLE(now, 12);
        this.probes++;
        this.sendProbe(i, probe);
      } else if (now - this.probeSentAt[i]! >= this.settings.maxReceiveWaitMs) {
        this.fallBehind(now - this.probeSentAt[i]!);
      }
    }
    if (full || !this.behind) return;
    // Every socket was read to the end: the backlog is gone.
    this.behind = false;
    const lasted = now - this.behindSince;
    if (lasted > this.longestBacklogMs) this.longestBacklogMs = lasted;
    this.onChange(false, lasted);
  };

  private fallBehind(waitedMs: number): void {
    if (this.behind) return;
    this.behind = true;
    this.behindSince = this.clock();
    this.backlogs++;
    this.onChange(true, waitedMs);
  }

  /** Counters for the server's statistics, under stable names. */
  stats(): [string, number][] {
    return [
      ['shed.backlog', this.shed.backlog],
      ['shed.turn-budget', this.shed.turnBudget],
      ['shed.send-queue', this.shed.sendQueue],
      ['overload.backlogs', this.backlogs],
      ['overload.longest-backlog-ms', Math.round(this.longestBacklogMs)],
      ['overload.longest-wait-ms', Math.round(this.longestWaitMs)],
      ['overload.probes', this.probes],
      ['overload.max-turn-reads', this.maxTurnReads],
    ];
  }
}
