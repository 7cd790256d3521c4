// The reporting contract, version 1: the events dmrhub publishes about itself, and the messages the
// shell sends its reporting workers. Plain data only (no classes, no functions), so it crosses
// worker boundaries with structured clone and serialises to JSON unchanged. Documented for
// consumers in docs/events.md; the JSON Schema is docs/events.schema.json.
//
// Compatibility: fields are only ever added within a version. Removing or changing the meaning of a
// field is a new version (`v`). No event ever carries a secret (passphrases, keys, salts, digests).

export const REPORT_VERSION = 1 as const;

export type Slot = 1 | 2;

interface Base {
  v: typeof REPORT_VERSION;
  /** Wall-clock time of the event, milliseconds since the Unix epoch. */
  at: number;
  /** The reporting server's name (config `server.name`). */
  server: string;
  /** Sequence number of the event within this server run, from 1; gaps mean events were dropped. */
  seq: number;
}

export interface ServerEvent extends Base {
  family: 'server';
  type: 'started' | 'stopped';
  version: string;
  /** The HBP listening port. */
  port: number;
}

export interface PeerLoginEvent extends Base {
  family: 'peer';
  type: 'login';
  peer: number;
  callsign: string;
  address: string;
  port: number;
  rxFreq: string;
  txFreq: string;
  colorCode: string;
  slots: string;
  location: string;
  description: string;
  url: string;
  softwareId: string;
  packageId: string;
}

export interface PeerLogoutEvent extends Base {
  family: 'peer';
  type: 'logout';
  peer: number;
  /** closed (RPTCL), timeout (keepalive lost), replaced (the ID logged in elsewhere), shutdown. */
  reason: string;
  durationMs: number;
}

export interface PeerOptionsEvent extends Base {
  family: 'peer';
  type: 'options';
  peer: number;
  /** The options string as the peer sent it. */
  options: string;
  ts1: number[];
  ts2: number[];
  /** Fields that were refused, with the reason. */
  rejected: string[];
}

export interface PeerKeepaliveLostEvent extends Base {
  family: 'peer';
  type: 'keepalive-lost';
  peer: number;
  silentMs: number;
}

export type PeerEvent = PeerLoginEvent | PeerLogoutEvent | PeerOptionsEvent | PeerKeepaliveLostEvent;

export interface SubscriptionEvent extends Base {
  family: 'subscription';
  type: 'added' | 'removed' | 'expired';
  peer: number;
  slot: Slot;
  /** The talkgroup the peer uses on the air. */
  tg: number;
  /** The conference it joins. */
  conference: number;
  /** Where the subscription came from: default (server config), options (RPTO), … */
  source: string;
}

export interface CallStartEvent extends Base {
  family: 'call';
  type: 'start';
  /** Stream ID as 8 hex digits. */
  stream: string;
  peer: number;
  src: number;
  dst: number;
  slot: Slot;
  callType: 'group' | 'private';
  kind: 'voice' | 'data';
}

export interface CallEndEvent extends Omit<CallStartEvent, 'type'> {
  type: 'end';
  /** Wall-clock time of the call's first packet (ms since the epoch); `at` is when it ended. */
  startedAt: number;
  /** First packet to last packet. */
  durationMs: number;
  packets: number;
  lost: number;
  /** Lost / (packets + lost), 0..1. */
  loss: number;
  /** Mean BER byte and RSSI byte of the stream's 55-byte packets, null when none carried them. */
  ber: number | null;
  rssi: number | null;
  /** terminator, timeout, superseded, peer-gone, shutdown. */
  reason: string;
  /** Receivers the stream reached at least once. */
  receivers: number;
}

/**
 * New streams from one peer, link or uplink beyond its flood limit (`limits.stream_notices_per_minute`)
 * in one window: they had no start and end events of their own, and are summed up here (new in v1.2).
 */
export interface CallLimitedEvent extends Base {
  family: 'call';
  type: 'limited';
  /** The peer ID (a link's network ID, an uplink's own peer ID). */
  peer: number;
  via: 'peer' | 'link' | 'uplink';
  /** The link's or uplink's name; "" for a peer. */
  name: string;
  /** Streams in the window without their own start and end events. */
  streams: number;
  /** Streams in the window that had them. */
  reported: number;
  /** Length of the window, ms (60 000 unless cut short). */
  windowMs: number;
}

