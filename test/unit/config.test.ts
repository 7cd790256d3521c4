import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_CORE_CONFIG } from '../../src/core/config.js';
import {
  formatConfigErrors,
  loadConfigFile,
  parseConfigText,
  redactConfig,
  type AppConfig,
  type ConfigError,
} from '../../src/config/load.js';
import { indexKeyLines, locateKey } from '../../src/config/locate.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BASE = resolve('/srv/dmrhub');

function ok(text: string, baseDir = BASE): AppConfig {
  const result = parseConfigText(text, baseDir);
  if (!result.ok) throw new Error(`expected the config to load:\n${formatConfigErrors(result.errors, 'text')}`);
  return result.config;
}

function errorsOf(text: string): ConfigError[] {
  const result = parseConfigText(text, BASE);
  if (result.ok) throw new Error('expected the config to be rejected');
  return result.errors;
}

function errorFor(errors: ConfigError[], key: string): ConfigError {
  const found = errors.find((e) => e.key === key);
  if (found === undefined) throw new Error(`no error for ${key}; got ${JSON.stringify(errors)}`);
  return found;
}

describe('config loading', () => {
  it('loads the example file with the default core values', () => {
    const path = join(repoRoot, 'config/dmrhub.example.toml');
    const result = loadConfigFile(path);
    if (!result.ok) throw new Error(formatConfigErrors(result.errors, path));
    const cfg = result.config;
    // The console is on by default, so the file's default asks the core for its state report every
    // second; the core's own default (older event logs, scenarios) is off.
    expect(cfg.core).toEqual({ ...DEFAULT_CORE_CONFIG, console: { snapshotMs: 1000 } });
    expect(cfg.source).toBe(resolve(path));
    expect(cfg.server).toEqual({ name: 'dmrhub' });
    expect(cfg.hbp).toEqual({ address: '127.0.0.1', port: 62031, recvBufferBytes: 4194304 });
    expect(cfg.record).toEqual({
      enabled: false,
      path: join(repoRoot, 'config/recordings/dmrhub-events.ndjson'),
      flightRecorderEvents: 20000,
      flightRecorderDir: join(repoRoot, 'config/data'),
    });
    expect(cfg.log).toEqual({ level: 'info', pretty: 'auto' });
  });

  it('loads the commented [[links]] examples of the example file once uncommented (OpenBridge and FBP)', () => {
    const example = readFileSync(join(repoRoot, 'config/dmrhub.example.toml'), 'utf8');
    // Each block: from "# [[links]]" up to the first line that is not "# …" (a bare "#" ends it
    // too); its "# # " lines stay comments.
    const blocks = example.split('\n# [[links]]\n').slice(1).map((rest) => {
      const lines = rest.split('\n');
      const end = lines.findIndex((l) => !l.startsWith('# '));
      return ['[[links]]', ...lines.slice(0, end)].map((l) => l.replace(/^# /, '')).join('\n');
    });
    expect(blocks).toHaveLength(2);
    const cfg = ok(`[server]\nid = 235001\n\n${blocks.join('\n\n')}\n`);
    // The core's address and port are the other server's.
    expect(cfg.core.links.map((l) => [l.name, l.protocol, l.address, l.port, l.networkId])).toEqual([
      ['freedmr', 'openbridge', '192.0.2.10', 62044, 9990],
      ['freedmr-fbp', 'fbp', '192.0.2.10', 62047, 9990],
    ]);
    expect(cfg.core.links[1]).toMatchObject({ followAddress: false, maxHops: 10, maxAgeMs: 5000, knownServers: [] });
  });

  it('loads the minimal test config', () => {
    const result = loadConfigFile(join(repoRoot, 'config/test-minimal.toml'));
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.config.hbp.port).toBe(0);
      expect(result.config.log).toEqual({ level: 'silent', pretty: false });
      expect(result.config.core).toEqual(DEFAULT_CORE_CONFIG);
    }
  });

  it('gives every default for empty text', () => {
    const cfg = ok('');
    expect(cfg.core).toEqual({ ...DEFAULT_CORE_CONFIG, console: { snapshotMs: 1000 } });
    expect(cfg.source).toBeNull();
    expect(cfg.server.name).toBe('dmrhub');
    expect(cfg.hbp).toEqual({ address: '127.0.0.1', port: 62031, recvBufferBytes: 4 * 1024 * 1024 });
    expect(cfg.record).toEqual({
      enabled: false,
      path: join(BASE, 'recordings/dmrhub-events.ndjson'),
      flightRecorderEvents: 20000,
      flightRecorderDir: join(BASE, 'data'),
    });
    expect(cfg.log).toEqual({ level: 'info', pretty: 'auto' });
    // The defaults are copies: changing one loaded config must not leak into the next.
    cfg.core.routing.ts1Static.push(91);
    expect(ok('').core.routing.ts1Static).toEqual([]);
    expect(DEFAULT_CORE_CONFIG.routing.ts1Static).toEqual([]);
  });

  it('applies values the file sets and keeps defaults for the rest', () => {
    const cfg = ok(
      [
        '[server]',
        'id = 4294967295',
        'name = "hub-1"',
        '[hbp]',
        'address = "::"',
        'port = 0',
        'passphrase = "s3cret"',
        '[routing]',
        'ts2_static = [91, 3100]',
        '[limits]',
        'rate_grace_packets = 0',
        '[log]',
        'pretty = false',
      ].join('\n'),
    );
    expect(cfg.core.serverId).toBe(4294967295);
    expect(cfg.server.name).toBe('hub-1');
    expect(cfg.hbp.address).toBe('::');
    expect(cfg.hbp.port).toBe(0);
    expect(cfg.core.hbp.passphrase).toBe('s3cret');
    expect(cfg.core.routing.ts2Static).toEqual([91, 3100]);
    expect(cfg.core.routing.ts1Static).toEqual([]);
    expect(cfg.core.limits).toEqual({ maxPacketRate: 25, rateGracePackets: 0, streamNoticesPerMinute: 30 });
    expect(cfg.log.pretty).toBe(false);
    expect(cfg.core.timers).toEqual(DEFAULT_CORE_CONFIG.timers);
  });

  it('converts seconds to integer milliseconds', () => {
    const cfg = ok(
      [
        '[hbp]',
        'login_timeout = 2.5',
        'ping_interval = 1',
        '[timers]',
        'group_hangtime = 0',
        'collision_window = 0.36',
        'stream_timeout = 0.0014',
        'max_stream = 86400',
        'stream_id_memory = 12.5',
      ].join('\n'),
    );
    expect(cfg.core.hbp.loginTimeoutMs).toBe(2500);
    expect(cfg.core.hbp.pingIntervalMs).toBe(1000);
    expect(cfg.core.timers).toEqual({
      groupHangtimeMs: 0,
      collisionWindowMs: 360,
      streamTimeoutMs: 1,
      maxStreamMs: 86_400_000,
      streamIdMemoryMs: 12_500,
    });
    for (const ms of Object.values(cfg.core.timers)) expect(Number.isInteger(ms)).toBe(true);
  });

  it('resolves relative record paths against the base directory and keeps absolute ones', () => {
    const cfg = ok('[record]\npath = "logs/events.ndjson"\nflight_recorder_dir = "../dumps"\n');
    expect(cfg.record.path).toBe(join(BASE, 'logs/events.ndjson'));
    expect(cfg.record.flightRecorderDir).toBe(resolve(BASE, '../dumps'));
    const absolute = resolve('/var/log/dmrhub.ndjson');
    expect(ok(`[record]\npath = ${JSON.stringify(absolute)}\n`).record.path).toBe(absolute);
  });

  it('resolves relative paths against the directory of a loaded file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmrhub-config-'));
    try {
      const file = join(dir, 'hub.toml');
      writeFileSync(file, '[record]\nenabled = true\npath = "rec.ndjson"\n');
      const result = loadConfigFile(file);
      expect(result.ok).toBe(true);
      if (result.ok) {
        expect(result.config.record.enabled).toBe(true);
        expect(result.config.record.path).toBe(join(dir, 'rec.ndjson'));
        expect(result.config.record.flightRecorderDir).toBe(join(dir, 'data'));
        expect(result.config.source).toBe(file);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('overload limits', () => {
  it('default to a 10,000-datagram turn budget, a 250 ms receive wait and a 1 MiB send queue', () => {
    expect(ok('').overload).toEqual({ fanoutPerTurn: 10_000, maxReceiveWaitMs: 250, sendQueueBytes: 1024 * 1024 });
  });

  it('are read from [limits]', () => {
    const cfg = ok('[limits]\nfanout_per_turn = 40\nmax_receive_wait = 0.5\nsend_queue_bytes = 65536\n');
    expect(cfg.overload).toEqual({ fanoutPerTurn: 40, maxReceiveWaitMs: 500, sendQueueBytes: 65_536 });
  });

  it('name a bad value and its line', () => {
    const errors = errorsOf('[limits]\nmax_packet_rate = 25\nfanout_per_turn = 0\nmax_receive_wait = 0\nsend_queue_bytes = "1M"\n');
    expect(errors.map((e) => [e.key, e.line])).toEqual([
      ['limits.fanout_per_turn', 3],
      ['limits.max_receive_wait', 4],
      ['limits.send_queue_bytes', 5],
    ]);
    expect(errorFor(errors, 'limits.fanout_per_turn').message).toMatch(/^expected an integer number of datagrams 1\.\.100000000.*, got 0$/);
    expect(errorFor(errors, 'limits.max_receive_wait').message).toMatch(/^expected a number of seconds >= 0\.001.*, got 0$/);
  });
});

describe('config errors', () => {
  it('names an unknown key and its line', () => {
    const errors = errorsOf('[server]\nname = "x"\n\n[timers]\ngroup_hangtime = 2\nhang = 3\n');
    expect(errors).toHaveLength(1);
    const e = errorFor(errors, 'timers.hang');
    expect(e.line).toBe(6);
    expect(e.message).toMatch(/unknown key/);
    expect(e.message).toMatch(/group_hangtime/); // lists what is accepted
  });

  it('points an unknown section at its header', () => {
    const errors = errorsOf('[hbp]\nport = 1\n\n# mistyped\n[timer]\nhang = 3\n');
    expect(errors).toHaveLength(1);
    const e = errorFor(errors, 'timer');
    expect(e.line).toBe(5);
    expect(e.message).toMatch(/unknown section/);
  });

  it('reports a string where a number belongs, with the expected form', () => {
    const e = errorFor(errorsOf('[timers]\n\ngroup_hangtime = "five"\n'), 'timers.group_hangtime');
    expect(e.line).toBe(3);
    expect(e.message).toBe('expected a number of seconds >= 0 and <= 86400, got "five"');
  });

  it('reports an out-of-range port', () => {
    const e = errorFor(errorsOf('[hbp]\naddress = "0.0.0.0"\nport = 70000\n'), 'hbp.port');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/^expected a UDP port 0\.\.65535.*, got 70000$/);
  });

  it('reports a negative hangtime', () => {
    const e = errorFor(errorsOf('[timers]\ngroup_hangtime = -1\n'), 'timers.group_hangtime');
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/^expected a number of seconds >= 0.*, got -1$/);
  });

  it('reports every problem at once, in file order', () => {
    const text = [
      '[hbp]', //                      1
      'port = 70000', //               2
      'passphrase = "é"', //           3
      'max_missed_pings = 2.5', //     4
      '[timers]', //                   5
      'group_hangtime = -1', //        6
      'collision_window = 0', //       7
      'hang = 3', //                   8
      '[routing]', //                  9
      'ts2_static = [', //            10
      '  91,', //                     11
      '  "TG9",', //                  12
      ']', //                         13
      '[log]', //                     14
      'level = "loud"', //            15
      'pretty = "yes"', //            16
      '[extras]', //                  17
      'x = 1', //                     18
    ].join('\n');
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.key, e.line])).toEqual([
      ['hbp.port', 2],
      ['hbp.passphrase', 3],
      ['hbp.max_missed_pings', 4],
      ['timers.group_hangtime', 6],
      ['timers.collision_window', 7],
      ['timers.hang', 8],
      ['routing.ts2_static.1', 10],
      ['log.level', 15],
      ['log.pretty', 16],
      ['extras', 17],
    ]);
    for (const e of errors) expect(e.message.length).toBeGreaterThan(0);
    expect(errorFor(errors, 'routing.ts2_static.1').message).toMatch(/talkgroup.*got "TG9"/);
  });

  it('reports TOML syntax errors with their line', () => {
    const errors = errorsOf('[hbp]\nport = 1\naddress = \n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ key: '', line: 3 });
    expect(errors[0]?.message).toMatch(/syntax/i);
    expect(errors[0]?.message).not.toContain('\n');
  });

  it('rejects wrong kinds of value for sections, lists and switches', () => {
    const errors = errorsOf('timers = 5\n[routing]\nts1_static = 91\n[record]\nenabled = "yes"\n');
    expect(errorFor(errors, 'timers').line).toBe(1);
    expect(errorFor(errors, 'routing.ts1_static').message).toMatch(/array of talkgroup/);
    expect(errorFor(errors, 'record.enabled').message).toBe('expected true or false, got "yes"');
  });

  it('rejects host names, over-long static lists and repeated talkgroups', () => {
    expect(errorFor(errorsOf('[hbp]\naddress = "localhost"\n'), 'hbp.address').message).toMatch(/IPv4 or IPv6/);
    const tooMany = errorsOf('[routing]\nmax_static_per_slot = 2\nts1_static = [1, 2, 3]\n');
    expect(errorFor(tooMany, 'routing.ts1_static')).toMatchObject({ line: 3 });
    const twice = errorsOf('[routing]\nts2_static = [91, 3100, 91]\n');
    expect(errorFor(twice, 'routing.ts2_static.2').message).toMatch(/91.*twice/);
  });

  it('rejects a duration that rounds to zero milliseconds where zero is not allowed', () => {
    expect(errorFor(errorsOf('[timers]\nstream_timeout = 0.0004\n'), 'timers.stream_timeout').line).toBe(2);
  });

  it('finds keys written as dotted keys, quoted keys and inline tables', () => {
    const errors = errorsOf('hbp.port = -1\n"timers".\'max_stream\' = 0\nlog = { level = "x" }\n');
    expect(errors.map((e) => [e.key, e.line])).toEqual([
      ['hbp.port', 1],
      ['timers.max_stream', 2],
      ['log.level', 3],
    ]);
  });

  it('reports a missing file without throwing', () => {
    const result = loadConfigFile(join(tmpdir(), 'dmrhub-no-such-dir', 'none.toml'));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatchObject({ key: '', line: null });
      expect(result.errors[0]?.message).toMatch(/not found/);
    }
  });

  it('formats errors one per line', () => {
    const text = formatConfigErrors(
      [
        { key: 'timers.hang', line: 6, message: 'unknown key' },
        { key: '', line: 3, message: 'TOML syntax error' },
        { key: 'hbp.port', line: null, message: 'expected a port' },
      ],
      'hub.toml',
    );
    expect(text.split('\n')).toEqual([
      'hub.toml:6: timers.hang: unknown key',
      'hub.toml:3: TOML syntax error',
      'hub.toml: hbp.port: expected a port',
    ]);
  });
});

