// Where each subscriber was last heard (for unit data and private calls), oldest first, bounded.

import type { HeardAt, Session } from '../model/index.js';

/** Most subscribers remembered; beyond it the least recently heard are forgotten. */
export const LAST_HEARD_MAX = 200_000;

export class HeardTable {
  private readonly m = new Map<number, HeardAt>();

  get(src: number): HeardAt | undefined {
    return this.m.get(src);
  }

  delete(src: number): void {
    this.m.delete(src);
  }

  /** A subscriber was heard at a peer's slot (every stream start). */
  heard(s: Session, slot: 1 | 2, src: number, now: number): void {
    const m = this.m;
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
}
