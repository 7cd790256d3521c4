// What the fuzz harness watches: the bystanders' sessions (through the core's inspection API) and
// the size of every table the core keeps (through its inspection API where it has one, else by
// reading the tables' private fields: a renamed field fails loudly here, not silently).

import type { Core } from '../../src/core/index.js';
import type { Session } from '../../src/core/model/index.js';
import { MAX_REFUSED } from '../../src/core/streams/table.js';
import { LAST_HEARD_MAX } from '../../src/core/unit/heard.js';
import { fuzzConfig } from './setup.js';

/**
 * Everything about each bystander that must not change: its session object, state, address,
 * callsign, options and subscriptions (source, conference, expiry, muting), all but lastSeen.
 */
export function bystanderStates(core: Core, ids: readonly number[]): { session: Session | undefined; text: string }[] {
  const views = new Map(core.peers().map((p) => [p.peerId, p]));
  return ids.map((id) => {
    const s = core.sessions.get(id);
    const view = views.get(id);
    if (s === undefined || view === undefined) return { session: s, text: 'gone' };
    const { lastSeen: _lastSeen, ...rest } = view;
    const subs = ([1, 2] as const).map((slot) =>
      [...s.subs[slot].values()].map((x) => [x.rfTg, x.conference, x.source, x.expiresAt, x.mutedUntil, x.gone]).sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
    const text = JSON.stringify({ view: rest, serial: s.serial, state: s.state, closed: s.closed, config: s.config, options: s.options, key: s.optionsKey, reflector: s.defaultReflector, subs });
    return { session: s, text };
  });
}

interface Sized {
  size: number;
}

/** Table name → current size. */
export type Tables = Record<string, number>;

/** Hard upper bounds the config implies; a table above its bound is a finding. */
export function tableBounds(actors: number): Tables {
  const cfg = fuzzConfig();
  return {
    sessions: actors + 1,
    pending: cfg.hbp.maxPendingLogins,
    refused: MAX_REFUSED,
    heard: LAST_HEARD_MAX,
    logOnce: 4096,
  };
}

function field<T>(o: unknown, name: string): T {
  const v = (o as Record<string, unknown>)[name];
  if (v === undefined) throw new Error(`fuzz probe: the core has no field '${name}' any more; update test/fuzz/probe.ts`);
  return v as T;
}

export class TableProbe {
  private readonly env: unknown;
  private readonly deadlines: Sized;

  constructor(private readonly core: Core) {
    this.env = field(core, 'env');
    this.deadlines = field<Sized>(core, 'deadlines');
  }

  sizes(): Tables {
    const env = this.env;
    const sessions = field<unknown>(env, 'sessions');
    const streams = field<unknown>(env, 'streams');
    const links = field<{ all: readonly { fbp: { quenchSent: Map<number, number> } | null; warned: Map<string, unknown> }[] }>(env, 'links');
    let quench = 0;
    let warned = 0;
    for (const l of links.all) {
      quench += l.fbp?.quenchSent.size ?? 0;
      warned += l.warned.size;
    }
    return {
      sessions: this.core.sessions.size,
      pending: this.core.pendingLogins,
      owners: field<Sized>(sessions, 'owners').size,
      streams: field<Sized>(streams, 'byId').size,
      liveStreams: field<number>(streams, 'live'),
      refused: this.core.refusedOn.size,
      subscriptions: this.core.index.size,
      heard: field<Sized>(field<unknown>(env, 'heard'), 'm').size,
      logOnce: field<Sized>(field<unknown>(env, 'logOnce'), 'seen').size,
      counters: field<Sized>(field<unknown>(env, 'counters'), 'values').size,
      deadlines: this.deadlines.size,
      quench,
      warned,
    };
  }
}
