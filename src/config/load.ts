// Reads dmrhub's TOML config: parse (smol-toml), validate and default (zod, ./schema.ts), then
// convert to the AppConfig the rest of the server uses (durations in integer milliseconds,
// camelCase, paths absolute). Bad input never throws: every problem found comes back at once as a
// ConfigError naming the dotted key, the line it is on and what was expected.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type { z } from 'zod';
import type { AppConfig, ConfigError, ConfigResult } from './types.js';
import { checkConfigFiles } from './files.js';
import { indexKeyLines, locateKey } from './locate.js';
import { configFileSchema, isSectionName, SECTION_KEYS, SECTIONS, type ConfigFile } from './schema.js';
import { xlxModuleNumber, type UplinkEntry } from './uplink-schema.js';
import { credentialEntry } from './credential-schema.js';
import type { UplinkConfig } from '../core/config.js';


/** Parses and validates config text. Relative paths in it are resolved against `baseDir`. */
export function parseConfigText(text: string, baseDir: string, source: string | null = null): ConfigResult {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    return { ok: false, errors: [syntaxError(err)] };
  }
  const checked = configFileSchema.safeParse(raw);
  if (!checked.success) return { ok: false, errors: schemaErrors(checked.error.issues, text, raw) };
  const secrets = readPassphraseFiles(checked.data, resolve(baseDir), text);
  if (!secrets.ok) return { ok: false, errors: secrets.errors };
  return { ok: true, config: toAppConfig(checked.data, resolve(baseDir), source, secrets.passphrases) };
}

/**
 * Reads, parses and validates a config file; relative paths in it are taken from its directory.
 * Then the files and directories it names are checked (./files.ts) unless `checkFiles` is false.
 */
export function loadConfigFile(path: string, checkFiles = true): ConfigResult {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    return { ok: false, errors: [{ key: '', line: null, message: unreadable(absolute, err) }] };
  }
  const r = parseConfigText(text, dirname(absolute), absolute);
  if (!r.ok || !checkFiles) return r;
  const missing = checkConfigFiles(r.config, text);
  return missing.length === 0 ? r : { ok: false, errors: missing };
}

// ---------------------------------------------------------------------------------------------

const msFromSeconds = (s: number): number => Math.round(s * 1000);

/**
 * Each credential's passphrase: as given, or read from its `passphrase_file` (relative to the
 * config file; one line, its line end dropped; printable ASCII, 1..128 characters).
 */
