// The contention rules are one set (src/core/streams/contention.ts, laneFree); the fan-out loop
// (streams/fanout.ts) writes the same checks out for speed. For any state of a receiving lane, a
// stream's packet reaches it through forward() exactly when laneFree says the lane is free, and
// counts a new receiver exactly when the lane was not already carrying that stream.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CoreEnv } from '../../src/core/effects.js';
import type { Conference, Session, SlotState, Stream, Subscription, Variant } from '../../src/core/model/index.js';
import { newSession, SessionState } from '../../src/core/sessions/session.js';
import { laneFree } from '../../src/core/streams/contention.js';
import { forward } from '../../src/core/streams/fanout.js';
import { DEFAULT_CORE_CONFIG } from '../../src/core/index.js';

const STREAM = 77;
const TG = 2350;
const WINDOW = DEFAULT_CORE_CONFIG.timers.collisionWindowMs;
const HANG = DEFAULT_CORE_CONFIG.timers.groupHangtimeMs;

/** A lane state near the edges of the windows, with the stream, talkgroups and times that matter. */
const laneState = fc.record({
  rx: fc.constantFrom('none', 'live', 'ended'),
  rxTg: fc.constantFrom(0, TG, 91),
  rxAgo: fc.constantFrom(0, WINDOW - 1, WINDOW, HANG - 1, HANG, 100_000),
  txStream: fc.constantFrom(0, STREAM, 99),
  txTg: fc.constantFrom(0, TG, 91),
  txAgo: fc.constantFrom(0, WINDOW - 1, WINDOW, HANG - 1, HANG, 100_000),
  txEnded: fc.boolean(),
});

describe('contention: the fan-out loop and laneFree agree', () => {
  it('admits a receiver exactly when laneFree does, and counts it new exactly when it did not carry the stream', () => {
    fc.assert(
      fc.property(laneState, (x) => {
        const now = 1_000_000;
        const talker = newSession(1, 0, '192.0.2.1', 1, 0, 1);
        const receiver: Session = newSession(2, 0, '192.0.2.2', 2, 0, 2);
        receiver.state = SessionState.Connected;
        const lane: SlotState = receiver.slots[1];
        const other = { ended: x.rx === 'ended' } as Stream;
        lane.rx = x.rx === 'none' ? null : other;
        lane.rxTg = x.rxTg;
        lane.rxTime = now - x.rxAgo;
        lane.txStream = x.txStream;
        lane.txTg = x.txTg;
        lane.txTime = now - x.txAgo;
        lane.txEnded = x.txEnded;
        const expected = laneFree(lane, STREAM, TG, now, WINDOW, HANG);
        const wasOurs = lane.txStream === STREAM;

        const sub = { session: receiver, slot: 1, rfTg: TG, conference: TG, source: 'options', expiresAt: 0, mutedUntil: 0, gone: false } as Subscription;
        const conf: Conference = { tg: TG, members: [sub], version: 5 };
        const variant: Variant = { tg: TG, subs: [sub], rewriter: null, scratch: [], pending: null, count: 0, buffer: null };
        const st = { id: STREAM, session: talker, tg: TG, variants: [variant], version: 5, receivers: 0, forwarded: 0, alsoFrom: null } as unknown as Stream;
        let sent = 0;
        const env = {
          cfg: DEFAULT_CORE_CONFIG,
          receive: { behind: false, drainedAt: 0 },
          hot: { dmrdIn: 0, framesForwarded: 0, sendsForwarded: 0, markEpoch: 0 },
          fx: { fanOut: (_f: Uint8Array, _t: unknown, n: number) => void (sent += n) },
        } as unknown as CoreEnv;
        forward(env, st, conf, new Uint8Array(55), now, false);
        expect(sent === 1).toBe(expected);
        expect(st.receivers === 1).toBe(expected && !wasOurs);
        if (expected) expect([lane.txStream, lane.txTg, lane.txTime]).toEqual([STREAM, TG, now]);
      }),
      { numRuns: 2000 },
    );
  });
});
