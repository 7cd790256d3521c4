// Playout: the core sending a peer's slot a stream of its own making (an echo, later voice prompts),
// one frame per 60 ms deadline — no threads, no sleeps, time only from the events.
//
// A playout takes part in contention like any stream:
//  - it starts only on a free slot: the peer is not transmitting on it, no other stream is being
//    sent to it, and no other talkgroup used it within the group hang time. While the slot is busy
//    it waits, checking every frame period, and gives up after `maxWaitMs`;
//  - while it plays it holds the slot (the lane's tx fields), so group traffic waits for it;
//  - if the peer keys up on that slot, or the session ends, it stops at once.

import type { CoreContext } from '../context.js';
import type { Session } from '../sessions/session.js';
import { writeU32 } from '../../protocol/bytes.js';
import { isTerminator } from '../../protocol/hbp/dmrd.js';
import { laneFree } from '../streams/contention.js';

/** DMR voice frames are 60 ms apart. */
export const FRAME_MS = 60;

export interface PlayoutSpec {
  session: Session;
  slot: 1 | 2;
  /** Complete 55-byte DMRD frames, handed over: the sequence number and stream ID are written into them on the way out. */
  frames: readonly Uint8Array[];
  /** The talkgroup the lane is busy with while it plays (for hang time and contention). */
  tg: number;
  streamId: number;
  /** When to send the first frame (core time). */
  startAt: number;
  /** Give up if the slot has not been free this long after `startAt`. */
  maxWaitMs: number;
  /** What the playout is, for counters and logs (`echo`, `prompt`). */
  kind: string;
  /** Called once when the playout ends, however it ends. */
  onEnd?: (how: 'played' | 'gave-up' | 'interrupted' | 'peer-gone', now: number) => void;
}

/** A stream ID for a stream the core makes: from the seeded PRNG, never 0, not one in use or remembered. */
export function newStreamId(ctx: CoreContext): number {
  let id = ctx.prng.nextU32();
  while (id === 0 || ctx.streams.has(id)) id = ctx.prng.nextU32();
  return id;
}

export function startPlayout(ctx: CoreContext, p: PlayoutSpec): void {
  let next = 0;
  const end = (how: 'played' | 'gave-up' | 'interrupted' | 'peer-gone', now: number): void => {
    ctx.counters.add(`playout.${p.kind}.${how}`);
    if (how !== 'played') ctx.log({ code: `${p.kind}.${how}`, level: 'info', peer: p.session.peerId, slot: p.slot, stream: p.streamId });
    p.onEnd?.(how, now);
  };
  const tick = (now: number): void => {
    const s = p.session;
    if (s.closed) return end('peer-gone', now);
    if (!laneFree(ctx, s.slots[p.slot], p.streamId, p.tg, now)) {
      if (next > 0) return end('interrupted', now);
      if (now - p.startAt >= p.maxWaitMs) return end('gave-up', now);
      ctx.deadlines.schedule(now + FRAME_MS, tick);
      return;
    }
    const lane = s.slots[p.slot];
    const last = next === p.frames.length - 1;
    const out = p.frames[next]!; // the playout's own frame, sent once
    out[4] = next & 0xff;
    writeU32(out, 16, p.streamId);
    lane.txStream = p.streamId;
    lane.txTg = p.tg;
    lane.txTime = now;
    // The slot is free at once only after a terminator; a playout whose last frame is something
    // else (an echo of a call that lost its terminator) holds it for the collision window, as a
    // forwarded stream that ends without one does.
    lane.txEnded = last && isTerminator(out[15]!);
    ctx.sink.fanOut(out, [lane.target], 1);
    ctx.counters.add('playout.frames');
    next++;
    if (last) return end('played', now);
    ctx.deadlines.schedule(now + FRAME_MS, tick);
  };
  if (p.frames.length === 0) return end('played', p.startAt);
  ctx.deadlines.schedule(p.startAt, tick);
}
