// The console's state reports go as changes (src/core/operator/snapshot.ts), the main thread's
// bridge forwards only what changed (src/shell/console.ts), and the console merges them
// (workers/console-state.ts). Driven by a real core: after every step the merged picture in the
// console must equal the core's own sessions, and a restarted console must get everything once.

import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateReport } from '../../src/core/index.js';
import { PEERS_PER_REPORT } from '../../src/core/operator/snapshot.js';
import { encodeRptcl, encodeRpto } from '../../src/protocol/index.js';
import type { ToConsole } from '../../src/reporting/console.js';
import { ConsoleBridge } from '../../src/shell/console.js';
import { ConsoleState, type StateMessage } from '../../workers/console-state.js';
import { testConfig, voiceCall, World } from '../support/harness.js';

const A = 3100001;
const B = 3100002;
const C = 3100003;

/** A core with the console's timer every second, its reports fed through a bridge to a console. */
class Rig {
  readonly w = new World(testConfig((c) => (c.console.snapshotMs = 1000)));
  readonly console = new ConsoleState(100, 100);
  readonly bridge = new ConsoleBridge({
    logger: pino({ level: 'silent' }),
    command: () => null,
    reload: () => Promise.resolve(false),
    reportingStats: () => ({}),
    wallOffset: () => 0,
  });
  /** The console's end of the channel. */
  port: MessagePort = this.bridge.workerPort();
  /** Reports taken so far. */
  private taken = 0;
  /** Every state message the console got. */
  readonly messages: StateMessage[] = [];

  /** Let `ms` pass; each state report goes through the bridge and into the console. */
  step(ms = 1000): StateReport[] {
    this.w.advance(ms);
    const reports = this.w.sink.reports.slice(this.taken).filter((r): r is StateReport => r.report === 'state');
    this.taken = this.w.sink.reports.length;
    for (const r of reports) {
      this.bridge.state(r);
      const got = receiveMessageOnPort(this.port)?.message as ToConsole | undefined;
      if (got?.type !== 'state') throw new Error('the bridge sent no state');
      this.messages.push(got);
      this.console.setState(got);
    }
    return reports;
  }

  /** The core's connected peers, as the console should show them. */
  truth(): { peer: number; lastSeen: number; options: string | null; subs: string[] }[] {
    return [...this.w.core.sessions.values()]
      .filter((s) => s.state === 2 && s.role === 'peer')
      .map((s) => ({ peer: s.peerId, lastSeen: s.lastSeen, options: s.optionsText, subs: [1, 2].flatMap((slot) => [...s.subs[slot as 1 | 2].values()].map((x) => `${slot}/${x.rfTg}->${x.conference} ${x.source}`)) }))
      .sort((a, b) => a.peer - b.peer);
  }

  /** What the console shows. */
  shown(): { peer: number; lastSeen: number; options: string | null; subs: string[] }[] {
    return (this.console.state?.state.peers ?? []).map((p) => ({ peer: p.peer, lastSeen: p.lastSeen, options: p.options, subs: p.subs.map((x) => `${x.slot}/${x.tg}->${x.conference} ${x.source}`) }));
  }
}

let rig: Rig;
afterEach(() => rig?.bridge.close());