describe('links and local talkgroups', () => {
  const LINK = (extra = ''): string =>
    `[server]\nid = 9991\n\n[[links]]\nname = "fd"\nport = 62045\ntarget_address = "127.0.0.1"\ntarget_port = 62044\npassphrase = "passw0rd"\nnetwork_id = 9990\n${extra}`;

  it('reads [[links]] into the core (one socket each, in file order) and the shell', () => {
    const cfg = ok(LINK('talkgroups = [2350]\n') + '\n[[links]]\nname = "off"\nenabled = false\nport = 1\ntarget_address = "::1"\ntarget_port = 2\npassphrase = "x"\n' + '\n[[links]]\nname = "bm"\naddress = "0.0.0.0"\nport = 62046\ntarget_address = "192.0.2.7"\ntarget_port = 62031\npassphrase = "secret"\ncheck_source = false\npreserve_source_peer = true\n');
    // An OpenBridge v1 link unless `protocol` says otherwise; the FBP keys and ACLs at their defaults.
    const v1 = { protocol: 'openbridge', followAddress: false, maxHops: 10, maxAgeMs: 5000, knownServers: [], subAcl: '', tgidAcl: '' };
    expect(cfg.core.links).toEqual([
      { name: 'fd', socket: 1, address: '127.0.0.1', port: 62044, passphrase: 'passw0rd', networkId: 9990, preserveSourcePeer: false, checkSource: true, talkgroups: [2350], ...v1 },
      { name: 'bm', socket: 2, address: '192.0.2.7', port: 62031, passphrase: 'secret', networkId: 0, preserveSourcePeer: true, checkSource: false, talkgroups: [], ...v1 },
    ]);
    expect(cfg.links).toEqual([
      { name: 'fd', address: '127.0.0.1', port: 62045 },
      { name: 'bm', address: '0.0.0.0', port: 62046 },
    ]);
    expect(ok('').core.links).toEqual([]);
  });

  it('reads an FBP link: protocol, follow_address, max_hops, max_age, known_servers', () => {
    const cfg = ok(LINK('protocol = "fbp"\nfollow_address = true\nmax_hops = 6\nmax_age = 2.5\nknown_servers = [3101, 2341]\n'));
    expect(cfg.core.links[0]).toMatchObject({ protocol: 'fbp', followAddress: true, maxHops: 6, maxAgeMs: 2500, knownServers: [3101, 2341] });
    expect(errorFor(errorsOf(LINK('protocol = "fbp5"\n')), 'links.0.protocol').message).toMatch(/"openbridge" \(v1\) or "fbp"/);
    expect(errorFor(errorsOf(LINK('max_hops = 0\n')), 'links.0.max_hops').message).toMatch(/1\.\.255/);
  });

  it('reads local talkgroups as numbers and ranges, with the FreeDMR defaults', () => {
    expect(ok('').core.routing.localTalkgroups).toEqual([
      [1, 79],
      [4000, 4000],
      [5000, 5000],
      [9990, 9999],
    ]);
    expect(ok('[routing]\nlocal_talkgroups = [70, "2350 - 2359"]\n').core.routing.localTalkgroups).toEqual([
      [70, 70],
      [2350, 2359],
    ]);
    expect(ok('[routing]\nlocal_talkgroups = []\n').core.routing.localTalkgroups).toEqual([]);
    const bad = errorsOf('[routing]\nlocal_talkgroups = [\n  "9-2",\n]\n');
    expect(errorFor(bad, 'routing.local_talkgroups.0')).toMatchObject({ line: 2 });
    expect(errorFor(errorsOf('[routing]\nlocal_talkgroups = ["x"]\n'), 'routing.local_talkgroups.0').message).toMatch(/range "first-last"/);
  });

  it('names the line of each bad [[links]] key, counting the tables', () => {
    const text = LINK() + '\n[[links]]\nname = "fd2"\nport = 62046\ntarget_address = "nowhere"\ntarget_port = 62044\npassphrase = "p"\ncolour = 1\n';
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.key, e.line])).toEqual([
      ['links.1.target_address', 15],
      ['links.1.colour', 18],
    ]);
    expect(errorFor(errors, 'links.1.colour').message).toMatch(/unknown key in \[\[links\]\]; expected one of name, enabled/);
  });

  it('refuses a link that would carry a local or prohibited talkgroup, a repeated name or port, and a link without server.id', () => {
    const text = LINK('talkgroups = [2350, 70, 91]\n') + '\n[routing]\nprohibited_talkgroups = [91]\n\n[[links]]\nname = "fd"\nport = 62045\ntarget_address = "127.0.0.1"\ntarget_port = 1\npassphrase = "p"\n';
    const errors = errorsOf(text);
    expect(errorFor(errors, 'links.0.talkgroups.1').message).toMatch(/talkgroup 70 is local/);
    expect(errorFor(errors, 'links.0.talkgroups.2').message).toMatch(/talkgroup 91 is prohibited/);
    expect(errorFor(errors, 'links.1.name')).toMatchObject({ line: 17 });
    expect(errorFor(errors, 'links.1.port').message).toMatch(/127.0.0.1:62045 is already used by link "fd"/);
    expect(errorFor(errorsOf(LINK().replace('id = 9991', 'id = 0')), 'links.0').message).toMatch(/server.id/);
    expect(errorFor(errorsOf(LINK().replace('port = 62045', 'port = 62031')), 'links.0.port').message).toMatch(/already used by \[hbp\]/);
    expect(errorFor(errorsOf(LINK().replace('"127.0.0.1"', '"::1"')), 'links.0.target_address')).toMatchObject({ line: 7, message: expect.stringMatching(/IPv4 address like the link's own address/) });
  });
});

describe('uplinks', () => {
  const UPLINK = (extra = ''): string =>
    `[[uplinks]]\nname = "freedmr"\naddress = "192.0.2.10"\nport = 62031\npassphrase = "master pass"\npeer_id = 234000199\ncallsign = "N0HUB"\n${extra}`;

  it('reads [[uplinks]] into the core (sockets after the links’) with the RPTC fields at their wire widths', () => {
    const link = '[server]\nid = 9991\n[[links]]\nname = "fd"\nport = 62045\ntarget_address = "127.0.0.1"\ntarget_port = 62044\npassphrase = "p"\n';
    const cfg = ok(
      link +
        UPLINK('options = "TS2=91;TS1=2350"\nrx_freq = 434000000\ncolor_code = 3\nlatitude = 51.5\nlongitude = -0.12\nheight = 12\nlocation = "London"\n') +
        '\n[[uplinks]]\nname = "off"\nenabled = false\naddress = "::1"\npassphrase = "x"\npeer_id = 1\ncallsign = "X"\n' +
        '\n[[uplinks]]\nname = "xlx"\naddress = "192.0.2.20"\nport = 62030\nlocal_port = 40000\npassphrase = "passw0rd"\npeer_id = 234000198\ncallsign = "N0HUB"\nloose = true\nxlx_module = "D"\nts1_talkgroups = []\nts2_talkgroups = [9]\nping_interval = 2\nmax_missed_pongs = 5\nreconnect_min = 0.5\nreconnect_max = 10\n',
    );
    expect(cfg.core.uplinks).toEqual([
      {
        name: 'freedmr',
        socket: 2,
        address: '192.0.2.10',
        port: 62031,
        passphrase: 'master pass',
        peerId: 234000199,
        rptc: {
          callsign: 'N0HUB',
          rxFreq: '434000000',
          txFreq: '000000000',
          txPower: '00',
          colorCode: '03',
          latitude: '51.5000',
          longitude: '-0.1200',
          height: '012',
          location: 'London',
          description: '',
          slots: '3',
          url: '',
          softwareId: 'dmrhub',
          packageId: '',
        },
        options: 'TS2=91;TS1=2350',
        ts1: null,
        ts2: null,
        loose: false,
        xlxModule: 0,
        pingIntervalMs: 5000,
        maxMissedPongs: 3,
        retryMinMs: 1000,
        retryMaxMs: 60_000,
      },
      expect.objectContaining({ name: 'xlx', socket: 3, loose: true, xlxModule: 4004, ts1: [], ts2: [9], pingIntervalMs: 2000, maxMissedPongs: 5, retryMinMs: 500, retryMaxMs: 10_000 }),
    ]);
    expect(cfg.uplinks).toEqual([
      { name: 'freedmr', address: '0.0.0.0', port: 0 },
      { name: 'xlx', address: '0.0.0.0', port: 40000 },
    ]);
    expect(ok('').core.uplinks).toEqual([]);
    expect(ok(UPLINK('xlx_module = 4026\n')).core.uplinks[0]!.xlxModule).toBe(4026);
  });

  it('names the line of each bad [[uplinks]] key, counting the tables', () => {
    const text = UPLINK() + '\n[[uplinks]]\nname = "two"\naddress = "nowhere"\npassphrase = "p"\npeer_id = 0\ncallsign = "TOOLONGCALL"\ncolour = 1\n';
    const errors = errorsOf(text);
    expect(errors.map((e) => [e.key, e.line])).toEqual([
      ['uplinks.1.address', 11],
      ['uplinks.1.peer_id', 13],
      ['uplinks.1.callsign', 14],
      ['uplinks.1.colour', 15],
    ]);
    expect(errorFor(errors, 'uplinks.1.colour').message).toMatch(/unknown key in \[\[uplinks\]\]; expected one of name, enabled, address/);
    expect(errorFor(errors, 'uplinks.1.callsign').message).toMatch(/expected a callsign of 1..8 printable ASCII characters, got "TOOLONGCALL"/);
    const missing = errorsOf('[[uplinks]]\nname = "a"\naddress = "192.0.2.1"\n');
    expect(missing.map((e) => e.key).sort()).toEqual(['uplinks.0.callsign', 'uplinks.0.passphrase', 'uplinks.0.peer_id']);
  });

  it('refuses a local address of the other family, a repeated name or local port, a bad module and a backoff upside down', () => {
    expect(errorFor(errorsOf(UPLINK('local_address = "::"\n')), 'uplinks.0.local_address')).toMatchObject({ line: 8, message: expect.stringMatching(/IPv4 address like the master's address 192.0.2.10/) });
    const twice = errorsOf(UPLINK('local_port = 62031\nlocal_address = "127.0.0.1"\n') + UPLINK());
    expect(errorFor(twice, 'uplinks.0.local_port').message).toMatch(/already used by \[hbp\]/);
    expect(errorFor(twice, 'uplinks.1.name').message).toMatch(/"freedmr" is used twice/);
    expect(errorFor(errorsOf(UPLINK('xlx_module = "DD"\n')), 'uplinks.0.xlx_module').message).toMatch(/module letter "A".."Z" or its number 4001..4026/);
    expect(errorFor(errorsOf(UPLINK('reconnect_min = 5\nreconnect_max = 2\n')), 'uplinks.0.reconnect_min').message).toMatch(/at most reconnect_max/);
  });

  it('keeps uplink passphrases out of redacted configs', () => {
    const json = JSON.stringify(redactConfig(ok(UPLINK())));
    expect(json).not.toContain('master pass');
    expect(json).toContain(`sha256:${createHash('sha256').update('master pass').digest('hex')}`);
  });
});

describe('redactConfig', () => {
  it('replaces the passphrase with its SHA-256 and leaves the config alone', () => {
    const cfg = ok('[hbp]\npassphrase = "hunter2"\n');
    const redacted = redactConfig(cfg);
    const json = JSON.stringify(redacted);
    expect(json).not.toContain('hunter2');
    const digest = createHash('sha256').update('hunter2').digest('hex');
    expect(redacted).toMatchObject({ core: { hbp: { passphrase: `sha256:${digest}` } } });
    expect(JSON.parse(json)).toEqual(redacted); // plain JSON-able data
    expect(cfg.core.hbp.passphrase).toBe('hunter2');
  });

  it('replaces link passphrases too', () => {
    const cfg = ok('[server]\nid = 1\n[[links]]\nname = "a"\nport = 62040\ntarget_address = "127.0.0.1"\ntarget_port = 62041\npassphrase = "linksecret"\n');
    const json = JSON.stringify(redactConfig(cfg));
    expect(json).not.toContain('linksecret');
    expect(json).toContain(`sha256:${createHash('sha256').update('linksecret').digest('hex')}`);
  });
});

describe('key locator', () => {
  it('steps over multi-line strings and arrays', () => {
    const text = [
      '[a]', //                         1
      'note = """', //                  2
      '[not_a_header]', //              3
      'fake = 1', //                    4
      '"""', //                         5
      'list = [', //                    6
      '  [1],  # nested', //            7
      '  "x = 2",', //                  8
      ']', //                           9
      "[ 'b' . c ]", //                10
      'd = 1', //                      11
    ].join('\n');
    const index = indexKeyLines(text);
    expect([...index.keys()].sort()).toEqual(['a', 'a.list', 'a.note', 'b', 'b.c', 'b.c.d']);
    expect(locateKey(text, 'b.c.d', index)).toBe(11);
    expect(locateKey(text, 'a.list.0', index)).toBe(6);
    expect(locateKey(text, 'zzz', index)).toBeNull();
    expect(locateKey(text, '', index)).toBeNull();
  });

  it('never throws on text it does not understand', () => {
    for (const text of ['[', '"unterminated = 1', "'x", 'a = """', '= 1', '[[a.]]\n.b = ', '\u0000\u0001']) {
      expect(() => indexKeyLines(text)).not.toThrow();
    }
  });
});

describe('parseConfigText on arbitrary input', () => {
  it('never throws, and every failure carries at least one error', () => {
    const tomlish = fc.stringMatching(/^[\[\]{}="'#.,\n a-z0-9_-]{0,60}$/);
    const example = [
      '[hbp]',
      'port = 62031',
      '[timers]',
      'collision_window = 0.36',
      '[routing]',
      'ts2_static = [91]',
    ].join('\n');
    // Arbitrary strings, TOML-looking noise, and a valid file cut short with noise appended.
    const damaged = fc.nat(example.length).chain((cut) => tomlish.map((tail) => example.slice(0, cut) + tail));
    fc.assert(
      fc.property(fc.oneof(fc.string(), tomlish, damaged), (text) => {
        const result = parseConfigText(text, BASE);
        if (!result.ok) {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors) expect(e.line === null || (Number.isInteger(e.line) && e.line >= 1)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('[console]', () => {
  it('defaults: on, 127.0.0.1:8080, read-only, no names, the audit log beside the file', () => {
    expect(ok('').console).toEqual({ enabled: true, address: '127.0.0.1', port: 8080, token: '', auditLog: join(BASE, 'data/console-audit.log') });
    expect(ok('').names).toEqual({ subscribers: [], talkgroups: [] });
    expect(ok('[console]\nenabled = false\n').core.console).toEqual({ snapshotMs: 0 });
    expect(ok('[console]\nsnapshot_interval = 0.25\n').core.console).toEqual({ snapshotMs: 250 });
  });

  it('takes paths relative to the file and a token of 16 or more characters', () => {
    const c = ok('[console]\ntoken = "abcdefghijklmnop"\nsubscriber_names = ["names/user.csv"]\ntalkgroup_names = "/var/lib/tg.json"\n');
    expect(c.console.token).toBe('abcdefghijklmnop');
    expect(c.names).toEqual({ subscribers: [join(BASE, 'names/user.csv')], talkgroups: ['/var/lib/tg.json'] });
  });

  it('names each bad key with its line', () => {
    const errors = errorsOf('[console]\naddress = "localhost"\nport = 70000\ntoken = "short"\nsnapshot_interval = 0\nsubscriber_names = 5\nwhat = 1\n');
    expect(errorFor(errors, 'console.address')).toMatchObject({ line: 2 });
    expect(errorFor(errors, 'console.port')).toMatchObject({ line: 3 });
    expect(errorFor(errors, 'console.token')).toMatchObject({ line: 4, message: expect.stringContaining('16..256') });
    expect(errorFor(errors, 'console.snapshot_interval')).toMatchObject({ line: 5 });
    expect(errorFor(errors, 'console.subscriber_names')).toMatchObject({ line: 6 });
    expect(errorFor(errors, 'console.what')).toMatchObject({ line: 7, message: expect.stringContaining('unknown key') });
  });

  it('keeps the token out of event-log headers', () => {
    expect(JSON.stringify(redactConfig(ok('[console]\ntoken = "abcdefghijklmnop-secret"\n')))).not.toContain('abcdefghijklmnop-secret');
  });
});
