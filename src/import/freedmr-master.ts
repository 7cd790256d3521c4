// FreeDMR MASTER systems → dmrhub's single HomeBrew port ([hbp]) and the defaults of [routing],
// [timers] and [prompts]. FreeDMR runs one system per hotspot (GENERATOR copies behind the hotspot
// proxy) because it keeps routing state per system; dmrhub keeps it per peer, so one [hbp] serves
// them all and the proxy disappears.

import { isIpLiteral, permitsAll, reportAcl, type Report, type Sec } from './common.js';
import type { TomlDoc } from './toml-out.js';

const MAX_TALKGROUP = 0xff_fffe;
/** Where FreeDMR's hotspot proxy listens when its section does not say. */
const PROXY_DEFAULT_PORT = 62031;

export interface MasterContext {
  readonly doc: TomlDoc;
  readonly report: Report;
  readonly proxy: Sec | null;
  readonly allowNullPassphrase: boolean;
}

/** Fills [hbp], [routing], [timers] and [prompts] from the MASTER chosen to be dmrhub's port. */
export function mapMaster(m: Sec, ctx: MasterContext): void {
  const { doc } = ctx;
  const hbp = doc.table('hbp');
  const routing = doc.table('routing');
  const at = (key: string): string => `[${m.name}] ${m.section.entries.get(key)?.key ?? key}`;

  const generator = Math.max(1, m.int('GENERATOR', 100));
  const maxPeers = Math.max(1, m.int('MAX_PEERS', 1));
  const behindProxy = generator > 1;

  // Address and port: behind the proxy, hotspots know the proxy's public port, not the system's.
  if (behindProxy) {
    const listenIp = ctx.proxy?.raw('LISTENIP')?.trim() ?? '';
    const listenPort = ctx.proxy?.int('LISTENPORT', PROXY_DEFAULT_PORT) ?? PROXY_DEFAULT_PORT;
    const from = ctx.proxy?.has('LISTENPORT') ? '[PROXY] ListenPort' : 'the hotspot proxy default port';
    hbp.set('address', listenIp === '' ? '0.0.0.0' : listenIp, ctx.proxy?.has('LISTENIP') ? '[PROXY] ListenIP' : 'the proxy listens on every interface');
    if (listenIp !== '' && !isIpLiteral(listenIp)) {
      ctx.proxy!.note('LISTENIP', 'not mapped', `"${listenIp}" is not an IP address literal; hbp.address is left at 0.0.0.0`);
      hbp.set('address', '0.0.0.0', 'every interface');
    }
    hbp.set('port', listenPort, from);
    const first = m.int('PORT', 54000);
    m.note('IP', 'not needed', 'hotspots reached this system through the hotspot proxy; [hbp] takes the proxy\'s address');
    m.note('PORT', 'not needed', `hotspots reached ports ${first}..${first + generator - 1} through the proxy; [hbp] takes the proxy's public port ${listenPort}`);
    m.note('GENERATOR', 'not needed', `dmrhub keeps each hotspot's talkgroups and options apart on one port, so the ${generator} copies become one [hbp] with max_peers = GENERATOR × MAX_PEERS`);
  } else {
    const ip = m.str('IP', '127.0.0.1').trim();
    if (ip === '') hbp.set('address', '0.0.0.0', `[${m.name}] IP "" (every interface)`);
    else if (isIpLiteral(ip)) hbp.set('address', ip, at('IP'));
    else m.note('IP', 'not mapped', `"${ip}" is not an IP address literal; hbp.address is left at 127.0.0.1`);
    const port = m.int('PORT', 56400);
    if (port >= 1 && port <= 65535) hbp.set('port', port, at('PORT'));
    else m.fail('PORT', `expected a UDP port 1..65535, got ${port}`);
    m.note('GENERATOR', 'not needed', 'GENERATOR 1 is one system, as dmrhub\'s one port is');
  }
  hbp.set('max_peers', Math.min(1_000_000, generator * maxPeers), behindProxy ? `[${m.name}] GENERATOR × MAX_PEERS` : at('MAX_PEERS'));

  const pass = m.str('PASSPHRASE', '');
  if (pass === '') {
    const any = ctx.allowNullPassphrase ? 'FreeDMR took any passphrase (ALLOW_NULL_PASSPHRASE)' : 'FreeDMR wanted an empty one';
    m.note('PASSPHRASE', 'not mapped', `empty: ${any}; dmrhub needs one, so hotspots must use hbp.passphrase (left at dmrhub's default "passw0rd": change it)`);
  } else if (!/^[\x20-\x7e]{1,128}$/.test(pass)) {
    m.note('PASSPHRASE', 'not mapped', 'dmrhub takes 1..128 printable ASCII characters; set hbp.passphrase and the hotspots to a new one');
  } else hbp.set('passphrase', pass, at('PASSPHRASE'));

  // Routing defaults: FreeDMR gives them to each generated system; dmrhub to each peer that sends no options.
  mapStatics(m, 'TS1_STATIC', 'ts1_static', ctx);
  mapStatics(m, 'TS2_STATIC', 'ts2_static', ctx);
  const reflector = m.int('DEFAULT_REFLECTOR', 0);
  if (reflector >= 0 && reflector <= 999_999) {
    routing.set('default_reflector', reflector, at('DEFAULT_REFLECTOR'));
  } else m.note('DEFAULT_REFLECTOR', 'not mapped', `${reflector} is not a reflector number 0..999999`);

  const uaMinutes = m.int('DEFAULT_UA_TIMER', 10);
  if (uaMinutes === 0) {
    routing.set('user_activation_timer', 60, `[${m.name}] DEFAULT_UA_TIMER 0`);
    m.note('DEFAULT_UA_TIMER', 'changed', 'FreeDMR ends a 0-minute activation at its next timer pass (under a minute); dmrhub reads 0 as "never", so user_activation_timer is 60 s');
  } else if (uaMinutes * 60 > 86_400 || uaMinutes < 0) {
    routing.set('user_activation_timer', 86_400, `[${m.name}] DEFAULT_UA_TIMER ${uaMinutes} min, cut to one day`);
    m.note('DEFAULT_UA_TIMER', 'changed', `${uaMinutes} minutes is more than dmrhub's longest timer; user_activation_timer is one day (86400 s)`);
  } else routing.set('user_activation_timer', uaMinutes * 60, `${at('DEFAULT_UA_TIMER')} (${uaMinutes} min)`);
  routing.set('single_mode', m.bool('SINGLE_MODE', true), at('SINGLE_MODE'));

  const hang = m.int('GROUP_HANGTIME', 5);
  if (hang >= 0 && hang <= 86_400) doc.table('timers').set('group_hangtime', hang, at('GROUP_HANGTIME'));
  else m.note('GROUP_HANGTIME', 'not mapped', `${hang} s is outside 0..86400`);

  const prompts = doc.table('prompts');
  prompts.set('language', m.str('ANNOUNCEMENT_LANGUAGE', 'en_GB').trim() || 'en_GB', at('ANNOUNCEMENT_LANGUAGE'));
  prompts.set('voice_ident', m.bool('VOICE_IDENT', true), at('VOICE_IDENT'));
  const identTg = (m.raw('OVERRIDE_IDENT_TG') ?? '').trim();
  if (/^\d+$/.test(identTg) && Number(identTg) >= 1 && Number(identTg) <= 16_777_215) prompts.set('ident_talkgroup', Number(identTg), at('OVERRIDE_IDENT_TG'));
  else if (!['', '0', 'false', 'no', 'off'].includes(identTg.toLowerCase())) m.note('OVERRIDE_IDENT_TG', 'not mapped', `"${identTg}" is not a talkgroup 1..16777215`);
  else m.note('OVERRIDE_IDENT_TG', 'not needed', 'off: the ident goes to all-call (16777215), dmrhub\'s default too');

  // Behaviour dmrhub has no switch for.
  const repeat = m.bool('REPEAT', true);
  if (repeat) m.note('REPEAT', 'not needed', 'dmrhub always passes calls between its peers by talkgroup');
  else if (behindProxy && maxPeers === 1) m.note('REPEAT', 'not needed', 'with one hotspot per generated system there was nothing to repeat; dmrhub passes calls between peers by talkgroup');
  else m.note('REPEAT', 'not mapped', 'dmrhub always passes calls between peers on the same talkgroup; there is no switch to stop it');
  m.note('EXPORT_AMBE', 'ignored', 'FreeDMR does not read it either');
  m.note('PROXY_CONTROL', 'not needed', 'dmrhub has no hotspot proxy to send blocks (PRBL) to');
  if (m.bool('ALLOW_UNREG_ID', false)) m.note('ALLOW_UNREG_ID', 'not needed', 'dmrhub, too, lets any peer ID with the passphrase log in (acl.unknown_ids = "allow")');
  else m.note('ALLOW_UNREG_ID', 'not mapped', 'any ID with the passphrase may log in; to check peer IDs, set acl.id_file to a local ID file and acl.unknown_ids = "deny"');
  mapMasterAcls(m);
  m.rest('ignored', 'not a MASTER setting of FreeDMR');
}

