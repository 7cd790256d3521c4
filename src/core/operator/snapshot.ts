// The state report for the operator console: the peers with their RPTC details, options and
// subscriptions, the live calls, the links and uplinks, and the counters. Made on the
// `console-snapshot` timer (once a second by default, only while the console is on); never on the
// packet path.
//
// The peers go as changes: a report lists only the peers that are new or changed since the last
// one (`peers`), the ones that left (`gone`), and, for the rest, the new last-ping times of those
// that pinged (`seen`). The first report after snapshots start is whole (`full`). At 200 peers a
// whole report took the main thread 1.2-2 ms a second, most of it making and copying peer records
// that had not changed; the console keeps the merged picture (src/shell/console.ts).

import type { RepeaterConfig } from '../../protocol/hbp/index.js';
import type { LinkView, LiveCall, PeerState, StateReport, UplinkView } from '../actions.js';
import type { CoreEnv } from '../effects.js';
import { statsOf } from '../inspect.js';
import type { Session, Subscription } from '../model/index.js';
import { SessionState } from '../sessions/session.js';
import { NEVER } from '../time.js';

/** What the last report said of one peer, to tell what changed. */
interface Reported {
  session: Session;
  config: RepeaterConfig | null;
  options: string | null;
  lastSeen: number;
  /** The subscription records, in report order (they are replaced, never changed, when they change). */
  subs: Subscription[];
  /** The report that last found the peer connected. */
  mark: number;
}

export class StateReporter {
  private readonly reported = new Map<number, Reported>();
  private count = 0;

  /** Snapshots stopped: the next report is whole. */
  reset(): void {
    this.reported.clear();
    this.count = 0;
  }

  report(env: CoreEnv, now: number): StateReport {
    const full = this.count === 0;
    const mark = ++this.count;
    const peers: PeerState[] = [];
    const seen: number[] = [];
    for (const s of env.sessions.values()) {
      if (s.state !== SessionState.Connected) continue;
      const was = this.reported.get(s.peerId);
      if (was !== undefined && was.session === s && was.config === s.config && was.options === s.optionsText && sameSubs(s, was.subs)) {
        was.mark = mark;
        if (was.lastSeen !== s.lastSeen) {
          was.lastSeen = s.lastSeen;
          seen.push(s.peerId, s.lastSeen);
        }
        continue;
      }
      const subs = subsOf(s);
      this.reported.set(s.peerId, { session: s, config: s.config, options: s.optionsText, lastSeen: s.lastSeen, subs, mark });
      peers.push(peerState(s, subs));
    }
    const gone: number[] = [];
    for (const [peer, r] of this.reported) {
      if (r.mark === mark) continue;
      this.reported.delete(peer);
      gone.push(peer);
    }
    peers.sort((a, b) => a.peer - b.peer);
    gone.sort((a, b) => a - b);
    return { report: 'state', now, full, peers, gone, seen, calls: liveCalls(env), links: linkViews(env), uplinks: uplinkViews(env), counters: statsOf(env) };
  }
}

function sameSubs(s: Session, was: readonly Subscription[]): boolean {
  let i = 0;
  for (const slot of [1, 2] as const) {
    for (const sub of s.subs[slot].values()) if (was[i++] !== sub) return false;
  }
  return i === was.length;
}

function subsOf(s: Session): Subscription[] {
  const out: Subscription[] = [];
  for (const slot of [1, 2] as const) for (const sub of s.subs[slot].values()) out.push(sub);
  return out;
}

function peerState(s: Session, subs: readonly Subscription[]): PeerState {
  return {
    peer: s.peerId,
    address: s.address,
    port: s.port,
    loggedInAt: s.loggedInAt,
    lastSeen: s.lastSeen,
    config: s.config === null ? null : rptcFields(s.config),
    options: s.optionsText,
    subs: subs.map((sub) => ({ slot: sub.slot, tg: sub.rfTg, conference: sub.conference, source: sub.source })),
  };
}

function liveCalls(env: CoreEnv): LiveCall[] {
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
  return calls;
}

function linkViews(env: CoreEnv): LinkView[] {
  return env.links.all
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
}

function uplinkViews(env: CoreEnv): UplinkView[] {
  return env.uplinks.all
    .filter((u) => !u.removed)
    .map((u) => ({ name: u.cfg.name, address: u.cfg.address, port: u.cfg.port, state: u.state, upAt: u.state === 'up' ? u.upAt : null, framesIn: u.framesIn, dropped: u.dropped }));
}

/** The RPTC fields of a peer's config, without its ID (the report names the peer already). */
function rptcFields(c: RepeaterConfig): Omit<RepeaterConfig, 'peerId'> {
  const { peerId: _peerId, ...fields } = c;
  return fields;
}
