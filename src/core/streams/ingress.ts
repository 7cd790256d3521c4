// A DMRD from a logged-in peer (spec §2.5, §4.7, §4.9, §4.12): which stream it belongs to, what
// kind of route a new stream takes, and what each packet does. Group calls, dial commands, echo,
// unit data and private calls all start here as a stream; the other concepts are in their own
// files (sequence checks, loop control, fan-out, contention, links, echo, dial, unit calls).

import { readU24, readU32 } from '../../protocol/bytes.js';
import { DMRD, FLAG, isDataFrame, isTerminator } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { Session, SlotState, Stream, StreamRoute, Subscription } from '../model/index.js';
import { dial, DIAL_TG } from '../dial/index.js';
import { beginEcho, isEchoCall, recordEcho } from '../echo/index.js';
import { linkTargetsFor } from '../links/policy.js';
import { sendToLinks } from '../links/egress.js';
import { ingressSubscription, touch } from '../subscriptions/user.js';
import { findSubscriber, forwardUnit, pairKey } from '../unit/index.js';
import { uplinkIngress } from '../uplinks/routing.js';
import { forward } from './fanout.js';
import { dropLoop, noteRefused, sentToo } from './loops.js';
import { acceptPacket } from './sequence.js';
import { beginStream, watchStream } from './stream.js';

export function onPeerDmrd(env: CoreEnv, s: Session, b: Uint8Array, now: number): void {
  const flags = b[DMRD.FLAGS]!;
  const slot: 1 | 2 = (flags & FLAG.SLOT2) !== 0 ? 2 : 1;
  const lane = s.slots[slot];
  const streamId = readU32(b, DMRD.STREAM);
  const seq = b[DMRD.SEQ]!;
  const terminator = isTerminator(flags);
  let st = lane.rx;

  if (st === null || st.id !== streamId) {
    st = startPeerStream(env, s, lane, slot, b, streamId, now);
    if (st === null) return;
  } else if (!acceptPacket(env, st, b, seq, now, terminator)) return;
  if (st.echo !== null) recordEcho(env, st, b);
  // For hang time a dial-a-TG command counts as traffic on the TG 9 lane it (re)attaches, so the
  // reflector's traffic is heard at once after dialling.
  // Unit data leaves the talkgroup the slot last carried as it was (data never moves hang time).
  if (!(st.unit && st.data)) lane.rxTg = st.unitTarget !== null ? pairKey(st.src, st.tg) : st.unit ? DIAL_TG : st.tg;
  lane.rxTime = now;
  if (b.length === 55) {
    st.berSum += b[DMRD.BER]!;
    st.rssiSum += b[DMRD.RSSI]!;
    st.qualityPackets++;
  }

  if (st.route === 'conference') {
    let conf = st.conference;
    if (conf !== null && conf.members.length === 0) {
      // The conference emptied and may have been replaced by a new one with new members.
      conf = env.index.conference(st.tg) ?? conf;
      st.conference = conf;
    }
    if (conf !== null) {
      // Links first: the peers' fan-out writes receiver IDs into `b`.
      if (st.linkPolicy !== env.links.policy && st.ingress !== null) st.linkTargets = linkTargetsFor(env, st, st.ingress.conference);
      if (st.linkTargets.length > 0) sendToLinks(env, st, b, now);
      forward(env, st, conf, b, now, terminator);
    }
    // Each transmission keeps a user activation or dialled reflector alive from its end.
    if (terminator && st.ingress !== null && !st.ingress.gone && st.ingress.expiresAt !== 0) touch(env, st.ingress, now);
  } else if (st.route === 'unit' && st.unitTarget !== null) forwardUnit(env, st, b, now, terminator);
  if (terminator) env.life.endStream(st, now, 'terminator');
}

