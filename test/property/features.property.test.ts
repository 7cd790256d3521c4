// Property tests for the everyday talkgroup features (fast-check): random sequences of logins with
// random options, option changes, dial-a-TG commands (link, unlink, status, refused numbers,
// information clips), group calls that user-activate talkgroups (single mode on), echo calls,
// time passing (timers expiring, prompts and echoes playing), logouts and silent peers dropped by
// the keepalive. After every step:
//  - no subscription is left behind: every subscription in the index belongs to a live session,
//    and the index holds exactly the subscriptions of the live sessions;
//  - no timed subscription (user activation, dial link) is still there after its expiry time;
//  - no peer has two reflectors linked;
//  - on every (peer, slot), a frame of one stream (routed, prompt or echo) never follows another
//    stream's frame unless that stream's terminator went there or the collision window passed.

import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import type { PromptPackData, Target } from '../../src/core/index.js';
import { encodeDmrd, encodeRptcl, encodeRpto, readU32 } from '../../src/protocol/index.js';
import { loadPromptPack } from '../../src/shell/prompts.js';
import { describePromptPacks } from '../support/fixtures.js';
import { testConfig, voiceCall, World } from '../support/harness.js';

const PEERS = [1001, 1002, 1003, 1004];
const port = (id: number): number => 4000 + id;
const OPTIONS = ['', 'TS2=91;', 'TS1=91;TS2=92;', 'DIAL=2350;', 'TIMER=1;TS2=92;', 'SINGLE=0;TS1=3100;', 'DIAL=3100;TS2=91,2350;'];
const DIALS = [2350, 3100, 4000, 5000, 9, 9991];
const TGS = [91, 92, 2350, 3100, 9, 9990];
const CONFERENCES = [91, 92, 2350, 3100, 9, 9990];

/** The en_GB pack of the variant being run (the synthetic pack, or the real one; set by beforeAll). */
let PACK: PromptPackData;
const loadPack = (dir: string): PromptPackData => {
  const r = loadPromptPack(dir, 'en_GB');
  if (!r.ok) throw new Error(r.error);
  return { lang: 'en_GB', words: Object.fromEntries(r.pack.words), ondemand: Object.fromEntries(r.pack.ondemand) };
};

type Step =
  | { k: 'login'; peer: number; options: string }
  | { k: 'options'; peer: number; options: string }
  | { k: 'logout'; peer: number }
  | { k: 'dial'; peer: number; n: number; slot: 1 | 2 }
  | { k: 'call'; peer: number; tg: number; slot: 1 | 2; superframes: number; terminator: boolean }
  | { k: 'wait'; ms: number; ping: boolean };

const peer = fc.constantFrom(...PEERS);
const slot = fc.constantFrom<1 | 2>(1, 2);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('login' as const), peer, options: fc.constantFrom(...OPTIONS) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('options' as const), peer, options: fc.constantFrom(...OPTIONS) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('logout' as const), peer }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('dial' as const), peer, n: fc.constantFrom(...DIALS), slot }) },
  {
    weight: 5,
    arbitrary: fc.record({ k: fc.constant('call' as const), peer, tg: fc.constantFrom(...TGS), slot, superframes: fc.integer({ min: 0, max: 5 }), terminator: fc.boolean() }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('wait' as const), ms: fc.constantFrom(100, 700, 2500, 6000, 20_000, 65_000), ping: fc.constantFrom(true, true, true, false) }) },
);

interface Lane {
  stream: number;
  at: number;
  terminated: boolean;
}

