// Pieces shared by the FreeDMR importer's files: the report of what did not carry over, typed
// access to one INI section (which remembers the keys it has dealt with), and FreeDMR's ACL
// grammar.

import { isIP } from 'node:net';
import { ImportError, type IniSection } from './ini.js';

/** Why a FreeDMR setting has no line in the dmrhub file:
 *  - `not needed`: dmrhub does the same without a setting (or the value changes nothing);
 *  - `not mapped`: dmrhub cannot do this; the behaviour is lost;
 *  - `not supported yet`: dmrhub plans it but does not have it;
 *  - `ignored`: FreeDMR itself does not use it. */
export type Verdict = 'not needed' | 'not mapped' | 'not supported yet' | 'ignored' | 'changed';

export class Report {
  readonly lines: string[] = [];

  add(where: string, verdict: Verdict, reason: string): void {
    this.lines.push(`${where}: ${verdict}: ${reason}`);
  }
}

const TRUE = new Set(['1', 'yes', 'true', 'on']);
const FALSE = new Set(['0', 'no', 'false', 'off']);

/** One INI section, read key by key. Every key read or reported is marked handled; `rest` reports
 *  the keys nobody asked for. */
export class Sec {
  private readonly handled = new Set<string>();

  constructor(
    readonly section: IniSection,
    readonly file: string,
    readonly report: Report,
  ) {}

  get name(): string {
    return this.section.name;
  }

  has(key: string): boolean {
    return this.section.entries.has(key);
  }

  /** The raw text, or undefined when the key is absent. Marks the key handled. */
  raw(key: string): string | undefined {
    this.handled.add(key);
    return this.section.entries.get(key)?.value;
  }

  str(key: string, fallback: string): string {
    return this.raw(key) ?? fallback;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined) return fallback;
    const t = v.trim().toLowerCase();
    if (TRUE.has(t)) return true;
    if (FALSE.has(t)) return false;
    this.fail(key, `expected True or False (or yes/no, on/off, 1/0), got "${v}"`);
  }

  int(key: string, fallback: number): number {
    const v = this.raw(key);
    if (v === undefined || (v.trim() === '' && Number.isNaN(fallback))) return fallback;
    const t = v.trim();
    if (!/^[-+]?\d+(_\d+)*$/.test(t)) this.fail(key, `expected a whole number, got "${v}"`);
    return Number(t.replace(/_/g, ''));
  }

  /** A comma list of whole numbers ("" = none; empty items are skipped). */
  ints(key: string): number[] {
    const v = this.raw(key);
    if (v === undefined) return [];
    const out: number[] = [];
    for (const item of v.split(',')) {
      const t = item.trim();
      if (t === '') continue;
      if (!/^\d+$/.test(t)) this.fail(key, `expected talkgroup numbers separated by commas, got "${item.trim()}"`);
      out.push(Number(t));
    }
    return out;
  }

  line(key: string): number | null {
    return this.section.entries.get(key)?.line ?? null;
  }

  /** Reports a key if the file has it (and marks it handled either way). */
  note(key: string, verdict: Verdict, reason: string): void {
    this.handled.add(key);
    if (this.has(key)) this.report.add(`[${this.name}] ${this.section.entries.get(key)!.key}`, verdict, reason);
  }

  /** Reports every key not yet handled with the same verdict and reason. */
  rest(verdict: Verdict, reason: string): void {
    for (const k of this.section.entries.keys()) if (!this.handled.has(k)) this.note(k, verdict, reason);
  }

  /** Marks every key handled without a line each (the caller reported the section as a whole). */
  coverAll(): void {
    for (const k of this.section.entries.keys()) this.handled.add(k);
  }

  fail(key: string, message: string): never {
    const e = this.section.entries.get(key);
    throw new ImportError(this.file, e?.line ?? this.section.line, `[${this.name}] ${e?.key ?? key}: ${message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// ACLs: "PERMIT:..." or "DENY:..." with single IDs, ranges "a-b" and ALL; "" is PERMIT:ALL.

export interface Acl {
  readonly permit: boolean;
  readonly all: boolean;
  readonly ranges: readonly (readonly [number, number])[];
  readonly text: string;
}

export function parseAcl(sec: Sec, key: string): Acl | null {
  const text = sec.raw(key);
  if (text === undefined) return null;
  const t = text.trim();
  if (t === '') return { permit: true, all: true, ranges: [], text: t };
  const colon = t.indexOf(':');
  if (colon < 0) sec.fail(key, `expected "PERMIT:…" or "DENY:…", got "${t}"`);
  const permit = t.slice(0, colon).trim().toUpperCase() === 'PERMIT';
  const ranges: [number, number][] = [];
  let all = false;
  for (const item of t.slice(colon + 1).split(',')) {
    const entry = item.trim();
    if (entry === '') continue;
    if (entry.toUpperCase() === 'ALL') {
      all = true;
      break;
    }
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(entry);
    if (!m) sec.fail(key, `expected IDs, ranges "first-last" or ALL after the colon, got "${entry}"`);
    ranges.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }
  return { permit, all, ranges, text: t };
}

/** True when the ACL lets every ID through. */
export const permitsAll = (a: Acl): boolean => (a.permit ? a.all : !a.all && a.ranges.length === 0);

/** The IDs a whitelist (PERMIT without ALL) names, if there are at most `max`; else null. */
export function whitelist(a: Acl, max: number): number[] | null {
  if (!a.permit || a.all) return null;
  const out: number[] = [];
  for (const [lo, hi] of a.ranges) {
    if (hi < lo || out.length + (hi - lo + 1) > max) return null;
    for (let n = lo; n <= hi; n++) out.push(n);
  }
  return out;
}

/** Reports one ACL key: nothing lost when it lets everything through or is not applied. */
export function reportAcl(sec: Sec, key: string, applied: boolean, why = ''): Acl | null {
  const acl = parseAcl(sec, key);
  if (acl === null) return null;
  const shown = acl.text === '' ? '(empty)' : acl.text;
  if (permitsAll(acl)) sec.note(key, 'not needed', `${shown} lets everything through, which is what dmrhub does without a list`);
  else if (!applied) sec.note(key, 'not needed', `${shown} was not applied by FreeDMR (USE_ACL is off${why})`);
  else sec.note(key, 'not mapped', `the importer does not write access lists yet, so ${shown} is not enforced${why}; dmrhub reads the same grammar in [acl] and a link's sub_acl and tgid_acl`);
  return acl;
}

/** A valid link or server name for dmrhub, made from a FreeDMR section name. */
export const safeName = (name: string, max: number): string => name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, max) || 'link';

export const isIpLiteral = (s: string): boolean => isIP(s) !== 0;
