// The checks on a further packet of a live stream (spec §4.11, §4.12): talker and destination,
// sequence, age and rate.
//
// Sequence numbers are compared with 8-bit modular arithmetic: 0 steps back = duplicate (drop),
// 1..127 ahead = forward (a gap is counted as loss), 128..255 = behind, a stale packet (drop).

import { DMRD } from '../../protocol/hbp/dmrd.js';
import { readU24 } from '../../protocol/bytes.js';
import type { CoreEnv } from '../effects.js';
import type { Stream } from '../model/index.js';

/**
 * False when the packet is not forwarded (it is counted); the stream ends here on a terminator that
 * comes after its cut-off.
 */
export function acceptPacket(env: CoreEnv, st: Stream, b: Uint8Array, seq: number, now: number, terminator: boolean): boolean {
  if (st.ended) {
    env.counters.add('dmrd.after-end');
    return false;
  }
  // A stream's destination and talker are fixed at its start; a packet that says otherwise is
  // not part of it.
  if (readU24(b, DMRD.DST) !== st.tg || readU24(b, DMRD.SRC) !== st.src) {
    env.counters.add('dmrd.stream-header-changed');
    return false;
  }
  const step = (seq - st.lastSeq) & 0xff;
  if (step === 0) {
    env.counters.add('dmrd.duplicate');
    return false;
  }
  if (step >= 128) {
    env.counters.add('dmrd.stale');
    return false;
  }
  if (step > 1) {
    st.lost += step - 1;
    env.counters.add('dmrd.gap');
  }
  st.lastSeq = seq;
  st.lastAt = now;
  st.packets++;
  if (now - st.startedAt > env.cfg.timers.maxStreamMs) {
    if (!st.cutOff) {
      st.cutOff = true;
      env.fx.log({ code: 'call.max-duration', level: 'warn', peer: st.session.peerId, src: st.src, tg: st.tg, slot: st.slot, stream: st.id });
    }
    env.counters.add('stream.max-duration-drop');
    if (terminator) env.life.endStream(st, now, 'terminator');
    return false;
  }
  const lim = env.cfg.limits;
  if (st.packets > lim.rateGracePackets && st.packets * 1000 > lim.maxPacketRate * (now - st.startedAt)) {
    env.counters.add('stream.rate-drop');
    if (terminator) env.life.endStream(st, now, 'terminator');
    return false;
  }
  return true;
}
