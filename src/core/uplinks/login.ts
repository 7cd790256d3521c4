// The HomeBrew client login of an uplink (spec §1.5–§1.7, §1.10, §1.12), in core time:
//
//   down ──retry──► login ──RPTACK+salt──► auth ──RPTACK──► config ──RPTACK──► [options ──RPTACK──►] up
//          (RPTL)          (send RPTK)            (send RPTC)         (send RPTO, when set)
//
// - each step sent and not answered within the ping interval: down (timeout);
// - MSTNAK: down (passphrase, when it answers RPTK; nak otherwise); MSTCL: down (closed);
// - up: RPTPING every ping interval; MSTPONG clears the count of unanswered pings, and when that
//   count reaches max_missed_pongs the uplink goes down (timeout). The options go out once more
//   with the first ping: an RPTACK carries only the peer ID, so a duplicated answer to RPTC is
//   taken for the answer to an RPTO that was lost, and the master would hold a session without
//   them (the second RPTO's answer is expected, not refused);
// - down: the next attempt after a capped exponential backoff, drawn from the core's seeded PRNG
//   in [d/2, d] (so no two servers retry in step, and a replay retries at the same instants);
//   the exponent resets with a successful login.
// A master that refuses the passphrase gets one warning naming the uplink; further refusals are
// counted, and retried with the same growing backoff: never a tight loop.
//
// Timers carry the uplink's `gen`, bumped on every change of state, so a timer of an earlier
// state does nothing when it falls due.

import { encodeRptc, encodeRptk, encodeRptl, encodeRpto, encodeRptping, HbpKind, hbpKind, parseMasterReply } from '../../protocol/hbp/index.js';
import { writeU32 } from '../../protocol/bytes.js';
import type { CoreEnv } from '../effects.js';
import type { DatagramEvent } from '../inputs.js';
import type { Uplink, UplinkDownReason, UplinkState } from '../model/index.js';
import { joinCarried, leaveCarried } from './routing.js';
import { selectXlxModule } from './xlx.js';

const label = (u: Uplink): string => `uplink ${u.cfg.name}`;

function send(env: CoreEnv, u: Uplink, bytes: Uint8Array): void {
  env.fx.send(u.cfg.socket, u.cfg.address, u.cfg.port, bytes);
}

/** Move to a login step: send its message and give the master one ping interval to answer. */
function step(env: CoreEnv, u: Uplink, state: UplinkState, bytes: Uint8Array, now: number): void {
  u.state = state;
  u.gen++;
  send(env, u, bytes);
  env.fx.schedule(now + u.cfg.pingIntervalMs, { kind: 'uplink-step-timeout', uplink: u, gen: u.gen });
}

/** Start a login now (RPTL). */
export function beginLogin(env: CoreEnv, u: Uplink, now: number): void {
  if (u.removed) return;
  step(env, u, 'login', encodeRptl(u.cfg.peerId), now);
}

/** The delay before attempt number `failures` + 1: min·2^(failures−1), capped, drawn in [d/2, d]. */
export function backoffMs(env: CoreEnv, u: Uplink): number {
  const exp = Math.min(Math.max(u.failures - 1, 0), 20);
  const d = Math.min(u.cfg.retryMaxMs, u.cfg.retryMinMs * 2 ** exp);
  const half = Math.floor(d / 2);
  return d - half + (env.prng.nextU32() % (half + 1));
}

/**
 * Take the uplink down: its calls end and it leaves its conferences (when it was up), the reason
 * is logged and counted, and, unless it was removed or the server stops, the next attempt is
 * scheduled after the backoff.
 */
