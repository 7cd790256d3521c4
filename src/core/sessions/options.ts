// A peer's RPTO options (spec §4.4), applied the moment they arrive (FreeDMR polls every 26 s).
//
// Vocabulary: TS1, TS2 (static talkgroup lists), TS1_1…TS1_9 and TS2_1…TS2_9 (joined into the
// lists), DIAL / StartRef (default reflector), TIMER / RelinkTime (user-activation and dial timer,
// minutes; 0 = no expiry), SINGLE (0/1), VOICE / IDENT (0/1 voice ident), LANG (prompt language),
// IDENTTG / VOICETG (talkgroup of the voice ident), KEY (the first options string with a key locks
// later changes to that key), UserLink (ignored). Keys are case-insensitive (`ts2=91;ts1=2350`
// works; FreeDMR ignores such keys), values are not.
//
// Each field is checked on its own: a malformed field or an unknown key is skipped and logged at
// info once per peer with the reason, the valid ones still apply, and TS1 and TS2 never affect each
// other. A key that is absent takes the server default (or the peer's credential's). Everything
// reverts to the defaults when the session ends.

import { parseTgList, readAscii, tokenizeOptions } from '../../protocol/index.js';
import type { CoreEnv } from '../effects.js';
import { setDefaultReflector } from '../dial/index.js';
import type { PeerOptions, Session } from '../model/index.js';
import { prohibited } from './policy.js';
import { NO_OPTIONS, sessionSubject } from './session.js';

/** TIMER=0 means "never expire": a user activation then lasts for the session. */
const MAX_TIMER_MINUTES = 100_000;

export interface OptionsResult {
  options: PeerOptions;
  rejected: string[];
  ignored: string[];
  key: string | null;
}

/** Parse an options string. Pure; never throws. */
export function parseOptions(raw: Uint8Array, limit: number): OptionsResult {
  const { fields, malformed } = tokenizeOptions(raw);
  const rejected: string[] = malformed.map((m) => `'${m}' is not key=value`);
  const ignored: string[] = [];
  const o: PeerOptions = { ...NO_OPTIONS, ts1: [], ts2: [] };
  let key: string | null = null;
  // A repeated TS1= / TS2= key replaces the earlier one (as in FreeDMR); TS1_1…TS1_9 add to it.
  const plain: Record<'TS1' | 'TS2', string> = { TS1: '', TS2: '' };
  const numbered: Record<'TS1' | 'TS2', string[]> = { TS1: [], TS2: [] };
  const bool = (k: string, v: string): boolean | null => {
    if (v === '0' || v === '1') return v === '1';
    rejected.push(`${k}: '${v}' is not 0 or 1`);
    return null;
  };
  const tg = (k: string, v: string): number | null => {
    if (/^[0-9]{1,8}$/.test(v) && Number(v) < 0xffffff) return Number(v);
    rejected.push(`${k}: '${v}' is not a talkgroup number`);
    return null;
  };
  for (const { key: given, value: v } of fields) {
    const k = canonicalKey(given);
    const slotList = /^(TS[12])(_[1-9])?$/.exec(k);
    if (slotList) {
      const slot = slotList[1] as 'TS1' | 'TS2';
      if (slotList[2] === undefined) plain[slot] = v;
      else numbered[slot].push(v);
      continue;
    }
    switch (k) {
      case 'DIAL':
      case 'StartRef': {
        const n = tg(k, v);
        if (n !== null) o.dial = n;
        break;
      }
      case 'TIMER':
      case 'RelinkTime':
        if (/^[0-9]{1,6}$/.test(v) && Number(v) <= MAX_TIMER_MINUTES) o.timerMs = Number(v) * 60_000;
        else rejected.push(`${k}: '${v}' is not a number of minutes 0..${MAX_TIMER_MINUTES}`);
        break;
      case 'SINGLE':
        o.single = bool(k, v);
        break;
      case 'VOICE':
      case 'IDENT':
        o.voice = bool(k, v);
        break;
      case 'LANG':
        if (/^[A-Za-z]{2}(_[A-Za-z]{2})?$|^CW$/.test(v)) o.lang = v;
        else rejected.push(`${k}: '${v}' is not a language code such as en_GB`);
        break;
      case 'IDENTTG':
      case 'VOICETG':
        o.identTg = tg(k, v);
        break;
      case 'KEY':
        if (v.length > 0 && v.length <= 64) key = v;
        else rejected.push(`KEY: must be 1..64 characters`);
        break;
      case 'UserLink':
        break;
      default:
        ignored.push(given);
    }
  }
  for (const slot of ['TS1', 'TS2'] as const) {
    const list = parseTgList([plain[slot], ...numbered[slot]].join(','), limit);
    for (const t of list.rejected) rejected.push(`${slot}: '${t}' is not a talkgroup 1..16777214 (or over the limit of ${limit})`);
    if (slot === 'TS1') o.ts1 = list.tgs;
    else o.ts2 = list.tgs;
  }
  return { options: o, rejected, ignored, key };
}

