// A link to another server: OpenBridge v1 (spec §3.1) or the FreeDMR bridge protocol, FBP (§3.2–3.7).
// Owned by src/core/links (the LinkTable).

import type { HmacSha1 } from '../../protocol/obp/hmac-sha1.js';
import type { DmreMeta, FbpKeys } from '../../protocol/fbp/index.js';
import type { LcRewriter } from '../../protocol/dmr/rewrite.js';
import type { Session } from './session.js';
import type { AclSet } from './acl.js';

export interface Link {
  cfg: LinkConfig;
  /** The link key, ready to sign and check frames. */
  mac: HmacSha1;
  /** The talkgroups of a `talkgroups` list; null = every one that is not local. */
  carried: Set<number> | null;
  /** Stands for the link as the talker of the streams it brings in (never logged in, never a receiver). */
  readonly session: Session;
  /** Reused for outgoing frames unless the shell still holds the last one (then a new one is made). */
  buffer: Uint8Array | null;
  framesIn: number;
  framesOut: number;
  dropped: number;
  /** Taken out of the config (its socket is no longer read). */
  removed: boolean;
  /** Where frames go: the config's target, or where an FBP link's far end was last heard from (follow_address). */
  targetAddress: string;
  targetPort: number;
  /** FBP state; null on an OpenBridge v1 link. */
  fbp: FbpLinkState | null;
  /** Per refusal code that points at a setup error: when it was last logged, and how many since. */
  readonly warned: Map<string, { at: number; count: number }>;
  /** The link's own ACLs (sub_acl, tgid_acl as tgidTs1), checked after the global ones. */
  acl: AclSet;
  /**
   * Streams from the far end that an ACL refused, by stream ID, with the time of their last frame:
   * their later frames are dropped by this lookup, without checking the lists again. Bounded.
   */
  readonly aclRefused: Map<number, number>;
  /** Loops and quenches counted for the link's state reports (`dropped` above counts every refusal). */
  readonly counts: { quenchSent: number; quenchReceived: number; loops: number; tooManyHops: number };
}

/** What an FBP link keeps beyond an OpenBridge one. */
export interface FbpLinkState {
  keys: FbpKeys;
  /** Reused for outgoing DMRE frames unless the shell still holds the last one. */
  out: Uint8Array | null;
  /** The keepalive and the version advertisement: constant frames, made once. */
  readonly bcka: Uint8Array;
  readonly bcve: Uint8Array;
  /** The highest protocol version the far end showed in a verified BCVE or DMRE (0: none yet). */
  peerVersion: number;
  /** Core time of the last verified frame from the far end (NEVER: none yet). */
  lastHeard: number;
  /** When a BCSQ last went out for a stream ID (refreshed at most once a second per stream). */
  readonly quenchSent: Map<number, number>;
  /** When a v1 frame was last answered with a BCVE. */
  lastNudge: number;
  /** Keepalive ticks so far (the version advertisement and the silence warning go every sixth). */
  ticks: number;
  /** Its `link-tick` timer is scheduled. */
  ticking: boolean;
  /** Largest clock difference seen in a DMRE timestamp (ms, either way). */
  maxSkewMs: number;
  /** The far end is heard (a verified frame within the last minute); false until the first one. */
  up: boolean;
}

/** One link a stream is sent on, and the talkgroup it goes out as. */
export interface LinkTarget {
  readonly link: Link;
  readonly tg: number;
  /** Null when the stream goes out on its own talkgroup. */
  readonly rewriter: LcRewriter | null;
  /** Frames of this stream sent on the link so far. */
  sent: number;
  /** When the far end (FBP) last asked us to stop sending this stream (BCSQ); the quench lapses. */
  quenchedAt: number;
}

/** The FBP fields a stream carries from where it entered the mesh (and the hop count of its last frame). */
export type StreamOrigin = DmreMeta;

/**
 * One link (spec §3.1–3.7): a server-to-server trunk carrying many calls at once on TS1, either
 * OpenBridge v1 (HMAC-SHA1 per frame, no transit) or FBP (DMRE with BLAKE2b, hops, keepalives,
 * quench; calls transit between FBP links).
 */
export interface LinkConfig {
  /** Unique name, for logs and counters. */
  name: string;
  /** The shell socket this link sends and receives on (1, 2, … in file order; 0 is HBP's). */
  socket: number;
  /** The other server's address and port. */
  address: string;
  port: number;
  /** Shared secret; the HMAC-SHA1 key is its UTF-8 bytes NUL-padded or cut to 20. */
  passphrase: string;
  /** The ID the other server writes into bytes 11–14 (FreeDMR NETWORK_ID); frames with another are dropped; 0 = not checked. */
  networkId: number;
  /** Write the originating peer's ID into bytes 11–14 instead of this server's ID (HBlink PRESERVE_SOURCE_PEER). */
  preserveSourcePeer: boolean;
  /** Take frames only from address:port (FreeDMR RELAX_CHECKS = False). */
  checkSource: boolean;
  /** Talkgroups carried both ways; empty = every talkgroup that is not local or prohibited. */
  talkgroups: number[];
  // The FBP keys may be left out (configs written before FBP, tests): the core's config defaults
  // (LINK_DEFAULTS in core/config.ts) fill them in.
  /** 'openbridge' (v1, the default) or 'fbp' (FreeDMR bridge protocol, DMRE v5). */
  protocol?: 'openbridge' | 'fbp';
  /** FBP: move the target to where a verified keepalive came from (NAT, dynamic addresses); default off. */
  followAddress?: boolean;
  /** FBP: a frame whose hop count, plus one, is above this is dropped (FreeDMR 10). */
  maxHops?: number;
  /** FBP: a frame whose timestamp is older than this is dropped (FreeDMR 5 s). */
  maxAgeMs?: number;
  /** FBP: if not empty, only calls that entered the mesh at one of these servers are taken. */
  knownServers?: number[];
  /** Subscriber ACL of calls from the far end (FreeDMR SUB_ACL); "" = every subscriber. */
  subAcl?: string;
  /** Talkgroup ACL both ways (FreeDMR TGID_ACL, TS1); "" = every talkgroup. */
  tgidAcl?: string;
}
