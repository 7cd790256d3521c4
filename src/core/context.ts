// The state the core's modules share. The Core class owns it; the modules (login, streams, options)
// are functions over it, so each concept stays in its own file without a web of classes.

import type { ActionSink, CoreReport, LogEntry } from './actions.js';
import type { CoreConfig } from './config.js';
import type { Counters, LogOnce } from './counters.js';
import type { DeadlineHeap } from './deadlines.js';
import type { DatagramEvent, PromptPackData } from './events.js';
import type { Prng } from './prng.js';
import type { EndReason, Stream } from './streams/stream.js';
import type { PendingLogin, Session } from './sessions/session.js';
import type { SubscriptionIndex } from './subscriptions/index.js';
import type { HeardAt } from './streams/unit.js';
import type { Link } from './links/index.js';

export interface CoreDeps {
  /** SHA-256 of `data` (32 bytes). Injected so the core stays free of node:crypto. */
  sha256(data: Uint8Array): Uint8Array;
  // OpenBridge MACs are computed by the core's own HMAC-SHA1 (src/protocol/obp/hmac-sha1.ts): a
  // link key is fixed, and precomputing its blocks makes a frame's MAC cheaper than a call out.
}

/** Packet-path counters kept as plain fields (a Map update per packet would cost more). */
export interface HotCounters {
  dmrdIn: number;
  framesForwarded: number;
  sendsForwarded: number;
  /** Marker epoch for building target lists (one entry per peer and slot). */
  markEpoch: number;
}

/** A stream ID refused on a busy slot: the peers that sent it, and when one last did. */
export interface RefusedStream {
  peers: number[];
  lastAt: number;
}

export interface CoreContext {
  cfg: CoreConfig;
  deps: CoreDeps;
  sink: ActionSink;
  prng: Prng;
  /** Passphrase bytes (UTF-8), derived from cfg. */
  passphrase: Uint8Array;
  readonly sessions: Map<number, Session>;
  readonly pending: Map<string, PendingLogin>;
  readonly index: SubscriptionIndex;
  readonly deadlines: DeadlineHeap;
  readonly counters: Counters;
  readonly hot: HotCounters;
  readonly logOnce: LogOnce;
  /**
   * Streams by stream ID, live and recently ended (for `streamIdMemoryMs`): a stream ID belongs to
   * one lane (peer and slot); the same ID from anywhere else is a loop or a late duplicate.
   */
  readonly streams: Map<number, Stream>;
  liveStreamCount: number;
  /** Sessions counted against maxPeers (the status probe is not). */
  peerCount: number;
  /** Echo recordings and their pending playbacks in progress (bounded by cfg.echo.maxRecordings). */
  echoActive: number;
  /** Hotspot sessions by their owner's 7-digit ID (9-digit peer IDs), for unit traffic. */
  readonly hotspots: Map<number, Set<Session>>;
  /**
   * Stream IDs peers sent while their slot was busy with another talker (refused, not routed), with
   * those peers: if another hotspot or a link brings the same stream, it is not sent back to them.
   * Kept for the stream-ID memory after the last refused copy; bounded in size.
   */
  readonly refusedOn: Map<number, RefusedStream>;
  /** Where each subscriber was last heard (for unit data and private calls), oldest first. */
  readonly lastHeard: Map<number, HeardAt>;
  /** OpenBridge links by the shell socket they use, and in config order. */
  readonly linksBySocket: Map<number, Link>;
  readonly links: Link[];
  /** Bumped whenever the links or the talkgroup policy may have changed (every config applied). */
  linkPolicy: number;
  /** Voice prompt packs by language (from the `prompts-loaded` event). */
  readonly prompts: Map<string, PromptPackData>;

  /** `now` of the event being handled. */
  now: number;
  log(entry: LogEntry): void;
  report(r: CoreReport): void;
  /** Count a malformed or refused datagram; log it once per (address, code). */
  bad(ev: DatagramEvent, code: string, detail?: string): void;
  /** Reply to the sender of `ev`. */
  reply(ev: DatagramEvent, bytes: Uint8Array): void;
  /** Reply to a sender that has not proven itself: never more bytes than it sent us. */
  replyUnauthenticated(ev: DatagramEvent, bytes: Uint8Array): void;
  closeSession(s: Session, now: number, reason: string): void;
  endStream(st: Stream, now: number, reason: EndReason): void;
  scheduleKeepalive(s: Session): void;
}
