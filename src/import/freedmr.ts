// FreeDMR config (freedmr.cfg, and optionally rules.py) → a dmrhub TOML config, plus a report of
// every FreeDMR setting that has no place in it and why. See README "Moving from FreeDMR".

import { Report, reportAcl, Sec } from './common.js';
import { finishLink, mapLink, type LinkDraft } from './freedmr-links.js';
import { mapMaster, reportOtherMaster } from './freedmr-master.js';
import { mapRules } from './freedmr-rules.js';
import { finishUplink, mapUplink, type UplinkDraft } from './freedmr-uplinks.js';
import { parseIni } from './ini.js';
import { TomlDoc } from './toml-out.js';

export interface ImportResult {
  /** The dmrhub config file. */
  readonly toml: string;
  /** One line per FreeDMR setting not carried over, "[SECTION] KEY: verdict: reason". */
  readonly report: readonly string[];
}

const RESERVED = new Set(['GLOBAL', 'REPORTS', 'LOGGER', 'ALIASES', 'ALLSTAR', 'PROXY', 'MYSQL', 'SELF SERVICE']);
/** FreeDMR's languages.py, loaded when ANNOUNCEMENT_LANGUAGES is empty. */
const ALL_LANGUAGES = ['en_GB', 'en_US', 'es_ES', 'fr_FR', 'de_DE', 'dk_DK', 'it_IT', 'no_NO', 'pl_PL', 'se_SE', 'pt_PT', 'cy_GB', 'el_GR', 'th_TH', 'CW'];
const LOG_LEVELS: Record<string, string> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARNING: 'warn', WARN: 'warn', ERROR: 'error', CRITICAL: 'fatal' };

