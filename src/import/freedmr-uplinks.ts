// FreeDMR PEER and XLXPEER systems (FreeDMR logs in to another master as a HomeBrew peer) →
// dmrhub [[uplinks]]. rules.py rows naming such a system become the uplink's talkgroups.

import { isIpLiteral, reportAcl, safeName, type Report, type Sec } from './common.js';
import { TomlTable, type TomlDoc } from './toml-out.js';

export interface UplinkDraft {
  readonly system: string;
  readonly mode: 'PEER' | 'XLXPEER';
  readonly table: TomlTable;
  /** Static talkgroups per slot that rules.py rows put on this system. */
  readonly rulesTalkgroups: { 1: number[]; 2: number[] };
}

export interface UplinkContext {
  readonly doc: TomlDoc;
  readonly report: Report;
  /** Uplink names already given out. */
  readonly taken: Set<string>;
  /** [GLOBAL], whose PING_TIME and MAX_MISSED FreeDMR's peers used too. */
  readonly global: Sec | null;
}

/** The RPTC text fields of MMDVMHost's login, with dmrhub's key and the width on the wire. */
const TEXT_FIELDS = [
  ['LOCATION', 'location', 20],
  ['DESCRIPTION', 'description', 19],
  ['URL', 'url', 124],
  ['SOFTWARE_ID', 'software_id', 40],
  ['PACKAGE_ID', 'package_id', 40],
] as const;

/** The RPTC number fields: FreeDMR key, dmrhub key, range. */
const NUMBER_FIELDS = [
  ['RX_FREQ', 'rx_freq', 0, 999_999_999],
  ['TX_FREQ', 'tx_freq', 0, 999_999_999],
  ['TX_POWER', 'tx_power', 0, 99],
  ['COLORCODE', 'color_code', 0, 15],
  ['HEIGHT', 'height', 0, 999],
  ['SLOTS', 'slots', 0, 4],
] as const;

