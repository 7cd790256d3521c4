// FreeDMR OPENBRIDGE systems → dmrhub [[links]]: PROTO_VER 1 as OpenBridge v1, the FreeDMR bridge
// protocol (PROTO_VER 5, its default) as protocol = "fbp".

import { isIpLiteral, parseAcl, permitsAll, reportAcl, safeName, whitelist, type Report, type Sec } from './common.js';
import { TomlTable } from './toml-out.js';

/** dmrhub's default routing.local_talkgroups: these never cross a link. */
const LOCAL: readonly (readonly [number, number])[] = [
  [1, 79],
  [4000, 4000],
  [5000, 5000],
  [9990, 9999],
];
const isLocal = (tg: number): boolean => LOCAL.some(([a, b]) => tg >= a && tg <= b);

export interface LinkDraft {
  readonly system: string;
  readonly table: TomlTable;
  /** FreeDMR joins systems named OBP… to every talkgroup; others carry only rules.py bridges. */
  readonly autoJoin: boolean;
  /** A TGID_ACL whitelist in force, or null. */
  readonly aclTalkgroups: number[] | null;
  /** Talkgroups rules.py bridges put on this link. */
  readonly rulesTalkgroups: number[];
}

/** Maps one OPENBRIDGE system, or reports why it cannot be a link. */
export function mapLink(o: Sec, report: Report, taken: Set<string>): LinkDraft | null {
  const where = `[${o.name}]`;
  const enabled = o.bool('ENABLED', true);
  const t = new TomlTable();
  const at = (key: string): string => `[${o.name}] ${o.section.entries.get(key)?.key ?? key}`;

  let name = safeName(o.name, 32);
  for (let n = 2; taken.has(name); n++) name = `${safeName(o.name, 28)}-${n}`;
  taken.add(name);
  t.set('name', name, name === o.name ? `[${o.name}]` : `[${o.name}], renamed to fit dmrhub's link names`);
  t.set('enabled', enabled, at('ENABLED'));

  // The versions first: they matter for the other end even when the link cannot be written.
  const proto = linkProtocol(o, report);
  if (proto === null) {
    o.coverAll();
    return null;
  }

  const target = o.str('TARGET_IP', '').trim();
  const targetPort = o.int('TARGET_PORT', 0);
  if (target === '') {
    report.add(where, 'not supported yet', 'TARGET_IP is empty: a passive link that learns the other end\'s address; dmrhub links need target_address and target_port, so this link is not written');
    o.coverAll();
    return null;
  }
  if (!isIpLiteral(target)) {
    report.add(where, 'not mapped', `TARGET_IP "${target}" is a host name; dmrhub takes IP address literals only: look it up and add this link by hand`);
    o.coverAll();
    return null;
  }
  const pass = o.str('PASSPHRASE', '');
  if (!/^[\x20-\x7e]{1,128}$/.test(pass)) {
    report.add(where, 'not mapped', 'PASSPHRASE: dmrhub wants 1..128 printable ASCII characters on both ends; this link is not written');
    o.coverAll();
    return null;
  }
  const port = o.int('PORT', 0);
  if (port < 1 || port > 65535) o.fail('PORT', `expected a UDP port 1..65535, got ${port}`);
  if (targetPort < 1 || targetPort > 65535) o.fail('TARGET_PORT', `expected a UDP port 1..65535, got ${targetPort}`);

  // Our address must be of the target's family; FreeDMR's "" and "::" listen on both.
  const v6 = target.includes(':');
  const ip = o.str('IP', '').trim();
  if (ip === '' || ip === '::' || ip === '0.0.0.0') {
    const address = v6 ? '::' : '0.0.0.0';
    t.set('address', address, ip === '' ? `[${o.name}] IP "" (every interface)` : at('IP'));
    if (ip !== '' && ip !== address) report.add(at('IP'), 'changed', `"${ip}" listened on both IPv4 and IPv6; a dmrhub link listens on the target's family only (${address})`);
  } else if (isIpLiteral(ip) && ip.includes(':') === v6) t.set('address', ip, at('IP'));
  else {
    t.set('address', v6 ? '::' : '0.0.0.0', 'every interface');
    o.note('IP', 'not mapped', `"${ip}" is not an IP literal of the target's family; the link listens on every interface`);
  }
  t.set('port', port, at('PORT'));
  t.set('target_address', target, at('TARGET_IP'));
  t.set('target_port', targetPort, at('TARGET_PORT'));
  t.set('passphrase', pass, at('PASSPHRASE'));
  const networkId = o.int('NETWORK_ID', 0);
  if (networkId < 0 || networkId > 0xffff_ffff) o.fail('NETWORK_ID', `expected an ID 0..4294967295, got ${networkId}`);
  t.set('network_id', networkId, `${at('NETWORK_ID')}: the ID the other end sends`);
  const relax = o.bool('RELAX_CHECKS', true);
  t.set('check_source', !relax, `${at('RELAX_CHECKS')}, inverted`);
  t.set('protocol', proto.protocol, proto.from);
  if (proto.protocol === 'fbp') {
    if (proto.enhanced && relax) t.set('follow_address', true, `${at('RELAX_CHECKS')} True, ENHANCED_OBP True: FreeDMR moved the target to where valid keepalives came from`);
    else if (proto.enhanced)
      report.add(at('ENHANCED_OBP'), 'changed', 'FreeDMR moved this link\'s target to wherever a valid keepalive came from, even with RELAX_CHECKS False; dmrhub does that only with follow_address = true (left false here, as check_source is on)');
  }

  const useAcl = o.bool('USE_ACL', false);
  o.note('USE_ACL', 'not needed', 'it only switches SUB_ACL and TGID_ACL, reported on their own lines');
  reportAcl(o, 'SUB_ACL', useAcl);
  let aclTalkgroups: number[] | null = null;
  const tgAcl = o.has('TGID_ACL') ? parseAcl(o, 'TGID_ACL') : null;
  const listed = tgAcl && useAcl && !permitsAll(tgAcl) ? whitelist(tgAcl, 10_000) : null;
  if (listed) {
    aclTalkgroups = listed;
    o.raw('TGID_ACL');
  } else reportAcl(o, 'TGID_ACL', useAcl, tgAcl && !tgAcl.permit ? '; a link can list the talkgroups it carries (talkgroups), not the ones it refuses' : '');
  o.rest('ignored', 'not an OPENBRIDGE setting of FreeDMR');
  return { system: o.name, table: t, autoJoin: o.name.startsWith('OBP'), aclTalkgroups, rulesTalkgroups: [] };
}

