// `dmrhub import-freedmr`: a FreeDMR config (and rules.py) becomes a dmrhub config that loads, with
// every FreeDMR setting either mapped (named in a comment of the output) or reported on stderr.

import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { runImportFreeDmr } from '../../src/import/cli.js';
import { importFreeDmr } from '../../src/import/freedmr.js';
import { parseIni } from '../../src/import/ini.js';
import { dictGet, isDict, parsePythonAssignments } from '../../src/import/pyliteral.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/freedmr');
const CFG = join(FIXTURES, 'FreeDMR.cfg');
const RULES = join(FIXTURES, 'rules.py');

function run(args: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runImportFreeDmr(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'dmrhub-import-'));

/** Imports the fixture with rules.py, writes it with --out and loads it as check-config does. */
function importFixture() {
  const dir = tmp();
  const file = join(dir, 'dmrhub.toml');
  const r = run([CFG, RULES, '--out', file]);
  const loaded = loadConfigFile(file);
  return { ...r, file, text: readFileSync(file, 'utf8'), loaded, report: r.err.split('\n').filter((l) => l !== '') };
}

describe('import-freedmr: the sample FreeDMR config', () => {
  const { code, out, file, text, loaded, report } = importFixture();

  it('writes a config that dmrhub loads, with mode 0600, and nothing on stdout', () => {
    expect(code).toBe(0);
    expect(out).toBe('');
    expect(loaded.ok, loaded.ok ? '' : JSON.stringify(loaded.errors)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('puts the values where expected', () => {
    if (!loaded.ok) throw new Error('not loaded');
    const c = loaded.config;
    expect(c.core.serverId).toBe(23501);
    expect(c.server.name).toBe('hub-235');
    // The generated MASTER sat behind the proxy: hotspots keep the proxy's public port.
    expect(c.hbp).toMatchObject({ address: '0.0.0.0', port: 62031 });
    expect(c.core.hbp).toMatchObject({ passphrase: 'hotspot-%-secret', maxPeers: 100, pingIntervalMs: 10_000, maxMissedPings: 3 });
    expect(c.core.routing).toMatchObject({ ts1Static: [2350, 235], ts2Static: [91], userActivationMs: 3_600_000, singleMode: true, defaultReflector: 0 });
    expect(c.core.timers.groupHangtimeMs).toBe(5000);
    expect(c.core.prompts).toMatchObject({ language: 'en_GB', voiceIdent: true, identTg: 16_777_215 });
    expect(c.prompts.languages).toEqual(['en_GB', 'de_DE', 'fr_FR']);
    expect(c.log.level).toBe('warn');
    // Two links: the OBP mesh (every non-local TG) and BM-LINK (what rules.py puts on it, within its ACL).
    expect(c.core.links.map((l) => l.name)).toEqual(['OBP-NATIONAL', 'BM-LINK']);
    // PROTO_VER 5 (FreeDMR's bridge protocol) is an FBP link; PROTO_VER 1 stays OpenBridge v1.
    expect(c.core.links[0]).toMatchObject({ address: '192.0.2.10', port: 62044, passphrase: 'a shared mesh key', networkId: 23502, checkSource: false, talkgroups: [] });
    expect(c.core.links[0]).toMatchObject({ protocol: 'fbp', followAddress: true, maxHops: 10, knownServers: [] });
    expect(c.core.links[1]).toMatchObject({ address: '198.51.100.7', port: 55000, networkId: 2341, checkSource: true, talkgroups: [91, 2350] });
    expect(c.core.links[1]).toMatchObject({ protocol: 'openbridge', followAddress: false });
    // The PEER and the XLXPEER become uplinks (the ECHO peer does not: dmrhub has its own echo).
    expect(c.core.uplinks.map((u) => u.name)).toEqual(['UPLINK', 'XLX-4001']);
    expect(c.core.uplinks[0]).toMatchObject({
      address: '203.0.113.5', port: 62031, passphrase: 'peer-key', peerId: 235000101, options: 'TS2=91', loose: true, xlxModule: 0,
      ts1: null, ts2: [91], pingIntervalMs: 10_000, maxMissedPongs: 3,
    });
    expect(c.core.uplinks[0]!.rptc).toMatchObject({ callsign: 'N0CALL', colorCode: '01', slots: '3', location: 'Here', description: 'An uplink', softwareId: '20170620', packageId: 'MMDVM_FreeDMR' });
    expect(c.core.uplinks[1]).toMatchObject({ address: '198.51.100.20', port: 62030, peerId: 235000102, options: '', loose: true, xlxModule: 4004, ts1: [], ts2: [9] });
    expect(c.core.uplinks[1]!.rptc).toMatchObject({ latitude: '51.5000', longitude: '-0.1200', slots: '1', description: 'XLX module D' });
    expect(c.uplinks).toEqual([
      { name: 'UPLINK', address: '0.0.0.0', port: 54917 },
      { name: 'XLX-4001', address: '0.0.0.0', port: 54918 },
    ]);
    expect(c.links).toEqual([
      { name: 'OBP-NATIONAL', address: '0.0.0.0', port: 62044 },
      { name: 'BM-LINK', address: '0.0.0.0', port: 62045 },
    ]);
  });

  it('accounts for every key of the FreeDMR file: named in a comment of the output, or reported', () => {
    const ini = parseIni(readFileSync(CFG, 'utf8'), CFG);
    const comments = text.split('\n').filter((l) => l.includes('#')).map((l) => l.slice(l.indexOf('#')));
    const missing: string[] = [];
    for (const s of ini.sections) {
      const sectionLine = report.some((l) => l.startsWith(`[${s.name}]: `));
      for (const e of s.entries.values()) {
        if (['MODE', 'ENABLED'].includes(e.key) && s.name !== 'ALLSTAR') continue; // what kind of system it is
        const reported = report.some((l) => l.startsWith(`[${s.name}] ${e.key}: `));
        const mapped = comments.some((c) => c.includes(`[${s.name}]`) && c.includes(e.key.toUpperCase() === e.key ? e.key : e.key));
        if (!reported && !mapped && !sectionLine) missing.push(`[${s.name}] ${e.key}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('reports each unmapped setting on one line, naming the section and key and why', () => {
    const expected = [
      '[PROXY] Master: not needed: dmrhub serves all hotspots on one port',
      '[PROXY] DestportStart: not needed: dmrhub serves all hotspots on one port',
      '[SYSTEM] GENERATOR: not needed: ',
      "[SYSTEM] SUB_ACL: not mapped: the importer does not write access lists yet, so DENY:1 is not enforced; dmrhub reads the same grammar in [acl] and a link's sub_acl and tgid_acl",
      '[SYSTEM] TGID_TS1_ACL: not needed: PERMIT:ALL lets everything through',
      '[SYSTEM] ALLOW_UNREG_ID: not mapped: ',
      '[GLOBAL] SUB_ACL: not mapped: ',
      '[GLOBAL] REG_ACL: not needed: PERMIT:ALL',
      '[D-APRS]: not supported yet: ',
      '[GLOBAL] VALIDATE_SERVER_IDS: not mapped: dmrhub does not check source servers',
      '[OBP-PASSIVE]: not supported yet: TARGET_IP is empty: a passive link',
      '[UPLINK] TGID_TS2_ACL: not mapped: ',
      '[UPLINK] GROUP_HANGTIME: not needed: ',
      '[ECHO]: not needed: MODE PEER to an echo server',
      '[XLX-4001] OPTIONS: ignored: ',
      '[XLX-4001] GROUP_HANGTIME: not mapped: 3 s',
      '[REPORTS] REPORT: not mapped: dmrhub has no HBmonitor',
      '[MYSQL] USE_MYSQL: ignored: ',
      '[ALIASES] SUBSCRIBER_URL: not needed: ',
      '[ALLSTAR] ENABLED: not needed: AllStar is off',
      '[LOGGER] LOG_FILE: not needed: ',
    ];
    for (const start of expected) expect(report.filter((l) => l.startsWith(start)), start).toHaveLength(1);
    // The versions are in the links' comments now; nothing asks the other ends to change.
    expect(report.filter((l) => /PROTO_VER|ENHANCED_OBP|uplinks yet/.test(l))).toEqual([]);
    // No secret reaches stderr.
    for (const secret of ['hotspot-%-secret', 'a shared mesh key', 'key for bm', 'aprs-gateway', 'peer-key', 'mypassword'])
      expect(report.filter((l) => l.includes(`"${secret}"`) || l.includes(` ${secret} `))).toEqual([]);
    expect(report.at(-1)).toMatch(/^import-freedmr: \d+ not needed, .*wrote .*\(mode 0600\)$/);
  });

  it('maps rules.py where dmrhub has an equivalent and reports the rest', () => {
    const rules = report.filter((l) => l.includes('rules.py'));
    expect(rules.some((l) => l.includes("BRIDGES['2350'] SYSTEM SYSTEM") && l.includes('not mapped: GENERATOR 100'))).toBe(true);
    // The row of the PEER became the uplink's ts2_talkgroups: no line for it.
    expect(rules.filter((l) => l.includes('SYSTEM UPLINK'))).toEqual([]);
    expect(rules.some((l) => l.includes("BRIDGES['CROSS']: not mapped: its rows use different talkgroups (3100, 235)"))).toBe(true);
    expect(rules.some((l) => l.includes("BRIDGES['9'] SYSTEM NOWHERE") && l.includes('no such system'))).toBe(true);
    expect(rules.some((l) => l.includes('UNIT (line 26): ignored'))).toBe(true);
  });

  it('without --out writes the TOML to stdout, and the same file without rules.py still loads', () => {
    const r = run([CFG]);
    expect(r.code).toBe(0);
    const parsed = parseConfigText(r.out, FIXTURES);
    expect(parsed.ok).toBe(true);
    // Without rules.py FreeDMR carried nothing on BM-LINK (its name does not start with OBP).
    if (parsed.ok) expect(parsed.config.core.links.map((l) => l.name)).toEqual(['OBP-NATIONAL']);
    expect(r.out).toMatch(/name = "BM-LINK"[^\n]*\n(?:.*\n)*?enabled = false/);
    expect(r.err).toContain('[BM-LINK]: changed: its name does not start with OBP');
  });
});

describe('import-freedmr: other layouts', () => {
  const imp = (cfg: string, rules?: string) => {
    const r = importFreeDmr(cfg, 'x.cfg', rules === undefined ? undefined : { text: rules, file: 'rules.py' });
    const parsed = parseConfigText(r.toml, tmpdir());
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors) + '\n' + r.toml);
    return { ...r, config: parsed.config };
  };

  it('a single MASTER without GENERATOR keeps its own address and port, and its rules.py rows become statics', () => {
    const cfg = [
      '[GLOBAL]', 'SERVER_ID: 0',
      '[REPEATERS]', 'MODE: MASTER', 'ENABLED: True', 'IP:', 'PORT: 62031', 'PASSPHRASE: s3cret', 'GENERATOR: 1', 'MAX_PEERS: 50',
      'DEFAULT_REFLECTOR: 0', 'TS1_STATIC:', 'TS2_STATIC:', 'USE_ACL: True', 'TGID_TS1_ACL: DENY:1-99', 'TGID_TS2_ACL: DENY:1-99',
      '[SECOND]', 'MODE: MASTER', 'ENABLED: True', 'PORT: 62032', 'PASSPHRASE: other',
      '[OBP-1]', 'MODE: OPENBRIDGE', 'NETWORK_ID: 5', 'PORT: 62044', 'PASSPHRASE: k', 'TARGET_IP: obp.example.org', 'TARGET_PORT: 62044',
      '[OBP-2]', 'MODE: OPENBRIDGE', 'NETWORK_ID: 6', 'PORT: 62045', 'PASSPHRASE: k', 'TARGET_IP: 192.0.2.1', 'TARGET_PORT: 62045',
    ].join('\n');
    const rules = `BRIDGES = {'3100': [{'SYSTEM': 'REPEATERS', 'TS': 1, 'TGID': 3100, 'ACTIVE': True, 'TIMEOUT': 10, 'TO_TYPE': 'NONE', 'ON': [], 'OFF': [], 'RESET': []}],
      '#4000': [{'SYSTEM': 'REPEATERS', 'TS': 2, 'TGID': 9, 'ACTIVE': True, 'TIMEOUT': 10, 'TO_TYPE': 'OFF', 'ON': [], 'OFF': [], 'RESET': []}]}`;
    const { config, report } = imp(cfg, rules);
    expect(config.hbp).toMatchObject({ address: '0.0.0.0', port: 62031 });
    expect(config.core.hbp).toMatchObject({ passphrase: 's3cret', maxPeers: 50 });
    expect(config.core.routing.ts1Static).toEqual([3100]);
    expect(config.core.routing.defaultReflector).toBe(4000);
    expect(report.some((l) => l.startsWith('[SECOND]: not mapped: a second MASTER (port 62032)'))).toBe(true);
    expect(report.some((l) => l.startsWith('[SECOND] PASSPHRASE: not mapped: differs'))).toBe(true);
    expect(report.some((l) => l.startsWith('[REPEATERS] TGID_TS1_ACL/TGID_TS2_ACL: not mapped: ') && l.includes('prohibited_talkgroups'))).toBe(true);
    expect(report.some((l) => l.startsWith('[OBP-1]: not mapped: TARGET_IP "obp.example.org" is a host name'))).toBe(true);
    // SERVER_ID 0: a link cannot run, so it is kept but switched off.
    expect(config.core.links).toEqual([]);
    expect(report.some((l) => l.startsWith('[GLOBAL] SERVER_ID: changed: 0'))).toBe(true);
  });

  it('a PEER whose MASTER_IP is a host name is written disabled, with a line saying why', () => {
    const cfg = [
      '[M]', 'MODE: MASTER', 'PASSPHRASE: s3cret', 'GENERATOR: 1', 'PORT: 62031',
      '[NET]', 'MODE: PEER', 'ENABLED: True', 'IP:', 'PORT: 62031', 'MASTER_IP: master.example.org', 'MASTER_PORT: 62031',
      'PASSPHRASE: k', 'CALLSIGN: N0CALLSIGN', 'RADIO_ID: 235000103', 'OPTIONS:', 'GROUP_HANGTIME: 5',
    ].join('\n');
    const rules = `BRIDGES = {'3100': [{'SYSTEM': 'NET', 'TS': 1, 'TGID': 3100, 'ACTIVE': True, 'TIMEOUT': 10, 'TO_TYPE': 'NONE', 'ON': [], 'OFF': [], 'RESET': []}],
      '2350': [{'SYSTEM': 'NET', 'TS': 2, 'TGID': 2350, 'ACTIVE': False, 'TIMEOUT': 10, 'TO_TYPE': 'ON', 'ON': [2350], 'OFF': [], 'RESET': []}]}`;
    const { config, report, toml } = imp(cfg, rules);
    // A disabled uplink is checked by the loader but not started.
    expect(config.core.uplinks).toEqual([]);
    expect(toml).toMatch(/\[\[uplinks\]\]\nname = "NET"[^\n]*\nenabled = false[^\n]*\n(?:.*\n)*?address = "0\.0\.0\.0" +# \[NET\] MASTER_IP is the host name "master\.example\.org"/);
    expect(report.filter((l) => l.startsWith('[NET] MASTER_IP: changed: "master.example.org" is a host name'))).toHaveLength(1);
    // Its PORT is [hbp]'s: the uplink takes any free port.
    expect(toml).toMatch(/local_port = 0 /);
    expect(report.some((l) => l.startsWith('[NET] PORT: changed: 62031 is already the port'))).toBe(true);
    expect(report.some((l) => l.startsWith('[NET] CALLSIGN: changed: "N0CALLSIGN" is cut'))).toBe(true);
    expect(toml).toMatch(/ts1_talkgroups = \[3100\]/);
    expect(toml).not.toMatch(/ts2_talkgroups/);
    expect(report.some((l) => l.includes("BRIDGES['2350'] SYSTEM NET") && l.includes('not mapped: inactive ON row'))).toBe(true);
    // Enabled, it loads as an uplink with its statics from rules.py.
    const on = parseConfigText(toml.replace(/^enabled = false(.*)$/m, 'enabled = true').replace('address = "0.0.0.0"', 'address = "192.0.2.40"'), tmpdir());
    if (!on.ok) throw new Error(JSON.stringify(on.errors));
    expect(on.config.core.uplinks[0]).toMatchObject({ name: 'NET', address: '192.0.2.40', ts1: [3100], ts2: null, rptc: { callsign: 'N0CALLSI' } });
  });

  it('OPENBRIDGE versions: 5 and 4 become FBP links, 1 an OpenBridge v1 link, 2 and 3 are reported', () => {
    const obp = (name: string, port: number, ...more: string[]): string[] =>
      [`[${name}]`, 'MODE: OPENBRIDGE', 'NETWORK_ID: 5', `PORT: ${port}`, 'PASSPHRASE: k', 'TARGET_IP: 192.0.2.1', `TARGET_PORT: ${port}`, ...more];
    const cfg = [
      '[GLOBAL]', 'SERVER_ID: 2350', 'VALIDATE_SERVER_IDS: True',
      ...obp('OBP-DEFAULT', 62040),
      ...obp('OBP-V4', 62041, 'PROTO_VER: 4', 'RELAX_CHECKS: False'),
      ...obp('OBP-V1', 62042, 'PROTO_VER: 1'),
      ...obp('OBP-V2', 62043, 'PROTO_VER: 2', 'ENHANCED_OBP: False'),
      ...obp('OBP-V9', 62044, 'PROTO_VER: 9'),
    ].join('\n');
    const { config, report } = imp(cfg);
    expect(config.core.links.map((l) => [l.name, l.protocol, l.followAddress, l.checkSource])).toEqual([
      ['OBP-DEFAULT', 'fbp', true, false],
      ['OBP-V4', 'fbp', false, true],
      ['OBP-V1', 'openbridge', false, false],
      ['OBP-V2', 'fbp', false, false],
    ]);
    const line = (start: string) => report.filter((l) => l.startsWith(start));
    expect(line('[OBP-DEFAULT] ')).toEqual([]);
    expect(line('[OBP-V4] PROTO_VER: changed: 4: a dmrhub FBP link receives v4 and v5 but sends v5')[0]).toContain('set PROTO_VER: 5 on the other server');
    expect(line('[OBP-V4] ENHANCED_OBP: changed: FreeDMR moved this link')).toHaveLength(1);
    expect(line('[OBP-V1] ENHANCED_OBP: changed: True (the default): a dmrhub OpenBridge v1 link')).toHaveLength(1);
    expect(line('[OBP-V2] PROTO_VER: changed: 2: v2 is FreeDMR\'s old DMRF framing')).toHaveLength(1);
    expect(line('[OBP-V2] ENHANCED_OBP: changed: False: a dmrhub FBP link always sends keepalives')).toHaveLength(1);
    expect(line('[OBP-V9]: not mapped: PROTO_VER 9')).toHaveLength(1);
    expect(line('[GLOBAL] VALIDATE_SERVER_IDS: not mapped: ')[0]).toContain('known_servers');
  });

  it('an empty passphrase is reported, not written', () => {
    const { config, report } = imp('[M]\nMODE: MASTER\nPASSPHRASE:\nGENERATOR: 1\nPORT: 62031\n');
    expect(config.core.hbp.passphrase).toBe('passw0rd');
    expect(report.some((l) => l.startsWith('[M] PASSPHRASE: not mapped: empty'))).toBe(true);
  });
});

describe('import-freedmr: malformed input', () => {
  const write = (name: string, text: string): string => {
    const p = join(tmp(), name);
    writeFileSync(p, text);
    return p;
  };

  it('a line that is not KEY: value stops with its line number and exit code 1, writing nothing', () => {
    const cfg = write('bad.cfg', '[GLOBAL]\nSERVER_ID: 1\nthis line has no separator\n');
    const out = join(tmp(), 'out.toml');
    const r = run([cfg, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${cfg}:3: expected "KEY: value" or "KEY = value" in [GLOBAL]`);
    expect(() => statSync(out)).toThrow();
  });

  it('other INI mistakes name their line too', () => {
    expect(() => parseIni('KEY: 1\n', 'a.cfg')).toThrow(/a\.cfg:1: expected a \[SECTION\] header/);
    expect(() => parseIni('[A]\nK: 1\n\nk = 2\n', 'a.cfg')).toThrow(/a\.cfg:4: \[A\] k is set twice \(first on line 2\)/);
    expect(() => parseIni('[A]\n[A]\n', 'a.cfg')).toThrow(/a\.cfg:2: section \[A\] appears twice/);
    expect(() => parseIni('[A]\nP: 100%\n', 'a.cfg')).toThrow(/a\.cfg:2: .*lone "%"/);
    expect(() => importFreeDmr('[M]\nMODE: MASTER\nPORT: sixty\n', 'm.cfg')).toThrow(/m\.cfg:3: \[M\] PORT: expected a whole number/);
  });

  it('a rules.py value that is not a literal stops with its line number and exit code 1', () => {
    const rules = write('rules.py', "import os\n\nBRIDGES = {\n  '91': [\n    {'SYSTEM': os.environ['X']},\n  ],\n}\n");
    const r = run([CFG, rules]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${rules}:5: "os" is not a literal`);
    expect(r.out).toBe('');
  });

  it('an unclosed dict, a missing BRIDGES and a missing file are clear errors', () => {
    expect(run([CFG, write('r1.py', "BRIDGES = {\n 'a': [\n")]).err).toMatch(/r1\.py:\d+: the file ends where a value should be/);
    expect(run([CFG, write('r2.py', 'X = 1\n')]).err).toContain('no "BRIDGES = {…}" assignment found');
    const gone = run([join(tmp(), 'missing.cfg')]);
    expect(gone.code).toBe(1);
    expect(gone.err).toContain('cannot read: no such file');
    expect(run([]).code).toBe(2);
  });
});

describe('the Python literal reader', () => {
  it('reads dicts, lists, tuples, strings, numbers, booleans and None, and skips other statements', () => {
    const src = [
      '#!/usr/bin/env python3',
      'from x import y',
      "A = {'k': [1, -2, 0x10, 1_000, 2.5], \"s\": 'it\\'s' ' joined', 'b': (True, False, None), r'raw': '''tri",
      "ple'''}",
      'def f():',
      '    B = 3',
      'C = [',
      '  "x",  # a comment',
      ']',
    ].join('\n');
    const [a, c] = parsePythonAssignments(src, 't.py');
    expect(a!.name).toBe('A');
    expect(a!.line).toBe(3);
    if (!isDict(a!.value)) throw new Error('not a dict');
    expect(dictGet(a!.value, 'k')).toEqual([1, -2, 16, 1000, 2.5]);
    expect(dictGet(a!.value, 's')).toBe("it's joined");
    expect(dictGet(a!.value, 'b')).toEqual([true, false, null]);
    expect(dictGet(a!.value, 'raw')).toBe('tri\nple');
    expect(c).toMatchObject({ name: 'C', value: ['x'], line: 7 });
  });
});
