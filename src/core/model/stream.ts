// A stream: one transmission, identified by its stream ID, from its first packet to its terminator
// (or timeout). Owned by src/core/streams (made by newStream, kept in the StreamTable).

import type { LcRewriter } from '../../protocol/dmr/rewrite.js';
import type { Target } from './target.js';
import type { DialOutcome } from './dial.js';
import type { EchoRecording } from './echo.js';
import type { Link, LinkTarget, StreamOrigin } from './link.js';
import type { Session } from './session.js';
import type { Conference, Subscription } from './subscription.js';

/**
 * What the core does with a stream, decided at its first packet:
 *  - `conference`: a peer's group call, forwarded to the conference its lane feeds (when there is
 *    one) and out on the links that carry it;
 *  - `link`: a call that came in on a link, forwarded to this server's peers only;
 *  - `echo`: recorded for playback to the caller, never routed;
 *  - `dial`: a private call that is a dial-a-TG command, answered by a prompt at its end;
 *  - `unit`: unit data or private voice to one subscriber, where it was last heard.
 */
export type StreamRoute = 'conference' | 'link' | 'echo' | 'dial' | 'unit';

export type EndReason = 'terminator' | 'timeout' | 'superseded' | 'peer-gone' | 'shutdown';

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

export interface Stream {
  readonly id: number;
  readonly route: StreamRoute;
  /** The talker's session (for a link's stream, the link's stand-in session). */
  readonly session: Session;
  readonly slot: 1 | 2;
  readonly src: number;
  readonly tg: number;
  readonly startedAt: number;
  /** A private (unit-to-unit) call by its flags: reported as such, and keeps the TG 9 lane's hang time. */
  readonly unit: boolean;
  /** The stream began with a data frame (CSBK, data header, data block) rather than voice. */
  readonly data: boolean;
  /**
   * First three link-control bytes (FLCO, FID, service options) for rewritten copies: from the
   * voice header, or FreeDMR's `00 00 20` when the stream began without one (late entry).
   */
  readonly lcPrefix: readonly number[];
  lastAt: number;
  lastSeq: number;
  packets: number;
  forwarded: number;
  lost: number;
  /** Sums of the BER and RSSI bytes of the 55-byte packets, and how many there were. */
  berSum: number;
  rssiSum: number;
  qualityPackets: number;
  /** Receivers the stream reached at least once. */
  receivers: number;
  ended: boolean;
  /** The stream stopped being forwarded (max duration reached) but is not ended yet. */
  cutOff: boolean;
  /** Beyond its source's flood limit: no call.start/call.end log line or report of its own. */
  quiet: boolean;
  conference: Conference | null;
  /** The fan-out groups, rebuilt when `version` differs from the conference's. */
  variants: Variant[];
  version: number;
  /**
   * Other peers that sent this stream too (the same radio heard by several hotspots): a copy
   * dropped as a loop, or refused because the peer's slot was busy. They have the call on the air
   * already, so they never receive it.
   */
  alsoFrom: number[] | null;
  /** `conference` route: the subscription the talker's lane feeds (null: not subscribed, not routed). */
  ingress: Subscription | null;
  /** `unit` route: the one receiver (null: unknown destination), and its fan-out list. */
  unitTarget: { session: Session; slot: 1 | 2 } | null;
  unitTargets: Target[];
  /** `dial` route: the command's outcome, answered by a voice prompt when the call ends. */
  dialOutcome: DialOutcome | null;
  /** `echo` route: the recording (null: refused, too many echoes in progress). */
  echo: EchoRecording | null;
  /** `link` route: the link it came in on. */
  link: Link | null;
  /** `conference` route: the links it goes out on (worked out at its start and after config changes). */
  linkTargets: LinkTarget[];
  /** The link policy (LinkTable.policy) the link fields were worked out under. */
  linkPolicy: number;
  /** `link` route: why a config change took its talkgroup off the link (its frames are dropped). */
  linkRefused: string | null;
  /**
   * What goes into the DMRE frames it is sent in on FBP links: where it entered the mesh (this
   * server and the peer, or what the FBP link it came in on said) and the hop count its last frame
   * had on arrival (1 for a call that starts here). Null until the stream first goes to an FBP link.
   */
  origin: StreamOrigin | null;
}

/** A stream ID refused on a busy slot: the peers that sent it, and when one last did. */
export interface RefusedStream {
  readonly streamId: number;
  readonly peers: number[];
  lastAt: number;
}
