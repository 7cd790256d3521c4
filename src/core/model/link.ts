// An OpenBridge v1 link to another server (spec §3.1). Owned by src/core/links (the LinkTable).

import type { HmacSha1 } from '../../protocol/obp/hmac-sha1.js';
import type { LcRewriter } from '../../protocol/dmr/rewrite.js';
import type { Session } from './session.js';

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
}

/** One link a stream is sent on, and the talkgroup it goes out as. */
export interface LinkTarget {
  readonly link: Link;
  readonly tg: number;
  /** Null when the stream goes out on its own talkgroup. */
  readonly rewriter: LcRewriter | null;
  /** Frames of this stream sent on the link so far. */
  sent: number;
}

/** One OpenBridge v1 link (spec §3.1): a server-to-server trunk carrying many calls at once on TS1. */
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
}
