// The HBP master login state machine (spec §1.9) and the other control messages of a session.
//
// Where dmrhub differs from the Python servers, on purpose:
// - A login for an ID that is already connected is held apart as a pending challenge; the running
//   session is untouched until the newcomer proves the passphrase (FreeDMR/HBlink3 overwrite the
//   record on RPTL, so anyone who knows a peer ID can knock it off).
// - A wrong passphrase gets MSTNAK and leaves nothing behind.
// - No reply to an address that has not logged in is longer than the datagram that caused it; the
//   one exception is the 10-byte RPTACK+salt that the protocol requires for an 8-byte RPTL.
// - RPTO is taken only from a fully logged-in peer at its own address.
// - RPTCL gets no reply (the peer has already gone; the Python servers send MSTNAK).
// - Any valid packet from a logged-in peer counts as a sign of life, not only RPTPING.

import {
  encodeMstcl,
  encodeMstnak,
  encodeMstpong,
  encodeRptack,
  encodeRptackSalt,
  parsePeerOnly,
  parseRptc,
  parseRptk,
  parseRptl,
  parseRpto,
  STATUS_PROBE_ID,
} from '../../protocol/hbp/index.js';
import type { CoreContext } from '../context.js';
import type { DatagramEvent } from '../events.js';
import { applyOptions, applyDefaults } from './options.js';
import { Session, SessionState, type PendingLogin } from './session.js';
import { onTalkerAlias } from '../streams/talker-alias.js';
import { scheduleIdent } from '../prompts/index.js';
import { trackHotspot } from '../streams/unit.js';

const pendingKey = (peerId: number, address: string, port: number): string => `${peerId}|${address}|${port}`;

export function onRptl(ctx: CoreContext, ev: DatagramEvent): void {
  const r = parseRptl(ev.bytes);
  if (!r.ok) return ctx.bad(ev, r.error);
  const { peerId } = r.value;
  const key = pendingKey(peerId, ev.address, ev.port);
  const waiting = ctx.pending.get(key);
  if (waiting) {
    // The client repeated RPTL (its retry timer, or our reply was lost): same salt again.
    ctx.reply(ev, encodeRptackSalt(waiting.salt));
    return;
  }
  const existing = ctx.sessions.get(peerId);
  if (!existing && peerId !== STATUS_PROBE_ID && ctx.peerCount >= ctx.cfg.hbp.maxPeers) {
    ctx.counters.add('login.refused.max-peers');
    if (ctx.logOnce.first(`peer:${peerId}`, 'login.refused.max-peers'))
      ctx.log({ code: 'login.refused', level: 'warn', peer: peerId, address: ev.address, port: ev.port, reason: 'max-peers' });
    ctx.replyUnauthenticated(ev, encodeMstnak(peerId));
    return;
  }
  if (ctx.pending.size >= ctx.cfg.hbp.maxPendingLogins) {
    ctx.counters.add('login.refused.pending-full');
    return;
  }
  const p: PendingLogin = {
    peerId,
    socket: ev.socket,
    address: ev.address,
    port: ev.port,
    salt: ctx.prng.nextU32(),
    expiresAt: ev.now + ctx.cfg.hbp.loginTimeoutMs,
  };
  ctx.pending.set(key, p);
  ctx.deadlines.schedule(p.expiresAt, () => {
    if (ctx.pending.get(key) === p) {
      ctx.pending.delete(key);
      ctx.counters.add('login.challenge-expired');
    }
  });
  ctx.reply(ev, encodeRptackSalt(p.salt));
}

export function onRptk(ctx: CoreContext, ev: DatagramEvent): void {
  const r = parseRptk(ev.bytes);
  if (!r.ok) return ctx.bad(ev, r.error);
  const { peerId, digest } = r.value;
  const key = pendingKey(peerId, ev.address, ev.port);
  const p = ctx.pending.get(key);
  if (!p) {
    ctx.counters.add('login.no-challenge');
    ctx.replyUnauthenticated(ev, encodeMstnak(peerId));
    return;
  }
  ctx.pending.delete(key);
  const msg = new Uint8Array(4 + ctx.passphrase.length);
  msg[0] = p.salt >>> 24;
  msg[1] = (p.salt >>> 16) & 0xff;
  msg[2] = (p.salt >>> 8) & 0xff;
  msg[3] = p.salt & 0xff;
  msg.set(ctx.passphrase, 4);
  const expected = ctx.deps.sha256(msg);
  let diff = expected.length === 32 ? 0 : 1;
  for (let i = 0; i < 32; i++) diff |= (expected[i] ?? 0) ^ digest[i]!;
  if (diff !== 0) {
    ctx.counters.add('login.refused.passphrase');
    if (ctx.logOnce.first(`${ev.address}|${peerId}`, 'login.refused.passphrase'))
      ctx.log({ code: 'login.refused', level: 'warn', peer: peerId, address: ev.address, port: ev.port, reason: 'passphrase' });
    ctx.replyUnauthenticated(ev, encodeMstnak(peerId));
    return;
  }
  const existing = ctx.sessions.get(peerId);
  if (existing) {
    // Proven: the newcomer takes the ID over. Tell the old address it is closed (unless it is the
    // same client logging in again).
    if (!existing.at(ev.address, ev.port)) ctx.sink.send(existing.socket, existing.address, existing.port, encodeMstcl(peerId));
    ctx.closeSession(existing, ev.now, 'replaced');
  } else if (peerId !== STATUS_PROBE_ID && ctx.peerCount >= ctx.cfg.hbp.maxPeers) {
    ctx.counters.add('login.refused.max-peers');
    ctx.replyUnauthenticated(ev, encodeMstnak(peerId));
    return;
  }
  const s = new Session(peerId, ev.socket, ev.address, ev.port, ev.now);
  ctx.sessions.set(peerId, s);
  trackHotspot(ctx, s, true);
  if (peerId !== STATUS_PROBE_ID) ctx.peerCount++;
  ctx.scheduleKeepalive(s);
  ctx.reply(ev, encodeRptack(peerId));
}

