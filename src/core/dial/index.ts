// Dial-a-TG (spec §4.6, FreeDMR 2 design §4): a private call to N links the peer's TG 9 lane (on the
// dial slot, TS2 by default, whichever slot the call came from) to conference N; 4000 unlinks;
// 5000 asks for the status. One link per peer. A peer's default reflector (DIAL= / StartRef, or the
// server's) is linked at login, gives way to a dialled link, and comes back when that link times
// out, or one timer period after an unlink. Traffic on the lane is rewritten between TG 9 and TG N
// (destination and link control) by the stream's fan-out.

import type { CoreContext } from '../context.js';
import { prohibited, timerOf } from '../sessions/options.js';
import type { Session } from '../sessions/session.js';
import type { Subscription } from '../subscriptions/index.js';
import { touch } from '../subscriptions/user.js';
import { digits, say, sayOndemand } from '../prompts/index.js';

export const DIAL_TG = 9;
export const UNLINK = 4000;
export const STATUS = 5000;

/** The subscription on the peer's dial lane (a dialled link or the default reflector), if any. */
export function dialLane(ctx: CoreContext, s: Session): Subscription | null {
  const sub = s.subs[ctx.cfg.routing.dialSlot].get(DIAL_TG);
  return sub !== undefined && (sub.source === 'dial' || sub.source === 'default-reflector') ? sub : null;
}

/** A static TG 9 on the dial slot (the peer asked for it in its options) leaves no room for a link. */
function laneTakenByStatic(ctx: CoreContext, s: Session): boolean {
  const sub = s.subs[ctx.cfg.routing.dialSlot].get(DIAL_TG);
  return sub !== undefined && dialLane(ctx, s) === null;
}

/** Reflectors a peer may dial. */
export function dialable(ctx: CoreContext, n: number): boolean {
  return n >= 5 && n <= 999_999 && n !== 8 && n !== 9 && !(n >= 4000 && n <= 5000) && !(n >= 9990 && n <= 9999) && !prohibited(ctx, n);
}

function linkTo(ctx: CoreContext, s: Session, n: number, source: 'dial' | 'default-reflector', now: number): Subscription | null {
  if (laneTakenByStatic(ctx, s)) {
    ctx.counters.add('dial.lane-static');
    if (!s.logged.has('dial.lane-static')) {
      s.logged.add('dial.lane-static');
      ctx.log({ code: 'dial.refused', level: 'warn', peer: s.peerId, tg: n, detail: `TG ${DIAL_TG} is a static talkgroup on TS${ctx.cfg.routing.dialSlot}, so no reflector can be linked` });
    }
    return null;
  }
  const cur = dialLane(ctx, s);
  if (cur !== null) ctx.index.remove(cur, 'removed');
  const sub = ctx.index.add(s, ctx.cfg.routing.dialSlot, DIAL_TG, n, source);
  if (sub !== null && source === 'dial') touch(ctx, sub, now, (t) => expired(ctx, s, n, t));
  return sub;
}

function expired(ctx: CoreContext, s: Session, n: number, now: number): void {
  ctx.counters.add('dial.expired');
  ctx.log({ code: 'dial.expired', level: 'info', peer: s.peerId, tg: n });
  restoreDefault(ctx, s, now);
  // The "disconnected" notice: where the lane is now.
  if (s.closed) return;
  const lane = dialLane(ctx, s);
  if (lane !== null) say(ctx, s, ['linked-to', ...digits(lane.conference)], now, 'disconnected');
  else say(ctx, s, ['not-linked'], now, 'disconnected');
}

function restoreDefault(ctx: CoreContext, s: Session, now: number): void {
  if (s.closed || s.defaultReflector === 0 || dialLane(ctx, s) !== null) return;
  linkTo(ctx, s, s.defaultReflector, 'default-reflector', now);
}

/** Set the peer's default reflector (0 = none) and link it unless a dialled link is in place. */
export function setDefaultReflector(ctx: CoreContext, s: Session, n: number): void {
  s.defaultReflector = n !== 0 && dialable(ctx, n) ? n : 0;
  const cur = dialLane(ctx, s);
  if (cur !== null && cur.source === 'dial') return;
  if (cur !== null && (s.defaultReflector === 0 || cur.conference !== s.defaultReflector)) ctx.index.remove(cur, 'removed');
  if (s.defaultReflector !== 0 && dialLane(ctx, s) === null) linkTo(ctx, s, s.defaultReflector, 'default-reflector', ctx.now);
}

export type DialOutcome =
  | { kind: 'linked'; tg: number }
  | { kind: 'unlinked' }
  | { kind: 'status'; linked: number }
  | { kind: 'refused'; tg: number }
  | { kind: 'info'; n: number };

/** Information service: a private call to one of these plays a clip from the prompt pack. */
export const INFO_FIRST = 9991;
export const INFO_LAST = 9999;

/** The voice prompt that answers a dial-a-TG command (spec §4.6), at the end of the private call. */
export function dialFeedback(ctx: CoreContext, s: Session, o: DialOutcome, now: number): void {
  if (s.closed) return;
  switch (o.kind) {
    case 'linked':
      return say(ctx, s, ['linked-to', ...digits(o.tg)], now, 'linked');
    case 'unlinked':
      return say(ctx, s, ['not-linked'], now, 'unlinked');
    case 'status':
      return o.linked !== 0 ? say(ctx, s, ['linked-to', ...digits(o.linked)], now, 'status') : say(ctx, s, ['not-linked'], now, 'status');
    case 'refused':
      return say(ctx, s, ['busy'], now, 'busy');
    case 'info':
      return sayOndemand(ctx, s, o.n, now);
  }
}

/** A private call from `s` to `n`, at its first packet. */
export function dial(ctx: CoreContext, s: Session, n: number, now: number): DialOutcome {
  if (n === UNLINK) {
    const cur = dialLane(ctx, s);
    if (cur !== null) ctx.index.remove(cur, 'removed');
    ctx.log({ code: 'dial.unlinked', level: 'info', peer: s.peerId, ...(cur ? { tg: cur.conference } : {}) });
    const timer = timerOf(ctx, s);
    if (s.defaultReflector !== 0 && timer !== 0) ctx.deadlines.schedule(now + timer, (t) => restoreDefault(ctx, s, t));
    return { kind: 'unlinked' };
  }
  if (n >= INFO_FIRST && n <= INFO_LAST) return { kind: 'info', n };
  if (n === STATUS) {
    const cur = dialLane(ctx, s);
    return { kind: 'status', linked: cur?.conference ?? 0 };
  }
  if (!dialable(ctx, n) || laneTakenByStatic(ctx, s)) {
    ctx.counters.add('dial.refused');
    ctx.log({ code: 'dial.refused', level: 'info', peer: s.peerId, tg: n });
    return { kind: 'refused', tg: n };
  }
  const cur = dialLane(ctx, s);
  if (cur !== null && cur.conference === n) {
    if (cur.source === 'dial') touch(ctx, cur, now);
  } else {
    linkTo(ctx, s, n, 'dial', now);
  }
  ctx.counters.add('dial.linked');
  ctx.log({ code: 'dial.linked', level: 'info', peer: s.peerId, tg: n });
  return { kind: 'linked', tg: n };
}
