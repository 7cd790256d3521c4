// The server's Node flags live in four places that must agree: package.json's start script, the
// shebang of src/main.ts (the `dmrhub` command), the systemd unit's ExecStart, and
// bench/lib/server-flags.ts (what is measured).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../bench/lib/server-flags.js';
import { REPO_ROOT } from '../support/server-process.js';

describe('server Node flags', () => {
  it('are the same in npm start, the dmrhub shebang and the benchmarks', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const start = /^node ((?:--\S+ )*)dist\/src\/main\.js /.exec(pkg.scripts['start'] ?? '');
    expect(start, 'npm start runs node <flags> dist/src/main.js').not.toBeNull();
    expect(start![1]!.trim().split(' ')).toEqual([...SERVER_NODE_FLAGS]);
    const shebang = readFileSync(join(REPO_ROOT, 'src', 'main.ts'), 'utf8').split('\n')[0]!;
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}`);
  });

  it('are the same in the systemd unit', () => {
    const unit = readFileSync(join(REPO_ROOT, 'systemd', 'dmrhub.service'), 'utf8');
    const exec = /^ExecStart=\S*node ((?:--\S+ )*)\S*\/dist\/src\/main\.js start /m.exec(unit);
    expect(exec, 'ExecStart runs node <flags> .../dist/src/main.js start').not.toBeNull();
    expect(exec![1]!.trim().split(' ')).toEqual([...SERVER_NODE_FLAGS]);
  });
});