function readPassphraseFiles(file: ConfigFile, baseDir: string, text: string): { ok: true; passphrases: string[] } | { ok: false; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const passphrases = file.hbp.credentials.map((c, i) => {
    if (c.passphrase !== undefined) return c.passphrase;
    const key = `hbp.credentials.${i}.passphrase_file`;
    const path = resolve(baseDir, c.passphrase_file!);
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch (err) {
      errors.push({ key, line: locateKey(text, key), message: unreadable(path, err).replace('config file', 'passphrase file') });
      return '';
    }
    const p = content.replace(/\r?\n$/, '');
    if (!/^[\x20-\x7e]{1,128}$/.test(p))
      errors.push({ key, line: locateKey(text, key), message: `expected the file ${path} to hold one passphrase of 1..128 printable ASCII characters` });
    return p;
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, passphrases };
}

function toAppConfig(file: ConfigFile, baseDir: string, source: string | null, passphrases: string[]): AppConfig {
  const { server, hbp, routing, timers, limits, acl, echo, prompts, record, log, reporting, mqtt, sql, console: con } = file;
  const optionalPath = (p: string): string => (p === '' ? '' : resolve(baseDir, p));
  const enabledLinks = file.links.filter((l) => l.enabled);
  const enabledUplinks = file.uplinks.filter((u) => u.enabled);
  return {
    core: {
      serverId: server.id,
      hbp: {
        passphrase: hbp.passphrase,
        credentials: hbp.credentials.map((c, i) => ({
          name: c.name ?? `credentials.${i + 1}`,
          ids: c.ids.map(([a, b]) => [a, b]),
          callsign: c.callsign ?? '',
          passphrase: passphrases[i]!,
          ts1: c.ts1_static === undefined ? null : [...c.ts1_static],
          ts2: c.ts2_static === undefined ? null : [...c.ts2_static],
          options: c.options,
          talkerAlias: c.talker_alias,
          acl: { reg: c.reg_acl, sub: c.sub_acl, tgidTs1: c.tgid_ts1_acl, tgidTs2: c.tgid_ts2_acl },
        })),
        maxPeers: hbp.max_peers,
        maxPendingLogins: hbp.max_pending_logins,
        loginTimeoutMs: msFromSeconds(hbp.login_timeout),
        pingIntervalMs: msFromSeconds(hbp.ping_interval),
        maxMissedPings: hbp.max_missed_pings,
      },
      routing: {
        ts1Static: [...routing.ts1_static],
        ts2Static: [...routing.ts2_static],
        maxStaticPerSlot: routing.max_static_per_slot,
        userActivation: routing.user_activation,
        userActivationMs: msFromSeconds(routing.user_activation_timer),
        singleMode: routing.single_mode,
        prohibited: routing.prohibited_talkgroups,
        defaultReflector: routing.default_reflector,
        dialSlot: routing.dial_slot === 1 ? 1 : 2,
        talkerAlias: routing.talker_alias,
        talkerAliasSoftware: [...routing.talker_alias_software],
        privateCalls: routing.private_calls,
        lastHeardMs: msFromSeconds(routing.last_heard_timeout),
        localTalkgroups: routing.local_talkgroups.map(([a, b]) => [a, b]),
      },
      links: enabledLinks.map((l, i) => ({
        name: l.name,
        socket: i + 1,
        address: l.target_address,
        port: l.target_port,
        passphrase: l.passphrase,
        networkId: l.network_id,
        preserveSourcePeer: l.preserve_source_peer,
        checkSource: l.check_source,
        talkgroups: [...l.talkgroups],
        protocol: l.protocol,
        followAddress: l.follow_address,
        maxHops: l.max_hops,
        maxAgeMs: msFromSeconds(l.max_age),
        knownServers: [...l.known_servers],
        subAcl: l.sub_acl,
        tgidAcl: l.tgid_acl,
      })),
      // Uplinks' sockets come after the links': socket links + i + 1.
      uplinks: enabledUplinks.map((u, i) => toUplinkConfig(u, enabledLinks.length + i + 1)),
      timers: {
        groupHangtimeMs: msFromSeconds(timers.group_hangtime),
        collisionWindowMs: msFromSeconds(timers.collision_window),
        streamTimeoutMs: msFromSeconds(timers.stream_timeout),
        maxStreamMs: msFromSeconds(timers.max_stream),
        streamIdMemoryMs: msFromSeconds(timers.stream_id_memory),
      },
      limits: { maxPacketRate: limits.max_packet_rate, rateGracePackets: limits.rate_grace_packets, streamNoticesPerMinute: limits.stream_notices_per_minute },
      acl: { reg: acl.reg, sub: acl.sub, tgidTs1: acl.tgid_ts1, tgidTs2: acl.tgid_ts2, unknownIds: acl.unknown_ids },
      // The core reports its state for the console only while the console is on.
      console: { snapshotMs: con.enabled ? msFromSeconds(con.snapshot_interval) : 0 },
      echo: { tg: echo.talkgroup, maxMs: msFromSeconds(echo.max_seconds), maxRecordings: echo.max_recordings, delayMs: msFromSeconds(echo.delay) },
      prompts: {
        language: prompts.language,
        sourceId: prompts.source_id,
        delayMs: msFromSeconds(prompts.delay),
        voiceIdent: prompts.voice_ident,
        identIntervalMs: msFromSeconds(prompts.ident_interval),
        identTg: prompts.ident_talkgroup,
      },
    },
    acl: { idFile: optionalPath(acl.id_file) },
    prompts: { directory: optionalPath(prompts.directory), languages: [...new Set([prompts.language, ...prompts.more_languages])] },
    server: { name: server.name },
    hbp: { address: hbp.address, port: hbp.port, recvBufferBytes: hbp.recv_buffer_bytes },
    overload: { fanoutPerTurn: limits.fanout_per_turn, maxReceiveWaitMs: msFromSeconds(limits.max_receive_wait), sendQueueBytes: limits.send_queue_bytes },
    // The shell opens one socket per enabled link, in this order: socket i + 1.
    links: enabledLinks.map((l) => ({ name: l.name, address: l.address, port: l.port })),
    uplinks: enabledUplinks.map((u) => ({ name: u.name, address: u.local_address, port: u.local_port })),
    record: {
      enabled: record.enabled,
      path: resolve(baseDir, record.path),
      flightRecorderEvents: record.flight_recorder_events,
      flightRecorderDir: resolve(baseDir, record.flight_recorder_dir),
    },
    log: { level: log.level, pretty: log.pretty },
    reporting: { queueDepth: reporting.queue_depth, batchSize: reporting.batch_size, batchMs: msFromSeconds(reporting.batch_interval) },
    mqtt: {
      url: mqtt.url,
      prefix: mqtt.prefix,
      clientId: mqtt.client_id,
      username: mqtt.username,
      password: mqtt.password,
      caFile: optionalPath(mqtt.ca_file),
      certFile: optionalPath(mqtt.cert_file),
      keyFile: optionalPath(mqtt.key_file),
      rejectUnauthorized: mqtt.reject_unauthorized,
      reconnectMinMs: msFromSeconds(mqtt.reconnect_min),
      reconnectMaxMs: msFromSeconds(mqtt.reconnect_max),
    },
    sql: { enabled: sql.enabled, path: resolve(baseDir, sql.path), retentionDays: sql.retention_days },
    names: { subscribers: con.subscriber_names.map((f) => resolve(baseDir, f)), talkgroups: con.talkgroup_names.map((f) => resolve(baseDir, f)) },
    console: {
      enabled: con.enabled,
      address: con.address,
      port: con.port,
      token: con.token,
      auditLog: resolve(baseDir, con.audit_log),
    },
    source,
  };
}

/** An [[uplinks]] table for the core: RPTC fields as the fixed-width text MMDVMHost sends (spec §1.4). */
function toUplinkConfig(u: UplinkEntry, socket: number): UplinkConfig {
  const digits = (n: number, width: number): string => String(Math.round(n)).padStart(width, '0');
  return {
    name: u.name,
    socket,
    address: u.address,
    port: u.port,
    passphrase: u.passphrase,
    peerId: u.peer_id,
    rptc: {
      callsign: u.callsign,
      rxFreq: digits(u.rx_freq, 9),
      txFreq: digits(u.tx_freq, 9),
      txPower: digits(u.tx_power, 2),
      colorCode: digits(u.color_code, 2),
      latitude: u.latitude.toFixed(4),
      longitude: u.longitude.toFixed(4),
      height: digits(u.height, 3),
      location: u.location,
      description: u.description,
      slots: String(u.slots),
      url: u.url,
      softwareId: u.software_id,
      packageId: u.package_id,
    },
    options: u.options,
    ts1: u.ts1_talkgroups === undefined ? null : [...u.ts1_talkgroups],
    ts2: u.ts2_talkgroups === undefined ? null : [...u.ts2_talkgroups],
    loose: u.loose,
    xlxModule: xlxModuleNumber(u.xlx_module),
    pingIntervalMs: msFromSeconds(u.ping_interval),
    maxMissedPongs: u.max_missed_pongs,
    retryMinMs: msFromSeconds(u.reconnect_min),
    retryMaxMs: msFromSeconds(u.reconnect_max),
  };
}

function syntaxError(err: unknown): ConfigError {
  if (err instanceof TomlError) {
    // smol-toml's message is "Invalid TOML document: <reason>" followed by a code excerpt.
    const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document:\s*/, '');
    return { key: '', line: err.line, message: `TOML syntax error at column ${err.column}: ${reason}` };
  }
  const reason = err instanceof Error ? err.message : String(err);
  return { key: '', line: null, message: `cannot parse TOML: ${reason}` };
}

