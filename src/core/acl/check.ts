// Where the ACLs apply (spec §5.1, §5.2, §5.3). Every check here runs once per login attempt or
// once per stream start, never per packet: a stream an ACL refused is remembered (on the peer's
// lane, or by stream ID on the link) and its later packets are dropped by that one lookup.
//
// Order, as FreeDMR's: the global lists, then the owner's (a link's, or the credential a peer logged
// in with); within each the subscriber list, then the talkgroup list of the slot.
// Where dmrhub differs from FreeDMR, on purpose:
//  - There is no USE_ACL switch: a list that is absent or empty lets everything through and costs
//    nothing. (FreeDMR's global USE_ACL is read as a string, so even "False" turns it on.)
//  - FreeDMR checks every packet; the lists are checked at a stream's start here, and a config
//    reload does not refuse a stream already running (it applies from the next stream).
//  - On a peer's stream the talkgroup checked is the one the peer keyed (its dial lane: TG 9, or a
//    private call's number), as in FreeDMR, where the list sees the packet's destination.
//  - Towards a link the global TS1 list and the link's list are applied at the stream's start (a
//    link that refuses the talkgroup is simply not a target); the peer's own TS2 list already
//    applied at ingress.

import { encodeMstnak, STATUS_PROBE_ID } from '../../protocol/hbp/index.js';
import type { CoreEnv } from '../effects.js';
import type { DatagramEvent } from '../inputs.js';
import type { AclSet, Link, Session } from '../model/index.js';
import { reply } from '../replies.js';
import { NEVER } from '../time.js';
import { aclAllows } from './grammar.js';
import { refusal, regAllows, type AclRefusal } from './set.js';

/** Most ACL-refused stream IDs a link remembers at once. */
export const MAX_LINK_REFUSED = 1024;

/**
 * Registration policy at login (RPTL): the global REG list, then the known-ID policy. A refused
 * login gets MSTNAK (so the client stops and says why) and leaves nothing behind; a warning is logged once per peer ID. The status
 * probe ID 0xFFFFFFFF is never refused (as in FreeDMR). True when refused.
 */
export function loginRefused(env: CoreEnv, ev: DatagramEvent, peerId: number): boolean {
  if (peerId === STATUS_PROBE_ID) return false;
  let reason: string | null = null;
  if (!regAllows(env.acl.global, peerId)) reason = 'acl.reg';
  else if (env.cfg.acl.unknownIds === 'deny') {
    const k = env.acl.known(peerId);
    if (k !== 'known') reason = k === 'unknown' ? 'acl.unknown-id' : 'acl.id-list-not-loaded';
  }
  if (reason === null) return false;
  env.counters.add(`login.refused.${reason}`);
  if (env.logOnce.first(`peer:${peerId}`, `login.refused.${reason}`)) {
    const detail = reason === 'acl.reg' ? 'denied by [acl] reg' : reason === 'acl.unknown-id' ? `not in the known-ID list ${env.acl.idFile}` : 'the known-ID list is not loaded yet (unknown_ids = "deny")';
    env.fx.log({ code: 'login.refused', level: 'warn', peer: peerId, address: ev.address, port: ev.port, reason, detail });
  }
  // MSTNAK+ID is 10 bytes against an 8-byte RPTL: no more than the RPTACK+salt every RPTL gets.
  reply(env, ev, encodeMstnak(peerId));
  return true;
}

/** Count a refused stream and log it once (at info) per stream ID. */
function noteStream(env: CoreEnv, why: AclRefusal, streamId: number, src: number, tg: number, slot: 1 | 2, peer: number, where: string): void {
  env.counters.add(`stream.refused.${why}`);
  if (env.logOnce.first(`stream:${streamId}`, 'acl'))
    env.fx.log({ code: 'call.refused', level: 'info', peer, src, tg, slot, stream: streamId, reason: why, detail: where });
}

/**
 * A new stream from a peer (or an uplink's master): refused by the global lists or the session's?
 * When refused it is counted, logged once and remembered on the lane, so `laneRefused` drops the
 * rest of it.
 */
export function peerStreamRefused(env: CoreEnv, s: Session, slot: 1 | 2, streamId: number, src: number, tg: number): boolean {
  let why = refusal(env.acl.global, src, tg, slot);
  const own = s.acl;
  if (why === null && own !== null) why = refusal(own, src, tg, slot);
  if (why === null) return false;
  s.slots[slot].aclRefused = streamId;
  noteStream(env, why, streamId, src, tg, slot, s.peerId, `peer ${s.peerId}`);
  return true;
}

/** A packet of a stream an ACL refused at its start on this lane: counted and dropped. */
export function laneRefused(env: CoreEnv, s: Session, slot: 1 | 2, streamId: number): boolean {
  if (s.slots[slot].aclRefused !== streamId) return false;
  env.counters.add('stream.refused.acl-frames');
  return true;
}

/** Forget the lane's refused stream (its terminator came). */
export function clearLaneRefused(s: Session, slot: 1 | 2): void {
  s.slots[slot].aclRefused = NEVER;
}

/** The lists of a link for a call it brings in: the global ones, then its own (all on TS1). */
function linkRefusal(global: AclSet, own: AclSet, src: number, tg: number): AclRefusal | null {
  return refusal(global, src, tg, 1) ?? refusal(own, src, tg, 1);
}

/**
 * A new stream from a link: refused by the ACLs? Remembered by stream ID (bounded), counted and
 * logged once. Returns the refusal code, or null.
 */
export function linkStreamRefused(env: CoreEnv, link: Link, streamId: number, src: number, tg: number, now: number): AclRefusal | null {
  const why = linkRefusal(env.acl.global, link.acl, src, tg);
  if (why === null) return null;
  const memo = link.aclRefused;
  if (memo.size >= MAX_LINK_REFUSED) {
    // Forget the streams that have gone quiet; when still full, the next frames are checked again.
    const quiet = env.cfg.timers.streamTimeoutMs;
    for (const [id, at] of memo) if (now - at >= quiet) memo.delete(id);
  }
  if (memo.size < MAX_LINK_REFUSED) memo.set(streamId, now);
  else env.counters.add('stream.refused.memory-full');
  noteStream(env, why, streamId, src, tg, 1, link.session.peerId, `link ${link.cfg.name}`);
  return why;
}

/** Is `streamId` a stream this link refused by ACL? Its time moves on; its terminator forgets it. */
export function linkRemembersRefused(env: CoreEnv, link: Link, streamId: number, now: number, terminator: boolean): boolean {
  const memo = link.aclRefused;
  if (memo.size === 0 || !memo.has(streamId)) return false;
  if (terminator) memo.delete(streamId);
  else memo.set(streamId, now);
  env.counters.add('stream.refused.acl-frames');
  return true;
}

/** May a call to `tg` go out on `link`? The global TS1 list and the link's own (spec §5.2). */
export function linkEgressAllowed(env: CoreEnv, link: Link, tg: number): boolean {
  const g = env.acl.global.tgidTs1;
  if (g !== null && !aclAllows(g, tg)) return false;
  const own = link.acl.tgidTs1;
  return own === null || aclAllows(own, tg);
}
