// A datagram on a link's socket (spec §3.1, §3.5, §4.8). A link is a trunk, not a peer: it carries
// many calls at once, each told apart by its stream ID, all on TS1, with no login and no slot
// contention of its own. A stream ID already live or remembered from anywhere else is a loop and
// is dropped, first arrival wins (FreeDMR loop control, §4.10). Calls from an OpenBridge v1 link go
// to this server's peers only (v1 has no hop count, so a mesh of v1 links could loop); calls from an
// FBP link also go on to the other FBP links that carry their talkgroup (links/fbp.ts checks the
// frame first: MAC, freshness, source server, hops).

import { OBP, checkObpFrame } from '../../protocol/obp/index.js';
import { readU24, readU32 } from '../../protocol/bytes.js';
import { DMRD, FLAG, isTerminator } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { DatagramEvent } from '../inputs.js';
import type { Link, Stream } from '../model/index.js';
import { DMRE, dmreSourceRepeater, dmreSourceServer } from '../../protocol/fbp/index.js';
import { forward } from '../streams/fanout.js';
import { dropLoop } from '../streams/loops.js';
import { acceptPacket } from '../streams/sequence.js';
import { beginStream, watchStream } from '../streams/stream.js';
import { sendToLinks } from './egress.js';
import { linkTargetsFor, notCarried } from './policy.js';

/** Codes that point at a misconfigured link (either end) rather than at one call. */
const SETUP_CODES = new Set(['obp.bad-mac', 'obp.wrong-source', 'obp.wrong-network-id', 'obp.unsupported-tag', 'fbp.v1-frame', 'fbp.unsupported-tag', 'fbp.unknown-tag']);
/** A setup error keeps being logged, once a minute, for as long as it lasts. */
const SETUP_WARN_EVERY_MS = 60_000;
/** A call in transit whose first path has been quiet this long is taken from the next path that brings it. */
export const FAILOVER_QUIET_MS = 500;

/**
 * Count a refused frame. The first of each kind per link is logged; a kind that points at a setup
 * error is logged as a warning, and again once a minute for as long as such frames keep coming.
 */
export function drop(env: CoreEnv, link: Link, ev: DatagramEvent, code: string, detail?: string): void {
  link.dropped++;
  env.counters.add(code);
  const what = detail === undefined ? `link ${link.cfg.name}` : `link ${link.cfg.name}: ${detail}`;
  if (!SETUP_CODES.has(code)) {
    if (env.logOnce.first(`link:${link.cfg.name}`, code))
      env.fx.log({ code: 'link.dropped', level: 'info', reason: code, address: ev.address, port: ev.port, detail: `${what} (first of its kind; counted from now on)` });
    return;
  }
  const w = link.warned.get(code);
  if (w === undefined) {
    link.warned.set(code, { at: ev.now, count: 0 });
    env.fx.log({ code: 'link.dropped', level: 'warn', reason: code, address: ev.address, port: ev.port, detail: `${what} (first of its kind; counted from now on)` });
  } else if (ev.now - w.at >= SETUP_WARN_EVERY_MS) {
    env.fx.log({ code: 'link.dropped', level: 'warn', reason: code, address: ev.address, port: ev.port, count: w.count + 1, detail: `${what} (still refusing: ${w.count + 1} such frames in the last ${Math.round((ev.now - w.at) / 1000)} s)` });
    w.at = ev.now;
    w.count = 0;
  } else w.count++;
}

/** A datagram on an OpenBridge v1 link. */
export function onLinkDatagram(env: CoreEnv, link: Link, ev: DatagramEvent): void {
  const b = ev.bytes;
  const cfg = link.cfg;
  const err = checkObpFrame(b);
  if (err !== null) return drop(env, link, ev, err);
  if (cfg.checkSource && (ev.port !== cfg.port || ev.address !== cfg.address)) return drop(env, link, ev, 'obp.wrong-source');
  if (!link.mac.verify(b, 0, OBP.BODY, OBP.BODY)) return drop(env, link, ev, 'obp.bad-mac');
  if (cfg.networkId !== 0 && readU32(b, DMRD.PEER) !== cfg.networkId) return drop(env, link, ev, 'obp.wrong-network-id', `expected ${cfg.networkId}, got ${readU32(b, DMRD.PEER)}`);
  linkFrame(env, link, ev, 0);
}

/**
 * A verified data frame from a link (its bytes [0, 53) the DMRD header and burst): loop control,
 * policy, the stream, and forwarding to the peers (and, for an FBP link's DMRE, on to the other FBP
 * links, with its hop count here, `hops`; where it entered the mesh is read from the frame). The
 * frame becomes the 55-byte DMRD the peers get once the links have had it. Returns what became of
 * it: the stream, or the refusal code (for a quench).
 */
