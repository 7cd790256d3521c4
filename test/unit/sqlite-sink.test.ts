// The SQLite sink through a real piscina pool and a real file: migrations run once and only the
// missing steps run on an existing file; retention pruning removes old rows in bounded chunks; a
// locked database fails a batch at once and the same batch succeeds after the lock is released.
// Also the reporting hub's pacing of a sink that asks for fewer batches (the console does).

import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Piscina } from 'piscina';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { BatchTask, ReportEvent, TaskResult } from '../../src/reporting/events.js';
import { ReportingHub, type ReportInput, type SinkSpec } from '../../src/shell/reporting.js';

const SINK = resolve(import.meta.dirname, '../../dist/workers/sqlite-sink.js');
const HOST = resolve(import.meta.dirname, '../../dist/workers/reporting-host.js');
const dirs: string[] = [];
const pools: Piscina[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.destroy();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function pool(path: string, retentionDays = 30, pruneEveryMs = 60_000, pruneChunk = 1000): Piscina {
  const options = { path, retentionDays, busyTimeoutMs: 50, pruneEveryMs, pruneChunk };
  const p = new Piscina({ filename: HOST, workerData: { sinks: [{ name: 'sql', module: SINK, options }] }, minThreads: 1, maxThreads: 1, atomics: 'disabled' });
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
  return { ...base, at, family: 'call', type: 'end', stream: src.toString(16).padStart(8, '0'), peer: 1, src, dst: 91, slot: 2, callType: 'group', kind: 'voice', startedAt: at - 1000, durationMs: 1000, packets: 17, lost: 0, loss: 0, ber: null, rssi: null, reason: 'terminator', receivers: 1 };
}
function login(peer: number, at: number): ReportEvent {
  return {
    ...base, at, family: 'peer', type: 'login', peer, callsign: `N${peer}`, address: '127.0.0.1', port: 40000, rxFreq: '0', txFreq: '0',
    colorCode: '1', slots: '3', location: '', description: '', url: '', softwareId: 'test', packageId: 'test',
  };
}
const batch = (events: ReportEvent[]): BatchTask => ({ op: 'batch', sink: 'sql', events });
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
    await p.run({ op: 'stop', sink: 'sql' });
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

  it('writing the same batch twice (its answer was lost) leaves one row per call and per session', async () => {
    const path = tmpDb();
    const p = pool(path);
    const events: ReportEvent[] = [login(41, 1_000), callEnd(3100001, Date.now()), callEnd(3100002, Date.now())];
    expect(((await p.run(batch(events))) as TaskResult).ok).toBe(true);
    expect(((await p.run(batch(events))) as TaskResult).ok).toBe(true);
    expect(count(path, 'calls')).toBe(2);
    expect(count(path, 'peer_sessions')).toBe(1);
  });

  it('skips and counts an event the schema refuses instead of retrying the batch forever', async () => {
    const path = tmpDb();
    const p = pool(path);
    const bad = { ...callEnd(3100003, Date.now()), src: null } as unknown as ReportEvent;
    const r = (await p.run(batch([callEnd(3100001, Date.now()), bad, callEnd(3100002, Date.now())]))) as TaskResult;
    expect(r).toMatchObject({ ok: true, delivered: 2, rejected: 1, state: 'up' });
    expect(r.error).toMatch(/NOT NULL/);
    expect(count(path, 'calls')).toBe(2);
  });

  it('applies a snapshot after the batch it came with (the snapshot is the newer state)', async () => {
    const path = tmpDb();
    const p = pool(path);
    // The batch still carries 42's login, but by the time it was sent 42 had logged out (dropped).
    const r = (await p.run({ ...batch([login(42, 2_000)]), snapshot: { at: Date.now(), peers: [], activeCalls: [] } })) as TaskResult;
    expect(r.ok).toBe(true);
    const db = new Database(path, { readonly: true });
    const row = db.prepare('SELECT logout_at, logout_reason FROM peer_sessions WHERE peer = 42').get() as { logout_at: number | null; logout_reason: string };
    db.close();
    expect(row.logout_at).not.toBeNull();
    expect(row.logout_reason).toMatch(/dropped/);
  });

  it('stores the real start of a call that ended by timeout (not its end minus its duration)', async () => {
    const path = tmpDb();
    const p = pool(path);
    const end = Date.now();
    // Last packet 1 s after the first, but the stream timeout ended it 2 s after that.
    const e = { ...callEnd(3100009, end), startedAt: end - 3000, durationMs: 1000, reason: 'timeout' } as ReportEvent;
    expect(((await p.run(batch([e]))) as TaskResult).ok).toBe(true);
    const db = new Database(path, { readonly: true });
    const row = db.prepare('SELECT started_at, ended_at FROM calls').get() as { started_at: number; ended_at: number };
    db.close();
    expect(row).toEqual({ started_at: end - 3000, ended_at: end });
  });
});

describe('the reporting hub paces each sink', () => {
  it('holds a sink with minBatchMs back that long after its last batch, while the others go at batch_interval', async () => {
    let now = 1_000_000;
    const sink = (name: string, minBatchMs?: number): SinkSpec => ({
      name,
      module: SINK,
      options: { path: tmpDb(), retentionDays: 30, busyTimeoutMs: 50, pruneEveryMs: 60_000, pruneChunk: 1000 },
      ...(minBatchMs !== undefined ? { minBatchMs } : {}),
    });
    const hub = new ReportingHub({ server: 'test', queueDepth: 100, batchSize: 100, batchMs: 50, sinks: [sink('quick'), sink('paced', 500)], hostFile: HOST, logger: pino({ level: 'silent' }), clock: () => now });
    hub.start();
    try {
      const batches = (name: string): number => hub.stats()[name]!.batches;
      const push = (src: number): void => {
        const { v: _v, server: _s, seq: _q, ...input } = callEnd(src, now);
        hub.push(input as ReportInput);
      };
      // A sink not yet known to be up gets its first batch at once: both are up after it.
      push(3100001);
      await expect.poll(() => hub.stats()['paced']!.state === 'up' && hub.stats()['quick']!.state === 'up', { timeout: 5000, interval: 20 }).toBe(true);
      expect([batches('quick'), batches('paced')]).toEqual([1, 1]);
      // The hub's clock says how long an event has waited; its pump runs on a real timer.
      push(3100002);
      now += 100;
      await expect.poll(() => batches('quick'), { timeout: 5000, interval: 20 }).toBe(2);
      now += 300;
      await new Promise((r) => setTimeout(r, 300));
      expect(batches('paced')).toBe(1);
      now += 200;
      await expect.poll(() => batches('paced'), { timeout: 5000, interval: 20 }).toBe(2);
      // After a quiet spell an event goes as soon as for any sink.
      now += 1000;
      push(3100003);
      now += 100;
      await expect.poll(() => [batches('quick'), batches('paced')], { timeout: 5000, interval: 20 }).toEqual([3, 3]);
    } finally {
      await hub.stop(2000, 500);
    }
  });
});
