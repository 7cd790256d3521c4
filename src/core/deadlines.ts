// The core's only notion of time passing: a min-heap of deadlines. The shell keeps one timer for
// `peek()` and sends a `ticked` event; the core then runs every entry due. Ties fire in insertion
// order, so the same events always fire the same deadlines in the same order. The heap holds any
// payload; the core's are named timers (model/deadline.ts), handled by one switch in the router.

export interface Due<T> {
  at: number;
  seq: number;
  job: T;
}

export class DeadlineHeap<T> {
  private heap: Due<T>[] = [];
  private counter = 0;

  get size(): number {
    return this.heap.length;
  }

  schedule(at: number, job: T): void {
    const d: Due<T> = { at, seq: this.counter++, job };
    const h = this.heap;
    h.push(d);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  /** Earliest deadline, or null when nothing is scheduled. */
  peek(): number | null {
    return this.heap.length > 0 ? this.heap[0]!.at : null;
  }

  /** Remove and return the earliest entry if it is due at `now`. */
  popDue(now: number): Due<T> | null {
    const h = this.heap;
    if (h.length === 0 || h[0]!.at > now) return null;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.heap = [];
  }
}

function before<T>(a: Due<T>, b: Due<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
