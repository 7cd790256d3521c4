// Targets and fan-out: who receives a stream's packet, and one frame handed to the shell per
// talkgroup variant with the list of receivers. Targets are worked out at the stream's start and
// rebuilt only when the conference's version changes; per packet, only each receiver's contention
// check (streams/contention.ts) runs.

import { writeU24 } from '../../protocol/bytes.js';
import { LcRewriter, makeLc } from '../../protocol/dmr/index.js';
import { DMRD } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { Conference, Session, Stream, Subscription, Variant } from '../model/index.js';
import { SessionState } from '../sessions/session.js';

function rebuildTargets(env: CoreEnv, st: Stream, conf: Conference): void {
  const epoch = ++env.hot.markEpoch;
  // Group the receivers by the talkgroup they hear it on: the stream's own (sent as it came) and,
  // for a dial lane, TG 9 or the reflector's TG (destination and link control rewritten).
  const variants: Variant[] = [];
  // No traffic from one uplink to another: each master is a network of its own.
  const fromUplink = st.session.role === 'uplink';
  // One call reaches a peer on one slot only, whatever its subscriptions (a static TG on TS1 and a
  // dial link to it on TS2): the lane chosen by `preferred`. Worked out here, at the stream's start
  // and when the conference changes, never per packet.
  let chosen: Map<Session, Subscription> | null = null;
  const eligible: Subscription[] = [];
  for (const m of conf.members) {
    if (m.session === st.session || m.session.closed || m.session.state !== SessionState.Connected || m.mutedUntil !== 0) continue;
    if (fromUplink && m.session.role === 'uplink') continue;
    if (st.alsoFrom !== null && st.alsoFrom.includes(m.session.peerId)) continue;
    const other = m.session.slots[m.slot === 1 ? 2 : 1];
    if (other.mark === epoch) {
      // Its other slot is a member too: keep the preferred one of the two.
      chosen ??= new Map();
      const prev = chosen.get(m.session) ?? eligible.find((e) => e.session === m.session)!;
      chosen.set(m.session, preferred(prev, m));
    }
    m.session.slots[m.slot].mark = epoch;
    eligible.push(m);
  }
  const epoch2 = ++env.hot.markEpoch;
  for (const m of eligible) {
    if (chosen !== null) {
      const pick = chosen.get(m.session);
      if (pick !== undefined && pick !== m) continue;
    }
    const lane = m.session.slots[m.slot];
    if (lane.mark === epoch2) continue; // one copy per (peer, slot)
    lane.mark = epoch2;
    variantFor(variants, st, m).subs.push(m);
  }
  st.variants = variants;
  st.version = conf.version;
}

/**
 * Which of a peer's two subscriptions to one conference carries a call to it: the one the peer
 * chose most deliberately (a dialled reflector, then a user activation, then the default reflector,
 * then a static talkgroup); between two of one kind, TS2 (a simplex hotspot has TS2 only).
 */
const RANK: Record<Subscription['source'], number> = { dial: 5, user: 4, 'default-reflector': 3, options: 2, default: 1, uplink: 0 };
export function preferred(a: Subscription, b: Subscription): Subscription {
  const ra = RANK[a.source];
  const rb = RANK[b.source];
  if (ra !== rb) return ra > rb ? a : b;
  return a.slot === 2 ? a : b;
}

function variantFor(variants: Variant[], st: Stream, m: Subscription): Variant {
  let v = variants.find((x) => x.tg === m.rfTg);
  if (v === undefined) {
    const rewriter = m.rfTg !== st.tg ? new LcRewriter(makeLc(st.lcPrefix, m.rfTg, st.src)) : null;
    v = { tg: m.rfTg, subs: [], rewriter, scratch: [], pending: null, count: 0, buffer: null };
    if (m.rfTg === st.tg) variants.unshift(v);
    else variants.push(v);
  }
  return v;
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
    out[DMRD.BER] = 0;
    out[DMRD.RSSI] = 0;
  }
  writeU24(out, DMRD.DST, v.tg);
  v.rewriter!.patchFrame(out, out[DMRD.FLAGS]!, DMRD.PAYLOAD);
  return out;
}

/**
 * The receivers of variant `v` whose slot may take packet `now` of `st`, their lanes marked as
 * carrying it: how many, in `v.scratch`. The checks are contention.ts's `laneFree`, written out
 * here because this loop runs for every receiver of every packet: calling it cost about 5 % of the
 * core's time per packet at fan-out 10 (bench/compare-core.ts, the two forms alternating, 9 runs
 * each: 0.95 inlined). test/property/contention.property.test.ts holds the two to the same answer
 * for any lane state, so the rules stay one set.
 */
function admit(st: Stream, v: Variant, now: number, window: number, hang: number, terminator: boolean): number {
  const subs = v.subs;
  const tg = v.tg;
  const scratch = v.scratch;
  const id = st.id;
  let n = 0;
  for (let i = 0; i < subs.length; i++) {
    const sub = subs[i]!;
    const lane = sub.session.slots[sub.slot];
    const rx = lane.rx;
    if (rx !== null && !rx.ended && now - lane.rxTime < window) continue;
    if (lane.rxTg !== tg && now - lane.rxTime < hang) continue;
    if (lane.txTg !== tg && now - lane.txTime < hang) continue;
    if (lane.txStream !== id) {
      if (!lane.txEnded && now - lane.txTime < window) continue;
      st.receivers++;
    }
    lane.txStream = id;
    lane.txTg = tg;
    lane.txTime = now;
    lane.txEnded = terminator;
    scratch[n++] = lane.target;
  }
  return n;
}

/**
 * One packet of `st` to the members of `conf` whose slot may take it now. While the shell's
 * receive queue is behind, no group voice goes out (the shell would shed it): the packet is
 * counted and nothing else is done, not even the receivers' contention checks, so that the
 * backlog drains at the cost of reading a datagram. No receiver's lane is taken meanwhile.
 */
export function forward(env: CoreEnv, st: Stream, conf: Conference, b: Uint8Array, now: number, terminator: boolean): void {
  if (env.receive.behind) {
    env.counters.add('forward.shed-behind');
    return;
  }
  if (st.version !== conf.version) rebuildTargets(env, st, conf);
  const t = env.cfg.timers;
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
    const n = admit(st, v, now, window, hang, terminator);
    if (n === 0) continue;
    // The rewritten copies are made before the frame itself goes out (the shell patches it in place).
    const out = v.rewriter === null ? frame : variantFrame(b, v);
    st.forwarded++;
    env.hot.framesForwarded++;
    env.hot.sendsForwarded += n;
    v.pending = out;
    v.count = n;
  }
  for (let k = variants.length - 1; k >= 0; k--) {
    const v = variants[k]!;
    if (v.count === 0) continue;
    if (env.fx.fanOut(v.pending!, v.scratch, v.count) === true && v.pending === v.buffer) v.buffer = null;
    v.count = 0;
    v.pending = null;
  }
}
