// The SQLite reporting sink through the real server: calls become lastheard and call-log rows read
// back with `dmrhub lastheard`; an exclusive lock held on the database during calls does not touch
// routing, and the rows arrive once it is released; a clean shutdown loses no queued event.

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { voiceCall } from '../support/harness.js';
import type { HbpClient } from '../support/hbp-client.js';
import { runCli, serverFixture, type ServerHandle } from '../support/server-process.js';

const HOST = '127.0.0.1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const fx = serverFixture();

async function setup(reporting: Record<string, unknown> = { batch_interval: 0.05 }): Promise<{ s: ServerHandle; a: HbpClient; b: HbpClient; db: string }> {
  const server = await fx.start({ config: { sql: { enabled: true, path: 'db/dmrhub.sqlite' }, reporting } });
  const a = await fx.radio(310001);
  const b = await fx.radio(310002);
  for (const c of [a, b]) await c.login(HOST, server.port, { passphrase: 'passw0rd', options: 'TS2=91;' });
  return { s: server, a, b, db: join(server.dir, 'db', 'dmrhub.sqlite') };
}

/** Send a call from `a` paced at 20 ms; resolves when `b` has received all of it. */
async function call(a: HbpClient, b: HbpClient, src: number, streamId: number): Promise<number> {
  const packets = voiceCall({ peerId: a.peerId, src, tg: 91, slot: 2, streamId });
  const before = b.received.length;
  await a.sendPaced(packets, 20);
  await b.waitForCount(before + packets.length, 3000);
  return packets.length;
}

async function until<T>(what: string, fn: () => T | undefined | null | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const countCalls = (file: string): number => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    // The sink creates the file before its tables: until they exist, there is nothing to count.
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'calls'").get() === undefined) return 0;
    return (db.prepare('SELECT COUNT(*) AS n FROM calls').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('SQLite lastheard through the real server', () => {
  it('stores calls and sessions, and `dmrhub lastheard` reads them back', async () => {
    const { s, a, b, db } = await setup();
    await call(a, b, 3100001, 0x51000001);
    await call(b, a, 3100002, 0x51000002);
    expect(await s.stop()).toBe(0);
    const json = await runCli(['lastheard', '--config', s.configPath, '--json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { src: number; dst: number; peer: number; reason: string; duration_ms: number; slot: number }[];
    expect(rows.map((r) => r.src).sort()).toEqual([3100001, 3100002]);
    for (const r of rows) {
      expect(r.dst).toBe(91);
      expect(r.slot).toBe(2);
      expect(r.reason).toBe('terminator');
      // 8 packets sent 20 ms apart: header to terminator is 7 × 20 ms, plus scheduling jitter.
      expect(r.duration_ms).toBeGreaterThanOrEqual(130);
      expect(r.duration_ms).toBeLessThan(400);
    }
    expect(rows.find((r) => r.src === 3100001)!.peer).toBe(310001);
    const table = await runCli(['lastheard', '--config', s.configPath]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^time\s+source\s+TG\/dst/);
    expect(table.stdout).toMatch(/3100002\s+91\s+group\s+310002\s+TS2\s+0\.[1-3]\s+0\.0%\s+terminator/);
    const conn = new Database(db, { readonly: true });
    const sessions = conn.prepare('SELECT peer, logout_reason FROM peer_sessions ORDER BY peer').all();
    conn.close();
    expect(sessions).toEqual([
      { peer: 310001, logout_reason: 'shutdown' },
      { peer: 310002, logout_reason: 'shutdown' },
    ]);
  });

  it('a locked database does not touch routing; the rows arrive after the lock is released', async () => {
    const { s, a, b, db } = await setup();
    await call(a, b, 3100001, 0x52000001);
    await until('the first call row', () => countCalls(db) === 1);
    const locker = new Database(db);
    locker.exec('BEGIN EXCLUSIVE');
    let sent = 0;
    for (let i = 0; i < 5; i++) sent += await call(a, b, 3100010 + i, 0x52000010 + i);
    expect(sent).toBe(40); // every packet of every call reached the listener while locked
    await s.waitForLog((l) => l['code'] === 'reporting.sink-down', 3000, 'the sink to report the lock');
    locker.exec('ROLLBACK');
    locker.close();
    await until('the rows queued during the lock', () => countCalls(db) === 6, 15_000);
    await s.waitForLog((l) => l['code'] === 'reporting.sink-up', 3000, 'the sink to recover');
  });

  it('a clean shutdown flushes every queued event', async () => {
    const { s, a, b, db } = await setup();
    let calls = 0;
    for (let i = 0; i < 6; i++) {
      await call(a, b, 3100100 + i, 0x53000000 + i);
      calls++;
    }
    // Stop at once: the last calls are still in the queue or in flight.
    expect(await s.stop()).toBe(0);
    expect(countCalls(db)).toBe(calls);
    expect(s.logs.some((l) => l['code'] === 'reporting.unflushed')).toBe(false);
  });

  it('a crash loses at most the last second: calls that ended a second before a SIGKILL are stored', async () => {
    const { s, a, b, db } = await setup({}); // the default batching, as shipped
    for (let i = 0; i < 4; i++) await call(a, b, 3100200 + i, 0x54000000 + i);
    await sleep(1000);
    s.child.kill('SIGKILL');
    await new Promise<void>((r) => (s.child.exitCode !== null || s.child.signalCode !== null ? r() : s.child.once('exit', () => r())));
    expect(countCalls(db)).toBe(4);
  });
});
