// The operator console's contract between the shell (main thread) and the console sink in the
// reporting thread (workers/console-sink.ts). The sink gets the v1 report events like any sink,
// in batches from the hub; everything else crosses one MessagePort, handed to the sink once at
// start: the core's state report (on its timer), command results, and from the sink the commands
// and what it has to say about itself. Plain data, and the one helper both ends merge peers with.
//
// The state mirrors the core's StateReport (src/core/actions.ts); the shell passes one where the
// other is expected, so the compiler keeps the two in step without the worker importing the core.

/** The sink's options (piscina workerData, with the other sinks'). */
export interface ConsoleSinkOptions {
  address: string;
  port: number;
  /** "" = read-only: every command is refused. */
  token: string;
  /** Subscriber and talkgroup name files (absolute), for the names store. */
  names: { subscribers: string[]; talkgroups: string[] };
  auditLog: string;
  /** Where the dashboard's static files are (the repository's console/). */
  dashboardDir: string;
  version: string;
  server: string;
  /** Wall clock of the server's start, ms since 1970. */
  startedAt: number;
  /** The operator config with its secrets redacted, for GET /api/v1/server. */
  config: unknown;
  /** Events kept for Last-Event-ID, and ended calls kept for lastheard. */
  backlog: number;
  lastheard: number;
}

export interface ConsolePeer {
  peer: number;
  address: string;
  port: number;
  loggedInAt: number;
  lastSeen: number;
  config: {
    callsign: string;
    rxFreq: string;
    txFreq: string;
    txPower: string;
    colorCode: string;
    latitude: string;
    longitude: string;
    height: string;
    location: string;
    description: string;
    slots: string;
    url: string;
    softwareId: string;
    packageId: string;
  } | null;
  options: string | null;
  subs: { slot: 1 | 2; tg: number; conference: number; source: string }[];
}
export interface ConsoleCall {
  stream: number;
  peer: number;
  src: number;
  dst: number;
  slot: 1 | 2;
  callType: 'group' | 'private';
  via: string;
  startedNow: number;
  lastNow: number;
  packets: number;
  lost: number;
  berSum: number;
  rssiSum: number;
  qualityPackets: number;
}

export interface ConsoleLink {
  name: string;
  protocol: 'openbridge' | 'fbp';
  address: string;
  port: number;
  up: boolean | null;
  version: number;
  lastHeard: number | null;
  framesIn: number;
  framesOut: number;
  dropped: number;
}

export interface ConsoleUplink {
  name: string;
  address: string;
  port: number;
  state: string;
  upAt: number | null;
  framesIn: number;
  dropped: number;
}

/** The core's state as the console keeps it (merged from the reports); core monotonic ms. */
export interface ConsoleCoreState {
  now: number;
  peers: ConsolePeer[];
  calls: ConsoleCall[];
  links: ConsoleLink[];
  uplinks: ConsoleUplink[];
  counters: [string, number][];
}

/**
 * A state report as it crosses to the console: what changed since the last one. `full`: `peers`
 * and `counters` are whole (the first report to this console, e.g. after the reporting thread
 * restarted); otherwise `peers` are the new or changed ones, `gone` the ones that left, `seen`
 * pairs of peer ID and last-ping time, and `counters` only those whose value changed.
 */
export interface ConsoleStateChange {
  now: number;
  full: boolean;
  peers: ConsolePeer[];
  gone: number[];
  seen: number[];
  calls: ConsoleCall[];
  links: ConsoleLink[];
  uplinks: ConsoleUplink[];
  counters: [string, number][];
}

/**
 * Apply a state report's peer changes to a map of peers by ID (`full`: they replace it). The main
 * thread's bridge keeps one such map, the console another.
 */
export function mergePeers<P extends { peer: number; lastSeen: number }>(peers: Map<number, P>, change: { full: boolean; peers: readonly P[]; gone: readonly number[]; seen: readonly number[] }): void {
  if (change.full) peers.clear();
  for (const p of change.peers) peers.set(p.peer, p);
  for (const peer of change.gone) peers.delete(peer);
  for (let i = 0; i + 1 < change.seen.length; i += 2) {
    const p = peers.get(change.seen[i]!);
    if (p !== undefined) p.lastSeen = change.seen[i + 1]!;
  }
}

/** One reporting sink's queue, from the hub. */
export interface ConsoleSinkStats {
  state: string;
  queued: number;
  delivered: number;
  droppedQueueFull: number;
  coalesced: number;
  rejected: number;
}

export type ConsoleCommand =
  | { op: 'disconnect'; peer: number }
  | { op: 'block'; peer: number; seconds: number }
  | { op: 'options'; peer: number; options: string }
  | { op: 'dial-drop'; peer: number; slot: 1 | 2 }
  | { op: 'reload' };

/** Main thread → console sink. */
export type ToConsole =
  | {
      type: 'state';
      /** Wall clock minus core time: wall ms = core ms + offset. */
      offset: number;
      state: ConsoleStateChange;
      reporting: Record<string, ConsoleSinkStats>;
      /** The process (main thread's heap) and the main thread's timer lateness since the last state. */
      process: { rss: number; heapUsed: number; heapTotal: number; external: number; lagMs: number; lagMaxMs: number };
    }
  | { type: 'result'; id: number; ok: boolean; code: string; message: string; result: Record<string, string | number | boolean> }
  /** The name files after a reload changed them: load them again. */
  | { type: 'names'; names: ConsoleSinkOptions['names'] };

/** Console sink → main thread. */
export type FromConsole =
  | { type: 'command'; id: number; who: string; command: ConsoleCommand }
  | { type: 'listening'; address: string; port: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; code: string; message: string };
