// Talking to a server's operator console in end-to-end tests: the server is started with the
// console on a free port (port 0; the port is read from its console.listening log line), and the
// tests use real HTTP (fetch) and a real event stream reader.

import { join } from 'node:path';
import type { ConfigOverrides, ServerHandle, StartOptions } from './server-process.js';

export const CONSOLE_TOKEN = 'test-token-0123456789abcdef';

/** Start options with the console on (port 0, the test token unless `token` is given, audit log in the server's directory). */
export function consoleOptions(config: ConfigOverrides = {}, token: string = CONSOLE_TOKEN, extra: Omit<StartOptions, 'config'> = {}): StartOptions {
  const con = (config['console'] ?? {}) as Record<string, unknown>;
  return { ...extra, config: { sql: { enabled: false }, ...config, console: { enabled: true, port: 0, token, audit_log: 'console-audit.log', ...con } } };
}

export const auditPath = (s: ServerHandle): string => join(s.dir, 'console-audit.log');

/** The console's base URL, once the server said where it listens. */
export async function consoleUrl(s: ServerHandle): Promise<string> {
  const l = await s.waitForLog((x) => x['code'] === 'console.listening', 10_000, 'console.listening');
  return `http://127.0.0.1:${String(l['port'])}`;
}

export interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export async function api(base: string, path: string, init: { method?: string; token?: string; body?: unknown; rawBody?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (init.token !== undefined) headers['authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined || init.rawBody !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, {
    method: init.method ?? 'GET',
    headers,
    ...(init.rawBody !== undefined ? { body: init.rawBody } : init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: res.headers };
}

/** Poll `f` until it returns a value that is not undefined (every 100 ms, at most `timeoutMs`). */
export async function until<T>(f: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface SseEvent {
  id: string | null;
  event: string | null;
  data: string;
}

/** A Server-Sent Events reader over fetch: every event and comment as it comes. */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();

  static async open(url: string, lastEventId?: string): Promise<SseReader> {
    const r = new SseReader();
    const res = await fetch(url, { headers: lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}, signal: r.abort.signal });
    r.status = res.status;
    r.done = r.read(res.body!.getReader());
    return r;
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev: SseEvent = { id: null, event: null, data: '' };
          let any = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) [ev.id, any] = [line.slice(4), true];
            else if (line.startsWith('event: ')) [ev.event, any] = [line.slice(7), true];
            else if (line.startsWith('data: ')) [ev.data, any] = [ev.data + line.slice(6), true];
          }
          if (any) this.events.push(ev);
        }
      }
    } catch {
      /* aborted */
    }
  }

  async waitFor(pred: (e: SseEvent) => boolean, timeoutMs: number, what: string): Promise<SseEvent> {
    return until(async () => this.events.find(pred), timeoutMs, what);
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
