// Runs the built server (`node dist/src/main.js`) as a child process for end-to-end tests.
// `startServer` writes a config into a fresh temporary directory (config/test-minimal.toml with
// logging at "info" and any sections the test overrides), starts the server with it and resolves
// once the server has logged `server.listening`. `runCli` runs any other subcommand to completion.
// Every wait here is bounded.

import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'smol-toml';
import { SERVER_NODE_FLAGS } from '../../bench/lib/server-flags.js';
import { afterEach } from 'vitest';
import { HbpClient } from './hbp-client.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN_JS = join(REPO_ROOT, 'dist', 'src', 'main.js');

/**
 * Sections of the TOML config, e.g. `{ timers: { group_hangtime: 1 } }`. An array value is an
 * array of tables (e.g. `links: [{ name: 'a', ... }]` becomes `[[links]]` tables) and replaces any
 * such array in the base file.
 */
export type ConfigOverrides = Record<string, Record<string, unknown> | Record<string, unknown>[]>;

export interface StartOptions {
  /** Sections/keys merged over test-minimal.toml (after `[log] level = "info"` is set). */
  config?: ConfigOverrides;
  /** Use this config file as it is instead of writing one (overrides `config`). */
  configFile?: string;
  /** Record every event to `<dir>/events.ndjson` (default false). */
  record?: boolean;
  /** How long to wait for `server.listening` (default 10 s). */
  startTimeoutMs?: number;
}

export interface ServerHandle {
  /** The UDP port the server listens on. */
  port: number;
  /** Every stdout line so far, parsed as JSON (lines that are not JSON appear as `{ raw }`). Keeps growing. */
  logs: Record<string, unknown>[];
  /** Everything written to stderr so far. */
  stderr: () => string;
  /** The temporary directory holding the config (and the event log). */
  dir: string;
  /** The config file the server was started with. */
  configPath: string;
  /** The event log, when recording. */
  recordPath: string | null;
  child: ChildProcess;
  /** SIGTERM, then wait for the exit (SIGKILL after `timeoutMs`). Resolves with the exit code, or
   *  128 + signal number when the process was ended by a signal. */
  stop(timeoutMs?: number): Promise<number>;
  /** Wait until a log line satisfies `pred`. */
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs: number, what?: string): Promise<Record<string, unknown>>;
  /** Remove the temporary directory (the process must have exited). */
  cleanup(): void;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** The TOML text of test-minimal.toml with `[log] level = "info"` and `overrides` merged in. */
export function testConfigText(overrides: ConfigOverrides = {}): string {
  const base = parse(readFileSync(join(REPO_ROOT, 'config', 'test-minimal.toml'), 'utf8')) as ConfigOverrides;
  const merged: ConfigOverrides = { ...base };
  const table = (v: ConfigOverrides[string] | undefined): Record<string, unknown> => (v === undefined || Array.isArray(v) ? {} : v);
  merged['log'] = { ...table(merged['log']), level: 'info' };
  for (const [section, keys] of Object.entries(overrides)) merged[section] = Array.isArray(keys) ? keys : { ...table(merged[section]), ...keys };
  return stringify(merged);
}

function exitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal !== null ? (SIGNALS[signal] ?? 0) : 0);
}

export async function startServer(opts: StartOptions = {}): Promise<ServerHandle> {
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} not found: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'dmrhub-e2e-'));
  let configPath: string;
  if (opts.configFile !== undefined) {
    configPath = opts.configFile;
  } else {
    configPath = join(dir, 'dmrhub.toml');
    writeFileSync(configPath, testConfigText(opts.config));
  }
  const recordPath = opts.record ? join(dir, 'events.ndjson') : null;
  const args = [...SERVER_NODE_FLAGS, MAIN_JS, 'start', '--config', configPath, ...(recordPath ? ['--record', recordPath] : [])];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });

  const logs: Record<string, unknown>[] = [];
  const logWaiters = new Set<{ pred: (l: Record<string, unknown>) => boolean; done: (l: Record<string, unknown>) => void }>();
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => (stderr += s));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(line);
      entry = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : { raw: line };
    } catch {
      entry = { raw: line };
    }
    logs.push(entry);
    for (const w of [...logWaiters]) {
      if (w.pred(entry)) {
        logWaiters.delete(w);
        w.done(entry);
      }
    }
  });

  let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitListeners: (() => void)[] = [];
  // 'close' comes after 'exit' once stdout and stderr are drained, so `logs` is complete by then.
  child.on('close', (code, signal) => {
    exited = { code, signal };
    for (const f of exitListeners.splice(0)) f();
  });
  const onExit = (f: () => void): void => {
    if (exited) f();
    else exitListeners.push(f);
  };

  const waitForLog = (pred: (l: Record<string, unknown>) => boolean, timeoutMs: number, what = 'matching log line'): Promise<Record<string, unknown>> => {
    const seen = logs.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w = {
        pred,
        done: (l: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        logWaiters.delete(w);
        reject(new Error(`server: no ${what} within ${timeoutMs} ms; stderr: ${stderr.trim() || '(empty)'}`));
      }, timeoutMs);
      logWaiters.add(w);
      onExit(() => {
        if (!logWaiters.has(w)) return;
        logWaiters.delete(w);
        clearTimeout(timer);
        const e = exited!;
        const fatal = logs.filter((l) => typeof l['level'] === 'number' && l['level'] >= 60).map((l) => String(l['msg']));
        reject(new Error(`server exited (code ${e.code}, signal ${e.signal}) before ${what}; ${fatal.length > 0 ? `fatal: ${fatal.join('; ')}; ` : ''}stderr: ${stderr.trim() || '(empty)'}`));
      });
    });
  };

  const stop = (timeoutMs = 5000): Promise<number> =>
    new Promise((resolve) => {
      onExit(() => resolve(exitCode(exited!.code, exited!.signal)));
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!exited) child.kill('SIGKILL');
      }, timeoutMs);
      onExit(() => clearTimeout(timer));
    });

  const cleanup = (): void => {
    if (!exited && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  let listening: Record<string, unknown>;
  try {
    listening = await waitForLog((l) => l['code'] === 'server.listening', opts.startTimeoutMs ?? 10_000, '"server.listening" log line');
  } catch (err) {
    await stop(2000);
    cleanup();
    throw err;
  }
  const port = listening['port'];
  if (typeof port !== 'number') {
    await stop(2000);
    cleanup();
    throw new Error(`server.listening carries no numeric port: ${JSON.stringify(listening)}`);
  }

  return { port, logs, stderr: () => stderr, dir, configPath, recordPath, child, stop, waitForLog, cleanup };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `node dist/src/main.js <args>` to completion (killed after `timeoutMs`, default 20 s). */
export function runCli(args: string[], timeoutMs = 20_000): Promise<CliResult> {
  if (!existsSync(MAIN_JS)) return Promise.reject(new Error(`${MAIN_JS} not found: run \`npm run build\` first`));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN_JS, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (stdout += s));
    child.stderr.on('data', (s: string) => (stderr += s));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`dmrhub ${args.join(' ')}: still running after ${timeoutMs} ms, killed; stderr: ${stderr}`));
      else resolve({ code: exitCode(code, signal), stdout, stderr });
    });
  });
}

