// Ends: a stream's end and a session's close, and the server's shutdown. The router hands these to
// the modules as the lifecycle port, so what follows an end (the echo playback, the dial prompt,
// the reports) is sequenced here, in one place.

import { encodeMstcl } from '../protocol/hbp/messages.js';
import type { CoreEnv } from './effects.js';
import type { EndReason, Session, Stream } from './model/index.js';
import { dialFeedback } from './dial/index.js';
import { finishEcho } from './echo/index.js';
import { SessionState } from './sessions/session.js';

export function endStream(env: CoreEnv, st: Stream, now: number, reason: EndReason): void {
  if (st.ended) return;
  st.ended = true;
  env.streams.ended();
  if (st.echo !== null) finishEcho(env, st, now, reason);
  if (st.dialOutcome !== null && (reason === 'terminator' || reason === 'timeout')) dialFeedback(env, st.session, st.dialOutcome, now);
  // Receivers that got the terminator were freed as it went out. Any other end (timeout, the
  // talker gone) leaves their slots busy until the collision window has passed, as for a lost
  // terminator. The ID stays known for a while, to drop late duplicates and loops.
  env.fx.schedule(now + env.cfg.timers.streamIdMemoryMs, { kind: 'stream-forget', stream: st });
  env.counters.add(`call.end.${reason}`);
  env.fx.report({
    report: 'call-end',
    now,
    stream: st.id,
    peer: st.session.peerId,
    src: st.src,
    dst: st.tg,
    slot: st.slot,
    callType: st.unit ? 'private' : 'group',
    kind: st.data ? 'data' : 'voice',
    startedNow: st.startedAt,
    durationMs: st.lastAt - st.startedAt,
    packets: st.packets,
    lost: st.lost,
    berSum: st.berSum,
    rssiSum: st.rssiSum,
    qualityPackets: st.qualityPackets,
    reason,
    receivers: st.receivers,
  });
  env.fx.log({
    code: 'call.end',
    level: 'info',
    peer: st.session.peerId,
    src: st.src,
    tg: st.tg,
    slot: st.slot,
    stream: st.id,
    durationMs: st.lastAt - st.startedAt,
    packets: st.packets,
    lost: st.lost,
    reason,
    ...(st.link !== null ? { detail: `link ${st.link.cfg.name}` } : st.session.role === 'uplink' ? { detail: `uplink ${env.uplinks.nameOf(st.session)}` } : {}),
  });
}

export function closeSession(env: CoreEnv, s: Session, now: number, reason: string): void {
  if (s.closed) return;
  s.closed = true;
  for (const slot of [1, 2] as const) {
    const rx = s.slots[slot].rx;
    if (rx !== null && !rx.ended) endStream(env, rx, now, reason === 'shutdown' ? 'shutdown' : 'peer-gone');
  }
  env.index.removeAll(s);
  env.sessions.remove(s);
  env.counters.add(`peer.logout.${reason}`);
  if (s.state === SessionState.Connected) env.fx.report({ report: 'peer-logout', now, peer: s.peerId, reason, durationMs: now - s.loggedInAt });
  env.fx.log({ code: 'peer.logout', level: 'info', peer: s.peerId, address: s.address, port: s.port, reason, durationMs: now - s.loggedInAt });
}

/** Every peer is told (MSTCL) and closed; calls coming in on links end with the server too. */
export function shutdown(env: CoreEnv, now: number): void {
  for (const s of [...env.sessions.values()]) {
    env.fx.send(s.socket, s.address, s.port, encodeMstcl(s.peerId));
    closeSession(env, s, now, 'shutdown');
  }
  for (const st of env.streams.all()) if (st.link !== null && !st.ended) endStream(env, st, now, 'shutdown');
}
