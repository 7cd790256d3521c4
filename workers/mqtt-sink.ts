// MQTT reporting sink, hosted by the reporting thread (workers/reporting-host.ts). The shell's
// ReportingHub sends it batches of report events (src/reporting/events.ts) and reads back a
// TaskResult.
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
//  - the sink never queues events itself: while the client is not connected a batch is refused at
//    once ({ok:false, state:'down'}) and the hub keeps it and retries later;
//  - a batch is answered `ok: true` only when every event of it reached the socket; when the
//    connection drops on the way, or the socket does not drain in time, the answer is `ok: false`
//    and the hub sends the batch again (consumers may then see some events twice, same `seq`);
//  - the retained-state model (topic → payload) changes only when a batch is handled, and after
//    every (re)connect the whole model is published again, so the broker's retained copies match
//    what the hub last told us even if the broker restarted without persistence. A cleared topic
//    is remembered until the broker acknowledges the clear, and cleared again after a reconnect;
//  - a batch with a snapshot (the hub dropped events) applies its events first and then makes the
//    model equal to the snapshot's peers and active calls (the snapshot is newer than the events);
//  - reconnects are ours (mqtt.js auto-reconnect is off): exponential backoff from reconnect.minMs
//    to reconnect.maxMs, back to minMs after a successful connect.

import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { readFileSync } from 'node:fs';
import type { BatchTask, CallStartEvent, PeerLoginEvent, ReportEvent, SinkInstance, StateSnapshot, TaskResult } from '../src/reporting/events.js';
import type { MqttSinkOptions } from '../src/reporting/sinks.js';

/** How long one batch may wait for its bytes to reach the socket before it counts as failed. */
const FLUSH_WAIT_MS = 2000;
/** How long `stop` waits for the offline message's PUBACK and for a graceful disconnect. */
const STOP_WAIT_MS = 1500;
const OFFLINE = JSON.stringify({ online: false });

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

/**
 * Why a connection failed, in words an operator can act on: the class first (auth, TLS, refused,
 * DNS, timeout, file), then the detail.
 */
export function connectProblem(err: unknown, url: string): string {
  const e = err as { code?: string | number; message?: string; path?: string; syscall?: string };
  const message = e.message ?? String(err);
  let where = url;
  try {
    const u = new URL(url);
    where = `${u.hostname}:${u.port || (u.protocol === 'mqtts:' || u.protocol === 'wss:' ? '8883' : '1883')}`;
  } catch {
    /* keep the URL as written */
  }
  if (typeof e.code === 'number') {
    // A CONNACK refusal (MQTT 3.1.1 return codes; 5.0 reason codes 0x86/0x87 likewise).
    if (e.code === 4 || e.code === 0x86) return `auth: the broker refused the username or password (${message})`;
    if (e.code === 5 || e.code === 0x87) return `auth: not authorised by the broker (${message})`;
    return `refused by the broker: ${message}`;
  }
  const code = e.code ?? '';
  if (e.syscall === 'open' || (code === 'ENOENT' && e.path !== undefined)) return `TLS file: cannot read ${e.path ?? ''} (${code === 'ENOENT' ? 'no such file' : message})`;
  if (code === 'ECONNREFUSED') return `refused: nothing accepts connections at ${where}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL') return `DNS: cannot resolve the broker's host (${where}: ${code})`;
  if (code === 'ETIMEDOUT' || /timeout/i.test(message)) return `timeout: no answer from ${where}`;
  if (code === 'ECONNRESET' || code === 'EPIPE') return `connection reset by ${where}`;
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(String(code)) || /certificate|ssl|tls/i.test(message)) return `TLS: ${message}${code ? ` (${code})` : ''}`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `unreachable: ${where} (${code})`;
  return code ? `${message} (${code})` : message;
}

