// A stream: one transmission from one peer's slot, identified by its stream ID, from its first
// packet to its terminator (or timeout). Its target list is worked out at the start and rebuilt
// only when the conference's membership changes.

import type { Session } from '../sessions/session.js';
import type { Conference, Subscription } from '../subscriptions/index.js';

export type EndReason = 'terminator' | 'timeout' | 'superseded' | 'peer-gone' | 'shutdown';

export class Stream {
  lastAt: number;
  lastSeq: number;
  packets = 1;
  forwarded = 0;
  lost = 0;
  duplicates = 0;
  stale = 0;
  rateDrops = 0;
  /** Sums of the BER and RSSI bytes of the 55-byte packets, and how many there were. */
  berSum = 0;
  rssiSum = 0;
  qualityPackets = 0;
  /** Receivers the stream reached at least once. */
  receivers = 0;
  /** The stream began with a data frame (CSBK, data header, data block) rather than voice. */
  data = false;
  ended = false;
  endReason: EndReason | null = null;
  /** The stream stopped being forwarded (max duration reached) but is not ended yet. */
  cutOff = false;
  /** Subscriptions that receive this stream (built at start; rebuilt when `version` is stale). */
  targets: Subscription[] = [];
  version = -1;
  /** Deadline currently scheduled for the inactivity check. */
  deadlineAt = 0;

  constructor(
    readonly id: number,
    readonly session: Session,
    readonly slot: 1 | 2,
    readonly src: number,
    readonly tg: number,
    readonly startedAt: number,
    firstSeq: number,
    public conference: Conference | null,
  ) {
    this.lastAt = startedAt;
    this.lastSeq = firstSeq;
  }
}
