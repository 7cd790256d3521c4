// One seeded run of the mesh simulation (test/sim/mesh.test.ts): the schedule of logins, traffic,
// faults and phases, and the numbers a test checks afterwards so it cannot pass vacuously.
//
// Phases (virtual time):
//   0–8 s      hotspots log in (through the lossy network, retrying); uplinks log in on their own.
//   8–128 s    chaos: talkers (half the hotspots) make overlapping calls (some without
//              terminator); loss, duplication, reordering and jitter on every datagram; 3–6
//              server-to-server connections cut for 3–20 s and mended (all cuts end by 123 s).
//   128–168 s  settle: no faults; uplinks that went down log in again, hotspots re-login.
//   168 s–     clean: no faults, fixed delays, one call at a time, each after every slot and lane
//              has been idle for longer than the group hang time: the checker's "exactly once".

import { FBP_HOP_LIMIT, drawTopology, fbpLinksAvailable, type Shape, type Topology } from './mesh-topology.js';
import { isLocalTg, MeshChecker } from './mesh-checker.js';
import { MeshWorld, NO_FAULTS, type Faults, type Hotspot } from './mesh-world.js';
import { SimRandom } from './sim-world.js';

export const CHAOS: Faults = { loss: 0.03, duplication: 0.02, reordering: 0.02, jitterMs: 8 };
const CHAOS_START = 8_000;
const CHAOS_END = 128_000;
const CLEAN_START = 168_000;
const CLEAN_CALLS = 12;
/** Between clean calls: more than the group hang time (5 s) after the last packet anywhere. */
const CLEAN_GAP_MS = 6_500;

export interface MeshReport {
  seed: number;
  shape: Shape;
  servers: number;
  hotspots: number;
  links: number;
  fbpLinks: number;
  uplinks: number;
  calls: number;
  cleanCalls: number;
  callsWithoutTerminator: number;
  /** Connections cut, and datagrams the network lost, duplicated, reordered, dropped on a cut. */
  cuts: number;
  lost: number;
  duplicated: number;
  reordered: number;
  cutDrops: number;
  /** At the start of the clean phase, by the wire. */
  hotspotsLoggedIn: number;
  uplinksUp: number;
  /** Frames the servers sent to their hotspots, per server. */
  hotspotFrames: number[];
  /** Clean calls heard on more than one server. */
  cleanCallsAcross: number;
  virtualMs: number;
  wallMs: number;
}

export interface MeshRun {
  world: MeshWorld;
  checker: MeshChecker;
  report: MeshReport;
}

