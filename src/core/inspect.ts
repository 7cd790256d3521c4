// Views of the core's state for tests, tools and dashboards (they allocate; never on the packet path).

import type { CoreEnv } from './effects.js';
import { SessionState } from './sessions/session.js';

export interface PeerView {
  peerId: number;
  state: 'waiting-config' | 'connected';
  address: string;
  port: number;
  callsign: string;
  options: string | null;
  ts1: number[];
  ts2: number[];
  lastSeen: number;
}

export function peerViews(env: CoreEnv): PeerView[] {
  return [...env.sessions.values()]
    .sort((a, b) => a.peerId - b.peerId)
    .map((s) => ({
      peerId: s.peerId,
      state: s.state === SessionState.Connected ? 'connected' : 'waiting-config',
      address: s.address,
      port: s.port,
      callsign: s.config?.callsign ?? '',
      options: s.optionsText,
      ts1: [...s.subs[1].keys()].sort((a, b) => a - b),
      ts2: [...s.subs[2].keys()].sort((a, b) => a - b),
      lastSeen: s.lastSeen,
    }));
}

export function statsOf(env: CoreEnv): [string, number][] {
  const out = env.counters.snapshot();
  const hot = env.hot;
  out.push(['dmrd.in', hot.dmrdIn], ['forward.frames', hot.framesForwarded], ['forward.sends', hot.sendsForwarded]);
  for (const l of env.links.all) out.push([`link.${l.cfg.name}.in`, l.framesIn], [`link.${l.cfg.name}.out`, l.framesOut], [`link.${l.cfg.name}.dropped`, l.dropped]);
  out.push(['peers', env.sessions.peerCount], ['pending-logins', env.sessions.pendingCount], ['subscriptions', env.index.size], ['live-streams', env.streams.liveCount]);
  return out;
}