/** `count` distinct UDP ports on 127.0.0.1 that were free a moment ago (all bound at once, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const socks = Array.from({ length: count }, () => dgram.createSocket('udp4'));
  const ports = await Promise.all(
    socks.map(
      (s) =>
        new Promise<number>((res, rej) => {
          s.once('error', rej);
          s.bind(0, '127.0.0.1', () => res(s.address().port));
        }),
    ),
  );
  await Promise.all(socks.map((s) => new Promise<void>((res) => s.close(() => res()))));
  return ports;
}

/**
 * A test file's servers, radios and other things to close, for tests with several servers: after
 * each test the radios are closed, then what `track` was given, then the servers are stopped.
 */
export function serversFixture(): {
  /** Start a server that is stopped after the test. */
  start(opts?: StartOptions): Promise<ServerHandle>;
  /** Stop `s` after the test (a server started some other way). */
  adopt(s: ServerHandle): ServerHandle;
  /** No longer stop `s` after the test (the test stopped it itself). */
  forget(s: ServerHandle): void;
  /** A bound client, closed after the test. */
  radio(peerId: number): Promise<HbpClient>;
  /** A client logged in to `s` with `options` (passphrase `passw0rd`, on 127.0.0.1). */
  hotspot(s: ServerHandle, peerId: number, options: string): Promise<HbpClient>;
  /** Close `x` after the test. */
  track<T extends { close(): Promise<void> }>(x: T): T;
} {
  const servers: ServerHandle[] = [];
  const radios: HbpClient[] = [];
  const others: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const c of radios.splice(0)) await c.close();
    for (const x of others.splice(0)) await x.close();
    for (const s of servers.splice(0)) {
      await s.stop();
      s.cleanup();
    }
  });
  const radio = async (peerId: number): Promise<HbpClient> => {
    const c = new HbpClient(peerId);
    radios.push(c);
    await c.bind();
    return c;
  };
  return {
    async start(opts: StartOptions = {}) {
      const s = await startServer(opts);
      servers.push(s);
      return s;
    },
    adopt(s) {
      servers.push(s);
      return s;
    },
    forget(s) {
      const i = servers.indexOf(s);
      if (i >= 0) servers.splice(i, 1);
    },
    radio,
    async hotspot(s, peerId, options) {
      const c = await radio(peerId);
      await c.login('127.0.0.1', s.port, { passphrase: 'passw0rd', options });
      return c;
    },
    track(x) {
      others.push(x);
      return x;
    },
  };
}

/**
 * A test file's server and radios, stopped and closed after each test: `fx.start(opts)` starts the
 * server, `fx.radio(id)` makes a bound client that is closed afterwards.
 */
export function serverFixture(): {
  start(opts?: StartOptions): Promise<ServerHandle>;
  radio(peerId: number): Promise<HbpClient>;
  /** Start the server and log in one radio per [peer ID, options] (passphrase `passw0rd`, on 127.0.0.1). */
  withPeers(opts: StartOptions, peers: readonly [number, string][]): Promise<HbpClient[]>;
  readonly server: ServerHandle | null;
} {
  const fx = serversFixture();
  let server: ServerHandle | null = null;
  afterEach(() => {
    server = null;
  });
  return {
    async start(opts: StartOptions = {}) {
      server = await fx.start(opts);
      return server;
    },
    radio: fx.radio,
    async withPeers(opts: StartOptions, peers: readonly [number, string][]) {
      const s = await this.start(opts);
      const out: HbpClient[] = [];
      for (const [id, options] of peers) out.push(await fx.hotspot(s, id, options));
      return out;
    },
    get server() {
      return server;
    },
  };
}
