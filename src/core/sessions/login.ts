// The HBP master login state machine (spec §1.9): RPTL → challenge, RPTK → proof, RPTC → config.
//
// Where dmrhub differs from the Python servers, on purpose:
// - RPTL keeps no state: the salt is a keyed MAC over the peer ID, address, port and time window
//   (challenge.ts), worked out again when RPTK comes. A flood of RPTLs fills nothing.
// - Which passphrase a peer proves comes from its credential (credentials.ts); a wrong one gets
//   MSTNAK and leaves nothing behind, and an address that keeps failing is not checked for a while.
// - A login for an ID connected from another address is refused (MSTNAK, one warning per clash)
//   unless the running session has missed a ping or the newcomer proved a credential that covers
//   the ID itself; then the newcomer takes the ID over and the old address gets MSTCL. FreeDMR and
//   HBlink3 overwrite the record on RPTL, so anyone who knows a peer ID can knock it off, and two
//   hotspots with one ID take turns.
// - No reply to an address that has not logged in is longer than the datagram that caused it; the
//   one exception is the 10-byte RPTACK+salt that the protocol requires for an 8-byte RPTL.

import { encodeMstcl, encodeMstnak, encodeRptack, encodeRptackSalt, parseRptc, parseRptk, parseRptl, STATUS_PROBE_ID } from '../../protocol/hbp/index.js';
import type { CoreEnv } from '../effects.js';
import type { DatagramEvent } from '../inputs.js';
import type { Session } from '../model/index.js';
import { bad, refuse, reply, replyUnauthenticated } from '../replies.js';
import { scheduleIdent } from '../prompts/index.js';
import { digestMatches, windowOf } from './challenge.js';
import { callsignMatches, type Candidate } from './credentials.js';
import { applyDefaults } from './options.js';
import { loginRefused } from '../acl/check.js';
import { aclAllows } from '../acl/grammar.js';
import { newSession, sessionAt, SessionState } from './session.js';

/** A running session that has been silent this many ping intervals has missed a ping. */
const MISSED_PING = 1.5;

export function onRptl(env: CoreEnv, ev: DatagramEvent): void {
  const r = parseRptl(ev.bytes);
  if (!r.ok) return bad(env, ev, r.error);
  const { peerId } = r.value;
  // Registration policy (REG list, unknown IDs): refused here, before any state is kept.
  if (loginRefused(env, ev, peerId)) return;
  if (env.sessions.blocked(peerId, ev.now)) {
    env.counters.add('login.refused.blocked');
    if (env.logOnce.first(`peer:${peerId}`, 'login.refused.blocked'))
      env.fx.log({ code: 'login.refused', level: 'warn', peer: peerId, address: ev.address, port: ev.port, reason: 'blocked' });
    // MSTNAK+ID is 10 bytes against an 8-byte RPTL: no more than the RPTACK+salt every RPTL gets.
    reply(env, ev, encodeMstnak(peerId));
    return;
  }
  if (env.sessions.get(peerId) === undefined && peerId !== STATUS_PROBE_ID && env.sessions.peerCount >= env.cfg.hbp.maxPeers) {
    env.counters.add('login.refused.max-peers');
    if (env.logOnce.first(`peer:${peerId}`, 'login.refused.max-peers'))
      env.fx.log({ code: 'login.refused', level: 'warn', peer: peerId, address: ev.address, port: ev.port, reason: 'max-peers' });
    replyUnauthenticated(env, ev, encodeMstnak(peerId));
    return;
  }
  env.counters.add('login.challenge');
  reply(env, ev, encodeRptackSalt(env.gate.challenge.salt(peerId, ev.address, ev.port, windowOf(ev.now, env.cfg.hbp.loginTimeoutMs))));
}

/** The candidate whose passphrase `digest` proves for a salt of this window or the one before. */
function proven(env: CoreEnv, ev: DatagramEvent, peerId: number, digest: Uint8Array): Candidate | null {
  const w = windowOf(ev.now, env.cfg.hbp.loginTimeoutMs);
  const candidates = env.gate.book.candidates(peerId);
  for (let back = 0; back <= 1; back++) {
    const salt = env.gate.challenge.salt(peerId, ev.address, ev.port, w - back);
    for (const c of candidates) if (digestMatches(env.deps, salt, c.passphrase, digest)) return c;
  }
  return null;
}

