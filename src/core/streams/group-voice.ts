// Group voice and group data from a logged-in peer (spec §2.5, §4.7, §4.9, §4.11, §4.12).
//
// Per packet, only what must be per packet: find the stream, check sequence, rate and age, check
// each target slot for contention, and hand one frame to the shell with the list of receivers.
// Targets are worked out at stream start and rebuilt only when the conference changes.
//
// Contention on a target slot, first come first served (FreeDMR rules 1–4, with two corrections):
//  - the target is itself transmitting on that slot (any talkgroup) → skip;
//  - the slot carried another talkgroup (either way) within the group hang time → skip;
//  - another stream is being sent to that slot and has not ended or gone quiet for the collision
//    window → skip. FreeDMR compares the talker's subscriber ID here, so two streams from the same
//    subscriber (one radio heard by two hotspots) can interleave on one slot; dmrhub compares the
//    stream, and a slot is free again as soon as its stream's terminator has been sent.
//
// Sequence numbers are compared with 8-bit modular arithmetic: 0 steps back = duplicate (drop),
// 1..127 ahead = forward (a gap is counted as loss), 128..255 = behind, a stale packet (drop).

import { readU32, writeU24 } from '../../protocol/bytes.js';
import { isDataFrame, isTerminator, isVoiceHeader } from '../../protocol/hbp/dmrd.js';
import { decodeFullLc, LcRewriter, makeLc } from '../../protocol/dmr/index.js';
import type { CoreContext } from '../context.js';
import type { Session, SlotState } from '../sessions/session.js';
import type { Conference, Subscription } from '../subscriptions/index.js';
import { dial, DIAL_TG } from '../dial/index.js';
import { ingressSubscription, touch } from '../subscriptions/user.js';
import { beginEcho, isEchoCall, recordEcho } from '../echo/index.js';
import { findSubscriber, forwardUnit, heard, pairKey } from './unit.js';
import { linkTargetsFor, sendToLinks } from '../links/index.js';
import { Stream, type Variant } from './stream.js';

export function onGroupPacket(ctx: CoreContext, s: Session, b: Uint8Array, flags: number, now: number): void {
  const slot: 1 | 2 = (flags & 0x80) !== 0 ? 2 : 1;
  const lane = s.slots[slot];
  const streamId = readU32(b, 16);
  const seq = b[4]!;
  const terminator = isTerminator(flags);
  let st = lane.rx;

  if (st === null || st.id !== streamId) {
    st = startStream(ctx, s, lane, slot, b, streamId, seq, now);
    if (st === null) return;
  } else if (!continueStream(ctx, st, b, seq, now, terminator)) return;
  if (st.echo !== null) recordEcho(ctx, st, b);
  // For hang time a dial-a-TG command counts as traffic on the TG 9 lane it (re)links, so the
  // reflector's traffic is heard at once after dialling.
  // Unit data leaves the talkgroup the slot last carried as it was (data never moves hang time).
  if (!(st.unit && st.data)) lane.rxTg = st.unitTarget !== null ? pairKey(st.src, st.tg) : st.unit ? DIAL_TG : st.tg;
  lane.rxTime = now;
  if (b.length === 55) {
    st.berSum += b[53]!;
    st.rssiSum += b[54]!;
    st.qualityPackets++;
  }

  let conf = st.conference;
  if (conf !== null && conf.members.length === 0) {
    // The conference emptied and may have been replaced by a new one with new members.
    conf = ctx.index.conference(st.tg) ?? conf;
    st.conference = conf;
  }
  if (st.unitTarget !== null) forwardUnit(ctx, st, b, now, terminator);
  else if (conf !== null) {
    // Links first: the peers' fan-out writes receiver IDs into `b`.
    if (st.linkPolicy !== ctx.linkPolicy && st.ingress !== null) st.linkTargets = linkTargetsFor(ctx, st, st.ingress.conference);
    if (st.linkTargets.length > 0) sendToLinks(ctx, st, b);
    forward(ctx, st, conf, b, now, terminator);
  }
  // Each transmission keeps a user activation or dial link alive from its end.
  if (terminator && st.ingress !== null && !st.ingress.gone && st.ingress.expiresAt !== 0) touch(ctx, st.ingress, now);
  if (terminator) ctx.endStream(st, now, 'terminator');
}

/**
 * The checks on a further packet of a live stream: sequence, talker and destination, age and rate.
 * False when the packet is not forwarded (it is counted); the stream ends here on a terminator
 * that comes after its cut-off.
 */
