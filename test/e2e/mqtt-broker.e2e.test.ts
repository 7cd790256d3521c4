// MQTT reporting through the real server and a real mosquitto: events and retained state; the
// broker stopped and restarted mid-traffic (routing loses nothing, the publisher reconnects and
// refreshes retained state, queued events arrive); forced drops reported by a health event; the
// offline state at shutdown.

import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { voiceCall } from '../support/harness.js';
import { HbpClient } from '../support/hbp-client.js';
import { startBroker, type Broker } from '../support/mosquitto-broker.js';
import { startServer, type ServerHandle } from '../support/server-process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const PREFIX = 'dmrhub/dmrhub';

interface Msg {
  topic: string;
  payload: string;
  retain: boolean;
}

let broker: Broker | null = null;
let server: ServerHandle | null = null;
const peers: HbpClient[] = [];
const subscribers: MqttClient[] = [];

afterEach(async () => {
  for (const s of subscribers.splice(0)) s.end(true);
  for (const p of peers.splice(0)) await p.close();
  if (server) {
    await server.stop();
    server.cleanup();
    server = null;
  }
  await broker?.close();
  broker = null;
});

/** Subscribe to everything under the prefix; `msgs` keeps growing. */
async function subscribe(url: string): Promise<{ msgs: Msg[]; client: MqttClient }> {
  const client = mqtt.connect(url, { reconnectPeriod: 200 });
  subscribers.push(client);
  const msgs: Msg[] = [];
  client.on('message', (topic, payload, packet) => msgs.push({ topic, payload: payload.toString(), retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe(`${PREFIX}/#`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    client.once('error', reject);
  });
  return { msgs, client };
}

async function until<T>(what: string, fn: () => T | undefined | null | false, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

async function setup(extra: Record<string, Record<string, unknown>> = {}): Promise<{ a: HbpClient; b: HbpClient; s: ServerHandle; b0: Broker }> {
  broker = await startBroker();
  server = await startServer({
    config: {
      mqtt: { url: broker.url, reconnect_min: 0.1, reconnect_max: 0.5 },
      reporting: { batch_interval: 0.05, ...(extra['reporting'] ?? {}) },
    },
  });
  const a = new HbpClient(330001);
  const b = new HbpClient(330002);
  peers.push(a, b);
  for (const p of [a, b]) {
    await p.bind();
    await p.login('127.0.0.1', server.port, { passphrase: 'passw0rd', options: 'TS2=91;' });
  }
  return { a, b, s: server, b0: broker };
}

/** A call from `from` paced 20 ms apart; returns how many packets were sent. */
async function call(from: HbpClient, src: number, streamId: number, superframes = 1): Promise<number> {
  const packets = voiceCall({ peerId: from.peerId, src, tg: 91, slot: 2, streamId, superframes });
  for (const p of packets) {
    from.send(p);
    await sleep(20);
  }
  return packets.length;
}

const dmrdCount = (p: HbpClient): number => p.received.filter((r) => String.fromCharCode(...r.bytes.subarray(0, 4)) === 'DMRD').length;
/** Peers with state in `state/peers/…` (published retained; delivered live or as retained copies). */
const statePeers = (msgs: Msg[]): Set<string> => {
  const out = new Set<string>();
  for (const m of msgs) {
    if (!m.topic.startsWith(`${PREFIX}/state/peers/`)) continue;
    if (m.payload === '') out.delete(m.topic);
    else out.add(m.topic);
  }
  return out;
};
const events = (msgs: Msg[], family: string): Record<string, unknown>[] =>
  msgs.filter((m) => m.topic === `${PREFIX}/events/${family}`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);

describe('MQTT reporting through the real server and mosquitto', () => {
  it('publishes events and retained state, survives a broker restart mid-traffic, and goes offline at shutdown', async () => {
    const { a, b, s, b0 } = await setup();
    const live = await subscribe(b0.url);

    // Retained state for a fresh subscriber: server online, both peers.
    const fresh = await subscribe(b0.url);
    await until('retained peers', () => statePeers(fresh.msgs).size === 2);
    expect(JSON.parse(fresh.msgs.find((m) => m.topic === `${PREFIX}/state/server`)!.payload)).toMatchObject({ online: true });

    // A call: start and end events, the active-call state set during it and cleared after.
    const packets = voiceCall({ peerId: a.peerId, src: 3100001, tg: 91, slot: 2, streamId: 0x61000001, superframes: 3 });
    for (const [i, p] of packets.entries()) {
      a.send(p);
      await sleep(60); // the DMR rate: a long call sent faster trips the 25 packets/s limit
      if (i === 3) await until('active call state', () => live.msgs.some((m) => m.topic === `${PREFIX}/state/calls/330001/2` && m.payload !== ''));
    }
    await until('call end event', () => events(live.msgs, 'call').some((e) => e['type'] === 'end'));
    const end = events(live.msgs, 'call').find((e) => e['type'] === 'end')!;
    expect(end).toMatchObject({ v: 1, stream: '61000001', src: 3100001, dst: 91, slot: 2, packets: packets.length, lost: 0, reason: 'terminator', receivers: 1 });
    await until('call state cleared', () => live.msgs.some((m) => m.topic === `${PREFIX}/state/calls/330001/2` && m.payload === ''));
    expect(events(live.msgs, 'peer').filter((e) => e['type'] === 'login').map((e) => e['peer'])).toEqual([330001, 330002]);

    // Broker gone mid-traffic: routing loses nothing.
    const before = dmrdCount(b);
    let sent = 0;
    const traffic = (async () => {
      for (let i = 0; i < 4; i++) sent += await call(a, 3100010 + i, 0x62000000 + i);
    })();
    await sleep(100);
    await b0.stop();
    await s.waitForLog((l) => l['code'] === 'reporting.sink-down', 5000, 'the MQTT sink to go down');
    await traffic;
    await until(`every packet routed (got ${dmrdCount(b) - before} of ${sent})`, () => dmrdCount(b) - before === sent, 3000).catch((e: Error) => {
      const calls = s.logs.filter((l) => String(l["code"]).startsWith("call.") || String(l["code"]).startsWith("packet") || String(l["code"]).startsWith("reporting")).map((l) => `${l["code"]}:${l["stream"] ?? ""}:${l["reason"] ?? ""}:${l["packets"] ?? ""}`);
      throw new Error(`${e.message}; now ${dmrdCount(b) - before} of ${sent}; ${calls.join(" | ")}`);
    });

    // Broker back: reconnect, retained state refreshed, queued events delivered.
    await b0.start();
    await s.waitForLog((l) => l['code'] === 'reporting.sink-up', 8000, 'the MQTT sink to come back');
    const after = await subscribe(b0.url);
    await until('the state republished after the restart', () => statePeers(after.msgs).size === 2);
    // …and retained on the broker: a subscriber arriving now gets it as retained messages.
    const later = await subscribe(b0.url);
    await until('retained copies', () => later.msgs.filter((m) => m.retain && m.topic.startsWith(`${PREFIX}/state/peers/`)).length === 2);
    expect(later.msgs.find((m) => m.topic === `${PREFIX}/state/server`)?.retain).toBe(true);
    expect(JSON.parse(after.msgs.find((m) => m.topic === `${PREFIX}/state/server`)!.payload)).toMatchObject({ online: true });
    await until('the calls made while the broker was down', () => events(after.msgs, 'call').filter((e) => e['type'] === 'end').length === 4);

    // Clean shutdown: the server state goes offline (retained).
    expect(await s.stop()).toBe(0);
    await until('server offline', () => after.msgs.some((m) => m.topic === `${PREFIX}/state/server` && m.payload.includes('"online":false')));
  });

  it('reports the events it had to drop while the broker was away (small queue)', async () => {
    const { a, s, b0 } = await setup({ reporting: { queue_depth: 10 } });
    await sleep(300);
    await b0.stop();
    await s.waitForLog((l) => l['code'] === 'reporting.sink-down', 5000, 'the MQTT sink to go down');
    for (let i = 0; i < 8; i++) await call(a, 3100100 + i, 0x63000000 + i, 0);
    await b0.start();
    const sub = await subscribe(b0.url);
    const health = await until('a health event', () => events(sub.msgs, 'reporting').find((e) => e['type'] === 'health'), 10_000);
    const dropped = health['dropped'] as { queueFull: number; sinkDown: number };
    expect(dropped.queueFull + dropped.sinkDown).toBeGreaterThan(0);
    expect(health['sinks']).toMatchObject({ mqtt: 'up' });
    // Retained state was rebuilt from the snapshot: both peers are still there.
    await until('retained peers', () => statePeers(sub.msgs).size === 2);
  });
});
