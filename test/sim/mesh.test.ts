// A seeded mesh simulation: 3–8 dmrhub cores (up to 12 in an FBP long line) on one virtual network,
// in virtual time, each with a few simulated hotspots (HBP login, static talkgroups by options,
// calls at the DMR rate), joined by OpenBridge v1 links and uplinks (one server logged in to
// another as a peer), and by FBP links once the core has them. Topology (line, star, triangle,
// ring; FBP: a line longer than the hop limit), traffic, per-datagram loss, duplication,
// reordering and delay, and connections failing and recovering mid-run all come from the seed.
// A run is chaos first, then a settle period and a clean phase (no faults, one call at a time);
// see test/support/mesh-run.ts for the schedule.
//
// The checker (test/support/mesh-checker.ts) keeps its own books from the wire and from what the
// hotspots sent; it never asks a core. Its rules and their codes are listed at the top of that
// file: no packet twice to one destination, one ingress per stream and server (no interleaving of
// two paths), one live stream per slot, nothing from a v1 link onto a link, nothing from one
// uplink onto another, local talkgroups never off their server, carried/subscribed talkgroups
// only, nothing of a stream after its end; in the clean phase every destination the routing rules
// require gets every packet of every call, from the first copy to reach each server; FBP: the hop
// limit and quenches that do not outlive their stream.
//
// Seeds: every run prints `mesh seed: <n>`. Replay one exactly with
//   MESH_SEED=<n> npx vitest run test/sim/mesh.test.ts      (SIM_SEED=<n> works too)
// Soak (bugs hunting, slow): MESH_RUNS=50 runs 50 seeds from MESH_SEED (or a fixed base) on.
//
// FBP: fbpLinksAvailable() probes the core; when it speaks FBP on `protocol: 'fbp'` links, FBP
// links and long lines are drawn, and the FBP-specific assertions below (marked FBP) switch on.

import { describe, expect, it } from 'vitest';
import { encodeRptack, encodeRptc, encodeRptk, encodeRpto } from '../../src/protocol/index.js';
import { MeshChecker } from '../support/mesh-checker.js';
import { runMesh, type MeshRun } from '../support/mesh-run.js';
import { CYCLES, fbpLinksAvailable, serverAddress, socketsOf, type Shape, type Topology } from '../support/mesh-topology.js';
import type { Cause } from '../support/mesh-world.js';
import { callPackets } from '../support/sim-world.js';

// A triangle (two links, an uplink), a line of six (links and uplinks), a star of seven (both).
// The third-but-last a long line of FBP links (12 servers, past the hop limit).
const SEEDS = [0x3e5b01, 0x3e5b05, 0x3e5b09, 0x3e5b00];

function envSeed(): number | null {
  const raw = process.env['MESH_SEED'] ?? process.env['SIM_SEED'];
  if (raw === undefined || raw === '') return null;
  if (!/^[0-9]+$/.test(raw)) throw new Error(`MESH_SEED / SIM_SEED must be a decimal integer, got ${raw}`);
  return Number(raw) >>> 0;
}

function simulate(seed: number, o: { fbp?: boolean } = {}): MeshRun {
  console.log(`mesh seed: ${seed}${o.fbp === false ? ' (drawn without FBP links)' : ''}`);
  const run = runMesh(seed, o);
  console.log(`mesh report: ${JSON.stringify(run.report)}`);
  return run;
}

