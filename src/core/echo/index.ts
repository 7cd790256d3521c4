// Echo (parrot) on the echo talkgroup (9990 by default), by group call or private call: the stream
// is recorded instead of routed, and after its end (terminator, or a lost terminator's timeout)
// it is played back to the caller's slot after a pause (2 s), with a new stream ID, one frame per
// 60 ms (spec §8.3, done in-process as the spec suggests, with no loopback peer).
//
//  - A group call to 9990 plays back unchanged (TG 9990, the caller's ID). A private call to 9990
//    plays back as a group call to TG 9, which every hotspot's radio hears (FreeDMR reaches the
//    parrot from a private call through a TG 9 dial link, so this is what its users know); the
//    destination and link control are rewritten like any dial-a-TG frame.
//  - Recordings are bounded in length (`echo.maxMs`; frames beyond it are not recorded, so a
//    truncated recording plays back without its terminator and the radio ends it by timeout) and
//    in number (`echo.maxRecordings`, counting recordings and their pending playbacks).
//  - An echo never reaches any other peer or any link; it takes part in contention on the caller's
//    slot like any stream (src/core/playout).

import { FLCO_GROUP_VOICE, LcRewriter, makeLc } from '../../protocol/dmr/index.js';
import { writeU24 } from '../../protocol/bytes.js';
import { DMRD, FLAG } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { EndReason, Stream } from '../model/index.js';
import { DIAL_TG } from '../dial/index.js';
import { FRAME_MS, startPlayout } from '../playout/index.js';

/** How long a playback may wait for the caller's slot to become free. */
const MAX_WAIT_MS = 10_000;

export function isEchoCall(env: CoreEnv, dst: number): boolean {
  return env.cfg.echo.tg !== 0 && dst === env.cfg.echo.tg;
}

/** At the stream's first packet: start recording, unless too many echoes are in progress. */
export function beginEcho(env: CoreEnv, st: Stream): void {
  if (env.echoes.active >= env.cfg.echo.maxRecordings) {
    env.counters.add('echo.busy');
    env.fx.log({ code: 'echo.busy', level: 'warn', peer: st.session.peerId, src: st.src, slot: st.slot, stream: st.id, detail: `${env.echoes.active} echoes in progress` });
    return;
  }
  env.echoes.take();
  st.echo = { frames: [], truncated: false };
}

/** Each accepted packet of an echo stream (after the sequence checks). */
export function recordEcho(env: CoreEnv, st: Stream, b: Uint8Array): void {
  const rec = st.echo!;
  // Frames 60 ms apart, plus the voice header and terminator.
  if (rec.frames.length >= Math.ceil(env.cfg.echo.maxMs / FRAME_MS) + 2) {
    if (!rec.truncated) {
      rec.truncated = true;
      env.counters.add('echo.truncated');
    }
    return;
  }
  const copy = new Uint8Array(55);
  copy.set(b.subarray(0, Math.min(55, b.length)));
  rec.frames.push(copy);
}

/** The stream ended: play it back, or let the recording go. */
export function finishEcho(env: CoreEnv, st: Stream, now: number, reason: EndReason): void {
  const rec = st.echo!;
  st.echo = null;
  if ((reason !== 'terminator' && reason !== 'timeout') || rec.frames.length === 0) {
    env.echoes.release();
    env.counters.add('echo.dropped');
    return;
  }
  const frames = rec.frames;
  let tg = st.tg;
  if (st.unit) {
    // Private call to the echo number: back as a group call on TG 9 (the recorded copies are ours).
    tg = DIAL_TG;
    const rw = new LcRewriter(makeLc([FLCO_GROUP_VOICE, st.lcPrefix[1] ?? 0, st.lcPrefix[2] ?? 0], DIAL_TG, st.src));
    for (const f of frames) {
      writeU24(f, DMRD.DST, DIAL_TG);
      f[DMRD.FLAGS] = f[DMRD.FLAGS]! & ~FLAG.UNIT;
      rw.patchFrame(f, f[DMRD.FLAGS]!, DMRD.PAYLOAD);
    }
  }
  const streamId = env.streams.newId(env.prng);
  env.counters.add('echo.recorded');
  env.fx.log({ code: 'echo.recorded', level: 'info', peer: st.session.peerId, src: st.src, slot: st.slot, stream: st.id, packets: frames.length });
  // The budget is given back when the playout ends (the router's onDeadline), or here if it is over at once.
  const over = startPlayout(env, { session: st.session, slot: st.slot, frames, tg, streamId, startAt: now + env.cfg.echo.delayMs, maxWaitMs: MAX_WAIT_MS, kind: 'echo', next: 0 });
  if (over !== null) env.echoes.release();
}
