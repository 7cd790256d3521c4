// The event log: NDJSON, one header line then one line per event, exactly as the core received
// them (after the shell stamped `now`). Bytes are hex, numbers are integers. Secrets never appear:
// the passphrase is written as "sha256:<hex of its digest>", and the replayer asks for the real
// value (from the server's config file) and checks it against that digest.

import { fromHex, toHex } from '../protocol/bytes.js';
import type { CoreConfig } from '../core/config.js';
import type { CoreEvent, OperatorCommand, PromptPackData } from '../core/inputs.js';

export const LOG_FORMAT = 'dmrhub-events';
export const LOG_VERSION = 1;

export interface LogHeader {
  format: typeof LOG_FORMAT;
  version: number;
  dmrhub: string;
  /** Wall-clock time (ms since the Unix epoch) at which the monotonic clock read `nowAtEpoch`. */
  epochMs: number;
  nowAtEpoch: number;
  /** The config file the server ran with, so `replay` can find the secrets. */
  configPath: string | null;
  /** The whole operator config, redacted (for reading; the core's part is in the events). */
  config: unknown;
  /** "partial" when the log does not start at the server's start (a flight-recorder ring that wrapped). */
  partial?: boolean;
}

export { redactCore } from '../core/config.js';

export function encodeEvent(ev: CoreEvent, redact: (c: CoreConfig) => CoreConfig): string {
  switch (ev.kind) {
    case 'datagram-received':
      return `{"kind":"datagram-received","now":${ev.now},"socket":${ev.socket},"address":${JSON.stringify(ev.address)},"port":${ev.port},"bytes":"${toHex(ev.bytes)}"}`;
    case 'ticked':
      return `{"kind":"ticked","now":${ev.now}}`;
    case 'shutdown-requested':
      return `{"kind":"shutdown-requested","now":${ev.now}}`;
    case 'backlog-changed':
      return `{"kind":"backlog-changed","now":${ev.now},"behind":${ev.behind}}`;
    case 'started':
      return JSON.stringify({ kind: 'started', now: ev.now, seed: ev.seed, config: redact(ev.config), ...(ev.wallMs !== undefined ? { wallMs: ev.wallMs } : {}) });
    case 'config-applied':
      return JSON.stringify({ kind: 'config-applied', now: ev.now, config: redact(ev.config) });
    case 'prompts-loaded': {
      const hexRecord = (r: Record<string, Uint8Array>): Record<string, string> => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, toHex(v)]));
      return JSON.stringify({ kind: 'prompts-loaded', now: ev.now, packs: ev.packs.map((p) => ({ lang: p.lang, words: hexRecord(p.words), ondemand: hexRecord(p.ondemand) })) });
    }
    case 'ids-loaded':
      return JSON.stringify({ kind: 'ids-loaded', now: ev.now, source: ev.source, ids: idsToHex(ev.ids) });
    case 'operator-command':
      return JSON.stringify({ kind: 'operator-command', now: ev.now, id: ev.id, who: ev.who, command: ev.command });
  }
}

/** Known IDs as hex, 8 digits (big-endian) per ID. */
function idsToHex(ids: Uint32Array): string {
  const b = new Uint8Array(ids.length * 4);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < ids.length; i++) dv.setUint32(i * 4, ids[i]!);
  return toHex(b);
}

function idsFromHex(hex: string): Uint32Array | null {
  const b = fromHex(hex);
  if (b === null || b.length % 4 !== 0) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ids = new Uint32Array(b.length / 4);
  for (let i = 0; i < ids.length; i++) ids[i] = dv.getUint32(i * 4);
  for (let i = 1; i < ids.length; i++) if (ids[i]! <= ids[i - 1]!) return null;
  return ids;
}

/** A `{name: hex}` object back to bytes, or null if any value is not hex. */
function bytesRecord(v: unknown): Record<string, Uint8Array> | null {
  if (typeof v !== 'object' || v === null) return null;
  const out: Record<string, Uint8Array> = {};
  for (const [k, x] of Object.entries(v)) {
    const b = typeof x === 'string' ? fromHex(x) : null;
    if (b === null) return null;
    out[k] = b;
  }
  return out;
}

