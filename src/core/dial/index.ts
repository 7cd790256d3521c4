// Dial-a-TG (spec §4.6, FreeDMR 2 design §4): a private call to N attaches reflector N to the
// peer's TG 9 lane (on the dial slot, TS2 by default, whichever slot the call came from); 4000
// detaches it; 5000 asks for the status. One reflector per peer. A peer's default reflector (DIAL= /
// StartRef, or the server's) is attached at login, gives way to a dialled one, and comes back when
// that one times out, or one timer period after a detach. Traffic on the lane is rewritten between
// TG 9 and TG N (destination and link control) by the stream's fan-out. ("Link" in the log codes
// and prompts is the radio user's word for this; OpenBridge links to other servers are src/core/links.)

import type { CoreEnv } from '../effects.js';
import type { DialOutcome, Session, Subscription } from '../model/index.js';
import { prohibited, timerOf } from '../sessions/policy.js';
import { sessionSubject } from '../sessions/session.js';
import { touch } from '../subscriptions/user.js';
import { digits, say, sayOndemand } from '../prompts/index.js';

export const DIAL_TG = 9;
export const UNLINK = 4000;
export const STATUS = 5000;

/** The subscription on the peer's dial lane (a dialled link or the default reflector), if any. */
export function dialLane(env: CoreEnv, s: Session): Subscription | null {
  const sub = s.subs[env.cfg.routing.dialSlot].get(DIAL_TG);
  return sub !== undefined && (sub.source === 'dial' || sub.source === 'default-reflector') ? sub : null;
}

/** A static TG 9 on the dial slot (the peer asked for it in its options) leaves no room for a link. */
function laneTakenByStatic(env: CoreEnv, s: Session): boolean {
  const sub = s.subs[env.cfg.routing.dialSlot].get(DIAL_TG);
  return sub !== undefined && dialLane(env, s) === null;
}

/** Reflectors a peer may dial. */
export function dialable(env: CoreEnv, n: number): boolean {
  return n >= 5 && n <= 999_999 && n !== 8 && n !== 9 && !(n >= 4000 && n <= 5000) && !(n >= 9990 && n <= 9999) && !prohibited(env.cfg, n);
}

/** Put reflector `n` on the peer's dial lane, replacing what is there. */
function attachReflector(env: CoreEnv, s: Session, n: number, source: 'dial' | 'default-reflector', now: number): Subscription | null {
  if (laneTakenByStatic(env, s)) {
    env.counters.add('dial.lane-static');
    if (env.logOnce.first(sessionSubject(s), 'dial.lane-static')) {
      env.fx.log({ code: 'dial.refused', level: 'warn', peer: s.peerId, tg: n, detail: `TG ${DIAL_TG} is a static talkgroup on TS${env.cfg.routing.dialSlot}, so no reflector can be linked` });
    }
    return null;
  }
  const cur = dialLane(env, s);
  if (cur !== null) env.index.remove(cur, 'removed');
  const sub = env.index.add(s, env.cfg.routing.dialSlot, DIAL_TG, n, source);
  if (sub !== null && source === 'dial') touch(env, sub, now, true);
  return sub;
}

/** A dialled reflector lapsed (its `dial-expiry` removed it): the default comes back, and the peer hears where its lane is. */
export function dialExpired(env: CoreEnv, sub: Subscription, now: number): void {
  const s = sub.session;
  const n = sub.conference;
  env.counters.add('dial.expired');
  env.fx.log({ code: 'dial.expired', level: 'info', peer: s.peerId, tg: n });
  restoreDefault(env, s, now);
  // The "disconnected" notice: where the lane is now.
  if (s.closed) return;
  const lane = dialLane(env, s);
  if (lane !== null) say(env, s, ['linked-to', ...digits(lane.conference)], now, 'disconnected');
  else say(env, s, ['not-linked'], now, 'disconnected');
}

/** Attach the peer's default reflector again, unless the lane has one. */
export function restoreDefault(env: CoreEnv, s: Session, now: number): void {
  if (s.closed || s.defaultReflector === 0 || dialLane(env, s) !== null) return;
  attachReflector(env, s, s.defaultReflector, 'default-reflector', now);
}

/** Set the peer's default reflector (0 = none) and link it unless a dialled link is in place. */
export function setDefaultReflector(env: CoreEnv, s: Session, n: number): void {
  s.defaultReflector = n !== 0 && dialable(env, n) ? n : 0;
  const cur = dialLane(env, s);
  if (cur !== null && cur.source === 'dial') return;
  if (cur !== null && (s.defaultReflector === 0 || cur.conference !== s.defaultReflector)) env.index.remove(cur, 'removed');
  if (s.defaultReflector !== 0 && dialLane(env, s) === null) attachReflector(env, s, s.defaultReflector, 'default-reflector', env.now);
}

/** Information service: a private call to one of these plays a clip from the prompt pack. */
export const INFO_FIRST = 9991;
export const INFO_LAST = 9999;

/** The voice prompt that answers a dial-a-TG command (spec §4.6), at the end of the private call. */
export function dialFeedback(env: CoreEnv, s: Session, o: DialOutcome, now: number): void {
  if (s.closed) return;
  switch (o.kind) {
    case 'linked':
      return say(env, s, ['linked-to', ...digits(o.tg)], now, 'linked');
    case 'unlinked':
      return say(env, s, ['not-linked'], now, 'unlinked');
    case 'status':
      return o.linked !== 0 ? say(env, s, ['linked-to', ...digits(o.linked)], now, 'status') : say(env, s, ['not-linked'], now, 'status');
    case 'refused':
      return say(env, s, ['busy'], now, 'busy');
    case 'info':
      return sayOndemand(env, s, o.n, now);
  }
}

/** A private call from `s` to `n`, at its first packet. */
export function dial(env: CoreEnv, s: Session, n: number, now: number): DialOutcome {
  if (n === UNLINK) {
    const cur = dialLane(env, s);
    if (cur !== null) env.index.remove(cur, 'removed');
    env.fx.log({ code: 'dial.unlinked', level: 'info', peer: s.peerId, ...(cur ? { tg: cur.conference } : {}) });
    const timer = timerOf(env.cfg, s);
    if (s.defaultReflector !== 0 && timer !== 0) env.fx.schedule(now + timer, { kind: 'default-reflector', session: s });
    return { kind: 'unlinked' };
  }
  if (n >= INFO_FIRST && n <= INFO_LAST) return { kind: 'info', n };
  if (n === STATUS) {
    const cur = dialLane(env, s);
    return { kind: 'status', linked: cur?.conference ?? 0 };
  }
  if (!dialable(env, n) || laneTakenByStatic(env, s)) {
    env.counters.add('dial.refused');
    env.fx.log({ code: 'dial.refused', level: 'info', peer: s.peerId, tg: n });
    return { kind: 'refused', tg: n };
  }
  const cur = dialLane(env, s);
  if (cur !== null && cur.conference === n) {
    if (cur.source === 'dial') touch(env, cur, now);
  } else {
    attachReflector(env, s, n, 'dial', now);
  }
  env.counters.add('dial.linked');
  env.fx.log({ code: 'dial.linked', level: 'info', peer: s.peerId, tg: n });
  return { kind: 'linked', tg: n };
}
