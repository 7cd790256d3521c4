// Property tests for the routing core as a whole (fast-check):
//  1. any datagram from any address never throws and never changes a logged-in peer's state,
//     unless it is a valid packet of that peer from that peer's own address;
//  2. random sequences of logins, option changes, calls with loss/duplication/reordering/lost
//     terminators, time advances past keepalive limits and logouts keep the routing invariants
//     (test/support/invariants.ts) and the keepalive rules;
//  3. the same event sequence gives the same canonical actions and digest, live and replayed.

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CoreConfig, PeerView, Target } from '../../src/core/index.js';
import {
  encodeDmrd,
  encodeMstcl,
  encodeMstpong,
  encodeRptack,
  encodeRptc,
  encodeRptcl,
  encodeRptk,
  encodeRptl,
  encodeRpto,
  encodeRptping,
  parseMasterReply,
  writeAscii,
  writeU32,
} from '../../src/protocol/index.js';
import { replayLog } from '../../src/replay/runner.js';
import { sha256 } from '../support/crypto.js';
import { testConfig } from '../support/harness.js';
import { InvariantChecker, staticTalkgroups } from '../support/invariants.js';
import { callPackets, Driver, Timeline, type Reply } from '../support/sim-world.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
const u32 = (b: Uint8Array, at: number): number => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const tag4 = (b: Uint8Array): string => (b.length >= 4 ? String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!) : '');

const baseConfig = (): CoreConfig =>
  testConfig((c) => {
    c.routing.ts1Static = [1];
    c.routing.ts2Static = [91];
  });

// ── 1. hostile and broken datagrams ─────────────────────────────────────────────────────────

interface Host {
  id: number;
  address: string;
  port: number;
  options: string | null;
}

const HOSTS: Host[] = [
  { id: 1001, address: '10.0.0.1', port: 50001, options: 'TS1=1;TS2=91' },
  { id: 1002, address: '10.0.0.2', port: 50002, options: 'TS2=91,92' },
  { id: 1003, address: '10.0.0.3', port: 50003, options: null },
];
/** Addresses that are no peer's session: another IP with a peer's port, a peer's IP with another port. */
const FOREIGN = [
  { address: '10.0.0.9', port: 50001 },
  { address: '10.0.0.1', port: 50009 },
  { address: '10.0.0.2', port: 50001 },
];
const ONGOING_STREAM = 0x0badcafe;

/** Three logged-in peers, and a call from 1001 on TS2 TG 91 in progress (header + 5 bursts sent). */
function hostWorld(): { d: Driver; rest: Uint8Array[] } {
  const d = new Driver({ config: baseConfig(), seed: 7 });
  for (const h of HOSTS) if (!d.login(h.id, h.address, h.port, h.options)) throw new Error(`login ${h.id}`);
  const call = callPackets({ peerId: 1001, src: 3_100_001, tg: 91, slot: 2, streamId: ONGOING_STREAM, superframes: 2, tag: 1 });
  for (const p of call.slice(0, 6)) {
    d.now += 60;
    d.datagram('10.0.0.1', 50001, p);
  }
  return { d, rest: call.slice(6) };
}

const KINDS = ['RPTL', 'RPTK', 'RPTC', 'RPTO', 'RPTCL', 'RPTPING', 'DMRD', 'DMRA', 'RPTG', 'DMRG', 'DMRC', 'MSTPONG', 'RPTACK', 'MSTCL'] as const;
type Kind = (typeof KINDS)[number];

const peerIdArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTS.map((h) => h.id)) },
  { weight: 1, arbitrary: fc.constantFrom(0, 0xffffffff, 0x4c000001) },
  { weight: 1, arbitrary: fc.nat() },
);

/** A well-formed packet of `kind` for `peerId`, with `r` (random bytes) filling the free fields. */
function build(kind: Kind, peerId: number, r: Uint8Array): Uint8Array {
  const withId = (tag: string, length: number): Uint8Array => {
    const out = new Uint8Array(length);
    out.set(r.subarray(0, length));
    writeAscii(out, 0, tag);
    writeU32(out, 4, peerId);
    return out;
  };
  switch (kind) {
    case 'RPTL':
      return encodeRptl(peerId);
    case 'RPTK':
      return encodeRptk(peerId, r.subarray(0, 32));
    case 'RPTC':
      return encodeRptc({ peerId, callsign: 'EVIL', slots: '4', softwareId: 'fuzz' });
    case 'RPTO':
      return encodeRpto(peerId, ['TS1=2;TS2=92', 'TS1=;TS2=', 'junk', 'TS2=91,92,1'][r[0]! & 3]!);
    case 'RPTCL':
      return encodeRptcl(peerId);
    case 'RPTPING':
      return encodeRptping(peerId);
    case 'DMRD':
      return encodeDmrd({
        seq: r[0]!,
        src: (r[1]! << 16) | (r[2]! << 8) | r[3]!,
        dst: [1, 2, 91, 92, (r[4]! << 8) | r[5]!][r[6]! % 5]!,
        peerId,
        slot: (r[7]! & 1) === 0 ? 1 : 2,
        frame: [0x21, 0x10, 0x01, 0x05, 0x22, r[8]! & 0x3f][r[9]! % 6]!,
        streamId: (r[10]! & 1) === 0 ? ONGOING_STREAM : u32(r, 11),
        payload: r.subarray(20, 53),
      });
    case 'DMRA':
      return withId('DMRA', 15);
    case 'RPTG':
      return withId('RPTG', 8 + (r[0]! & 31));
    case 'DMRG':
      return withId('DMRG', 8 + (r[0]! & 31));
    case 'DMRC':
      return withId('DMRC', 119);
    case 'MSTPONG':
      return encodeMstpong(peerId);
    case 'RPTACK':
      return encodeRptack(peerId);
    case 'MSTCL':
      return encodeMstcl(peerId);
  }
}

