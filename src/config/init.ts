// `dmrhub init [DIR]`: a starter config, made from config/dmrhub.example.toml (every key explained)
// with a random passphrase and, for a service, the database and recordings in a state directory.
// The file is created with mode 0600 (it holds the passphrase) and never overwrites one.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_CONFIG, SYSTEM_CONFIG } from './find.js';

/** The example config shipped with the package (dist/src/config/init.js → config/). */
export const EXAMPLE_CONFIG = fileURLToPath(new URL('../../../config/dmrhub.example.toml', import.meta.url));

/** Where the systemd unit keeps its state (StateDirectory=dmrhub). */
export const SYSTEM_STATE_DIR = '/var/lib/dmrhub';

/** 24 characters from [A-Za-z0-9_-] (144 random bits): safe to type into Pi-Star or DMRGateway. */
export const randomPassphrase = (): string => randomBytes(18).toString('base64url');

export interface StarterOptions {
  passphrase: string;
  /** Absolute directory for the SQLite file, recordings and flight-recorder dumps; null keeps the
   *  example's paths (relative to the config file). */
  dataDir: string | null;
  /** For the header line. */
  date: string;
}

/** Replaces one `key = value` line (the first at the start of a line); throws if it is not there. */
function setLine(text: string, key: string, oldValue: string, newLine: string): string {
  const line = `${key} = ${oldValue}`;
  const at = text.search(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
  if (at < 0) throw new Error(`the example config has no line '${line}'`);
  return text.slice(0, at) + newLine + text.slice(at + line.length);
}

/** The starter config text, from the example's text. */
export function starterConfigText(example: string, opts: StarterOptions): string {
  const firstBlank = example.indexOf('\n\n');
  let body = example.slice(firstBlank + 2);
  const header = [
    `# dmrhub configuration, written by \`dmrhub init\` on ${opts.date}.`,
    '#',
    '# Every key is shown with its default and what it means; change what you need and check the',
    '# result with `dmrhub check-config FILE`. A running server rereads this file on SIGHUP',
    '# (`systemctl reload dmrhub`). Unknown sections or keys are refused, so a typo is reported.',
    '# Durations are in seconds. Relative paths are taken from the directory this file is in.',
    '# This file holds the passphrase: keep it readable by the server only (mode 0600).',
    '',
  ];
  body = setLine(
    body,
    'passphrase',
    '"passw0rd"',
    `# Generated at random by dmrhub init: enter it as the password of this server in your hotspots.\npassphrase = ${JSON.stringify(opts.passphrase)}`,
  );
  if (opts.dataDir !== null) {
    const at = (p: string): string => JSON.stringify(join(opts.dataDir!, p));
    body = setLine(body, 'path', '"recordings/dmrhub-events.ndjson"', `path = ${at('recordings/dmrhub-events.ndjson')}`);
    body = setLine(body, 'flight_recorder_dir', '"data"', `flight_recorder_dir = ${at('dumps')}`);
    body = setLine(body, 'path', '"data/dmrhub.sqlite"', `path = ${at('dmrhub.sqlite')}`);
  }
  return header.join('\n') + '\n' + body;
}

export interface InitResult {
  path: string;
  dataDir: string | null;
}

/** Writes DIR/dmrhub.toml; throws an Error with a one-line message if the file exists. */
export function writeStarterConfig(dir: string, opts: { dataDir?: string | null; example?: string } = {}): InitResult {
  const absDir = resolve(dir);
  const path = join(absDir, LOCAL_CONFIG);
  // The system config's database goes to the service's state directory: /etc is read-only to it.
  const dataDir = opts.dataDir !== undefined && opts.dataDir !== null ? resolve(opts.dataDir) : path === SYSTEM_CONFIG ? SYSTEM_STATE_DIR : null;
  const text = starterConfigText(readFileSync(opts.example ?? EXAMPLE_CONFIG, 'utf8'), {
    passphrase: randomPassphrase(),
    dataDir,
    date: new Date().toISOString().slice(0, 10),
  });
  // 0750, as the systemd unit's ConfigurationDirectoryMode: the config holds the passphrases.
  mkdirSync(absDir, { recursive: true, mode: 0o750 });
  try {
    // 'wx': created here or not at all, so an existing config is never touched.
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${path} already exists; not overwritten (move it away first to start afresh)`);
    throw new Error(`cannot write ${path}: ${(err as Error).message}`);
  }
  return { path, dataDir };
}
