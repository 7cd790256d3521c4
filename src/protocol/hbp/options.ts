// The RPTO options string (spec §4.4): `KEY=value;KEY=value`. This module only tokenises and reads
// the static talkgroup lists; what the keys mean to routing is decided in the core.

export interface OptionField {
  key: string;
  value: string;
}

export interface OptionsParse {
  fields: OptionField[];
  /** Elements that are not `key=value` with exactly one '='. */
  malformed: string[];
}

/** Normalise as FreeDMR does (drop NULs, non-ASCII and quotes), split on ';', keep `k=v` elements. */
export function tokenizeOptions(raw: Uint8Array | string): OptionsParse {
  let s = '';
  if (typeof raw === 'string') {
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c > 0 && c < 0x80 && c !== 0x22 && c !== 0x27) s += raw[i];
    }
  } else {
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i]!;
      if (c > 0 && c < 0x80 && c !== 0x22 && c !== 0x27) s += String.fromCharCode(c);
    }
  }
  const fields: OptionField[] = [];
  const malformed: string[] = [];
  for (const part of s.split(';')) {
    const el = part.trim();
    if (el === '') continue;
    const eq = el.indexOf('=');
    if (eq <= 0 || el.indexOf('=', eq + 1) !== -1) {
      malformed.push(el);
      continue;
    }
    fields.push({ key: el.slice(0, eq).trim(), value: el.slice(eq + 1).trim() });
  }
  return { fields, malformed };
}

export const MAX_TG = 0xffffff;

export interface TgList {
  tgs: number[];
  /** Tokens that are not a decimal talkgroup in 1..16777214. */
  rejected: string[];
}

/** Parse a comma list of decimal talkgroups; bad tokens are skipped and reported, duplicates dropped. */
export function parseTgList(value: string, limit: number): TgList {
  const tgs: number[] = [];
  const rejected: string[] = [];
  for (const raw of value.split(',')) {
    const t = raw.trim();
    if (t === '') continue;
    if (!/^[0-9]{1,8}$/.test(t)) {
      rejected.push(t);
      continue;
    }
    const n = Number(t);
    if (n < 1 || n >= MAX_TG) {
      rejected.push(t);
      continue;
    }
    if (tgs.includes(n)) continue;
    if (tgs.length >= limit) {
      rejected.push(t);
      continue;
    }
    tgs.push(n);
  }
  return { tgs, rejected };
}
