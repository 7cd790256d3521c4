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

export type CoreEvent = StartedEvent | DatagramEvent | TickedEvent | ConfigAppliedEvent | ShutdownEvent | PromptsLoadedEvent | BacklogChangedEvent;