/** The route a new stream from a peer takes, by its destination and first frame. */
function routeOf(env: CoreEnv, tg: number, flags: number): StreamRoute {
  // A call to the echo talkgroup is recorded, never routed. Otherwise a private call is a dial-a-TG
  // command to the number dialled (or, for unit data and enabled private voice, a unit call), and
  // a group call feeds a subscription.
  if (isEchoCall(env, tg)) return 'echo';
  if ((flags & FLAG.UNIT) === 0) return 'conference';
  return isDataFrame(flags) || (env.cfg.routing.privateCalls && tg >= 1_000_000) ? 'unit' : 'dial';
}

function startPeerStream(env: CoreEnv, s: Session, lane: SlotState, slot: 1 | 2, b: Uint8Array, streamId: number, now: number): Stream | null {
  const src = readU24(b, DMRD.SRC);
  const tg = readU24(b, DMRD.DST);
  const known = env.streams.get(streamId);
  if (known !== undefined) {
    if (known.session.peerId === s.peerId && known.slot === slot) {
      // A late packet of an earlier stream on this lane (it was superseded or has ended).
      env.counters.add('dmrd.after-end');
      return null;
    }
    dropLoop(env, known, streamId, src, tg, { peer: s.peerId, slot });
    if (known.link === null && s.role === 'peer') sentToo(known, s.peerId);
    return null;
  }
  const cur = lane.rx;
  if (cur !== null && cur.id !== streamId && !cur.ended) {
    if (now - cur.lastAt < env.cfg.timers.collisionWindowMs && cur.src !== src) {
      env.counters.add('stream.collision');
      if (env.logOnce.first(`stream:${streamId}`, 'collision'))
        env.fx.log({ code: 'call.collision', level: 'info', peer: s.peerId, src, tg, slot, stream: streamId, detail: `slot busy with ${cur.src}` });
      noteRefused(env, s.peerId, streamId, now);
      return null;
    }
    env.life.endStream(cur, now, 'superseded');
  }
  const uplink = s.role === 'uplink';
  let route: StreamRoute;
  let sub: Subscription | null;
  if (uplink) {
    // From a master: a group call on a talkgroup the uplink carries on this slot, nothing else.
    sub = uplinkIngress(env, s, slot, tg, b[DMRD.FLAGS]!);
    if (sub === null) return null;
    route = 'conference';
  } else {
    route = routeOf(env, tg, b[DMRD.FLAGS]!);
    sub = route === 'conference' ? ingressSubscription(env, s, slot, tg, now) : null;
  }
  const conf = sub !== null ? (env.index.conference(sub.conference) ?? null) : null;
  const st = beginStream(env, { id: streamId, route, session: s, slot, src, tg, now, first: b, conference: conf });
  st.ingress = sub;
  if (sub !== null) st.linkTargets = linkTargetsFor(env, st, sub.conference);
  lane.rx = st;
  if (route === 'echo') beginEcho(env, st);
  else if (conf === null && !st.unit) env.counters.add('stream.not-subscribed');
  env.fx.log({
    code: 'call.start',
    level: 'info',
    peer: s.peerId,
    src,
    tg,
    slot,
    stream: streamId,
    ...(route === 'echo' ? { reason: 'echo' } : st.unit ? { reason: 'private' } : conf === null ? { reason: 'not-subscribed' } : {}),
    ...(uplink ? { detail: `uplink ${env.uplinks.nameOf(s)}` } : {}),
  });
  env.counters.add('call.start');
  env.fx.report({ report: 'call-start', now, stream: streamId, peer: s.peerId, src, dst: tg, slot, callType: st.unit ? 'private' : 'group', kind: st.data ? 'data' : 'voice' });
  if (!uplink) env.heard.heard(s, slot, src, now);
  if (route === 'unit') {
    // Unit data, or private voice to a subscriber: to where that subscriber was last heard.
    st.unitTarget = findSubscriber(env, tg, s, now);
    if (st.unitTarget !== null) st.unitTargets = [st.unitTarget.session.slots[st.unitTarget.slot].target];
    else env.counters.add(st.data ? 'unit-data.unknown-destination' : 'private.unknown-destination');
  } else if (route === 'dial') st.dialOutcome = dial(env, s, tg, now);
  watchStream(env, st, now);
  return st;
}
