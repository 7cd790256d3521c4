// Topologies for the mesh simulation (test/sim/mesh.test.ts): N dmrhub cores joined by
// server-to-server connections, drawn from a seed, and turned into each core's config.
//
// A connection is either
//  - a link: a pair of [[links]] entries pointing at each other (same passphrase, network_id = the
//    other's server ID, the same talkgroup list at both ends), with a `protocol`: 'openbridge'
//    (OpenBridge v1, in the core today) or 'fbp' (FreeDMR bridge protocol, being added); or
//  - an uplink: server `client` logs in to server `master`'s HBP socket as a peer, its options
//    choosing the talkgroups it carries on each slot.
//
// ── FBP ──────────────────────────────────────────────────────────────────────────────────────
// FBP links are only drawn when `fbpLinksAvailable()` says the core speaks FBP on a link whose
// config says `protocol: 'fbp'` (a runtime probe: today's LinkConfig has no such field, the core
// ignores it and sends OpenBridge v1 frames, so the probe is false and nothing FBP is drawn).
// `linkConfig()` is the one place that writes the FBP-specific fields of a LinkConfig; when the
// real type lands, fill in whatever else it needs there (marked FBP below).

import { createCore, DEFAULT_CORE_CONFIG, type CoreConfig, type LinkConfig, type UplinkConfig } from '../../src/core/index.js';
import { encodeDmrd, encodeRptc, encodeRptk, encodeRptl, encodeRpto, parseMasterReply } from '../../src/protocol/index.js';
import { loginDigest, sha256 } from './crypto.js';
import { SimRandom } from './sim-world.js';

export type LinkProtocol = 'openbridge' | 'fbp';

/** FreeDMR's hop limit for FBP (a DMRE is dropped past it). */
export const FBP_HOP_LIMIT = 10;

export type Shape = 'line' | 'star' | 'triangle' | 'ring' | 'long-line';
/** The shapes that count as cycles for "each kind seen". */
export const CYCLES: readonly Shape[] = ['triangle', 'ring'];

export interface LinkEdge {
  kind: 'link';
  a: number;
  b: number;
  protocol: LinkProtocol;
  /** Carried both ways; empty = every talkgroup that is not local or prohibited. */
  talkgroups: number[];
}

export interface UplinkEdge {
  kind: 'uplink';
  client: number;
  master: number;
  ts1: number[];
  ts2: number[];
}

export type Edge = LinkEdge | UplinkEdge;

export interface HotspotSpec {
  server: number;
  peerId: number;
  address: string;
  port: number;
  /** Static talkgroups by slot (disjoint), sent as options. */
  ts1: number[];
  ts2: number[];
}

export interface Topology {
  shape: Shape;
  n: number;
  edges: Edge[];
  hotspots: HotspotSpec[];
}

/** Talkgroups the simulated hotspots use: wide-area ones and two local ones (default 1–79). */
export const WIDE_TGS = [91, 235, 2350, 3100, 4321] as const;
export const LOCAL_TGS = [8, 70] as const;

export const HBP_PORT = 62031;
export const serverAddress = (i: number): string => `10.0.0.${i + 1}`;
export const serverId = (i: number): number => 2001 + i;
export const hbpPassphrase = (i: number): string => `mesh-hbp-${i}`;
export const uplinkPeerId = (client: number, master: number): number => 9_000_000 + client * 100 + master;

function pickSome(rng: SimRandom, from: readonly number[], lo: number, hi: number): number[] {
  const pool = [...from];
  const out: number[] = [];
  const n = rng.int(lo, Math.min(hi, pool.length));
  while (out.length < n) out.push(pool.splice(rng.int(0, pool.length - 1), 1)[0]!);
  return out.sort((x, y) => x - y);
}

/** Two disjoint, non-empty talkgroup lists drawn from `pool`. */
function slotLists(rng: SimRandom, pool: readonly number[], most: number): [number[], number[]] {
  const all = pickSome(rng, pool, 2, most);
  const cut = rng.int(1, all.length - 1);
  return [all.slice(0, cut), all.slice(cut)];
}

export interface DrawOptions {
  fbp: boolean;
  /** Force a shape (else drawn). */
  shape?: Shape;
}

