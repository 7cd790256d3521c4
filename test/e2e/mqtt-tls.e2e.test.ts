// MQTT over TLS with a username and password, through the real server process and a private
// mosquitto with a TLS listener and a password file. The broker's certificate is signed by a
// throw-away CA (test/support/tls.ts). Checks that the config keys reach the client: with the CA
// and the right password the server publishes; with a wrong password, or without the CA, it is
// refused, says so in its log, and keeps routing.

import mqtt, { type MqttClient } from 'mqtt';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { voiceCall } from '../support/harness.js';
import { HbpClient } from '../support/hbp-client.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { startServer, type ServerHandle } from '../support/server-process.js';
import { makeCerts, type TestCerts } from '../support/tls.js';

const HOST = '127.0.0.1';
const USER = { name: 'dmrhub', password: 'hunter2-tls' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir = '';
let certs: TestCerts;
let broker: TestBroker;
let server: ServerHandle | null = null;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dmrhub-tls-'));
  certs = makeCerts(dir);
  broker = await startBroker({ tls: certs, user: USER });
});

afterAll(async () => {
  await broker?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  if (server) {
    await server.stop();
    server.cleanup();
    server = null;
  }
});

async function subscriber(): Promise<Map<string, string>> {
  const c: MqttClient = mqtt.connect(broker.url, { reconnectPeriod: 0, ca: readFileSync(certs.caFile), username: USER.name, password: USER.password });
  cleanups.push(() => void c.end(true));
  const last = new Map<string, string>();
  c.on('message', (topic, payload) => last.set(topic, payload.toString()));
  await new Promise<void>((resolve, reject) => {
    c.once('error', reject);
    c.once('connect', () => c.subscribe('tls/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  });
  return last;
}

async function serverWith(mqttKeys: Record<string, unknown>): Promise<ServerHandle> {
  server = await startServer({
    config: { server: { name: 'tlshub' }, sql: { enabled: false }, mqtt: { url: broker.url, prefix: 'tls', reconnect_min: 0.1, reconnect_max: 0.5, ...mqttKeys } },
  });
  return server;
}

async function routeOneCall(s: ServerHandle): Promise<void> {
  const a = new HbpClient(312001);
  const b = new HbpClient(312002);
  cleanups.push(() => a.close(), () => b.close());
  for (const c of [a, b]) {
    await c.bind();
    await c.login(HOST, s.port, { passphrase: 'passw0rd', options: 'TS2=91;' });
  }
  const packets = voiceCall({ peerId: a.peerId, src: 3120001, tg: 91, slot: 2, streamId: 0x7100_0001 });
  await a.sendPaced(packets, 20);
  await b.waitForCount(packets.length, 3000);
}

async function until(what: string, ok: () => boolean, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(30);
  }
}

describe('MQTT over TLS with username and password', () => {
  it('publishes through a TLS listener when given the CA and the right credentials', async () => {
    const seen = await subscriber();
    const s = await serverWith({ ca_file: certs.caFile, username: USER.name, password: USER.password });
    await until('online state over TLS', () => (seen.get('tls/tlshub/state/server') ?? '').includes('"online":true'));
    await routeOneCall(s);
    await until('the call over TLS', () => (seen.get('tls/tlshub/events/call') ?? '').includes('"type":"end"'));
    expect(seen.get('tls/tlshub/state/peers/312001')).toContain('"callsign"');
  });

  it('a wrong password is refused: logged, retried, and routing goes on', async () => {
    const s = await serverWith({ ca_file: certs.caFile, username: USER.name, password: 'wrong' });
    await routeOneCall(s);
    await s.waitForLog((l) => l['code'] === 'reporting.sink-down' && l['sink'] === 'mqtt' && /auth: /.test(String(l['error'])), 5000, 'the refused sink, saying why');
    const seen = await subscriber();
    await sleep(500);
    expect([...seen.keys()].filter((t) => t.startsWith('tls/tlshub/events/'))).toEqual([]);
  });

  it('a broker certificate from an unknown CA is refused unless reject_unauthorized = false', async () => {
    const strict = await serverWith({ username: USER.name, password: USER.password });
    await routeOneCall(strict);
    await strict.waitForLog((l) => l['code'] === 'reporting.sink-down' && l['sink'] === 'mqtt' && /TLS: /.test(String(l['error'])), 5000, 'the untrusted certificate, saying why');
    await strict.stop();
    strict.cleanup();
    server = null;

    const seen = await subscriber();
    const lax = await serverWith({ username: USER.name, password: USER.password, reject_unauthorized: false });
    await until('online state without checking the certificate', () => (seen.get('tls/tlshub/state/server') ?? '').includes('"online":true'));
    expect(lax.port).toBeGreaterThan(0);
  });
});
