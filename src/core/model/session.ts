// A peer session: one hotspot or repeater logged in over HBP, pinned to the address it proved its
// passphrase from. Each of its two slots keeps what it is sending us (rx) and what we send it (tx).
// Owned by src/core/sessions (made by newSession, kept in the SessionTable).

import type { RepeaterConfig } from '../../protocol/hbp/index.js';
import type { Credential } from './credential.js';
import type { Target } from './target.js';
import type { Stream } from './stream.js';
import type { Subscription } from './subscription.js';
import type { AclSet } from './acl.js';

/** 1: passphrase proven, waiting for RPTC. 2: fully logged in (see SessionState in sessions/session.ts). */
export type SessionStateValue = 1 | 2;

/** The options a peer asked for in RPTO (spec §4.4), or the server's where it said nothing. */
export interface PeerOptions {
  ts1: number[];
  ts2: number[];
  /** Default reflector (0 = none). */
  dial: number;
  /** User-activation/dial timer in ms; null = the server's. */
  timerMs: number | null;
  single: boolean | null;
  voice: boolean | null;
  lang: string | null;
  identTg: number | null;
}

/** One slot of a peer, both ways. */
export interface SlotState {
  /** The stream this peer is sending us on this slot (current or last). */
  rx: Stream | null;
  /** The talkgroup (or private-call pair key) the slot last carried from the peer, and when. */
  rxTg: number;
  rxTime: number;
  /** What we last sent the peer on this slot. */
  txStream: number;
  txTg: number;
  txTime: number;
  txEnded: boolean;
  /** The fan-out entry for this peer and slot, shared by every stream sent to it. */
  readonly target: Target;
  /** Marker used while building a stream's target list, to keep one entry per (peer, slot). */
  mark: number;
  /**
   * The ID of the last stream from the peer on this slot that an ACL refused (NEVER: none): its
   * later packets are dropped by this one comparison, without checking the lists again.
   */
  aclRefused: number;
}

/**
 * What a session stands for: a peer logged in over HBP (in the session table), or the stand-in of
 * an OpenBridge link or of an uplink to another master (never in the session table).
 */
export type SessionRole = 'peer' | 'link' | 'uplink';

export interface Session {
  readonly peerId: number;
  readonly role: SessionRole;
  readonly socket: number;
  readonly address: string;
  readonly port: number;
  /** Sessions made so far when this one was made: names it in log-once subjects. */
  readonly serial: number;
  state: SessionStateValue;
  readonly loggedInAt: number;
  lastSeen: number;
  config: RepeaterConfig | null;
  /** The raw options text from RPTO, or null when the peer sent none (server defaults apply). */
  optionsText: string | null;
  /**
   * Bumped at every change of what the console's state report shows of the session: its config,
   * its options text, a subscription added or removed. The report sends a peer again only when
   * this moved. Bumped only through SessionTable.changed, which also notes the session for the
   * next report, so the report looks only at the peers noted since the last one
   * (src/core/operator/snapshot.ts).
   */
  revision: number;
  /** The options in force (server defaults where the peer set nothing). */
  options: PeerOptions;
  /** The KEY the first keyed options string locked this session to. */
  optionsKey: string | null;
  /** The reflector the dial lane returns to (0 = none). */
  defaultReflector: number;
  /** Subscriptions by slot, keyed by the talkgroup the peer uses on the air. */
  readonly subs: [null, Map<number, Subscription>, Map<number, Subscription>];
  readonly slots: [null, SlotState, SlotState];
  closed: boolean;
  /**
   * The ACLs of the credential the peer logged in with, checked after the global ones; null = the
   * global ones only. Set at login by whoever matched the credential.
   */
  acl: AclSet | null;
  /** The per-peer credential it proved, or null (the catch-all passphrase, or a stand-in). */
  readonly credential: Credential | null;
  /** Talker alias (DMRA) may be sent to it (its credential or its RPTC software ID says so). */
  acceptsAlias: boolean;
  /** The flood limit's window of new-stream notices (src/core/streams/notices.ts). */
  readonly notices: NoticeWindow;
}

/** New streams noticed (logged and reported one by one) and kept quiet in the current minute. */
export interface NoticeWindow {
  /** Core time the window began; -1 = no window open. */
  start: number;
  /** Streams logged and reported one by one in this window. */
  noticed: number;
  /** Streams beyond the limit in this window: only counted, summed up when the window ends. */
  quiet: number;
}
