// `dmrhub replay` errors: one line on stderr and an exit code, never a stack trace. A real event log
// (a server that recorded one login) is replayed with its config gone, with a wrong passphrase in
// it, and with the right one; a missing file and a file that is not a log are refused.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, serverFixture } from '../support/server-process.js';

const fx = serverFixture();

const oneLine = (s: string): void => {
  expect(s.trim().split('\n')).toHaveLength(1);
  expect(s).not.toMatch(/\n\s+at /);
};

describe('replay errors', () => {
  it('a missing file, and a file that is not an event log, are one line with exit 2', async () => {
    const missing = await runCli(['replay', '/nonexistent/dmrhub-events.ndjson']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('replay: cannot read /nonexistent/dmrhub-events.ndjson: no such file\n');
    const s = await fx.start();
    const junk = join(s.dir, 'junk.ndjson');
    writeFileSync(junk, 'hello\n');
    const notLog = await runCli(['replay', junk]);
    expect(notLog.code).toBe(2);
    expect(notLog.stderr).toMatch(/^replay: .*junk\.ndjson is not a dmrhub event log/);
    oneLine(notLog.stderr);
    const noConfig = await runCli(['replay', junk, '--config', join(s.dir, 'nope.toml')]);
    expect(noConfig.code).toBe(2);
  });

  it('a wrong passphrase in the config is named as such (exit 3); the right one replays (exit 0)', async () => {
    const s = await fx.start({ record: true });
    const peer = await fx.radio(311001);
    await peer.login('127.0.0.1', s.port, { passphrase: 'passw0rd', options: 'TS2=91;' });
    expect(await s.stop()).toBe(0);
    const log = s.recordPath!;

    const good = await runCli(['replay', log, '--digest-only']);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);

    const wrong = join(s.dir, 'wrong.toml');
    writeFileSync(wrong, readFileSync(s.configPath, 'utf8').replace('passw0rd', 'not-the-one'));
    const bad = await runCli(['replay', log, '--digest-only', '--config', wrong]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/^replay: hbp\.passphrase in the log: does not match any passphrase in .*wrong\.toml \(a wrong passphrase there/);
    oneLine(bad.stderr);

    // The config named in the log's header is gone: said so, not "no config was given".
    const header = JSON.parse(readFileSync(log, 'utf8').split('\n')[0]!) as { configPath: string };
    const text = readFileSync(log, 'utf8').replace(JSON.stringify(header.configPath), JSON.stringify(join(s.dir, 'gone.toml')));
    writeFileSync(join(s.dir, 'moved.ndjson'), text);
    const gone = await runCli(['replay', join(s.dir, 'moved.ndjson'), '--digest-only']);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toMatch(/^replay: hbp\.passphrase in the log: the config the log names \(.*gone\.toml\) no longer exists; give it with --config\n$/);
  });
});
