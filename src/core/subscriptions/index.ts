// Subscriptions are the centre of routing: a (peer, slot, rf_tg) lane joined to a conference.
// The index is kept both ways — per session and slot (ingress: which conference does this lane
// feed?) and per conference (fan-out: which lanes receive?) — so a packet's cost does not grow with
// the number of peers or talkgroups. Static talkgroups from the config or RPTO are one source;
// user activation and dial-a-TG add others without a second routing path.

import type { Conference, Session, Subscription, SubscriptionChange, SubscriptionSource } from '../model/index.js';

/** Sources that are static talkgroups (replaced as a set by options or config). */
export const isStatic = (s: SubscriptionSource): boolean => s === 'default' || s === 'options';

export class SubscriptionIndex {
  private readonly conferences = new Map<number, Conference>();
  private total = 0;
  /** Source of every conference's `version` (see Conference). */
  private changes = 0;
  /** Told of every change, for reports (and the session's revision: SessionTable.changed). */
  onChange: (sub: Subscription, change: SubscriptionChange) => void = () => {};

  get size(): number {
    return this.total;
  }

  conference(tg: number): Conference | undefined {
    return this.conferences.get(tg);
  }

  add(session: Session, slot: 1 | 2, rfTg: number, conference: number, source: SubscriptionSource): Subscription | null {
    const lanes = session.subs[slot];
    if (lanes.has(rfTg)) return null;
    const sub: Subscription = { session, slot, rfTg, conference, source, expiresAt: 0, mutedUntil: 0, gone: false };
    lanes.set(rfTg, sub);
    let conf = this.conferences.get(conference);
    if (!conf) {
      conf = { tg: conference, members: [], version: 0 };
      this.conferences.set(conference, conf);
    }
    conf.members.push(sub);
    conf.version = ++this.changes;
    this.total++;
    this.onChange(sub, 'added');
    return sub;
  }

  remove(sub: Subscription, change: SubscriptionChange = 'removed'): void {
    const lanes = sub.session.subs[sub.slot];
    if (lanes.get(sub.rfTg) !== sub) return;
    lanes.delete(sub.rfTg);
    sub.gone = true;
    const conf = this.conferences.get(sub.conference);
    if (conf) {
      const i = conf.members.indexOf(sub);
      if (i >= 0) {
        // Keep member order stable (deterministic fan-out order): splice, not swap-remove.
        conf.members.splice(i, 1);
      }
      conf.version = ++this.changes;
      if (conf.members.length === 0) this.conferences.delete(sub.conference);
    }
    this.total--;
    this.onChange(sub, change);
  }

  /** Mute or unmute a subscription (single mode); members' streams rebuild their targets. */
  setMuted(sub: Subscription, until: number): void {
    if (sub.mutedUntil === until) return;
    sub.mutedUntil = until;
    const conf = this.conferences.get(sub.conference);
    if (conf) conf.version = ++this.changes;
  }

  removeAll(session: Session): void {
    for (const slot of [1, 2] as const) for (const sub of [...session.subs[slot].values()]) this.remove(sub);
  }

  /** Make the session's subscriptions from `source` on `slot` exactly `tgs` (static talkgroups). */
  setStatic(session: Session, slot: 1 | 2, tgs: readonly number[], source: SubscriptionSource): void {
    const lanes = session.subs[slot];
    for (const sub of [...lanes.values()]) {
      if (isStatic(sub.source) && !tgs.includes(sub.rfTg)) this.remove(sub);
    }
    for (const tg of tgs) {
      const cur = lanes.get(tg);
      if (cur && cur.source !== source) this.remove(cur);
      if (!lanes.has(tg)) this.add(session, slot, tg, tg, source);
    }
  }
}
