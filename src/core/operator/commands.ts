// Operator commands from the console: close a peer, block an ID for a time, set a peer's options,
// drop a dial lane. Each arrives as an `operator-command` event, so an event log replays it like a
// datagram; each ends with one `command-result` report naming the command's `id`.

import { encodeMstcl } from '../../protocol/hbp/messages.js';
import { utf8 } from '../../protocol/bytes.js';
import type { CommandResult } from '../actions.js';
import { dial, dialLane, UNLINK } from '../dial/index.js';
import type { CoreEnv } from '../effects.js';
import type { OperatorCommandEvent } from '../inputs.js';
import type { Session } from '../model/index.js';
import { applyOptions } from '../sessions/options.js';
import { SessionState } from '../sessions/session.js';

/** Longest block an operator may set: one year. */
export const MAX_BLOCK_SECONDS = 31_536_000;
/** Longest options string taken (an RPTO carries at most 300 bytes). */
export const MAX_OPTIONS_LENGTH = 300;

type Result = CommandResult['result'];

export function onOperatorCommand(env: CoreEnv, ev: OperatorCommandEvent): void {
  const c = ev.command;
  const done = (ok: boolean, code: string, message: string, result: Result = {}): void => {
    env.counters.add(ok ? `operator.${c.op}` : `operator.refused.${code}`);
    env.fx.log({ code: ok ? 'operator.command' : 'operator.refused', level: ok ? 'info' : 'warn', peer: c.peer, reason: ok ? c.op : code, detail: `${ev.who}: ${message}` });
    env.fx.report({ report: 'command-result', now: ev.now, id: ev.id, ok, code, message, result });
  };
  if (!Number.isInteger(c.peer) || c.peer < 0 || c.peer > 0xffff_ffff) return done(false, 'bad_request', 'a peer ID is a whole number 0..4294967295');
  const s = env.sessions.get(c.peer);
  const connected = s !== undefined && s.state === SessionState.Connected ? s : undefined;
  switch (c.op) {
    case 'disconnect':
      if (s === undefined) return done(false, 'unknown_peer', `peer ${c.peer} is not connected`);
      close(env, s, ev.now);
      return done(true, '', `peer ${c.peer} disconnected`, { peer: c.peer, disconnected: true });
    case 'block': {
      if (!Number.isInteger(c.seconds) || c.seconds < 1 || c.seconds > MAX_BLOCK_SECONDS) return done(false, 'bad_request', `seconds: expected a whole number 1..${MAX_BLOCK_SECONDS}`);
      const until = ev.now + c.seconds * 1000;
      env.sessions.block(c.peer, until);
      if (s !== undefined) close(env, s, ev.now);
      return done(true, '', `peer ${c.peer} blocked for ${c.seconds} s`, { peer: c.peer, seconds: c.seconds, disconnected: s !== undefined });
    }
    case 'options': {
      if (connected === undefined) return done(false, 'unknown_peer', `peer ${c.peer} is not connected`);
      if (typeof c.options !== 'string' || c.options.length > MAX_OPTIONS_LENGTH || !/^[\x20-\x7e]*$/.test(c.options))
        return done(false, 'bad_request', `options: expected printable ASCII of at most ${MAX_OPTIONS_LENGTH} characters`);
      // An operator is not held to the KEY a peer locked its options with: it is sent on the peer's behalf.
      const text = connected.optionsKey !== null && !/(^|;)\s*KEY\s*=/i.test(c.options) ? `KEY=${connected.optionsKey};${c.options}` : c.options;
      applyOptions(env, connected, utf8(text), ev.now);
      return done(true, '', `options of peer ${c.peer} set`, { peer: c.peer, ts1: connected.options.ts1.join(','), ts2: connected.options.ts2.join(',') });
    }
    case 'dial-drop': {
      if (connected === undefined) return done(false, 'unknown_peer', `peer ${c.peer} is not connected`);
      if (c.slot !== env.cfg.routing.dialSlot) return done(false, 'bad_request', `slot: the dial lane is on TS${env.cfg.routing.dialSlot}`);
      const lane = dialLane(env, connected);
      if (lane === null) return done(true, '', `peer ${c.peer} has no reflector on TS${c.slot}`, { peer: c.peer, slot: c.slot, dropped: 0 });
      const tg = lane.conference;
      dial(env, connected, UNLINK, ev.now);
      return done(true, '', `reflector ${tg} dropped from peer ${c.peer}`, { peer: c.peer, slot: c.slot, dropped: tg });
    }
    default:
      // Only from a hand-made event log: the console sends none of these.
      return done(false, 'bad_request', `unknown command ${JSON.stringify((c as { op: unknown }).op)}`);
  }
}

/** Tell the peer (MSTCL) and close its session. */
function close(env: CoreEnv, s: Session, now: number): void {
  env.fx.send(s.socket, s.address, s.port, encodeMstcl(s.peerId));
  env.life.closeSession(s, now, 'operator');
}
