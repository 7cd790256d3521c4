// Property tests for OpenBridge v1 links and local talkgroups (fast-check). Random sequences of
// peer logins (statics on local, prohibited and ordinary talkgroups, DIAL= reflectors), peer calls
// (group calls on any talkgroup and slot, TG 9 dial-lane calls, private dial commands), link calls
// (valid frames and frames with a bad MAC, from the wrong address or port, with the wrong network
// ID, on TS2, as unit calls, on local or prohibited talkgroups), calls running side by side with
// shared or reused stream IDs (a call on another call's stream ID with its talker and talkgroup is
// a loop), time passing, logouts, and config changes between and during calls (local talkgroups,
// prohibited talkgroups, a link's talkgroup list). After every event:
//  (a) every send on a link socket goes to that link's far end, is 73 bytes, TS1, signed with that
//      link's key, carries this server's ID in bytes 11-14, and its talkgroup is one the link
//      carries under the config in force (not local, not prohibited, on the list if there is one);
//  (b) nothing that came in from a link goes out on a link: a link send happens only while a
//      peer's DMRD is handled, carries that packet's stream (and its header fields), and its stream
//      ID was never forwarded from a link;
//  (c) an inbound link frame that fails a check (bad MAC, wrong source, wrong network ID, TS2 or
//      unit call, local, prohibited or unlisted talkgroup) produces no send at all;
//  (d) no stream ID is forwarded (to a peer or a link) from two different sources while the core
//      still remembers it (streamIdMemoryMs);
//  (e) a link's frames reach only (peer, slot)s that are members of the talkgroup's conference,
//      and each as the talkgroup that member uses (TG 9 on a dial lane).
// The rules the checks apply (isLocal, notCarried, refusal below) are this file's own reading of
// the spec, not the core's functions. (a) and (c) hold for calls already live when a config
// change stops their talkgroup crossing.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CoreConfig, LinkConfig } from '../../src/core/index.js';
import { encodeRptcl, encodeRpto, encodeRptping, obpKey, OBP, readU24, readU32, signObp, verifyObp, writeU32 } from '../../src/protocol/index.js';
import { hmacSha1 } from '../support/crypto.js';
import { testConfig, World, type Sent } from '../support/harness.js';
import { callPackets } from '../support/sim-world.js';

const SERVER_ID = 9991;
const PEERS = [1001, 1002, 1003, 1004];
const peerPort = (id: number): number => 4000 + id;
const PEER_ADDRESS = '127.0.0.1';

const LINKS: LinkConfig[] = [
  { name: 'west', socket: 1, address: '10.9.0.1', port: 62044, passphrase: 'passw0rd', networkId: 9990, preserveSourcePeer: false, checkSource: true, talkgroups: [] },
  {
    name: 'east',
    socket: 2,
    address: '10.9.0.2',
    port: 62045,
    // Longer than the 20-byte key: only its first 20 bytes count.
    passphrase: 'a passphrase longer than twenty bytes',
    networkId: 7777,
    preserveSourcePeer: false,
    checkSource: true,
    talkgroups: [2350, 91, 70],
  },
];
const DEFAULT_LOCAL: [number, number][] = [
  [1, 79],
  [4000, 4000],
  [5000, 5000],
  [9990, 9999],
];

// Talkgroups: local by default (8, 70, 9990 echo), prohibited (666, and 3100 in some configs),
// ordinary ones (91, 2350, 3100), 2351 (made local by some configs), 4321 (nobody listens), TG 9.
const STATIC_TGS = [8, 70, 91, 666, 2350, 2351, 3100];
const PEER_TGS = [8, 70, 91, 666, 2350, 2351, 3100, 9, 9, 9990];
const DIAL_NUMBERS = [91, 2350, 3100, 2351, 70, 666, 4000, 5000];
const LINK_TGS = [8, 70, 91, 666, 2350, 2351, 3100, 4321, 9, 9990, 4000];

const LOCAL_CHOICES: [number, number][][] = [DEFAULT_LOCAL, [...DEFAULT_LOCAL, [2351, 2351]], [...DEFAULT_LOCAL, [2350, 2351]], [[1, 99]], []];
const PROHIBITED_CHOICES: number[][] = [[666], [666, 3100], []];
const LIST_CHOICES: number[][] = [[], [2350], [91, 3100], [2351, 70, 9], [2350, 91, 70]];

