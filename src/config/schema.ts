// The shape of dmrhub's TOML config file, as zod schemas. Values here are in the file's own units
// (durations in seconds, snake_case keys); load.ts turns a parsed file into an AppConfig with
// integer milliseconds. Every section and key is optional and takes the default written beside it;
// unknown sections and keys are rejected (strict objects).
//
// Every check on a field reports the same sentence, "expected <form>, got <value>", so an operator
// sees what the key wants no matter which check failed.

import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_CORE_CONFIG, LINK_DEFAULTS } from '../core/config.js';
import { credentialEntry } from './credential-schema.js';
import { consoleSection } from './console-schema.js';
import { uplinkEntry } from './uplink-schema.js';
import { aclSection, subscriberAcl } from './acl-schema.js';
import { atLeast, describeValue, expecting, MAX_DURATION_SECONDS, MAX_TALKGROUP, integer, seconds, section, talkgroupRanges, talkgroups, text } from './fields.js';

export { describeValue, MAX_DURATION_SECONDS, MAX_TALKGROUP };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];


/** Defaults of the settings that live outside CoreConfig (core defaults come from DEFAULT_CORE_CONFIG). */
export const DEFAULT_APP_SETTINGS = {
  serverName: 'dmrhub',
  hbpAddress: '127.0.0.1',
  hbpPort: 62031,
  recvBufferBytes: 4 * 1024 * 1024,
  recordEnabled: false,
  recordPath: 'recordings/dmrhub-events.ndjson',
  flightRecorderEvents: 20_000,
  flightRecorderDir: 'data',
  logLevel: 'info' satisfies LogLevel,
  reportingQueueDepth: 10_000,
  reportingBatchSize: 100,
  reportingBatchMs: 200,
  mqttPrefix: 'dmrhub',
  mqttReconnectMinMs: 500,
  mqttReconnectMaxMs: 30_000,
  sqlEnabled: true,
  sqlPath: 'data/dmrhub.sqlite',
  sqlRetentionDays: 30,
  logPretty: 'auto' as 'auto' | boolean,
  // Overload: when voice fan-out is shed (src/shell/overload.ts).
  fanoutPerTurn: 10_000,
  maxReceiveWaitMs: 250,
  sendQueueBytes: 1024 * 1024,
} as const;

// ---------------------------------------------------------------------------------------------
// Sections

const core = DEFAULT_CORE_CONFIG;
const app = DEFAULT_APP_SETTINGS;

export const serverSection = section('server', {
  id: integer(0, 0xffff_ffff, 'an integer server ID', core.serverId),
  // The name becomes an MQTT topic level: no '/', '+', '#', spaces or control characters.
  name: z
    .string(expecting('a name of 1..64 letters, digits, dots, dashes or underscores'))
    .regex(/^[A-Za-z0-9._-]{1,64}$/, expecting('a name of 1..64 letters, digits, dots, dashes or underscores'))
    .default(app.serverName),
});

const addressError = expecting('an IPv4 or IPv6 address literal such as "127.0.0.1", "0.0.0.0" or "::"');

/** The passphrase goes on the wire as bytes; printable ASCII keeps every peer's encoding in agreement. */
const passphraseError = expecting('a passphrase of 1..128 printable ASCII characters');

const catchAllError = expecting('a passphrase of 0..128 printable ASCII characters ("" = none)');

