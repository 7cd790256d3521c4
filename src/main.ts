#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size
// (The routing path allocates nothing per packet, so a 1 MB young generation is plenty and keeps
// the resident set ~10 MB smaller; `npm start` passes the same flag.)
// dmrhub command line: start, check-config, init, replay, import-freedmr, lastheard, version.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { findConfig, type ConfigSource } from './config/find.js';
import { writeStarterConfig } from './config/init.js';
import { loadConfigIsolated } from './config/load-isolated.js';
import { formatConfigErrors, secretDigest, type ConfigResult } from './config/types.js';
import { parseHeader } from './replay/format.js';
import { replayLog } from './replay/runner.js';
import { TranscriptDecoder } from './replay/decode.js';
import { Driver, sha256, StartError, workerFile } from './shell/driver.js';
import { fatalSync } from './shell/logger.js';
import { VERSION } from './shell/version.js';

const USAGE = `dmrhub ${VERSION}: a DMR network server

usage:
  dmrhub start [--config FILE] [--record FILE]   run the server
  dmrhub check-config [[--config] FILE]          validate a config file and exit (0 = good)
  dmrhub init [DIR] [--data-dir DIR]             write a starter DIR/dmrhub.toml (default DIR: .)
  dmrhub replay LOG [--config FILE] [--sends]    replay an event log; print the canonical actions and their digest
         [--digest-only] [--decoded]             (--decoded: one readable line per action, no hex)
  dmrhub lastheard [--config FILE] [--limit N] [--json]
                                                 the latest call of each subscriber, from the SQLite file
                                                 (with callsigns and names when [console] names the files)
  dmrhub import-freedmr FreeDMR.cfg [rules.py] [--out FILE]
                                                 write a dmrhub config from a FreeDMR one; unmapped settings on stderr
  dmrhub version

Without --config, the config is ./dmrhub.toml, else /etc/dmrhub/dmrhub.toml.
`;

/** A file error in a few words ("no such file", "permission denied"), not a stack. */
function fileProblem(err: unknown): string {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return err instanceof Error ? err.message : String(err);
}

function fail(msg: string, code = 2): never {
  process.stderr.write(msg.endsWith('\n') ? msg : msg + '\n');
  process.exit(code);
}

/** The parser runs in its own module, loaded only by the commands that are not the server. */
const loadConfigFile = async (path: string): Promise<ConfigResult> => (await import('./config/load.js')).loadConfigFile(path);

/** The config file to use (--config, ./dmrhub.toml, /etc/dmrhub/dmrhub.toml), or exit 2 naming the places tried. */
function configPath(explicit: string | undefined): { path: string; source: ConfigSource } {
  const found = findConfig(explicit);
  if (!found.ok) fail(found.message);
  return found;
}

const SOURCE_TEXT: Record<ConfigSource, string> = { '--config': 'given with --config', 'working directory': 'found in the working directory', system: 'the system config' };

async function loadOrExit(path: string, isolated = false) {
  const r = isolated ? await loadConfigIsolated(path) : await loadConfigFile(path);
  if (!r.ok) fail(`${formatConfigErrors(r.errors, path)}\n${path}: ${r.errors.length} error(s); not started`);
  return r.config;
}