type LinkFault = 'ok' | 'bad-mac' | 'wrong-key' | 'wrong-address' | 'wrong-port' | 'wrong-net' | 'ts2' | 'unit' | 'lost';

/**
 * How a call picks its stream ID: a new one, one used before by anyone, or a sibling call's (an
 * earlier call of the same step); a call on a sibling's stream ID also takes its talker and
 * talkgroup, and its sequence numbers `seqShift` ahead (a loop: the same call coming back).
 */
type StreamChoice = { k: 'fresh'; id: number } | { k: 'seen'; i: number } | { k: 'sibling'; j: number };

type Call =
  | { from: 'peer'; peer: number; slot: 1 | 2; tg: number; unit: boolean; superframes: number; terminator: boolean; stream: StreamChoice; seqShift: number }
  | { from: 'link'; link: number; tg: number; superframes: number; terminator: boolean; stream: StreamChoice; seqShift: number; callFault: LinkFault; faults: LinkFault[] };

type Step =
  | { k: 'login'; peer: number; options: string }
  | { k: 'options'; peer: number; options: string }
  | { k: 'logout'; peer: number }
  | { k: 'calls'; calls: Call[]; gap: number; config: { at: number; change: ConfigChange } | null }
  | { k: 'wait'; ms: number; ping: boolean }
  | ({ k: 'config' } & ConfigChange);

/** A config-applied event: indexes into LOCAL_CHOICES, PROHIBITED_CHOICES and LIST_CHOICES (per link). */
interface ConfigChange {
  local: number;
  prohibited: number;
  lists: [number, number];
}

const peerArb = fc.constantFrom(...PEERS);
const slotArb = fc.constantFrom<1 | 2>(1, 2);

const optionsArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.uniqueArray(fc.constantFrom(...STATIC_TGS), { maxLength: 3 }),
    fc.uniqueArray(fc.constantFrom(...STATIC_TGS), { maxLength: 3 }),
    fc.option(fc.constantFrom(91, 2350, 3100, 70, 666), { nil: null }),
  )
  .map(([a, b, dial]) => `TS1=${a.join(',')};TS2=${b.join(',')}${dial !== null ? `;DIAL=${dial}` : ''}`);

const streamArb: fc.Arbitrary<StreamChoice> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 0xffffffff }).map((id) => ({ k: 'fresh' as const, id })) },
  { weight: 2, arbitrary: fc.nat({ max: 50 }).map((i) => ({ k: 'seen' as const, i })) },
  { weight: 2, arbitrary: fc.nat({ max: 2 }).map((j) => ({ k: 'sibling' as const, j })) },
);

const faultArb: fc.Arbitrary<LinkFault> = fc.oneof(
  { weight: 20, arbitrary: fc.constant<LinkFault>('ok') },
  { weight: 1, arbitrary: fc.constantFrom<LinkFault>('bad-mac', 'wrong-key', 'wrong-address', 'wrong-port', 'wrong-net', 'ts2', 'unit', 'lost') },
);
const callFaultArb: fc.Arbitrary<LinkFault> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<LinkFault>('ok') },
  { weight: 1, arbitrary: fc.constantFrom<LinkFault>('bad-mac', 'wrong-key', 'wrong-address', 'wrong-port', 'wrong-net', 'ts2', 'unit') },
);

const peerCallArb: fc.Arbitrary<Call> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      from: fc.constant('peer' as const),
      peer: peerArb,
      slot: slotArb,
      tg: fc.constantFrom(...PEER_TGS),
      unit: fc.constant(false),
      superframes: fc.nat({ max: 4 }),
      terminator: fc.constantFrom(true, true, true, false),
      stream: streamArb,
      seqShift: fc.nat({ max: 3 }),
    }),
  },
  {
    // A dial-a-TG command: a short private call.
    weight: 1,
    arbitrary: fc.record({
      from: fc.constant('peer' as const),
      peer: peerArb,
      slot: fc.constantFrom<1 | 2>(2, 2, 1),
      tg: fc.constantFrom(...DIAL_NUMBERS),
      unit: fc.constant(true),
      superframes: fc.constant(0),
      terminator: fc.constant(true),
      stream: streamArb,
      seqShift: fc.nat({ max: 3 }),
    }),
  },
);