export function continueStream(ctx: CoreContext, st: Stream, b: Uint8Array, seq: number, now: number, terminator: boolean): boolean {
  if (st.ended) {
    ctx.counters.add('dmrd.after-end');
    return false;
  }
  // A stream's destination and talker are fixed at its start; a packet that says otherwise is
  // not part of it.
  if (((b[8]! << 16) | (b[9]! << 8) | b[10]!) !== st.tg || ((b[5]! << 16) | (b[6]! << 8) | b[7]!) !== st.src) {
    ctx.counters.add('dmrd.stream-header-changed');
    return false;
  }
  const step = (seq - st.lastSeq) & 0xff;
  if (step === 0) {
    st.duplicates++;
    ctx.counters.add('dmrd.duplicate');
    return false;
  }
  if (step >= 128) {
    st.stale++;
    ctx.counters.add('dmrd.stale');
    return false;
  }
  if (step > 1) {
    st.lost += step - 1;
    ctx.counters.add('dmrd.gap');
  }
  st.lastSeq = seq;
  st.lastAt = now;
  st.packets++;
  if (now - st.startedAt > ctx.cfg.timers.maxStreamMs) {
    if (!st.cutOff) {
      st.cutOff = true;
      ctx.log({ code: 'call.max-duration', level: 'warn', peer: st.session.peerId, src: st.src, tg: st.tg, slot: st.slot, stream: st.id });
    }
    ctx.counters.add('stream.max-duration-drop');
    if (terminator) ctx.endStream(st, now, 'terminator');
    return false;
  }
  const lim = ctx.cfg.limits;
  if (st.packets > lim.rateGracePackets && st.packets * 1000 > lim.maxPacketRate * (now - st.startedAt)) {
    st.rateDrops++;
    ctx.counters.add('stream.rate-drop');
    if (terminator) ctx.endStream(st, now, 'terminator');
    return false;
  }
  return true;
}

function startStream(
  ctx: CoreContext,
  s: Session,
  lane: SlotState,
  slot: 1 | 2,
  b: Uint8Array,
  streamId: number,
  seq: number,
  now: number,
): Stream | null {
  const src = (b[5]! << 16) | (b[6]! << 8) | b[7]!;
  const tg = (b[8]! << 16) | (b[9]! << 8) | b[10]!;
  const known = ctx.streams.get(streamId);
  if (known !== undefined) {
    if (known.session.peerId === s.peerId && known.slot === slot) {
      // A late packet of an earlier stream on this lane (it was superseded or has ended).
      ctx.counters.add('dmrd.after-end');
      return null;
    }
    dropLoop(ctx, known, streamId, src, tg, { peer: s.peerId, slot });
    if (known.link === null) sentToo(known, s.peerId);
    return null;
  }
  const cur = lane.rx;
  const window = ctx.cfg.timers.collisionWindowMs;
  if (cur !== null && cur.id !== streamId && !cur.ended) {
    if (now - cur.lastAt < window && cur.src !== src) {
      ctx.counters.add('stream.collision');
      if (ctx.logOnce.first(`stream:${streamId}`, 'collision'))
        ctx.log({ code: 'call.collision', level: 'info', peer: s.peerId, src, tg, slot, stream: streamId, detail: `slot busy with ${cur.src}` });
      noteRefused(ctx, s.peerId, streamId, now);
      return null;
    }
    ctx.endStream(cur, now, 'superseded');
  }
  const flags = b[15]!;
  const unit = (flags & 0x40) !== 0;
  // A call to the echo talkgroup is recorded, never routed. Otherwise a private call is a dial-a-TG
  // command to the number dialled, and a group call feeds a subscription.
  const echo = isEchoCall(ctx, tg);
  const sub = unit || echo ? null : ingressSubscription(ctx, s, slot, tg, now);
  const conf = sub !== null ? (ctx.index.conference(sub.conference) ?? null) : null;
  const st = new Stream(streamId, s, slot, src, tg, now, seq, conf);
  alsoRefused(ctx, st);
  st.ingress = sub;
  st.unit = unit;
  readFirstFrame(st, b, flags);
  if (sub !== null) st.linkTargets = linkTargetsFor(ctx, st, sub.conference);
  lane.rx = st;
  ctx.streams.set(streamId, st);
  ctx.liveStreamCount++;
  if (echo) beginEcho(ctx, st);
  else if (conf === null && !unit) ctx.counters.add('stream.not-subscribed');
  ctx.log({
    code: 'call.start',
    level: 'info',
    peer: s.peerId,
    src,
    tg,
    slot,
    stream: streamId,
    ...(echo ? { reason: 'echo' } : unit ? { reason: 'private' } : conf === null ? { reason: 'not-subscribed' } : {}),
  });
  ctx.report({ report: 'call-start', now, stream: streamId, peer: s.peerId, src, dst: tg, slot, callType: unit ? 'private' : 'group', kind: st.data ? 'data' : 'voice' });
  heard(ctx, s, slot, src, now);
  if (unit && !echo) {
    if (st.data || (ctx.cfg.routing.privateCalls && tg >= 1_000_000)) {
      // Unit data, or private voice to a subscriber: to where that subscriber was last heard.
      st.unitTarget = findSubscriber(ctx, tg, s, now);
      if (st.unitTarget !== null) st.unitTargets = [st.unitTarget.session.slots[st.unitTarget.slot].target];
      else ctx.counters.add(st.data ? 'unit-data.unknown-destination' : 'private.unknown-destination');
    } else st.dialOutcome = dial(ctx, s, tg, now);
  }
  watchStream(ctx, st, now);
  return st;
}

