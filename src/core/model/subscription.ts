// Subscriptions: a (peer, slot, talkgroup on the air) lane joined to a conference. Owned by
// src/core/subscriptions (the SubscriptionIndex is the only writer of membership).

import type { Session } from './session.js';

/**
 * Where a subscription came from: the server's static defaults, the peer's RPTO statics, a user
 * activation (keying a talkgroup), a dialled reflector on the TG 9 lane, or the peer's default
 * reflector on that lane; for an uplink's stand-in session, the talkgroups the uplink carries.
 */
export type SubscriptionSource = 'default' | 'options' | 'user' | 'dial' | 'default-reflector' | 'uplink';

export type SubscriptionChange = 'added' | 'removed' | 'expired';

export interface Subscription {
  readonly session: Session;
  readonly slot: 1 | 2;
  /** The talkgroup the peer uses on the air. */
  readonly rfTg: number;
  /** The conference it is joined to (equal to rfTg except on the TG 9 dial lane). */
  readonly conference: number;
  readonly source: SubscriptionSource;
  /** When it lapses (user activation, dialled reflector), 0 = never. Refreshed on use. */
  expiresAt: number;
  /** Muted by single mode until this time (0 = not muted): it neither sends nor receives. */
  mutedUntil: number;
  /** Removed from the index. */
  gone: boolean;
}

/** The members of one talkgroup's conference. */
export interface Conference {
  readonly tg: number;
  readonly members: Subscription[];
  /**
   * Changed on every membership change, so streams know to rebuild their target lists. Drawn from
   * one counter for the whole index: a conference that emptied is deleted and a new object made
   * later, and a stream still holding the old one must never find the new one at "its" version.
   */
  version: number;
}