/** Everything a run must show, whatever its seed. */
function checkRun({ world, checker, report: r }: MeshRun): void {
  const st = checker.stats;
  expect(checker.violations(), `seed ${r.seed}`).toEqual([]);

  // The run had the intended shape: calls everywhere, traffic on every connection kind present.
  expect(r.servers).toBeGreaterThanOrEqual(3);
  expect(r.calls).toBeGreaterThan(r.servers * 15);
  expect(r.callsWithoutTerminator).toBeGreaterThan(0);
  for (const [i, n] of r.hotspotFrames.entries()) expect(n, `frames to the hotspots of server ${i}`).toBeGreaterThan(200);
  if (r.links - r.fbpLinks > 0) expect(st.linkFrames).toBeGreaterThan(500);
  if (r.uplinks > 0) {
    expect(st.uplinkFrames).toBeGreaterThan(100);
    expect(st.clientFrames).toBeGreaterThan(100);
  }
  // Faults were injected: the network lost, duplicated and reordered datagrams, connections were
  // cut (and datagrams dropped on them), and the cores saw duplicates.
  expect(r.lost).toBeGreaterThan(100);
  expect(r.duplicated).toBeGreaterThan(50);
  expect(r.reordered).toBeGreaterThan(50);
  expect(r.cuts).toBeGreaterThanOrEqual(3);
  expect(r.cutDrops).toBeGreaterThan(0);
  expect(world.nodes.reduce((n, s) => n + s.stat('dmrd.duplicate'), 0)).toBeGreaterThan(0);

  // The clean phase began with everyone back (by the wire) and checked something real: calls that
  // crossed servers, every required destination complete.
  expect(r.hotspotsLoggedIn).toBe(r.hotspots);
  expect(r.uplinksUp).toBe(r.uplinks);
  expect(r.cleanCalls).toBe(12);
  expect(st.cleanCalls).toBe(12);
  expect(r.cleanCallsAcross).toBeGreaterThan(0);
  expect(st.cleanRequired).toBeGreaterThan(12);
  expect(st.cleanComplete).toBe(st.cleanRequired);
  expect(st.cleanHotspotsComplete).toBeGreaterThan(0);

  // FBP: once links speak it, frames crossed FBP links and the hop count was watched.
  if (r.fbpLinks > 0) {
    expect(st.dmreFrames).toBeGreaterThan(0);
    expect(st.maxLineage).toBeGreaterThan(0);
  }

  // No core has a stream left at the end.
  for (const n of world.nodes) expect(n.stat('live-streams'), `live streams on server ${n.index}`).toBe(0);
}

// The whole file runs in the fast tier only (the slow tier includes test/sim for simulation.test.ts).
const slowTier = process.env['TEST_TIER'] === 'slow';

describe.skipIf(slowTier)('mesh simulation', () => {
  const one = envSeed();
  const runs = Number(process.env['MESH_RUNS'] ?? '0');

  if (runs > 0) {
    const base = one ?? 0x3e5b00;
    it(`soak: ${runs} seeds from ${base}`, { timeout: runs * 20_000 }, () => {
      const shapes = new Set<Shape>();
      const failed: number[] = [];
      for (let i = 0; i < runs; i++) {
        const run = simulate(base + i);
        shapes.add(run.report.shape);
        try {
          checkRun(run);
        } catch (e) {
          failed.push(base + i);
          console.log(`mesh seed ${base + i} failed: ${String(e).slice(0, 2000)}`);
        }
      }
      expect(failed, 'failing seeds (replay each with MESH_SEED)').toEqual([]);
      // Enough seeds draw every shape (about one in four each).
      if (runs >= 20) {
        for (const s of ['line', 'star'] as const) expect(shapes.has(s), `shapes: ${[...shapes]}`).toBe(true);
        expect(CYCLES.some((c) => shapes.has(c)), `shapes: ${[...shapes]}`).toBe(true);
      }
    });
    return;
  }

  if (one !== null) {
    it(`keeps the mesh invariants (seed ${one})`, () => checkRun(simulate(one)));
    return;
  }

  const shapes = new Set<Shape>();
  const kinds = new Set<string>();
  for (const seed of SEEDS) {
    it(`keeps the mesh invariants (seed ${seed})`, () => {
      const run = simulate(seed);
      shapes.add(run.report.shape);
      if (run.report.links > 0) kinds.add('link');
      if (run.report.uplinks > 0) kinds.add('uplink');
      checkRun(run);
    });
  }

  it('saw a line, a star, a cycle and a line of FBP links past the hop limit, links and uplinks, across its seeds', () => {
    expect([...shapes].sort()).toEqual(expect.arrayContaining(['line', 'star', 'long-line']));
    expect(CYCLES.some((c) => shapes.has(c)), `shapes: ${[...shapes]}`).toBe(true);
    expect([...kinds].sort()).toEqual(['link', 'uplink']);
  });

  it('probes the core for FBP links, which it speaks: FBP topologies and checks are on', () => {
    expect(fbpLinksAvailable()).toBe(true);
  });
});

