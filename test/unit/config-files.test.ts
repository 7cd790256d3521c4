// Config messages as an operator reads them (1-based positions, reversed ranges) and the checks of
// the files and directories a config names, which check-config, the start and every reload run.

import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatConfigErrors, loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { operatorKey } from '../../src/config/types.js';

function errorsText(text: string): string {
  const r = parseConfigText(text, '/tmp');
  if (r.ok) throw new Error('expected the config to be rejected');
  return formatConfigErrors(r.errors, 'dmrhub.toml');
}

describe('config messages read as an operator writes the file', () => {
  it('counts positions from 1, in brackets', () => {
    expect(operatorKey('links.1.port')).toBe('links[2].port');
    expect(operatorKey('routing.ts2_static.0')).toBe('routing.ts2_static[1]');
    expect(operatorKey('links.0.talkgroups.2')).toBe('links[1].talkgroups[3]');
    expect(operatorKey('mqtt.url')).toBe('mqtt.url');
    expect(operatorKey('')).toBe('');
    const link = (name: string, port: string): string =>
      `[[links]]\nname = "${name}"\nport = ${port}\ntarget_address = "127.0.0.1"\ntarget_port = 62044\npassphrase = "p"\nnetwork_id = 9990\n`;
    const text = `[server]\nid = 9991\n${link('a', '62045')}${link('b', '"x"')}`;
    expect(errorsText(text)).toBe('dmrhub.toml:12: links[2].port: expected a UDP port 1..65535, got "x"');
  });

  it('says a reversed range is reversed, and how to write it', () => {
    expect(errorsText('[routing]\nlocal_talkgroups = [70, "9999-9990"]\n')).toBe(
      'dmrhub.toml:2: routing.local_talkgroups[2]: "9999-9990" is reversed (the first talkgroup is above the last): write "9990-9999"',
    );
    expect(errorsText('[routing]\nlocal_talkgroups = ["0-5"]\n')).toMatch(/local_talkgroups\[1\]: "0-5" is outside the talkgroups 1\.\.16777214/);
  });
});

describe('files named in the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dmrhub-files-'));
  const write = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('a config whose files are there loads', () => {
    mkdirSync(join(dir, 'prompts'), { recursive: true });
    write('ca.pem', 'x');
    const p = write('good.toml', '[prompts]\ndirectory = "prompts"\n[mqtt]\nurl = "mqtts://127.0.0.1:8883"\nca_file = "ca.pem"\n[sql]\nenabled = true\npath = "new/sub/dir/db.sqlite"\n');
    const r = loadConfigFile(p);
    expect(r.ok, r.ok ? '' : formatConfigErrors(r.errors, p)).toBe(true);
  });

  it('names each missing or wrong file on its line', () => {
    write('plain-file', 'x');
    const p = write(
      'bad.toml',
      [
        '[prompts]',
        'directory = "no-such-prompts"',
        '[record]',
        'enabled = true',
        'path = "plain-file/events.ndjson"',
        'flight_recorder_dir = "plain-file"',
        '[mqtt]',
        'url = "mqtts://127.0.0.1:8883"',
        'ca_file = "missing-ca.pem"',
        'cert_file = "prompts"',
        '[sql]',
        'enabled = true',
        'path = "prompts"',
        '',
      ].join('\n'),
    );
    const r = loadConfigFile(p);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatConfigErrors(r.errors, 'bad.toml').split('\n')).toEqual([
      `bad.toml:2: prompts.directory: ${join(dir, 'no-such-prompts')} does not exist`,
      `bad.toml:5: record.path: ${join(dir, 'plain-file/events.ndjson')} cannot be written: ${join(dir, 'plain-file')} is not a directory`,
      `bad.toml:6: record.flight_recorder_dir: ${join(dir, 'plain-file')} is not a directory`,
      `bad.toml:9: mqtt.ca_file: ${join(dir, 'missing-ca.pem')} does not exist`,
      `bad.toml:10: mqtt.cert_file: ${join(dir, 'prompts')} is not a file`,
      `bad.toml:13: sql.path: ${join(dir, 'prompts')} is a directory, not a file`,
    ]);
  });

  it('TLS files are not checked while MQTT is off; the schema-only parse never looks at the disk', () => {
    const p = write('off.toml', '[mqtt]\nurl = ""\nca_file = "missing-ca.pem"\n');
    expect(loadConfigFile(p).ok).toBe(true);
    expect(parseConfigText('[prompts]\ndirectory = "/no/such/dir"\n', dir).ok).toBe(true);
    expect(loadConfigFile(write('p.toml', '[prompts]\ndirectory = "/no/such/dir"\n'), false).ok).toBe(true);
  });

  it('an unreadable TLS file is named (skipped as root, who reads anything)', () => {
    if (process.getuid?.() === 0) return;
    const key = write('key.pem', 'x');
    chmodSync(key, 0o000);
    const r = loadConfigFile(write('k.toml', '[mqtt]\nurl = "mqtts://h"\nkey_file = "key.pem"\n'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.message).toMatch(/cannot be read \(no permission\)/);
  });
});