describe('console state reports go as changes', () => {
  it('sends every peer first, then only what changed, and the console keeps the whole picture', () => {
    rig = new Rig();
    const { w } = rig;
    w.login(A, 5001);
    w.login(B, 5002, 'TS2=2350');
    w.login(C, 5003);
    let [r] = rig.step();
    expect(r).toMatchObject({ full: true, gone: [], seen: [] });
    expect(r!.peers.map((p) => p.peer)).toEqual([A, B, C]);
    expect(r!.peers[0]!.config?.callsign).toBe('T1');
    expect(rig.shown()).toEqual(rig.truth());

    // Nothing happened: no peer goes again.
    [r] = rig.step();
    expect(r).toMatchObject({ full: false, peers: [], gone: [], seen: [] });
    expect(rig.shown()).toEqual(rig.truth());

    // A pings: only its last-ping time goes.
    w.ping(A, 5001);
    [r] = rig.step();
    expect(r).toMatchObject({ full: false, peers: [], gone: [] });
    expect(r!.seen).toEqual([A, w.core.sessions.get(A)!.lastSeen]);
    expect(rig.shown()).toEqual(rig.truth());

    // A keys up a talkgroup it had not (user activation): A goes again with the new subscription.
    w.play(5001, voiceCall({ peerId: A, src: 3100901, tg: 3120, slot: 1, streamId: 0x51 }));
    [r] = rig.step();
    expect(r!.peers.map((p) => p.peer)).toEqual([A]);
    expect(r!.peers[0]!.subs).toContainEqual(expect.objectContaining({ slot: 1, tg: 3120, source: 'user' }));
    expect(rig.shown()).toEqual(rig.truth());

    // B changes its options (and so its talkgroups): B goes again, whole.
    w.datagram(5002, encodeRpto(B, 'TS1=91;TS2=3100'));
    [r] = rig.step();
    expect(r!.peers.map((p) => p.peer)).toEqual([B]);
    expect(r!.peers[0]!.subs.map((s) => `${s.slot}/${s.tg}`)).toEqual(expect.arrayContaining(['1/91', '2/3100']));
    expect(rig.shown()).toEqual(rig.truth());

    // C logs out: it is gone; it logs in again: a new session, sent whole.
    w.datagram(5003, encodeRptcl(C));
    [r] = rig.step();
    expect(r).toMatchObject({ peers: [], gone: [C] });
    expect(rig.shown().map((p) => p.peer)).toEqual([A, B]);
    w.login(C, 5004);
    [r] = rig.step();
    expect(r!.peers.map((p) => [p.peer, p.port])).toEqual([[C, 5004]]);
    expect(rig.shown()).toEqual(rig.truth());
    // The console still has the RPTC details of the peers that did not go again.
    expect(rig.console.state?.state.peers.map((p) => p.config?.callsign)).toEqual(['T1', 'T2', 'T3']);
  });

  it('looks only at the peers that changed or were heard from outside voice', () => {
    rig = new Rig();
    const { w } = rig;
    const D = 3100004;
    w.login(A, 5001);
    w.login(B, 5002, 'TS2=2350');
    rig.step();

    // B talks on a talkgroup it has: voice moves its last-heard time, but the report does not
    // look at B for voice. Its next ping carries the latest time.
    w.play(5002, voiceCall({ peerId: B, src: 3100902, tg: 2350, slot: 2, streamId: 0x52 }));
    let [r] = rig.step();
    expect(r).toMatchObject({ peers: [], gone: [], seen: [] });
    const shownB = () => rig.shown().find((p) => p.peer === B)!.lastSeen;
    expect(shownB()).toBeLessThan(w.core.sessions.get(B)!.lastSeen);
    w.ping(B, 5002);
    [r] = rig.step();
    expect(r!.seen).toEqual([B, w.core.sessions.get(B)!.lastSeen]);
    expect(rig.shown()).toEqual(rig.truth());

    // A leaves and logs in again from another port before the next report: the console gets the
    // new session, and A is not reported gone (the console would drop it).
    w.datagram(5001, encodeRptcl(A));
    w.login(A, 5009);
    [r] = rig.step();
    expect(r!.peers.map((p) => [p.peer, p.port])).toEqual([[A, 5009]]);
    expect(r!.gone).toEqual([]);
    expect(rig.shown()).toEqual(rig.truth());

    // D comes and goes between two reports: the console never hears of it.
    w.login(D, 5010);
    w.datagram(5010, encodeRptcl(D));
    [r] = rig.step();
    expect(r).toMatchObject({ peers: [], gone: [] });
    expect(rig.shown()).toEqual(rig.truth());
  });

  it('sends counters once, then only those that changed', () => {
    rig = new Rig();
    rig.w.login(A, 5001);
    rig.step();
    const first = rig.messages.at(-1)!.state.counters;
    expect(first.length).toBeGreaterThan(5);
    rig.step();
    const quiet = rig.messages.at(-1)!.state.counters;
    expect(quiet.length).toBeLessThan(first.length);
    rig.w.ping(A, 5001);
    rig.step();
    const merged = Object.fromEntries(rig.console.state!.state.counters);
    expect(merged).toEqual(Object.fromEntries(rig.w.core.stats()));
    expect(rig.console.state!.state.counters.length).toBe(first.length);
  });

  it('sends a new console everything once (the reporting thread restarted)', () => {
    rig = new Rig();
    rig.w.login(A, 5001);
    rig.w.login(B, 5002);
    rig.step();
    rig.w.ping(B, 5002);
    rig.step();
    // A reload restarts the reporting thread: a new channel, and a console that knows nothing.
    rig.port.close();
    rig.port = rig.bridge.workerPort();
    const fresh = new ConsoleState(100, 100);
    rig.w.login(C, 5003);
    rig.w.advance(1000);
    const r = rig.w.sink.reports.filter((x): x is StateReport => x.report === 'state').at(-1)!;
    // The core's report has only C; the new console is sent all three, with B's latest ping.
    expect(r.peers.map((p) => p.peer)).toEqual([C]);
    rig.bridge.state(r);
    const m = receiveMessageOnPort(rig.port)!.message as StateMessage;
    expect(m.state.full).toBe(true);
    fresh.setState(m);
    expect(fresh.state!.state.peers.map((p) => [p.peer, p.lastSeen])).toEqual(rig.truth().map((p) => [p.peer, p.lastSeen]));
    expect(Object.fromEntries(fresh.state!.state.counters)).toEqual(Object.fromEntries(rig.w.core.stats()));
  });

  it('spreads a login storm and a wave of changes over reports of at most PEERS_PER_REPORT peers', () => {
    rig = new Rig();
    const { w } = rig;
    const n = 2 * PEERS_PER_REPORT + 7;
    const ids = Array.from({ length: n }, (_, i) => 3200000 + i);
    ids.forEach((id, i) => w.login(id, 6000 + i));
    const sizes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [r] = rig.step();
      sizes.push(r!.peers.length);
      expect(r!.gone).toEqual([]);
      expect(r!.full).toBe(i === 0);
    }
    expect(sizes).toEqual([PEERS_PER_REPORT, PEERS_PER_REPORT, 7]);
    expect(rig.shown()).toEqual(rig.truth());

    // More peers change at once than one report takes: those left over keep their last picture
    // (they are not gone) and go in the next report.
    const changed = ids.slice(0, PEERS_PER_REPORT + 10);
    changed.forEach((id) => w.datagram(6000 + ids.indexOf(id), encodeRpto(id, 'TS1=91;TS2=3100')));
    let [r] = rig.step();
    expect(r!.peers.length).toBe(PEERS_PER_REPORT);
    expect(r!.gone).toEqual([]);
    expect(rig.shown().map((p) => p.peer)).toEqual(rig.truth().map((p) => p.peer));
    const waiting = rig.shown().filter((p) => changed.includes(p.peer) && !p.subs.includes('2/3100->3100 options'));
    expect(waiting.length).toBe(10);
    [r] = rig.step();
    expect(r!.peers.map((p) => p.peer)).toEqual(waiting.map((p) => p.peer));
    expect(rig.shown()).toEqual(rig.truth());
    [r] = rig.step();
    expect(r!.peers).toEqual([]);

    // New options with the same talkgroups: only the text changed, and the peer goes again.
    w.datagram(6000, encodeRpto(ids[0]!, 'TS1=91;TS2=3100;TIMER=5'));
    [r] = rig.step();
    expect(r!.peers.map((p) => [p.peer, p.options])).toEqual([[ids[0], 'TS1=91;TS2=3100;TIMER=5']]);
    expect(rig.shown()).toEqual(rig.truth());
  });

  it('starts whole again after the console timer stopped', () => {
    rig = new Rig();
    rig.w.login(A, 5001);
    expect(rig.step()[0]!.full).toBe(true);
    expect(rig.step()[0]!.full).toBe(false);
    const off = testConfig((c) => (c.console.snapshotMs = 0));
    rig.w.core.handle({ kind: 'config-applied', now: rig.w.now, config: off }, rig.w.sink);
    expect(rig.step(3000)).toEqual([]);
    const on = testConfig((c) => (c.console.snapshotMs = 1000));
    rig.w.core.handle({ kind: 'config-applied', now: rig.w.now, config: on }, rig.w.sink);
    const [r] = rig.step();
    expect(r!.full).toBe(true);
    expect(r!.peers.map((p) => p.peer)).toEqual([A]);
  });
});