export type CallEvent = CallStartEvent | CallEndEvent | CallLimitedEvent;

/** A link to another server (OpenBridge, FBP) or an uplink to another master came up, went down or changed. */
export interface LinkEvent extends Base {
  family: 'link';
  type: 'up' | 'down' | 'changed';
  /** The [[links]] or [[uplinks]] name. */
  link: string;
  kind: 'openbridge' | 'fbp' | 'uplink';
  /** The far end's address and port (an uplink's master). */
  address: string;
  port: number;
  /** down: silent (FBP: no keepalive for a minute), nak, closed, timeout, passphrase, reload, removed, shutdown; changed: version, address; up: "". */
  reason: string;
  /** The far end's FBP protocol version; 0 when not known or not FBP. */
  version: number;
  /** Milliseconds since the far end was last heard; null when never. */
  silentMs: number | null;
  /** Since the server started: frames refused, quenches sent and received, loop drops, hop-limit drops. */
  counts: { dropped: number; quenchSent: number; quenchReceived: number; loops: number; tooManyHops: number };
}

export interface ReportingHealthEvent extends Base {
  family: 'reporting';
  type: 'health';
  /** The sink whose queue this event describes (every sink receives every health event). */
  sink: string;
  /** Events dropped from that sink's queue since its last health event, by reason. */
  dropped: { queueFull: number; sinkDown: number; coalesced: number };
  queueDepth: number;
  sinks: Record<string, SinkState>;
}

export type SinkState = 'off' | 'starting' | 'up' | 'down';

export type ReportEvent = ServerEvent | PeerEvent | SubscriptionEvent | CallEvent | LinkEvent | ReportingHealthEvent;
export type Family = ReportEvent['family'];

/** Lower is more important: under pressure the queue drops the highest number first. */
export const PRIORITY: Record<Family, number> = {
  server: 0,
  reporting: 0,
  link: 0,
  call: 1,
  peer: 1,
  subscription: 2,
};

// ── shell → worker messages ─────────────────────────────────────────────────────────────────────

/** The current state, sent after the queue dropped events so retained state can be rebuilt. */
export interface StateSnapshot {
  at: number;
  peers: PeerLoginEvent[];
  activeCalls: CallStartEvent[];
}

export interface BatchTask {
  op: 'batch';
  /** The sink the batch is for (the reporting thread hosts every configured sink). */
  sink: string;
  events: ReportEvent[];
  /**
   * Present when the queue dropped events: the state as it is now, after every event of this batch
   * (and possibly after later ones still queued). The sink applies it after the batch's events.
   */
  snapshot?: StateSnapshot;
}

export interface StopTask {
  op: 'stop';
  sink: string;
}

/**
 * What a worker answers for a task. `ok: false` means the batch must be sent again: nothing of it,
 * or not all of it, was delivered (a sink that may have delivered part of it says so in
 * `delivered`; consumers see those events twice, with the same `seq`).
 */
export interface TaskResult {
  ok: boolean;
  delivered: number;
  state: SinkState;
  error?: string;
  /** Events the sink could never store (they broke a constraint); skipped, counted, not retried. */
  rejected?: number;
}

/** One sink as the reporting thread hosts it: the module that implements it and its options. */
export interface HostedSink {
  name: string;
  /** Absolute path of the sink module (compiled JS); it exports `createSink(options)`. */
  module: string;
  options: unknown;
  /**
   * The least time (ms) from one of this sink's batches to the next: a steady flow of events then
   * goes in fewer, larger batches (each wakes the reporting thread), while an event after a quiet
   * spell goes as soon as `batch_interval` lets it. Unset: no such limit.
   */
  minBatchMs?: number;
}

/**
 * Hands a sink a MessagePort to the main thread (the console sink's command and state channel).
 * Sent once, right after the reporting thread starts, with the port in the transfer list.
 */
export interface AttachTask {
  op: 'attach';
  sink: string;
  /** A worker_threads MessagePort (typed loosely: this contract imports no Node module). */
  port: unknown;
}

/** What a sink module's `createSink` returns. */
export interface SinkInstance {
  run(task: BatchTask | StopTask): Promise<TaskResult>;
  /** Only sinks that talk to the main thread beyond batches (the console) take a port. */
  attach?(port: unknown): void;
}
