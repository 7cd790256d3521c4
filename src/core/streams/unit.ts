// Unit (private) calls other than dial-a-TG commands (spec §4.14):
//  - unit data (SMS, GPS: a private call that starts with a data frame) goes to the peer and slot
//    where the destination subscriber was last heard; failing that, to the peer whose ID begins
//    with the subscriber's 7 digits (a hotspot's ID is its owner's ID plus two digits), on TS2;
//    only when that slot is idle, and without touching its voice state (hang time, contention);
//  - private voice to a subscriber ID (≥ 1 000 000), when the server enables it
//    (`routing.privateCalls`), goes the same way, holds the slot like any call, and leaves a hang
//    time that only the same pair of subscribers may use (so the answer gets through).
// Subscribers are learned from every call's first packet (`lastHeard`), kept for
// `routing.lastHeardMs`, and bounded in number (the oldest are forgotten first).

import type { CoreContext } from '../context.js';
import type { Session, SlotState } from '../sessions/session.js';
import type { Stream } from './stream.js';
import { laneFree } from './contention.js';

/** Most subscribers remembered; beyond it the least recently heard are forgotten. */
export const LAST_HEARD_MAX = 200_000;

export interface HeardAt {
  session: Session;
  slot: 1 | 2;
  at: number;
}

/** A subscriber was heard at a peer's slot (every stream start). */
export function heard(ctx: CoreContext, s: Session, slot: 1 | 2, src: number, now: number): void {
  const m = ctx.lastHeard;
  const e = m.get(src);
  if (e !== undefined) {
    // Keep the map in hearing order, so the oldest entries are first.
    m.delete(src);
    e.session = s;
    e.slot = slot;
    e.at = now;
    m.set(src, e);
  } else {
    m.set(src, { session: s, slot, at: now });
    if (m.size > LAST_HEARD_MAX) m.delete(m.keys().next().value!);
  }
}

/** The 7-digit owner of a 9-digit hotspot ID (owner ID plus two digits), or null. */
export const ownerOf = (peerId: number): number | null => (peerId >= 100_000_000 && peerId <= 999_999_999 ? Math.floor(peerId / 100) : null);

/** Keep `ctx.hotspots` (owner ID → that owner's hotspot sessions) as sessions come and go. */
export function trackHotspot(ctx: CoreContext, s: Session, present: boolean): void {
  const owner = ownerOf(s.peerId);
  if (owner === null) return;
  let set = ctx.hotspots.get(owner);
  if (present) {
    if (set === undefined) ctx.hotspots.set(owner, (set = new Set()));
    set.add(s);
  } else if (set !== undefined) {
    set.delete(s);
    if (set.size === 0) ctx.hotspots.delete(owner);
  }
}

/** Where unit traffic for `dst` goes: its last-heard peer and slot, else the hotspot-ID rule. */
export function findSubscriber(ctx: CoreContext, dst: number, from: Session, now: number): { session: Session; slot: 1 | 2 } | null {
  const e = ctx.lastHeard.get(dst);
  if (e !== undefined) {
    if (now - e.at <= ctx.cfg.routing.lastHeardMs && !e.session.closed && e.session.state === 2) return e.session === from ? null : e;
    ctx.lastHeard.delete(dst);
  }
  if (dst < 1_000_000 || dst > 9_999_999) return null;
  for (const s of ctx.hotspots.get(dst) ?? []) if (s !== from && !s.closed && s.state === 2) return { session: s, slot: 2 };
  return null;
}

/** The hang-time key of a private call between two subscribers (never equal to a talkgroup). */
export const pairKey = (a: number, b: number): number => -(Math.min(a, b) * 0x1000000 + Math.max(a, b));

/** Unit data needs the slot quiet both ways: nothing received, and nothing sent within the hang time. */
function dataLaneIdle(ctx: CoreContext, lane: SlotState, streamId: number, now: number): boolean {
  const t = ctx.cfg.timers;
  const rx = lane.rx;
  if (rx !== null && !rx.ended && now - lane.rxTime < t.collisionWindowMs) return false;
  if (lane.txStream === streamId) return true;
  if (!lane.txEnded && now - lane.txTime < t.collisionWindowMs) return false;
  return now - lane.txTime >= t.groupHangtimeMs;
}

/** One packet of a routed unit call. */
export function forwardUnit(ctx: CoreContext, st: Stream, b: Uint8Array, now: number, terminator: boolean): void {
  const to = st.unitTarget!;
  const s = to.session;
  if (s.closed) return;
  const lane = s.slots[to.slot];
  const voice = !st.data;
  const key = voice ? pairKey(st.src, st.tg) : 0;
  // Voice contends like any call; data waits for a quiet slot.
  const free = voice ? laneFree(ctx, lane, st.id, key, now) : dataLaneIdle(ctx, lane, st.id, now);
  if (!free) {
    ctx.counters.add(voice ? 'private.busy' : 'unit-data.busy');
    return;
  }
  if (voice) {
    if (lane.txStream !== st.id) st.receivers++;
    lane.txStream = st.id;
    lane.txTg = key;
    lane.txTime = now;
    lane.txEnded = terminator;
  } else if (st.forwarded === 0) st.receivers++;
  let frame = b;
  if (b.length !== 55) {
    frame = new Uint8Array(55);
    frame.set(b);
  }
  st.forwarded++;
  ctx.hot.framesForwarded++;
  ctx.hot.sendsForwarded++;
  ctx.sink.fanOut(frame, st.unitTargets, 1);
}