/** Peer `peerId` sends stream `st` too: it leaves the stream's receivers. */
export function sentToo(st: Stream, peerId: number): void {
  if (st.alsoFrom === null) st.alsoFrom = [peerId];
  else if (!st.alsoFrom.includes(peerId)) st.alsoFrom.push(peerId);
  else return;
  st.version = -1; // the targets are rebuilt without it at the next packet
}

/** A new stream whose ID peers sent before and had refused (their slot was busy): not sent back to them. */
export function alsoRefused(ctx: CoreContext, st: Stream): void {
  const r = ctx.refusedOn.get(st.id);
  if (r !== undefined) for (const p of r.peers) sentToo(st, p);
}

/** Refused-ID memory beyond which further refusals are not remembered (a flood of made-up stream IDs). */
const MAX_REFUSED = 10_000;

/**
 * Remember that `peerId` sent stream `streamId` and had it refused. The same radio may be heard by
 * another hotspot (or come over a link); that copy is routed, but not back to this peer, which has
 * the call on the air already. Kept, like a routed stream's ID, for the stream-ID memory after the
 * last refused copy.
 */
function noteRefused(ctx: CoreContext, peerId: number, streamId: number, now: number): void {
  const known = ctx.refusedOn.get(streamId);
  if (known !== undefined) {
    known.lastAt = now;
    if (!known.peers.includes(peerId)) known.peers.push(peerId);
    return;
  }
  if (ctx.refusedOn.size >= MAX_REFUSED) {
    ctx.counters.add('stream.refused-memory-full');
    return;
  }
  const r = { peers: [peerId], lastAt: now };
  ctx.refusedOn.set(streamId, r);
  const memory = ctx.cfg.timers.streamIdMemoryMs;
  const check = (t: number): void => {
    if (t - r.lastAt < memory) ctx.deadlines.schedule(r.lastAt + memory, check);
    else if (ctx.refusedOn.get(streamId) === r) ctx.refusedOn.delete(streamId);
  };
  ctx.deadlines.schedule(now + memory, check);
}

/** What a stream's first frame says: the LC prefix of a voice header (for rewritten copies), and whether it is data. */
export function readFirstFrame(st: Stream, b: Uint8Array, flags: number): void {
  if (isVoiceHeader(flags)) {
    const head = decodeFullLc(b, 20);
    if (head.rsOk) st.lcPrefix = [head.lc[0]!, head.lc[1]!, head.lc[2]!];
  }
  st.data = isDataFrame(flags);
}

