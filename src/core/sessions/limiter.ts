// A per-address rate limit in a fixed amount of memory: a token bucket per source address, kept in
// a table of a fixed number of slots (open addressing over a few probes). When every probed slot
// holds another address whose bucket is in use, the address shares the first slot's bucket
// (counted by the caller as a collision): memory never grows, whatever the number of addresses.
// Used for the answers and checks that a sender who has not logged in can cause (login.ts,
// replies.ts). Allocates nothing.

const PROBES = 4;

export class AddressLimiter {
  private readonly keys: (string | null)[];
  private readonly tokens: Float64Array;
  private readonly stamp: Float64Array;
  /** Times an address had to share a slot with another (the table was crowded). */
  shared = 0;

  /**
   * `burst` tokens at most per address, `perSecond` added back each second; `slots` addresses
   * tracked apart at most.
   */
  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly slots = 4096,
  ) {
    this.keys = new Array<string | null>(slots).fill(null);
    this.tokens = new Float64Array(slots);
    this.stamp = new Float64Array(slots);
  }

  /** Take one token for `address` at `now`; false when its bucket is empty. */
  take(address: string, now: number): boolean {
    const i = this.slotOf(address, now);
    const t = this.refilled(i, now);
    if (t < 1) {
      this.tokens[i] = t;
      return false;
    }
    this.tokens[i] = t - 1;
    return true;
  }

  /** The bucket of `address` is empty at `now` (nothing taken). */
  empty(address: string, now: number): boolean {
    return this.refilled(this.slotOf(address, now), now) < 1;
  }

  /** Addresses tracked (for inspection). */
  get size(): number {
    let n = 0;
    for (const k of this.keys) if (k !== null) n++;
    return n;
  }

  private refilled(i: number, now: number): number {
    const dt = Math.max(0, now - this.stamp[i]!);
    this.stamp[i] = now;
    return Math.min(this.burst, this.tokens[i]! + (dt * this.perSecond) / 1000);
  }

  private slotOf(address: string, now: number): number {
    let h = 0x811c9dc5;
    for (let k = 0; k < address.length; k++) h = Math.imul(h ^ address.charCodeAt(k), 0x01000193);
    const first = (h >>> 0) % this.slots;
    for (let p = 0; p < PROBES; p++) {
      const i = (first + p) % this.slots;
      const key = this.keys[i];
      if (key === address) return i;
      // A free slot, or one whose bucket has filled up again (its address is as good as new).
      const idle = key === null || this.tokens[i]! + ((now - this.stamp[i]!) * this.perSecond) / 1000 >= this.burst;
      if (idle) {
        this.keys[i] = address;
        this.tokens[i] = this.burst;
        this.stamp[i] = now;
        return i;
      }
    }
    this.shared++;
    return first;
  }
}
