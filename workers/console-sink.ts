// The operator console as a reporting sink, hosted by the reporting thread (reporting-host.ts):
// no thread of its own, since an idle Node thread costs about 10 MB of resident memory. The hub
// sends it the v1 report events in batches, like any sink; the main thread sends the core's state
// report and command results over a MessagePort handed over once at start (an attach task). It
// serves them over HTTP (console-http.ts), writes the audit log of commands, and loads the names.
// It never answers ok:false: it keeps nothing that a retry would need.

import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import type { ConsoleCommand, ConsoleSinkOptions, FromConsole, ToConsole } from '../src/reporting/console.js';
import type { BatchTask, SinkInstance, StopTask, TaskResult } from '../src/reporting/events.js';
import { ConsoleHttp, type AuditEntry, type CommandAnswer } from './console-http.js';
import { ConsoleState, type NameStore } from './console-state.js';

/** How long a command may wait for the main thread's answer. */
const COMMAND_WAIT_MS = 5000;

export function createSink(options: unknown): SinkInstance {
  const opts = options as ConsoleSinkOptions;
  const state = new ConsoleState(opts.backlog, opts.lastheard);
  let port: MessagePort | null = null;
  const early: FromConsole[] = [];
  let nextId = 0;
  const waiting = new Map<number, { resolve: (a: CommandAnswer) => void; timer: NodeJS.Timeout }>();
  let auditChain: Promise<void> = Promise.resolve();
  let auditDir = false;

  const post = (m: FromConsole): void => {
    if (port === null) early.push(m);
    else port.postMessage(m);
  };
  const log = (level: 'info' | 'warn' | 'error', code: string, message: string): void => post({ type: 'log', level, code, message });

  const command = (who: string, c: ConsoleCommand): Promise<CommandAnswer> =>
    new Promise((resolve) => {
      if (port === null) return resolve({ ok: false, code: 'unavailable', message: 'the console is not connected to the server yet', result: {} });
      const id = ++nextId;
      const timer = setTimeout(() => {
        waiting.delete(id);
        resolve({ ok: false, code: 'unavailable', message: `the server did not answer within ${COMMAND_WAIT_MS} ms`, result: {} });
      }, COMMAND_WAIT_MS);
      waiting.set(id, { resolve, timer });
      post({ type: 'command', id, who, command: c });
    });

  const audit = (e: AuditEntry): Promise<void> => {
    // Appends are chained, so lines keep their order; a failure is logged and the next one tried.
    return (auditChain = auditChain.then(async () => {
      // The directory is made at the first command, not at start (a read-only look writes nothing).
      if (!auditDir) auditDir = (await mkdir(dirname(opts.auditLog), { recursive: true }).then(() => true, () => false));
      await appendFile(opts.auditLog, JSON.stringify(e) + '\n', { mode: 0o640 }).catch((err: unknown) =>
        log('error', 'console.audit-failed', `console: cannot write the audit log ${opts.auditLog}: ${err instanceof Error ? err.message : String(err)}`),
      );
    }));
  };

  const http = new ConsoleHttp({ opts, state, command, audit });
  http.server.on('error', (err: NodeJS.ErrnoException) => {
    const why = err.code === 'EADDRINUSE' ? 'the port is already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
    log('error', 'console.listen-failed', `console: cannot listen on ${opts.address}:${opts.port}: ${why}; the server runs on without its console`);
  });
  http.server.listen(opts.port, opts.address, () => {
    const a = http.server.address();
    if (a !== null && typeof a === 'object') post({ type: 'listening', address: a.address, port: a.port });
  });
  // Loads queue; each one that ends replaces the names (a reload's files replace the start's).
  let names: Promise<void> = Promise.resolve();
  const loadNames = (files: ConsoleSinkOptions['names']): void => {
    names = names.then(() =>
      loadNameStore(files, log).then((n) => {
        // A load that failed keeps the names in use.
        if (n !== undefined) state.names = n;
      }),
    );
  };
  loadNames(opts.names);

  const onMessage = (m: ToConsole): void => {
    if (m.type === 'state') state.setState(m);
    else if (m.type === 'names') loadNames(m.names);
    else {
      const w = waiting.get(m.id);
      if (w === undefined) return;
      waiting.delete(m.id);
      clearTimeout(w.timer);
      w.resolve({ ok: m.ok, code: m.code, message: m.message, result: m.result });
    }
  };

  return {
    attach(given: unknown): void {
      const p = given as MessagePort;
      port = p;
      p.on('message', onMessage);
      for (const m of early.splice(0)) p.postMessage(m);
    },
    async run(task: BatchTask | StopTask): Promise<TaskResult> {
      if (task.op === 'stop') {
        await http.close();
        await auditChain;
        port?.close();
        return { ok: true, delivered: 0, state: 'off' };
      }
      http.broadcast(task.events.map((e) => state.apply(e)));
      return { ok: true, delivered: task.events.length, state: 'up' };
    },
  };
}

/**
 * The names (src/names, loadNames) when files are configured (null when none are). Loaded by
 * path, off the packet path; undefined when they could not be loaded (logged).
 */
async function loadNameStore(files: ConsoleSinkOptions['names'], log: (level: 'info' | 'warn' | 'error', code: string, message: string) => void): Promise<NameStore | null | undefined> {
  if (files.subscribers.length === 0 && files.talkgroups.length === 0) return null;
  try {
    const mod = (await import(pathToFileURL(new URL('../src/names/index.js', import.meta.url).pathname).href)) as {
      loadNames(files: { subscribers?: string[]; talkgroups?: string[] }): Promise<NameStore>;
    };
    const store = await mod.loadNames(files);
    log('info', 'console.names-loaded', `console: ${store.subscriberCount} subscriber and ${store.talkgroupCount} talkgroup names loaded`);
    return store;
  } catch (err) {
    log('warn', 'console.names-failed', `console: names not loaded (${err instanceof Error ? err.message : String(err)}); the names in use, if any, stay`);
    return undefined;
  }
}