function unreadable(path: string, err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  if (code === 'ENOENT') return `config file not found: ${path}`;
  if (code === 'EISDIR') return `config path is a directory, not a file: ${path}`;
  if (code === 'EACCES' || code === 'EPERM') return `no permission to read config file: ${path}`;
  const reason = err instanceof Error ? err.message : String(err);
  return `cannot read config file ${path}: ${reason}`;
}

type Issue = z.core.$ZodIssue;

function schemaErrors(issues: readonly Issue[], text: string, raw: unknown): ConfigError[] {
  const index = indexKeyLines(text);
  const errors: ConfigError[] = [];
  const seen = new Set<string>();
  const add = (path: readonly PropertyKey[], message: string): void => {
    const key = path.map(String).join('.');
    const id = `${key}\u0000${message}`;
    if (seen.has(id)) return; // several failed checks of one field share one message
    seen.add(id);
    errors.push({ key, line: locateKey(text, key, index), message });
  };

  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const name of issue.keys) add([...issue.path, name], unknownKeyMessage(issue.path, name, raw));
    } else {
      add(issue.path, issue.message);
    }
  }

  // File order reads best; errors without a line go last. (Array.prototype.sort is stable.)
  return errors.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
}

function unknownKeyMessage(parent: readonly PropertyKey[], name: string, raw: unknown): string {
  if (parent.length === 0) {
    const value = isRecord(raw) ? raw[name] : undefined;
    // A [table] or an [[array of tables]] reads as a section; anything else as a stray key.
    const isTable = (v: unknown): boolean => isRecord(v) && !Array.isArray(v);
    const section = isTable(value) || (Array.isArray(value) && value.length > 0 && value.every(isTable));
    const kind = section ? 'section' : 'top-level key';
    return `unknown ${kind}; expected one of the sections ${Object.keys(SECTIONS).join(', ')}`;
  }
  const sectionName = String(parent[0]);
  if (parent.length === 2 && sectionName === 'links') {
    return `unknown key in [[links]]; expected one of ${SECTION_KEYS.links.join(', ')}`;
  }
  if (parent.length === 3 && sectionName === 'hbp' && parent[1] === 'credentials') {
    return `unknown key in [[hbp.credentials]]; expected one of ${Object.keys(credentialEntry.shape).join(', ')}`;
  }
  if (parent.length === 2 && sectionName === 'uplinks') {
    return `unknown key in [[uplinks]]; expected one of ${SECTION_KEYS.uplinks.join(', ')}`;
  }
  if (parent.length === 1 && isSectionName(sectionName)) {
    return `unknown key in [${sectionName}]; expected one of ${SECTION_KEYS[sectionName].join(', ')}`;
  }
  return 'unknown key';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export type { AppConfig, ConfigError, ConfigResult } from './types.js';
export { formatConfigErrors, redactConfig } from './types.js';