/** A random topology from `rng`. */
export function drawTopology(rng: SimRandom, o: DrawOptions): Topology {
  const shapes: Shape[] = ['line', 'star', 'triangle', 'ring'];
  // FBP: lines longer than the hop limit (only with FBP links, which may carry a call that far).
  if (o.fbp) shapes.push('long-line');
  const shape = o.shape ?? rng.pick(shapes);
  const n = shape === 'triangle' ? 3 : shape === 'long-line' ? FBP_HOP_LIMIT + 2 : shape === 'line' ? rng.int(3, 6) : rng.int(4, 8);
  const pairs: [number, number][] = [];
  if (shape === 'star') for (let i = 1; i < n; i++) pairs.push([0, i]);
  else {
    for (let i = 0; i + 1 < n; i++) pairs.push([i, i + 1]);
    if (shape === 'triangle' || shape === 'ring') pairs.push([n - 1, 0]);
  }
  const edges: Edge[] = pairs.map(([a, b]): Edge => {
    if (shape !== 'long-line' && rng.chance(0.35)) {
      const up = rng.chance(0.5);
      const [ts1, ts2] = slotLists(rng, WIDE_TGS, 4);
      return { kind: 'uplink', client: up ? a : b, master: up ? b : a, ts1, ts2 };
    }
    const protocol: LinkProtocol = o.fbp && (shape === 'long-line' || rng.chance(0.5)) ? 'fbp' : 'openbridge';
    const talkgroups = rng.chance(0.7) ? [] : pickSome(rng, WIDE_TGS, 2, 4);
    return { kind: 'link', a, b, protocol, talkgroups };
  });
  const hotspots: HotspotSpec[] = [];
  for (let s = 0; s < n; s++) {
    const count = rng.int(2, 4);
    for (let k = 0; k < count; k++) {
      // Mostly wide-area talkgroups; a local one now and then.
      const pool = rng.chance(0.4) ? [...WIDE_TGS, ...LOCAL_TGS] : [...WIDE_TGS];
      const [ts1, ts2] = slotLists(rng, pool, 4);
      hotspots.push({ server: s, peerId: 3_100_000 + s * 100 + k, address: `10.${s + 1}.0.${k + 1}`, port: 40_000 + k, ts1, ts2 });
    }
  }
  return { shape, n, edges, hotspots };
}

// ── sockets and configs ──────────────────────────────────────────────────────────────────────

export type SocketRole = { kind: 'hbp' } | { kind: 'link'; edge: LinkEdge; peer: number } | { kind: 'uplink'; edge: UplinkEdge; master: number };

export interface ServerSockets {
  /** By socket number: its local port and what it is for. */
  sockets: { port: number; role: SocketRole }[];
}

/** The shell's socket numbering: 0 HBP, then the links in config order, then the uplinks. */
export function socketsOf(t: Topology, i: number): ServerSockets {
  const sockets: ServerSockets['sockets'] = [{ port: HBP_PORT, role: { kind: 'hbp' } }];
  t.edges.forEach((e, k) => {
    if (e.kind === 'link' && (e.a === i || e.b === i)) sockets.push({ port: 62_100 + k, role: { kind: 'link', edge: e, peer: e.a === i ? e.b : e.a } });
  });
  t.edges.forEach((e, k) => {
    if (e.kind === 'uplink' && e.client === i) sockets.push({ port: 62_300 + k, role: { kind: 'uplink', edge: e, master: e.master } });
  });
  return { sockets };
}

/**
 * One end of a link. FBP: this is where a `protocol: 'fbp'` LinkConfig gets its extra fields (hop
 * limit, version, follow_address…) once the type has them; today the spread only adds `protocol`.
 */
export function linkConfig(base: LinkConfig, protocol: LinkProtocol): LinkConfig {
  if (protocol === 'openbridge') return base;
  const withProtocol = { ...base, protocol };
  return withProtocol as LinkConfig;
}

export function uplinkConfig(name: string, socket: number, client: number, master: number, ts1: number[], ts2: number[]): UplinkConfig {
  return {
    name,
    socket,
    address: serverAddress(master),
    port: HBP_PORT,
    passphrase: hbpPassphrase(master),
    peerId: uplinkPeerId(client, master),
    rptc: {
      callsign: `MESH${client}`,
      rxFreq: '000000000',
      txFreq: '000000000',
      txPower: '00',
      colorCode: '01',
      latitude: '00.0000',
      longitude: '000.0000',
      height: '000',
      location: 'sim',
      description: 'mesh uplink',
      slots: '3',
      url: '',
      softwareId: 'dmrhub',
      packageId: 'sim',
    },
    options: `TS1=${ts1.join(',')};TS2=${ts2.join(',')}`,
    ts1: null,
    ts2: null,
    loose: false,
    xlxModule: 0,
    pingIntervalMs: 5000,
    maxMissedPongs: 3,
    retryMinMs: 1000,
    retryMaxMs: 4000,
  };
}