export function goDown(env: CoreEnv, u: Uplink, reason: UplinkDownReason, now: number): void {
  const was = u.state;
  u.state = 'down';
  u.gen++;
  if (was === 'down' && (reason === 'shutdown' || reason === 'removed')) return;
  u.missed = 0;
  if (was === 'up') {
    leaveCarried(env, u, now);
    reportUplink(env, u, 'down', reason, now);
  }
  env.counters.add(`uplink.down.${reason}`);
  if (reason === 'passphrase') u.refusals++;
  const firstRefusal = reason === 'passphrase' && u.refusals === 1;
  if (was === 'up' || firstRefusal || reason === 'reload' || reason === 'removed')
    env.fx.log({
      code: 'uplink.down',
      level: firstRefusal ? 'warn' : 'info',
      reason,
      peer: u.cfg.peerId,
      address: u.cfg.address,
      port: u.cfg.port,
      detail: firstRefusal
        ? `${label(u)}: the master refused the passphrase (MSTNAK after RPTK); retrying with backoff, further refusals are counted`
        : was === 'up'
          ? `${label(u)} after ${Math.round((now - u.upAt) / 1000)} s`
          : label(u),
    });
  else env.fx.log({ code: 'uplink.down', level: 'debug', reason, peer: u.cfg.peerId, address: u.cfg.address, port: u.cfg.port, detail: `${label(u)} during login (${was})` });
  if (u.removed || reason === 'shutdown' || reason === 'reload') return;
  u.failures++;
  const delay = backoffMs(env, u);
  env.fx.schedule(now + delay, { kind: 'uplink-retry', uplink: u, gen: u.gen });
  env.fx.log({ code: 'uplink.retry', level: 'debug', peer: u.cfg.peerId, durationMs: delay, detail: `${label(u)}: next login in ${(delay / 1000).toFixed(1)} s (attempt ${u.failures + 1})` });
}

function up(env: CoreEnv, u: Uplink, now: number): void {
  u.state = 'up';
  u.gen++;
  u.failures = 0;
  u.refusals = 0;
  u.missed = 0;
  u.upAt = now;
  u.optionsAgain = u.cfg.options !== '' ? 'due' : 'no';
  u.session.lastSeen = now;
  env.counters.add('uplink.up');
  env.fx.log({ code: 'uplink.up', level: 'info', peer: u.cfg.peerId, address: u.cfg.address, port: u.cfg.port, detail: label(u) });
  reportUplink(env, u, 'up', '', now);
  joinCarried(env, u);
  env.fx.schedule(now + u.cfg.pingIntervalMs, { kind: 'uplink-ping', uplink: u, gen: u.gen });
  selectXlxModule(env, u);
}

/** Count a datagram from the master that this state has no use for; log the first of each kind. */
export function ignore(env: CoreEnv, u: Uplink, ev: DatagramEvent, code: string): void {
  u.dropped++;
  env.counters.add(code);
  if (env.logOnce.first(`uplink:${u.cfg.name}`, code))
    env.fx.log({ code: 'uplink.dropped', level: 'debug', reason: code, address: ev.address, port: ev.port, detail: `${label(u)} (first of its kind; counted from now on)` });
}

/** A control message from the master (anything but DMRD), already checked to come from it. */
export function onMasterControl(env: CoreEnv, u: Uplink, ev: DatagramEvent): void {
  const now = ev.now;
  const b = ev.bytes;
  // The FreeDMR proxy's bare 5-byte MSTCL carries no ID.
  if (hbpKind(b) === HbpKind.MSTCL && b.length === 5) return u.state === 'down' ? ignore(env, u, ev, 'uplink.unexpected') : goDown(env, u, 'closed', now);
  const r = parseMasterReply(b);
  if (!r.ok) return ignore(env, u, ev, r.error);
  const { tag, arg } = r.value;
  const ours = u.cfg.loose || arg === u.cfg.peerId;
  if (u.state === 'down') return ignore(env, u, ev, 'uplink.unexpected');
  u.session.lastSeen = now;
  switch (tag) {
    case 'RPTACK':
      return onAck(env, u, ev, arg, ours);
    case 'MSTNAK':
      if (!ours) return ignore(env, u, ev, 'uplink.wrong-id');
      return goDown(env, u, u.state === 'auth' ? 'passphrase' : 'nak', now);
    case 'MSTCL':
      if (!ours) return ignore(env, u, ev, 'uplink.wrong-id');
      return goDown(env, u, 'closed', now);
    case 'MSTPONG':
      if (!ours) return ignore(env, u, ev, 'uplink.wrong-id');
      if (u.state !== 'up') return ignore(env, u, ev, 'uplink.unexpected');
      u.missed = 0;
      return;
  }
}

