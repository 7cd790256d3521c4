// Loop control (spec §4.10): a stream ID belongs to one lane or one link. The same ID arriving from
// anywhere else (one radio heard by two hotspots, a call coming back over a link) is a loop: the
// first copy to arrive wins, and the peers that sent another copy never receive it (they have the
// call on the air already). The same holds for a peer whose copy was refused on a busy slot.

import type { CoreEnv } from '../effects.js';
import type { RefusedStream, Stream } from '../model/index.js';

/** Peer `peerId` sends stream `st` too: it leaves the stream's receivers. */
export function sentToo(st: Stream, peerId: number): void {
  if (st.alsoFrom === null) st.alsoFrom = [peerId];
  else if (!st.alsoFrom.includes(peerId)) st.alsoFrom.push(peerId);
  else return;
  st.version = -1; // the targets are rebuilt without it at the next packet
}

/** A new stream whose ID peers sent before and had refused (their slot was busy): not sent back to them. */
export function alsoRefused(env: CoreEnv, st: Stream): void {
  const r = env.streams.refusedOf(st.id);
  if (r !== undefined) for (const p of r.peers) sentToo(st, p);
}

/**
 * Remember that `peerId` sent stream `streamId` and had it refused. The same radio may be heard by
 * another hotspot (or come over a link); that copy is routed, but not back to this peer. Kept, like
 * a routed stream's ID, for the stream-ID memory after the last refused copy.
 */
export function noteRefused(env: CoreEnv, peerId: number, streamId: number, now: number): void {
  const known = env.streams.refusedOf(streamId);
  if (known !== undefined) {
    known.lastAt = now;
    if (!known.peers.includes(peerId)) known.peers.push(peerId);
    return;
  }
  const r = env.streams.addRefused(streamId, peerId, now);
  if (r === null) {
    env.counters.add('stream.refused-memory-full');
    return;
  }
  env.fx.schedule(now + env.cfg.timers.streamIdMemoryMs, { kind: 'refused-forget', refused: r });
}

/** A refused stream ID's `refused-forget` deadline: forgotten once no copy came for the stream-ID memory. */
export function refusedDue(env: CoreEnv, d: { readonly kind: 'refused-forget'; readonly refused: RefusedStream }, now: number): void {
  const r = d.refused;
  const memory = env.cfg.timers.streamIdMemoryMs;
  if (now - r.lastAt < memory) env.fx.schedule(r.lastAt + memory, d);
  else env.streams.forgetRefused(r);
}

/** Drop a new stream whose ID is already known from elsewhere (a loop): counted, logged once per ID. */
export function dropLoop(env: CoreEnv, known: Stream, streamId: number, src: number, tg: number, at: { peer?: number; slot?: 1 | 2; link?: string }): void {
  env.counters.add('stream.loop');
  if (!env.logOnce.first(`stream:${streamId}`, 'loop')) return;
  const from = known.link !== null ? `link ${known.link.cfg.name}` : `peer ${known.session.peerId} TS${known.slot}`;
  env.fx.log({
    code: 'call.loop',
    level: 'warn',
    ...(at.peer !== undefined ? { peer: at.peer } : {}),
    src,
    tg,
    ...(at.slot !== undefined ? { slot: at.slot } : {}),
    stream: streamId,
    detail: `${at.link !== undefined ? `link ${at.link}: ` : ''}stream already seen from ${from}`,
  });
}