export function importFreeDmr(cfgText: string, cfgFile: string, rules?: { text: string; file: string }): ImportResult {
  const ini = parseIni(cfgText, cfgFile);
  const report = new Report();
  const doc = new TomlDoc();
  const secs = new Map(ini.sections.map((s) => [s.name, new Sec(s, cfgFile, report)]));
  const reserved = (name: string): Sec | null => secs.get(name) ?? null;
  const global = reserved('GLOBAL');

  // Systems: every section that is not reserved.
  const systems = new Map<string, { mode: string; enabled: boolean; sec: Sec }>();
  for (const [name, sec] of secs) {
    if (RESERVED.has(name)) continue;
    const mode = (sec.raw('MODE') ?? '').trim().toUpperCase();
    const enabled = sec.bool('ENABLED', true);
    systems.set(name, { mode, enabled, sec });
  }
  const masters = [...systems.values()].filter((s) => s.mode === 'MASTER' && s.enabled);
  const chosen = (masters.find((s) => s.sec.name !== 'D-APRS') ?? masters[0])?.sec ?? null;

  const allowNull = global?.bool('ALLOW_NULL_PASSPHRASE', true) ?? true;
  if (chosen) mapMaster(chosen, { doc, report, proxy: reserved('PROXY'), allowNullPassphrase: allowNull });
  else report.add(`${cfgFile}`, 'changed', 'no enabled MASTER system: [hbp] keeps dmrhub\'s defaults (127.0.0.1:62031, passphrase "passw0rd")');
  const generator = chosen ? Math.max(1, chosen.int('GENERATOR', 100)) : 1;

  const links = new Map<string, LinkDraft>();
  const linkNames = new Set<string>();
  const uplinks = new Map<string, UplinkDraft>();
  const uplinkCtx = { doc, report, taken: new Set<string>(), global };
  for (const [name, s] of systems) {
    if (s.sec === chosen) continue;
    // OPENBRIDGE, PEER and XLXPEER systems are written even when disabled, with enabled = false.
    if (!s.enabled && !['OPENBRIDGE', 'PEER', 'XLXPEER'].includes(s.mode)) {
      report.add(`[${name}]`, 'not needed', `MODE ${s.mode || '(none)'} with ENABLED False: FreeDMR does not load it`);
      s.sec.coverAll();
    } else if (s.mode === 'MASTER') reportOtherMaster(s.sec, chosen!, report);
    else if (s.mode === 'OPENBRIDGE') {
      const d = mapLink(s.sec, report, linkNames);
      if (d) links.set(name, d);
    } else if (s.mode === 'PEER' || s.mode === 'XLXPEER') {
      const d = mapUplink(s.sec, s.mode, uplinkCtx);
      if (d) uplinks.set(name, d);
    }
    else {
      report.add(`[${name}]`, 'ignored', s.mode === '' ? 'no MODE: not a system FreeDMR can load' : `unknown MODE ${s.mode}`);
      s.sec.coverAll();
    }
  }

  if (global) mapGlobal(global, doc, links.size > 0, [...links.values()].some((d) => d.table.get('protocol') === 'fbp'), allowNull && [...systems.values()].some((s) => s.enabled && s.mode === 'MASTER' && (s.sec.section.entries.get('PASSPHRASE')?.value ?? '') === ''));
  mapLanguages(global, doc);
  if (rules) mapRules(rules.text, rules.file, { doc, report, master: chosen ? { name: chosen.name, generator } : null, links, uplinks, systems });
  for (const d of links.values()) {
    finishLink(d, report);
    doc.links.push(d.table);
  }
  const ports = new Set([Number(doc.table('hbp').get('port') ?? 62031), ...doc.links.map((t) => Number(t.get('port')))]);
  for (const d of uplinks.values()) {
    finishUplink(d, ports, report);
    doc.uplinks.push(d.table);
  }
  if (links.size > 0 && Number(doc.table('server').get('id') ?? 0) === 0) {
    for (const d of links.values()) d.table.set('enabled', false, 'needs server.id (GLOBAL SERVER_ID is 0)');
    report.add('[GLOBAL] SERVER_ID', 'changed', '0: a dmrhub link sends server.id in every frame and needs it set; the links are written with enabled = false');
  }

  mapReporting(reserved('REPORTS'), reserved('MYSQL'));
  mapLogger(reserved('LOGGER'), doc);
  for (const name of ['ALIASES', 'ALLSTAR', 'PROXY', 'SELF SERVICE']) mapLeftovers(reserved(name), generator > 1 && chosen !== null);
  for (const sec of secs.values()) sec.rest('ignored', 'not a setting FreeDMR reads');

  const header = [
    `dmrhub config imported from ${cfgFile}${rules ? ` and ${rules.file}` : ''} by \`dmrhub import-freedmr\`.`,
    'Each key names the FreeDMR setting it came from; what did not carry over was listed on stderr.',
    'Keys not written take dmrhub\'s defaults (config/dmrhub.example.toml explains them all).',
    'It holds passphrases: keep it readable by the server\'s user only.',
  ];
  return { toml: doc.render(header), report: report.lines };
}