/** The session that sent `ev`, if `peerId` is logged in (in `min` state or later) at that address. */
function own(ctx: CoreContext, ev: DatagramEvent, peerId: number, min: SessionState): Session | null {
  const s = ctx.sessions.get(peerId);
  if (s === undefined || !s.at(ev.address, ev.port) || s.state < min) return null;
  s.lastSeen = ev.now;
  return s;
}

export function onRptc(ctx: CoreContext, ev: DatagramEvent): void {
  const r = parseRptc(ev.bytes);
  if (!r.ok) return ctx.bad(ev, r.error);
  const s = own(ctx, ev, r.value.peerId, SessionState.WaitingConfig);
  if (!s) {
    ctx.counters.add('login.config-without-login');
    ctx.replyUnauthenticated(ev, encodeMstnak(r.value.peerId));
    return;
  }
  s.config = r.value;
  if (s.state === SessionState.WaitingConfig) {
    s.state = SessionState.Connected;
    ctx.log({
      code: 'peer.login',
      level: 'info',
      peer: s.peerId,
      address: s.address,
      port: s.port,
      detail: `${r.value.callsign} ${r.value.softwareId}`.trim(),
    });
    const c = r.value;
    ctx.report({
      report: 'peer-login',
      now: ev.now,
      peer: s.peerId,
      address: s.address,
      port: s.port,
      callsign: c.callsign,
      rxFreq: c.rxFreq,
      txFreq: c.txFreq,
      colorCode: c.colorCode,
      slots: c.slots,
      location: c.location,
      description: c.description,
      url: c.url,
      softwareId: c.softwareId,
      packageId: c.packageId,
    });
    if (s.peerId !== STATUS_PROBE_ID) {
      applyDefaults(ctx, s);
      scheduleIdent(ctx, s, ev.now + ctx.cfg.prompts.identIntervalMs);
    }
  }
  ctx.reply(ev, encodeRptack(s.peerId));
}

export function onRpto(ctx: CoreContext, ev: DatagramEvent): void {
  const r = parseRpto(ev.bytes);
  if (!r.ok) return ctx.bad(ev, r.error);
  const s = own(ctx, ev, r.value.peerId, SessionState.Connected);
  if (!s) {
    ctx.counters.add('options.not-logged-in');
    ctx.replyUnauthenticated(ev, encodeMstnak(r.value.peerId));
    return;
  }
  if (s.peerId !== STATUS_PROBE_ID) applyOptions(ctx, s, r.value.options, ev.now);
  ctx.reply(ev, encodeRptack(s.peerId));
}

export function onPing(ctx: CoreContext, ev: DatagramEvent): void {
  const r = parsePeerOnly(ev.bytes, 7);
  if (!r.ok) return ctx.bad(ev, r.error);
  const s = own(ctx, ev, r.value.peerId, SessionState.Connected);
  if (!s) {
    ctx.counters.add('ping.not-logged-in');
    ctx.replyUnauthenticated(ev, encodeMstnak(r.value.peerId));
    return;
  }
  ctx.reply(ev, encodeMstpong(s.peerId));
}

export function onClose(ctx: CoreContext, ev: DatagramEvent): void {
  const r = parsePeerOnly(ev.bytes, 5);
  if (!r.ok) return ctx.bad(ev, r.error);
  const s = own(ctx, ev, r.value.peerId, SessionState.WaitingConfig);
  if (!s) {
    ctx.counters.add('close.not-logged-in');
    return;
  }
  ctx.closeSession(s, ev.now, 'closed');
}

/** DMRA, RPTG, DMRG: accepted from a logged-in peer as a sign of life, otherwise counted. */
export function onAuxiliary(ctx: CoreContext, ev: DatagramEvent, name: string): void {
  if (ev.bytes.length < 8) return ctx.bad(ev, 'hbp.bad-length');
  const peerId = ((ev.bytes[4]! << 24) | (ev.bytes[5]! << 16) | (ev.bytes[6]! << 8) | ev.bytes[7]!) >>> 0;
  const s = own(ctx, ev, peerId, SessionState.Connected);
  if (!s) {
    ctx.counters.add(`${name}.not-logged-in`);
    return;
  }
  ctx.counters.add(`${name}.received`);
  if (name === 'dmra') onTalkerAlias(ctx, s, ev.bytes);
}

/** The keepalive limit passed: tell the peer (MSTCL, as FreeDMR does) and drop it. */
export function expireSession(ctx: CoreContext, s: Session, now: number): void {
  if (s.state === SessionState.Connected) ctx.report({ report: 'peer-keepalive-lost', now, peer: s.peerId, silentMs: now - s.lastSeen });
  ctx.sink.send(s.socket, s.address, s.port, encodeMstcl(s.peerId));
  ctx.closeSession(s, now, 'timeout');
}