type Mutation =
  | { m: 'none' }
  | { m: 'truncate'; keep: number }
  | { m: 'flip'; bits: [number, number][] }
  | { m: 'extend'; tail: Uint8Array }
  | { m: 'retail'; tail: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ m: 'none' as const }) },
  { weight: 2, arbitrary: fc.nat({ max: 320 }).map((keep) => ({ m: 'truncate' as const, keep })) },
  { weight: 3, arbitrary: fc.array(fc.tuple(fc.nat({ max: 320 }), fc.nat({ max: 7 })), { minLength: 1, maxLength: 3 }).map((bits) => ({ m: 'flip' as const, bits })) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 20 }).map((tail) => ({ m: 'extend' as const, tail })) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 320 }).map((tail) => ({ m: 'retail' as const, tail })) },
);

function mutate(b: Uint8Array, mu: Mutation): Uint8Array {
  switch (mu.m) {
    case 'none':
      return b;
    case 'truncate':
      return b.slice(0, Math.min(mu.keep, Math.max(0, b.length - 1)));
    case 'flip': {
      const out = b.slice();
      for (const [i, bit] of mu.bits) if (out.length > 0) out[i % out.length]! ^= 1 << bit;
      return out;
    }
    case 'extend': {
      const out = new Uint8Array(b.length + mu.tail.length);
      out.set(b);
      out.set(mu.tail, b.length);
      return out;
    }
    case 'retail': {
      // The known tag with a random tail of random length.
      const out = new Uint8Array(4 + mu.tail.length);
      out.set(b.subarray(0, 4));
      out.set(mu.tail, 4);
      return out;
    }
  }
}

const packetArb = fc
  .tuple(fc.constantFrom(...KINDS), peerIdArb, fc.uint8Array({ minLength: 64, maxLength: 64 }), mutationArb)
  .map(([kind, peerId, r, mu]) => mutate(build(kind, peerId, r), mu));
const datagramArb = fc.oneof({ weight: 4, arbitrary: packetArb }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }) });
const addressArb = fc.oneof(
  fc.constantFrom(...HOSTS.map((h) => ({ address: h.address, port: h.port }))),
  fc.constantFrom(...FOREIGN),
);

/**
 * Could `b`, sent from peer `id`'s own address, legitimately change that peer's session? Only a
 * packet the spec defines (§1.2, right length) that carries the peer's ID and that a session
 * accepts: RPTC (config), RPTO (options), RPTCL (close), RPTPING, DMRD, DMRA/RPTG/DMRG (signs of
 * life). RPTL and RPTK never do without the passphrase (a new challenge is held apart).
 */
function mayAffect(b: Uint8Array, id: number): boolean {
  const t = tag4(b);
  const n = b.length;
  if (t === 'DMRD') return (n === 53 || n === 55) && u32(b, 11) === id && (b[16]! | b[17]! | b[18]! | b[19]!) !== 0;
  if (t === 'RPTC' && n === 302) return u32(b, 4) === id;
  if (t === 'RPTC' && n === 9 && b[4] === 0x4c) return u32(b, 5) === id; // RPTCL
  if (t === 'RPTO') return n >= 8 && n <= 308 && u32(b, 4) === id;
  if (t === 'RPTP') return n === 11 && u32(b, 7) === id;
  if (t === 'DMRA' || t === 'RPTG' || t === 'DMRG') return n >= 8 && u32(b, 4) === id;
  return false;
}

const byId = (ps: PeerView[]): Map<number, string> => new Map(ps.map((p) => [p.peerId, JSON.stringify(p)]));