export const hbpSection = section('hbp', {
  address: z
    .string(addressError)
    .refine((s) => isIP(s) !== 0, addressError)
    .default(app.hbpAddress),
  port: integer(0, 65535, 'a UDP port', app.hbpPort, '0 = any free port'),
  // The catch-all; "" = none (only [[hbp.credentials]] log in).
  passphrase: z
    .string(catchAllError)
    .max(128, catchAllError)
    .regex(/^[\x20-\x7e]*$/, catchAllError)
    .default(core.hbp.passphrase),
  credentials: z.array(credentialEntry, expecting('[[hbp.credentials]] tables')).default(() => []),
  max_peers: integer(1, 1_000_000, 'an integer', core.hbp.maxPeers),
  max_pending_logins: integer(1, 1_000_000, 'an integer', core.hbp.maxPendingLogins),
  login_timeout: seconds(true, core.hbp.loginTimeoutMs),
  ping_interval: seconds(true, core.hbp.pingIntervalMs),
  max_missed_pings: integer(1, 100, 'an integer', core.hbp.maxMissedPings),
  recv_buffer_bytes: integer(65_536, 268_435_456, 'a byte count', app.recvBufferBytes),
});

export const routingSection = section('routing', {
  ts1_static: talkgroups(core.routing.ts1Static),
  ts2_static: talkgroups(core.routing.ts2Static),
  max_static_per_slot: integer(1, 1000, 'an integer', core.routing.maxStaticPerSlot),
  user_activation: z.boolean(expecting('true or false')).default(core.routing.userActivation),
  user_activation_timer: seconds(false, core.routing.userActivationMs),
  single_mode: z.boolean(expecting('true or false')).default(core.routing.singleMode),
  prohibited_talkgroups: talkgroups(core.routing.prohibited),
  default_reflector: integer(0, 999_999, 'a reflector number', core.routing.defaultReflector, '0 = none'),
  dial_slot: integer(1, 2, 'a slot', core.routing.dialSlot),
  talker_alias: z.boolean(expecting('true or false')).default(core.routing.talkerAlias),
  talker_alias_software: z
    .array(z.string(expecting('a software ID prefix of 1..40 characters')).min(1).max(40), expecting('an array of RPTC software ID prefixes, e.g. ["dmrhub"]'))
    .default(() => [...core.routing.talkerAliasSoftware]),
  private_calls: z.boolean(expecting('true or false')).default(core.routing.privateCalls),
  last_heard_timeout: seconds(true, core.routing.lastHeardMs),
  local_talkgroups: talkgroupRanges(core.routing.localTalkgroups),
}).superRefine((routing, ctx) => {
  for (const key of ['ts1_static', 'ts2_static'] as const) {
    const list = routing[key];
    if (list.length > routing.max_static_per_slot) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        input: list,
        message: `expected at most max_static_per_slot (${routing.max_static_per_slot}) talkgroups, got ${list.length}`,
      });
    }
    const seen = new Set<number>();
    list.forEach((tg, index) => {
      if (seen.has(tg)) {
        ctx.addIssue({ code: 'custom', path: [key, index], input: tg, message: `talkgroup ${tg} is listed twice` });
      }
      seen.add(tg);
    });
  }
});

export const timersSection = section('timers', {
  group_hangtime: seconds(false, core.timers.groupHangtimeMs),
  collision_window: seconds(true, core.timers.collisionWindowMs),
  stream_timeout: seconds(true, core.timers.streamTimeoutMs),
  max_stream: seconds(true, core.timers.maxStreamMs),
  stream_id_memory: seconds(true, core.timers.streamIdMemoryMs),
});

export const limitsSection = section('limits', {
  max_packet_rate: atLeast(1, 'an integer number of packets per second', core.limits.maxPacketRate),
  rate_grace_packets: atLeast(0, 'an integer packet count', core.limits.rateGracePackets),
  stream_notices_per_minute: integer(0, 1_000_000, 'a stream count', core.limits.streamNoticesPerMinute, '0 = no limit'),
  fanout_per_turn: integer(1, 100_000_000, 'an integer number of datagrams', app.fanoutPerTurn),
  max_receive_wait: seconds(true, app.maxReceiveWaitMs),
  send_queue_bytes: integer(4096, 268_435_456, 'a byte count', app.sendQueueBytes),
});

