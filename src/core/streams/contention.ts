// Whether a stream may go to a receiving lane now: the contention rules, one rule set for every
// stream that sends to a peer's slot (group fan-out, link calls, private calls, playouts).
//
// First come first served (FreeDMR rules 1–4, with two corrections):
//  - the receiver is itself transmitting on that slot (within the collision window) → no;
//  - the slot carried another talkgroup either way within the group hang time → no;
//  - another stream is being sent to it and has not ended or gone quiet for the collision
//    window → no. FreeDMR compares the talker's subscriber ID here, so two streams from the same
//    subscriber (one radio heard by two hotspots) can interleave on one slot; dmrhub compares the
//    stream, and a slot is free again as soon as its stream's terminator has been sent.
// `key` is the talkgroup (or a private call's pair key) the stream holds the lane with.
//
// Unit data has a rule of its own: it needs the slot quiet both ways, and never moves hang time.

import type { SlotState } from '../model/index.js';

export function laneFree(lane: SlotState, streamId: number, key: number, now: number, window: number, hang: number): boolean {
  const rx = lane.rx;
  if (rx !== null && !rx.ended && now - lane.rxTime < window) return false;
  if (lane.rxTg !== key && now - lane.rxTime < hang) return false;
  if (lane.txTg !== key && now - lane.txTime < hang) return false;
  return lane.txStream === streamId || lane.txEnded || now - lane.txTime >= window;
}

/** Unit data needs the slot quiet both ways: nothing received, and nothing sent within the hang time. */
export function laneIdleForData(lane: SlotState, streamId: number, now: number, window: number, hang: number): boolean {
  const rx = lane.rx;
  if (rx !== null && !rx.ended && now - lane.rxTime < window) return false;
  if (lane.txStream === streamId) return true;
  if (!lane.txEnded && now - lane.txTime < window) return false;
  return now - lane.txTime >= hang;
}
