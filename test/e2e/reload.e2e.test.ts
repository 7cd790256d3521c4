// SIGHUP reloads the config atomically; a bad file is refused with its line numbers and the
// running config stays in force.

import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { HbpClient } from '../support/hbp-client.js';
import { startServer, type ServerHandle } from '../support/server-process.js';

let server: ServerHandle | null = null;
afterEach(async () => {
  if (server) {
    await server.stop();
    server.cleanup();
    server = null;
  }
});

it('SIGHUP: a bad file keeps the running config; a good one applies without dropping peers', async () => {
  server = await startServer({ config: { routing: { ts2_static: [91] } } });
  const s = server;
  const good = readFileSync(s.configPath, 'utf8');
  const peer = new HbpClient(320001);
  await peer.bind();
  await peer.login('127.0.0.1', s.port, { passphrase: 'passw0rd' });

  writeFileSync(s.configPath, good + '\n[timers]\ngroup_hangtime = "long"\n');
  s.child.kill('SIGHUP');
  const refused = await s.waitForLog((l) => l['code'] === 'config.reload-failed', 5000, 'the reload to be refused');
  expect(String(refused['msg'])).toMatch(/:\d+: timers\.group_hangtime: expected a number of seconds/);
  await peer.ping(); // still logged in, still served

  writeFileSync(s.configPath, good.replace(/ts2_static = \[\s*91\s*\]/, 'ts2_static = [ 92 ]'));
  s.child.kill('SIGHUP');
  await s.waitForLog((l) => l['code'] === 'config.reloaded', 5000, 'the reload');
  await s.waitForLog((l) => l['code'] === 'config.applied', 2000, 'the core to apply the new config');
  await peer.ping();
  await peer.close();
});