function run(initial: string[], steps: Step[]): string[] {
  const problems: string[] = [];
  const cfg = testConfig((c) => {
    c.routing.userActivation = true;
    c.routing.singleMode = true;
    c.routing.userActivationMs = 60_000;
    c.timers.groupHangtimeMs = 1000;
  });
  const w = new World(cfg);
  w.core.handle({ kind: 'prompts-loaded', now: w.now, packs: [PACK] }, w.sink);
  // Watch every frame as it is handed out, with the time. Lanes are told apart by their target,
  // which belongs to one session: a peer that logs in again starts on fresh lanes (what was being
  // sent to its old session stopped with it).
  const lanes = new Map<Target, Lane>();
  const fanOut = w.sink.fanOut.bind(w.sink);
  w.sink.fanOut = (frame: Uint8Array, targets: readonly Target[], count: number) => {
    const now = w.core.now;
    const stream = readU32(frame, 16);
    const terminator = (frame[15]! & 0x3f) === 0x22;
    for (let i = 0; i < count; i++) {
      const t = targets[i]!;
      const key = `${t.peerId}/${t.slotBit === 0x80 ? 2 : 1}`;
      const lane = lanes.get(t);
      if (lane && lane.stream !== stream && !lane.terminated && now - lane.at < cfg.timers.collisionWindowMs) {
        problems.push(`@${now} stream ${stream.toString(16)} onto ${key} ${now - lane.at} ms after stream ${lane.stream.toString(16)}, not terminated`);
      }
      if (lane && lane.stream === stream) {
        lane.at = now;
        lane.terminated ||= terminator;
      } else lanes.set(t, { stream, at: now, terminated: terminator });
    }
    return fanOut(frame, targets, count);
  };
  const loggedIn = new Set<number>();
  let nextStream = 1;
  // Every run starts with all peers logged in, with random options.
  PEERS.forEach((p, i) => {
    w.login(p, port(p), initial[i] === '' ? undefined : initial[i]);
    loggedIn.add(p);
  });

  const check = (after: string): void => {
    const now = w.core.now;
    const core = w.core;
    let held = 0;
    for (const s of core.sessions.values()) {
      let reflectors = 0;
      for (const sl of [1, 2] as const) {
        for (const sub of s.subs[sl].values()) {
          held++;
          if (sub.gone || s.closed) problems.push(`${after}: peer ${s.peerId} holds a removed subscription TG ${sub.rfTg}`);
          if (sub.expiresAt !== 0 && sub.expiresAt <= now) problems.push(`${after}: peer ${s.peerId} TS${sl} TG ${sub.rfTg} (${sub.source}) expired at ${sub.expiresAt}, still there at ${now}`);
          if (sub.source === 'dial' || sub.source === 'default-reflector') reflectors++;
        }
      }
      if (reflectors > 1) problems.push(`${after}: peer ${s.peerId} has ${reflectors} reflectors linked`);
    }
    if (core.index.size !== held) problems.push(`${after}: the index holds ${core.index.size} subscriptions, the live sessions ${held}`);
    for (const tg of CONFERENCES) {
      for (const m of core.index.conference(tg)?.members ?? []) {
        if (m.session.closed || core.sessions.get(m.session.peerId) !== m.session) problems.push(`${after}: conference ${tg} keeps peer ${m.session.peerId} of a closed session`);
      }
    }
  };

  for (const [i, st] of steps.entries()) {
    const label = `step ${i} ${JSON.stringify(st)}`;
    switch (st.k) {
      case 'login':
        if (!loggedIn.has(st.peer)) {
          w.login(st.peer, port(st.peer), st.options === '' ? undefined : st.options);
          loggedIn.add(st.peer);
        }
        break;
      case 'options':
        if (loggedIn.has(st.peer)) w.datagram(port(st.peer), encodeRpto(st.peer, st.options));
        break;
      case 'logout':
        w.datagram(port(st.peer), encodeRptcl(st.peer));
        loggedIn.delete(st.peer);
        break;
      case 'dial': {
        const id = nextStream++;
        for (const [seq, frame] of [0x21, 0x22].entries()) {
          w.datagram(port(st.peer), encodeDmrd({ seq, src: 3100000 + st.peer, dst: st.n, peerId: st.peer, slot: st.slot, frame, unit: true, streamId: id }));
          w.advance(60);
        }
        break;
      }
      case 'call': {
        const packets = voiceCall({ peerId: st.peer, src: 3100000 + st.peer, tg: st.tg, slot: st.slot, streamId: nextStream++, superframes: st.superframes });
        for (const p of st.terminator ? packets : packets.slice(0, -1)) {
          w.datagram(port(st.peer), p);
          w.advance(60);
        }
        break;
      }
      case 'wait':
        for (let left = st.ms; left > 0; left -= 5000) {
          w.advance(Math.min(5000, left));
          if (st.ping) for (const p of loggedIn) w.ping(p, port(p));
        }
        // Peers that went silent past the keepalive limit are gone.
        for (const p of [...loggedIn]) if (!w.core.sessions.has(p)) loggedIn.delete(p);
        break;
    }
    w.sink.take();
    for (const r of w.sink.reports.splice(0)) if (r.report === 'subscription' && r.change === 'added' && r.source === 'user') seen.set('user.activated', (seen.get('user.activated') ?? 0) + 1);
    check(label);
    if (problems.length > 0) break;
  }
  for (const [k, v] of w.core.stats()) seen.set(k, (seen.get(k) ?? 0) + v);
  return problems;
}

/** Core counters summed over every run, to show the runs exercised what they claim to. */
const seen = new Map<string, number>();

describePromptPacks('everyday features under random use', (dir) => {
  beforeAll(() => {
    PACK = loadPack(dir);
    seen.clear();
  });

  it('leave no subscription behind, never link two reflectors, never play onto a busy slot', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...OPTIONS), { minLength: 4, maxLength: 4 }), fc.array(step, { minLength: 5, maxLength: 60 }), (initial, steps) => {
        expect(run(initial, steps)).toEqual([]);
      }),
      { numRuns: 150 },
    );
    const n = (k: string): number => seen.get(k) ?? 0;
    expect(n('playout.prompt.played')).toBeGreaterThan(0);
    expect(n('playout.echo.played')).toBeGreaterThan(0);
    expect(n('dial.linked')).toBeGreaterThan(0);
    expect(n('dial.expired')).toBeGreaterThan(0);
    expect(n('peer.logout.closed')).toBeGreaterThan(0);
    expect(n('peer.logout.timeout')).toBeGreaterThan(0);
    expect(n('forward.sends')).toBeGreaterThan(1000);
    expect(n('user.activated')).toBeGreaterThan(0);
  });
});