export const echoSection = section('echo', {
  talkgroup: integer(0, 16_777_214, 'a talkgroup', core.echo.tg, '0 = no echo'),
  max_seconds: seconds(true, core.echo.maxMs),
  max_recordings: integer(1, 10_000, 'an integer', core.echo.maxRecordings),
  delay: seconds(false, core.echo.delayMs),
});

const languageError = expecting('a language code such as "en_GB" (letters, digits, "_" or "-", up to 32)');
const language = (fallback: string) => z.string(languageError).regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, languageError).default(fallback);

export const promptsSection = section('prompts', {
  directory: text(0, 4096, 'a directory path', ''),
  language: language(core.prompts.language),
  more_languages: z.array(language(''), expecting('an array of language codes, e.g. ["en_US", "de_DE"]')).default(() => []),
  source_id: integer(1, 16_777_215, 'a DMR ID', core.prompts.sourceId),
  delay: seconds(false, core.prompts.delayMs),
  voice_ident: z.boolean(expecting('true or false')).default(core.prompts.voiceIdent),
  ident_interval: seconds(false, core.prompts.identIntervalMs),
  ident_talkgroup: integer(1, 16_777_215, 'a talkgroup (16777215 = all-call)', core.prompts.identTg),
});

const booleanError = expecting('true or false');

export const recordSection = section('record', {
  enabled: z.boolean(booleanError).default(app.recordEnabled),
  path: text(1, 4096, 'a file path', app.recordPath),
  flight_recorder_events: integer(0, 10_000_000, 'an event count', app.flightRecorderEvents, '0 = off'),
  flight_recorder_dir: text(1, 4096, 'a directory path', app.flightRecorderDir),
});

const levelError = expecting(`one of ${LOG_LEVELS.map((l) => `"${l}"`).join(', ')}`);
const prettyError = expecting('"auto", true or false');

export const logSection = section('log', {
  level: z.enum(LOG_LEVELS, levelError).default(app.logLevel),
  pretty: z.union([z.literal('auto'), z.boolean()], prettyError).default(app.logPretty),
});

/** Every section the file may contain, in the order the example file lists them. */
export const reportingSection = section('reporting', {
  queue_depth: integer(10, 10_000_000, 'an event count', app.reportingQueueDepth),
  batch_size: integer(1, 100_000, 'an event count', app.reportingBatchSize),
  batch_interval: seconds(true, app.reportingBatchMs),
});

const urlError = expecting('"" (off) or a broker URL such as "mqtt://127.0.0.1:1883" or "mqtts://broker:8883"');

