// FreeDMR rules.py (its BRIDGES dict) → static talkgroups of [routing], talkgroups of [[links]] and
// [[uplinks]], and a report of every row dmrhub has no equivalent for. Nothing in the file is run: it is read
// as a Python literal (./pyliteral.ts).

import type { Report } from './common.js';
import type { LinkDraft } from './freedmr-links.js';
import { mapUplinkRow, type UplinkDraft } from './freedmr-uplinks.js';
import { ImportError } from './ini.js';
import { dictGet, isDict, parsePythonAssignments, type PyDict, type PyValue } from './pyliteral.js';
import type { TomlDoc } from './toml-out.js';

export interface RulesContext {
  readonly doc: TomlDoc;
  readonly report: Report;
  /** The MASTER that became [hbp], and how many systems FreeDMR generated from it. */
  readonly master: { name: string; generator: number } | null;
  readonly links: ReadonlyMap<string, LinkDraft>;
  readonly uplinks: ReadonlyMap<string, UplinkDraft>;
  /** Every system of the FreeDMR file by name, with its MODE and whether it is enabled. */
  readonly systems: ReadonlyMap<string, { mode: string; enabled: boolean }>;
}

interface Row {
  system: string;
  ts: number;
  tgid: number;
  active: boolean;
  toType: string;
  on: number[];
  off: number[];
  reset: number[];
  line: number;
}

export function mapRules(text: string, file: string, ctx: RulesContext): void {
  const assignments = parsePythonAssignments(text, file);
  const bridges = assignments.filter((a) => a.name === 'BRIDGES').pop();
  for (const a of assignments)
    if (a.name !== 'BRIDGES') ctx.report.add(`${file} ${a.name} (line ${a.line})`, 'ignored', 'FreeDMR reads only BRIDGES from rules.py');
  if (!bridges) throw new ImportError(file, null, 'no "BRIDGES = {…}" assignment found (an empty rules file is "BRIDGES = {}")');
  if (!isDict(bridges.value)) throw new ImportError(file, bridges.line, 'BRIDGES: expected a dict of bridge name → list of rows');
  for (const entry of bridges.value.entries) {
    if (typeof entry.key !== 'string' && typeof entry.key !== 'number') throw new ImportError(file, entry.line, 'BRIDGES: a bridge name must be a string');
    const name = String(entry.key);
    if (!Array.isArray(entry.value)) throw new ImportError(file, entry.line, `BRIDGES['${name}']: expected a list of rows`);
    const rows = entry.value.map((r) => readRow(r, name, entry.line, file));
    mapBridge(name, rows, file, ctx);
  }
}

function readRow(v: PyValue, bridge: string, line: number, file: string): Row {
  const where = `BRIDGES['${bridge}']`;
  if (!isDict(v)) throw new ImportError(file, line, `${where}: expected each row to be a dict`);
  const d: PyDict = v;
  const at = d.entries[0]?.line ?? line;
  const num = (key: string, required: boolean, fallback = 0): number => {
    const x = dictGet(d, key);
    if (x === undefined && !required) return fallback;
    if (typeof x !== 'number' || !Number.isInteger(x)) throw new ImportError(file, at, `${where}: ${key} must be a whole number${x === undefined ? ' (it is missing)' : ''}`);
    return x;
  };
  const list = (key: string): number[] => {
    const x = dictGet(d, key) ?? [];
    if (!Array.isArray(x) || x.some((n) => typeof n !== 'number')) throw new ImportError(file, at, `${where}: ${key} must be a list of talkgroup numbers`);
    return x as number[];
  };
  const system = dictGet(d, 'SYSTEM');
  if (typeof system !== 'string') throw new ImportError(file, at, `${where}: SYSTEM must be a string naming a system`);
  const ts = num('TS', true);
  if (ts !== 1 && ts !== 2) throw new ImportError(file, at, `${where}: TS must be 1 or 2, got ${ts}`);
  const toType = dictGet(d, 'TO_TYPE') ?? 'NONE';
  return {
    system,
    ts,
    tgid: num('TGID', true),
    active: dictGet(d, 'ACTIVE') === true,
    toType: typeof toType === 'string' ? toType.toUpperCase() : 'NONE',
    on: list('ON'),
    off: list('OFF'),
    reset: list('RESET'),
    line: at,
  };
}

