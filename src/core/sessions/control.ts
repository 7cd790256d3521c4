// A logged-in session's other control messages: RPTO (options), RPTPING, RPTCL, and the auxiliary
// DMRA / RPTG / DMRG.
//
// Where dmrhub differs from the Python servers, on purpose:
// - RPTO is taken only from a fully logged-in peer at its own address, and applied at once.
// - RPTCL gets no reply (the peer has already gone; the Python servers send MSTNAK).
// - Any valid packet from a logged-in peer counts as a sign of life, not only RPTPING.

import { encodeMstpong, encodeRptack, parsePeerOnly, parseRpto, STATUS_PROBE_ID } from '../../protocol/hbp/index.js';
import { readU32 } from '../../protocol/bytes.js';
import type { CoreEnv } from '../effects.js';
import type { DatagramEvent } from '../inputs.js';
import { bad, refuse, reply } from '../replies.js';
import { onTalkerAlias } from '../streams/talker-alias.js';
import { ownOrRefuse, ownSession } from './login.js';
import { applyOptions } from './options.js';
import { SessionState } from './session.js';

export function onRpto(env: CoreEnv, ev: DatagramEvent): void {
  const r = parseRpto(ev.bytes);
  if (!r.ok) return bad(env, ev, r.error);
  const s = ownOrRefuse(env, ev, r.value.peerId, SessionState.Connected, 'options.not-logged-in');
  if (!s) return;
  if (s.peerId !== STATUS_PROBE_ID) applyOptions(env, s, r.value.options, ev.now);
  reply(env, ev, encodeRptack(s.peerId));
}

export function onPing(env: CoreEnv, ev: DatagramEvent): void {
  const r = parsePeerOnly(ev.bytes, 7);
  if (!r.ok) return bad(env, ev, r.error);
  const s = ownOrRefuse(env, ev, r.value.peerId, SessionState.Connected, 'ping.not-logged-in');
  if (!s) return;
  reply(env, ev, encodeMstpong(s.peerId));
}

export function onClose(env: CoreEnv, ev: DatagramEvent): void {
  const r = parsePeerOnly(ev.bytes, 5);
  if (!r.ok) return bad(env, ev, r.error);
  const s = ownSession(env, ev, r.value.peerId, SessionState.WaitingConfig);
  if (!s) {
    env.counters.add('close.not-logged-in');
    return;
  }
  env.life.closeSession(s, ev.now, 'closed');
}

/** DMRA, RPTG, DMRG: accepted from a logged-in peer as a sign of life, otherwise counted. */
export function onAuxiliary(env: CoreEnv, ev: DatagramEvent, name: 'dmra' | 'rptg' | 'dmrg'): void {
  if (ev.bytes.length < 8) return bad(env, ev, 'hbp.bad-length');
  const s = ownSession(env, ev, readU32(ev.bytes, 4), SessionState.Connected);
  if (!s) {
    env.counters.add(`${name}.not-logged-in`);
    return refuse(env, ev, readU32(ev.bytes, 4));
  }
  env.counters.add(`${name}.received`);
  if (name === 'dmra') onTalkerAlias(env, s, ev.bytes);
}