/** Maps one PEER or XLXPEER system, or reports why it cannot be an uplink. */
export function mapUplink(p: Sec, mode: 'PEER' | 'XLXPEER', ctx: UplinkContext): UplinkDraft | null {
  const { report } = ctx;
  const where = `[${p.name}]`;
  const at = (key: string): string => `[${p.name}] ${p.section.entries.get(key)?.key ?? key}`;
  const master = (p.raw('MASTER_IP') ?? '').trim();
  const masterPort = p.int('MASTER_PORT', 62031);
  if (p.name.toUpperCase() === 'ECHO') {
    report.add(where, 'not needed', `MODE ${mode} to an echo server at ${master}:${masterPort}: dmrhub has its own echo on echo.talkgroup (9990)`);
    p.coverAll();
    return null;
  }
  const skip = (why: string): null => {
    report.add(where, 'not mapped', `${why}; this uplink is not written`);
    p.coverAll();
    return null;
  };
  if (master === '') return skip('MASTER_IP is empty: there is no master to log in to');
  const pass = p.str('PASSPHRASE', '');
  if (!/^[\x20-\x7e]{1,128}$/.test(pass)) return skip('PASSPHRASE: dmrhub wants 1..128 printable ASCII characters');
  const peerId = p.int('RADIO_ID', 0);
  if (peerId < 1 || peerId > 0xffff_ffff) return skip(`RADIO_ID ${peerId} is not a peer ID 1..4294967295`);
  const callsign = p.str('CALLSIGN', '').trim();
  if (!/^[\x20-\x7e]{1,}$/.test(callsign)) return skip('CALLSIGN is empty or not printable ASCII, and dmrhub sends one at login');
  if (masterPort < 1 || masterPort > 65535) p.fail('MASTER_PORT', `expected a UDP port 1..65535, got ${masterPort}`);

  const t = new TomlTable();
  let name = safeName(p.name, 32);
  for (let n = 2; ctx.taken.has(name); n++) name = `${safeName(p.name, 28)}-${n}`;
  ctx.taken.add(name);
  t.set('name', name, name === p.name ? `[${p.name}] MODE ${mode}` : `[${p.name}] MODE ${mode}, renamed to fit dmrhub's uplink names`);
  const enabled = p.bool('ENABLED', true);
  t.set('enabled', enabled, at('ENABLED'));

  // The master: dmrhub sends to an IP literal only (no DNS lookups).
  const v6 = master.includes(':');
  if (isIpLiteral(master)) t.set('address', master, at('MASTER_IP'));
  else {
    t.set('address', '0.0.0.0', `${at('MASTER_IP')} is the host name "${master}": put its IP address here`);
    t.set('enabled', false, `dmrhub needs the master's IP address (${at('ENABLED')} was ${enabled ? 'True' : 'False'})`);
    if (enabled) report.add(at('MASTER_IP'), 'changed', `"${master}" is a host name and an uplink takes an IP address literal only: written with enabled = false; put the master's address in address and enable it`);
  }
  t.set('port', masterPort, at('MASTER_PORT'));
  const ip = p.str('IP', '').trim();
  if (ip === '' || ip === '::' || ip === '0.0.0.0') {
    const any = v6 ? '::' : '0.0.0.0';
    t.set('local_address', any, ip === '' ? `[${p.name}] IP "" (every interface)` : at('IP'));
  } else if (isIpLiteral(ip) && ip.includes(':') === v6) t.set('local_address', ip, at('IP'));
  else {
    t.set('local_address', v6 ? '::' : '0.0.0.0', 'every interface');
    p.note('IP', 'not mapped', `"${ip}" is not an IP literal of the master's family; the uplink's socket takes every interface`);
  }
  const port = p.int('PORT', 0);
  if (port < 0 || port > 65535) p.fail('PORT', `expected a UDP port 0..65535, got ${port}`);
  t.set('local_port', port, at('PORT'));
  t.set('passphrase', pass, at('PASSPHRASE'));
  t.set('peer_id', peerId, at('RADIO_ID'));
  if (callsign.length > 8) report.add(at('CALLSIGN'), 'changed', `"${callsign}" is cut to its first 8 characters, as MMDVMHost's login field is`);
  t.set('callsign', callsign.slice(0, 8), at('CALLSIGN'));
  mapRptc(p, t, report);

  const options = p.str('OPTIONS', '').trim();
  if (mode === 'XLXPEER') p.note('OPTIONS', 'ignored', 'FreeDMR sends no options to an XLX master');
  else if (options === '') p.note('OPTIONS', 'not needed', 'empty: no RPTO is sent, as in FreeDMR');
  else if (/^[\x20-\x7e]{1,300}$/.test(options)) t.set('options', options, `${at('OPTIONS')} (sent as RPTO)`);
  else p.note('OPTIONS', 'not mapped', 'dmrhub sends 1..300 printable ASCII characters as options');
  if (p.has('LOOSE')) t.set('loose', p.bool('LOOSE', false), at('LOOSE'));
  if (mode === 'XLXPEER') {
    const module = p.int('XLXMODULE', 0);
    if (module >= 4001 && module <= 4026) t.set('xlx_module', module, at('XLXMODULE'));
    else p.note('XLXMODULE', 'not mapped', `${module} is not an XLX module 4001..4026 (A..Z): no module is linked after login`);
  }
  mapTiming(p, t, ctx);

  const useAcl = p.bool('USE_ACL', false);
  p.note('USE_ACL', 'not needed', 'it only switches SUB_ACL and TGID_TS1/TS2_ACL, reported on their own lines');
  reportAcl(p, 'SUB_ACL', useAcl);
  reportAcl(p, 'TGID_TS1_ACL', useAcl, '; an uplink carries only the talkgroups it lists (ts1_talkgroups)');
  reportAcl(p, 'TGID_TS2_ACL', useAcl, '; an uplink carries only the talkgroups it lists (ts2_talkgroups)');
  p.note('ANNOUNCEMENT_LANGUAGE', 'not needed', 'dmrhub takes no dial commands or private calls from a master, so it plays no prompts toward an uplink');
  p.note('EXPORT_AMBE', 'ignored', 'FreeDMR does not read it either');
  p.rest('ignored', `not a ${mode} setting of FreeDMR`);
  return { system: p.name, mode, table: t, rulesTalkgroups: { 1: [], 2: [] } };
}

function mapRptc(p: Sec, t: TomlTable, report: Report): void {
  const at = (key: string): string => `[${p.name}] ${p.section.entries.get(key)?.key ?? key}`;
  for (const [key, to, lo, hi] of NUMBER_FIELDS) {
    if (!p.has(key)) continue;
    const text = p.str(key, '').trim();
    const n = /^\d+$/.test(text) ? Number(text) : NaN;
    if (n >= lo && n <= hi) t.set(to, n, at(key));
    else p.note(key, 'not mapped', `"${text}" is not a whole number ${lo}..${hi}; ${to} keeps dmrhub's default`);
  }
  for (const [key, to, lo, hi] of [['LATITUDE', 'latitude', -90, 90], ['LONGITUDE', 'longitude', -180, 180]] as const) {
    if (!p.has(key)) continue;
    const text = p.str(key, '').trim();
    const n = /^[-+]?\d+(\.\d*)?$/.test(text) ? Number(text) : NaN;
    if (n >= lo && n <= hi) t.set(to, n, at(key));
    else p.note(key, 'not mapped', `"${text}" is not a number of degrees ${lo}..${hi}; ${to} stays 0`);
  }
  for (const [key, to, width] of TEXT_FIELDS) {
    if (!p.has(key)) continue;
    const text = p.str(key, '').trim();
    if (!/^[\x20-\x7e]*$/.test(text)) {
      p.note(key, 'not mapped', `not printable ASCII; ${to} keeps dmrhub's default`);
      continue;
    }
    if (text.length > width) report.add(at(key), 'changed', `cut to ${width} characters, the width of its login field (FreeDMR cut it too)`);
    t.set(to, text.slice(0, width), at(key));
  }
}

