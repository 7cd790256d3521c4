// Reporting sink: lastheard, call log and peer sessions in a local SQLite file (better-sqlite3),
// hosted by the reporting thread (workers/reporting-host.ts). The database is opened on the first
// task, never at load, so the server routes before any database work happens. One batch is one
// transaction that never waits on anything; a locked, busy, full or unwritable database fails the
// batch at once (`ok: false`) and the shell retries it later. Writing a batch twice (its answer was lost) changes
// nothing: call rows are unique per stream, source and end time, sessions per peer and login time.
// An event the schema refuses (a constraint) is skipped and counted, not retried forever. Old rows
// are pruned in small chunks from a timer.

import type Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BatchTask, CallEndEvent, CallStartEvent, PeerLoginEvent, ReportEvent, SinkInstance, StateSnapshot, StopTask, TaskResult } from '../src/reporting/events.js';
import type { SqlSinkOptions } from '../src/reporting/sinks.js';
import { loadSqlite } from './sqlite-module.js';

// The optional native module, loaded with this sink (only when [sql] is enabled); when it is absent
// the import of this module fails with SqliteUnavailable, which says what to do.
const Sqlite = await loadSqlite();

/** Schema steps, applied in order; PRAGMA user_version says how many have run. Never edit one. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE lastheard (
     src INTEGER PRIMARY KEY,
     dst INTEGER NOT NULL,
     peer INTEGER NOT NULL,
     slot INTEGER NOT NULL,
     call_type TEXT NOT NULL,
     kind TEXT NOT NULL,
     stream TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     duration_ms INTEGER,
     loss REAL,
     ber REAL,
     rssi REAL,
     reason TEXT
   );
   CREATE INDEX lastheard_started ON lastheard(started_at);
   CREATE TABLE calls (
     id INTEGER PRIMARY KEY,
     stream TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER NOT NULL,
     src INTEGER NOT NULL,
     dst INTEGER NOT NULL,
     peer INTEGER NOT NULL,
     slot INTEGER NOT NULL,
     call_type TEXT NOT NULL,
     kind TEXT NOT NULL,
     duration_ms INTEGER NOT NULL,
     packets INTEGER NOT NULL,
     lost INTEGER NOT NULL,
     loss REAL NOT NULL,
     ber REAL,
     rssi REAL,
     reason TEXT NOT NULL,
     receivers INTEGER NOT NULL
   );
   CREATE INDEX calls_started ON calls(started_at);
   CREATE INDEX calls_src ON calls(src);
   CREATE TABLE peer_sessions (
     id INTEGER PRIMARY KEY,
     peer INTEGER NOT NULL,
     callsign TEXT NOT NULL,
     address TEXT NOT NULL,
     port INTEGER NOT NULL,
     software TEXT NOT NULL,
     login_at INTEGER NOT NULL,
     logout_at INTEGER,
     logout_reason TEXT
   );
   CREATE INDEX peer_sessions_peer ON peer_sessions(peer, logout_at);`,
  // 2: a batch written twice (its answer was lost) must not duplicate rows.
  `DELETE FROM calls WHERE rowid NOT IN (SELECT MIN(rowid) FROM calls GROUP BY stream, src, ended_at);
   CREATE UNIQUE INDEX calls_once ON calls(stream, src, ended_at);
   DELETE FROM peer_sessions WHERE rowid NOT IN (SELECT MIN(rowid) FROM peer_sessions GROUP BY peer, login_at);
   CREATE UNIQUE INDEX peer_sessions_once ON peer_sessions(peer, login_at);`,
];

type Db = Database.Database;
type Stmt = Database.Statement;
type Queries = Record<'heardStart' | 'heardEnd' | 'endActive' | 'call' | 'login' | 'logout' | 'closeAll' | 'closeMissing' | 'openSession', Stmt>;

export function migrate(d: Db): number {
  const from = d.pragma('user_version', { simple: true }) as number;
  for (let v = from; v < MIGRATIONS.length; v++) {
    d.transaction(() => {
      d.exec(MIGRATIONS[v]!);
      d.pragma(`user_version = ${v + 1}`);
    })();
  }
  return from;
}

/** SQLite result codes that mean "not now" (the batch is retried), as opposed to a bad event. */
const TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|NOMEM|INTERRUPT|PROTOCOL|NOLFS|CORRUPT|NOTADB)/;

function endRow(e: CallEndEvent): Record<string, unknown> {
  // `startedAt` is new in v1.1 of the event; an older producer only gave the duration.
  return { ...e, startedAt: typeof e.startedAt === 'number' ? e.startedAt : e.at - e.durationMs };
}