/** Drop a new stream whose ID is already known from elsewhere (a loop): counted, logged once per ID. */
export function dropLoop(ctx: CoreContext, known: Stream, streamId: number, src: number, tg: number, at: { peer?: number; slot?: 1 | 2; link?: string }): void {
  ctx.counters.add('stream.loop');
  if (!ctx.logOnce.first(`stream:${streamId}`, 'loop')) return;
  const from = known.link !== null ? `link ${known.link.cfg.name}` : `peer ${known.session.peerId} TS${known.slot}`;
  ctx.log({
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

/** End `st` once it has been silent for the stream timeout (its terminator was lost). */
export function watchStream(ctx: CoreContext, st: Stream, now: number): void {
  const timeout = ctx.cfg.timers.streamTimeoutMs;
  const check = (t: number): void => {
    if (st.ended) return;
    if (t - st.lastAt >= timeout) ctx.endStream(st, t, 'timeout');
    else ctx.deadlines.schedule(st.lastAt + timeout, check);
  };
  ctx.deadlines.schedule(now + timeout, check);
}

function rebuildTargets(ctx: CoreContext, st: Stream, conf: Conference): void {
  const epoch = ++ctx.hot.markEpoch;
  const targets: Subscription[] = [];
  for (const m of conf.members) {
    if (m.session === st.session || m.session.closed || m.session.state !== 2 || m.mutedUntil !== 0) continue;
    const lane = m.session.slots[m.slot];
    if (lane.mark === epoch) continue; // one copy per (peer, slot)
    if (st.alsoFrom !== null && st.alsoFrom.includes(m.session.peerId)) continue;
    lane.mark = epoch;
    targets.push(m);
  }
  st.targets = targets;
  // Group the receivers by the talkgroup they hear it on: the stream's own (sent as it came) and,
  // for a dial link, TG 9 or the reflector's TG (destination and link control rewritten).
  const variants: Variant[] = [];
  for (const m of targets) {
    let v = variants.find((x) => x.tg === m.rfTg);
    if (v === undefined) {
      let rewriter: LcRewriter | null = null;
      if (m.rfTg !== st.tg) rewriter = new LcRewriter(makeLc(st.lcPrefix, m.rfTg, st.src));
      v = { tg: m.rfTg, subs: [], rewriter, scratch: [], pending: null, count: 0, buffer: null };
      if (m.rfTg === st.tg) variants.unshift(v);
      else variants.push(v);
    }
    v.subs.push(m);
  }
  st.variants = variants;
  st.version = conf.version;
}

/**
 * A copy of frame `b` for receivers on another talkgroup: destination and link control rewritten.
 * The variant's buffer is reused from packet to packet unless the shell said it still holds it.
 */
function variantFrame(b: Uint8Array, v: Variant): Uint8Array {
  let out = v.buffer;
  if (out === null) out = v.buffer = new Uint8Array(55);
  out.set(b); // 53 or 55 bytes (a longer datagram is refused before it gets here)
  if (b.length < 55) {
    out[53] = 0;
    out[54] = 0;
  }
  writeU24(out, 8, v.tg);
  v.rewriter!.patchFrame(out, out[15]!, 20);
  return out;
}

export function forward(ctx: CoreContext, st: Stream, conf: Conference, b: Uint8Array, now: number, terminator: boolean): void {
  if (st.version !== conf.version) rebuildTargets(ctx, st, conf);
  const t = ctx.cfg.timers;
  const hang = t.groupHangtimeMs;
  const window = t.collisionWindowMs;
  const variants = st.variants;
  let frame = b;
  if (b.length !== 55) {
    frame = new Uint8Array(55);
    frame.set(b.subarray(0, 53));
  }
  for (let k = 0; k < variants.length; k++) {
    const v = variants[k]!;
    const subs = v.subs;
    const tg = v.tg;
    const scratch = v.scratch;
    let n = 0;
    for (let i = 0; i < subs.length; i++) {
      const sub = subs[i]!;
      const lane = sub.session.slots[sub.slot];
      const rx = lane.rx;
      if (rx !== null && !rx.ended && now - lane.rxTime < window) continue;
      if (lane.rxTg !== tg && now - lane.rxTime < hang) continue;
      if (lane.txTg !== tg && now - lane.txTime < hang) continue;
      if (lane.txStream !== st.id) {
        if (!lane.txEnded && now - lane.txTime < window) continue;
        st.receivers++;
      }
      lane.txStream = st.id;
      lane.txTg = tg;
      lane.txTime = now;
      lane.txEnded = terminator;
      scratch[n++] = lane.target;
    }
    if (n === 0) continue;
    // The rewritten copies are made before the frame itself goes out (the shell patches it in place).
    const out = v.rewriter === null ? frame : variantFrame(b, v);
    st.forwarded++;
    ctx.hot.framesForwarded++;
    ctx.hot.sendsForwarded += n;
    v.pending = out;
    v.count = n;
  }
  for (let k = variants.length - 1; k >= 0; k--) {
    const v = variants[k]!;
    if (v.count === 0) continue;
    if (ctx.sink.fanOut(v.pending!, v.scratch, v.count) === true && v.pending === v.buffer) v.buffer = null;
    v.count = 0;
    v.pending = null;
  }
}
