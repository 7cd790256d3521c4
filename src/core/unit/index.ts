// Unit (private) calls other than dial-a-TG commands (spec §4.14):
//  - unit data (SMS, GPS: a private call that starts with a data frame) goes to the peer and slot
//    where the destination subscriber was last heard; failing that, to the peer whose ID begins
//    with the subscriber's 7 digits (a hotspot's ID is its owner's ID plus two digits), on TS2;
//    only when that slot is idle, and without touching its voice state (hang time, contention);
//  - private voice to a subscriber ID (≥ 1 000 000), when the server enables it
//    (`routing.privateCalls`), goes the same way, holds the slot like any call, and leaves a hang
//    time that only the same pair of subscribers may use (so the answer gets through).
// Subscribers are learned from every call's first packet (HeardTable), kept for
// `routing.lastHeardMs`, and bounded in number (the oldest are forgotten first).

import type { CoreEnv } from '../effects.js';
import type { Session, Stream } from '../model/index.js';
import { SessionState } from '../sessions/session.js';
import { laneFree, laneIdleForData } from '../streams/contention.js';

/** Where unit traffic for `dst` goes: its last-heard peer and slot, else the hotspot-ID rule. */
export function findSubscriber(env: CoreEnv, dst: number, from: Session, now: number): { session: Session; slot: 1 | 2 } | null {
  const e = env.heard.get(dst);
  if (e !== undefined) {
    if (now - e.at <= env.cfg.routing.lastHeardMs && !e.session.closed && e.session.state === SessionState.Connected) return e.session === from ? null : e;
    env.heard.delete(dst);
  }
  if (dst < 1_000_000 || dst > 9_999_999) return null;
  for (const s of env.sessions.hotspotsOf(dst)) if (s !== from && !s.closed && s.state === SessionState.Connected) return { session: s, slot: 2 };
  return null;
}

/** The hang-time key of a private call between two subscribers (never equal to a talkgroup). */
export const pairKey = (a: number, b: number): number => -(Math.min(a, b) * 0x1000000 + Math.max(a, b));

/** One packet of a routed unit call. */
export function forwardUnit(env: CoreEnv, st: Stream, b: Uint8Array, now: number, terminator: boolean): void {
  const to = st.unitTarget!;
  const s = to.session;
  if (s.closed) return;
  const lane = s.slots[to.slot];
  const voice = !st.data;
  const key = voice ? pairKey(st.src, st.tg) : 0;
  const t = env.cfg.timers;
  // Voice contends like any call; data waits for a quiet slot.
  const free = voice
    ? laneFree(lane, st.id, key, now, t.collisionWindowMs, t.groupHangtimeMs)
    : laneIdleForData(lane, st.id, now, t.collisionWindowMs, t.groupHangtimeMs);
  if (!free) {
    env.counters.add(voice ? 'private.busy' : 'unit-data.busy');
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
  env.hot.framesForwarded++;
  env.hot.sendsForwarded++;
  env.fx.fanOut(frame, st.unitTargets, 1);
}