export const mqttSection = section('mqtt', {
  url: z
    .string(urlError)
    .refine((s) => s === '' || /^(mqtt|mqtts|tcp|tls|ws|wss):\/\/[^\s]+$/.test(s), urlError)
    .default(''),
  prefix: z
    .string(expecting('a topic prefix without wildcards'))
    .regex(/^[^#+\s]{1,128}$/, expecting('a topic prefix of 1..128 characters without #, + or spaces'))
    .default(app.mqttPrefix),
  client_id: text(0, 128, 'a client ID', ''),
  username: text(0, 256, 'a user name', ''),
  password: text(0, 256, 'a password', ''),
  ca_file: text(0, 4096, 'a file path', ''),
  cert_file: text(0, 4096, 'a file path', ''),
  key_file: text(0, 4096, 'a file path', ''),
  reject_unauthorized: z.boolean(expecting('true or false')).default(true),
  reconnect_min: seconds(true, app.mqttReconnectMinMs),
  reconnect_max: seconds(true, app.mqttReconnectMaxMs),
});

export const sqlSection = section('sql', {
  enabled: z.boolean(expecting('true or false')).default(app.sqlEnabled),
  path: text(1, 4096, 'a file path', app.sqlPath),
  retention_days: integer(1, 36_500, 'a number of days', app.sqlRetentionDays),
});

const portError = (what: string) => expecting(`${what} 1..65535`);
const udpPort = (what: string) => z.number(portError(what)).int(portError(what)).min(1, portError(what)).max(65535, portError(what));
const linkNameError = expecting('a link name of 1..32 letters, digits, dots, dashes or underscores');

const protocolError = expecting('"openbridge" (v1) or "fbp" (FreeDMR bridge protocol)');

/** One [[links]] table: an OpenBridge v1 or FBP link to another server. */
export const linkEntry = z.strictObject(
  {
    name: z.string(linkNameError).regex(/^[A-Za-z0-9._-]{1,32}$/, linkNameError),
    enabled: z.boolean(booleanError).default(true),
    address: z
      .string(addressError)
      .refine((s) => isIP(s) !== 0, addressError)
      .default(app.hbpAddress),
    port: udpPort('a UDP port'),
    target_address: z.string(addressError).refine((s) => isIP(s) !== 0, addressError),
    target_port: udpPort('a UDP port'),
    passphrase: z.string(passphraseError).min(1, passphraseError).max(128, passphraseError).regex(/^[\x20-\x7e]*$/, passphraseError),
    network_id: integer(0, 0xffff_ffff, 'the ID the other server sends', 0, '0 = not checked'),
    preserve_source_peer: z.boolean(booleanError).default(false),
    check_source: z.boolean(booleanError).default(true),
    talkgroups: talkgroups([]),
    protocol: z.enum(['openbridge', 'fbp'], protocolError).default(LINK_DEFAULTS.protocol),
    follow_address: z.boolean(booleanError).default(LINK_DEFAULTS.followAddress),
    max_hops: integer(1, 255, 'the most hops a call may have made', LINK_DEFAULTS.maxHops),
    max_age: seconds(true, LINK_DEFAULTS.maxAgeMs),
    known_servers: z.array(integer(1, 0xffff_ffff, 'a server ID', 1), expecting('a list of server IDs')).default(() => []),
    sub_acl: subscriberAcl(),
    tgid_acl: subscriberAcl(),
  },
  expecting('a table [[links]]'),
);

export const SECTIONS = {
  server: serverSection,
  hbp: hbpSection,
  routing: routingSection,
  timers: timersSection,
  limits: limitsSection,
  acl: aclSection,
  echo: echoSection,
  prompts: promptsSection,
  record: recordSection,
  log: logSection,
  reporting: reportingSection,
  mqtt: mqttSection,
  sql: sqlSection,
  console: consoleSection,
  links: linkEntry,
  uplinks: uplinkEntry,
} as const;

export type SectionName = keyof typeof SECTIONS;

/** Keys each section accepts, for "unknown key" messages. */
export const SECTION_KEYS: Readonly<Record<SectionName, readonly string[]>> = {
  server: Object.keys(serverSection.shape),
  hbp: Object.keys(hbpSection.shape),
  routing: Object.keys(routingSection.shape),
  timers: Object.keys(timersSection.shape),
  limits: Object.keys(limitsSection.shape),
  acl: Object.keys(aclSection.shape),
  echo: Object.keys(echoSection.shape),
  prompts: Object.keys(promptsSection.shape),
  record: Object.keys(recordSection.shape),
  log: Object.keys(logSection.shape),
  reporting: Object.keys(reportingSection.shape),
  mqtt: Object.keys(mqttSection.shape),
  sql: Object.keys(sqlSection.shape),
  console: Object.keys(consoleSection.shape),
  links: Object.keys(linkEntry.shape),
  uplinks: Object.keys(uplinkEntry.shape),
};

export function isSectionName(name: string): name is SectionName {
  return Object.prototype.hasOwnProperty.call(SECTIONS, name);
}

/** The whole file. A missing section is parsed as an empty table, so its keys take their defaults. */
export const configFileSchema = z.strictObject(
  {
    server: serverSection.prefault({}),
    hbp: hbpSection.prefault({}),
    routing: routingSection.prefault({}),
    timers: timersSection.prefault({}),
    limits: limitsSection.prefault({}),
    acl: aclSection.prefault({}),
    echo: echoSection.prefault({}),
    prompts: promptsSection.prefault({}),
    record: recordSection.prefault({}),
    log: logSection.prefault({}),
    reporting: reportingSection.prefault({}),
    mqtt: mqttSection.prefault({}),
    sql: sqlSection.prefault({}),
    console: consoleSection.prefault({}),
    links: z.array(linkEntry, expecting('[[links]] tables')).default(() => []),
    uplinks: z.array(uplinkEntry, expecting('[[uplinks]] tables')).default(() => []),
  },
  expecting('a TOML document'),
).superRefine((file, ctx) => {
  // Checks across sections: what no single key can tell.
  const issue = (path: (string | number)[], input: unknown, message: string): void => void ctx.addIssue({ code: 'custom', path, input, message });
  const names = new Set<string>();
  const ports = new Map<string, string>([[`${file.hbp.address}|${file.hbp.port}`, '[hbp]']]);
  const local = file.routing.local_talkgroups;
  if (file.hbp.passphrase === '' && file.hbp.credentials.length === 0)
    issue(['hbp', 'passphrase'], '', 'expected a passphrase, or [[hbp.credentials]]: with neither, no peer can log in');
  file.links.forEach((link, i) => {
    if (names.has(link.name)) issue(['links', i, 'name'], link.name, `the link name "${link.name}" is used twice`);
    names.add(link.name);
    if (!link.enabled) return;
    const at = `${link.address}|${link.port}`;
    const taken = ports.get(at);
    if (taken !== undefined) issue(['links', i, 'port'], link.port, `${link.address}:${link.port} is already used by ${taken}`);
    ports.set(at, `link "${link.name}"`);
    if (isIP(link.target_address) !== 0 && isIP(link.address) !== isIP(link.target_address))
      issue(['links', i, 'target_address'], link.target_address, `expected an IPv${isIP(link.address)} address like the link's own address ${link.address}`);
    if (file.server.id === 0 && !link.preserve_source_peer)
      issue(['links', i], link.name, 'expected server.id to be set (1..4294967295): frames sent on a link carry it, and the other server may check it');
    link.talkgroups.forEach((tg, j) => {
      if (local.some(([a, b]) => tg >= a && tg <= b)) issue(['links', i, 'talkgroups', j], tg, `talkgroup ${tg} is local (routing.local_talkgroups): it never crosses a link`);
      else if (file.routing.prohibited_talkgroups.includes(tg)) issue(['links', i, 'talkgroups', j], tg, `talkgroup ${tg} is prohibited (routing.prohibited_talkgroups)`);
    });
  });
  const uplinkNames = new Set<string>();
  file.uplinks.forEach((u, i) => {
    if (uplinkNames.has(u.name)) issue(['uplinks', i, 'name'], u.name, `the uplink name "${u.name}" is used twice`);
    uplinkNames.add(u.name);
    if (!u.enabled) return;
    if (isIP(u.address) !== 0 && isIP(u.local_address) !== 0 && isIP(u.local_address) !== isIP(u.address))
      issue(['uplinks', i, 'local_address'], u.local_address, `expected an IPv${isIP(u.address)} address like the master's address ${u.address}`);
    if (u.reconnect_min > u.reconnect_max) issue(['uplinks', i, 'reconnect_min'], u.reconnect_min, `expected at most reconnect_max (${u.reconnect_max})`);
    if (u.local_port === 0) return;
    const at = `${u.local_address}|${u.local_port}`;
    const taken = ports.get(at);
    if (taken !== undefined) issue(['uplinks', i, 'local_port'], u.local_port, `${u.local_address}:${u.local_port} is already used by ${taken}`);
    ports.set(at, `uplink "${u.name}"`);
  });
});

/** A config file after validation and defaulting, still in file units (seconds, snake_case). */
export type ConfigFile = z.output<typeof configFileSchema>;
