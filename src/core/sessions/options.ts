// Applying a peer's RPTO options to its subscriptions (spec §4.4). This vocabulary is the
// static talkgroup lists `TS1=` and `TS2=`; each slot is parsed on its own, bad tokens are skipped
// and logged once per session, and a key that is absent means no statics on that slot (as in
// FreeDMR). When the session ends its subscriptions go with it, so the next login starts again from
// the server defaults.

import { parseTgList, readAscii, tokenizeOptions } from '../../protocol/index.js';
import type { CoreContext } from '../context.js';
import type { Session } from './session.js';

export function applyDefaults(ctx: CoreContext, s: Session): void {
  ctx.index.setStatic(s, 1, ctx.cfg.routing.ts1Static, 'default');
  ctx.index.setStatic(s, 2, ctx.cfg.routing.ts2Static, 'default');
}

export function applyOptions(ctx: CoreContext, s: Session, raw: Uint8Array, _now: number): void {
  s.options = readAscii(raw, 0, raw.length);
  const { fields, malformed } = tokenizeOptions(raw);
  const rejected: string[] = malformed.map((m) => `'${m}' is not key=value`);
  const ignored: string[] = [];
  let ts1: number[] = [];
  let ts2: number[] = [];
  const limit = ctx.cfg.routing.maxStaticPerSlot;
  for (const { key, value } of fields) {
    if (key === 'TS1' || key === 'TS2') {
      const list = parseTgList(value, limit);
      for (const t of list.rejected) rejected.push(`${key}: '${t}' is not a talkgroup 1..16777214 (or over the limit of ${limit})`);
      if (key === 'TS1') ts1 = list.tgs;
      else ts2 = list.tgs;
    } else {
      ignored.push(key);
    }
  }
  ctx.index.setStatic(s, 1, ts1, 'options');
  ctx.index.setStatic(s, 2, ts2, 'options');
  ctx.log({ code: 'peer.options', level: 'info', peer: s.peerId, detail: `TS1=${ts1.join(',')} TS2=${ts2.join(',')}` });
  ctx.report({ report: 'peer-options', now: ctx.now, peer: s.peerId, options: s.options, ts1: [...ts1], ts2: [...ts2], rejected: [...rejected] });
  if (rejected.length > 0) {
    ctx.counters.add('options.rejected-field', rejected.length);
    if (!s.logged.has('options.rejected')) {
      s.logged.add('options.rejected');
      ctx.log({ code: 'options.rejected', level: 'warn', peer: s.peerId, detail: rejected.join('; ') });
    }
  }
  if (ignored.length > 0 && !s.logged.has('options.unsupported')) {
    s.logged.add('options.unsupported');
    ctx.log({ code: 'options.unsupported', level: 'debug', peer: s.peerId, detail: ignored.join(',') });
  }
}
