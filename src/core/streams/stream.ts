// Making a stream and registering it: the small stream API that peer ingress and link ingress use
// (model/stream.ts has its shape).

import { decodeFullLc } from '../../protocol/dmr/index.js';
import { DMRD, FLAG, isDataFrame, isVoiceHeader } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { Conference, Session, Stream, StreamRoute } from '../model/index.js';
import { alsoRefused } from './loops.js';

/** FreeDMR's link-control prefix (FLCO, FID, service options) for a stream that began without a voice header. */
const LATE_ENTRY_LC: readonly number[] = [0x00, 0x00, 0x20];

/** What a stream's first frame says: the LC prefix of a voice header (for rewritten copies). */
function lcPrefixOf(b: Uint8Array, flags: number): readonly number[] {
  if (isVoiceHeader(flags)) {
    const head = decodeFullLc(b, DMRD.PAYLOAD);
    if (head.rsOk) return [head.lc[0]!, head.lc[1]!, head.lc[2]!];
  }
  return LATE_ENTRY_LC;
}

export interface StreamStart {
  id: number;
  route: StreamRoute;
  session: Session;
  slot: 1 | 2;
  src: number;
  tg: number;
  now: number;
  /** The first packet (its sequence number, flags and, for a voice header, link control). */
  first: Uint8Array;
  conference: Conference | null;
}

/** A new live stream, in the stream table; the peers that had it refused never get it. */
export function beginStream(env: CoreEnv, x: StreamStart): Stream {
  const flags = x.first[DMRD.FLAGS]!;
  const st: Stream = {
    id: x.id,
    route: x.route,
    session: x.session,
    slot: x.slot,
    src: x.src,
    tg: x.tg,
    startedAt: x.now,
    unit: (flags & FLAG.UNIT) !== 0,
    data: isDataFrame(flags),
    lcPrefix: lcPrefixOf(x.first, flags),
    lastAt: x.now,
    lastSeq: x.first[DMRD.SEQ]!,
    packets: 1,
    forwarded: 0,
    lost: 0,
    berSum: 0,
    rssiSum: 0,
    qualityPackets: 0,
    receivers: 0,
    ended: false,
    cutOff: false,
    quiet: false,
    conference: x.conference,
    variants: [],
    version: -1,
    alsoFrom: null,
    ingress: null,
    unitTarget: null,
    unitTargets: [],
    dialOutcome: null,
    echo: null,
    link: null,
    linkTargets: [],
    linkPolicy: -1,
    linkRefused: null,
    origin: null,
  };
  alsoRefused(env, st);
  env.streams.add(st);
  return st;
}

/** End `st` once it has been silent for the stream timeout (its terminator was lost). */
export function watchStream(env: CoreEnv, st: Stream, now: number): void {
  env.fx.schedule(now + env.cfg.timers.streamTimeoutMs, { kind: 'stream-idle', stream: st });
}

/** A stream's `stream-idle` deadline: ends it, or schedules itself again from its last packet. */
export function streamIdleDue(env: CoreEnv, d: { readonly kind: 'stream-idle'; readonly stream: Stream }, now: number): void {
  const st = d.stream;
  if (st.ended) return;
  const timeout = env.cfg.timers.streamTimeoutMs;
  if (now - st.lastAt >= timeout) env.life.endStream(st, now, 'timeout');
  else env.fx.schedule(st.lastAt + timeout, d);
}
