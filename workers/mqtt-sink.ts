// MQTT reporting sink. Runs in a piscina worker thread; the shell's ReportingHub sends it batches
// of report events (src/reporting/events.ts) and reads back a TaskResult.
//
// Topic tree, all under <prefix>/<server>/:
//   events/<family>             each event as JSON; QoS 0, not retained
//   state/server                {"online":true,"since":<ms>} on every connect (retained, QoS 1);
//                               the last will and a clean stop set {"online":false}
//   state/peers/<peer>          the peer's login event while it is logged in (retained, QoS 1;
//                               an empty retained payload clears it at logout)
//   state/calls/<peer>/<slot>   the call-start event while the call is active (retained, QoS 1;
//                               cleared at call end)
//
// Delivery rules:
//  - the worker never queues events itself: while the client is not connected a batch is refused
//    at once ({ok:false, state:'down'}) and the hub keeps it and retries later;
//  - the retained-state model (topic → payload) changes only when a batch is accepted, and after
//    every (re)connect the whole model is published again, so the broker's retained copies match
//    what the hub last told us even if the broker restarted without persistence;
//  - a batch with a snapshot (the hub dropped events) first replaces the model with the snapshot's
//    peers and active calls, clearing the retained topics that are no longer in it;
//  - reconnects are ours (mqtt.js auto-reconnect is off): exponential backoff from reconnect.minMs
//    to reconnect.maxMs, back to minMs after a successful connect.

import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import type { BatchTask, CallStartEvent, PeerLoginEvent, ReportEvent, StateSnapshot, StopTask, TaskResult } from '../src/reporting/events.js';
import type { MqttSinkOptions } from '../src/reporting/sinks.js';

const options = workerData as MqttSinkOptions;
const base = `${options.prefix}/${options.server}`;
const SERVER_TOPIC = `${base}/state/server`;
const OFFLINE = JSON.stringify({ online: false });
const peerStateTopic = (peer: number): string => `${base}/state/peers/${peer}`;
const callStateTopic = (peer: number, slot: number): string => `${base}/state/calls/${peer}/${slot}`;
const callPrefixOf = (peer: number): string => `${base}/state/calls/${peer}/`;

/** How long one batch may wait for its bytes to reach the socket before we answer anyway. */
const FLUSH_WAIT_MS = 2000;
/** How long `stop` waits for the offline message's PUBACK and for a graceful disconnect. */
const STOP_WAIT_MS = 1500;

/** The retained state this worker stands for: topic → JSON payload. */
const model = new Map<string, string>();

let current: MqttClient | null = null;
let ready = false;
let delayMs = Math.max(1, options.reconnect.minMs);
let pendingReconnect: NodeJS.Timeout | null = null;
let stopped = false;

