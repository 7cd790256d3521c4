// OpenBridge v1 links to other servers (spec §3.1, §4.8, §4.9).
//
// A link is a trunk, not a peer: it carries many calls at once, each told apart by its stream ID,
// all on TS1, with no login and no slot contention. Each frame is the 53-byte DMRD and its
// HMAC-SHA1 under the link key.
//
// Which talkgroups cross a link is policy:
//  - a local talkgroup (routing.local_talkgroups) never does, either way: it is carried between
//    this server's own peers only;
//  - a prohibited talkgroup never does;
//  - a link with a `talkgroups` list carries exactly those; one without carries every other
//    talkgroup (FreeDMR puts its OBP systems into every user-activated bridge of TG 80 and up).
// The talkgroup a link carries is the conference: a call on a peer's TG 9 dial lane to reflector
// N goes out as TG N, its link control rewritten.
//
// Calls from a link go to this server's peers only, never to another link (no transit: OpenBridge
// v1 has no hop count, so a mesh of v1 links could loop). A stream ID already live or remembered
// from anywhere else is a loop and is dropped, first arrival wins (FreeDMR loop control, §4.10).

import { OBP, checkObpFrame, obpKey } from '../../protocol/obp/index.js';
import { HmacSha1 } from '../../protocol/obp/hmac-sha1.js';
import { readU24, readU32, writeU24, writeU32 } from '../../protocol/bytes.js';
import { LcRewriter, makeLc } from '../../protocol/dmr/index.js';
import { isTerminator } from '../../protocol/hbp/dmrd.js';
import type { LinkConfig } from '../config.js';
import type { CoreContext } from '../context.js';
import type { DatagramEvent } from '../events.js';
import { Session, SessionState } from '../sessions/session.js';
import { prohibited } from '../sessions/options.js';
import { alsoRefused, continueStream, dropLoop, forward, readFirstFrame, watchStream } from '../streams/group-voice.js';
import { Stream } from '../streams/stream.js';

export class Link {
  cfg: LinkConfig;
  /** The link key, ready to sign and check frames. */
  mac: HmacSha1;
  /** The talkgroups of a `talkgroups` list; null = every one that is not local. */
  carried: Set<number> | null;
  /** Stands for the link as the talker of the streams it brings in (never logged in, never a receiver). */
  readonly session: Session;
  /** Reused for outgoing frames unless the shell still holds the last one (then a new one is made). */
  buffer: Uint8Array | null = null;
  framesIn = 0;
  framesOut = 0;
  dropped = 0;
  /** Taken out of the config (its socket is no longer read). */
  removed = false;

  constructor(cfg: LinkConfig, now: number) {
    this.cfg = cfg;
    this.mac = new HmacSha1(obpKey(cfg.passphrase));
    this.carried = cfg.talkgroups.length > 0 ? new Set(cfg.talkgroups) : null;
    this.session = new Session(cfg.networkId, cfg.socket, cfg.address, cfg.port, now);
    this.session.state = SessionState.Connected;
  }

  update(cfg: LinkConfig): void {
    this.cfg = cfg;
    this.mac = new HmacSha1(obpKey(cfg.passphrase));
    this.carried = cfg.talkgroups.length > 0 ? new Set(cfg.talkgroups) : null;
  }
}

/** One link a stream is sent on, and the talkgroup it goes out as. */
export interface LinkTarget {
  link: Link;
  tg: number;
  /** Null when the stream goes out on its own talkgroup. */
  rewriter: LcRewriter | null;
  /** Frames of this stream sent on the link so far. */
  sent: number;
}

export function isLocal(ctx: CoreContext, tg: number): boolean {
  const ranges = ctx.cfg.routing.localTalkgroups;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if (tg >= r[0] && tg <= r[1]) return true;
  }
  return false;
}

/** Why `link` does not carry talkgroup `tg`, or null when it does. */
export function notCarried(ctx: CoreContext, link: Link, tg: number): string | null {
  if (tg === 0 || tg >= 0xffffff) return 'obp.not-a-talkgroup';
  if (isLocal(ctx, tg)) return 'obp.local-talkgroup';
  if (prohibited(ctx, tg)) return 'obp.prohibited-talkgroup';
  if (link.carried !== null && !link.carried.has(tg)) return 'obp.talkgroup-not-carried';
  return null;
}

