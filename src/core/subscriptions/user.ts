// User-activated talkgroups and single mode (spec §4.5), as a source of subscriptions.
//
// A group call to a talkgroup the peer's slot is not subscribed to subscribes it for the peer's
// timer, and the call itself is routed (FreeDMR routes the first call only when it creates the
// bridge; a "kerchunk" is never needed here). Each further transmission restarts the timer; expiry
// removes it. In single mode, keying a talkgroup on a slot drops the peer's other user-activated
// talkgroups on that slot and mutes its static ones there for one timer period.

import type { CoreEnv } from '../effects.js';
import type { Deadline, Session, Subscription } from '../model/index.js';
import { prohibited, singleOf, timerOf } from '../sessions/policy.js';
import { isStatic } from './index.js';

/** Talkgroups a group call may activate: not service numbers, not the dial lane, not prohibited. */
export function activatable(env: CoreEnv, tg: number): boolean {
  return tg >= 5 && tg !== 9 && tg !== 4000 && tg !== 5000 && !(tg >= 9990 && tg <= 9999) && tg < 0xffffff && !prohibited(env.cfg, tg);
}

/**
 * Keep `sub` alive until `now` + the peer's timer, and make sure a deadline will retire it: a
 * `dial-expiry` (which tells the peer where its lane is now) when `dialNotice`, else a plain
 * `subscription-expiry`. The deadline is made once, when the subscription first gets a lifetime.
 */
export function touch(env: CoreEnv, sub: Subscription, now: number, dialNotice = false): void {
  const timer = timerOf(env.cfg, sub.session);
  const wasWatched = sub.expiresAt !== 0;
  sub.expiresAt = timer === 0 ? 0 : now + timer;
  if (sub.expiresAt !== 0 && !wasWatched) env.fx.schedule(sub.expiresAt, { kind: dialNotice ? 'dial-expiry' : 'subscription-expiry', sub });
}

/**
 * A subscription's expiry deadline: checked lazily (each use moved `expiresAt`), so it either
 * removes the subscription (true) or schedules itself again.
 */
export function expiryDue(env: CoreEnv, d: Extract<Deadline, { kind: 'subscription-expiry' | 'dial-expiry' }>, now: number): boolean {
  const sub = d.sub;
  if (sub.gone || sub.expiresAt === 0) return false;
  if (now < sub.expiresAt) {
    env.fx.schedule(sub.expiresAt, d);
    return false;
  }
  env.index.remove(sub, 'expired');
  env.fx.log({ code: 'subscription.expired', level: 'info', peer: sub.session.peerId, slot: sub.slot, tg: sub.rfTg, detail: `${sub.source} → ${sub.conference}` });
  return true;
}

/**
 * The subscription a group call from `s` on `slot` to `tg` feeds, activating or waking it as the
 * rules say; null when the call cannot be routed.
 */
export function ingressSubscription(env: CoreEnv, s: Session, slot: 1 | 2, tg: number, now: number): Subscription | null {
  const lanes = s.subs[slot];
  let sub = lanes.get(tg) ?? null;
  if (sub === null) {
    if (!env.cfg.routing.userActivation || !activatable(env, tg)) return null;
    sub = env.index.add(s, slot, tg, tg, 'user');
    if (sub === null) return null;
    env.fx.log({ code: 'subscription.activated', level: 'info', peer: s.peerId, slot, tg });
  }
  if (sub.mutedUntil !== 0) env.index.setMuted(sub, 0);
  if (sub.source === 'user' || sub.source === 'dial') touch(env, sub, now);
  if (singleOf(env.cfg, s) && sub.source !== 'dial' && sub.source !== 'default-reflector') single(env, s, slot, sub, now);
  return sub;
}

function single(env: CoreEnv, s: Session, slot: 1 | 2, keep: Subscription, now: number): void {
  const timer = timerOf(env.cfg, s);
  for (const other of [...s.subs[slot].values()]) {
    if (other === keep) continue;
    if (other.source === 'user') {
      env.index.remove(other, 'removed');
    } else if (isStatic(other.source) && timer !== 0 && other.mutedUntil === 0) {
      const until = now + timer;
      env.index.setMuted(other, until);
      env.fx.schedule(until, { kind: 'unmute', sub: other });
    }
  }
}

/** Single mode's mute of a static talkgroup has run its time. */
export function unmuteDue(env: CoreEnv, sub: Subscription, now: number): void {
  if (!sub.gone && sub.mutedUntil !== 0 && now >= sub.mutedUntil) env.index.setMuted(sub, 0);
}
