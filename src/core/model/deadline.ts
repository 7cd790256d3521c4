// The core's timers, by name. Each is scheduled on the one deadline heap with its subject, and the
// router's one switch (src/core/router.ts, onDeadline) says what each does when it falls due.

import type { Link } from './link.js';
import type { Playout } from './playout.js';
import type { PendingLogin, Session } from './session.js';
import type { RefusedStream, Stream } from './stream.js';
import type { Subscription } from './subscription.js';
import type { Uplink } from './uplink.js';

export type Deadline =
  /** A session's keepalive limit (checked lazily: a packet only moves `lastSeen`). */
  | { readonly kind: 'keepalive'; readonly session: Session }
  /** A login challenge not answered in time. */
  | { readonly kind: 'login-expiry'; readonly login: PendingLogin }
  /** A live stream's silence limit (a lost terminator). */
  | { readonly kind: 'stream-idle'; readonly stream: Stream }
  /** An ended stream's ID is forgotten (the stream-ID memory has passed). */
  | { readonly kind: 'stream-forget'; readonly stream: Stream }
  /** A refused stream ID is forgotten. */
  | { readonly kind: 'refused-forget'; readonly refused: RefusedStream }
  /** A user activation lapses. */
  | { readonly kind: 'subscription-expiry'; readonly sub: Subscription }
  /** A dialled reflector lapses: the default comes back and the peer is told where its lane is. */
  | { readonly kind: 'dial-expiry'; readonly sub: Subscription }
  /** Single mode's mute of a static talkgroup ends. */
  | { readonly kind: 'unmute'; readonly sub: Subscription }
  /** One timer period after an unlink, the default reflector comes back. */
  | { readonly kind: 'default-reflector'; readonly session: Session }
  /** The next frame of a playout. */
  | { readonly kind: 'playout-frame'; readonly playout: Playout }
  /** An FBP link's keepalive (every 10 s), version advertisement and silence check (every 60 s). */
  | { readonly kind: 'link-tick'; readonly link: Link }
  /** The periodic voice ident of a peer. */
  | { readonly kind: 'ident'; readonly session: Session }
  /** An uplink's next login attempt, after its backoff (stale when the uplink's `gen` moved on). */
  | { readonly kind: 'uplink-retry'; readonly uplink: Uplink; readonly gen: number }
  /** An uplink's login step went unanswered for too long. */
  | { readonly kind: 'uplink-step-timeout'; readonly uplink: Uplink; readonly gen: number }
  /** An uplink's next RPTPING (or, after too many unanswered, its end). */
  | { readonly kind: 'uplink-ping'; readonly uplink: Uplink; readonly gen: number }
  /** The next state report for the operator console (config `console.snapshotMs`). */
  | { readonly kind: 'console-snapshot' };

export type DeadlineKind = Deadline['kind'];