/** Make the links match the config: kept by name (live streams stay theirs), added, removed. */
export function applyLinks(ctx: CoreContext, cfgs: readonly LinkConfig[], now: number): void {
  const byName = new Map(ctx.links.map((l) => [l.cfg.name, l]));
  const next: Link[] = [];
  for (const c of cfgs) {
    const cur = byName.get(c.name);
    if (cur !== undefined && cur.cfg.socket === c.socket) {
      cur.update(c);
      byName.delete(c.name);
      next.push(cur);
    } else next.push(new Link(c, now));
  }
  for (const gone of byName.values()) gone.removed = true;
  // Live streams look at the policy again before their next frame.
  ctx.linkPolicy++;
  ctx.links.length = 0;
  ctx.linksBySocket.clear();
  for (const l of next) {
    ctx.links.push(l);
    ctx.linksBySocket.set(l.cfg.socket, l);
  }
}

/**
 * The links a peer's stream to conference `tg` goes out on under the policy in force. Called at
 * the stream's start and again after each config change, so a talkgroup made local mid-call stops
 * crossing at once (and one newly carried crosses from its next frame); targets kept keep their state.
 */
export function linkTargetsFor(ctx: CoreContext, st: Stream, tg: number): LinkTarget[] {
  st.linkPolicy = ctx.linkPolicy;
  const out: LinkTarget[] = [];
  for (const link of ctx.links) {
    if (notCarried(ctx, link, tg) !== null) continue;
    const kept = st.linkTargets.find((t) => t.link === link);
    if (kept !== undefined) {
      out.push(kept);
      continue;
    }
    const rewriter = tg !== st.tg ? new LcRewriter(makeLc(st.lcPrefix, tg, st.src)) : null;
    out.push({ link, tg, rewriter, sent: 0 });
  }
  return out;
}

/** Send one packet of a peer's stream on its links: TS1, our ID (or the peer's), signed. */
export function sendToLinks(ctx: CoreContext, st: Stream, b: Uint8Array): void {
  const targets = st.linkTargets;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    const link = t.link;
    if (link.removed) continue;
    let out = link.buffer;
    if (out === null) out = link.buffer = new Uint8Array(OBP.FRAME);
    for (let j = 0; j < OBP.BODY; j++) out[j] = b[j]!;
    if (t.rewriter !== null) {
      writeU24(out, 8, t.tg);
      t.rewriter.patchFrame(out, out[15]!, 20);
    }
    out[15] = out[15]! & 0x7f;
    writeU32(out, 11, link.cfg.preserveSourcePeer ? st.session.peerId : ctx.cfg.serverId);
    link.mac.sign(out, 0, OBP.BODY, out, OBP.BODY);
    if (ctx.sink.send(link.cfg.socket, link.cfg.address, link.cfg.port, out) === true) link.buffer = null;
    if (t.sent++ === 0) st.receivers++;
    link.framesOut++;
  }
}

/** Codes that point at a misconfigured link (either end) rather than at one call. */
const SETUP_CODES = new Set(['obp.bad-mac', 'obp.wrong-source', 'obp.wrong-network-id', 'obp.unsupported-tag']);

/** Count a refused frame; log the first of each kind per link (a warning when it looks like a setup error). */
function drop(ctx: CoreContext, link: Link, ev: DatagramEvent, code: string, detail?: string): void {
  link.dropped++;
  ctx.counters.add(code);
  if (ctx.logOnce.first(`link:${link.cfg.name}`, code))
    ctx.log({
      code: 'link.dropped',
      level: SETUP_CODES.has(code) ? 'warn' : 'info',
      reason: code,
      address: ev.address,
      port: ev.port,
      detail: detail === undefined ? `link ${link.cfg.name} (first of its kind; counted from now on)` : `link ${link.cfg.name}: ${detail} (first of its kind; counted from now on)`,
    });
}