function onAck(env: CoreEnv, u: Uplink, ev: DatagramEvent, arg: number, ours: boolean): void {
  const now = ev.now;
  if (u.state === 'login') {
    // RPTACK + salt: prove the passphrase.
    const pass = u.cfg.passphrase;
    const msg = new Uint8Array(4 + pass.length);
    writeU32(msg, 0, arg);
    for (let i = 0; i < pass.length; i++) msg[4 + i] = pass.charCodeAt(i) & 0xff;
    return step(env, u, 'auth', encodeRptk(u.cfg.peerId, env.deps.sha256(msg)), now);
  }
  if (u.state === 'up') {
    if (u.optionsAgain === 'sent' && ours) {
      u.optionsAgain = 'no';
      return;
    }
    return ignore(env, u, ev, 'uplink.unexpected');
  }
  // A wrong ID in an ACK resets the login (spec §1.12), unless the master is loose.
  if (!ours) return goDown(env, u, 'nak', now);
  if (u.state === 'auth') return step(env, u, 'config', encodeRptc({ peerId: u.cfg.peerId, ...u.cfg.rptc }), now);
  if (u.state === 'config' && u.cfg.options !== '') return step(env, u, 'options', encodeRpto(u.cfg.peerId, u.cfg.options), now);
  return up(env, u, now);
}

/** `uplink-step-timeout`: the step sent at `gen` was never answered. */
export function stepTimedOut(env: CoreEnv, u: Uplink, gen: number, now: number): void {
  if (u.gen !== gen || u.state === 'down' || u.state === 'up') return;
  goDown(env, u, 'timeout', now);
}

/** `uplink-retry`: the backoff has passed; log in again. */
export function retryDue(env: CoreEnv, u: Uplink, gen: number, now: number): void {
  if (u.gen !== gen || u.state !== 'down') return;
  beginLogin(env, u, now);
}

/** `uplink-ping`: ping the master, or give up on it after too many unanswered pings. */
export function pingDue(env: CoreEnv, u: Uplink, gen: number, now: number): void {
  if (u.gen !== gen || u.state !== 'up') return;
  if (env.receive.behind) {
    // The master's pong may be waiting in our own receive queue: not counted as missed.
    env.counters.add('uplink.ping-deferred');
  } else {
    if (u.missed >= u.cfg.maxMissedPongs) {
      env.counters.add('uplink.pongs-missed');
      return goDown(env, u, 'timeout', now);
    }
    u.missed++;
  }
  send(env, u, encodeRptping(u.cfg.peerId));
  if (u.optionsAgain === 'due') {
    u.optionsAgain = 'sent';
    send(env, u, encodeRpto(u.cfg.peerId, u.cfg.options));
  }
  env.fx.schedule(now + u.cfg.pingIntervalMs, { kind: 'uplink-ping', uplink: u, gen });
}

/** An uplink-state report (the `link` report family). */
function reportUplink(env: CoreEnv, u: Uplink, change: 'up' | 'down', reason: string, now: number): void {
  env.fx.report({
    report: 'link-state',
    now,
    change,
    link: u.cfg.name,
    kind: 'uplink',
    address: u.cfg.address,
    port: u.cfg.port,
    reason,
    version: 0,
    silentMs: now - u.session.lastSeen,
    counts: { dropped: 0, quenchSent: 0, quenchReceived: 0, loops: 0, tooManyHops: 0 },
  });
}