/** `fbp: false` draws the topology as before the core had FBP links (for seeds recorded then). */
export function runMesh(seed: number, o: { shape?: Shape; fbp?: boolean } = {}): MeshRun {
  const started = performance.now();
  const rng = new SimRandom(seed);
  const topology: Topology = drawTopology(rng, { fbp: o.fbp ?? fbpLinksAvailable(), ...(o.shape ? { shape: o.shape } : {}) });
  const checker = new MeshChecker(topology);
  const world = new MeshWorld({ seed, topology, observer: checker });
  const tl = world.timeline;
  let cuts = 0;
  let chaosCalls = 0;
  let noTerminator = 0;

  for (const h of world.hotspots) tl.at(rng.int(0, 3_000), () => h.login());

  // Chaos: faults on, talkers (a third of the hotspots) calling over each other.
  tl.at(CHAOS_START, () => (world.net.faults = CHAOS));
  const free = (): Hotspot[] => world.hotspots.filter((h) => h.state === 'connected' && !h.talking);
  const talker = (at: number): void =>
    tl.at(at, () => {
      if (world.now >= CHAOS_END - 5_000) return;
      const cs = free();
      if (cs.length === 0) return talker(world.now + 500);
      const h = rng.pick(cs);
      const slot: 1 | 2 = rng.chance(0.5) ? 1 : 2;
      const tg = rng.pick(slot === 1 ? h.spec.ts1 : h.spec.ts2);
      const dropTerminator = rng.chance(0.08);
      chaosCalls++;
      if (dropTerminator) noTerminator++;
      world.call(h, slot, tg, rng.int(1, 12), { clean: false, dropTerminator }, () => talker(world.now + rng.int(200, 2_500)));
    });
  const talkers = Math.max(2, Math.ceil(world.hotspots.length / 2));
  for (let i = 0; i < talkers; i++) talker(CHAOS_START + i * 300);

  // Connections between servers fail (everything dropped both ways) and recover.
  const pairs = topology.edges.map((e) => (e.kind === 'link' ? [e.a, e.b] : [e.client, e.master]).sort((a, b) => a - b) as [number, number]);
  const failures = rng.int(3, 6);
  for (let i = 0; i < failures; i++) {
    const [a, b] = rng.pick(pairs);
    const from = rng.int(CHAOS_START + 2_000, CHAOS_END - 25_000);
    const to = from + rng.int(3_000, 20_000);
    tl.at(from, () => {
      cuts++;
      world.net.cut.add(`${a}-${b}`);
    });
    tl.at(to, () => world.net.cut.delete(`${a}-${b}`));
  }
  tl.at(CHAOS_END, () => (world.net.faults = NO_FAULTS));

  // Clean phase: one call at a time.
  let hotspotsLoggedIn = 0;
  let uplinksUp = 0;
  const clean: { stream: number; count: number }[] = [];
  const cleanCall = (left: number): void => {
    if (left === 0) return;
    const cs = world.hotspots.filter((h) => h.state === 'connected');
    const h = rng.pick(cs);
    // Mostly a wide-area talkgroup; now and then a local one (it must stay on its server).
    const choices: [1 | 2, number][] = [...h.spec.ts1.map((tg): [1 | 2, number] => [1, tg]), ...h.spec.ts2.map((tg): [1 | 2, number] => [2, tg])];
    const wide = choices.filter(([, tg]) => !isLocalTg(tg));
    const [slot, tg] = wide.length > 0 && !rng.chance(0.15) ? rng.pick(wide) : rng.pick(choices);
    const rec = world.call(h, slot, tg, rng.int(2, 6), { clean: true, dropTerminator: false }, () => tl.at(world.now + CLEAN_GAP_MS, () => cleanCall(left - 1)));
    clean.push({ stream: rec.stream, count: rec.count });
    checker.cleanCall(rec.stream, rec.count);
  };
  tl.at(CLEAN_START, () => {
    checker.phase = 'clean';
    hotspotsLoggedIn = world.hotspots.filter((h) => checker.loggedIn(h.spec.server, h.endpoint)).length;
    for (const n of world.nodes) n.sockets.forEach((s, k) => s.role.kind === 'uplink' && checker.uplinkIsUp(n.index, k) && uplinksUp++);
    cleanCall(CLEAN_CALLS);
  });

  // Long enough for the clean calls (each at most 6 superframes, 2.6 s, then the gap), then drain.
  const end = CLEAN_START + CLEAN_CALLS * (3_000 + CLEAN_GAP_MS) + 10_000;
  world.runUntil(end);
  checker.finish();

  const report: MeshReport = {
    seed,
    shape: topology.shape,
    servers: topology.n,
    hotspots: world.hotspots.length,
    links: topology.edges.filter((e) => e.kind === 'link').length,
    fbpLinks: topology.edges.filter((e) => e.kind === 'link' && e.protocol === 'fbp').length,
    uplinks: topology.edges.filter((e) => e.kind === 'uplink').length,
    calls: chaosCalls + clean.length,
    cleanCalls: clean.length,
    callsWithoutTerminator: noTerminator,
    cuts,
    lost: world.net.r.lost,
    duplicated: world.net.r.duplicated,
    reordered: world.net.r.reordered,
    cutDrops: world.net.r.cutDrops,
    hotspotsLoggedIn,
    uplinksUp,
    hotspotFrames: checker.stats.hotspotFrames,
    cleanCallsAcross: clean.filter((c) => checker.reached(c.stream).length > 1).length,
    virtualMs: world.now,
    wallMs: Math.round(performance.now() - started),
  };
  return { world, checker, report };
}

export { FBP_HOP_LIMIT };
