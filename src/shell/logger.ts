// Logs through pino: JSON lines by default, pretty on a TTY. Either way the writing (and the pretty
// formatting) runs in pino's transport worker thread, so it stays off the main thread. The core's log entries carry a code and plain
// fields; the message text is made here.

import { writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import type { LogEntry } from '../core/actions.js';
import type { NameStore } from '../names/index.js';

export function createLogger(opts: { level: string; pretty: 'auto' | boolean }): Logger {
  const pretty = opts.pretty === 'auto' ? process.stdout.isTTY === true : opts.pretty;
  if (pretty) {
    return pino({ level: opts.level, base: undefined }, pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } }));
  }
  // JSON lines are written by pino's transport worker thread, off the packet path.
  return pino({ level: opts.level, base: undefined }, pino.transport({ target: 'pino/file', options: { destination: 1 } }));
}

const slotName = (s?: number): string => (s === undefined ? '' : `TS${s}`);

/** The names a call's log line can carry: the talker's callsign and name, the talkgroup's name. */
interface CallNames {
  srcCallsign?: string;
  srcName?: string;
  tgName?: string;
}

const CALL_CODES = new Set(['call.start', 'call.end', 'call.collision']);

/** What the name files say about a call entry's source and talkgroup (nothing when they say nothing). */
export function callNames(e: LogEntry, names: NameStore | null): CallNames {
  if (names === null || !CALL_CODES.has(e.code)) return {};
  const out: CallNames = {};
  const sub = e.src === undefined ? undefined : names.subscriber(e.src);
  if (sub !== undefined) {
    out.srcCallsign = sub.callsign;
    if (sub.name !== undefined) out.srcName = sub.name;
  }
  // A private call's destination is a subscriber, not a talkgroup.
  const tg = e.tg === undefined || e.reason === 'private' ? undefined : names.talkgroup(e.tg);
  if (tg !== undefined) out.tgName = tg;
  return out;
}

/** Human text for a core log entry, with the names found for it. */
export function describe(e: LogEntry, n: CallNames = {}): string {
  const src = n.srcCallsign === undefined ? `${e.src}` : `${e.src} ${n.srcCallsign}${n.srcName === undefined ? '' : ` (${n.srcName})`}`;
  const tg = n.tgName === undefined ? `TG ${e.tg}` : `TG ${e.tg} (${n.tgName})`;
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
      return `call start: ${src} → ${tg} ${slotName(e.slot)} from ${e.detail ?? `peer ${e.peer}`}${e.reason ? ` (${e.reason})` : ''}`;
    case 'call.end':
      return `call end: ${src} → ${tg} ${slotName(e.slot)} from ${e.detail ?? `peer ${e.peer}`}, ${((e.durationMs ?? 0) / 1000).toFixed(1)} s, ${e.packets} packets, ${e.lost} lost (${e.reason})`;
    case 'call.collision':
      return `call from ${src} on ${tg} ${slotName(e.slot)} at peer ${e.peer} refused: ${e.detail}`;
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

/** Logs a core entry; a call's line and fields carry the talker's and the talkgroup's names when known. */
export function writeEntry(log: Logger, e: LogEntry, names: NameStore | null = null): void {
  const { level, ...fields } = e;
  const n = callNames(e, names);
  log[level]({ ...fields, ...n }, describe(e, n));
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
