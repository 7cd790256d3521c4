// The state report for the operator console: the peers with their RPTC details, options and
// subscriptions, the live calls, the links and uplinks, and the counters. Made on the
// `console-snapshot` timer (once a second by default, only while the console is on); never on the
// packet path.
//
// The peers go as changes: a report lists only the peers that are new or changed since the last
// one (`peers`), the ones that left (`gone`), and, for the rest, the new last-ping times of those
// that sent a control message (`seen`). The session table notes each session whose picture may
// have moved as it happens (its revision bumped, a control message, login, logout), and the report
// looks at those alone: a second of voice on 200 quiet peers costs it nothing per peer. The first
// report after snapshots start is `full` (the console drops what it had); at most PEERS_PER_REPORT
// peers go in any one report and the rest follow in the next ones. The console keeps the merged
// picture (src/shell/console.ts).

import type { RepeaterConfig } from '../../protocol/hbp/index.js';
import type { LinkView, LiveCall, PeerState, StateReport, UplinkView } from '../actions.js';
import type { CoreEnv } from '../effects.js';
import { statsOf } from '../inspect.js';
import type { Session } from '../model/index.js';
import { SessionState } from '../sessions/session.js';
import { NEVER } from '../time.js';

/** What the last report said of one peer, to tell what changed. */
interface Reported {
  session: Session;
  /** The session's revision when it was last sent. */
  revision: number;
  lastSeen: number;
}

/**
 * At most this many peers go whole in one report; the others that are new or changed wait for the
 * next. Making and copying a peer's record is the report's one cost that grows with a login storm:
 * 200 new peers took the main thread about 5 ms in one piece (the report, then the copy into the
 * console's thread) while voice waited. In pieces of 50, 2000 peers are all listed in 40 reports.
 */
export const PEERS_PER_REPORT = 50;

export class StateReporter {
  private readonly reported = new Map<number, Reported>();
  /** A report was made since snapshots started (the next one is not whole). */
  private started = false;

  /** Snapshots stopped: the session table stops noting changes, and the next report is whole. */
  reset(env: CoreEnv): void {
    this.reported.clear();
    this.started = false;
    env.sessions.unwatch();
  }

  /**
   * Looks only at the sessions the table noted since the last report (SessionTable.changed,
   * touched, remove); a peer that was neither changed nor heard from outside voice
   * costs nothing. The first report notes every session, and starts the noting.
   */
  report(env: CoreEnv, now: number): StateReport {
    // The first report: nothing is reported yet and nothing was noted (reset cleared both).
    const full = !this.started;
    this.started = true;
    const noted = env.sessions.watch();
    if (full) for (const s of env.sessions.values()) noted.add(s);
    const peers: PeerState[] = [];
    const seen: number[] = [];
    const gone: number[] = [];
    for (const s of noted) {
      // By the peer's ID: a session that left may have been replaced since, and what the console
      // shows is the peer's current session, or nothing.
      const cur = env.sessions.get(s.peerId);
      const was = this.reported.get(s.peerId);
      if (cur === undefined || cur.state !== SessionState.Connected) {
        if (was !== undefined) {
          this.reported.delete(s.peerId);
          gone.push(s.peerId);
        }
      } else if (was !== undefined && was.session === cur && was.revision === cur.revision) {
        if (was.lastSeen !== cur.lastSeen) {
          was.lastSeen = cur.lastSeen;
          seen.push(cur.peerId, cur.lastSeen);
        }
      } else if (peers.length >= PEERS_PER_REPORT) {
        // New or changed, but this report is full: it stays noted for the next one, and the
        // console keeps the peer's last picture (or none) until then.
        continue;
      } else {
        this.reported.set(cur.peerId, { session: cur, revision: cur.revision, lastSeen: cur.lastSeen });
        peers.push(peerState(cur));
      }
      noted.delete(s);
    }
    peers.sort((a, b) => a.peer - b.peer);
    gone.sort((a, b) => a - b);
    return { report: 'state', now, full, peers, gone, seen, calls: liveCalls(env), links: linkViews(env), uplinks: uplinkViews(env), counters: statsOf(env) };
  }
}

function peerState(s: Session): PeerState {
  const subs: PeerState['subs'] = [];
  for (const lanes of [s.subs[1], s.subs[2]]) for (const sub of lanes.values()) subs.push({ slot: sub.slot, tg: sub.rfTg, conference: sub.conference, source: sub.source });
  return {
    peer: s.peerId,
    address: s.address,
    port: s.port,
    loggedInAt: s.loggedInAt,
    lastSeen: s.lastSeen,
    config: s.config === null ? null : rptcFields(s.config),
    options: s.optionsText,
    subs,
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
