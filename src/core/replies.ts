// Answering a datagram, and counting one that is refused.

import { encodeMstnak } from '../protocol/hbp/index.js';
import type { CoreEnv } from './effects.js';
import type { DatagramEvent } from './inputs.js';

/** Count a malformed or refused datagram; log it once per (address, code). */
export function bad(env: CoreEnv, ev: DatagramEvent, code: string, detail?: string): void {
  env.counters.add(code);
  if (env.logOnce.first(`${ev.address}|${ev.port}`, code)) {
    env.fx.log({ code: 'packet.dropped', level: 'debug', reason: code, address: ev.address, port: ev.port, ...(detail ? { detail } : {}) });
  }
}

/** Reply to the sender of `ev`. */
export function reply(env: CoreEnv, ev: DatagramEvent, bytes: Uint8Array): void {
  env.fx.send(ev.socket, ev.address, ev.port, bytes);
}

/** Reply to a sender that has not proven itself: never more bytes than it sent us. */
export function replyUnauthenticated(env: CoreEnv, ev: DatagramEvent, bytes: Uint8Array): void {
  if (bytes.length <= ev.bytes.length) env.fx.send(ev.socket, ev.address, ev.port, bytes);
  else env.counters.add('reply.withheld-larger-than-request');
}

/**
 * MSTNAK for `peerId` to a sender that is not logged in (or not at that address), so a client
 * that lost its session (a server restart, a refused login) logs in again at once. Limited per
 * address (sessions/gate.ts) and never larger than the request.
 */
export function refuse(env: CoreEnv, ev: DatagramEvent, peerId: number): void {
  if (env.gate.naks.take(ev.address, ev.now)) replyUnauthenticated(env, ev, encodeMstnak(peerId));
  else env.counters.add('reply.nak-rate-limited');
}