const linkCallArb: fc.Arbitrary<Call> = fc.record({
  from: fc.constant('link' as const),
  link: fc.constantFrom(0, 0, 1),
  tg: fc.constantFrom(...LINK_TGS),
  superframes: fc.nat({ max: 4 }),
  terminator: fc.constantFrom(true, true, true, false),
  stream: streamArb,
  seqShift: fc.nat({ max: 3 }),
  callFault: callFaultArb,
  faults: fc.array(faultArb, { maxLength: 12 }),
});

const callArb = fc.oneof({ weight: 1, arbitrary: peerCallArb }, { weight: 1, arbitrary: linkCallArb });

const configArb: fc.Arbitrary<ConfigChange> = fc.record({
  local: fc.nat({ max: LOCAL_CHOICES.length - 1 }),
  prohibited: fc.nat({ max: PROHIBITED_CHOICES.length - 1 }),
  lists: fc.tuple(fc.nat({ max: LIST_CHOICES.length - 1 }), fc.nat({ max: LIST_CHOICES.length - 1 })),
});

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('login' as const), peer: peerArb, options: optionsArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('options' as const), peer: peerArb, options: optionsArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('logout' as const), peer: peerArb }) },
  {
    weight: 10,
    arbitrary: fc.record({
      k: fc.constant('calls' as const),
      calls: fc.array(callArb, { minLength: 1, maxLength: 3 }),
      gap: fc.constantFrom(0, 60, 400, 1500),
      // A config change while the calls are in progress.
      config: fc.option(fc.record({ at: fc.nat({ max: 2000 }), change: configArb }), { nil: null, freq: 4 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('wait' as const), ms: fc.constantFrom(100, 700, 2500, 6000, 20_000, 65_000), ping: fc.constantFrom(true, true, true, false) }) },
  { weight: 2, arbitrary: configArb.map((c) => ({ k: 'config' as const, ...c })) },
);

function makeConfig(local: [number, number][], prohibited: number[], lists: [number[], number[]]): CoreConfig {
  return testConfig((c) => {
    c.serverId = SERVER_ID;
    c.routing.userActivation = true;
    c.routing.singleMode = true;
    c.routing.userActivationMs = 60_000;
    c.routing.prohibited = [...prohibited];
    c.routing.localTalkgroups = local.map(([a, b]): [number, number] => [a, b]);
    c.timers.groupHangtimeMs = 1000;
    c.links = LINKS.map((l, i) => ({ ...l, talkgroups: [...lists[i]!] }));
  });
}

// ── the checks' own reading of the rules ─────────────────────────────────────────────────────

function isLocal(cfg: CoreConfig, tg: number): boolean {
  return cfg.routing.localTalkgroups.some(([a, b]) => tg >= a && tg <= b);
}

/** Why `link` must not carry `tg` under `cfg`, or null when it may. */
function notCarried(cfg: CoreConfig, link: LinkConfig, tg: number): string | null {
  if (tg === 0 || tg >= 0xffffff) return 'not a talkgroup';
  if (isLocal(cfg, tg)) return 'local';
  if (cfg.routing.prohibited.includes(tg)) return 'prohibited';
  if (link.talkgroups.length > 0 && !link.talkgroups.includes(tg)) return 'not on the list';
  return null;
}

/** Why an inbound frame on `link` from address:port must be refused under `cfg`, or null. */
function refusal(cfg: CoreConfig, link: LinkConfig, f: Uint8Array, address: string, port: number): string | null {
  if (f.length !== OBP.FRAME) return 'length';
  if (link.checkSource && (address !== link.address || port !== link.port)) return 'wrong source';
  if (!verifyObp(f, obpKey(link.passphrase), hmacSha1)) return 'bad MAC';
  if (link.networkId !== 0 && readU32(f, 11) !== link.networkId) return 'wrong network ID';
  if ((f[15]! & 0x40) !== 0) return 'unit call';
  if ((f[15]! & 0x80) !== 0) return 'TS2';
  return notCarried(cfg, link, readU24(f, 8));
}

/** A sent frame of voice or data (a DMRD), as opposed to a control reply. */
const isDmrd = (b: Uint8Array): boolean => b.length >= 20 && b[0] === 0x44 && b[1] === 0x4d && b[2] === 0x52 && b[3] === 0x44;

/** Talker, talkgroup and first sequence number of a call. */
interface Header {
  src: number;
  tg: number;
  seq0: number;
}

interface Source {
  /** 'peer:<id>' or 'link:<socket>' for a datagram; 'core' for a tick or a stream of the core's own. */
  name: string;
  socket: number;
  address: string;
  port: number;
  /** The datagram being handled (null for ticks and config events). */
  bytes: Uint8Array | null;
  stream: number;
}

/** Core counters summed over every run, to show the runs did what they claim. */
const seen = new Map<string, number>();
const bump = (k: string, n = 1): void => void seen.set(k, (seen.get(k) ?? 0) + n);

interface Outcome {
  problems: string[];
}

function run(steps: Step[]): Outcome {
  const problems: string[] = [];
  let cfg = makeConfig(DEFAULT_LOCAL, [666], [LINKS[0]!.talkgroups, LINKS[1]!.talkgroups]);
  /** Every config in force so far; its index is the config's generation. */
  const configs = [cfg];
  /** The generation in force when each stream ID last started (from the core's call.start). */
  const startGen = new Map<number, number>();
  let logsSeen = 0;
  const w = new World(cfg);
  const loggedIn = new Set<number>();
  /** Stream IDs used so far by any caller, for calls that reuse one. */
  const history: number[] = [];
  /** Per stream ID: each source it was forwarded from, and when last. */
  const forwardedFrom = new Map<number, Map<string, number>>();
  let tag = 0;
  let label = 'start';

  const linkBySocket = (socket: number): LinkConfig | undefined => cfg.links.find((l) => l.socket === socket);

  /** Check everything the core sent while handling one event from `src`. */
  const check = (src: Source, sent: Sent[]): void => {
    const now = w.now;
    const gen = configs.length - 1;
    const bad = (what: string): void => void problems.push(`${label} @${now}: ${what}`);
    for (const logs = w.sink.logs; logsSeen < logs.length; logsSeen++) {
      const e = logs[logsSeen]!;
      if (e.code === 'call.start' && e.stream !== undefined) startGen.set(e.stream, gen);
      if (e.code === 'call.loop') {
        // Which way round: a link frame dropped for a stream already seen, or a peer's packet
        // dropped for a stream a link brought in.
        const d = e.detail ?? '';
        if (d.startsWith('link ')) bump(d.includes('from peer') ? 'loop.link-after-peer' : 'loop.link-after-link');
        else if (d.includes('from link ')) bump('loop.peer-after-link');
      }
    }
    /** Did `stream` start under an earlier config that let `link` carry `tg`? */
    const carriedThen = (stream: number, link: LinkConfig, tg: number): boolean => {
      const g = startGen.get(stream);
      if (g === undefined || g === gen) return false;
      const then = configs[g]!;
      const l = then.links.find((x) => x.name === link.name);
      return l !== undefined && notCarried(then, l, tg) === null;
    };
    const inLink = src.socket !== 0 ? linkBySocket(src.socket) : undefined;
    // (c) a refused link frame has no effect on the wire.
    if (inLink !== undefined && src.bytes !== null) {
      const why = refusal(cfg, inLink, src.bytes, src.address, src.port);
      const tg = readU24(src.bytes, 8);
      const text = `link ${inLink.name} frame (TG ${tg}, stream ${hex(src.stream)}) refused for ${why}, yet ${sent.length} sends followed`;
      // A call that began while its talkgroup crossed, refused now after a config change.
      if (why !== null && ['local', 'prohibited', 'not on the list'].includes(why) && carriedThen(src.stream, inLink, tg)) bump('policy-changed-mid-call.in');
      if (why !== null && sent.length > 0) bad(text);
    }
    for (const s of sent) {
      const link = s.socket !== 0 ? linkBySocket(s.socket) : undefined;
      const stream = isDmrd(s.bytes) ? readU32(s.bytes, 16) : -1;
      if (s.socket !== 0 && link === undefined) {
        bad(`send on socket ${s.socket}, which is no link's`);
        continue;
      }
      if (link !== undefined) {
        bump('link.sends');
        const b = s.bytes;
        const tg = b.length >= 11 ? readU24(b, 8) : -1;
        // (a) the frame itself.
        if (s.address !== link.address || s.port !== link.port) bad(`link ${link.name} frame sent to ${s.address}:${s.port}`);
        if (b.length !== OBP.FRAME || !isDmrd(b)) {
          bad(`link ${link.name} frame of ${b.length} bytes`);
          continue;
        }
        if ((b[15]! & 0x80) !== 0) bad(`link ${link.name} frame on TS2 (stream ${hex(stream)})`);
        if (!verifyObp(b, obpKey(link.passphrase), hmacSha1)) bad(`link ${link.name} frame with a bad MAC (stream ${hex(stream)})`);
        if (readU32(b, 11) !== SERVER_ID) bad(`link ${link.name} frame with ID ${readU32(b, 11)} in bytes 11-14`);
        const why = notCarried(cfg, link, tg);
        const text = `link ${link.name} frame on TG ${tg} (${why}) (stream ${hex(stream)})`;
        if (why !== null) bad(text);
        // (b) only a peer's packet, as it came, goes out on a link.
        if (src.socket !== 0 || src.bytes === null || !isDmrd(src.bytes)) bad(`link ${link.name} frame (stream ${hex(stream)}) sent while handling ${src.name}`);
        else {
          const p = src.bytes;
          if (stream !== src.stream) bad(`link ${link.name} frame of stream ${hex(stream)} sent while handling stream ${hex(src.stream)} from ${src.name}`);
          if (!same(b, p, 0, 8) || (b[15]! & 0x7f) !== (p[15]! & 0x7f)) bad(`link ${link.name} frame differs from ${src.name}'s packet in its header fields`);
          if (tg === readU24(p, 8) && !same(b, p, 20, 53)) bad(`link ${link.name} frame differs from ${src.name}'s packet in its payload`);
          if (tg !== readU24(p, 8)) bump('link.sends.rewritten');
          for (const [from, at] of forwardedFrom.get(stream) ?? []) {
            if (from.startsWith('link:') && now - at < cfg.timers.streamIdMemoryMs) bad(`link ${link.name} frame of stream ${hex(stream)}, which came in from ${from} at @${at}`);
          }
        }
      }
      // (d) one source per stream ID while it is remembered.
      const forwarded = link !== undefined || (s.forwarded && isDmrd(s.bytes));
      if (forwarded) {
        const from = src.bytes !== null && stream === src.stream ? src.name : 'core';
        let m = forwardedFrom.get(stream);
        if (!m) forwardedFrom.set(stream, (m = new Map()));
        for (const [other, at] of m) {
          if (other !== from && now - at < cfg.timers.streamIdMemoryMs) bad(`stream ${hex(stream)} forwarded from ${from} after ${other} forwarded it at @${at}`);
        }
        m.set(from, now);
        // (e) a link's call reaches the talkgroup's members only, as the talkgroup each one uses.
        if (link === undefined && from.startsWith('link:') && src.bytes !== null) {
          bump('link.deliveries');
          const conf = w.core.index.conference(readU24(src.bytes, 8));
          const peer = readU32(s.bytes, 11);
          const slot = (s.bytes[15]! & 0x80) !== 0 ? 2 : 1;
          const tg = readU24(s.bytes, 8);
          if (tg === 9) bump('link.deliveries.dial-lane');
          const member = conf?.members.find((m) => m.session.peerId === peer && m.slot === slot && m.rfTg === tg);
          if (member === undefined) bad(`link stream ${hex(stream)} (TG ${readU24(src.bytes, 8)}) delivered to peer ${peer} TS${slot} as TG ${tg}, which is no member of that conference`);
        }
      }
    }
  };

  const advance = (ms: number): void => check({ name: 'core', socket: 0, address: '', port: 0, bytes: null, stream: -1 }, w.advance(ms));

  const fromPeer = (peer: number, b: Uint8Array): void => {
    const src: Source = { name: `peer:${peer}`, socket: 0, address: PEER_ADDRESS, port: peerPort(peer), bytes: b.slice(), stream: isDmrd(b) ? readU32(b, 16) : -1 };
    check(src, w.datagram(peerPort(peer), b, PEER_ADDRESS, 0));
  };

  const fromLink = (link: LinkConfig, b: Uint8Array, address: string, port: number): void => {
    bump('link.frames');
    const why = refusal(cfg, link, b, address, port);
    bump(why === null ? 'link.frames.valid' : `link.frames.refused.${why}`);
    const src: Source = { name: `link:${link.socket}`, socket: link.socket, address, port, bytes: b.slice(), stream: readU32(b, 16) };
    check(src, w.datagram(port, b, address, link.socket));
  };

  /** The packets of one call, each ready to send (link frames signed, faults applied). */
  const packetsOf = (c: Call, streamId: number, h: Header): (() => void)[] => {
    tag++;
    if (c.from === 'peer') {
      const packets = callPackets({ peerId: c.peer, src: h.src, tg: h.tg, slot: c.slot, streamId, superframes: c.superframes, tag, seq0: h.seq0 });
      if (c.unit) for (const p of packets) p[15] = p[15]! | 0x40;
      if (!c.terminator) packets.pop();
      return packets.map((p) => () => {
        if (loggedIn.has(c.peer)) fromPeer(c.peer, p);
      });
    }
    const link = LINKS[c.link]!;
    const packets = callPackets({ peerId: link.networkId, src: h.src, tg: h.tg, slot: 1, streamId, superframes: c.superframes, tag, seq0: h.seq0 });
    if (!c.terminator) packets.pop();
    return packets.map((p, i) => () => {
      const fault = c.callFault !== 'ok' ? c.callFault : (c.faults[i] ?? 'ok');
      if (fault === 'lost') return;
      const l = cfg.links.find((x) => x.name === link.name)!;
      const f = new Uint8Array(OBP.FRAME);
      f.set(p.subarray(0, OBP.BODY));
      if (fault === 'wrong-net') writeU32(f, 11, l.networkId + 1);
      if (fault === 'ts2') f[15] = f[15]! | 0x80;
      if (fault === 'unit') f[15] = f[15]! | 0x40;
      signObp(f, obpKey(fault === 'wrong-key' ? `${l.passphrase}!`.slice(-20) : l.passphrase), hmacSha1);
      if (fault === 'bad-mac') f[OBP.BODY + (tag % OBP.MAC)] = f[OBP.BODY + (tag % OBP.MAC)]! ^ 0x10;
      const address = fault === 'wrong-address' ? '10.9.0.99' : l.address;
      const port = fault === 'wrong-port' ? l.port + 1 : l.port;
      fromLink(l, f, address, port);
    });
  };

  const applyConfig = (c: ConfigChange): void => {
    cfg = makeConfig(LOCAL_CHOICES[c.local]!, PROHIBITED_CHOICES[c.prohibited]!, [LIST_CHOICES[c.lists[0]]!, LIST_CHOICES[c.lists[1]]!]);
    configs.push(cfg);
    bump('config.applied');
    w.core.handle({ kind: 'config-applied', now: w.now, config: cfg }, w.sink);
    check({ name: 'config', socket: 0, address: '', port: 0, bytes: null, stream: -1 }, w.sink.take());
  };

  // Every run starts with two peers in: one on the defaults, one with a dial link and statics.
  w.login(1001, peerPort(1001));
  w.login(1002, peerPort(1002), 'TS1=2350,70;TS2=91;DIAL=3100');
  loggedIn.add(1001).add(1002);
  w.sink.take();

  for (const [i, st] of steps.entries()) {
    label = `step ${i} ${JSON.stringify(st)}`;
    switch (st.k) {
      case 'login':
        if (!loggedIn.has(st.peer)) {
          w.login(st.peer, peerPort(st.peer), st.options);
          loggedIn.add(st.peer);
          w.sink.take();
        }
        break;
      case 'options':
        if (loggedIn.has(st.peer)) fromPeer(st.peer, encodeRpto(st.peer, st.options));
        break;
      case 'logout':
        fromPeer(st.peer, encodeRptcl(st.peer));
        loggedIn.delete(st.peer);
        break;
      case 'config':
        applyConfig(st);
        break;
      case 'calls': {
        // The calls run side by side, one packet each per 60 ms, the later ones `gap` ms behind.
        const ids: number[] = [];
        const headers: Header[] = [];
        const queues: { at: number; send: () => void }[][] = [];
        for (const [j, c] of st.calls.entries()) {
          let id: number;
          let h: Header = { src: c.from === 'peer' ? 3_100_000 + c.peer : 2_340_000 + j + 10 * (tag % 100), tg: c.tg, seq0: 0 };
          if (c.stream.k === 'fresh') id = c.stream.id;
          else if (c.stream.k === 'seen' && history.length > 0) id = history[c.stream.i % history.length]!;
          else if (c.stream.k === 'sibling' && c.stream.j < j) {
            id = ids[c.stream.j]!;
            const sib = headers[c.stream.j]!;
            h = { src: sib.src, tg: sib.tg, seq0: sib.seq0 + c.seqShift };
          } else id = (0x7000_0000 + tag * 7919) >>> 0;
          ids.push(id);
          headers.push(h);
          history.push(id);
          queues.push(packetsOf(c, id, h).map((send, k) => ({ at: j * st.gap + k * 60, send })));
        }
        const all = queues.flat();
        if (st.config !== null) {
          const change = st.config.change;
          all.push({ at: st.config.at, send: () => applyConfig(change) });
        }
        all.sort((a, b) => a.at - b.at);
        let t = 0;
        for (const p of all) {
          if (p.at > t) {
            advance(p.at - t);
            t = p.at;
          }
          p.send();
        }
        advance(60);
        break;
      }
      case 'wait':
        for (let left = st.ms; left > 0; left -= 5000) {
          advance(Math.min(5000, left));
          if (st.ping) for (const p of loggedIn) fromPeer(p, encodeRptping(p));
        }
        break;
    }
    // Peers that went silent past the keepalive limit are gone.
    for (const p of [...loggedIn]) if (!w.core.sessions.has(p)) loggedIn.delete(p);
    if (problems.length > 0) break;
  }
  for (const [k, v] of w.core.stats()) bump(k, v);
  return { problems };
}

const same = (a: Uint8Array, b: Uint8Array, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return false;
  return true;
};
const hex = (n: number): string => '0x' + (n >>> 0).toString(16);

const stepsArb = fc.array(stepArb, { minLength: 1, maxLength: 50, size: 'large' });

// The thousand random runs are the heaviest property in the repository (about 10 s of CPU), so they
// run in the slow tier (vitest.config.ts, TEST_TIER); the plain cases below stay in the fast one.
// Run alone, the file does both.
const tier = process.env['TEST_TIER'];

describe.skipIf(tier === 'fast')('OpenBridge links under random use', () => {
  it('send only valid frames of carried talkgroups, never pass a link’s call to a link, refuse bad frames, and keep one source per stream ID', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        expect(run(steps).problems).toEqual([]);
      }),
      { numRuns: 1000 },
    );
    const n = (k: string): number => seen.get(k) ?? 0;
    // Both directions carried traffic, including dial-lane calls going out under the reflector's
    // talkgroup and link calls reaching TG 9 dial lanes.
    expect(n('link.sends')).toBeGreaterThan(1000);
    expect(n('link.sends.rewritten')).toBeGreaterThan(0);
    expect(n('link.deliveries')).toBeGreaterThan(1000);
    expect(n('link.deliveries.dial-lane')).toBeGreaterThan(0);
    expect(n('link.west.in')).toBeGreaterThan(500);
    expect(n('link.east.in')).toBeGreaterThan(100);
    // Every kind of refusal happened.
    for (const code of ['obp.bad-mac', 'obp.wrong-source', 'obp.wrong-network-id', 'obp.ts2-group', 'obp.unit-call', 'obp.local-talkgroup', 'obp.prohibited-talkgroup', 'obp.talkgroup-not-carried']) {
      expect(n(code), code).toBeGreaterThan(0);
    }
    // Loops were dropped every way round, and configs changed, some of them mid-call.
    expect(n('loop.link-after-peer')).toBeGreaterThan(0);
    expect(n('loop.peer-after-link')).toBeGreaterThan(0);
    expect(n('loop.link-after-link')).toBeGreaterThan(0);
    expect(n('config.applied')).toBeGreaterThan(100);
    // Config changes took a talkgroup off a link in the middle of a link's call (and its frames
    // were then refused, checked by (c)).
    expect(n('policy-changed-mid-call.in')).toBeGreaterThan(0);
  });
});

