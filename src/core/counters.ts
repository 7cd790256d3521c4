// Counters for everything the core drops, refuses or forwards. Stable names; exported as a sorted
// snapshot so rendering is deterministic.

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
 * time but logged once. Bounded: when full it forgets everything and starts again.
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
