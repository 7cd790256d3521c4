// What a production install gets from the package.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/server-process.js';

describe('the npm package', () => {
  it('has better-sqlite3 as an optional dependency only', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    expect(pkg['dependencies']?.['better-sqlite3']).toBeUndefined();
    expect(pkg['optionalDependencies']?.['better-sqlite3']).toBeDefined();
  });
});
