// better-sqlite3 is optional: when it is absent or does not load, the message says which and what
// to do (install it, or [sql] enabled = false), for the server's start and for `dmrhub lastheard`.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSqlite, SqliteUnavailable } from '../../workers/sqlite-module.js';

async function problem(moduleName: string): Promise<string> {
  try {
    await loadSqlite(moduleName);
  } catch (err) {
    expect(err).toBeInstanceOf(SqliteUnavailable);
    return (err as Error).message;
  }
  throw new Error(`${moduleName} loaded`);
}

describe('the optional SQLite module', () => {
  it('loads when installed', async () => {
    const Database = await loadSqlite();
    const db = new Database(':memory:');
    expect(db.prepare('SELECT 1 AS one').get()).toEqual({ one: 1 });
    db.close();
  });

  it('when not installed, says so and how to fix it, in one paragraph', async () => {
    const msg = await problem('better-sqlite3-not-installed');
    expect(msg).toMatch(/^SQLite reporting \(\[sql\] enabled\) needs the optional module better-sqlite3-not-installed, which is not installed\./);
    expect(msg).toContain('npm install');
    expect(msg).toContain('--allow-scripts=better-sqlite3');
    expect(msg).toContain('set enabled = false in the [sql] section');
    expect(msg).not.toContain('\n');
  });

  it('when installed but broken (no native build, another Node), says that, and how to rebuild', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmrhub-sqlite-'));
    try {
      const fake = join(dir, 'broken.mjs');
      writeFileSync(fake, "throw new Error('Could not locate the bindings file. Tried:\\n → /x/build/better_sqlite3.node');\n");
      const msg = await problem(pathToFileURL(fake).href);
      expect(msg).toContain('is installed but does not load (Could not locate the bindings file):');
      expect(msg).toContain('npm rebuild');
      expect(msg).toContain('set enabled = false in the [sql] section');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
