// An OpenBridge v1 link to another server (spec §3.1). Owned by src/core/links (the LinkTable).

import type { HmacSha1 } from '../../protocol/obp/hmac-sha1.js';
import type { LcRewriter } from '../../protocol/dmr/rewrite.js';
import type { LinkConfig } from '../config.js';
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