/** FreeDMR's peers pinged every GLOBAL PING_TIME and gave up after MAX_MISSED; the hang time is global in dmrhub. */
function mapTiming(p: Sec, t: TomlTable, ctx: UplinkContext): void {
  const g = ctx.global;
  const ping = g?.int('PING_TIME', 10) ?? 10;
  if (ping >= 1 && ping <= 86_400) t.set('ping_interval', ping, '[GLOBAL] PING_TIME, which FreeDMR\'s peers used too');
  const missed = g?.int('MAX_MISSED', 3) ?? 3;
  if (missed >= 1 && missed <= 100) t.set('max_missed_pongs', missed, '[GLOBAL] MAX_MISSED');
  if (!p.has('GROUP_HANGTIME')) return;
  const hang = p.int('GROUP_HANGTIME', 5);
  const global = ctx.doc.table('timers').get('group_hangtime') ?? 5;
  if (hang === global) p.note('GROUP_HANGTIME', 'not needed', `an uplink's slots hang for timers.group_hangtime, ${String(global)} s as well`);
  else p.note('GROUP_HANGTIME', 'not mapped', `${hang} s: dmrhub has one group hang time for every slot, timers.group_hangtime (${String(global)} s)`);
}

/** Sets an uplink's talkgroups once rules.py has been read, and moves a local port another socket has. */
export function finishUplink(d: UplinkDraft, ports: Set<number>, report: Report): void {
  const t = d.table;
  for (const slot of [1, 2] as const) {
    const tgs = [...new Set(d.rulesTalkgroups[slot])].sort((a, b) => a - b);
    if (tgs.length > 0) t.set(`ts${slot}_talkgroups`, tgs, `rules.py rows of [${d.system}] on TS${slot}`);
  }
  if (d.mode === 'XLXPEER') {
    if (t.get('ts1_talkgroups') === undefined) t.set('ts1_talkgroups', [], 'an XLX module uses TS2 only');
    if (t.get('ts2_talkgroups') === undefined) t.set('ts2_talkgroups', [9], 'the XLX module\'s traffic crosses as TG 9 on TS2');
  }
  const port = Number(t.get('local_port') ?? 0);
  if (port !== 0 && ports.has(port)) {
    t.set('local_port', 0, `any free port: [${d.system}] PORT ${port} is dmrhub's port for something else`);
    report.add(`[${d.system}] PORT`, 'changed', `${port} is already the port of dmrhub's [hbp], a link or another uplink: the uplink takes any free port (local_port = 0)`);
  } else if (port !== 0) ports.add(port);
}

/** A rules.py row naming a PEER or XLXPEER system: a static talkgroup of the uplink, or a report. */
export function mapUplinkRow(
  d: UplinkDraft,
  r: { ts: 1 | 2; tgid: number; active: boolean; toType: string; on: number[]; off: number[]; reset: number[] },
  dial: boolean,
  where: string,
  report: Report,
): void {
  const inBand = r.on.some((tg) => tg !== r.tgid) || r.off.length > 0 || r.reset.length > 0;
  if (dial && !(d.mode === 'XLXPEER' && r.tgid === 9)) report.add(where, 'not mapped', 'a reflector bridge; an uplink carries talkgroups by number (ts1_talkgroups, ts2_talkgroups)');
  else if (r.tgid < 1 || r.tgid > 0xff_fffe) report.add(where, 'not mapped', `${r.tgid} is not a talkgroup`);
  else if (!r.active || (r.toType !== 'NONE' && r.toType !== 'OFF'))
    report.add(where, 'not mapped', `${r.active ? 'active' : 'inactive'} ${r.toType} row: an uplink carries a fixed list of talkgroups, switched by nothing; add ${r.tgid} to ts${r.ts}_talkgroups to carry it always`);
  else {
    d.rulesTalkgroups[r.ts].push(r.tgid);
    if (inBand) report.add(where, 'not mapped', `the ON/OFF/RESET talkgroups (${[...r.on, ...r.off, ...r.reset].join(', ')}) that switch this row; it became a talkgroup the uplink always carries on TS${r.ts}`);
  }
}