const NAMED: Record<string, string> = { STARTREF: 'StartRef', RELINKTIME: 'RelinkTime', USERLINK: 'UserLink' };

/** An option key in the spelling the parser knows, whatever case it was sent in. */
function canonicalKey(k: string): string {
  const upper = k.toUpperCase();
  return NAMED[upper] ?? upper;
}

/** The options text with the KEY value hidden: reports and logs must never carry the lock. */
export function maskKey(text: string): string {
  return text.replace(/(^|;)(\s*KEY\s*=)[^;]*/gi, '$1$2***');
}

/**
 * The static talkgroups (the peer's credential's, else the server's) and default reflector, for a
 * peer that sent no options (or may not).
 */
export function applyDefaults(env: CoreEnv, s: Session): void {
  const keep = (tgs: number[]): number[] => tgs.filter((t) => !prohibited(env.cfg, t));
  const c = s.credential;
  env.index.setStatic(s, 1, keep(c?.ts1 ?? env.cfg.routing.ts1Static), 'default');
  env.index.setStatic(s, 2, keep(c?.ts2 ?? env.cfg.routing.ts2Static), 'default');
  setDefaultReflector(env, s, env.cfg.routing.defaultReflector);
}

export function applyOptions(env: CoreEnv, s: Session, raw: Uint8Array, now: number): void {
  if (s.credential !== null && !s.credential.options) {
    env.counters.add('options.not-allowed');
    if (env.logOnce.first(`peer:${s.peerId}`, 'options.not-allowed'))
      env.fx.log({ code: 'options.rejected', level: 'info', peer: s.peerId, reason: 'not-allowed', detail: `options ignored: credential ${s.credential.name} does not allow them` });
    return;
  }
  const text = readAscii(raw, 0, raw.length);
  const parsed = parseOptions(raw, env.cfg.routing.maxStaticPerSlot);
  if (s.optionsKey !== null && parsed.key !== s.optionsKey) {
    env.counters.add('options.key-mismatch');
    if (env.logOnce.first(sessionSubject(s), 'options.key-mismatch')) {
      env.fx.log({ code: 'options.locked', level: 'warn', peer: s.peerId, detail: 'options ignored: they do not carry the KEY this session was locked with' });
    }
    return;
  }
  if (s.optionsKey === null && parsed.key !== null) s.optionsKey = parsed.key;
  const o = parsed.options;
  const rejected = parsed.rejected;
  const allowed = (slot: string) => (t: number): boolean => {
    if (!prohibited(env.cfg, t)) return true;
    rejected.push(`${slot}: talkgroup ${t} is prohibited on this server`);
    return false;
  };
  o.ts1 = o.ts1.filter(allowed('TS1'));
  o.ts2 = o.ts2.filter(allowed('TS2'));
  if (o.dial !== 0 && prohibited(env.cfg, o.dial)) {
    rejected.push(`DIAL: talkgroup ${o.dial} is prohibited on this server`);
    o.dial = 0;
  }
  s.optionsText = text;
  env.sessions.changed(s);
  s.options = o;
  env.index.setStatic(s, 1, o.ts1, 'options');
  env.index.setStatic(s, 2, o.ts2, 'options');
  setDefaultReflector(env, s, o.dial !== 0 ? o.dial : env.cfg.routing.defaultReflector);
  env.fx.log({
    code: 'peer.options',
    level: 'info',
    peer: s.peerId,
    detail: `TS1=${o.ts1.join(',')} TS2=${o.ts2.join(',')}${o.dial ? ` DIAL=${o.dial}` : ''}${o.timerMs !== null ? ` TIMER=${o.timerMs / 60_000}` : ''}${o.single !== null ? ` SINGLE=${o.single ? 1 : 0}` : ''}`,
  });
  for (const k of parsed.ignored) rejected.push(`${k}: not an option this server knows`);
  const shown = rejected.map((r) => (/KEY/i.test(r) ? maskKey(r.replace(/'[^']*'/g, "'***'")) : r));
  env.fx.report({ report: 'peer-options', now, peer: s.peerId, options: maskKey(text), ts1: [...o.ts1], ts2: [...o.ts2], rejected: shown });
  if (rejected.length > 0) {
    env.counters.add('options.rejected-field', rejected.length);
    // Once per peer (not per session: a hotspot that logs in again says the same again).
    if (env.logOnce.first(`peer:${s.peerId}`, 'options.rejected')) {
      env.fx.log({ code: 'options.rejected', level: 'info', peer: s.peerId, reason: 'fields', detail: shown.join('; ') });
    }
  }
}
