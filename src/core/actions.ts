// Actions: what the core asks the shell to do. To keep the packet path free of allocation the core
// hands actions to an ActionSink, one method per action kind, synchronously inside `handle`; the
// arguments are valid only during the call (a sink that keeps them must copy). Replay renders the
// same calls into canonical text, so recorded behaviour is still plain data.

import type { Target } from './model/index.js';
import type { RepeaterConfig } from '../protocol/hbp/index.js';

export type { Target };

/** A structured log entry: a stable code and plain fields; text is made outside the core. */
export interface LogEntry {
  code: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  peer?: number;
  src?: number;
  tg?: number;
  slot?: number;
  stream?: number;
  durationMs?: number;
  packets?: number;
  lost?: number;
  address?: string;
  port?: number;
  reason?: string;
  detail?: string;
  count?: number;
}

/**
 * Plain-data reports for operators (dashboards, MQTT, lastheard). The shell stamps wall-clock time
 * and hands them to the reporting workers; `now` is the core's monotonic time of the event.
 */
export type CoreReport =
  | {
      report: 'peer-login';
      now: number;
      peer: number;
      address: string;
      port: number;
      callsign: string;
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
  | { report: 'peer-logout'; now: number; peer: number; reason: string; durationMs: number }
  | { report: 'peer-options'; now: number; peer: number; options: string; ts1: number[]; ts2: number[]; rejected: string[] }
  | { report: 'peer-keepalive-lost'; now: number; peer: number; silentMs: number }
  | {
      report: 'subscription';
      now: number;
      change: 'added' | 'removed' | 'expired';
      peer: number;
      slot: 1 | 2;
      tg: number;
      conference: number;
      source: string;
    }
  | {
      /** A link or uplink came up, went down, or changed (its far end's version or address). */
      report: 'link-state';
      now: number;
      change: 'up' | 'down' | 'changed';
      link: string;
      kind: 'openbridge' | 'fbp' | 'uplink';
      /** The far end (an uplink's master). */
      address: string;
      port: number;
      /** Why it went down (silent, nak, closed, timeout, passphrase, …), or what changed (version, address); '' when up. */
      reason: string;
      /** The far end's FBP version (0: not known or not FBP). */
      version: number;
      /** Since the far end was last heard, ms (null: never). */
      silentMs: number | null;
      counts: LinkCounts;
    }
  | { report: 'call-start'; now: number; stream: number; peer: number; src: number; dst: number; slot: 1 | 2; callType: 'group' | 'private'; kind: 'voice' | 'data' }
  | {
      /** New streams from one peer, link or uplink beyond its flood limit in one window, summed up. */
      report: 'calls-limited';
      now: number;
      peer: number;
      via: 'peer' | 'link' | 'uplink';
      /** The link's or uplink's name; '' for a peer. */
      name: string;
      /** Streams without their own start and end events in the window. */
      streams: number;
      /** Streams that had them. */
      reported: number;
      windowMs: number;
    }
  | {
      report: 'call-end';
      now: number;
      stream: number;
      peer: number;
      src: number;
      dst: number;
      slot: 1 | 2;
      callType: 'group' | 'private';
      kind: 'voice' | 'data';
      /** The core time of the stream's first packet. */
      startedNow: number;
      durationMs: number;
      packets: number;
      lost: number;
      /** Sums and count of the BER and RSSI bytes of the stream's 55-byte packets. */
      berSum: number;
      rssiSum: number;
      qualityPackets: number;
      reason: string;
      receivers: number;
    }
  | StateReport
  | CommandResult;

/** What an operator command did (`id` is the command event's). */
export interface CommandResult {
  report: 'command-result';
  now: number;
  id: number;
  ok: boolean;
  /** '' when ok; else a stable code: unknown_peer, bad_request. */
  code: string;
  message: string;
  result: Record<string, string | number | boolean>;
}

/**
 * The core's state for the operator console, made on the `console-snapshot` timer (allocates).
 * Peers go as changes since the last report (src/core/operator/snapshot.ts); the rest is whole.
 */
export interface StateReport {
  report: 'state';
  now: number;
  /** `peers` lists every connected peer (the first report since snapshots started). */
  full: boolean;
  /** Peers new or changed since the last report (all of them when `full`), by ID. */
  peers: PeerState[];
  /** Peers connected at the last report and not now, by ID. */
  gone: number[];
  /** Unchanged peers that pinged since the last report: peer ID, last seen, peer ID, … */
  seen: number[];
  calls: LiveCall[];
  links: LinkView[];
  uplinks: UplinkView[];
  /** The core's counters (stats), sorted by name. */
  counters: [string, number][];
}

export interface PeerState {
  peer: number;
  address: string;
  port: number;
  loggedInAt: number;
  lastSeen: number;
  /** The RPTC fields, as the peer sent them. */
  config: Omit<RepeaterConfig, 'peerId'> | null;
  options: string | null;
  /** Talkgroups per slot, each with where the subscription came from. */
  subs: { slot: 1 | 2; tg: number; conference: number; source: string }[];
}

export interface LiveCall {
  stream: number;
  peer: number;
  src: number;
  dst: number;
  slot: 1 | 2;
  callType: 'group' | 'private';
  /** 'peer', or the link or uplink the call came from. */
  via: string;
  startedNow: number;
  lastNow: number;
  packets: number;
  lost: number;
  berSum: number;
  rssiSum: number;
  qualityPackets: number;
}

export interface LinkView {
  name: string;
  protocol: 'openbridge' | 'fbp';
  address: string;
  port: number;
  /** FBP: the far end is heard; OpenBridge v1: null (it has no keepalive). */
  up: boolean | null;
  version: number;
  lastHeard: number | null;
  framesIn: number;
  framesOut: number;
  dropped: number;
}

export interface UplinkView {
  name: string;
  address: string;
  port: number;
  state: string;
  upAt: number | null;
  framesIn: number;
  dropped: number;
}

/** What a link has done since the server started (an uplink reports its refused frames only). */
export interface LinkCounts {
  /** Frames refused (any reason). */
  dropped: number;
  quenchSent: number;
  quenchReceived: number;
  /** Calls dropped as loops (their stream ID already came from elsewhere). */
  loops: number;
  /** Frames dropped for too many hops. */
  tooManyHops: number;
}

export interface ActionSink {
  /**
   * Send `bytes` from socket `socket` to address:port. Returns true when the sink still holds on to
   * `bytes` after returning (the send was queued), so the caller must not write into them again.
   */
  send(socket: number, address: string, port: number, bytes: Uint8Array): boolean | void;
  /**
   * Send one frame to `count` targets (the first `count` entries of `targets`). For each target the
   * shell writes its peer ID and slot bit into the frame and sends it, without copying per target.
   * Returns true when the sink still holds on to `frame` after returning (a send the kernel could
   * not take at once was queued with it), so the caller must not write into it again; a sink that
   * copies, or sends at once, returns false or nothing.
   */
  fanOut(frame: Uint8Array, targets: readonly Target[], count: number): boolean | void;
  log(entry: LogEntry): void;
  /** Reports for the reporting path; a sink that has no use for them may leave this out. */
  report?(r: CoreReport): void;
}
