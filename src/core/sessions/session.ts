// Making a peer session (model/session.ts has its shape).

import type { Credential, PeerOptions, Session, SessionRole, SlotState, Stream, Target } from '../model/index.js';
import { NEVER } from '../time.js';

export const SessionState = {
  /** Passphrase proven; waiting for RPTC. */
  WaitingConfig: 1,
  /** Fully logged in. */
  Connected: 2,
} as const;

/** The options of a peer that sent none: every default the server's. */
export const NO_OPTIONS: PeerOptions = { ts1: [], ts2: [], dial: 0, timerMs: null, single: null, voice: null, lang: null, identTg: null };

/**
 * A slot of a session. A class rather than an object literal on purpose: its times start as the
 * double NEVER, and a class's field initialisers give every slot the same fields in the same number
 * form from the start; the fan-out loop reads them for every receiver of every packet.
 */
class Slot implements SlotState {
  rx: Stream | null = null;
  rxTg = 0;
  rxTime = NEVER;
  txStream = 0;
  txTg = 0;
  txTime = NEVER;
  txEnded = true;
  readonly target: Target;
  mark = 0;
  aclRefused = NEVER;

  constructor(socket: number, address: string, port: number, peerId: number, slot: 1 | 2) {
    this.target = { socket, address, port, peerId, slotBit: slot === 2 ? 0x80 : 0 };
  }
}

const newSlot = (socket: number, address: string, port: number, peerId: number, slot: 1 | 2): SlotState => new Slot(socket, address, port, peerId, slot);

export function newSession(
  peerId: number,
  socket: number,
  address: string,
  port: number,
  now: number,
  serial: number,
  role: SessionRole = 'peer',
  credential: Credential | null = null,
): Session {
  return {
    peerId,
    role,
    socket,
    address,
    port,
    serial,
    state: SessionState.WaitingConfig,
    loggedInAt: now,
    lastSeen: now,
    config: null,
    optionsText: null,
    revision: 0,
    options: NO_OPTIONS,
    optionsKey: null,
    defaultReflector: 0,
    subs: [null, new Map(), new Map()],
    slots: [null, newSlot(socket, address, port, peerId, 1), newSlot(socket, address, port, peerId, 2)],
    closed: false,
    acl: null,
    credential,
    // A master takes DMRA from its peers, so an uplink's master gets it; a peer only when it says so.
    acceptsAlias: role === 'uplink' || (credential?.talkerAlias ?? false),
    notices: { start: -1, noticed: 0, quiet: 0 },
  };
}

/** The session is pinned to this address and port. */
export const sessionAt = (s: Session, address: string, port: number): boolean => s.port === port && s.address === address;

/** Log-once subject of a session (a new login of the same peer logs afresh). */
export const sessionSubject = (s: Session): string => `session:${s.serial}`;
