// Counters for everything the core drops, refuses or forwards. Stable names; exported as a sorted
// snapshot so rendering is deterministic. Also the core's one log-once memory.

/** Packet-path counters kept as plain fields (a Map update per packet would cost more). */
export interface HotCounters {
  dmrdIn: number;
  framesForwarded: number;
  sendsForwarded: number;
  /** Marker epoch for building target lists (one entry per peer and slot). */
  markEpoch: number;
}

export class Counters {
  private readonly values = new Map<string, number>();

  add(name: string, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  snapshot(): [string, number][] {
    return [...this.values.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
}

/**
 * Remembers which (subject, code) pairs were already logged, so repeated bad input is counted every
 * time but logged once: per address, per stream ID, per link, per session (`session:<serial>`).
 * Bounded: when full it forgets everything and starts again.
 */
export class LogOnce {
  private readonly seen = new Set<string>();
  constructor(private readonly limit = 4096) {}

  first(subject: string, code: string): boolean {
    const key = subject + '\u0000' + code;
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.limit) this.seen.clear();
    this.seen.add(key);
    return true;
  }
}