function mapBridge(name: string, rows: Row[], file: string, ctx: RulesContext): void {
  const { report } = ctx;
  const here = (r: Row): string => `${file} BRIDGES['${name}'] SYSTEM ${r.system} (line ${r.line})`;
  const dial = name.startsWith('#');
  // FreeDMR carries a bridge's call to every active row, each on its own TGID. dmrhub keeps a
  // talkgroup's number everywhere, so a bridge that renames one cannot be taken over.
  const tgids = new Set(rows.filter((r) => !(dial && r.tgid === 9)).map((r) => r.tgid));
  if (tgids.size > 1) {
    report.add(`${file} BRIDGES['${name}']`, 'not mapped', `its rows use different talkgroups (${[...tgids].join(', ')}); dmrhub carries a talkgroup under one number everywhere, so none of its rows is taken over`);
    return;
  }
  for (const r of rows) {
    const sys = ctx.systems.get(r.system);
    if (!sys) {
      report.add(here(r), 'not mapped', 'no such system in the config file (FreeDMR refuses to start with this row)');
      continue;
    }
    if (!sys.enabled) {
      report.add(here(r), 'not needed', 'that system is not enabled');
      continue;
    }
    const link = ctx.links.get(r.system);
    if (sys.mode === 'OPENBRIDGE') {
      if (!link) report.add(here(r), 'not mapped', 'that OPENBRIDGE system could not become a link (see its own line)');
      else if (dial && r.tgid === 9) report.add(here(r), 'not mapped', 'TG 9 on a link carries nothing (FreeDMR puts reflectors on links under their own number)');
      else if (r.ts !== 1) report.add(here(r), 'not needed', 'OpenBridge carries group calls on TS1 only; FreeDMR drops TS2 too');
      else if (!link.autoJoin) link.rulesTalkgroups.push(dial ? Number(name.slice(1)) : r.tgid);
      else report.add(here(r), 'not needed', 'a system named OBP… carries every talkgroup that is not local, and so does a dmrhub link');
      continue;
    }
    if (sys.mode === 'PEER' || sys.mode === 'XLXPEER') {
      const uplink = ctx.uplinks.get(r.system);
      if (uplink) mapUplinkRow(uplink, { ...r, ts: r.ts === 1 ? 1 : 2 }, dial, here(r), report);
      else if (r.system.toUpperCase() === 'ECHO') report.add(here(r), 'not needed', 'dmrhub has its own echo (echo.talkgroup)');
      else report.add(here(r), 'not mapped', `that ${sys.mode} system could not become an uplink (see its own line)`);
      continue;
    }
    if (!ctx.master || r.system !== ctx.master.name) {
      report.add(here(r), 'not mapped', `${r.system} is a MASTER that did not become [hbp]`);
      continue;
    }
    if (ctx.master.generator > 1) {
      report.add(here(r), 'not mapped', `GENERATOR ${ctx.master.generator}: FreeDMR applies rules.py rows to the template system only, never to the generated ones, so this row had no effect; put the talkgroup in routing.ts${r.ts}_static if you want it`);
      continue;
    }
    mapMasterRow(name, r, here(r), ctx);
  }
}

function mapMasterRow(name: string, r: Row, where: string, ctx: RulesContext): void {
  const routing = ctx.doc.table('routing');
  const inBand = r.on.some((tg) => tg !== r.tgid) || r.off.length > 0 || r.reset.length > 0;
  if (name.startsWith('#')) {
    const reflector = Number(name.slice(1));
    if (!Number.isInteger(reflector) || reflector < 1 || reflector > 999_999) ctx.report.add(where, 'not mapped', `"${name}" is not a reflector number`);
    else if (r.active && r.toType !== 'ON' && r.ts === 2) {
      const current = routing.get('default_reflector');
      if (current === undefined || current === 0 || current === reflector) routing.set('default_reflector', reflector, `${where.split(' SYSTEM')[0]}`);
      else ctx.report.add(where, 'not mapped', `the default reflector is already ${String(current)}; dmrhub links one reflector at login`);
    } else ctx.report.add(where, 'not needed', `a private call to ${reflector} links it, as in FreeDMR`);
    return;
  }
  if (r.tgid < 1 || r.tgid > 0xff_fffe) {
    ctx.report.add(where, 'not mapped', `${r.tgid} is not a talkgroup`);
    return;
  }
  if (r.active && (r.toType === 'NONE' || r.toType === 'OFF')) {
    const key = r.ts === 1 ? 'ts1_static' : 'ts2_static';
    const list = [...((routing.get(key) as number[] | undefined) ?? [])];
    if (!list.includes(r.tgid)) list.push(r.tgid);
    routing.set(key, list, 'rules.py rows of the [hbp] system, and the MASTER statics');
    if (inBand) ctx.report.add(where, 'not mapped', `the ON/OFF/RESET talkgroups (${[...r.on, ...r.off, ...r.reset].join(', ')}) that switch this row; it became a static talkgroup of TS${r.ts}`);
    return;
  }
  if (!r.active && r.toType === 'ON' && !inBand) ctx.report.add(where, 'not needed', `keying TG ${r.tgid} on TS${r.ts} joins it (routing.user_activation), as this row did`);
  else ctx.report.add(where, 'not mapped', `${r.active ? 'active' : 'inactive'} ${r.toType} row with ON/OFF/RESET ${JSON.stringify([r.on, r.off, r.reset])}: dmrhub has no in-band switching of talkgroups yet`);
}
