// The state report for the operator console: every peer with its RPTC details, options and
// subscriptions, the live calls, the links and uplinks, and the counters. Made on the
// `console-snapshot` timer (once a second by default, only while the console is on); it allocates,
// but never on the packet path.

import type { RepeaterConfig } from '../../protocol/hbp/index.js';
import type { LinkView, LiveCall, PeerState, StateReport, UplinkView } from '../actions.js';
import type { CoreEnv } from '../effects.js';
import { statsOf } from '../inspect.js';
import { SessionState } from '../sessions/session.js';
import { NEVER } from '../time.js';

export function stateReport(env: CoreEnv, now: number): StateReport {
  const peers: PeerState[] = [];
  for (const s of env.sessions.values()) {
    if (s.state !== SessionState.Connected) continue;
    const c = s.config;
    const subs: PeerState['subs'] = [];
    for (const slot of [1, 2] as const) for (const sub of s.subs[slot].values()) subs.push({ slot, tg: sub.rfTg, conference: sub.conference, source: sub.source });
    peers.push({
      peer: s.peerId,
      address: s.address,
      port: s.port,
      loggedInAt: s.loggedInAt,
      lastSeen: s.lastSeen,
      config: c === null ? null : rptcFields(c),
      options: s.optionsText,
      subs,
    });
  }
  peers.sort((a, b) => a.peer - b.peer);
  const calls: LiveCall[] = [];
  for (const st of env.streams.all()) {
    if (st.ended) continue;
    const via = st.link !== null ? `link:${st.link.cfg.name}` : st.session.role === 'uplink' ? `uplink:${env.uplinks.nameOf(st.session)}` : 'peer';
    calls.push({
      stream: st.id,
      peer: st.session.peerId,
      src: st.src,
      dst: st.tg,
      slot: st.slot,
      callType: st.unit ? 'private' : 'group',
      via,
      startedNow: st.startedAt,
      lastNow: st.lastAt,
      packets: st.packets,
      lost: st.lost,
      berSum: st.berSum,
      rssiSum: st.rssiSum,
      qualityPackets: st.qualityPackets,
    });
  }
  const links: LinkView[] = env.links.all
    .filter((l) => !l.removed)
    .map((l) => ({
      name: l.cfg.name,
      protocol: l.fbp !== null ? 'fbp' : 'openbridge',
      address: l.targetAddress,
      port: l.targetPort,
      up: l.fbp !== null ? l.fbp.up : null,
      version: l.fbp?.peerVersion ?? 0,
      lastHeard: l.fbp !== null && l.fbp.lastHeard !== NEVER ? l.fbp.lastHeard : null,
      framesIn: l.framesIn,
      framesOut: l.framesOut,
      dropped: l.dropped,
    }));
  const uplinks: UplinkView[] = env.uplinks.all
    .filter((u) => !u.removed)
    .map((u) => ({ name: u.cfg.name, address: u.cfg.address, port: u.cfg.port, state: u.state, upAt: u.state === 'up' ? u.upAt : null, framesIn: u.framesIn, dropped: u.dropped }));
  return { report: 'state', now, peers, calls, links, uplinks, counters: statsOf(env) };
}

/** The RPTC fields of a peer's config, without its ID (the report names the peer already). */
function rptcFields(c: RepeaterConfig): Omit<RepeaterConfig, 'peerId'> {
  const { peerId: _peerId, ...fields } = c;
  return fields;
}
