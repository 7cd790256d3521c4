// [[hbp.credentials]] in the config file: what is accepted, how the passphrase is given, and the
// line-numbered errors for what is not.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText, redactConfig } from '../../src/config/load.js';

function errorsOf(text: string, baseDir = '/tmp'): { key: string; line: number | null; message: string }[] {
  const r = parseConfigText(text, baseDir);
  return r.ok ? [] : r.errors;
}

describe('[[hbp.credentials]]', () => {
  it('loads IDs, ranges, callsign patterns, per-credential defaults and a passphrase file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dmrhub-cred-'));
    try {
      writeFileSync(join(dir, 'g4.pass'), 'from a file\n', { mode: 0o600 });
      const text = [
        '[hbp]',
        'passphrase = ""',
        '[[hbp.credentials]]',
        'name = "g4xyz"',
        'ids = [234500101, "234500110-234500119"]',
        'passphrase_file = "g4.pass"',
        'ts2_static = [2350]',
        'options = false',
        '[[hbp.credentials]]',
        'callsign = "M0*"',
        'passphrase = "for M0"',
        'talker_alias = true',
      ].join('\n');
      const r = parseConfigText(text, dir);
      if (!r.ok) throw new Error(JSON.stringify(r.errors));
      expect(r.config.core.hbp.passphrase).toBe('');
      expect(r.config.core.hbp.credentials).toEqual([
        { name: 'g4xyz', ids: [[234500101, 234500101], [234500110, 234500119]], callsign: '', passphrase: 'from a file', ts1: null, ts2: [2350], options: false, talkerAlias: false },
        { name: 'credentials.2', ids: [], callsign: 'M0*', passphrase: 'for M0', ts1: null, ts2: null, options: true, talkerAlias: true },
      ]);
      // Redacted for event-log headers: digests only.
      const shown = JSON.stringify(redactConfig(r.config));
      expect(shown).not.toContain('from a file');
      expect(shown).not.toContain('for M0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names each mistake with its line', () => {
    const text = [
      '[hbp]', //                                  1
      '[[hbp.credentials]]', //                    2
      'ids = ["9999-9990"]', //                    3
      'passphrase = "x"', //                       4
      '[[hbp.credentials]]', //                    5
      'ids = [1]', //                              6
      'passphrase_sha256 = "ab12"', //             7
      'passphrase = "y"', //                       8
      '[[hbp.credentials]]', //                    9
      'callsign = "G4*"', //                      10
      'passphrase_file = "/nonexistent/secret"', // 11
      '[[hbp.credentials]]', //                   12
      'passphrase = "z"', //                      13
      'colour = 1', //                            14
    ].join('\n');
    const errors = errorsOf(text);
    const at = (key: string) => errors.find((e) => e.key === key);
    expect(at('hbp.credentials.0.ids.0')?.line).toBe(3);
    expect(at('hbp.credentials.0.ids.0')?.message).toBe('expected a peer ID 1..4294967295 or a range "first-last", got "9999-9990": 9999-9990 is reversed (write "9990-9999")');
    expect(at('hbp.credentials.1.passphrase_sha256')?.line).toBe(7);
    expect(at('hbp.credentials.1.passphrase_sha256')?.message).toMatch(/only the passphrase itself can check it.*passphrase_file/);
    expect(at('hbp.credentials.3')?.message).toMatch(/must say whom it covers/);
    expect(at('hbp.credentials.3.colour')?.line).toBe(14);
    expect(at('hbp.credentials.3.colour')?.message).toMatch(/unknown key in \[\[hbp\.credentials\]\]/);
    // The passphrase file is read only once the rest is valid; then its error has its line too.
    const fileErrors = errorsOf(['[[hbp.credentials]]', 'callsign = "G4*"', 'passphrase_file = "/nonexistent/secret"'].join('\n'));
    expect(fileErrors).toEqual([{ key: 'hbp.credentials.0.passphrase_file', line: 3, message: expect.stringMatching(/passphrase file not found: \/nonexistent\/secret/) }]);
  });

  it('refuses a config where nobody could log in, and a credential with two passphrases', () => {
    expect(errorsOf('[hbp]\npassphrase = ""').map((e) => [e.key, e.line])).toEqual([['hbp.passphrase', 2]]);
    const two = errorsOf('[[hbp.credentials]]\nids = [5]\npassphrase = "a"\npassphrase_file = "b"');
    expect(two.map((e) => e.message)).toEqual(['expected exactly one of passphrase or passphrase_file']);
  });
});