describe('hostile and broken datagrams', () => {
  it('never throw, and change a peer only by a valid packet from its own address', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(datagramArb, addressArb), { minLength: 1, maxLength: 12 }), (inputs) => {
        const { d } = hostWorld();
        const fanOuts: Target[] = [];
        d.onDeliver = (t) => fanOuts.push(t);
        for (const [bytes, from] of inputs) {
          d.now += 20;
          const before = byId(d.core.peers());
          const own = HOSTS.find((h) => h.address === from.address && h.port === from.port && before.has(h.id));
          const sends: Reply[] = [];
          d.onReply = (r) => sends.push(r);
          fanOuts.length = 0;
          d.datagram(from.address, from.port, bytes);
          const after = byId(d.core.peers());
          for (const [id, view] of before) {
            const allowed = own !== undefined && own.id === id && mayAffect(bytes, id);
            if (!allowed) expect(after.get(id), `peer ${id} after ${tag4(bytes)} (${bytes.length} bytes) from ${from.address}:${from.port}`).toBe(view);
          }
          if (own === undefined) {
            // Nobody logged in there: nothing is forwarded, and replies go to the sender only, never
            // longer than the datagram (except the 10-byte salt answering an 8-byte RPTL).
            expect(fanOuts).toEqual([]);
            for (const r of sends) {
              expect(`${r.address}:${r.port}`).toBe(`${from.address}:${from.port}`);
              expect(r.bytes.length).toBeLessThanOrEqual(Math.max(bytes.length, tag4(bytes) === 'RPTL' ? 10 : 0));
            }
          }
        }
        // Known core issues, pinned on their own below: a mutated DMRD of the call in progress may
        // carry another talkgroup, and a peer's RPTCL may end its call without a terminator.
        expect(d.checker.violations({ ignore: [] })).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("valid-looking RPTL/RPTK/RPTC/RPTO/RPTCL/RPTPING/DMRD with a logged-in peer's ID from another address change nothing", () => {
    const controlArb = fc
      .tuple(fc.constantFrom('RPTL', 'RPTK', 'RPTC', 'RPTO', 'RPTCL', 'RPTPING', 'DMRD', 'DMRA', 'RPTG'), fc.constantFrom(...HOSTS.map((h) => h.id)), fc.uint8Array({ minLength: 64, maxLength: 64 }))
      .map(([kind, id, r]) => build(kind as Kind, id, r));
    fc.assert(
      fc.property(fc.array(fc.tuple(controlArb, fc.constantFrom(...FOREIGN)), { minLength: 1, maxLength: 15 }), (inputs) => {
        const { d, rest } = hostWorld();
        const before = JSON.stringify(d.core.peers());
        const pendingBefore = d.core.pendingLogins;
        let forwarded = 0;
        d.onDeliver = () => forwarded++;
        for (const [bytes, from] of inputs) {
          d.now += 20;
          d.datagram(from.address, from.port, bytes);
          expect(JSON.stringify(d.core.peers())).toBe(before);
        }
        expect(forwarded).toBe(0);
        // An RPTL leaves nothing behind (the challenge is stateless), and no login was proven.
        expect(d.core.pendingLogins).toBe(pendingBefore);
        // The sessions still work: the call in progress reaches the other peers to its end.
        const got: number[] = [];
        d.onDeliver = (t) => got.push(t.peerId);
        for (const p of rest) {
          d.now += 60;
          d.datagram('10.0.0.1', 50001, p);
        }
        expect(got.filter((id) => id === 1002)).toHaveLength(rest.length);
        expect(got.filter((id) => id === 1003)).toHaveLength(rest.length);
        d.runUntil(d.now + 10_000);
        d.checker.finish(d.core);
        expect(d.checker.violations()).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

// ── 2. random scenarios ─────────────────────────────────────────────────────────────────────

interface ScenarioPeer {
  id: number;
  address: string;
  homePort: number;
  altPort: number;
  port: number;
  connected: boolean;
  pinging: boolean;
  /** Bumped when the ping chain must stop. */
  epoch: number;
  /** Last time anything was sent from the peer's current address with its ID. */
  lastActivity: number;
}

type Fault = 'ok' | 'lose' | 'dup' | 'dupLate' | 'hold1' | 'hold2';

type Op =
  | { k: 'login'; p: number; options: string | null; alt: boolean }
  | { k: 'options'; p: number; options: string }
  | { k: 'call'; p: number; slot: 1 | 2; tg: number; src: number; superframes: number; faults: Fault[]; loseTerminator: boolean; delay: number; echo: boolean }
  | { k: 'wait'; ms: number }
  | { k: 'silence'; p: number }
  | { k: 'resume'; p: number }
  | { k: 'logout'; p: number };

interface Timers {
  hang: number;
  window: number;
  streamTimeout: number;
  maxStream: number;
  rate: number;
  maxPeers: number;
}

const PEER_COUNT = 5;
const TGS = [1, 2, 91, 92];

class Scenario {
  readonly d: Driver;
  readonly tl = new Timeline();
  readonly peers: ScenarioPeer[] = [];
  /** Keepalive rule breaches seen (the routing invariants are in d.checker). */
  readonly problems: string[] = [];
  private calls = 0;
  private lastCall: { p: number; packets: Uint8Array[]; streamId: number; src: number; tg: number; slot: 1 | 2; at: number } | null = null;
  private lastPacketAt = 0;
  /** Per peer and slot: when the last call scheduled there sends its last packet. */
  private readonly laneBusyUntil = new Map<string, number>();
  private readonly overlapping: boolean;

  /**
   * `overlapping: false` (the default) keeps each peer's slot to one call at a time, as a radio
   * does: a call starts only after every packet of the previous one (late copies included) was
   * sent. `true` lets calls on one slot overlap, and late copies of a call arrive after the next.
   */
  constructor(config: CoreConfig, opts: { canonical?: boolean; record?: boolean; overlapping?: boolean } = {}) {
    this.overlapping = opts.overlapping ?? false;
    this.d = new Driver({ config, seed: 11, canonical: opts.canonical ?? false, record: opts.record ?? false });
    for (let i = 0; i < PEER_COUNT; i++) {
      this.peers.push({ id: 3001 + i, address: `10.2.0.${i + 1}`, homePort: 40_000 + i, altPort: 41_000 + i, port: 40_000 + i, connected: false, pinging: true, epoch: 0, lastActivity: -1e9 });
    }
    this.d.onReply = (r) => {
      const p = this.peers.find((x) => x.address === r.address && x.port === r.port);
      const m = parseMasterReply(r.bytes);
      if (!p || !m.ok || m.value.tag !== 'MSTCL') return;
      if (p.connected && p.pinging && this.d.now - p.lastActivity < this.limit())
        this.problems.push(`@${this.d.now} peer ${p.id} was dropped although it was heard from at @${p.lastActivity}`);
      p.connected = false;
    };
  }

  private send(p: ScenarioPeer, bytes: Uint8Array): void {
    p.lastActivity = this.d.now;
    this.d.datagram(p.address, p.port, bytes);
  }

  private pings(p: ScenarioPeer): void {
    const epoch = ++p.epoch;
    const next = (at: number): void =>
      this.tl.at(at, () => {
        if (p.epoch !== epoch || !p.connected || !p.pinging) return;
        this.send(p, encodeRptping(p.id));
        next(at + this.d.core.cfg.hbp.pingIntervalMs);
      });
    next(this.d.now + this.d.core.cfg.hbp.pingIntervalMs);
  }

  apply(op: Op): void {
    const d = this.d;
    switch (op.k) {
      case 'login': {
        const p = this.peers[op.p]!;
        // A login from the other port while the session at this one is answering (heard from
        // within 1.5 ping intervals) is refused: the session and its client stay where they are.
        const answering = op.alt && p.connected && d.now - p.lastActivity <= d.core.cfg.hbp.pingIntervalMs * 1.5;
        if (answering) {
          const other = p.port === p.homePort ? p.altPort : p.homePort;
          if (d.login(p.id, p.address, other, op.options)) this.problems.push(`@${d.now} peer ${p.id} took over its own ID from port ${other} while answering at ${p.port}`);
          break;
        }
        p.epoch++;
        p.connected = false;
        if (op.alt) p.port = p.port === p.homePort ? p.altPort : p.homePort;
        p.lastActivity = d.now;
        p.connected = d.login(p.id, p.address, p.port, op.options);
        if (p.connected) this.pings(p);
        break;
      }
      case 'options': {
        const p = this.peers[op.p]!;
        this.send(p, encodeRpto(p.id, op.options));
        break;
      }
      case 'logout': {
        const p = this.peers[op.p]!;
        this.send(p, encodeRptcl(p.id));
        p.connected = false;
        p.epoch++;
        break;
      }
      case 'silence':
        this.peers[op.p]!.pinging = false;
        break;
      case 'resume': {
        const p = this.peers[op.p]!;
        if (!p.pinging) {
          p.pinging = true;
          if (p.connected) {
            this.send(p, encodeRptping(p.id));
            this.pings(p);
          }
        }
        break;
      }
      case 'wait':
        d.runUntil(d.now + op.ms, this.tl);
        break;
      case 'call': {
        const p = this.peers[op.p]!;
        const tag = ++this.calls;
        let packets: Uint8Array[];
        let slot = op.slot;
        // An echo is the same radio heard by a second hotspot: the last call's packets, byte for
        // byte, from another peer (only the peer ID differs), arriving soon after the original —
        // well inside the core's stream-ID memory. (A copy a minute later is a new stream.)
        const last = this.lastCall;
        if (op.echo && last !== null && last.p !== op.p && d.now - last.at < 10_000) {
          slot = last.slot;
          packets = heardBy(last.packets, p.id);
        } else {
          const streamId = (Math.imul(tag, 0x01000193) ^ 0x5a5a0000) >>> 0;
          packets = callPackets({ peerId: p.id, src: op.src, tg: op.tg, slot: op.slot, streamId, superframes: op.superframes, tag, seq0: tag * 37 });
          this.lastCall = { p: op.p, packets, streamId, src: op.src, tg: op.tg, slot: op.slot, at: d.now };
        }
        if (op.loseTerminator) packets = packets.slice(0, -1);
        const lane = `${op.p}/${slot}`;
        const t0 = this.overlapping ? d.now + op.delay : Math.max(d.now + op.delay, (this.laneBusyUntil.get(lane) ?? -1) + 1);
        let busyUntil = t0;
        packets.forEach((b, i) => {
          const fault = op.faults.length > 0 ? op.faults[i % op.faults.length]! : 'ok';
          const at = t0 + 60 * i;
          const out = (t: number): void => {
            this.lastPacketAt = Math.max(this.lastPacketAt, t);
            busyUntil = Math.max(busyUntil, t);
            this.tl.at(t, () => this.send(p, b));
          };
          if (fault === 'ok') out(at);
          else if (fault === 'dup') (out(at), out(at));
          else if (fault === 'dupLate') (out(at), out(at + 61));
          else if (fault === 'hold1') out(at + 61);
          else if (fault === 'hold2') out(at + 121);
        });
        this.laneBusyUntil.set(lane, busyUntil);
        break;
      }
    }
    this.checkKeepalive();
  }

  private limit(): number {
    const cfg = this.d.core.cfg.hbp;
    return cfg.pingIntervalMs * cfg.maxMissedPings;
  }

  /** A session outlives its peer's silence by less than the keepalive limit; pinging peers stay. */
  checkKeepalive(): void {
    const limit = this.limit();
    const views = this.d.core.peers();
    for (const v of views) {
      const p = this.peers.find((x) => x.id === v.peerId);
      if (!p) continue;
      if (v.address !== p.address || v.port !== p.port) this.problems.push(`@${this.d.now} peer ${p.id} has a session at ${v.port}, its client is at ${p.port}`);
      else if (this.d.now - p.lastActivity >= limit) this.problems.push(`@${this.d.now} peer ${p.id} silent since @${p.lastActivity} is still logged in`);
    }
    for (const p of this.peers) {
      if (p.connected && p.pinging && this.d.now - p.lastActivity < limit && !views.some((v) => v.peerId === p.id && v.port === p.port && v.state === 'connected'))
        this.problems.push(`@${this.d.now} peer ${p.id} keeps pinging but has no session`);
    }
  }

  run(ops: Op[]): void {
    for (const op of ops) this.apply(op);
    const t = this.d.core.cfg.timers;
    this.d.runUntil(Math.max(this.d.now, this.lastPacketAt) + t.streamTimeoutMs + 1_000, this.tl);
    this.checkKeepalive();
    this.d.checker.finish(this.d.core);
  }
}

const optionsArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.uniqueArray(fc.constantFrom(...TGS), { maxLength: 3 }), fc.uniqueArray(fc.constantFrom(...TGS), { maxLength: 3 })).map(([a, b]) => `TS1=${a.join(',')};TS2=${b.join(',')}`) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'TS1=1,x;TS2=',
      'TS1=91;;TS2=1,1,2',
      'garbage',
      'TS1=0;TS2=16777215,92',
      'TS2=91;TS2=92',
      'ts1=1;TS2=2',
      'TS1=1=2;TS2=92',
      ' TS1 = 2 ; TS2 = 91 , 92 ',
      'TS1=99999999;TS2=000000091',
      "TS1='91';TS2=\"2\"",
      'TS1_1=91;DIAL=9;TIMER=10',
      '',
      ';;;=;',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

const peerArb = fc.nat({ max: PEER_COUNT - 1 });
const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Fault>('ok') },
  { weight: 1, arbitrary: fc.constantFrom<Fault>('lose', 'dup', 'dupLate', 'hold1', 'hold2') },
);

/** Random operations; `echo` lets a call repeat the last call's packets from another peer. */
const opArb = (echo: boolean): fc.Arbitrary<Op> => fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('login' as const), p: peerArb, options: fc.option(optionsArb, { nil: null }), alt: fc.nat({ max: 5 }).map((n) => n === 0) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('options' as const), p: peerArb, options: optionsArb }) },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('call' as const),
      p: peerArb,
      slot: fc.constantFrom<1 | 2>(1, 2),
      tg: fc.constantFrom(...TGS),
      src: fc.constantFrom(3_100_001, 3_100_002, 3_100_003),
      superframes: fc.nat({ max: 4 }),
      faults: fc.array(faultArb, { maxLength: 8 }),
      loseTerminator: fc.boolean(),
      delay: fc.nat({ max: 600 }),
      echo: echo ? fc.boolean() : fc.constant(false),
    }),
  },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('wait' as const), ms: fc.oneof(fc.nat({ max: 1_500 }), fc.integer({ min: 5_000, max: 45_000 })) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('silence' as const), p: peerArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('resume' as const), p: peerArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('logout' as const), p: peerArb }) },
);