/**
 * Server `i`'s core config. User activation and single mode are off so that what a hotspot hears is
 * a function of the options the test sent (the checker's expectations need no model of either).
 */
export function serverConfig(t: Topology, i: number): CoreConfig {
  const c = structuredClone(DEFAULT_CORE_CONFIG);
  c.serverId = serverId(i);
  c.hbp.passphrase = hbpPassphrase(i);
  c.routing.userActivation = false;
  c.routing.singleMode = false;
  c.prompts.voiceIdent = false;
  // The invariant checker follows every stream by its call.start and call.end lines.
  c.limits.streamNoticesPerMinute = 0;
  const { sockets } = socketsOf(t, i);
  sockets.forEach(({ role }, socket) => {
    if (role.kind === 'link') {
      const e = role.edge;
      const peer = role.peer;
      const farSocket = socketsOf(t, peer).sockets.findIndex((s) => s.role.kind === 'link' && s.role.edge === e);
      const base: LinkConfig = {
        name: `to-${peer}`,
        socket,
        address: serverAddress(peer),
        port: socketsOf(t, peer).sockets[farSocket]!.port,
        passphrase: `mesh-link-${Math.min(e.a, e.b)}-${Math.max(e.a, e.b)}`,
        networkId: serverId(peer),
        preserveSourcePeer: false,
        checkSource: true,
        talkgroups: [...e.talkgroups],
      };
      c.links.push(linkConfig(base, e.protocol));
    } else if (role.kind === 'uplink') {
      c.uplinks.push(uplinkConfig(`up-${role.master}`, socket, i, role.master, role.edge.ts1, role.edge.ts2));
    }
  });
  return c;
}

// ── FBP feature probe ────────────────────────────────────────────────────────────────────────

let fbpProbe: boolean | null = null;

/**
 * Does the core speak FBP on a link configured with `protocol: 'fbp'`? A core with one such link
 * and one peer gets a call from the peer; FBP is there when what goes out on the link is a DMRE.
 * Today the field is unknown to the core, which sends a 73-byte OpenBridge DMRD: false.
 */
export function fbpLinksAvailable(): boolean {
  if (fbpProbe !== null) return fbpProbe;
  fbpProbe = false;
  try {
    const cfg = structuredClone(DEFAULT_CORE_CONFIG);
    cfg.serverId = 1;
    cfg.links = [
      linkConfig({ name: 'probe', socket: 1, address: '10.9.9.9', port: 62044, passphrase: 'probe', networkId: 2, preserveSourcePeer: false, checkSource: true, talkgroups: [] }, 'fbp'),
    ];
    const core = createCore({ sha256 });
    let salt = 0;
    let acked = 0;
    let dmre = false;
    const sink = {
      send(socket: number, _a: string, _p: number, b: Uint8Array): void {
        if (socket === 0) {
          const r = parseMasterReply(b);
          if (r.ok && r.value.tag === 'RPTACK') {
            salt = r.value.arg;
            acked++;
          }
        } else if (b.length >= 4 && String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) === 'DMRE') dmre = true;
      },
      fanOut(): void {},
      log(): void {},
    };
    core.handle({ kind: 'started', now: 0, seed: 1, config: cfg }, sink);
    const from = (now: number, bytes: Uint8Array): void => core.handle({ kind: 'datagram-received', now, socket: 0, address: '10.9.0.1', port: 1, bytes }, sink);
    from(1, encodeRptl(7));
    from(2, encodeRptk(7, loginDigest(salt, cfg.hbp.passphrase)));
    from(3, encodeRptc({ peerId: 7, callsign: 'P', slots: '4', softwareId: 's', packageId: 's' }));
    from(4, encodeRpto(7, 'TS1=235;TS2=91'));
    if (acked >= 4) from(5, encodeDmrd({ seq: 0, src: 3100001, dst: 235, peerId: 7, slot: 1, frame: 0x21, streamId: 0x1234, payload: new Uint8Array(33) }));
    fbpProbe = dmre;
  } catch {
    fbpProbe = false;
  }
  return fbpProbe;
}