async function start(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, record: { type: 'string' }, seed: { type: 'string' } } });
  const config = configPath(values.config);
  const app = await loadOrExit(config.path, true);
  const driver = new Driver(app, {
    recordPath: values.record ? resolve(values.record) : null,
    ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
  });
  driver.logger.info({ code: 'server.config', file: config.path, source: config.source, version: VERSION }, `dmrhub ${VERSION} starting with ${config.path} (${SOURCE_TEXT[config.source]})`);
  process.on('uncaughtException', (err) => {
    let file = '(flight recorder off)';
    try {
      file = driver.dumpFlightRecorder('crash');
    } catch {
      /* the dump is best effort */
    }
    // Written synchronously: the logger's own thread would not get to it before the exit.
    fatalSync(app.log, { code: 'server.crash', err: { message: err.message, stack: err.stack }, flightRecorder: file }, `crashed: ${err.message}; recent events written to ${file}`);
    process.exit(70);
  });
  const shutdown = (signal: string): void => {
    driver.logger.info({ code: 'server.signal', signal }, `${signal}: shutting down`);
    void driver.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', () => {
    void driver.reload().then((ok) => {
      if (ok) driver.logger.info({ code: 'config.reloaded' }, 'config reloaded');
    });
  });
  process.on('SIGUSR2', () => driver.dumpFlightRecorderAsync('flight'));
  try {
    await driver.start();
  } catch (err) {
    if (!(err instanceof StartError)) throw err;
    fatalSync(app.log, { code: 'server.start-failed', err: err.message }, `not started: ${err.message}`);
    process.exit(err.exitCode);
  }
}

async function checkConfig(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string', short: 'c' } } });
  const { path } = configPath(values.config ?? positionals[0]);
  const r = await loadConfigFile(path);
  if (!r.ok) fail(`${formatConfigErrors(r.errors, path)}\n${path}: ${r.errors.length} error(s)`, 1);
  process.stdout.write(`${path}: ok\n`);
}