export function createSink(options: MqttSinkOptions): SinkInstance {
  const base = `${options.prefix}/${options.server}`;
  const serverTopic = `${base}/state/server`;
  const peerStateTopic = (peer: number): string => `${base}/state/peers/${peer}`;
  const callStateTopic = (peer: number, slot: number): string => `${base}/state/calls/${peer}/${slot}`;
  const callPrefixOf = (peer: number): string => `${base}/state/calls/${peer}/`;

  /** The retained state this sink stands for: topic → JSON payload. */
  const model = new Map<string, string>();
  /** Topics cleared in the model whose clear the broker has not acknowledged yet. */
  const clearing = new Set<string>();

  let current: MqttClient | null = null;
  let ready = false;
  let delayMs = Math.max(1, options.reconnect.minMs);
  let pendingReconnect: NodeJS.Timeout | null = null;
  let stopped = false;
  /** Why the last connection attempt failed (auth, TLS, refused, DNS, ...), or null. */
  let problem: string | null = null;

  function buildClientOptions(): IClientOptions {
    const o: IClientOptions = {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      queueQoSZero: false,
      // mqtt-packet otherwise pre-builds 65 536 two-byte buffers (one per message ID): about 7 MB
      // of heap to save a few nanoseconds per publish.
      writeCache: false,
      clean: true,
      will: { topic: serverTopic, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
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

  function sendClear(client: MqttClient, topic: string): void {
    clearing.add(topic);
    client.publish(topic, '', { qos: 1, retain: true }, (err) => {
      // Acknowledged, and nothing has set the topic again since: the clear is done.
      if (!err && !model.has(topic)) clearing.delete(topic);
    });
  }

  function openConnection(): void {
    if (stopped) return;
    let client: MqttClient;
    try {
      client = mqtt.connect(options.url, buildClientOptions());
    } catch (err) {
      // A bad TLS file or URL: keep trying at the slowest pace rather than failing the thread.
      problem = connectProblem(err, options.url);
      delayMs = Math.max(1, options.reconnect.maxMs);
      scheduleReconnect();
      return;
    }
    current = client;
    let gone = false;
    client.on('connect', () => {
      if (current !== client) return;
      ready = true;
      problem = null;
      delayMs = Math.max(1, options.reconnect.minMs);
      client.publish(serverTopic, JSON.stringify({ online: true, since: Date.now() }), { qos: 1, retain: true });
      for (const topic of clearing) sendClear(client, topic);
      for (const [topic, payload] of model) client.publish(topic, payload, { qos: 1, retain: true });
    });
    // Errors (refused, reset, bad credentials) always end in 'close' or 'end' with auto-reconnect
    // off; the reason is kept for the batches' answers, so the shell logs it once per change.
    client.on('error', (err) => {
      if (current === client) problem = connectProblem(err, options.url);
    });
    const lost = (): void => {
      if (gone) return;
      gone = true;
      if (current === client && ready) problem = 'connection lost';
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
      sendClear(client, topic);
      return;
    }
    if (model.get(topic) === payload) return;
    model.set(topic, payload);
    clearing.delete(topic);
    client.publish(topic, payload, { qos: 1, retain: true });
  }

  function rebuildFrom(client: MqttClient, snapshot: StateSnapshot): void {
    const wanted = new Map<string, string>();
    for (const p of snapshot.peers as PeerLoginEvent[]) wanted.set(peerStateTopic(p.peer), JSON.stringify(p));
    for (const c of snapshot.activeCalls as CallStartEvent[]) wanted.set(callStateTopic(c.peer, c.slot), JSON.stringify(c));
    for (const topic of [...model.keys()]) if (!wanted.has(topic)) putRetained(client, topic, null);
    for (const [topic, payload] of wanted) putRetained(client, topic, payload);
  }

  function deliver(client: MqttClient, event: ReportEvent, onWritten?: (err?: Error) => void): void {
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
    } else if (event.family === 'call' && event.type !== 'limited') {
      putRetained(client, callStateTopic(event.peer, event.slot), event.type === 'start' ? json : null);
    }
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
      await within(new Promise<void>((resolve) => client.publish(serverTopic, OFFLINE, { qos: 1, retain: true }, () => resolve())), STOP_WAIT_MS);
      await within(new Promise<void>((resolve) => client.end(false, {}, () => resolve())), STOP_WAIT_MS);
    }
    client.end(true);
    return { ok: true, delivered: 0, state: 'off' };
  }

  async function batch(task: BatchTask): Promise<TaskResult> {
    const client = current;
    if (stopped || client === null || !ready || !client.connected) return { ok: false, delivered: 0, state: 'down', error: problem === null ? 'not connected' : `not connected: ${problem}` };
    const n = task.events.length;
    // Every publish calls back once its bytes are written (or with an error when the connection
    // went away first); the batch counts as delivered only if all of them were written.
    let written = 0;
    let failed = 0;
    let settle: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const onWritten = (err?: Error): void => {
      if (err) failed++;
      else written++;
      if (written + failed === n) settle();
    };
    for (let i = 0; i < n; i++) deliver(client, task.events[i]!, onWritten);
    if (task.snapshot !== undefined) rebuildFrom(client, task.snapshot);
    if (n === 0) return { ok: true, delivered: 0, state: 'up' };
    await within(done, FLUSH_WAIT_MS);
    if (written === n) return { ok: true, delivered: n, state: 'up' };
    const why = failed > 0 ? 'connection lost during the batch' : `the socket did not drain within ${FLUSH_WAIT_MS} ms`;
    return { ok: false, delivered: written, state: ready ? 'up' : 'down', error: why };
  }

  openConnection();
  return { run: (task) => (task.op === 'stop' ? stop() : batch(task)) };
}
