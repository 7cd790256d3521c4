// The core's inputs: past-tense facts handed to the core, called events in the code (CoreEvent,
// the event log); the operator-facing messages are reports (src/reporting). Every event carries
// `now`, integer milliseconds of a monotonic clock. Nothing reaches routing state except through
// one of these.

import type { CoreConfig } from './config.js';

export interface StartedEvent {
  kind: 'started';
  now: number;
  /** Seed of the core's PRNG (login salts, the stream IDs of prompts and echo playbacks). */
  seed: number;
  config: CoreConfig;
  /**
   * The wall clock (ms since 1970) at this event's `now`, for the timestamps of FBP frames; the
   * core reads no clock, so it keeps the difference. Absent in logs of older versions (then 0).
   */
  wallMs?: number;
}

export interface DatagramEvent {
  kind: 'datagram-received';
  now: number;
  /** Which of the shell's sockets received it (0 = the HBP master socket). */
  socket: number;
  address: string;
  port: number;
  /**
   * The datagram. The core owns these bytes once handed over: it may rewrite them in place into
   * the outgoing frame (recorders must copy or serialise before calling `handle`).
   */
  bytes: Uint8Array;
}

export interface TickedEvent {
  kind: 'ticked';
  now: number;
}

export interface ConfigAppliedEvent {
  kind: 'config-applied';
  now: number;
  config: CoreConfig;
}

export interface ShutdownEvent {
  kind: 'shutdown-requested';
  now: number;
}

/** One language of voice prompts: AMBE+2 voice per word, packed 27 bytes per burst (spec §8.1). */
export interface PromptPackData {
  lang: string;
  words: Record<string, Uint8Array>;
  /** Information-service clips by number (9991..9999). */
  ondemand: Record<string, Uint8Array>;
}

/** The shell loaded the prompt packs (off the packet path, after the sockets opened). */
export interface PromptsLoadedEvent {
  kind: 'prompts-loaded';
  now: number;
  packs: PromptPackData[];
}

/**
 * The shell read the known-ID list named by [acl] id_file (off the packet path, at start and on
 * SIGHUP): the registration policy for unknown IDs uses it (CoreConfig.acl.unknownIds).
 */
export interface IdsLoadedEvent {
  kind: 'ids-loaded';
  now: number;
  /** The file it came from (for logs). */
  source: string;
  /** Subscriber and repeater IDs, sorted ascending, no repeats. */
  ids: Uint32Array;
}

/** What an operator asked for through the console (src/core/operator). */
export type OperatorCommand =
  /** Close the peer's session (MSTCL). */
  | { op: 'disconnect'; peer: number }
  /** Close the peer's session if any, and refuse logins of that ID for `seconds`. */
  | { op: 'block'; peer: number; seconds: number }
  /** Apply an options string to the peer, as if it had sent it in RPTO. */
  | { op: 'options'; peer: number; options: string }
  /** Take the dialled reflector (or the default reflector) off the peer's dial lane on `slot`. */
  | { op: 'dial-drop'; peer: number; slot: 1 | 2 };

/**
 * An operator command arrived (from the console). `id` is the shell's number for it, echoed in the
 * `command-result` report; `who` says who asked (for the logs; the audit log is kept by the console).
 */
export interface OperatorCommandEvent {
  kind: 'operator-command';
  now: number;
  id: number;
  who: string;
  command: OperatorCommand;
}

/**
 * The shell's receive queue began or stopped waiting: `behind` is true once datagrams have been
 * waiting to be read for longer than the shell allows (it sheds voice fan-out meanwhile), false
 * once the queue is drained. Silence while the shell is behind is not held against a peer: its
 * pings may be waiting in that queue.
 */
export interface BacklogChangedEvent {
  kind: 'backlog-changed';
  now: number;
  behind: boolean;
}

export type CoreEvent = StartedEvent | DatagramEvent | TickedEvent | ConfigAppliedEvent | ShutdownEvent | PromptsLoadedEvent | IdsLoadedEvent | OperatorCommandEvent | BacklogChangedEvent;