const timersArb: fc.Arbitrary<Timers> = fc.record({
  hang: fc.constantFrom(0, 1_000, 5_000),
  window: fc.constantFrom(100, 360, 1_000),
  streamTimeout: fc.constantFrom(1_000, 5_000),
  maxStream: fc.constantFrom(2_000, 180_000),
  rate: fc.constantFrom(25, 10),
  maxPeers: fc.constantFrom(10_000, 3),
});

function scenarioConfig(t: Timers): CoreConfig {
  return testConfig((c) => {
    c.routing.ts1Static = [1];
    c.routing.ts2Static = [91];
    c.timers.groupHangtimeMs = t.hang;
    c.timers.collisionWindowMs = t.window;
    c.timers.streamTimeoutMs = t.streamTimeout;
    c.timers.maxStreamMs = t.maxStream;
    c.limits.maxPacketRate = t.rate;
    c.hbp.maxPeers = t.maxPeers;
  });
}

/** Every peer logs in first (with random options), then random operations. */
const scenarioArb = (echo = false): fc.Arbitrary<{ timers: Timers; ops: Op[] }> =>
  fc
    .tuple(
      timersArb,
      fc.array(fc.option(optionsArb, { nil: null }), { minLength: PEER_COUNT, maxLength: PEER_COUNT }),
      fc.array(opArb(echo), { minLength: 1, maxLength: 60, size: 'large' }),
    )
    .map(([timers, logins, ops]) => ({ timers, ops: [...logins.map((options, p): Op => ({ k: 'login', p, options, alt: false })), ...ops] }));