function buildClientOptions(): IClientOptions {
  const o: IClientOptions = {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    queueQoSZero: false,
    clean: true,
    will: { topic: SERVER_TOPIC, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
  };
  if (options.clientId !== undefined && options.clientId !== '') o.clientId = options.clientId;
  if (options.username !== undefined && options.username !== '') o.username = options.username;
  if (options.password !== undefined && options.password !== '') o.password = options.password;
  const tls = options.tls;
  if (tls !== undefined) {
    if (tls.caFile) o.ca = readFileSync(tls.caFile);
    if (tls.certFile) o.cert = readFileSync(tls.certFile);
    if (tls.keyFile) o.key = readFileSync(tls.keyFile);
    if (tls.rejectUnauthorized !== undefined) o.rejectUnauthorized = tls.rejectUnauthorized;
  }
  return o;
}

function scheduleReconnect(): void {
  if (stopped || pendingReconnect !== null) return;
  const wait = delayMs;
  delayMs = Math.min(Math.max(1, options.reconnect.maxMs), delayMs * 2);
  pendingReconnect = setTimeout(() => {
    pendingReconnect = null;
    openConnection();
  }, wait);
}

function openConnection(): void {
  if (stopped) return;
  let client: MqttClient;
  try {
    client = mqtt.connect(options.url, buildClientOptions());
  } catch {
    // A bad TLS file or URL: keep trying at the slowest pace rather than killing the worker.
    delayMs = Math.max(1, options.reconnect.maxMs);
    scheduleReconnect();
    return;
  }
  current = client;
  let gone = false;
  client.on('connect', () => {
    if (current !== client) return;
    ready = true;
    delayMs = Math.max(1, options.reconnect.minMs);
    client.publish(SERVER_TOPIC, JSON.stringify({ online: true, since: Date.now() }), { qos: 1, retain: true });
    for (const [topic, payload] of model) client.publish(topic, payload, { qos: 1, retain: true });
  });
  // Errors (refused, reset, bad credentials) always end in 'close' or 'end' with auto-reconnect off.
  client.on('error', () => undefined);
  const lost = (): void => {
    if (gone) return;
    gone = true;
    if (current === client) {
      current = null;
      ready = false;
    }
    client.removeAllListeners('connect');
    client.end(true);
    scheduleReconnect();
  };
  client.on('close', lost);
  client.on('offline', lost);
}

/** Publish a retained value (or clear it with `null`) and record it in the model. */
function putRetained(client: MqttClient, topic: string, payload: string | null): void {
  if (payload === null) {
    if (!model.delete(topic)) return;
    client.publish(topic, '', { qos: 1, retain: true });
    return;
  }
  if (model.get(topic) === payload) return;
  model.set(topic, payload);
  client.publish(topic, payload, { qos: 1, retain: true });
}

function rebuildFrom(client: MqttClient, snapshot: StateSnapshot): void {
  const wanted = new Map<string, string>();
  for (const p of snapshot.peers as PeerLoginEvent[]) wanted.set(peerStateTopic(p.peer), JSON.stringify(p));
  for (const c of snapshot.activeCalls as CallStartEvent[]) wanted.set(callStateTopic(c.peer, c.slot), JSON.stringify(c));
  for (const topic of [...model.keys()]) if (!wanted.has(topic)) putRetained(client, topic, null);
  for (const [topic, payload] of wanted) putRetained(client, topic, payload);
}

function deliver(client: MqttClient, event: ReportEvent, onWritten?: () => void): void {
  const json = JSON.stringify(event);
  client.publish(`${base}/events/${event.family}`, json, { qos: 0, retain: false }, onWritten);
  if (event.family === 'peer') {
    if (event.type === 'login') putRetained(client, peerStateTopic(event.peer), json);
    else if (event.type === 'logout') {
      putRetained(client, peerStateTopic(event.peer), null);
      // The call-end events normally come first; never leave a gone peer's call behind.
      const calls = callPrefixOf(event.peer);
      for (const topic of [...model.keys()]) if (topic.startsWith(calls)) putRetained(client, topic, null);
    }
  } else if (event.family === 'call') {
    putRetained(client, callStateTopic(event.peer, event.slot), event.type === 'start' ? json : null);
  }
}

function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(undefined);
      },
    );
  });
}

async function stop(): Promise<TaskResult> {
  stopped = true;
  if (pendingReconnect !== null) {
    clearTimeout(pendingReconnect);
    pendingReconnect = null;
  }
  const client = current;
  current = null;
  ready = false;
  if (client === null) return { ok: true, delivered: 0, state: 'off' };
  client.removeAllListeners('close');
  client.removeAllListeners('offline');
  if (client.connected) {
    await within(new Promise<void>((resolve) => client.publish(SERVER_TOPIC, OFFLINE, { qos: 1, retain: true }, () => resolve())), STOP_WAIT_MS);
    await within(new Promise<void>((resolve) => client.end(false, {}, () => resolve())), STOP_WAIT_MS);
  }
  client.end(true);
  return { ok: true, delivered: 0, state: 'off' };
}

openConnection();

export default async function run(task: BatchTask | StopTask): Promise<TaskResult> {
  if (task.op === 'stop') return stop();
  const client = current;
  if (stopped || client === null || !ready || !client.connected) return { ok: false, delivered: 0, state: 'down', error: 'not connected' };
  if (task.snapshot !== undefined) rebuildFrom(client, task.snapshot);
  const n = task.events.length;
  if (n === 0) return { ok: true, delivered: 0, state: 'up' };
  // The batch is handed to the connection as a whole; waiting for the last event to be written
  // keeps one batch in flight at the socket's pace (back-pressure) without waiting for the broker.
  let written: () => void = () => undefined;
  const flushed = new Promise<void>((resolve) => (written = resolve));
  for (let i = 0; i < n; i++) deliver(client, task.events[i]!, i === n - 1 ? () => written() : undefined);
  await within(flushed, FLUSH_WAIT_MS);
  return { ok: true, delivered: n, state: ready ? 'up' : 'down' };
}
