// The HBP master login state machine (spec §1.9): RPTL → challenge, RPTK → proof, RPTC → config.
//
// Where dmrhub differs from the Python servers, on purpose:
// - A login for an ID that is already connected is held apart as a pending challenge; the running
//   session is untouched until the newcomer proves the passphrase (FreeDMR/HBlink3 overwrite the
//   record on RPTL, so anyone who knows a peer ID can knock it off).
// - A wrong passphrase gets MSTNAK and leaves nothing behind.
// - No reply to an address that has not logged in is longer than the datagram that caused it; the
//   one exception is the 10-byte RPTACK+salt that the protocol requires for an 8-byte RPTL.

import { encodeMstcl, encodeMstnak, encodeRptack, encodeRptackSalt, parseRptc, parseRptk, parseRptl, STATUS_PROBE_ID } from '../../protocol/hbp/index.js';
import { writeU32 } from '../../protocol/bytes.js';
import type { CoreEnv } from '../effects.js';
import type { DatagramEvent } from '../inputs.js';
import type { PendingLogin, Session } from '../model/index.js';
import { bad, reply, replyUnauthenticated } from '../replies.js';
import { scheduleIdent } from '../prompts/index.js';
import { applyDefaults } from './options.js';
import { newSession, sessionAt, SessionState } from './session.js';

const pendingKey = (peerId: number, address: string, port: number): string => `${peerId}|${address}|${port}`;

export function onRptl(env: CoreEnv, ev: DatagramEvent): void {
  const r = parseRptl(ev.bytes);
  if (!r.ok) return bad(env, ev, r.error);
  const { peerId } = r.value;
  const key = pendingKey(peerId, ev.address, ev.port);
  const waiting = env.sessions.login(key);
  if (waiting) {
    // The client repeated RPTL (its retry timer, or our reply was lost): same salt again.
    reply(env, ev, encodeRptackSalt(waiting.salt));
    return;
  }
  const existing = env.sessions.get(peerId);
  if (!existing && peerId !== STATUS_PROBE_ID && env.sessions.peerCount >= env.cfg.hbp.maxPeers) {
    env.counters.add('login.refused.max-peers');
    if (env.logOnce.first(`peer:${peerId}`, 'login.refused.max-peers'))
      env.fx.log({ code: 'login.refused', level: 'warn', peer: peerId, address: ev.address, port: ev.port, reason: 'max-peers' });
    replyUnauthenticated(env, ev, encodeMstnak(peerId));
    return;
  }
  if (env.sessions.pendingCount >= env.cfg.hbp.maxPendingLogins) {
    env.counters.add('login.refused.pending-full');
    return;
  }
  const p: PendingLogin = {
    key,
    peerId,
    socket: ev.socket,
    address: ev.address,
    port: ev.port,
    salt: env.prng.nextU32(),
    expiresAt: ev.now + env.cfg.hbp.loginTimeoutMs,
  };
  env.sessions.addLogin(p);
  env.fx.schedule(p.expiresAt, { kind: 'login-expiry', login: p });
  reply(env, ev, encodeRptackSalt(p.salt));
}

/** A challenge's time ran out. */
export function loginExpired(env: CoreEnv, p: PendingLogin): void {
  if (env.sessions.dropLogin(p)) env.counters.add('login.challenge-expired');
}

export function onRptk(env: CoreEnv, ev: DatagramEvent): void {
  const r = parseRptk(ev.bytes);
  if (!r.ok) return bad(env, ev, r.error);
  const { peerId, digest } = r.value;
  const p = env.sessions.login(pendingKey(peerId, ev.address, ev.port));
  if (!p) {
    env.counters.add('login.no-challenge');
    replyUnauthenticated(env, ev, encodeMstnak(peerId));
    return;
  }
  env.sessions.dropLogin(p);
  const msg = new Uint8Array(4 + env.passphrase.length);
  writeU32(msg, 0, p.salt);
  msg.set(env.passphrase, 4);
  const expected = env.deps.sha256(msg);
  let diff = expected.length === 32 ? 0 : 1;
  for (let i = 0; i < 32; i++) diff |= (expected[i] ?? 0) ^ digest[i]!;
  if (diff !== 0) {
    env.counters.add('login.refused.passphrase');
    if (env.logOnce.first(`${ev.address}|${peerId}`, 'login.refused.passphrase'))
      env.fx.log({ code: 'login.refused', level: 'warn', peer: peerId, address: ev.address, port: ev.port, reason: 'passphrase' });
    replyUnauthenticated(env, ev, encodeMstnak(peerId));
    return;
  }
  const existing = env.sessions.get(peerId);
  if (existing) {
    // Proven: the newcomer takes the ID over. Tell the old address it is closed (unless it is the
    // same client logging in again).
    if (!sessionAt(existing, ev.address, ev.port)) env.fx.send(existing.socket, existing.address, existing.port, encodeMstcl(peerId));
    env.life.closeSession(existing, ev.now, 'replaced');
  } else if (peerId !== STATUS_PROBE_ID && env.sessions.peerCount >= env.cfg.hbp.maxPeers) {
    env.counters.add('login.refused.max-peers');
    replyUnauthenticated(env, ev, encodeMstnak(peerId));
    return;
  }
  const s = newSession(peerId, ev.socket, ev.address, ev.port, ev.now, env.sessions.nextSerial());
  env.sessions.add(s);
  scheduleKeepalive(env, s);
  reply(env, ev, encodeRptack(peerId));
}