// ── config changes during a call ─────────────────────────────────────────────────────────────
// A config change applies to calls already live: a talkgroup made local (or prohibited, or taken
// off a link's list) stops crossing from the next frame, both ways. The property above checks it
// on random sequences; these pin the two plain cases.

const WEST = LINKS[0]!;

/** A world with link `west` only, TG 2351 on 1002's TS1, and a config maker by local ranges. */
function westWorld(): { w: World; config: (local: [number, number][]) => CoreConfig } {
  const config = (local: [number, number][]): CoreConfig =>
    testConfig((c) => {
      c.serverId = SERVER_ID;
      c.links = [{ ...WEST }];
      c.routing.localTalkgroups = local;
    });
  const w = new World(config(DEFAULT_LOCAL));
  w.login(1001, peerPort(1001));
  w.login(1002, peerPort(1002), 'TS1=2351');
  w.sink.take();
  return { w, config };
}

const signed = (p: Uint8Array): Uint8Array => {
  const f = new Uint8Array(OBP.FRAME);
  f.set(p.subarray(0, OBP.BODY));
  writeU32(f, 11, WEST.networkId);
  signObp(f, obpKey(WEST.passphrase), hmacSha1);
  return f;
};

describe.skipIf(tier === 'slow')('a config change reaches the calls already live', () => {
  it('a peer’s call stops going out on a link once its talkgroup is made local', () => {
    const { w, config } = westWorld();
    const call = callPackets({ peerId: 1001, src: 3_100_001, tg: 2351, slot: 1, streamId: 0x10, superframes: 1, tag: 1 });
    const onLink: number[] = [];
    call.forEach((p, i) => {
      if (i === 2) w.core.handle({ kind: 'config-applied', now: w.now, config: config([...DEFAULT_LOCAL, [2351, 2351]]) }, w.sink);
      for (const s of w.datagram(peerPort(1001), p)) if (s.socket === WEST.socket) onLink.push(i);
      w.advance(60);
    });
    expect(onLink).toEqual([0, 1]);
  });

  it('a link’s call stops reaching the peers once its talkgroup is made local', () => {
    const { w, config } = westWorld();
    const call = callPackets({ peerId: WEST.networkId, src: 2_340_001, tg: 2351, slot: 1, streamId: 0x20, superframes: 1, tag: 2 });
    const toPeers: number[] = [];
    call.forEach((p, i) => {
      if (i === 2) w.core.handle({ kind: 'config-applied', now: w.now, config: config([...DEFAULT_LOCAL, [2351, 2351]]) }, w.sink);
      for (const s of w.datagram(WEST.port, signed(p), WEST.address, WEST.socket)) if (s.socket === 0) toPeers.push(i);
      w.advance(60);
    });
    expect(toPeers).toEqual([0, 1]);
  });

  // A frame with the call's stream ID but another (carried) talkgroup arrived first after the
  // change: the call's policy was worked out from that frame's talkgroup, so the call's own frames
  // kept reaching the peers (seed -881803968 of the test above, with 10,000 runs).
  it('the call’s own talkgroup decides, not a stray frame with its stream ID', () => {
    const { w, config } = westWorld();
    w.login(1003, peerPort(1003), 'TS1=2352');
    w.sink.take();
    const call = callPackets({ peerId: WEST.networkId, src: 2_340_001, tg: 2351, slot: 1, streamId: 0x30, superframes: 1, tag: 3 });
    const stray = callPackets({ peerId: WEST.networkId, src: 2_340_001, tg: 2352, slot: 1, streamId: 0x30, superframes: 0, tag: 4 })[0]!;
    const toPeers: string[] = [];
    call.forEach((p, i) => {
      if (i === 2) {
        w.core.handle({ kind: 'config-applied', now: w.now, config: config([...DEFAULT_LOCAL, [2351, 2351]]) }, w.sink);
        for (const s of w.datagram(WEST.port, signed(stray), WEST.address, WEST.socket)) toPeers.push(`stray to ${s.port}`);
      }
      for (const s of w.datagram(WEST.port, signed(p), WEST.address, WEST.socket)) if (s.socket === 0) toPeers.push(`${i} to ${s.port}`);
      w.advance(60);
    });
    expect(toPeers).toEqual([`0 to ${peerPort(1002)}`, `1 to ${peerPort(1002)}`]);
  });
});