export function onRptk(env: CoreEnv, ev: DatagramEvent): void {
  const r = parseRptk(ev.bytes);
  if (!r.ok) return bad(env, ev, r.error);
  const { peerId, digest } = r.value;
  if (env.gate.failures.empty(ev.address, ev.now)) {
    // Too many wrong digests from this address lately: not even checked, no answer.
    env.counters.add('login.refused.rate');
    if (env.logOnce.first(`addr:${ev.address}`, 'login.refused.rate'))
      env.fx.log({ code: 'login.refused', level: 'warn', peer: peerId, address: ev.address, port: ev.port, reason: 'rate', detail: 'too many wrong passphrases from this address' });
    return;
  }
  const c = proven(env, ev, peerId, digest);
  if (c === null) {
    env.gate.failures.take(ev.address, ev.now);
    env.counters.add('login.refused.passphrase');
    if (env.logOnce.first(`${ev.address}|${peerId}`, 'login.refused.passphrase'))
      env.fx.log({ code: 'login.refused', level: 'warn', peer: peerId, address: ev.address, port: ev.port, reason: 'passphrase' });
    refuse(env, ev, peerId);
    return;
  }
  if (env.sessions.blocked(peerId, ev.now)) {
    // Blocked by the operator after this client's RPTL was answered: refused here too.
    env.counters.add('login.refused.blocked');
    refuse(env, ev, peerId);
    return;
  }
  if (c.acl !== null && c.acl.reg !== null && !aclAllows(c.acl.reg, peerId)) {
    // The credential's own REG list refuses this ID (the global one was checked at RPTL).
    env.counters.add('login.refused.acl.reg');
    if (env.logOnce.first(`peer:${peerId}`, 'login.refused.acl.reg'))
      env.fx.log({ code: 'login.refused', level: 'warn', peer: peerId, address: ev.address, port: ev.port, reason: 'acl.reg', detail: `denied by the reg_acl of credential ${c.credential!.name}` });
    refuse(env, ev, peerId);
    return;
  }
  const existing = env.sessions.get(peerId);
  const elsewhere = existing !== undefined && !sessionAt(existing, ev.address, ev.port);
  if (elsewhere && !mayTakeOver(env, ev, existing, c)) return;
  if (env.sessions.pendingCount >= env.cfg.hbp.maxPendingLogins) {
    env.counters.add('login.refused.pending-full');
    refuse(env, ev, peerId);
    return;
  }
  if (existing !== undefined) {
    // The same client logging in again, or a takeover allowed above: the old address is told.
    if (elsewhere) env.fx.send(existing.socket, existing.address, existing.port, encodeMstcl(peerId));
    env.life.closeSession(existing, ev.now, 'replaced');
  } else if (peerId !== STATUS_PROBE_ID && env.sessions.peerCount >= env.cfg.hbp.maxPeers) {
    env.counters.add('login.refused.max-peers');
    refuse(env, ev, peerId);
    return;
  }
  const s = newSession(peerId, ev.socket, ev.address, ev.port, ev.now, env.sessions.nextSerial(), 'peer', c.credential);
  s.acl = c.acl;
  env.sessions.add(s);
  scheduleKeepalive(env, s);
  env.fx.schedule(ev.now + env.cfg.hbp.loginTimeoutMs, { kind: 'login-expiry', session: s });
  reply(env, ev, encodeRptack(peerId));
}

/**
 * A proven login for an ID connected from another address: allowed when the running session has
 * missed a ping, or when the newcomer's credential covers the ID itself. Otherwise refused here,
 * with one warning per clash (both addresses named).
 */
