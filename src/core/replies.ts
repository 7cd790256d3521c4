// Answering a datagram, and counting one that is refused.

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
