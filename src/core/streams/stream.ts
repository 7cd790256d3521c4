// A stream: one transmission from one peer's slot, identified by its stream ID, from its first
// packet to its terminator (or timeout). Its target list is worked out at the start and rebuilt
// only when the conference's membership changes.

import type { Session } from '../sessions/session.js';
import type { LcRewriter } from '../../protocol/dmr/rewrite.js';
import type { Target } from '../actions.js';
import type { Conference, Subscription } from '../subscriptions/index.js';
import type { EchoRecording } from '../echo/index.js';
import type { DialOutcome } from '../dial/index.js';
import type { Link, LinkTarget } from '../links/index.js';

/** The receivers of a stream that hear it on one talkgroup, and how its frames are rewritten for them. */
export interface Variant {
  tg: number;
  subs: Subscription[];
  /** Null for the stream's own talkgroup (frames go out as they came). */
  rewriter: LcRewriter | null;
  /** Reused list of this packet's receivers. */
  scratch: Target[];
  /** The frame and receiver count of the current packet, between selection and sending. */
  pending: Uint8Array | null;
  count: number;
  /** Reused buffer for this variant's rewritten frames (null: make a new one; the last is still queued). */
  buffer: Uint8Array | null;
}

export type EndReason = 'terminator' | 'timeout' | 'superseded' | 'peer-gone' | 'shutdown';

export class Stream {
  lastAt: number;
  lastSeq: number;
  packets = 1;
  forwarded = 0;
  lost = 0;
  duplicates = 0;
  stale = 0;
  rateDrops = 0;
  /** Sums of the BER and RSSI bytes of the 55-byte packets, and how many there were. */
  berSum = 0;
  rssiSum = 0;
  qualityPackets = 0;
  /** Receivers the stream reached at least once. */
  receivers = 0;
  /** The stream began with a data frame (CSBK, data header, data block) rather than voice. */
  data = false;
  /** A private (unit-to-unit) call: a dial-a-TG control call, never forwarded. */
  unit = false;
  ended = false;
  endReason: EndReason | null = null;
  /** The stream stopped being forwarded (max duration reached) but is not ended yet. */
  cutOff = false;
  /** Subscriptions that receive this stream (built at start; rebuilt when `version` is stale). */
  targets: Subscription[] = [];
  variants: Variant[] = [];
  version = -1;
  /**
   * Other peers that sent this stream too (the same radio heard by several hotspots): a copy
   * dropped as a loop, or refused because the peer's slot was busy. They have the call on the air
   * already, so they never receive it.
   */
  alsoFrom: number[] | null = null;
  /** The subscription the talker's lane feeds (null: not routed). */
  ingress: Subscription | null = null;
  /**
   * First three link-control bytes (FLCO, FID, service options) for rewritten copies: from the
   * voice header, or FreeDMR's `00 00 20` when the stream began without one (late entry).
   */
  lcPrefix: readonly number[] = [0x00, 0x00, 0x20];
  /** A unit call routed to a subscriber (unit data, or private voice when enabled). */
  unitTarget: { session: Session; slot: 1 | 2 } | null = null;
  /** The fan-out list of that one receiver. */
  unitTargets: Target[] = [];
  /** A private call's dial-a-TG command outcome, answered by a voice prompt when the call ends. */
  dialOutcome: DialOutcome | null = null;
  /** A call to the echo talkgroup being recorded for playback (never routed). */
  echo: EchoRecording | null = null;
  /** The link this stream came in on (null: from a peer). */
  link: Link | null = null;
  /** The links a peer's stream goes out on (worked out at its start and after config changes). */
  linkTargets: LinkTarget[] = [];
  /** The link policy (ctx.linkPolicy) the link fields were worked out under. */
  linkPolicy = -1;
  /** A link's stream whose talkgroup a config change took off the link: why its frames are dropped. */
  linkRefused: string | null = null;
  /** Deadline currently scheduled for the inactivity check. */
  deadlineAt = 0;

  constructor(
    readonly id: number,
    readonly session: Session,
    readonly slot: 1 | 2,
    readonly src: number,
    readonly tg: number,
    readonly startedAt: number,
    firstSeq: number,
    public conference: Conference | null,
  ) {
    this.lastAt = startedAt;
    this.lastSeq = firstSeq;
  }
}
