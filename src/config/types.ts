// The loaded config's shape and the helpers that need no parser: what the server's main thread
// imports. Parsing and validation (smol-toml, zod) live in ./load.ts and run in a short-lived worker
// thread at start and on reload (./load-isolated.ts), so their code never stays in the server.

import { createHash } from 'node:crypto';
import { redactCore, type CoreConfig } from '../core/config.js';

export interface AppConfig {
  core: CoreConfig;
  server: { name: string };
  hbp: { address: string; port: number; recvBufferBytes: number };
  /** When voice fan-out is shed to keep the receive path served ([limits], src/shell/overload.ts). */
  overload: { fanoutPerTurn: number; maxReceiveWaitMs: number; sendQueueBytes: number };
  /** The local socket of each enabled OpenBridge link, in socket order (link i is socket i + 1). */
  links: { name: string; address: string; port: number }[];
  /** The local socket of each enabled uplink, in socket order (after the links' sockets). */
  uplinks: { name: string; address: string; port: number }[];
  /** Paths are absolute (relative ones in the file are taken from the file's directory). */
  record: { enabled: boolean; path: string; flightRecorderEvents: number; flightRecorderDir: string };
  log: { level: string; pretty: 'auto' | boolean };
  reporting: { queueDepth: number; batchSize: number; batchMs: number };
  /** MQTT publishing; off when `url` is empty. File paths are absolute or empty. */
  mqtt: {
    url: string;
    prefix: string;
    clientId: string;
    username: string;
    password: string;
    caFile: string;
    certFile: string;
    keyFile: string;
    rejectUnauthorized: boolean;
    reconnectMinMs: number;
    reconnectMaxMs: number;
  };
  sql: { enabled: boolean; path: string; retentionDays: number };
  /** Subscriber and talkgroup name files ([console] subscriber_names, talkgroup_names), absolute; empty = none. */
  names: { subscribers: string[]; talkgroups: string[] };
  /** The known-ID list for the registration policy (absolute; "" = none), read after start and on SIGHUP. */
  acl: { idFile: string };
  /** Voice prompt packs: loaded from `directory` (absolute; "" = none) for each language, after start. */
  prompts: { directory: string; languages: string[] };
  /**
   * The operator console (HTTP API, event stream, metrics, dashboard); `token` "" = read-only.
   * Paths are absolute.
   */
  console: {
    enabled: boolean;
    address: string;
    port: number;
    token: string;
    auditLog: string;
  };
  /** absolute path of the file it came from, or null when built from text */
  source: string | null;
}

export interface ConfigError {
  /** Dotted key, e.g. "timers.group_hangtime"; "" for problems with the file as a whole. */
  key: string;
  /** 1-based line in the file, or null when it cannot be told. */
  line: number | null;
  /** What was expected, e.g. `expected a number of seconds >= 0 and <= 86400, got "five"`. */
  message: string;
}

export type ConfigResult = { ok: true; config: AppConfig } | { ok: false; errors: ConfigError[] };

/**
 * A dotted key as an operator writes it: array positions counted from 1 and in brackets, so
 * `links.1.port` (the second [[links]] table) reads `links[2].port` and `routing.ts2_static.0`
 * reads `routing.ts2_static[1]`.
 */
export function operatorKey(key: string): string {
  let out = '';
  for (const part of key.split('.')) {
    if (/^\d+$/.test(part) && out !== '') out += `[${Number(part) + 1}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** One line per error: "<file>:<line>: <key>: <message>" (":<line>" left out when unknown,
 *  "<key>: " left out for whole-file problems such as syntax errors; the key as operatorKey writes it). */

export function formatConfigErrors(errors: ConfigError[], file: string): string {
  return errors
    .map((e) => {
      const where = e.line === null ? file : `${file}:${e.line}`;
      const what = e.key === '' ? e.message : `${operatorKey(e.key)}: ${e.message}`;
      return `${where}: ${what}`;
    })
    .join('\n');
}

/** How a secret appears in logs and dumps: "sha256:<hex of its digest>". */
export const secretDigest = (s: string): string => 'sha256:' + createHash('sha256').update(s, 'utf8').digest('hex');

/** Values with secrets replaced by "sha256:<hex>" — for event-log headers. */
export function redactConfig(cfg: AppConfig): unknown {
  const copy = structuredClone(cfg);
  copy.core = redactCore(copy.core, secretDigest);
  if (copy.mqtt.password !== '') copy.mqtt.password = secretDigest(cfg.mqtt.password);
  if (copy.console.token !== '') copy.console.token = secretDigest(cfg.console.token);
  return copy;
}