/** Settles a link's talkgroups once rules.py has been read. */
export function finishLink(d: LinkDraft, report: Report): void {
  const where = `[${d.system}]`;
  let tgs: number[] | null;
  let from: string;
  if (d.autoJoin) {
    tgs = d.aclTalkgroups;
    from = 'TGID_ACL';
  } else {
    tgs = d.aclTalkgroups === null ? d.rulesTalkgroups : d.rulesTalkgroups.filter((tg) => d.aclTalkgroups!.includes(tg));
    from = 'rules.py bridges';
    if (tgs.length === 0) {
      d.table.set('enabled', false, 'FreeDMR carried no talkgroup on it');
      report.add(where, 'changed', 'its name does not start with OBP, so FreeDMR carried only rules.py bridges on it, and none names it: written with enabled = false');
      return;
    }
  }
  if (tgs === null) return;
  const local = tgs.filter(isLocal);
  const kept = [...new Set(tgs.filter((tg) => !isLocal(tg) && tg <= 0xff_fffe))];
  if (local.length > 0) report.add(`${where} ${from}`, 'not needed', `${summarise(local)}: local talkgroups in dmrhub (routing.local_talkgroups), which never cross a link`);
  if (kept.length === 0) {
    d.table.set('enabled', false, 'no talkgroup left to carry');
    report.add(where, 'changed', `every talkgroup its ${from} allow is local: written with enabled = false`);
    return;
  }
  d.table.set('talkgroups', kept.sort((a, b) => a - b), d.autoJoin ? `[${d.system}] TGID_ACL` : `rules.py bridges on [${d.system}]${d.aclTalkgroups ? ', within its TGID_ACL' : ''}`);
}

function summarise(tgs: number[]): string {
  const shown = tgs.slice(0, 8).join(', ');
  return tgs.length > 8 ? `${shown} and ${tgs.length - 8} more` : shown;
}

/** The protocol of the link FreeDMR's PROTO_VER and ENHANCED_OBP describe, with what the other
 *  end must set reported; null (reported) when dmrhub has none. */
function linkProtocol(o: Sec, report: Report): { protocol: 'openbridge' | 'fbp'; enhanced: boolean; from: string } | null {
  const at = (key: string): string => `[${o.name}] ${o.section.entries.get(key)?.key ?? key}`;
  const ver = o.int('PROTO_VER', 5);
  const enhanced = o.bool('ENHANCED_OBP', true);
  const shown = (key: string, v: string | number): string => `${v}${o.has(key) ? '' : ' (the default)'}`;
  const from = `[${o.name}] PROTO_VER ${shown('PROTO_VER', ver)}, ENHANCED_OBP ${shown('ENHANCED_OBP', enhanced ? 'True' : 'False')}`;
  if (ver === 1) {
    if (enhanced) report.add(at('ENHANCED_OBP'), 'changed', `True${o.has('ENHANCED_OBP') ? '' : ' (the default)'}: a dmrhub OpenBridge v1 link sends and takes no BCKA/BCSQ/BCVE control packets; set ENHANCED_OBP: False on the other server's system for this link (or PROTO_VER: 5 on both ends and protocol = "fbp" here)`);
    return { protocol: 'openbridge', enhanced, from };
  }
  if (ver < 1 || ver > 5) {
    report.add(`[${o.name}]`, 'not mapped', `PROTO_VER ${ver} is no FreeDMR protocol version (1 is OpenBridge, 5 is FBP): this link is not written`);
    return null;
  }
  const why =
    ver === 4
      ? 'a dmrhub FBP link receives v4 and v5 but sends v5 (89-byte DMRE frames) only'
      : `v${ver} is FreeDMR's old DMRF framing, which dmrhub does not speak (current FreeDMR dropped it too)`;
  if (ver < 5) report.add(at('PROTO_VER'), 'changed', `${ver}: ${why}; written as protocol = "fbp": set PROTO_VER: 5 on the other server's system for this link`);
  if (!enhanced)
    report.add(at('ENHANCED_OBP'), 'changed', 'False: a dmrhub FBP link always sends keepalives (BCKA), its version (BCVE) and quenches (BCSQ), and a FreeDMR link does not feed a far end it hears no keepalives from; set ENHANCED_OBP: True on the other server\'s system for this link');
  return { protocol: 'fbp', enhanced, from };
}
