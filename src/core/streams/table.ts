// The stream table: streams by stream ID, live and recently ended (for `streamIdMemoryMs`), and
// stream IDs refused on a busy slot. A stream ID belongs to one lane (peer and slot) or one link;
// the same ID from anywhere else is a loop or a late duplicate. Only src/core/streams, the link
// ingress and the router's lifecycle change it.

import type { Prng } from '../prng.js';
import type { RefusedStream, Stream } from '../model/index.js';

/** Refused-ID memory beyond which further refusals are not remembered (a flood of made-up stream IDs). */
export const MAX_REFUSED = 10_000;

export class StreamTable {
  private readonly byId = new Map<number, Stream>();
  private readonly refused = new Map<number, RefusedStream>();
  private live = 0;

  get(id: number): Stream | undefined {
    return this.byId.get(id);
  }

  get liveCount(): number {
    return this.live;
  }

  /** A new live stream. */
  add(st: Stream): void {
    this.byId.set(st.id, st);
    this.live++;
  }

  /** A stream ended; its ID stays known until `forget`. */
  ended(): void {
    this.live--;
  }

  forget(st: Stream): void {
    if (this.byId.get(st.id) === st) this.byId.delete(st.id);
  }

  /** Every stream known, live or remembered (shutdown ends the live ones from links). */
  all(): Stream[] {
    return [...this.byId.values()];
  }

  /** A stream ID for a stream the core makes: from the seeded PRNG, never 0, not one in use or remembered. */
  newId(prng: Prng): number {
    let id = prng.nextU32();
    while (id === 0 || this.byId.has(id)) id = prng.nextU32();
    return id;
  }

  refusedOf(id: number): RefusedStream | undefined {
    return this.refused.get(id);
  }

  /** Remember a refused stream ID; null when the memory is full. */
  addRefused(streamId: number, peerId: number, now: number): RefusedStream | null {
    if (this.refused.size >= MAX_REFUSED) return null;
    const r: RefusedStream = { streamId, peers: [peerId], lastAt: now };
    this.refused.set(streamId, r);
    return r;
  }

  forgetRefused(r: RefusedStream): void {
    if (this.refused.get(r.streamId) === r) this.refused.delete(r.streamId);
  }

  /** Read-only view for inspection (tests, tools). */
  get refusedMap(): ReadonlyMap<number, RefusedStream> {
    return this.refused;
  }
}
