// A stream the core makes itself (an echo playback, a voice prompt), played one frame per 60 ms.

import type { Session } from './session.js';

export type PlayoutKind = 'echo' | 'prompt';

export type PlayoutEnd = 'played' | 'gave-up' | 'interrupted' | 'peer-gone';

export interface Playout {
  readonly session: Session;
  readonly slot: 1 | 2;
  /** Complete 55-byte DMRD frames, handed over: the sequence number and stream ID are written into them on the way out. */
  readonly frames: readonly Uint8Array[];
  /** The talkgroup the lane is busy with while it plays (for hang time and contention). */
  readonly tg: number;
  readonly streamId: number;
  /** When to send the first frame (core time). */
  readonly startAt: number;
  /** Give up if the slot has not been free this long after `startAt`. */
  readonly maxWaitMs: number;
  readonly kind: PlayoutKind;
  /** The next frame to send. */
  next: number;
}
