// Logs through pino: JSON lines by default, pretty on a TTY. Either way the writing (and the pretty
// formatting) runs in pino's transport worker thread, so it stays off the main thread. The core's log entries carry a code and plain
// fields; the message text is made here.

import { writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import type { LogEntry } from '../core/actions.js';

export function createLogger(opts: { level: string; pretty: 'auto' | boolean }): Logger {
  const pretty = opts.pretty === 'auto' ? process.stdout.isTTY === true : opts.pretty;
  if (pretty) {
    return pino({ level: opts.level, base: undefined }, pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } }));
  }
  // JSON lines are written by pino's transport worker thread, off the packet path.
  return pino({ level: opts.level, base: undefined }, pino.transport({ target: 'pino/file', options: { destination: 1 } }));
}

const slotName = (s?: number): string => (s === undefined ? '' : `TS${s}`);

/** Human text for a core log entry. */
export function describe(e: LogEntry): string {
  switch (e.code) {
    case 'peer.login':
      return `peer ${e.peer} logged in from ${e.address}:${e.port} (${e.detail ?? ''})`;
    case 'peer.logout':
      return `peer ${e.peer} logged out (${e.reason}) after ${Math.round((e.durationMs ?? 0) / 1000)} s`;
    case 'peer.options':
      return `peer ${e.peer} options: ${e.detail}`;
    case 'login.refused':
      return `login of ${e.peer} from ${e.address}:${e.port} refused: ${e.reason}`;
    case 'call.start':
      return `call start: ${e.src} → TG ${e.tg} ${slotName(e.slot)} from ${e.detail ?? `peer ${e.peer}`}${e.reason ? ` (${e.reason})` : ''}`;
    case 'call.end':
      return `call end: ${e.src} → TG ${e.tg} ${slotName(e.slot)} from ${e.detail ?? `peer ${e.peer}`}, ${((e.durationMs ?? 0) / 1000).toFixed(1)} s, ${e.packets} packets, ${e.lost} lost (${e.reason})`;
    case 'call.collision':
      return `call from ${e.src} on TG ${e.tg} ${slotName(e.slot)} at peer ${e.peer} refused: ${e.detail}`;
    case 'link.dropped':
      return `frame from ${e.address}:${e.port} dropped (${e.reason}): ${e.detail}`;
    case 'uplink.up':
      return `${e.detail}: logged in to the master at ${e.address}:${e.port} as peer ${e.peer}`;
    case 'uplink.down':
      return e.reason === 'passphrase' ? `${e.detail}` : `${e.detail}: down (${e.reason}), master ${e.address}:${e.port}`;
    case 'uplink.retry':
      return `${e.detail}`;
    case 'call.limited':
      return e.detail ?? e.code;
    case 'packet.dropped':
      return `dropped packet from ${e.address}:${e.port}: ${e.reason}`;
    default:
      return e.detail ? `${e.code}: ${e.detail}` : e.code;
  }
}

export function writeEntry(log: Logger, e: LogEntry): void {
  const { level, ...fields } = e;
  log[level](fields, describe(e));
}

/**
 * Write one fatal line synchronously, bypassing pino's transport thread: on a crash the process
 * exits right after, and a line still queued for that thread would be lost. JSON lines go to the
 * log's destination (stdout) in pino's own shape; a pretty log gets a readable line on stderr.
 */
export function fatalSync(opts: { pretty: 'auto' | boolean }, fields: Record<string, unknown>, msg: string): void {
  const pretty = opts.pretty === 'auto' ? process.stdout.isTTY === true : opts.pretty;
  try {
    if (pretty) writeSync(2, `FATAL ${String(fields['code'] ?? '')}: ${msg}\n`);
    else writeSync(1, JSON.stringify({ level: 60, time: Date.now(), ...fields, msg }) + '\n');
  } catch {
    /* nowhere left to write */
  }
}
