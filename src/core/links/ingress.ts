// A datagram on an OpenBridge link's socket (spec §3.1, §4.8). A link is a trunk, not a peer: it
// carries many calls at once, each told apart by its stream ID, all on TS1, with no login and no
// slot contention of its own. Calls from a link go to this server's peers only, never to another
// link (no transit: OpenBridge v1 has no hop count, so a mesh of v1 links could loop). A stream ID
// already live or remembered from anywhere else is a loop and is dropped, first arrival wins
// (FreeDMR loop control, §4.10).

import { OBP, checkObpFrame } from '../../protocol/obp/index.js';
import { readU24, readU32 } from '../../protocol/bytes.js';
import { DMRD, FLAG, isTerminator } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { DatagramEvent } from '../inputs.js';
import type { Link, Stream } from '../model/index.js';
import { forward } from '../streams/fanout.js';
import { dropLoop } from '../streams/loops.js';
import { acceptPacket } from '../streams/sequence.js';
import { beginStream, watchStream } from '../streams/stream.js';
import { notCarried } from './policy.js';

/** Codes that point at a misconfigured link (either end) rather than at one call. */
const SETUP_CODES = new Set(['obp.bad-mac', 'obp.wrong-source', 'obp.wrong-network-id', 'obp.unsupported-tag']);

/** Count a refused frame; log the first of each kind per link (a warning when it looks like a setup error). */
function drop(env: CoreEnv, link: Link, ev: DatagramEvent, code: string, detail?: string): void {
  link.dropped++;
  env.counters.add(code);
  if (env.logOnce.first(`link:${link.cfg.name}`, code))
    env.fx.log({
      code: 'link.dropped',
      level: SETUP_CODES.has(code) ? 'warn' : 'info',
      reason: code,
      address: ev.address,
      port: ev.port,
      detail: detail === undefined ? `link ${link.cfg.name} (first of its kind; counted from now on)` : `link ${link.cfg.name}: ${detail} (first of its kind; counted from now on)`,
    });
}

export function onLinkDatagram(env: CoreEnv, link: Link, ev: DatagramEvent): void {
  const b = ev.bytes;
  const cfg = link.cfg;
  const err = checkObpFrame(b);
  if (err !== null) return drop(env, link, ev, err);
  if (cfg.checkSource && (ev.port !== cfg.port || ev.address !== cfg.address)) return drop(env, link, ev, 'obp.wrong-source');
  if (!link.mac.verify(b, 0, OBP.BODY, OBP.BODY)) return drop(env, link, ev, 'obp.bad-mac');
  if (cfg.networkId !== 0 && readU32(b, DMRD.PEER) !== cfg.networkId) return drop(env, link, ev, 'obp.wrong-network-id', `expected ${cfg.networkId}, got ${readU32(b, DMRD.PEER)}`);
  link.framesIn++;
  const flags = b[DMRD.FLAGS]!;
  // dmrhub routes group calls over links; unit data and private calls across servers are not built.
  if ((flags & FLAG.UNIT) !== 0) return drop(env, link, ev, 'obp.unit-call');
  if ((flags & FLAG.SLOT2) !== 0) return drop(env, link, ev, 'obp.ts2-group');
  const tg = readU24(b, DMRD.DST);
  const streamId = readU32(b, DMRD.STREAM);
  const seq = b[DMRD.SEQ]!;
  const now = ev.now;
  const terminator = isTerminator(flags);
  let st = env.streams.get(streamId);
  if (st !== undefined && st.link !== link) {
    link.dropped++;
    return dropLoop(env, st, streamId, readU24(b, DMRD.SRC), tg, { link: cfg.name });
  }
  if (st === undefined) {
    const why = notCarried(env.cfg, link, tg);
    if (why !== null) return drop(env, link, ev, why, `TG ${tg}`);
    st = startLinkStream(env, link, b, streamId, tg, now);
  } else {
    if (st.linkPolicy !== env.links.policy) {
      // The config changed during the call: the talkgroup may no longer be carried (or be again).
      // The stream's own talkgroup: a frame naming another one is not part of the call and is
      // dropped below, but must not decide the call's fate.
      st.linkPolicy = env.links.policy;
      st.linkRefused = notCarried(env.cfg, link, st.tg);
    }
    if (st.linkRefused !== null && !st.ended) {
      if (terminator && tg === st.tg) env.life.endStream(st, now, 'terminator');
      return drop(env, link, ev, st.linkRefused, `TG ${st.tg}`);
    }
    if (!acceptPacket(env, st, b, seq, now, terminator)) return;
  }

  let conf = st.conference;
  if (conf === null || conf.members.length === 0) {
    // Nobody here was listening at the start, or the conference emptied: look again.
    conf = env.index.conference(tg) ?? null;
    st.conference = conf;
  }
  if (conf !== null) {
    // The MAC is checked: its first two bytes become the BER and RSSI (none) of a 55-byte DMRD.
    b[DMRD.BER] = 0;
    b[DMRD.RSSI] = 0;
    forward(env, st, conf, b.subarray(0, 55), now, terminator);
  }
  if (terminator) env.life.endStream(st, now, 'terminator');
}

function startLinkStream(env: CoreEnv, link: Link, b: Uint8Array, streamId: number, tg: number, now: number): Stream {
  const src = readU24(b, DMRD.SRC);
  const st = beginStream(env, { id: streamId, route: 'link', session: link.session, slot: 1, src, tg, now, first: b, conference: env.index.conference(tg) ?? null });
  st.link = link;
  st.linkPolicy = env.links.policy;
  env.fx.log({ code: 'call.start', level: 'info', peer: link.session.peerId, src, tg, slot: 1, stream: streamId, detail: `link ${link.cfg.name}` });
  env.fx.report({ report: 'call-start', now, stream: streamId, peer: link.session.peerId, src, dst: tg, slot: 1, callType: 'group', kind: st.data ? 'data' : 'voice' });
  watchStream(env, st, now);
  return st;
}
