// Playout: the core sending a peer's slot a stream of its own making (an echo, a voice prompt), one
// frame per 60 ms `playout-frame` deadline — no threads, no sleeps, time only from the events.
//
// A playout takes part in contention like any stream (streams/contention.ts):
//  - it starts only on a free slot: the peer is not transmitting on it, no other stream is being
//    sent to it, and no other talkgroup used it within the group hang time. While the slot is busy
//    it waits, checking every frame period, and gives up after `maxWaitMs`;
//  - while it plays it holds the slot (the lane's tx fields), so group traffic waits for it;
//  - if the peer keys up on that slot, or the session ends, it stops at once.

import { writeU32 } from '../../protocol/bytes.js';
import { DMRD, isTerminator } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { Playout, PlayoutEnd } from '../model/index.js';
import { laneFree } from '../streams/contention.js';

/** DMR voice frames are 60 ms apart. */
export const FRAME_MS = 60;

/** Start `p` (its `next` is 0) at `p.startAt`; an empty playout has ended at once ('played'). */
export function startPlayout(env: CoreEnv, p: Playout): PlayoutEnd | null {
  if (p.frames.length === 0) {
    playoutEnded(env, p, 'played');
    return 'played';
  }
  env.fx.schedule(p.startAt, { kind: 'playout-frame', playout: p });
  return null;
}

/** Count and log how a playout ended. */
export function playoutEnded(env: CoreEnv, p: Playout, how: PlayoutEnd): void {
  env.counters.add(`playout.${p.kind}.${how}`);
  if (how !== 'played') env.fx.log({ code: `${p.kind}.${how}`, level: 'info', peer: p.session.peerId, slot: p.slot, stream: p.streamId });
}

/** The playout's `playout-frame` deadline: send its next frame, or wait; how it ended, or null while it goes on. */
export function playoutFrame(env: CoreEnv, d: { readonly kind: 'playout-frame'; readonly playout: Playout }, now: number): PlayoutEnd | null {
  const p = d.playout;
  const s = p.session;
  const end = (how: PlayoutEnd): PlayoutEnd => {
    playoutEnded(env, p, how);
    return how;
  };
  if (s.closed) return end('peer-gone');
  const lane = s.slots[p.slot];
  const t = env.cfg.timers;
  if (!laneFree(lane, p.streamId, p.tg, now, t.collisionWindowMs, t.groupHangtimeMs)) {
    if (p.next > 0) return end('interrupted');
    if (now - p.startAt >= p.maxWaitMs) return end('gave-up');
    env.fx.schedule(now + FRAME_MS, d);
    return null;
  }
  const last = p.next === p.frames.length - 1;
  const out = p.frames[p.next]!; // the playout's own frame, sent once
  out[DMRD.SEQ] = p.next & 0xff;
  writeU32(out, DMRD.STREAM, p.streamId);
  lane.txStream = p.streamId;
  lane.txTg = p.tg;
  lane.txTime = now;
  // The slot is free at once only after a terminator; a playout whose last frame is something
  // else (an echo of a call that lost its terminator) holds it for the collision window, as a
  // forwarded stream that ends without one does.
  lane.txEnded = last && isTerminator(out[DMRD.FLAGS]!);
  env.fx.fanOut(out, [lane.target], 1);
  env.counters.add('playout.frames');
  p.next++;
  if (last) return end('played');
  env.fx.schedule(now + FRAME_MS, d);
  return null;
}