/** The session that sent `ev`, if `peerId` is logged in (in `min` state or later) at that address. */
export function ownSession(env: CoreEnv, ev: DatagramEvent, peerId: number, min: 1 | 2): Session | null {
  const s = env.sessions.get(peerId);
  if (s === undefined || !sessionAt(s, ev.address, ev.port) || s.state < min) return null;
  s.lastSeen = ev.now;
  return s;
}

/** `ownSession`, or else count `code` and answer MSTNAK (no larger than the request). */
export function ownOrRefuse(env: CoreEnv, ev: DatagramEvent, peerId: number, min: 1 | 2, code: string): Session | null {
  const s = ownSession(env, ev, peerId, min);
  if (s === null) {
    env.counters.add(code);
    replyUnauthenticated(env, ev, encodeMstnak(peerId));
  }
  return s;
}

export function onRptc(env: CoreEnv, ev: DatagramEvent): void {
  const r = parseRptc(ev.bytes);
  if (!r.ok) return bad(env, ev, r.error);
  const s = ownOrRefuse(env, ev, r.value.peerId, SessionState.WaitingConfig, 'login.config-without-login');
  if (!s) return;
  s.config = r.value;
  if (s.state === SessionState.WaitingConfig) {
    s.state = SessionState.Connected;
    const c = r.value;
    env.fx.log({ code: 'peer.login', level: 'info', peer: s.peerId, address: s.address, port: s.port, detail: `${c.callsign} ${c.softwareId}`.trim() });
    env.fx.report({
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
      applyDefaults(env, s);
      scheduleIdent(env, s, ev.now + env.cfg.prompts.identIntervalMs);
    }
  }
  reply(env, ev, encodeRptack(s.peerId));
}

const keepaliveLimit = (env: CoreEnv): number => env.cfg.hbp.pingIntervalMs * env.cfg.hbp.maxMissedPings;

function scheduleKeepalive(env: CoreEnv, s: Session): void {
  env.fx.schedule(s.lastSeen + keepaliveLimit(env), { kind: 'keepalive', session: s });
}

/**
 * The keepalive deadline of `d.session`: checked lazily (a packet only moves `lastSeen`), so it
 * either drops a silent peer (MSTCL, as FreeDMR does) or schedules itself again at the new due time.
 * Silence while the shell's receive queue was behind does not count (the peer's pings may have
 * been waiting in it, or been dropped by the kernel when it overflowed): while behind, the check
 * waits; after a backlog drains, the peer gets a whole keepalive limit from then.
 */
export function keepaliveDue(env: CoreEnv, d: { readonly kind: 'keepalive'; readonly session: Session }, now: number): void {
  const s = d.session;
  if (s.closed) return;
  const limit = keepaliveLimit(env);
  const due = Math.max(s.lastSeen, env.receive.drainedAt) + limit;
  if (now < due) return env.fx.schedule(due, d);
  if (env.receive.behind) {
    env.counters.add('keepalive.deferred');
    return env.fx.schedule(now + env.cfg.hbp.pingIntervalMs, d);
  }
  if (s.state === SessionState.Connected) env.fx.report({ report: 'peer-keepalive-lost', now, peer: s.peerId, silentMs: now - s.lastSeen });
  env.fx.send(s.socket, s.address, s.port, encodeMstcl(s.peerId));
  env.life.closeSession(s, now, 'timeout');
}