describe('random event sequences', () => {
  it('keep the routing invariants and the keepalive rules', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ timers, ops }) => {
        const s = new Scenario(scenarioConfig(timers));
        s.run(ops);
        expect(s.problems).toEqual([]);
        expect(s.d.checker.violations({ ignore: [] })).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

// ── regressions ────────────────────────────────────────────────────────────────────────────────
// Minimal reproductions of what the checks above found in the core, kept as tests since the fixes.

/** The same packets as another hotspot `peerId` passes them on (only the peer ID differs). */
const heardBy = (packets: Uint8Array[], peerId: number): Uint8Array[] =>
  packets.map((b) => {
    const c = b.slice();
    writeU32(c, 11, peerId);
    return c;
  });

/** Peers 1, 2 and 3 logged in with the server defaults (TS1=1, TS2=91); `got` lists deliveries. */
function trio(): { d: Driver; got: { at: number; peer: number; stream: number; tg: number; flags: number }[]; from: (id: number, b: Uint8Array, at: number) => void } {
  const d = new Driver({ config: baseConfig() });
  for (const id of [1, 2, 3]) if (!d.login(id, `10.3.0.${id}`, 5000 + id, null)) throw new Error(`login ${id}`);
  const got: { at: number; peer: number; stream: number; tg: number; flags: number }[] = [];
  d.onDeliver = (t, f) => got.push({ at: d.now, peer: t.peerId, stream: u32(f, 16), tg: (f[8]! << 16) | (f[9]! << 8) | f[10]!, flags: (f[15]! & 0x7f) | t.slotBit });
  const from = (id: number, b: Uint8Array, at: number): void => {
    d.runUntil(at);
    d.datagram(`10.3.0.${id}`, 5000 + id, b);
  };
  return { d, got, from };
}

describe('regressions found by the invariant checks', () => {
  // The core forgets a stream ID as soon as the stream ends (spec §4.10: FreeDMR remembers an HBP
  // stream ID for 60 s). One radio heard by two hotspots: the second copy is dropped as a loop while
  // the first is live, but the copy's terminator, arriving just after the original's, starts the
  // stream again and is forwarded: peer 3 gets the terminator twice, and peer 1 gets its own back.
  it('a second hotspot’s copy of a call is not forwarded after the original ends', () => {
    const { d, got, from } = trio();
    const call = callPackets({ peerId: 1, src: 9, tg: 91, slot: 2, streamId: 0x51, superframes: 0, tag: 1 });
    const copy = heardBy(call, 2);
    from(1, call[0]!, 0);
    from(2, copy[0]!, 0);
    from(1, call[1]!, 60);
    from(2, copy[1]!, 60); // actual: forwarded to 1 and 3 as a new stream 0x51
    d.runUntil(10_000);
    d.checker.finish(d.core);
    expect(got.filter((g) => g.peer === 3)).toHaveLength(2);
    expect(got.filter((g) => g.peer === 1)).toHaveLength(0);
    expect(d.checker.violations()).toEqual([]);
  });

  // Same root cause: a late duplicate of stream X's terminator, arriving after the same radio began
  // stream Y on that slot, restarts X (superseding Y) and is forwarded a second time.
  it('a late duplicate of an ended stream is not forwarded again after the next stream began', () => {
    const { d, got, from } = trio();
    const x = callPackets({ peerId: 1, src: 9, tg: 91, slot: 2, streamId: 0x61, superframes: 0, tag: 1 });
    const y = callPackets({ peerId: 1, src: 9, tg: 91, slot: 2, streamId: 0x62, superframes: 1, tag: 2 });
    from(1, x[0]!, 0);
    from(1, x[1]!, 60);
    from(1, y[0]!, 100);
    from(1, x[1]!, 130); // actual: X restarts and its terminator reaches 2 and 3 again
    y.slice(1).forEach((b, i) => from(1, b, 160 + 60 * i));
    d.runUntil(10_000);
    d.checker.finish(d.core);
    expect(got.filter((g) => g.peer === 3 && g.stream === 0x61)).toHaveLength(2);
    expect(d.checker.violations()).toEqual([]);
  });

  // A stream that ends without a terminator (its sender logged out, or it was superseded) frees its
  // target slots at once (endStream sets txEnded), so another stream reaches the slot within the
  // collision window with no terminator in between. The contention rule in group-voice.ts says a
  // slot is free "as soon as its stream's terminator has been sent"; the invariant asks for the
  // terminator or collisionWindowMs of silence (the checker's `slot-freed-by-end`).
  it('a target slot is held for the collision window when a stream ends without a terminator', () => {
    const { d, got, from } = trio();
    const x = callPackets({ peerId: 1, src: 9, tg: 91, slot: 2, streamId: 0x71, superframes: 1, tag: 1 });
    const y = callPackets({ peerId: 2, src: 8, tg: 91, slot: 2, streamId: 0x72, superframes: 1, tag: 2 });
    from(1, x[0]!, 0);
    from(1, x[1]!, 60);
    from(2, y[0]!, 100); // blocked at 3: X was sent there 40 ms ago
    from(1, encodeRptcl(1), 120); // X ends (peer-gone), no terminator sent to 3
    from(2, y[1]!, 160); // actual: reaches 3 100 ms after X's last packet
    d.runUntil(10_000);
    d.checker.finish(d.core);
    expect(got.filter((g) => g.peer === 3 && g.stream === 0x72 && g.at < 60 + 360)).toEqual([]);
    expect(d.checker.violations()).toEqual([]);
  });

  // The stream's talkgroup is fixed at its first packet and later packets are forwarded as they
  // came: a packet of the stream whose [8:11) names another talkgroup reaches receivers that do not
  // subscribe to it (spec §2.6: the target TGID is written into [8:11) when forwarding).
  it('a packet whose talkgroup changed mid-stream is not delivered under a talkgroup the receiver lacks', () => {
    const { d, got, from } = trio();
    const x = callPackets({ peerId: 1, src: 9, tg: 91, slot: 2, streamId: 0x81, superframes: 1, tag: 1 });
    x[2]![10] = 2; // TG 91 → 2 in the third packet
    x.forEach((b, i) => from(1, b, 60 * i));
    d.runUntil(10_000);
    d.checker.finish(d.core);
    expect(got.filter((g) => g.tg !== 91)).toEqual([]);
    expect(d.checker.violations()).toEqual([]);
  });

  // A peer's second talker on a busy slot is refused (collision). The same radio heard by another
  // hotspot was then routed as a new stream, and once the first talker ended it went back to the
  // peer that had sent it first (seed -445994145 of the test below, with 2000 runs).
  it('a stream refused on a busy slot is not sent back to that peer when another hotspot brings it', () => {
    const { d, got, from } = trio();
    const x = callPackets({ peerId: 1, src: 9, tg: 91, slot: 2, streamId: 0x91, superframes: 0, tag: 1 });
    const y = callPackets({ peerId: 1, src: 8, tg: 91, slot: 2, streamId: 0x92, superframes: 0, tag: 2 });
    const copy = heardBy(y, 2);
    from(1, x[0]!, 0);
    from(1, y[0]!, 0); // refused: peer 1's TS2 is busy with X
    from(2, copy[0]!, 0); // routed; peers 1 and 3 are still receiving or sending X
    from(1, x[1]!, 60);
    from(1, y[1]!, 60); // a loop now: the copy from peer 2 owns the ID
    from(2, copy[1]!, 60); // actual: went to 1 and 3
    d.runUntil(10_000);
    d.checker.finish(d.core);
    expect(got.filter((g) => g.stream === 0x92).map((g) => g.peer)).toEqual([3]);
    expect(d.checker.violations()).toEqual([]);
  });

  // The same radio heard by two hotspots: the second copy is dropped as a loop, but the original
  // still went to the second hotspot, which got back packets it had sent itself (seed 1518401286
  // of the test below, with 2000 runs).
  it('a hotspot whose copy of a call is dropped as a loop stops receiving that call', () => {
    const { d, got, from } = trio();
    const x = callPackets({ peerId: 1, src: 9, tg: 91, slot: 2, streamId: 0xa1, superframes: 0, tag: 1 });
    const copy = heardBy(x, 2);
    from(1, x[0]!, 0); // to 2 and 3: peer 2 has not sent anything yet
    from(2, copy[0]!, 10); // a loop
    from(2, copy[1]!, 60);
    from(1, x[1]!, 70); // actual: the terminator went to 2 as well
    d.runUntil(10_000);
    d.checker.finish(d.core);
    expect(got.filter((g) => g.stream === 0xa1).map((g) => `${g.peer}@${g.at}`)).toEqual(['2@0', '3@0', '3@70']);
    expect(d.checker.violations()).toEqual([]);
  });

  // The random scenarios again, with calls overlapping on one peer's slot (late copies arrive after
  // the next call began) and second-hotspot echoes: the two stream-ID issues above show up (fixed
  // seed, so this fails the same way every run).
  it('random sequences with overlapping calls and echoes keep the invariants', () => {
    fc.assert(
      fc.property(scenarioArb(true), ({ timers, ops }) => {
        const s = new Scenario(scenarioConfig(timers), { overlapping: true });
        s.run(ops);
        expect(s.problems).toEqual([]);
        expect(s.d.checker.violations({ ignore: [] })).toEqual([]);
      }),
      { numRuns: 200, seed: 20_260_101 },
    );
  });
});

// ── 3. determinism ──────────────────────────────────────────────────────────────────────────

const digestText = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('determinism', () => {
  it('the same events give the same canonical actions and digest, live and replayed', () => {
    fc.assert(
      fc.property(scenarioArb(), ({ timers, ops }) => {
        const config = scenarioConfig(timers);
        const a = new Scenario(config, { canonical: true, record: true });
        a.run(ops);
        const b = new Scenario(config, { canonical: true, record: true });
        b.run(ops);
        expect(b.d.events).toEqual(a.d.events);
        expect(b.d.canonical!.lines).toEqual(a.d.canonical!.lines);

        const log = a.d.events!.join('\n');
        const deps = { sha256, digestText };
        const r1 = replayLog(log, deps, () => null);
        const r2 = replayLog(log, deps, () => null);
        expect(r1.errors).toEqual([]);
        expect(r1.events).toBe(a.d.events!.length);
        expect(r1.lines).toEqual(a.d.canonical!.lines);
        expect(r2.digest).toBe(r1.digest);
        expect(r1.digest).toBe(digestText(a.d.canonical!.lines.join('\n')));
      }),
      { numRuns: 30 },
    );
  });
});

// ── the checker itself ──────────────────────────────────────────────────────────────────────

describe('the invariant checker', () => {
  it('parses options as the spec says', () => {
    expect(staticTalkgroups(ascii('TS1=1,2;TS2=91'), 64)).toEqual([[1, 2], [91]]);
    expect(staticTalkgroups(ascii(' TS2 = 91 , 92 ;TS1=x,3'), 64)).toEqual([[3], [91, 92]]);
    expect(staticTalkgroups(ascii('TS1=1=2;TS2=0,16777215,16777214'), 64)).toEqual([[], [16777214]]);
    expect(staticTalkgroups(ascii('TS2=1;TS2=2,2,3;ts1=5'), 2)).toEqual([[5], [2, 3]]);
    expect(staticTalkgroups(ascii('TS1="9";TS2=\'8\''), 64)).toEqual([[9], [8]]);
  });

  it('reports each kind of violation it claims to check', () => {
    // A checker fed by hand through its wrapped sink: the core is not involved.
    const fake = new InvariantChecker();
    const sink = fake.wrap({ send() {}, fanOut() {}, log() {} });
    fake.observeEvent({ kind: 'started', now: 0, seed: 1, config: baseConfig() });
    const target = (peerId: number, slot: 1 | 2, port = peerId): Target => ({ socket: 0, address: `10.9.0.${peerId}`, port, peerId, slotBit: slot === 2 ? 0x80 : 0 });
    const receive = (now: number, from: number, b: Uint8Array): void =>
      fake.observeEvent({ kind: 'datagram-received', now, socket: 0, address: `10.9.0.${from}`, port: from, bytes: b });
    // Peers 1, 2, 3 log in, as the checker sees it: RPTACK to their RPTK, RPTC and RPTO.
    for (const [id, opts] of [[1, 'TS2=91'], [2, 'TS2=91'], [3, 'TS1=2']] as const) {
      for (const req of [encodeRptk(id, new Uint8Array(32)), encodeRptc({ peerId: id }), encodeRpto(id, opts)]) {
        receive(0, id, req);
        sink.send(0, `10.9.0.${id}`, id, encodeRptack(id));
        fake.afterEvent();
      }
    }
    expect(fake.subscriptions(2)).toEqual({ ts1: [], ts2: [91] });
    expect(fake.subscriptions(3)).toEqual({ ts1: [2], ts2: [] });
    const call = callPackets({ peerId: 1, src: 9, tg: 91, slot: 2, streamId: 0x77, superframes: 1, tag: 5 });
    const other = callPackets({ peerId: 2, src: 8, tg: 91, slot: 2, streamId: 0x78, superframes: 1, tag: 6 });
    const start = (stream: number): void => sink.log({ code: 'call.start', level: 'info', stream });
    const codes = (): string[] => fake.violations().map((v) => v.slice(1, v.indexOf(']')));

    receive(0, 1, call[0]!);
    start(0x77);
    sink.fanOut(call[0]!, [target(2, 2)], 1);
    expect(fake.violations()).toEqual([]); // a correct delivery
    sink.fanOut(call[0]!, [target(2, 2)], 1);
    expect(codes()).toEqual(['duplicate']);
    sink.fanOut(call[0]!, [target(3, 2)], 1);
    expect(codes()).toContain('not-subscribed'); // 3 has TG 2 on TS1 only
    sink.fanOut(call[0]!, [target(1, 2)], 1);
    expect(codes()).toContain('own-packet');
    sink.fanOut(call[1]!, [target(2, 2)], 1);
    expect(codes()).toContain('never-sent'); // nobody sent this burst yet
    receive(10, 2, other[0]!);
    sink.fanOut(other[0]!, [target(3, 1)], 1);
    expect(codes()).toContain('stream-not-live'); // no call.start for 0x78
    start(0x78);
    sink.fanOut(other[0]!, [target(2, 2)], 1);
    expect(codes()).toContain('collision'); // 2's TS2 got 0x77 10 ms ago
    sink.fanOut(call[0]!, [target(2, 2, 999)], 1);
    expect(codes()).toContain('not-connected');
    sink.send(0, '10.9.0.7', 7, encodeRptack(7));
    expect(codes()).toContain('misaddressed-reply');
    const idle = new Driver({ config: baseConfig() });
    fake.finish(idle.core);
    expect(codes()).toContain('stream-not-ended'); // 0x77 and 0x78 never ended
  });
});
