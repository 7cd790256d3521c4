// Acceptance: MQTT reporting through the REAL server process (dist/src/main.js) and a real,
// private mosquitto (test/support/broker.ts).
//
// The server reaches the broker through a small TCP relay owned by the test. The relay forwards
// everything; it only exists so that, after the broker is restarted, the test can hold the server
// off (connections refused, exactly like a broker that is still down) until its own subscriber is
// in place. Without it, QoS 0 events the server publishes the instant it reconnects could reach
// the broker before anyone listens, and the test would be flaky.
//
// Scenario 1: retained server/peer state, login events, call start/end with the active-call state
// set and cleared; the broker stopped mid-traffic (routing loses nothing), restarted (the server
// reconnects, republishes retained state, delivers the queued events); SIGTERM → offline.
// Scenario 2: a tiny reporting queue overflows while the broker is away; a health event reports
// the drops and the retained state is rebuilt from the hub's snapshot.

import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { existsSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { voiceCall } from '../support/harness.js';
import { HbpClient } from '../support/hbp-client.js';
import { startBroker, type TestBroker } from '../support/broker.js';
import { REPO_ROOT, startServer, type ServerHandle } from '../support/server-process.js';

const SINK_JS = join(REPO_ROOT, 'dist', 'workers', 'mqtt-sink.js');
const PREFIX = 'e2e';
const NAME = 'hubtest';
const ROOT = `${PREFIX}/${NAME}`;
const PEER_A = 311001;
const PEER_B = 311002;
const TG = 91;
const FRAME_MS = 60; // the DMR voice frame rate; faster trips the per-stream packet limit

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Msg {
  topic: string;
  text: string;
  retain: boolean;
}
type Json = Record<string, unknown>;

// ── a gated TCP relay to the broker ──────────────────────────────────────────────────────────

interface Relay {
  port: number;
  url: string;
  /** While closed, new connections are dropped at once (as if nothing listened). */
  gate(open: boolean): void;
  close(): Promise<void>;
}

async function startRelay(targetPort: number): Promise<Relay> {
  let open = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    sockets.add(inbound);
    inbound.once('close', () => sockets.delete(inbound));
    inbound.on('error', () => undefined);
    if (!open) {
      inbound.destroy();
      return;
    }
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(outbound);
    outbound.once('close', () => sockets.delete(outbound));
    outbound.on('error', () => undefined);
    const cut = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.once('close', cut);
    outbound.once('close', cut);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    gate: (o) => {
      open = o;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

// ── fixtures ─────────────────────────────────────────────────────────────────────────────────

let broker: TestBroker | null = null;
let relay: Relay | null = null;
let server: ServerHandle | null = null;
const radios: HbpClient[] = [];
const clients: MqttClient[] = [];

beforeAll(() => {
  if (!existsSync(SINK_JS)) {
    throw new Error(`${SINK_JS} is missing: the MQTT sink worker is not built (run \`npm run build\` or \`npx tsc -p tsconfig.build.json\`)`);
  }
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  for (const r of radios.splice(0)) await r.close();
  if (server) {
    await server.stop();
    server.cleanup();
    server = null;
  }
  await relay?.close();
  relay = null;
  await broker?.dispose();
  broker = null;
});

async function bringUp(reporting: Json = {}, sql: Json = { enabled: false }): Promise<{ srv: ServerHandle; a: HbpClient; b: HbpClient; brk: TestBroker; rly: Relay; early: Msg[] }> {
  broker = await startBroker();
  const early = await listen(broker.url); // there before the server: sees every event
  relay = await startRelay(broker.port);
  server = await startServer({
    config: {
      server: { name: NAME },
      mqtt: { url: relay.url, prefix: PREFIX, reconnect_min: 0.2, reconnect_max: 1 },
      reporting: { batch_interval: 0.05, ...reporting },
      sql,
    },
  });
  const a = new HbpClient(PEER_A);
  const b = new HbpClient(PEER_B);
  radios.push(a, b);
  for (const r of [a, b]) {
    await r.bind();
    await r.login('127.0.0.1', server.port, { passphrase: 'passw0rd', options: `TS2=${TG};` });
  }
  return { srv: server, a, b, brk: broker, rly: relay, early };
}

/** A subscriber on the whole tree, straight to the broker (not through the relay). */
async function listen(url: string): Promise<Msg[]> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3000 });
  clients.push(c);
  const msgs: Msg[] = [];
  c.on('message', (topic, payload, packet) => msgs.push({ topic, text: payload.toString(), retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    c.once('error', reject);
    c.once('connect', () => c.subscribe(`${ROOT}/#`, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  });
  return msgs;
}

async function until<T>(what: string, probe: () => T | undefined | null | false, ms = 6000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

const eventsOf = (msgs: Msg[], family: string): Json[] => msgs.filter((m) => m.topic === `${ROOT}/events/${family}`).map((m) => JSON.parse(m.text) as Json);
const lastOn = (msgs: Msg[], topic: string): Msg | undefined => msgs.filter((m) => m.topic === `${ROOT}/${topic}`).at(-1);
/** Topics under state/<kind>/ whose latest value is not empty. */
const heldState = (msgs: Msg[], kind: 'peers' | 'calls'): string[] => {
  const latest = new Map<string, string>();
  for (const m of msgs) if (m.topic.startsWith(`${ROOT}/state/${kind}/`)) latest.set(m.topic, m.text);
  return [...latest].filter(([, v]) => v !== '').map(([k]) => k.slice(`${ROOT}/state/${kind}/`.length)).sort();
};
const serverState = (msgs: Msg[]): Json | null => {
  const m = lastOn(msgs, 'state/server');
  return m ? (JSON.parse(m.text) as Json) : null;
};
const dmrdCount = (r: HbpClient): number => r.received.filter((d) => d.bytes[0] === 0x44 && d.bytes[1] === 0x4d && d.bytes[2] === 0x52 && d.bytes[3] === 0x44).length;

/** Send one call from `from` at the frame rate; returns the number of packets sent. */
async function talk(from: HbpClient, src: number, streamId: number, superframes: number, during?: (i: number) => Promise<void>): Promise<number> {
  const packets = voiceCall({ peerId: from.peerId, src, tg: TG, slot: 2, streamId, superframes });
  for (const [i, p] of packets.entries()) {
    from.send(p);
    if (during) await during(i);
    await sleep(FRAME_MS);
  }
  return packets.length;
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');

// ── scenarios ────────────────────────────────────────────────────────────────────────────────

describe('MQTT reporting end to end (server process + mosquitto)', () => {
  it('publishes events and retained state, rides out a broker restart mid-traffic, and goes offline on SIGTERM', async () => {
    const { srv, a, b, brk, rly, early: live0 } = await bringUp();

    // The login events go out on events/peer; once they have, the state is retained for anyone
    // who subscribes later: the server online and both peers.
    await until('login events', () => eventsOf(live0, 'peer').filter((e) => e['type'] === 'login').length === 2 && heldState(live0, 'peers').length === 2);
    expect(eventsOf(live0, 'peer').filter((e) => e['type'] === 'login').map((e) => e['peer'])).toEqual([PEER_A, PEER_B]);
    const first = await listen(brk.url);
    await until('retained peer state for both peers', () => heldState(first, 'peers').length === 2);
    expect(heldState(first, 'peers')).toEqual([String(PEER_A), String(PEER_B)]);
    expect(first.filter((m) => m.topic.includes('/state/')).every((m) => m.retain)).toBe(true);
    const online1 = serverState(first)!;
    expect(online1).toMatchObject({ online: true });
    expect(typeof online1['since']).toBe('number');
    const peerState = JSON.parse(lastOn(first, `state/peers/${PEER_A}`)!.text) as Json;
    expect(peerState).toMatchObject({ v: 1, family: 'peer', type: 'login', peer: PEER_A, server: NAME });

    // A call A → TG 91 → B: start, active-call state, end, state cleared.
    const live = await listen(brk.url);
    const src = 3120001;
    const stream = 0x5a000001;
    const before = dmrdCount(b);
    let duringCall: string[] = [];
    const sent = await talk(a, src, stream, 2, async (i) => {
      if (i !== 4) return;
      await until('active call state', () => lastOn(live, `state/calls/${PEER_A}/2`)?.text);
      const mid = await listen(brk.url);
      await until('retained active call for a fresh subscriber', () => heldState(mid, 'calls').length > 0);
      duringCall = heldState(mid, 'calls');
    });
    expect(duringCall).toEqual([`${PEER_A}/2`]);
    const start = eventsOf(live, 'call').find((e) => e['type'] === 'start')!;
    expect(start).toMatchObject({ stream: hex(stream), peer: PEER_A, src, dst: TG, slot: 2, callType: 'group' });
    const activeState = live.find((m) => m.topic === `${ROOT}/state/calls/${PEER_A}/2` && m.text !== '')!;
    expect(JSON.parse(activeState.text)).toEqual(start);
    const end = await until('call end event', () => eventsOf(live, 'call').find((e) => e['type'] === 'end'));
    expect(end).toMatchObject({ stream: hex(stream), src, dst: TG, slot: 2, packets: sent, lost: 0, reason: 'terminator' });
    expect(end['durationMs']).toBeGreaterThan(0);
    await until('active call state cleared', () => lastOn(live, `state/calls/${PEER_A}/2`)?.text === '');
    expect(dmrdCount(b) - before).toBe(sent);
    const after = await listen(brk.url);
    await until('retained server state', () => serverState(after));
    await sleep(100);
    expect(heldState(after, 'calls')).toEqual([]);

    // The broker goes away while a call is running and more follow: routing loses nothing.
    const base = dmrdCount(b);
    const streams = [0x5b000001, 0x5b000002, 0x5b000003, 0x5b000004];
    let outageSent = 0;
    const traffic = (async () => {
      for (const [i, s] of streams.entries()) outageSent += await talk(a, 3120010 + i, s, 1);
    })();
    await sleep(150);
    await brk.stop();
    await srv.waitForLog((l) => l['code'] === 'reporting.sink-down', 5000, 'the MQTT sink to report it is down');
    await traffic;
    await until(`every packet routed during the outage`, () => dmrdCount(b) - base === outageSent, 3000).catch(() => {
      throw new Error(`routing lost packets during the broker outage: B received ${dmrdCount(b) - base} of ${outageSent}`);
    });

    // The broker comes back. Hold the server off until our subscriber listens, then let it in.
    rly.gate(false);
    await brk.start();
    const back = await listen(brk.url);
    const reconnectFrom = Date.now();
    rly.gate(true);
    const online2 = await until('the server online again', () => {
      const s = serverState(back);
      return s && s['online'] === true ? s : null;
    }, 5000);
    const reconnectMs = Date.now() - reconnectFrom;
    expect(online2['since'] as number).toBeGreaterThan(online1['since'] as number);
    await until('retained peer state republished', () => heldState(back, 'peers').length === 2);
    const ends = await until(
      'the call events queued during the outage',
      () => {
        const got = eventsOf(back, 'call').filter((e) => e['type'] === 'end' && streams.map(hex).includes(e['stream'] as string));
        return got.length === streams.length ? got : null;
      },
      10_000,
    );
    expect(ends.map((e) => e['stream'])).toEqual(streams.map(hex));
    expect(ends.every((e) => e['packets'] === 8 && e['src'] !== undefined && e['slot'] === 2)).toBe(true);
    // Nothing was dropped with the default queue: no health event about drops.
    expect(eventsOf(back, 'reporting').filter((e) => ((e['dropped'] as Json)['queueFull'] as number) > 0)).toEqual([]);
    const fresh = await listen(brk.url);
    await until('a fresh subscriber sees both peers', () => heldState(fresh, 'peers').length === 2);
    expect(fresh.filter((m) => m.topic.startsWith(`${ROOT}/state/peers/`)).every((m) => m.retain)).toBe(true);
    expect(heldState(fresh, 'calls')).toEqual([]);

    // SIGTERM: the retained server state goes offline.
    expect(await srv.stop()).toBe(0);
    await until('offline on the live subscriber', () => serverState(back)?.['online'] === false, 4000);
    const last = await listen(brk.url);
    await until('retained offline state', () => serverState(last));
    expect(serverState(last)).toEqual({ online: false });
    expect(lastOn(last, 'state/server')!.retain).toBe(true);
    console.log(`mqtt e2e: server reconnected and republished ${reconnectMs} ms after the broker was back`);
  });

  it('reports dropped events in a health event when the queue overflows during an outage', async () => {
    const { srv, a, b, brk, rly } = await bringUp({ queue_depth: 20 });
    const warm = await listen(brk.url);
    await until('both peers retained', () => heldState(warm, 'peers').length === 2);

    await brk.stop();
    await srv.waitForLog((l) => l['code'] === 'reporting.sink-down', 5000, 'the MQTT sink to report it is down');
    const base = dmrdCount(b);
    let sent = 0;
    for (let i = 0; i < 15; i++) sent += await talk(a, 3120100 + i, 0x5c000000 + i, 0); // 30 call events > 20
    await until('every packet routed', () => dmrdCount(b) - base === sent, 3000);

    rly.gate(false);
    await brk.start();
    const back = await listen(brk.url);
    rly.gate(true);
    const health = await until('a reporting health event', () => eventsOf(back, 'reporting').find((e) => e['type'] === 'health'), 12_000);
    const dropped = health['dropped'] as { queueFull: number; sinkDown: number; coalesced: number };
    expect(dropped.queueFull + dropped.sinkDown).toBeGreaterThan(0);
    expect(health['sink']).toBe('mqtt');
    expect(health['sinks']).toMatchObject({ mqtt: 'up' });
    // Rebuilt from the snapshot: a fresh subscriber sees both peers and no stale call.
    const fresh = await listen(brk.url);
    await until('retained peers after the rebuild', () => heldState(fresh, 'peers').length === 2);
    await sleep(100);
    expect(heldState(fresh, 'calls')).toEqual([]);
    expect(serverState(fresh)).toMatchObject({ online: true });
  });

  it('hears about the SQLite writer dropping events (a health event names the sink), with no seq gaps', async () => {
    const { srv, a, b, early } = await bringUp({ queue_depth: 20 }, { enabled: true, path: 'db/dmrhub.sqlite' });
    const dbFile = join(srv.dir, 'db', 'dmrhub.sqlite');
    await until('the database file', () => existsSync(dbFile), 5000);
    const locker = new Database(dbFile);
    locker.exec('BEGIN EXCLUSIVE');
    const base = dmrdCount(b);
    let sent = 0;
    for (let i = 0; i < 15; i++) sent += await talk(a, 3120200 + i, 0x5d000000 + i, 0); // 30 call events > 20
    await until('every packet routed', () => dmrdCount(b) - base === sent, 3000);
    await srv.waitForLog((l) => l['code'] === 'reporting.sink-down' && l['sink'] === 'sql', 5000, 'the SQLite sink to report the lock');
    locker.exec('ROLLBACK');
    locker.close();
    const health = await until('a health event about sql on MQTT', () => eventsOf(early, 'reporting').find((e) => e['type'] === 'health' && e['sink'] === 'sql'), 12_000);
    const dropped = health['dropped'] as { queueFull: number; sinkDown: number };
    expect(dropped.queueFull + dropped.sinkDown).toBeGreaterThan(0);
    // MQTT itself lost nothing: every seq from 1 up to the health event's arrived.
    const families = ['server', 'peer', 'subscription', 'call', 'reporting'];
    const seqs = families.flatMap((f) => eventsOf(early, f).map((e) => e['seq'] as number)).sort((x, y) => x - y);
    const top = health['seq'] as number;
    expect(seqs.filter((q) => q <= top)).toEqual(Array.from({ length: top }, (_, i) => i + 1));
  });
});
