// The SQLite sink through a real piscina pool and a real file: migrations run once and only the
// missing steps run on an existing file; retention pruning removes old rows in bounded chunks; a
// locked database fails a batch at once and the same batch succeeds after the lock is released.

import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Piscina } from 'piscina';
import { afterEach, describe, expect, it } from 'vitest';
import type { BatchTask, ReportEvent, TaskResult } from '../../src/reporting/events.js';

const SINK = resolve(import.meta.dirname, '../../dist/workers/sqlite-sink.js');
const dirs: string[] = [];
const pools: Piscina[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.destroy();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function pool(path: string, retentionDays = 30, pruneEveryMs = 60_000, pruneChunk = 1000): Piscina {
  const p = new Piscina({ filename: SINK, workerData: { path, retentionDays, busyTimeoutMs: 50, pruneEveryMs, pruneChunk }, minThreads: 1, maxThreads: 1, atomics: 'disabled' });
  pools.push(p);
  return p;
}

const tmpDb = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'dmrhub-sqlite-'));
  dirs.push(d);
  return join(d, 'db.sqlite');
};

const base = { v: 1 as const, server: 'test', seq: 1 };
function callEnd(src: number, at: number): ReportEvent {
  return { ...base, at, family: 'call', type: 'end', stream: src.toString(16).padStart(8, '0'), peer: 1, src, dst: 91, slot: 2, callType: 'group', kind: 'voice', durationMs: 1000, packets: 17, lost: 0, loss: 0, ber: null, rssi: null, reason: 'terminator', receivers: 1 };
}
const batch = (events: ReportEvent[]): BatchTask => ({ op: 'batch', events });
const count = (path: string, table: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('SQLite sink', () => {
  it('creates the schema once; an existing file at the current version is left alone', async () => {
    const path = tmpDb();
    const p = pool(path);
    expect(((await p.run(batch([callEnd(3100001, Date.now())]))) as TaskResult).ok).toBe(true);
    await p.run({ op: 'stop' });
    const db = new Database(path);
    const version = db.pragma('user_version', { simple: true });
    db.close();
    expect(version).toBeGreaterThanOrEqual(1);
    const again = pool(path);
    expect(((await again.run(batch([callEnd(3100002, Date.now())]))) as TaskResult).ok).toBe(true);
    expect(count(path, 'calls')).toBe(2);
    expect(count(path, 'lastheard')).toBe(2);
  });

  it('prunes rows older than the retention in bounded chunks, keeping recent ones', async () => {
    const path = tmpDb();
    const old = Date.now() - 40 * 86_400_000;
    const p = pool(path, 30, 100, 50);
    const events: ReportEvent[] = [];
    for (let i = 0; i < 300; i++) events.push(callEnd(3200000 + i, old + i));
    events.push(callEnd(3300000, Date.now()));
    expect(((await p.run(batch(events))) as TaskResult).ok).toBe(true);
    expect(count(path, 'calls')).toBe(301);
    // Chunks of 50 every 100 ms: not all at once, but all of it within a couple of seconds.
    await new Promise((r) => setTimeout(r, 150));
    const partly = count(path, 'calls');
    expect(partly).toBeLessThan(301);
    expect(partly).toBeGreaterThan(1);
    const end = Date.now() + 5000;
    while (count(path, 'calls') > 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(count(path, 'calls')).toBe(1);
    expect(count(path, 'lastheard')).toBe(1);
  });

  it('a locked database fails the batch at once; the same batch succeeds after the lock', async () => {
    const path = tmpDb();
    const p = pool(path);
    await p.run(batch([callEnd(3100001, Date.now())]));
    const locker = new Database(path);
    locker.exec('BEGIN EXCLUSIVE');
    const t0 = Date.now();
    const r = (await p.run(batch([callEnd(3100002, Date.now())]))) as TaskResult;
    expect(r).toMatchObject({ ok: false, delivered: 0, state: 'down' });
    expect(r.error).toMatch(/SQLITE_BUSY|locked/i);
    expect(Date.now() - t0).toBeLessThan(500);
    locker.exec('ROLLBACK');
    locker.close();
    expect(((await p.run(batch([callEnd(3100002, Date.now())]))) as TaskResult).ok).toBe(true);
    expect(count(path, 'calls')).toBe(2);
  });
});