export type DecodeResult = { ok: true; event: CoreEvent } | { ok: false; error: string };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** Parse one event line. Secrets stay redacted; the replayer restores them. */
export function decodeEvent(line: string): DecodeResult {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  if (typeof v !== 'object' || v === null) return { ok: false, error: 'not an object' };
  const o = v as Record<string, unknown>;
  if (!isInt(o['now'])) return { ok: false, error: 'missing integer "now"' };
  const now = o['now'];
  switch (o['kind']) {
    case 'datagram-received': {
      const bytes = typeof o['bytes'] === 'string' ? fromHex(o['bytes']) : null;
      if (!bytes || !isInt(o['socket']) || !isInt(o['port']) || typeof o['address'] !== 'string')
        return { ok: false, error: 'bad datagram-received fields' };
      return { ok: true, event: { kind: 'datagram-received', now, socket: o['socket'], address: o['address'], port: o['port'], bytes } };
    }
    case 'ticked':
      return { ok: true, event: { kind: 'ticked', now } };
    case 'shutdown-requested':
      return { ok: true, event: { kind: 'shutdown-requested', now } };
    case 'backlog-changed':
      if (typeof o['behind'] !== 'boolean') return { ok: false, error: 'bad backlog-changed fields' };
      return { ok: true, event: { kind: 'backlog-changed', now, behind: o['behind'] } };
    case 'started':
      if (!isInt(o['seed']) || typeof o['config'] !== 'object') return { ok: false, error: 'bad started fields' };
      return { ok: true, event: { kind: 'started', now, seed: o['seed'], config: o['config'] as CoreConfig, ...(isInt(o['wallMs']) ? { wallMs: o['wallMs'] } : {}) } };
    case 'config-applied':
      if (typeof o['config'] !== 'object') return { ok: false, error: 'bad config-applied fields' };
      return { ok: true, event: { kind: 'config-applied', now, config: o['config'] as CoreConfig } };
    case 'prompts-loaded': {
      const packs: PromptPackData[] = [];
      for (const p of Array.isArray(o['packs']) ? (o['packs'] as unknown[]) : []) {
        const q = p as Record<string, unknown>;
        const words = bytesRecord(q['words']);
        const ondemand = bytesRecord(q['ondemand']);
        if (typeof q['lang'] !== 'string' || words === null || ondemand === null) return { ok: false, error: 'bad prompts-loaded pack' };
        packs.push({ lang: q['lang'], words, ondemand });
      }
      if (!Array.isArray(o['packs'])) return { ok: false, error: 'bad prompts-loaded fields' };
      return { ok: true, event: { kind: 'prompts-loaded', now, packs } };
    }
    case 'ids-loaded': {
      const ids = typeof o['ids'] === 'string' ? idsFromHex(o['ids']) : null;
      if (ids === null || typeof o['source'] !== 'string') return { ok: false, error: 'bad ids-loaded fields (ids must be sorted 8-digit hex IDs)' };
      return { ok: true, event: { kind: 'ids-loaded', now, source: o['source'], ids } };
    }
    case 'operator-command': {
      const command = decodeCommand(o['command']);
      if (!isInt(o['id']) || typeof o['who'] !== 'string' || command === null) return { ok: false, error: 'bad operator-command fields' };
      return { ok: true, event: { kind: 'operator-command', now, id: o['id'], who: o['who'], command } };
    }
    default:
      return { ok: false, error: `unknown kind ${JSON.stringify(o['kind'])}` };
  }
}

/** An operator command as written by encodeEvent, or null when a field is missing or has the wrong type. */
function decodeCommand(v: unknown): OperatorCommand | null {
  if (typeof v !== 'object' || v === null) return null;
  const c = v as Record<string, unknown>;
  const peer = c['peer'];
  if (!isInt(peer)) return null;
  switch (c['op']) {
    case 'disconnect':
      return { op: 'disconnect', peer };
    case 'block':
      return isInt(c['seconds']) ? { op: 'block', peer, seconds: c['seconds'] } : null;
    case 'options':
      return typeof c['options'] === 'string' ? { op: 'options', peer, options: c['options'] } : null;
    case 'dial-drop':
      return c['slot'] === 1 || c['slot'] === 2 ? { op: 'dial-drop', peer, slot: c['slot'] } : null;
    default:
      return null;
  }
}

export function parseHeader(line: string): LogHeader | null {
  try {
    const v = JSON.parse(line) as Partial<LogHeader>;
    if (v && v.format === LOG_FORMAT && typeof v.version === 'number') return v as LogHeader;
  } catch {
    /* fall through */
  }
  return null;
}
