// One sink's queue and state inside the reporting hub (./reporting.ts), and which events coalesce.

import type { HostedSink as SinkSpec, ReportEvent, SinkState } from '../reporting/events.js';

export interface Entry {
  event: ReportEvent;
  priority: number;
  dead: boolean;
  key: string | null;
}

export interface SinkCounters {
  delivered: number;
  batches: number;
  failedBatches: number;
  droppedQueueFull: number;
  coalesced: number;
  /** Events the sink refused for good (they broke its schema); logged, never retried. */
  rejected: number;
}

export class Sink {
  readonly queue: Entry[] = [];
  /** Bumped when a reload restarts the thread: an answer from before it is ignored. */
  generation = 0;
  live = 0;
  readonly byKey = new Map<string, Entry>();
  inFlight: Entry[] | null = null;
  state: SinkState = 'starting';
  retryAt = 0;
  /** When (hub clock) its last batch went. */
  sentAt = Number.NEGATIVE_INFINITY;
  backoff: number;
  needSnapshot = false;
  readonly counters: SinkCounters = { delivered: 0, batches: 0, failedBatches: 0, droppedQueueFull: 0, coalesced: 0, rejected: 0 };
  /** Drops not yet reported in a health event. */
  unreported = { queueFull: 0, sinkDown: 0, coalesced: 0 };
  lastError = '';

  constructor(public spec: SinkSpec, backoffMin: number) {
    this.backoff = backoffMin;
  }
}

/** Key under which a newer event replaces an older queued one, or null when it never does. */
export function coalesceKey(e: ReportEvent): string | null {
  // Health events are never coalesced: each carries counts that were reset when it was made.
  if (e.family === 'peer' && e.type === 'options') return `options:${e.peer}`;
  return null;
}
