// The console's HTTP server (node:http), in the reporting thread: the JSON API, the event stream
// (Server-Sent Events), the Prometheus metrics and the dashboard's static files. Reads only the
// ConsoleState; commands go to the main thread as messages and wait for the core's answer.
// Every error is JSON: { error: { code, message } } with a stable code.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import type { ConsoleCommand, ConsoleSinkOptions } from '../src/reporting/console.js';
import { renderMetrics } from './console-metrics.js';
import type { BacklogEntry, ConsoleState } from './console-state.js';

export type ErrorCode = 'unauthorized' | 'not_found' | 'bad_request' | 'unknown_peer' | 'method_not_allowed' | 'unavailable';
const STATUS: Record<ErrorCode, number> = { unauthorized: 401, not_found: 404, bad_request: 400, unknown_peer: 404, method_not_allowed: 405, unavailable: 503 };

export interface CommandAnswer {
  ok: boolean;
  code: string;
  message: string;
  result: Record<string, string | number | boolean>;
}

export interface AuditEntry {
  at: string;
  who: string;
  remote: string;
  command: string;
  target: number | null;
  args: Record<string, unknown>;
  ok: boolean;
  code: string;
  message: string;
}

export interface HttpDeps {
  opts: ConsoleSinkOptions;
  state: ConsoleState;
  /** Send a command to the main thread; resolves with the core's answer. */
  command(who: string, c: ConsoleCommand): Promise<CommandAnswer>;
  /** Append to the audit log; resolves once written (or failed, which is logged). */
  audit(e: AuditEntry): Promise<void>;
}

const MAX_BODY = 4096;
const PING_MS = 15_000;
/** A client that cannot keep up with the stream (this much unsent) is let go. */
const MAX_CLIENT_BUFFER = 1 << 20;
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.webmanifest': 'application/manifest+json', '.woff2': 'font/woff2' };

