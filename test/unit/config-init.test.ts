// `dmrhub init`'s starter config: the example with a random passphrase, mode 0600, never
// overwriting, accepted by the config loader as it is.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { starterConfigText, writeStarterConfig, randomPassphrase } from '../../src/config/init.js';
import { loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { REPO_ROOT } from '../support/server-process.js';

const EXAMPLE = join(REPO_ROOT, 'config', 'dmrhub.example.toml');
const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'dmrhub-init-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('dmrhub init', () => {
  it('writes DIR/dmrhub.toml, mode 0600, that loads with a random passphrase of 24 safe characters', () => {
    const dir = tempDir();
    const r = writeStarterConfig(dir, { example: EXAMPLE });
    expect(r.path).toBe(join(dir, 'dmrhub.toml'));
    expect(statSync(r.path).mode & 0o777).toBe(0o600);
    // A directory it makes is 0750, as the systemd unit's ConfigurationDirectoryMode.
    const made = join(tempDir(), 'etc-dmrhub');
    writeStarterConfig(made, { example: EXAMPLE });
    expect(statSync(made).mode & 0o777).toBe(0o750 & ~process.umask());
    const loaded = loadConfigFile(r.path);
    expect(loaded.ok).toBe(true);
    if (!loaded.ok) return;
    const pass = loaded.config.core.hbp.passphrase;
    expect(pass).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(pass).not.toBe('passw0rd');
    // Paths stay relative to the config file, as in the example.
    expect(loaded.config.sql.path).toBe(join(dir, 'data', 'dmrhub.sqlite'));
  });

  it('gives each config its own passphrase', () => {
    const seen = new Set(Array.from({ length: 50 }, () => randomPassphrase()));
    expect(seen.size).toBe(50);
  });

  it('refuses to overwrite an existing file, leaving it as it was', () => {
    const dir = tempDir();
    const path = join(dir, 'dmrhub.toml');
    writeFileSync(path, '# mine\n');
    expect(() => writeStarterConfig(dir, { example: EXAMPLE })).toThrow(/already exists; not overwritten/);
    expect(readFileSync(path, 'utf8')).toBe('# mine\n');
  });

  it('puts the database, recordings and dumps in --data-dir', () => {
    const dir = tempDir();
    const data = join(dir, 'state');
    const r = writeStarterConfig(join(dir, 'etc'), { example: EXAMPLE, dataDir: data });
    expect(r.dataDir).toBe(data);
    const loaded = loadConfigFile(r.path);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    expect(loaded.config.sql.path).toBe(join(data, 'dmrhub.sqlite'));
    expect(loaded.config.record.path).toBe(join(data, 'recordings', 'dmrhub-events.ndjson'));
    expect(loaded.config.record.flightRecorderDir).toBe(join(data, 'dumps'));
  });

  it('keeps the example in sync: every key the example sets is still set, only these lines differ', () => {
    const example = readFileSync(EXAMPLE, 'utf8');
    const text = starterConfigText(example, { passphrase: 'p', dataDir: '/var/lib/dmrhub', date: '2026-01-01' });
    const a = parseConfigText(example, '/x');
    const b = parseConfigText(text, '/x');
    if (!a.ok || !b.ok) throw new Error('both must load');
    expect({ ...b.config, core: { ...b.config.core, hbp: { ...b.config.core.hbp, passphrase: 'passw0rd' } }, sql: a.config.sql, record: a.config.record, source: null }).toEqual({
      ...a.config,
      source: null,
    });
    expect(b.config.sql.path).toBe(resolve('/var/lib/dmrhub/dmrhub.sqlite'));
  });
});
