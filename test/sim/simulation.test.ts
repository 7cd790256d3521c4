// A seeded simulation in virtual time: 200+ HBP clients on a handful of talkgroups on both slots,
// 20+ concurrent voice streams at the DMR rate with loss, duplication and reordering, lost
// terminators, logouts and logins, option changes and peers that stop pinging. The invariant
// checker watches every event and action; the sanity numbers below make sure the run did what it
// claims (traffic flowed on every talkgroup, faults happened and were counted).
//
// The seed is printed; rerun a failure with SIM_SEED=<seed> npx vitest run test/sim.

import { describe, expect, it } from 'vitest';
import { testConfig } from '../support/harness.js';
import { DEFAULT_SIM, SimWorld, type SimReport } from '../support/sim-world.js';

const config = testConfig((c) => {
  c.routing.ts1Static = [1];
  c.routing.ts2Static = [91];
});

function simulate(seed: number): { world: SimWorld; report: SimReport } {
  console.log(`simulation seed: ${seed}`);
  const world = new SimWorld({ seed, ...DEFAULT_SIM }, config);
  const report = world.run();
  console.log(`simulation report: ${JSON.stringify(report)}`);
  return { world, report };
}

function checkRun(world: SimWorld, report: SimReport): void {
  const { driver, clients, opts } = world;
  const checker = driver.checker;
  const st = checker.stats;

  // The invariants held throughout. `slot-freed-by-end` is a known core issue (a slot freed at
  // once when a stream ends without a terminator, e.g. its sender logged out), pinned by an
  // it.fails reproduction in test/property/core.property.test.ts; the report prints its count.
  expect(checker.violations({ ignore: [] })).toEqual([]);

  // The run had the intended shape.
  expect(clients.length).toBeGreaterThanOrEqual(200);
  expect(report.virtualMs).toBeGreaterThanOrEqual(120_000);
  expect(report.liveMean).toBeGreaterThanOrEqual(20);
  expect(st.maxLive).toBeGreaterThanOrEqual(20);
  expect(report.calls).toBeGreaterThan(300);
  expect(report.callsWithLostTerminator).toBeGreaterThan(0);
  expect(report.logouts).toBeGreaterThan(20);
  expect(report.logins).toBeGreaterThan(clients.length + report.logouts / 2);

  // Traffic reached listeners on every talkgroup that has any.
  const listened = checker.listenedTalkgroups();
  for (const tg of opts.talkgroups) {
    if (listened.has(tg)) expect(st.deliveriesByTg.get(tg) ?? 0, `deliveries on TG ${tg}`).toBeGreaterThan(0);
  }
  expect(report.clientsReached).toBeGreaterThan(clients.length * 0.8);
  // Routed frames plus the echo playbacks the core made itself (one receiver each).
  expect(st.deliveries).toBe(driver.stat('forward.sends') + driver.stat('playout.frames'));
  expect(st.frames).toBe(driver.stat('forward.frames') + driver.stat('playout.frames'));
  // Some talkers used the echo talkgroup (9990 is among the simulated talkgroups), and the
  // checker saw their playbacks arrive only where the echo rules allow.
  expect(st.echoFrames).toBeGreaterThan(0);
  expect(st.echoFrames).toBe(driver.stat('playout.frames'));
  // User activation is on (the default): talkers keyed talkgroups their slot had not joined, and
  // the checker followed those subscriptions from the core's reports.
  expect(st.dynamicAdds.get('user') ?? 0).toBeGreaterThan(0);
  // Dial-a-TG: talkers dialled reflectors (and 4000/5000), some peers had a default reflector, and
  // TG 9 lanes carried rewritten traffic both ways, all within the invariants.
  expect(report.dials).toBeGreaterThan(20);
  expect(st.dynamicAdds.get('dial') ?? 0).toBeGreaterThan(0);
  expect(st.dynamicAdds.get('default-reflector') ?? 0).toBeGreaterThan(0);
  expect(st.deliveriesByTg.get(9) ?? 0).toBeGreaterThan(0);

  // Faults were injected and the core counted them.
  expect(report.dmrdLost).toBeGreaterThan(0);
  expect(report.dmrdDuplicated).toBeGreaterThan(0);
  expect(report.dmrdReordered).toBeGreaterThan(0);
  expect(driver.stat('dmrd.gap')).toBeGreaterThan(0);
  expect(driver.stat('dmrd.duplicate')).toBeGreaterThan(0);
  expect(driver.stat('dmrd.stale')).toBeGreaterThan(0);
  // Every sequence gap the core counted is a packet the network lost or held back; most losses
  // fall inside a stream (not on its first or last packet) and show up as gaps.
  expect(report.lostCounted).toBeLessThanOrEqual(report.dmrdLost + report.dmrdReordered);
  expect(report.lostCounted).toBeGreaterThan(report.dmrdLost / 2);
  // Streams at the DMR rate are never rate-limited.
  expect(driver.stat('stream.rate-drop')).toBe(0);

  // Streams ended every way the run provoked.
  expect(st.endReasons.get('terminator') ?? 0).toBeGreaterThan(0);
  expect(st.endReasons.get('timeout') ?? 0).toBeGreaterThan(0);
  expect(driver.stat('stream.max-duration-drop')).toBeGreaterThan(0);
  expect(driver.stat('live-streams')).toBe(0);

  // Sessions: the core's peers are exactly the clients that believe they are connected; the
  // peers that went silent were dropped by the keepalive (and told so with MSTCL).
  const corePeers = driver.core.peers();
  expect(corePeers.every((p) => p.state === 'connected')).toBe(true);
  expect(corePeers.map((p) => p.peerId)).toEqual(clients.filter((c) => c.state === 'connected').map((c) => c.peerId));
  const silent = clients.filter((c) => c.silent);
  expect(silent.length).toBe(opts.silentPeers);
  for (const c of silent) {
    expect(c.mstcl).toBeGreaterThan(0);
    expect(corePeers.some((p) => p.peerId === c.peerId)).toBe(false);
  }
  expect(st.logouts.get('timeout') ?? 0).toBeGreaterThanOrEqual(opts.silentPeers);
  expect(st.logouts.get('closed') ?? 0).toBe(report.logouts);
}

describe('simulation', () => {
  const envSeed = process.env['SIM_SEED'];
  if (envSeed !== undefined && envSeed !== '' && !/^[0-9]+$/.test(envSeed)) throw new Error(`SIM_SEED must be a decimal integer, got ${envSeed}`);
  const seed = envSeed !== undefined && envSeed !== '' ? Number(envSeed) >>> 0 : 0x5eed2026;

  it(`keeps the routing invariants with 200 peers and 20+ concurrent streams (seed ${seed})`, () => {
    const { world, report } = simulate(seed);
    checkRun(world, report);
  });

  it('keeps them with a second fixed seed', () => {
    const { world, report } = simulate(1_234_567);
    checkRun(world, report);
  });
});
