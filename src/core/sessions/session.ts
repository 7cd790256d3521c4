// A peer session: one hotspot or repeater logged in over HBP, pinned to the address it proved its
// passphrase from. Each of its two slots keeps what it is sending us (rx) and what we send it (tx).

import type { RepeaterConfig } from '../../protocol/hbp/index.js';
import type { Target } from '../actions.js';
import type { Stream } from '../streams/stream.js';
import type { Subscription } from '../subscriptions/index.js';
import { NO_OPTIONS, type PeerOptions } from './options.js';
import { NEVER } from '../time.js';

export const SessionState = {
  /** Passphrase proven; waiting for RPTC. */
  WaitingConfig: 1,
  /** Fully logged in. */
  Connected: 2,
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

export class SlotState {
  /** The stream this peer is sending us on this slot (current or last). */
  rx: Stream | null = null;
  rxTg = 0;
  rxTime = NEVER;
  /** What we last sent the peer on this slot. */
  txStream = 0;
  txTg = 0;
  txTime = NEVER;
  txEnded = true;
  /** The fan-out entry for this peer and slot, shared by every stream sent to it. */
  readonly target: Target;
  /** Marker used while building a stream's target list, to keep one entry per (peer, slot). */
  mark = 0;

  constructor(socket: number, address: string, port: number, peerId: number, slot: 1 | 2) {
    this.target = { socket, address, port, peerId, slotBit: slot === 2 ? 0x80 : 0 };
  }
}

export class Session {
  state: SessionState = SessionState.WaitingConfig;
  readonly loggedInAt: number;
  lastSeen: number;
  /** Time at which the keepalive deadline is currently scheduled (to avoid rescheduling per packet). */
  deadlineAt = 0;
  config: RepeaterConfig | null = null;
  /** The raw options string from RPTO, or null when the peer sent none (server defaults apply). */
  options: string | null = null;
  /** The options in force (server defaults where the peer set nothing). */
  opts: PeerOptions = NO_OPTIONS;
  /** The KEY the first keyed options string locked this session to. */
  optionsKey: string | null = null;
  /** The reflector the dial lane returns to (0 = none). */
  defaultReflector = 0;
  /** Subscriptions by slot, keyed by the talkgroup the peer uses on the air. */
  readonly subs: [null, Map<number, Subscription>, Map<number, Subscription>] = [null, new Map(), new Map()];
  readonly slots: [null, SlotState, SlotState];
  /** Codes already logged for this session (log once per peer and code). */
  readonly logged = new Set<string>();
  closed = false;

  constructor(
    readonly peerId: number,
    readonly socket: number,
    readonly address: string,
    readonly port: number,
    now: number,
  ) {
    this.loggedInAt = now;
    this.lastSeen = now;
    this.slots = [null, new SlotState(socket, address, port, peerId, 1), new SlotState(socket, address, port, peerId, 2)];
  }

  at(address: string, port: number): boolean {
    return this.port === port && this.address === address;
  }
}

/** A login in progress: RPTL seen, salt sent, RPTK not yet proven. Holds no routing state. */
export interface PendingLogin {
  peerId: number;
  socket: number;
  address: string;
  port: number;
  salt: number;
  expiresAt: number;
}