async function replay(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, sends: { type: 'boolean' }, 'digest-only': { type: 'boolean' }, decoded: { type: 'boolean' } },
  });
  const logPath = positionals[0];
  if (!logPath) fail('replay: name the event log (dmrhub replay LOG)');
  let text: string;
  try {
    text = readFileSync(logPath, 'utf8');
  } catch (err) {
    fail(`replay: cannot read ${logPath}: ${fileProblem(err)}`, 2);
  }
  const header = parseHeader(text.slice(0, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n')));
  if (header === null) fail(`replay: ${logPath} is not a dmrhub event log (its first line is not a dmrhub-events header)`, 2);
  if (values.config !== undefined && !existsSync(values.config)) fail(`replay: --config ${values.config}: no such file`, 2);
  const configPath = values.config ?? header.configPath ?? null;
  // The log names secrets by their digests; the config file has the real ones.
  const secrets: string[] = [];
  let why: (what: string) => string;
  if (configPath === null) {
    why = () => 'the log names no config file; give the one the server ran with, with --config';
  } else if (!existsSync(configPath)) {
    why = () => `the config the log names (${configPath}) no longer exists; give it with --config`;
  } else {
    const r = await loadConfigFile(configPath);
    if (r.ok) {
      secrets.push(r.config.core.hbp.passphrase, ...r.config.core.hbp.credentials.map((c) => c.passphrase), ...r.config.core.links.map((l) => l.passphrase), ...r.config.core.uplinks.map((u) => u.passphrase));
      why = () => `does not match any passphrase in ${configPath} (a wrong passphrase there, or it was changed after the log was written)`;
    } else {
      why = () => `${configPath} does not load (${r.errors.length} error(s); dmrhub check-config ${configPath} says which)`;
    }
  }
  const result = replayLog(
    text,
    { sha256, digestText: (t) => createHash('sha256').update(t, 'utf8').digest('hex') },
    (redacted) => secrets.find((s) => secretDigest(s) === redacted) ?? null,
    why,
  );
  const out: string[] = [];
  if (!values['digest-only']) {
    const lines = values.decoded ? new TranscriptDecoder().lines(result.lines) : result.lines;
    for (const line of lines) if (!values.sends || line.includes(' send ')) out.push(line);
  }
  out.push(`events ${result.events}`, `actions ${result.lines.length}`, `digest ${result.digest}`);
  process.stdout.write(out.join('\n') + '\n');
  if (result.errors.length > 0) {
    // One line: the secrets first (they make the whole replay differ), then how many lines were bad.
    const secretErrors = result.errors.filter((e) => e.startsWith('secret: ')).map((e) => e.slice('secret: '.length));
    const lineErrors = result.errors.filter((e) => !e.startsWith('secret: '));
    const parts = [...secretErrors];
    if (lineErrors.length > 0) parts.push(`${lineErrors.length} line(s) not replayed (first: ${lineErrors[0]})`);
    fail(`replay: ${parts.join('; ')}`, secretErrors.length > 0 ? 3 : 1);
  }
}

/** What workers/sqlite-read.js offers (loaded by path, so src/ does not depend on workers/). */
type LastheardRow = { src: number; dst: number; call_type: string; src_callsign?: string; src_name?: string; tg_name?: string };
interface LastheardReader {
  readLastheard(path: string, limit: number): LastheardRow[];
  formatLastheardTable(rows: LastheardRow[]): string;
}

/** The rows with the talker's callsign and name and the talkgroup's name, when name files are configured. */
async function withNames(rows: LastheardRow[], files: { subscribers: string[]; talkgroups: string[] }): Promise<LastheardRow[]> {
  if (files.subscribers.length + files.talkgroups.length === 0) return rows;
  let names;
  try {
    names = await (await import('./names/index.js')).loadNames(files);
  } catch (err) {
    process.stderr.write(`lastheard: names not loaded: ${(err as Error).message}\n`);
    return rows;
  }
  return rows.map((r) => {
    const sub = names.subscriber(r.src);
    const tg = r.call_type === 'private' ? undefined : names.talkgroup(r.dst);
    return { ...r, ...(sub ? { src_callsign: sub.callsign, ...(sub.name !== undefined ? { src_name: sub.name } : {}) } : {}), ...(tg !== undefined ? { tg_name: tg } : {}) };
  });
}

async function lastheard(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, limit: { type: 'string' }, json: { type: 'boolean' } } });
  const app = await loadOrExit(configPath(values.config).path);
  const limit = Number(values.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1) fail('lastheard: --limit takes a whole number >= 1');
  if (!existsSync(app.sql.path)) fail(`lastheard: no database at ${app.sql.path} (is [sql] enabled, and has the server run?)`, 1);
  // The SQLite module is loaded only in this command's own process, never in the server's main
  // thread (the reporting workers own the database there).
  let reader: LastheardReader;
  try {
    reader = (await import(pathToFileURL(workerFile('sqlite-read.js')).href)) as LastheardReader;
  } catch (err) {
    // better-sqlite3 is optional: its absence is explained (SqliteUnavailable), not a stack trace.
    fail(`lastheard: ${err instanceof Error ? err.message : String(err)}`, 1);
  }
  const rows = await withNames(reader.readLastheard(app.sql.path, limit), app.names);
  process.stdout.write(values.json ? JSON.stringify(rows, null, 2) + '\n' : reader.formatLastheardTable(rows));
}

function init(args: string[]): void {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'data-dir': { type: 'string' } } });
  if (positionals.length > 1) fail('init: at most one directory');
  let written: ReturnType<typeof writeStarterConfig>;
  try {
    written = writeStarterConfig(positionals[0] ?? '.', { dataDir: values['data-dir'] ?? null });
  } catch (err) {
    fail(`init: ${(err as Error).message}`, 1);
  }
  const data = written.dataDir === null ? 'beside it (relative paths)' : `in ${written.dataDir}`;
  process.stdout.write(
    `wrote ${written.path} (mode 0600) with a random passphrase; database and recordings ${data}.\n` +
      `Check it with: dmrhub check-config ${written.path}\n`,
  );
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'start':
      return start(rest);
    case 'check-config':
      return checkConfig(rest);
    case 'init':
      return init(rest);
    case 'replay':
      return replay(rest);
    case 'lastheard':
      return lastheard(rest);
    case 'import-freedmr':
      process.exitCode = (await import('./import/cli.js')).runImportFreeDmr(rest);
      return;
    case 'version':
    case '--version':
      process.stdout.write(VERSION + '\n');
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command '${cmd}'\n\n${USAGE}`);
  }
}

void main(process.argv.slice(2));
