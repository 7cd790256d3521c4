// The command line as a fresh install meets it: `dmrhub init` then `check-config`, the config
// lookup from the working directory, the first start line naming the file, and the error when
// there is no config at all.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { MAIN_JS, runCli } from '../support/server-process.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'dmrhub-install-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('dmrhub init and the config lookup', () => {
  it('init writes a config that check-config accepts; a second init refuses', async () => {
    const dir = tempDir();
    const first = await runCli(['init', dir]);
    expect(first.code, first.stderr).toBe(0);
    const path = join(dir, 'dmrhub.toml');
    expect(first.stdout).toContain(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const checked = await runCli(['check-config', path]);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toBe(`${path}: ok\n`);
    const before = readFileSync(path, 'utf8');
    const second = await runCli(['init', dir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('already exists; not overwritten');
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('start without --config uses ./dmrhub.toml and names it in its first line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'dmrhub.toml'), '[hbp]\nport = 0\n[sql]\nenabled = false\n[record]\nflight_recorder_dir = "."\n[log]\npretty = false\n');
    const child = spawn(process.execPath, [MAIN_JS, 'start'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, unknown>[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no server.listening within 10 s: ${JSON.stringify(lines)}`)), 10_000);
        createInterface({ input: child.stdout }).on('line', (l) => {
          lines.push(JSON.parse(l) as Record<string, unknown>);
          if (lines.at(-1)!['code'] === 'server.listening') {
            clearTimeout(timer);
            resolve();
          }
        });
      });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
    expect(lines[0]).toMatchObject({ code: 'server.config', file: join(dir, 'dmrhub.toml'), source: 'working directory' });
    expect(lines[0]!['msg']).toContain(join(dir, 'dmrhub.toml'));
  });

  // Meaningful only where there is no system config (a build machine).
  it.skipIf(existsSync('/etc/dmrhub/dmrhub.toml'))('without any config file, says where it looked and exits 2', () => {
    const dir = tempDir();
    for (const cmd of ['start', 'check-config', 'lastheard']) {
      const r = spawnSync(process.execPath, [MAIN_JS, cmd], { cwd: dir, encoding: 'utf8', timeout: 10_000 });
      expect(r.status, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`no config file: tried --config (not given), ${join(dir, 'dmrhub.toml')}, /etc/dmrhub/dmrhub.toml`);
    }
  });
});