export function linkFrame(env: CoreEnv, link: Link, ev: DatagramEvent, hops: number): Stream | string {
  const b = ev.bytes;
  const cfg = link.cfg;
  link.framesIn++;
  const flags = b[DMRD.FLAGS]!;
  // dmrhub routes group calls over links; unit data and private calls across servers are not built.
  if ((flags & FLAG.UNIT) !== 0) return refuse(env, link, ev, 'obp.unit-call');
  if ((flags & FLAG.SLOT2) !== 0) return refuse(env, link, ev, 'obp.ts2-group');
  const tg = readU24(b, DMRD.DST);
  const streamId = readU32(b, DMRD.STREAM);
  const seq = b[DMRD.SEQ]!;
  const now = ev.now;
  const terminator = isTerminator(flags);
  let st = env.streams.get(streamId);
  if (st !== undefined && st.link !== link) {
    // The first path of a call in transit went quiet: the call goes on over this one.
    if (link.fbp !== null && st.route === 'link' && !st.ended && now - st.lastAt >= FAILOVER_QUIET_MS) {
      env.counters.add('fbp.failover');
      env.life.endStream(st, now, 'superseded');
      st = undefined;
    } else {
      link.dropped++;
      link.counts.loops++;
      dropLoop(env, st, streamId, readU24(b, DMRD.SRC), tg, { link: cfg.name });
      return 'stream.loop';
    }
  }
  if (st === undefined) {
    const why = notCarried(env.cfg, link, tg);
    if (why !== null) return refuse(env, link, ev, why, `TG ${tg}`);
    st = startLinkStream(env, link, b, streamId, tg, now, hops);
  } else {
    if (st.linkPolicy !== env.links.policy) {
      // The config changed during the call: the talkgroup may no longer be carried (or be again).
      // The stream's own talkgroup: a frame naming another one is not part of the call and is
      // dropped below, but must not decide the call's fate.
      st.linkTargets = linkTargetsFor(env, st, st.tg, link);
      st.linkRefused = notCarried(env.cfg, link, st.tg);
    }
    if (st.linkRefused !== null && !st.ended) {
      if (terminator && tg === st.tg) env.life.endStream(st, now, 'terminator');
      return refuse(env, link, ev, st.linkRefused, `TG ${st.tg}`);
    }
    if (!acceptPacket(env, st, b, seq, now, terminator)) return st;
    if (st.origin !== null) st.origin.hops = hops;
  }
  // Transit first: the peers' fan-out writes receiver IDs into `b`.
  if (st.linkTargets.length > 0) sendToLinks(env, st, b, now);
  if (link.fbp === null) {
    // OpenBridge v1: the MAC is checked, and its first two bytes become the BER and RSSI (none).
    b[DMRD.BER] = 0;
    b[DMRD.RSSI] = 0;
  } else {
    // A DMRE's BER and RSSI are where a DMRD has them: only the tag changes.
    b[3] = 0x44; // DMRE → DMRD
  }
  let conf = st.conference;
  if (conf === null || conf.members.length === 0) {
    // Nobody here was listening at the start, or the conference emptied: look again.
    conf = env.index.conference(tg) ?? null;
    st.conference = conf;
  }
  if (conf !== null) forward(env, st, conf, b.subarray(0, 55), now, terminator);
  if (terminator) env.life.endStream(st, now, 'terminator');
  return st;
}

function refuse(env: CoreEnv, link: Link, ev: DatagramEvent, code: string, detail?: string): string {
  drop(env, link, ev, code, detail);
  return code;
}

function startLinkStream(env: CoreEnv, link: Link, b: Uint8Array, streamId: number, tg: number, now: number, hops: number): Stream {
  const src = readU24(b, DMRD.SRC);
  const st = beginStream(env, { id: streamId, route: 'link', session: link.session, slot: 1, src, tg, now, first: b, conference: env.index.conference(tg) ?? null });
  st.link = link;
  if (link.fbp !== null) st.origin = { version: DMRE.VERSION_CURRENT, sourceServer: dmreSourceServer(b), sourceRepeater: dmreSourceRepeater(b), hops };
  st.linkTargets = linkTargetsFor(env, st, tg, link);
  env.fx.log({ code: 'call.start', level: 'info', peer: link.session.peerId, src, tg, slot: 1, stream: streamId, detail: `link ${link.cfg.name}` });
  env.counters.add('call.start');
  env.fx.report({ report: 'call-start', now, stream: streamId, peer: link.session.peerId, src, dst: tg, slot: 1, callType: 'group', kind: st.data ? 'data' : 'voice' });
  watchStream(env, st, now);
  return st;
}
