// Which config file a command uses: --config, then ./dmrhub.toml, then /etc/dmrhub/dmrhub.toml.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findConfig, SYSTEM_CONFIG } from '../../src/config/find.js';

const CWD = resolve('/home/op/work');
const LOCAL = resolve(CWD, 'dmrhub.toml');
const only = (...present: string[]) => (p: string) => present.includes(p);

describe('config lookup', () => {
  it('takes --config first, relative to the working directory, even when both defaults exist', () => {
    const r = findConfig('my.toml', { cwd: CWD, exists: only(LOCAL, SYSTEM_CONFIG) });
    expect(r).toEqual({ ok: true, path: resolve(CWD, 'my.toml'), source: '--config' });
  });

  it('takes --config as given even when it does not exist (the loader names it)', () => {
    expect(findConfig('/nowhere/x.toml', { cwd: CWD, exists: only() })).toEqual({ ok: true, path: '/nowhere/x.toml', source: '--config' });
  });

  it('then ./dmrhub.toml before the system config', () => {
    expect(findConfig(undefined, { cwd: CWD, exists: only(LOCAL, SYSTEM_CONFIG) })).toEqual({ ok: true, path: LOCAL, source: 'working directory' });
  });

  it('then /etc/dmrhub/dmrhub.toml', () => {
    expect(SYSTEM_CONFIG).toBe('/etc/dmrhub/dmrhub.toml');
    expect(findConfig(undefined, { cwd: CWD, exists: only(SYSTEM_CONFIG) })).toEqual({ ok: true, path: SYSTEM_CONFIG, source: 'system' });
  });

  it('without any, lists every place tried and how to make one', () => {
    const r = findConfig(undefined, { cwd: CWD, exists: only() });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.tried).toEqual([LOCAL, SYSTEM_CONFIG]);
    expect(r.message).toContain('--config');
    expect(r.message).toContain(LOCAL);
    expect(r.message).toContain(SYSTEM_CONFIG);
    expect(r.message).toContain('dmrhub init');
  });
});