function mapGlobal(g: Sec, doc: TomlDoc, hasLinks: boolean, hasFbp: boolean, nullPassUsed: boolean): void {
  const at = (key: string): string => `[GLOBAL] ${g.section.entries.get(key)?.key ?? key}`;
  const serverId = g.int('SERVER_ID', 0);
  if (serverId < 0 || serverId > 0xffff_ffff) g.fail('SERVER_ID', `expected an ID 0..4294967295, got ${serverId}`);
  if (serverId > 0 || g.has('SERVER_ID')) doc.table('server').set('id', serverId, at('SERVER_ID'));
  const ping = g.int('PING_TIME', 10);
  if (ping >= 1 && ping <= 86_400) doc.table('hbp').set('ping_interval', ping, `${at('PING_TIME')} (a peer is dropped after ping_interval × max_missed_pings)`);
  else g.note('PING_TIME', 'not mapped', `${ping} s is outside 1..86400`);
  const missed = g.int('MAX_MISSED', 3);
  if (missed >= 1 && missed <= 100) doc.table('hbp').set('max_missed_pings', missed, at('MAX_MISSED'));
  else g.note('MAX_MISSED', 'not mapped', `${missed} is outside dmrhub's 1..100`);

  // FreeDMR reads GLOBAL USE_ACL as text: anything but an empty value turns the ACLs on.
  const useAclText = (g.raw('USE_ACL') ?? 'True').trim();
  const useAcl = useAclText !== '';
  const quirk = /^(false|no|off|0)$/i.test(useAclText) ? ` (FreeDMR reads GLOBAL USE_ACL as text, so "${useAclText}" still turns it on)` : '';
  g.note('USE_ACL', 'not needed', 'it only switches SUB_ACL and TGID_TS1/TS2_ACL, reported on their own lines');
  reportAcl(g, 'REG_ACL', true, ' (FreeDMR applies REG_ACL at login whatever USE_ACL says)');
  reportAcl(g, 'SUB_ACL', useAcl, quirk);
  reportAcl(g, 'TGID_TS1_ACL', useAcl, `${quirk}${hasLinks ? '; FreeDMR also filters OpenBridge traffic with it' : ''}`);
  reportAcl(g, 'TGID_TS2_ACL', useAcl, quirk);

  g.note('PATH', 'not needed', 'dmrhub takes relative paths from the directory its config file is in');
  g.note('GEN_STAT_BRIDGES', 'not needed', 'dmrhub hands a call from a link to every peer subscribed to its talkgroup without a bridge table (it never relays one link to another)');
  if (nullPassUsed) g.note('ALLOW_NULL_PASSPHRASE', 'not mapped', 'dmrhub needs a passphrase: hotspots that sent any passphrase must now send hbp.passphrase');
  else g.note('ALLOW_NULL_PASSPHRASE', 'not needed', 'no enabled MASTER has an empty passphrase');
  if (g.bool('DATA_GATEWAY', false)) g.note('DATA_GATEWAY', 'not supported yet', 'dmrhub does not copy unit data to a DATA-GATEWAY link');
  else g.note('DATA_GATEWAY', 'not needed', 'off');
  if (!hasFbp) g.note('VALIDATE_SERVER_IDS', 'not needed', 'it checks the source server of FreeDMR bridge protocol frames, and no FBP link was imported');
  else if (g.bool('VALIDATE_SERVER_IDS', true))
    g.note('VALIDATE_SERVER_IDS', 'not mapped', 'dmrhub does not check source servers against a downloaded server_ids.tsv; the nearest is an FBP link\'s known_servers, a fixed list of the server IDs it takes calls from (written empty: every source server is taken)');
  else g.note('VALIDATE_SERVER_IDS', 'not needed', 'off: an FBP link with known_servers empty takes every source server too');
  g.note('DEBUG_BRIDGES', 'not needed', 'dmrhub has no bridge table to repair');
  if (g.bool('ENABLE_API', false)) g.note('ENABLE_API', 'not supported yet', 'dmrhub has no HTTP API; it publishes its state over MQTT ([mqtt])');
  else g.note('ENABLE_API', 'not needed', 'off');
}

function mapLanguages(g: Sec | null, doc: TomlDoc): void {
  const prompts = doc.table('prompts');
  const text = g?.raw('ANNOUNCEMENT_LANGUAGES')?.trim() ?? '';
  const listed = text === '' ? ALL_LANGUAGES : text.split(',').map((l) => l.trim()).filter((l) => l !== '');
  const language = String(prompts.get('language') ?? 'en_GB');
  const more = [...new Set(listed.filter((l) => l !== language && /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(l)))];
  if (g?.has('ANNOUNCEMENT_LANGUAGES') || more.length > 0)
    prompts.set('more_languages', more, text === '' ? 'every FreeDMR language ([GLOBAL] ANNOUNCEMENT_LANGUAGES empty)' : '[GLOBAL] ANNOUNCEMENT_LANGUAGES');
  prompts.set('directory', '', 'FreeDMR\'s prompt packs: point this at its Audio directory to keep the voice prompts');
}

