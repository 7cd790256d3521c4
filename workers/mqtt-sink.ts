// Reporting sink: publishes report events to an MQTT broker (the `mqtt` package), in a worker
// thread run by piscina.
//
// Topics under <prefix>/<server>/:
//   events/<family>            every event of that family, QoS 0, not retained
//   state/server               {"online":true,"since":…} retained; the last will says {"online":false}
//   state/peers/<peer>         the peer's login event while logged in (retained; cleared at logout)
//   state/calls/<peer>/<slot>  the call-start event while the call lasts (retained; cleared at end)
//
// While disconnected, a batch fails at once (`ok: false`) and the shell keeps it and retries; the
// worker buffers nothing itself. It reconnects with exponential backoff and, after every connect,
// republishes the retained state from its model (built from the batches it delivered, and rebuilt
// from the shell's snapshot after drops).

import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import type { BatchTask, CallStartEvent, PeerLoginEvent, ReportEvent, StateSnapshot, StopTask, TaskResult } from '../src/reporting/events.js';
import type { MqttSinkOptions } from '../src/reporting/sinks.js';

const opts = workerData as MqttSinkOptions;
const root = `${opts.prefix}/${opts.server}`;
const serverTopic = `${root}/state/server`;
const peerTopic = (peer: number): string => `${root}/state/peers/${peer}`;
const callTopic = (peer: number, slot: number): string => `${root}/state/calls/${peer}/${slot}`;

/** Retained state published so far: topic → payload. */
const retained = new Map<string, string>();
let client: MqttClient | null = null;
let backoff = opts.reconnect.minMs;
let retry: NodeJS.Timeout | null = null;
let stopping = false;
let connectedSince = 0;

function clientOptions(): IClientOptions {
  const o: IClientOptions = {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    queueQoSZero: false,
    clean: true,
    will: { topic: serverTopic, payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true },
  };
  if (opts.clientId) o.clientId = opts.clientId;
  if (opts.username) o.username = opts.username;
  if (opts.password) o.password = opts.password;
  const tls = opts.tls ?? {};
  if (tls.caFile) o.ca = readFileSync(tls.caFile);
  if (tls.certFile) o.cert = readFileSync(tls.certFile);
  if (tls.keyFile) o.key = readFileSync(tls.keyFile);
  if (tls.rejectUnauthorized !== undefined) o.rejectUnauthorized = tls.rejectUnauthorized;
  return o;
}

function connect(): void {
  if (stopping) return;
  const c = mqtt.connect(opts.url, clientOptions());
  client = c;
  c.on('connect', () => {
    backoff = opts.reconnect.minMs;
    connectedSince = Date.now();
    c.publish(serverTopic, JSON.stringify({ online: true, since: connectedSince }), { qos: 1, retain: true });
    for (const [topic, payload] of retained) c.publish(topic, payload, { qos: 1, retain: true });
  });
  c.on('error', () => {
    /* reported through `close`; the batch results say "down" */
  });
  c.on('close', () => {
    if (stopping || retry) return;
    c.removeAllListeners();
    c.end(true);
    retry = setTimeout(() => {
      retry = null;
      connect();
    }, backoff);
    retry.unref();
    backoff = Math.min(opts.reconnect.maxMs, backoff * 2);
  });
}

function setRetained(c: MqttClient, topic: string, payload: string | null): void {
  if (payload === null) {
    if (!retained.has(topic)) return;
    retained.delete(topic);
    c.publish(topic, '', { qos: 1, retain: true });
  } else {
    retained.set(topic, payload);
    c.publish(topic, payload, { qos: 1, retain: true });
  }
}

function applySnapshot(c: MqttClient, snap: StateSnapshot): void {
  const want = new Map<string, string>();
  for (const p of snap.peers as PeerLoginEvent[]) want.set(peerTopic(p.peer), JSON.stringify(p));
  for (const call of snap.activeCalls as CallStartEvent[]) want.set(callTopic(call.peer, call.slot), JSON.stringify(call));
  for (const topic of [...retained.keys()]) if (!want.has(topic)) setRetained(c, topic, null);
  for (const [topic, payload] of want) if (retained.get(topic) !== payload) setRetained(c, topic, payload);
}

function publish(c: MqttClient, e: ReportEvent): void {
  const json = JSON.stringify(e);
  c.publish(`${root}/events/${e.family}`, json, { qos: 0, retain: false });
  if (e.family === 'peer') {
    if (e.type === 'login') setRetained(c, peerTopic(e.peer), json);
    else if (e.type === 'logout') {
      setRetained(c, peerTopic(e.peer), null);
      for (const topic of [...retained.keys()]) if (topic.startsWith(`${root}/state/calls/${e.peer}/`)) setRetained(c, topic, null);
    }
  } else if (e.family === 'call') {
    setRetained(c, callTopic(e.peer, e.slot), e.type === 'start' ? json : null);
  }
}

connect();

export default async function handle(task: BatchTask | StopTask): Promise<TaskResult> {
  const c = client;
  if (task.op === 'stop') {
    stopping = true;
    if (retry) clearTimeout(retry);
    if (c?.connected) {
      await new Promise<void>((resolve) => c.publish(serverTopic, JSON.stringify({ online: false }), { qos: 1, retain: true }, () => resolve()));
      await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
    } else c?.end(true);
    return { ok: true, delivered: 0, state: 'off' };
  }
  if (!c || !c.connected) return { ok: false, delivered: 0, state: 'down', error: 'not connected to the broker' };
  if (task.snapshot) applySnapshot(c, task.snapshot);
  for (const e of task.events) publish(c, e);
  return { ok: true, delivered: task.events.length, state: 'up' };
}
