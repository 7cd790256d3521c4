// Whether a stream may go to a receiving lane now: the contention rules of group forwarding
// (src/core/streams/group-voice.ts, which keeps its own inlined copy on the per-packet path), for
// the streams that have one receiver — the core's own playouts and private calls.
//  - the receiver is itself transmitting on that slot (within the collision window) → no;
//  - the slot carried another talkgroup either way within the group hang time → no;
//  - another stream is being sent to it, not terminated, within the collision window → no.
// `key` is the talkgroup (or a private call's pair key) the stream holds the lane with.

import type { CoreContext } from '../context.js';
import type { SlotState } from '../sessions/session.js';

export function laneFree(ctx: CoreContext, lane: SlotState, streamId: number, key: number, now: number): boolean {
  const t = ctx.cfg.timers;
  const rx = lane.rx;
  if (rx !== null && !rx.ended && now - lane.rxTime < t.collisionWindowMs) return false;
  if (lane.rxTg !== key && now - lane.rxTime < t.groupHangtimeMs) return false;
  if (lane.txStream !== streamId) {
    if (!lane.txEnded && now - lane.txTime < t.collisionWindowMs) return false;
    if (lane.txTg !== key && now - lane.txTime < t.groupHangtimeMs) return false;
  }
  return true;
}