function mapStatics(m: Sec, key: string, target: 'ts1_static' | 'ts2_static', ctx: MasterContext): void {
  const routing = ctx.doc.table('routing');
  const tgs: number[] = [];
  const bad: number[] = [];
  for (const tg of m.ints(key)) {
    if (tg < 1 || tg > MAX_TALKGROUP) bad.push(tg);
    else if (!tgs.includes(tg)) tgs.push(tg);
  }
  if (bad.length > 0) ctx.report.add(`[${m.name}] ${m.section.entries.get(key)?.key ?? key}`, 'not mapped', `${bad.join(', ')}: not a talkgroup 1..${MAX_TALKGROUP}, left out`);
  if (tgs.length === 0) return;
  routing.set(target, tgs, `[${m.name}] ${m.section.entries.get(key)?.key ?? key}`);
  const most = Math.max(tgs.length, Number(routing.get('max_static_per_slot') ?? 64));
  if (most > 64) routing.set('max_static_per_slot', Math.min(1000, most), 'room for the imported statics');
}

function mapMasterAcls(m: Sec): void {
  const useAcl = m.bool('USE_ACL', false);
  m.note('USE_ACL', 'not needed', 'it only switches SUB_ACL and TGID_TS1/TS2_ACL, reported on their own lines');
  reportAcl(m, 'REG_ACL', true, ' (FreeDMR applies REG_ACL at login whatever USE_ACL says)');
  reportAcl(m, 'SUB_ACL', useAcl);
  const ts1 = reportAcl(m, 'TGID_TS1_ACL', useAcl);
  const ts2 = reportAcl(m, 'TGID_TS2_ACL', useAcl);
  if (useAcl && ts1 && ts2 && !ts1.permit && !ts2.permit && !permitsAll(ts1) && !permitsAll(ts2))
    m.report.add(`[${m.name}] TGID_TS1_ACL/TGID_TS2_ACL`, 'not mapped', 'talkgroups denied on both slots could go in routing.prohibited_talkgroups (which also keeps them off links)');
}

