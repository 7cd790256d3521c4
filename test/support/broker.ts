// A private mosquitto for tests: its own generated config on a free 127.0.0.1 port, run as a child
// process (never the system service). `stop()` kills it, `start()` runs it again on the same port,
// so a test can take the broker away mid-traffic and bring it back. Every wait is bounded.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface TestBroker {
  port: number;
  url: string;
  /** Stop the broker (SIGTERM, SIGKILL after 3 s); resolves when it has exited. */
  stop(): Promise<void>;
  /** Start it again on the same port; resolves when the port accepts connections. */
  start(): Promise<void>;
  /** Stop it and remove its temporary directory. */
  dispose(): Promise<void>;
  /** Send the running broker a signal (SIGSTOP/SIGCONT to freeze it, SIGKILL to lose what it holds). */
  signal(sig: NodeJS.Signals): void;
  /** The broker's temporary directory (its config and, with persistence, its database). */
  dir: string;
}

export interface BrokerOptions {
  readyTimeoutMs?: number;
  /** Keep retained messages in a file across restarts (saved when the broker stops cleanly). */
  persistence?: boolean;
  /** A TLS listener with these PEM files instead of plain TCP (the URL is then mqtts://). */
  tls?: { caFile: string; certFile: string; keyFile: string };
  /** Require this user and password (anonymous clients are refused). */
  user?: { name: string; password: string };
}

const INSTALL_HINT = 'mosquitto not found: install it with `apt-get install -y mosquitto` (tests run /usr/sbin/mosquitto themselves, never the service)';

/** The mosquitto binary: on PATH, or in the sbin directories Debian installs it to. */
export function mosquittoBinary(name = 'mosquitto'): string {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin', '/usr/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const candidate = join(d, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  throw new Error(INSTALL_HINT);
}

function pickPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startBroker(opts: BrokerOptions = {}): Promise<TestBroker> {
  const bin = mosquittoBinary();
  const port = await pickPort();
  const dir = mkdtempSync(join(tmpdir(), 'dmrhub-broker-'));
  const configFile = join(dir, 'mosquitto.conf');
  // `user root`: started as root, mosquitto would otherwise switch to the mosquitto user, which
  // cannot read this private directory (password file, persistence). Ignored when not root.
  const lines = [`listener ${port} 127.0.0.1`, 'log_dest stderr', 'user root'];
  lines.push(...(opts.persistence ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false']));
  if (opts.tls) lines.push(`cafile ${opts.tls.caFile}`, `certfile ${opts.tls.certFile}`, `keyfile ${opts.tls.keyFile}`);
  if (opts.user) {
    const passwords = join(dir, 'passwords');
    writeFileSync(passwords, '');
    execFileSync(mosquittoBinary('mosquitto_passwd'), ['-b', passwords, opts.user.name, opts.user.password], { stdio: 'pipe' });
    lines.push('allow_anonymous false', `password_file ${passwords}`);
  } else lines.push('allow_anonymous true');
  writeFileSync(configFile, lines.join('\n') + '\n');
  const readyTimeoutMs = opts.readyTimeoutMs ?? 5000;

  let proc: ChildProcess | null = null;
  let output = '';

  const start = async (): Promise<void> => {
    if (proc !== null) return;
    const child = spawn(bin, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc = child;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      output = (output + s).slice(-4000);
    });
    let failure: Error | null = null;
    child.once('error', (e: NodeJS.ErrnoException) => {
      failure = e.code === 'ENOENT' ? new Error(INSTALL_HINT) : e;
    });
    child.once('exit', (code, signal) => {
      if (proc === child) proc = null;
      failure ??= new Error(`mosquitto exited early (code ${code}, signal ${signal}): ${output.trim()}`);
    });
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (failure !== null) throw failure;
      if (await canConnect(port)) return;
      await pause(20);
    }
    await stop();
    throw new Error(`mosquitto did not accept connections on 127.0.0.1:${port} within ${readyTimeoutMs} ms: ${output.trim()}`);
  };

  const stop = (): Promise<void> => {
    const child = proc;
    proc = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(hard);
        resolve();
      });
      child.kill('SIGTERM');
    });
  };

  const dispose = async (): Promise<void> => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const signal = (sig: NodeJS.Signals): void => {
    proc?.kill(sig);
  };
  return { port, url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`, stop, start, dispose, signal, dir };
}