/** A datagram on a link's socket. */
export function onLinkDatagram(ctx: CoreContext, link: Link, ev: DatagramEvent): void {
  const b = ev.bytes;
  const cfg = link.cfg;
  const err = checkObpFrame(b);
  if (err !== null) return drop(ctx, link, ev, err);
  if (cfg.checkSource && (ev.port !== cfg.port || ev.address !== cfg.address)) return drop(ctx, link, ev, 'obp.wrong-source');
  if (!link.mac.verify(b, 0, OBP.BODY, OBP.BODY)) return drop(ctx, link, ev, 'obp.bad-mac');
  if (cfg.networkId !== 0 && readU32(b, 11) !== cfg.networkId) return drop(ctx, link, ev, 'obp.wrong-network-id', `expected ${cfg.networkId}, got ${readU32(b, 11)}`);
  link.framesIn++;
  const flags = b[15]!;
  // dmrhub routes group calls over links; unit data and private calls across servers are not built.
  if ((flags & 0x40) !== 0) return drop(ctx, link, ev, 'obp.unit-call');
  if ((flags & 0x80) !== 0) return drop(ctx, link, ev, 'obp.ts2-group');
  const tg = readU24(b, 8);
  const streamId = readU32(b, 16);
  const seq = b[4]!;
  const now = ev.now;
  const terminator = isTerminator(flags);
  let st = ctx.streams.get(streamId);
  if (st !== undefined && st.link !== link) {
    link.dropped++;
    return dropLoop(ctx, st, streamId, readU24(b, 5), tg, { link: cfg.name });
  }
  if (st === undefined) {
    const why = notCarried(ctx, link, tg);
    if (why !== null) return drop(ctx, link, ev, why, `TG ${tg}`);
    st = startLinkStream(ctx, link, b, streamId, tg, seq, now);
  } else {
    if (st.linkPolicy !== ctx.linkPolicy) {
      // The config changed during the call: the talkgroup may no longer be carried (or be again).
      // The stream's own talkgroup: a frame naming another one is not part of the call and is
      // dropped below, but must not decide the call's fate.
      st.linkPolicy = ctx.linkPolicy;
      st.linkRefused = notCarried(ctx, link, st.tg);
    }
    if (st.linkRefused !== null && !st.ended) {
      if (terminator && tg === st.tg) ctx.endStream(st, now, 'terminator');
      return drop(ctx, link, ev, st.linkRefused, `TG ${st.tg}`);
    }
    if (!continueStream(ctx, st, b, seq, now, terminator)) return;
  }

  let conf = st.conference;
  if (conf === null || conf.members.length === 0) {
    // Nobody here was listening at the start, or the conference emptied: look again.
    conf = ctx.index.conference(tg) ?? null;
    st.conference = conf;
  }
  if (conf !== null) {
    // The MAC is checked: its first two bytes become the BER and RSSI (none) of a 55-byte DMRD.
    b[53] = 0;
    b[54] = 0;
    forward(ctx, st, conf, b.subarray(0, 55), now, terminator);
  }
  if (terminator) ctx.endStream(st, now, 'terminator');
}

function startLinkStream(ctx: CoreContext, link: Link, b: Uint8Array, streamId: number, tg: number, seq: number, now: number): Stream {
  const src = readU24(b, 5);
  const st = new Stream(streamId, link.session, 1, src, tg, now, seq, ctx.index.conference(tg) ?? null);
  st.link = link;
  st.linkPolicy = ctx.linkPolicy;
  alsoRefused(ctx, st);
  readFirstFrame(st, b, b[15]!);
  ctx.streams.set(streamId, st);
  ctx.liveStreamCount++;
  ctx.log({ code: 'call.start', level: 'info', peer: link.session.peerId, src, tg, slot: 1, stream: streamId, detail: `link ${link.cfg.name}` });
  ctx.report({ report: 'call-start', now, stream: streamId, peer: link.session.peerId, src, dst: tg, slot: 1, callType: 'group', kind: st.data ? 'data' : 'voice' });
  watchStream(ctx, st, now);
  return st;
}
