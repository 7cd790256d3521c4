// An uplink in routing: its stand-in session joins, while the uplink is up, the conferences of the
// talkgroups it carries (TS1 and TS2 lists, subscriptions of source 'uplink'), so a peer's call on
// one of them reaches the master through the normal fan-out with the normal per-slot contention
// and hang time. What the master sends enters like a peer's DMRD (streams/ingress.ts), admitted
// here: group calls on a talkgroup the uplink carries on that slot only — no user activation,
// single mode, dial commands, echo or unit calls from a master.

import { encodeRptcl } from '../../protocol/hbp/messages.js';
import { FLAG } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { Session, Subscription, Uplink, UplinkConfig } from '../model/index.js';
import { parseOptions } from '../sessions/options.js';

/** The talkgroups `cfg` carries on each slot: its own lists, else the options' TS1= / TS2=. */
export function carriedBy(cfg: UplinkConfig, maxPerSlot: number): [null, number[], number[]] {
  if (cfg.ts1 !== null && cfg.ts2 !== null) return [null, [...cfg.ts1], [...cfg.ts2]];
  const raw = new Uint8Array(cfg.options.length);
  for (let i = 0; i < raw.length; i++) raw[i] = cfg.options.charCodeAt(i) & 0xff;
  const o = parseOptions(raw, maxPerSlot).options;
  return [null, cfg.ts1 ?? o.ts1, cfg.ts2 ?? o.ts2];
}

/** The uplink is up: its stand-in joins the conferences of the talkgroups it carries. */
export function joinCarried(env: CoreEnv, u: Uplink): void {
  for (const slot of [1, 2] as const) for (const tg of u.carried[slot]) env.index.add(u.session, slot, tg, tg, 'uplink');
}

/** The uplink is no longer up: its calls in progress end and it leaves every conference. */
export function leaveCarried(env: CoreEnv, u: Uplink, now: number): void {
  const s = u.session;
  for (const slot of [1, 2] as const) {
    const rx = s.slots[slot].rx;
    if (rx !== null && !rx.ended) env.life.endStream(rx, now, 'peer-gone');
  }
  env.index.removeAll(s);
}

/** Tell the master we are leaving (RPTCL), unless we never got past RPTL. */
export function sayGoodbye(env: CoreEnv, u: Uplink): void {
  if (u.state !== 'down') env.fx.send(u.cfg.socket, u.cfg.address, u.cfg.port, encodeRptcl(u.cfg.peerId));
}

/**
 * The subscription a new stream from the master feeds, or null when it is not admitted (counted):
 * a unit call (dial command, echo, unit data, private voice), or a talkgroup the uplink does not
 * carry on that slot.
 */
export function uplinkIngress(env: CoreEnv, s: Session, slot: 1 | 2, tg: number, flags: number): Subscription | null {
  if ((flags & FLAG.UNIT) !== 0) {
    env.counters.add('uplink.unit-call');
    return null;
  }
  const sub = s.subs[slot].get(tg);
  if (sub === undefined || sub.source !== 'uplink') {
    env.counters.add('uplink.not-carried');
    return null;
  }
  return sub;
}
