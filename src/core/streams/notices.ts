// The flood limit on what new streams say. Each new stream ID from a peer, link or uplink makes a
// call.start and a call.end log line and report event; a source sending many short streams would
// fill the log and the reporting sinks (38.6 MB of log and 116 k SQLite events in two minutes were
// seen). So each source (its session, or the stand-in session of a link or uplink) gets a window of
// one minute, opened by its first new stream: the first `limits.streamNoticesPerMinute` streams in
// it are logged and reported one by one, the rest are only counted, and when the window ends one
// log line and one `calls-limited` report sum them up. Routing is not touched: a quiet stream is
// forwarded like any other. Checked once per stream start, never per packet; the window is three
// numbers kept in the session.

import type { CoreEnv } from '../effects.js';
import type { Session } from '../model/index.js';

export const NOTICE_WINDOW_MS = 60_000;

/**
 * Whether a new stream from `s` starting at `now` gets its own log lines and reports (true), or is
 * kept quiet and counted for the window's summary (false).
 */
export function noticeStream(env: CoreEnv, s: Session, now: number): boolean {
  const limit = env.cfg.limits.streamNoticesPerMinute;
  if (limit <= 0) return true;
  const w = s.notices;
  if (w.start < 0 || now - w.start >= NOTICE_WINDOW_MS) {
    // A window whose summary timer has not run yet (the event came first) is summed up now.
    if (w.start >= 0) noticeSummary(env, s, w.start, now);
    w.start = now;
    w.noticed = 0;
    w.quiet = 0;
  }
  if (w.noticed < limit) {
    w.noticed++;
    return true;
  }
  if (w.quiet === 0) env.fx.schedule(w.start + NOTICE_WINDOW_MS, { kind: 'notice-summary', session: s, start: w.start });
  w.quiet++;
  env.counters.add('stream.notice-limited');
  return false;
}

/** The end of a window (deadline, or a new window opening first): one line and one report for its quiet streams. */
export function noticeSummary(env: CoreEnv, s: Session, start: number, now: number): void {
  const w = s.notices;
  if (w.start !== start || w.quiet === 0) return;
  const via = s.role;
  const name = via === 'link' ? (env.links.all.find((l) => l.session === s)?.cfg.name ?? '') : via === 'uplink' ? env.uplinks.nameOf(s) : '';
  const from = via === 'peer' ? `peer ${s.peerId}` : `${via} ${name}`;
  const windowMs = Math.min(now, start + NOTICE_WINDOW_MS) - start;
  env.fx.log({
    code: 'call.limited',
    level: 'info',
    peer: s.peerId,
    count: w.quiet,
    detail: `${w.quiet} more streams from ${from} in the last minute (only the first ${w.noticed} were logged one by one; limits.stream_notices_per_minute)`,
  });
  env.fx.report({ report: 'calls-limited', now, peer: s.peerId, via, name, streams: w.quiet, reported: w.noticed, windowMs });
  w.quiet = 0;
}
