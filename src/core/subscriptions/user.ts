// User-activated talkgroups and single mode (spec §4.5), as a source of subscriptions.
//
// A group call to a talkgroup the peer's slot is not subscribed to subscribes it for the peer's
// timer, and the call itself is routed (FreeDMR routes the first call only when it creates the
// bridge; a "kerchunk" is never needed here). Each further transmission restarts the timer; expiry
// removes it. In single mode, keying a talkgroup on a slot drops the peer's other user-activated
// talkgroups on that slot and mutes its static ones there for one timer period.

import type { CoreContext } from '../context.js';
import type { Session } from '../sessions/session.js';
import { prohibited, singleOf, timerOf } from '../sessions/options.js';
import { isStatic, type Subscription } from './index.js';

/** Talkgroups a group call may activate: not service numbers, not the dial lane, not prohibited. */
export function activatable(ctx: CoreContext, tg: number): boolean {
  return tg >= 5 && tg !== 9 && tg !== 4000 && tg !== 5000 && !(tg >= 9990 && tg <= 9999) && tg < 0xffffff && !prohibited(ctx, tg);
}

/** Keep `sub` alive until `now` + the peer's timer, and make sure a deadline will retire it. */
export function touch(ctx: CoreContext, sub: Subscription, now: number, onExpire?: (now: number) => void): void {
  const timer = timerOf(ctx, sub.session);
  const wasWatched = sub.expiresAt !== 0;
  sub.expiresAt = timer === 0 ? 0 : now + timer;
  if (sub.expiresAt !== 0 && !wasWatched) watch(ctx, sub, onExpire);
}

function watch(ctx: CoreContext, sub: Subscription, onExpire?: (now: number) => void): void {
  const check = (now: number): void => {
    if (sub.gone || sub.expiresAt === 0) return;
    if (now >= sub.expiresAt) {
      ctx.index.remove(sub, 'expired');
      ctx.log({ code: 'subscription.expired', level: 'info', peer: sub.session.peerId, slot: sub.slot, tg: sub.rfTg, detail: `${sub.source} → ${sub.conference}` });
      onExpire?.(now);
    } else ctx.deadlines.schedule(sub.expiresAt, check);
  };
  ctx.deadlines.schedule(sub.expiresAt, check);
}

/**
 * The subscription a group call from `s` on `slot` to `tg` feeds, activating or waking it as the
 * rules say; null when the call cannot be routed.
 */
export function ingressSubscription(ctx: CoreContext, s: Session, slot: 1 | 2, tg: number, now: number): Subscription | null {
  const lanes = s.subs[slot];
  let sub = lanes.get(tg) ?? null;
  if (sub === null) {
    if (!ctx.cfg.routing.userActivation || !activatable(ctx, tg)) return null;
    sub = ctx.index.add(s, slot, tg, tg, 'user');
    if (sub === null) return null;
    ctx.log({ code: 'subscription.activated', level: 'info', peer: s.peerId, slot, tg });
  }
  if (sub.mutedUntil !== 0) ctx.index.setMuted(sub, 0);
  if (sub.source === 'user') touch(ctx, sub, now);
  else if (sub.source === 'dial') touch(ctx, sub, now);
  if (singleOf(ctx, s) && sub.source !== 'dial' && sub.source !== 'default-reflector') single(ctx, s, slot, sub, now);
  return sub;
}

function single(ctx: CoreContext, s: Session, slot: 1 | 2, keep: Subscription, now: number): void {
  const timer = timerOf(ctx, s);
  for (const other of [...s.subs[slot].values()]) {
    if (other === keep) continue;
    if (other.source === 'user') {
      ctx.index.remove(other, 'removed');
    } else if (isStatic(other.source) && timer !== 0 && other.mutedUntil === 0) {
      const until = now + timer;
      ctx.index.setMuted(other, until);
      ctx.deadlines.schedule(until, (t) => {
        if (!other.gone && other.mutedUntil !== 0 && t >= other.mutedUntil) ctx.index.setMuted(other, 0);
      });
    }
  }
}
