// The [console] section of the config file: the operator console's HTTP server (API, event stream,
// metrics, dashboard). Kept apart from schema.ts, which lists it among the sections.

import { isIP } from 'node:net';
import { z } from 'zod';
import { expecting, integer, section, text } from './fields.js';

export const CONSOLE_DEFAULTS = {
  enabled: true,
  address: '127.0.0.1',
  port: 8080,
  auditLog: 'data/console-audit.log',
  snapshotMs: 1000,
} as const;

const addressError = expecting('an IPv4 or IPv6 address literal such as "127.0.0.1" or "::1"');
// The token goes in an HTTP header: printable ASCII without spaces, long enough not to be guessed.
const tokenError = expecting('"" (read-only: no commands) or a token of 16..256 printable ASCII characters without spaces');
const MAX_NAME_FILES = 16;
const filesError = expecting(`a file path or a list of up to ${MAX_NAME_FILES} file paths, e.g. "user.csv" or ["users.json", "local.csv"]`);

/** Name files: one path or a list (later files win for the same ID); relative to the config file. */
function nameFiles() {
  const path = z.string(filesError).min(1, filesError).max(4096, filesError);
  return z.union([path.transform((p) => [p]), z.array(path, filesError).max(MAX_NAME_FILES, filesError)], filesError).default(() => []);
}
const intervalError = expecting('a number of seconds >= 0.1 and <= 60');

export const consoleSection = section('console', {
  enabled: z.boolean(expecting('true or false')).default(CONSOLE_DEFAULTS.enabled),
  address: z
    .string(addressError)
    .refine((s) => isIP(s) !== 0, addressError)
    .default(CONSOLE_DEFAULTS.address),
  port: integer(0, 65535, 'a TCP port', CONSOLE_DEFAULTS.port, '0 = any free port'),
  token: z
    .string(tokenError)
    .refine((s) => s === '' || /^[\x21-\x7e]{16,256}$/.test(s), tokenError)
    .default(''),
  subscriber_names: nameFiles(),
  talkgroup_names: nameFiles(),
  audit_log: text(1, 4096, 'a file path', CONSOLE_DEFAULTS.auditLog),
  snapshot_interval: z.number(intervalError).min(0.1, intervalError).max(60, intervalError).default(CONSOLE_DEFAULTS.snapshotMs / 1000),
});
