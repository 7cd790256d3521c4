// What a production install gets: the files `npm pack` ships, and the systemd unit.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAIN_JS, REPO_ROOT } from '../support/server-process.js';

const UNIT = join(REPO_ROOT, 'systemd', 'dmrhub.service');

/** Files allowed in the package: what runs, the dashboard, the example config, the unit, the docs. */
const ALLOWED: RegExp[] = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^config\/dmrhub\.example\.toml$/,
  /^systemd\/dmrhub\.service$/,
  /^dist\/src\/.+\.js$/,
  /^dist\/workers\/[^/]+\.js$/,
  // The dashboard's static files, served by the console.
  /^console\/.+\.(html|js|css|svg|png|ico|json|webmanifest|woff2)$/,
];

describe('the npm package', () => {
  it('ships only what runs (npm pack --dry-run)', () => {
    // --ignore-scripts: prepack would rebuild dist/ under the feet of the other tests.
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const [pack] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
    const files = pack!.files.map((f) => f.path).sort();
    expect(files.filter((f) => !ALLOWED.some((re) => re.test(f)))).toEqual([]);
    for (const needed of [
      'LICENSE',
      'README.md',
      'config/dmrhub.example.toml',
      'systemd/dmrhub.service',
      'dist/src/main.js',
      'dist/src/config/load-worker.js',
      'dist/src/names/load-child.js',
      'dist/src/names/thread-worker.js',
      'dist/workers/reporting-host.js',
      'dist/workers/mqtt-sink.js',
      'dist/workers/sqlite-sink.js',
      'dist/workers/sqlite-probe.js',
      'dist/workers/sqlite-read.js',
      'dist/workers/console-sink.js',
      'dist/workers/console-http.js',
      'console/index.html',
      'console/assets/app.js',
      'console/assets/style.css',
    ]) {
      expect(files).toContain(needed);
    }
  });

  it('has better-sqlite3 as an optional dependency only', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    expect(pkg['dependencies']?.['better-sqlite3']).toBeUndefined();
    expect(pkg['optionalDependencies']?.['better-sqlite3']).toBeDefined();
  });
});

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const noAnalyze = analyze.error !== undefined || analyze.status !== 0;
if (noAnalyze) console.warn('packaging.test: systemd-analyze not found (Debian package systemd): the unit file is not verified here');

describe('the systemd unit', () => {
  it.skipIf(noAnalyze)('passes systemd-analyze verify without a warning (skipped where systemd-analyze is missing)', () => {
    // verify insists that ExecStart's program exists: a temporary copy runs this Node and this
    // checkout's dist/src/main.js instead of /usr/bin/node and /usr/lib/node_modules.
    const dir = mkdtempSync(join(tmpdir(), 'dmrhub-unit-'));
    try {
      const text = readFileSync(UNIT, 'utf8').replaceAll('/usr/bin/node', process.execPath).replaceAll('/usr/lib/node_modules/dmrhub/dist/src/main.js', MAIN_JS);
      const copy = join(dir, 'dmrhub.service');
      writeFileSync(copy, text);
      const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      // verify only warns (exit 0) about unknown keys and bad values: any output is a failure.
      expect(r.stderr.trim()).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps its promises: own user, state and config directories, read-only system, restart, reload by SIGHUP', () => {
    const text = readFileSync(UNIT, 'utf8');
    const set = (key: string): string[] => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);
    expect(set('User')).toEqual(['dmrhub']);
    expect(set('StateDirectory')).toEqual(['dmrhub']);
    expect(set('ConfigurationDirectory')).toEqual(['dmrhub']);
    expect(set('ProtectSystem')).toEqual(['strict']);
    expect(set('Restart')).toEqual(['on-failure']);
    expect(set('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    expect(set('ExecStart')[0]).toMatch(/ start --config \/etc\/dmrhub\/dmrhub\.toml$/);
    expect(set('MemoryDenyWriteExecute')).toEqual([]);
  });
});