export function createSink(opts: SqlSinkOptions): SinkInstance & { pruneOnce(): number } {
  let db: Db | null = null;
  let q: Queries | null = null;
  let writer: ReturnType<typeof makeWriter> | null = null;
  let state: TaskResult['state'] = 'starting';
  let pruner: NodeJS.Timeout | null = null;

  function open(): Db {
    if (db) return db;
    mkdirSync(dirname(opts.path), { recursive: true });
    // The timeout option is SQLite's busy_timeout; better-sqlite3's default (5 s) would apply to the
    // journal_mode pragma and the migrations if it were set later.
    const d = new Sqlite(opts.path, { timeout: Math.max(0, Math.floor(opts.busyTimeoutMs)) });
    try {
      // A rollback journal, not WAL: WAL's -shm index is memory-mapped, and a fault on a mapped
      // page (the file made immutable, a full or failing disk) is SIGBUS, which kills the whole
      // server; a rollback journal does plain writes, so the same fault is SQLITE_IOERR here and
      // the batch is retried. No memory mapping of the database either (mmap_size 0). What it
      // costs is measured in docs/architecture.md ("Reporting workers").
      d.pragma('journal_mode = TRUNCATE');
      d.pragma('mmap_size = 0');
      d.pragma('synchronous = NORMAL');
      migrate(d);
    } catch (err) {
      d.close(); // a locked file at start: the next task opens afresh, nothing leaks
      throw err;
    }
    q = {
      heardStart: d.prepare(
        `INSERT INTO lastheard (src, dst, peer, slot, call_type, kind, stream, started_at, duration_ms, loss, ber, rssi, reason)
         VALUES (@src, @dst, @peer, @slot, @callType, @kind, @stream, @at, NULL, NULL, NULL, NULL, 'active')
         ON CONFLICT(src) DO UPDATE SET dst = excluded.dst, peer = excluded.peer, slot = excluded.slot, call_type = excluded.call_type,
           kind = excluded.kind, stream = excluded.stream, started_at = excluded.started_at, duration_ms = NULL, loss = NULL,
           ber = NULL, rssi = NULL, reason = 'active'
         WHERE lastheard.started_at <= excluded.started_at`,
      ),
      heardEnd: d.prepare(
        `INSERT INTO lastheard (src, dst, peer, slot, call_type, kind, stream, started_at, duration_ms, loss, ber, rssi, reason)
         VALUES (@src, @dst, @peer, @slot, @callType, @kind, @stream, @startedAt, @durationMs, @loss, @ber, @rssi, @reason)
         ON CONFLICT(src) DO UPDATE SET dst = excluded.dst, peer = excluded.peer, slot = excluded.slot, call_type = excluded.call_type,
           kind = excluded.kind, stream = excluded.stream, started_at = excluded.started_at, duration_ms = excluded.duration_ms,
           loss = excluded.loss, ber = excluded.ber, rssi = excluded.rssi, reason = excluded.reason
         WHERE lastheard.started_at <= excluded.started_at`,
      ),
      endActive: d.prepare(
        `UPDATE lastheard SET reason = @reason WHERE reason = 'active' AND stream NOT IN (SELECT value FROM json_each(@keep))`,
      ),
      call: d.prepare(
        `INSERT INTO calls (stream, started_at, ended_at, src, dst, peer, slot, call_type, kind, duration_ms, packets, lost, loss, ber, rssi, reason, receivers)
         VALUES (@stream, @startedAt, @at, @src, @dst, @peer, @slot, @callType, @kind, @durationMs, @packets, @lost, @loss, @ber, @rssi, @reason, @receivers)
         ON CONFLICT(stream, src, ended_at) DO NOTHING`,
      ),
      login: d.prepare(
        `INSERT INTO peer_sessions (peer, callsign, address, port, software, login_at) VALUES (@peer, @callsign, @address, @port, @softwareId, @at)
         ON CONFLICT(peer, login_at) DO NOTHING`,
      ),
      logout: d.prepare(`UPDATE peer_sessions SET logout_at = @at, logout_reason = @reason WHERE peer = @peer AND logout_at IS NULL`),
      closeAll: d.prepare(`UPDATE peer_sessions SET logout_at = @at, logout_reason = @reason WHERE logout_at IS NULL`),
      closeMissing: d.prepare(
        `UPDATE peer_sessions SET logout_at = @at, logout_reason = 'unknown (reports were dropped)'
         WHERE logout_at IS NULL AND peer NOT IN (SELECT value FROM json_each(@peers))`,
      ),
      openSession: d.prepare(`SELECT 1 FROM peer_sessions WHERE peer = ? AND logout_at IS NULL LIMIT 1`),
    };
    db = d;
    writer = makeWriter(d);
    startPruner();
    return d;
  }

  function apply(e: ReportEvent): void {
    const s = q!;
    switch (e.family) {
      case 'server':
        // A start closes sessions a previous run left open (it stopped without saying so).
        if (e.type === 'started') s.closeAll.run({ at: e.at, reason: 'server restarted' });
        else s.closeAll.run({ at: e.at, reason: 'server stopped' });
        s.endActive.run({ reason: 'unknown', keep: '[]' });
        break;
      case 'peer':
        if (e.type === 'login') s.login.run(e);
        else if (e.type === 'logout') s.logout.run({ at: e.at, reason: e.reason, peer: e.peer });
        break;
      case 'call':
        if (e.type === 'start') s.heardStart.run(e);
        else if (e.type === 'end') {
          const row = endRow(e);
          s.heardEnd.run(row);
          s.call.run(row);
        }
        break;
      default:
        break;
    }
  }

  function applySnapshot(snap: StateSnapshot): void {
    const s = q!;
    s.closeMissing.run({ at: snap.at, peers: JSON.stringify(snap.peers.map((p) => p.peer)) });
    for (const p of snap.peers as PeerLoginEvent[]) if (!s.openSession.get(p.peer)) s.login.run(p);
    for (const c of snap.activeCalls as CallStartEvent[]) s.heardStart.run(c);
    s.endActive.run({ reason: 'unknown (reports were dropped)', keep: JSON.stringify(snap.activeCalls.map((c) => c.stream)) });
  }

  function startPruner(): void {
    if (pruner || opts.retentionDays <= 0) return;
    pruner = setInterval(pruneOnce, Math.max(100, opts.pruneEveryMs));
    pruner.unref();
  }

  /** Delete at most one chunk of expired rows from each table; a lock just waits for the next tick. */
  function pruneOnce(): number {
    if (!db) return 0;
    const cutoff = Date.now() - opts.retentionDays * 86_400_000;
    const chunk = Math.max(1, opts.pruneChunk);
    let n = 0;
    try {
      n += db.prepare(`DELETE FROM calls WHERE rowid IN (SELECT rowid FROM calls WHERE started_at < ? LIMIT ${chunk})`).run(cutoff).changes;
      n += db.prepare(`DELETE FROM peer_sessions WHERE rowid IN (SELECT rowid FROM peer_sessions WHERE logout_at < ? LIMIT ${chunk})`).run(cutoff).changes;
      n += db.prepare(`DELETE FROM lastheard WHERE rowid IN (SELECT rowid FROM lastheard WHERE started_at < ? LIMIT ${chunk})`).run(cutoff).changes;
    } catch {
      /* locked or busy: try again next tick */
    }
    return n;
  }

  function stop(): TaskResult {
    if (pruner) clearInterval(pruner);
    pruner = null;
    if (db) {
      const d = db;
      db = null;
      q = null;
      writer = null;
      d.close();
    }
    state = 'off';
    return { ok: true, delivered: 0, state };
  }

  /** One batch as one transaction (made once per open database, as better-sqlite3 intends). */
  function makeWriter(d: Db): Database.Transaction<(task: BatchTask) => { rejected: number; firstRejection: string }> {
    // Nested in the batch's transaction, each event is a savepoint: an event the schema refuses
    // is undone whole (none of its rows stay) and the batch goes on. Only errors that say "not
    // now" abort the batch, which is then retried whole.
    const applyOne = d.transaction(apply);
    return d.transaction((task: BatchTask) => {
      let rejected = 0;
      let firstRejection = '';
      for (const e of task.events) {
        try {
          applyOne(e);
        } catch (err) {
          const code = (err as { code?: string }).code ?? '';
          if (TRANSIENT.test(code)) throw err;
          rejected++;
          if (firstRejection === '') firstRejection = `${code || 'error'}: ${(err as Error).message}`;
        }
      }
      if (task.snapshot) applySnapshot(task.snapshot);
      return { rejected, firstRejection };
    });
  }

  function batch(task: BatchTask): TaskResult {
    open();
    const { rejected, firstRejection } = writer!.immediate(task);
    state = 'up';
    const r: TaskResult = { ok: true, delivered: task.events.length - rejected, state };
    if (rejected > 0) {
      r.rejected = rejected;
      r.error = firstRejection;
    }
    return r;
  }

  return {
    pruneOnce,
    run: async (task: BatchTask | StopTask): Promise<TaskResult> => {
      try {
        return task.op === 'stop' ? stop() : batch(task);
      } catch (err) {
        state = 'down';
        const e = err as { code?: string; message?: string };
        return { ok: false, delivered: 0, state, error: `${e.code ?? 'error'}: ${e.message ?? String(err)}` };
      }
    },
  };
}