function mapReporting(r: Sec | null, mysql: Sec | null): void {
  if (r) {
    const on = r.bool('REPORT', true);
    const why = 'dmrhub has no HBmonitor/FDMR-Monitor TCP report stream; it publishes logins, calls and state to MQTT ([mqtt] url) and keeps lastheard in SQLite ([sql], on by default)';
    r.note('REPORT', on ? 'not mapped' : 'not needed', on ? why : 'off');
    for (const key of ['REPORT_INTERVAL', 'REPORT_PORT', 'REPORT_CLIENTS']) r.note(key, on ? 'not mapped' : 'not needed', on ? 'part of the TCP report stream (see REPORT)' : 'REPORT is off');
  }
  if (mysql) {
    const on = mysql.bool('USE_MYSQL', false);
    mysql.note('USE_MYSQL', on ? 'not mapped' : 'ignored', `${on ? 'True' : 'False'}: see the other [MYSQL] lines`);
    mysql.rest(on ? 'not mapped' : 'ignored', `FreeDMR 1.3 no longer reads [MYSQL] (older versions loaded extra MASTER systems from it); dmrhub keeps its call history in SQLite ([sql])`);
  }
}

function mapLogger(l: Sec | null, doc: TomlDoc): void {
  if (!l) return;
  const level = l.str('LOG_LEVEL', 'INFO').trim().toUpperCase();
  if (LOG_LEVELS[level]) doc.table('log').set('level', LOG_LEVELS[level]!, '[LOGGER] LOG_LEVEL');
  else l.note('LOG_LEVEL', 'not mapped', `"${level}" is not a FreeDMR log level; log.level stays "info"`);
  const handlers = l.str('LOG_HANDLERS', 'console-timed').split(',').map((h) => h.trim().toLowerCase());
  const elsewhere = handlers.filter((h) => h !== 'console' && h !== 'console-timed');
  if (elsewhere.length === 0) l.note('LOG_HANDLERS', 'not needed', 'dmrhub logs to standard output, with timestamps');
  else l.note('LOG_HANDLERS', 'not mapped', `${elsewhere.join(', ')}: dmrhub logs to standard output only (redirect it, or let systemd's journal or docker keep it)`);
  l.note('LOG_FILE', handlers.some((h) => h.startsWith('file')) ? 'not mapped' : 'not needed', 'dmrhub writes no log file of its own');
  const name = l.str('LOG_NAME', 'FreeDMR').trim();
  if (/^[A-Za-z0-9._-]{1,64}$/.test(name)) doc.table('server').set('name', name, '[LOGGER] LOG_NAME');
  else l.note('LOG_NAME', 'not mapped', `"${name}" cannot be server.name (1..64 letters, digits, ".", "-", "_": it is also an MQTT topic level)`);
}

function mapLeftovers(s: Sec | null, proxyUsed: boolean): void {
  if (!s) return;
  switch (s.name) {
    case 'ALIASES':
      s.rest('not needed', 'dmrhub downloads no ID lists and looks up no aliases; a local ID file for checking registrations is acl.id_file (see ALLOW_UNREG_ID)');
      return;
    case 'ALLSTAR':
      if (s.bool('ENABLED', false)) s.rest('not supported yet', 'dmrhub has no AllStar bridge (private call 8)');
      else {
        s.note('ENABLED', 'not needed', 'AllStar is off');
        s.rest('not needed', 'AllStar is off');
      }
      return;
    case 'PROXY': {
      const block = (s.raw('BLACKLIST') ?? '[1234567]').replace(/\s/g, '');
      const ipBlock = (s.raw('IPBLACKLIST') ?? '{}').replace(/\s/g, '');
      s.note('BLACKLIST', block === '[1234567]' || block === '[]' ? 'not needed' : 'not mapped', block === '[1234567]' || block === '[]' ? 'only the placeholder ID' : 'dmrhub has no list of refused peer IDs yet');
      s.note('IPBLACKLIST', ipBlock === '{}' ? 'not needed' : 'not mapped', ipBlock === '{}' ? 'empty' : 'dmrhub has no list of refused addresses yet (use a firewall)');
      if (!proxyUsed) {
        s.note('LISTENPORT', 'not needed', 'no generated MASTER sat behind the proxy; [hbp] took the MASTER\'s own port');
        s.note('LISTENIP', 'not needed', 'no generated MASTER sat behind the proxy');
      }
      s.rest('not needed', 'dmrhub serves all hotspots on one port');
      return;
    }
    case 'SELF SERVICE':
      s.rest('not supported yet', 'dmrhub has no self-service options database');
      return;
  }
}