/** One line for a MASTER that cannot have a port of its own in dmrhub. */
export function reportOtherMaster(m: Sec, chosen: Sec, report: Report): void {
  const port = m.raw('PORT') ?? '?';
  if (m.name === 'D-APRS')
    report.add(`[${m.name}]`, 'not supported yet', `the D-APRS system (unit data to 900999 goes to it in FreeDMR) has no equivalent; an APRS gateway on port ${port} can log in to [hbp] as a peer, but 900999 is not routed to it specially`);
  else
    report.add(
      `[${m.name}]`,
      'not mapped',
      `a second MASTER (port ${port}): dmrhub has one HomeBrew port, [hbp], taken from [${chosen.name}]; point this system's hotspots at hbp.port`,
    );
  const differs = (key: string): boolean => (m.raw(key) ?? '').trim() !== (chosen.section.entries.get(key)?.value ?? '').trim();
  for (const key of ['PASSPHRASE', 'TS1_STATIC', 'TS2_STATIC', 'DEFAULT_REFLECTOR', 'DEFAULT_UA_TIMER', 'SINGLE_MODE'])
    if (m.has(key) && differs(key))
      report.add(`[${m.name}] ${m.section.entries.get(key)!.key}`, 'not mapped', `differs from [${chosen.name}], whose value [hbp]/[routing] took${key === 'PASSPHRASE' ? ': its hotspots must change passphrase' : ''}`);
  m.coverAll();
}