function mayTakeOver(env: CoreEnv, ev: DatagramEvent, old: Session, c: Candidate): boolean {
  const silent = ev.now - old.lastSeen > env.cfg.hbp.pingIntervalMs * MISSED_PING;
  const ownCredential = c.credential !== null && env.gate.book.byId(old.peerId) === c;
  const at = `${old.address}:${old.port}`;
  if (silent || ownCredential) {
    env.counters.add(silent ? 'login.takeover.silent' : 'login.takeover.credential');
    env.fx.log({
      code: 'login.takeover',
      level: 'warn',
      peer: old.peerId,
      address: ev.address,
      port: ev.port,
      reason: silent ? 'silent' : 'credential',
      detail: `replaces the session from ${at} (${silent ? `silent for ${ev.now - old.lastSeen} ms` : `proved credential ${c.credential!.name}`})`,
    });
    return true;
  }
  env.counters.add('login.refused.in-use');
  if (env.logOnce.first(`clash:${old.peerId}|${at}|${ev.address}:${ev.port}`, 'login.refused.in-use'))
    env.fx.log({
      code: 'login.refused',
      level: 'warn',
      peer: old.peerId,
      address: ev.address,
      port: ev.port,
      reason: 'in-use',
      detail: `peer ${old.peerId} is connected from ${at} and answering; the login from ${ev.address}:${ev.port} is refused (two hotspots with one ID?)`,
    });
  refuse(env, ev, old.peerId);
  return false;
}

/** A proven login that sent no RPTC in time is dropped. */
export function loginExpired(env: CoreEnv, s: Session, now: number): void {
  if (s.closed || s.state !== SessionState.WaitingConfig) return;
  env.counters.add('login.config-timeout');
  env.life.closeSession(s, now, 'no-config');
}

/** The session that sent `ev`, if `peerId` is logged in (in `min` state or later) at that address. */
export function ownSession(env: CoreEnv, ev: DatagramEvent, peerId: number, min: 1 | 2): Session | null {
  const s = env.sessions.get(peerId);
  if (s === undefined || !sessionAt(s, ev.address, ev.port) || s.state < min) return null;
  s.lastSeen = ev.now;
  env.sessions.touched(s);
  return s;
}

/** `ownSession`, or else count `code` and answer MSTNAK (no larger than the request). */
export function ownOrRefuse(env: CoreEnv, ev: DatagramEvent, peerId: number, min: 1 | 2, code: string): Session | null {
  const s = ownSession(env, ev, peerId, min);
  if (s === null) {
    env.counters.add(code);
    refuse(env, ev, peerId);
  }
  return s;
}

export function onRptc(env: CoreEnv, ev: DatagramEvent): void {
  const r = parseRptc(ev.bytes);
  if (!r.ok) return bad(env, ev, r.error);
  const s = ownOrRefuse(env, ev, r.value.peerId, SessionState.WaitingConfig, 'login.config-without-login');
  if (!s) return;
  if (s.state === SessionState.WaitingConfig) {
    const c = r.value;
    const cred = s.credential;
    if (cred !== null && !callsignMatches(cred.callsign, c.callsign)) {
      env.counters.add('login.refused.callsign');
      if (env.logOnce.first(`${ev.address}|${s.peerId}`, 'login.refused.callsign'))
        env.fx.log({ code: 'login.refused', level: 'warn', peer: s.peerId, address: ev.address, port: ev.port, reason: 'callsign', detail: `callsign "${c.callsign}" does not match credential ${cred.name}` });
      refuse(env, ev, s.peerId);
      env.life.closeSession(s, ev.now, 'callsign');
      return;
    }
    s.config = c;
    env.sessions.changed(s);
    env.sessions.configured(s);
    if (!s.acceptsAlias && softwareTakesAlias(env, c.softwareId)) s.acceptsAlias = true;
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
  } else {
    s.config = r.value;
    env.sessions.changed(s);
  }
  reply(env, ev, encodeRptack(s.peerId));
}

/** The RPTC software ID starts with one of `routing.talkerAliasSoftware` (case-insensitive). */
function softwareTakesAlias(env: CoreEnv, softwareId: string): boolean {
  const id = softwareId.trim().toLowerCase();
  return env.cfg.routing.talkerAliasSoftware.some((p) => p !== '' && id.startsWith(p.toLowerCase()));
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