class HttpError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly allow?: string,
  ) {
    super(message);
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export class ConsoleHttp {
  readonly server: Server;
  private readonly clients = new Set<ServerResponse>();
  private readonly ping: NodeJS.Timeout;
  private readonly tokenDigest: Buffer | null;
  private readonly tokenId: string;

  constructor(private readonly d: HttpDeps) {
    this.tokenDigest = d.opts.token === '' ? null : digest(d.opts.token);
    this.tokenId = d.opts.token === '' ? '' : `token:${digest(d.opts.token).toString('hex').slice(0, 8)}`;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err));
    });
    this.server.keepAliveTimeout = 5000;
    this.ping = setInterval(() => {
      for (const c of this.clients) c.write(': ping\n\n');
    }, PING_MS);
    this.ping.unref();
  }

  /**
   * Send a batch of events to every stream client, as one write per client: a batch holds every
   * event of the last reporting interval, and a write (with the reader's wake-up at the other end)
   * per event costs more than the events themselves.
   */
  broadcast(entries: readonly BacklogEntry[]): void {
    if (this.clients.size === 0 || entries.length === 0) return;
    let text = '';
    for (const e of entries) text += frame(e);
    for (const c of this.clients) {
      if (c.writableLength > MAX_CLIENT_BUFFER) {
        c.end();
        this.clients.delete(c);
        continue;
      }
      c.write(text);
    }
  }

  close(): Promise<void> {
    clearInterval(this.ping);
    for (const c of this.clients) c.end();
    this.clients.clear();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const get = (): void => {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError('method_not_allowed', `${path} takes GET`, 'GET, HEAD');
    };
    if (path === '/metrics') {
      get();
      return send(res, 200, renderMetrics(this.d.state, this.d.opts.startedAt), 'text/plain; version=0.0.4; charset=utf-8');
    }
    if (path.startsWith('/api/')) return this.api(req, res, url, method, get);
    get();
    return this.staticFile(res, path);
  }

  private async api(req: IncomingMessage, res: ServerResponse, url: URL, method: string, get: () => void): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '');
    const s = this.d.state;
    const needState = (): void => {
      if (s.state === null) throw new HttpError('unavailable', 'no state from the server yet; try again in a second');
    };
    switch (path) {
      case '/api/v1/server': {
        get();
        const reporting = s.state?.reporting ?? {};
        const sinks = Object.values(reporting);
        return json(res, 200, {
          version: this.d.opts.version,
          server: this.d.opts.server,
          started_at: new Date(this.d.opts.startedAt).toISOString(),
          uptime_ms: Date.now() - this.d.opts.startedAt,
          read_only: this.tokenDigest === null,
          config: withoutSecrets(this.d.opts.config),
          counters: s.counters(),
          reporting: {
            queue_depth: sinks.reduce((n, q) => n + q.queued, 0),
            dropped: sinks.reduce((n, q) => n + q.droppedQueueFull, 0),
            sinks: Object.fromEntries(Object.entries(reporting).map(([k, q]) => [k, { state: q.state, queue_depth: q.queued, delivered: q.delivered, dropped: q.droppedQueueFull }])),
          },
          names: { subscribers: s.names?.subscriberCount ?? 0, talkgroups: s.names?.talkgroupCount ?? 0 },
        });
      }
      case '/api/v1/peers':
        get();
        needState();
        return json(res, 200, { peers: s.peers() });
      case '/api/v1/calls':
        get();
        return json(res, 200, { calls: s.calls() });
      case '/api/v1/lastheard': {
        get();
        const q = url.searchParams;
        const int = (name: string, lo: number, hi: number): number | undefined => {
          const v = q.get(name);
          if (v === null || v === '') return undefined;
          if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new HttpError('bad_request', `${name}: expected a whole number ${lo}..${hi}, got ${JSON.stringify(v)}`);
          return Number(v);
        };
        const filters = { src: int('src', 0, 0xffff_ffff), tg: int('tg', 0, 0xffff_ffff), peer: int('peer', 0, 0xffff_ffff), cursor: int('cursor', 1, Number.MAX_SAFE_INTEGER) };
        const limit = int('limit', 1, 500) ?? 50;
        return json(res, 200, s.lastheard({ ...dropUndefined(filters), limit }));
      }
      case '/api/v1/talkgroups':
        get();
        needState();
        return json(res, 200, { talkgroups: s.talkgroups() });
      case '/api/v1/links':
        get();
        needState();
        return json(res, 200, s.links());
      case '/api/v1/events':
        get();
        return this.stream(req, res, url);
      case '/api/v1/reload':
        if (method !== 'POST') throw new HttpError('method_not_allowed', `${path} takes POST`, 'POST');
        return this.command(req, res, 'reload', null, () => ({ op: 'reload' }));
    }
    const m = /^\/api\/v1\/peers\/([^/]+)\/(disconnect|block|options|dial\/drop)$/.exec(path);
    if (m === null) throw new HttpError('not_found', `no such endpoint: ${path}`);
    if (method !== 'POST') throw new HttpError('method_not_allowed', `${path} takes POST`, 'POST');
    const idText = decodeURIComponent(m[1]!);
    const id = /^\d{1,10}$/.test(idText) && Number(idText) <= 0xffff_ffff ? Number(idText) : null;
    const action = m[2]!;
    return this.command(req, res, action, id, (body) => {
      if (id === null) throw new HttpError('bad_request', `peer ID: expected a whole number 0..4294967295, got ${JSON.stringify(idText)}`);
      switch (action) {
        case 'disconnect':
          return { op: 'disconnect', peer: id };
        case 'block': {
          const seconds = body['seconds'];
          if (typeof seconds !== 'number' || !Number.isInteger(seconds)) throw new HttpError('bad_request', 'body: expected { "seconds": <whole number> }');
          return { op: 'block', peer: id, seconds };
        }
        case 'options': {
          const options = body['options'];
          if (typeof options !== 'string') throw new HttpError('bad_request', 'body: expected { "options": "<text>" }');
          return { op: 'options', peer: id, options };
        }
        default: {
          const slot = body['slot'];
          if (slot !== 1 && slot !== 2) throw new HttpError('bad_request', 'body: expected { "slot": 1 } or { "slot": 2 }');
          return { op: 'dial-drop', peer: id, slot };
        }
      }
    });
  }

  /** Check the token, read the body, send the command, audit, answer. */
  private async command(req: IncomingMessage, res: ServerResponse, name: string, target: number | null, make: (body: Record<string, unknown>) => ConsoleCommand): Promise<void> {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    // The answer goes out after its audit line is written.
    const audit = (who: string, args: Record<string, unknown>, ok: boolean, code: string, message: string): Promise<void> =>
      this.d.audit({ at: new Date().toISOString(), who, remote, command: name, target, args, ok, code, message });
    try {
      const who = this.authorise(req);
      let body: Record<string, unknown> = {};
      let audited = false;
      try {
        body = await readJson(req);
        const c = make(body);
        const answer = await this.d.command(who, c);
        audited = true;
        await audit(who, body, answer.ok, answer.code, answer.message);
        if (!answer.ok) {
          const code: ErrorCode = answer.code in STATUS ? (answer.code as ErrorCode) : 'bad_request';
          throw new HttpError(code, answer.message);
        }
        return json(res, 200, { ok: true, result: answer.result });
      } catch (err) {
        if (!audited && err instanceof HttpError) await audit(who, body, false, err.code, err.message);
        throw err;
      }
    } catch (err) {
      if (err instanceof HttpError && err.code === 'unauthorized') {
        req.resume();
        await audit('anonymous', {}, false, err.code, err.message);
      }
      throw err;
    }
  }

  /** The caller's token id, or 401. */
  private authorise(req: IncomingMessage): string {
    if (this.tokenDigest === null) throw new HttpError('unauthorized', 'the console is read-only: no [console] token is configured');
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (m === null) throw new HttpError('unauthorized', 'commands need Authorization: Bearer <token>');
    if (!timingSafeEqual(digest(m[1]!), this.tokenDigest)) throw new HttpError('unauthorized', 'wrong token');
    return this.tokenId;
  }

  private stream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const lastId = req.headers['last-event-id'] ?? url.searchParams.get('last_event_id') ?? null;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 1000\n\n');
    if (typeof lastId === 'string' && /^\d+$/.test(lastId)) {
      const missed = this.d.state.since(Number(lastId));
      if (missed === null) res.write(`: events after ${lastId} are no longer kept; the stream goes on from here\n\n`);
      else for (const e of missed) res.write(frame(e));
    }
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }

  private async staticFile(res: ServerResponse, path: string): Promise<void> {
    const rel = path === '/' ? 'index.html' : path.startsWith('/assets/') ? path.slice(1) : null;
    if (rel === null) throw new HttpError('not_found', `no such page: ${path}`);
    const root = normalize(this.d.opts.dashboardDir + sep);
    const file = normalize(join(root, decodeURIComponent(rel)));
    if (!file.startsWith(root)) throw new HttpError('not_found', `no such page: ${path}`);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      throw new HttpError('not_found', path === '/' ? 'the dashboard is not installed (console/index.html)' : `no such file: ${path}`);
    }
    send(res, 200, bytes, TYPES[extname(file)] ?? 'application/octet-stream');
  }

  private fail(res: ServerResponse, err: unknown): void {
    const e = err instanceof HttpError ? err : new HttpError('unavailable', `internal error: ${err instanceof Error ? err.message : String(err)}`);
    if (res.headersSent) {
      res.end();
      return;
    }
    if (e.allow !== undefined) res.setHeader('allow', e.allow);
    if (e.code === 'unavailable') res.setHeader('retry-after', '1');
    if (e.code === 'unauthorized') res.setHeader('www-authenticate', 'Bearer realm="dmrhub"');
    json(res, STATUS[e.code], { error: { code: e.code, message: e.message } });
  }
}

function frame(e: BacklogEntry): string {
  return `id: ${e.seq}\nevent: ${e.event}\ndata: ${e.data}\n\n`;
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

function dropUndefined<T extends Record<string, number | undefined>>(o: T): { [K in keyof T]?: number } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: number };
}

/** A JSON object body (empty = {}), at most MAX_BODY bytes. */
function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError('bad_request', `body: at most ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve({});
      try {
        const v: unknown = JSON.parse(text);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return reject(new HttpError('bad_request', 'body: expected a JSON object'));
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new HttpError('bad_request', 'body: not valid JSON'));
      }
    });
  });
}

/** The config without any secret, not even its digest. */
export function withoutSecrets(v: unknown, key = ''): unknown {
  if (/passphrase|password|token/i.test(key)) return typeof v === 'string' && v !== '' ? '(set)' : v;
  if (Array.isArray(v)) return v.map((x) => withoutSecrets(x));
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutSecrets(x, k)]));
  return v;
}