// Found by this simulation, and fixed: the uplink login cannot tell the master's RPTACK to RPTC
// from its RPTACK to RPTO (both carry only the peer ID). Seed 147 (a ring of four, server 3
// uplinked to server 0): at 95.7 s server 3 logs in again; the network duplicates its RPTC and
// loses its RPTO; the master's second RPTACK (to the duplicate RPTC) arrives while the uplink waits
// for RPTO's, and it went up while the master never saw the options, so the clean phase's calls
// from servers 2 and 3 on TG 3100 never reached server 0. The uplink now sends its options once
// more with the first ping after a login.
describe.skipIf(slowTier)('regressions', () => {
  it('seed 147: an uplink whose RPTO was lost while a duplicated RPTC answer took it up still gets its options to the master', () => {
    // Drawn as before the core had FBP links, the topology the bug was found in.
    const run = simulate(147, { fbp: false });
    expect(run.report.shape).toBe('ring');
    expect(run.checker.count('missed')).toBe(0);
    checkRun(run);
  });
});

describe.skipIf(slowTier)('the mesh checker', () => {
  it('reports each kind of violation it claims to check', () => {
    // Three servers by hand: links 0–1 and 1–2, and server 1 uplinked to both 0 and 2. The checker
    // is fed wire events directly; no core is involved.
    const topology: Topology = {
      shape: 'line',
      n: 3,
      edges: [
        { kind: 'link', a: 0, b: 1, protocol: 'openbridge', talkgroups: [] },
        { kind: 'link', a: 1, b: 2, protocol: 'openbridge', talkgroups: [] },
        { kind: 'uplink', client: 1, master: 0, ts1: [91], ts2: [235] },
        { kind: 'uplink', client: 1, master: 2, ts1: [91], ts2: [235] },
      ],
      hotspots: [
        { server: 0, peerId: 3100001, address: '10.1.0.1', port: 40000, ts1: [91], ts2: [8] },
        { server: 1, peerId: 3100101, address: '10.2.0.1', port: 40000, ts1: [91], ts2: [235] },
      ],
    };
    const c = new MeshChecker(topology);
    const sock = (i: number): string[] => socketsOf(topology, i).sockets.map((s) => `${serverAddress(i)}:${s.port}`);
    const [s0, s1, s2] = [sock(0), sock(1), sock(2)];
    const h0 = '10.1.0.1:40000';
    const h1 = '10.2.0.1:40000';
    let now = 0;
    /** Datagram `b` reaches server `node` on `socket` from `from`; returns it as the cause of what follows. */
    const arrive = (node: number, socket: number, from: string, b: Uint8Array): Cause => {
      c.arrived(++now, node, socket, from, b);
      return { node, socket, from, bytes: b, at: now };
    };
    const send = (node: number, socket: number, to: string, b: Uint8Array, cause: Cause): void => c.sent(now, node, socket, sock(node)[socket]!, to, b, cause);
    const login = (node: number, who: string, peerId: number, options: string): void => {
      for (const m of [encodeRptk(peerId, new Uint8Array(32)), encodeRptc({ peerId }), encodeRpto(peerId, options)]) send(node, 0, who, encodeRptack(peerId), arrive(node, 0, who, m));
    };
    login(0, h0, 3100001, 'TS1=91;TS2=8');
    login(1, h1, 3100101, 'TS1=91;TS2=235');
    // Server 1's uplinks to 0 and 2 are up (RPTO sent, RPTACK back).
    for (const [socket, master] of [[3, s0[0]!], [4, s2[0]!]] as const) {
      c.sent(now, 1, socket, s1[socket]!, master, encodeRpto(9_000_100, 'TS1=91;TS2=235'), null);
      arrive(1, socket, master, encodeRptack(9_000_100));
    }
    const codes = (): string[] => c.violations().filter((v) => v.startsWith('[')).map((v) => v.slice(1, v.indexOf(']')));
    const obp = (p: Uint8Array): Uint8Array => {
      const f = new Uint8Array(73);
      f.set(p.subarray(0, 53));
      return f;
    };
    const call = (stream: number, tg: number, slot: 1 | 2, from = h0, fromServer = 0): Uint8Array[] => {
      const ps = callPackets({ peerId: 1, src: 3200001, tg, slot, streamId: stream, superframes: 1, tag: stream });
      for (const p of ps) c.sent(now, null, 0, from, `${serverAddress(fromServer)}:62031`, p, null);
      return ps;
    };

    // A call from hotspot 0 on TG 91: to the link and on to hotspot 1 (correct).
    const a = call(0xa, 91, 1);
    const inA = arrive(0, 0, h0, a[0]!);
    send(0, 1, s1[1]!, obp(a[0]!), inA);
    const linkA = arrive(1, 1, s0[1]!, obp(a[0]!));
    send(1, 0, h1, a[0]!, linkA);
    expect(c.violations()).toEqual([]);
    // Server 1 sends it again to hotspot 1, and on its other link (transit), and back to 0.
    send(1, 0, h1, a[0]!, linkA);
    send(1, 2, s2[1]!, obp(a[0]!), linkA);
    send(1, 1, s0[1]!, obp(a[0]!), linkA);
    expect(codes()).toEqual(['duplicate', 'link-transit', 'echo-back', 'link-transit']);
    // Frame 1 of the same call reaches server 1 from its uplink to 0 too and is forwarded: two paths.
    send(1, 0, h1, a[1]!, arrive(1, 3, s0[0]!, a[1]!));
    expect(codes()).toContain('two-paths');

    // A call from server 0's master side onto server 1's other uplink: uplink to uplink.
    const b = call(0xb, 235, 2);
    send(1, 4, s2[0]!, b[0]!, arrive(1, 3, s0[0]!, b[0]!));
    expect(codes()).toContain('uplink-transit');

    // A local talkgroup (8) on a link, and a talkgroup hotspot 1 has not asked for (3100).
    const l = call(0xc, 8, 2);
    send(0, 1, s1[1]!, obp(l[0]!), arrive(0, 0, h0, l[0]!));
    expect(codes()).toContain('local-left');
    const n = call(0xd, 3100, 1);
    send(1, 0, h1, n[0]!, arrive(1, 1, s0[1]!, obp(n[0]!)));
    expect(codes()).toContain('not-subscribed');

    // Two streams interleaved on hotspot 1's TS1; a frame of a stream after its terminator.
    const e = call(0xe, 91, 1);
    const f = call(0xf, 91, 1);
    send(1, 0, h1, e[0]!, arrive(1, 1, s0[1]!, obp(e[0]!)));
    send(1, 0, h1, f[0]!, arrive(1, 1, s0[1]!, obp(f[0]!)));
    expect(codes()).toContain('collision');
    const g = call(0x10, 235, 2);
    const last = g[g.length - 1]!;
    send(1, 0, h1, last, arrive(1, 1, s0[1]!, obp(last)));
    send(1, 0, h1, g[1]!, arrive(1, 1, s0[1]!, obp(g[1]!)));
    expect(codes()).toContain('after-end');

    // Clean phase: a call that server 0 never sends on its link (required: TG 91 is carried).
    c.phase = 'clean';
    const m = call(0x11, 91, 1);
    c.cleanCall(0x11, m.length);
    for (const p of m) arrive(0, 0, h0, p);
    c.finish();
    expect(codes()).toContain('missed');
    expect(c.stats.cleanRequired).toBeGreaterThan(0);
  });
});
