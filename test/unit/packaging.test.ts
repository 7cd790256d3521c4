// What a production install gets: the files `npm pack` ships.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/server-process.js';

/** Files allowed in the package: what runs, the example config, the docs. */
const ALLOWED: RegExp[] = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^config\/dmrhub\.example\.toml$/,
  /^dist\/src\/.+\.js$/,
  /^dist\/workers\/[^/]+\.js$/,
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
      'dist/src/main.js',
      'dist/src/config/load-worker.js',
      'dist/workers/reporting-host.js',
      'dist/workers/mqtt-sink.js',
      'dist/workers/sqlite-sink.js',
      'dist/workers/sqlite-probe.js',
      'dist/workers/sqlite-read.js',
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
