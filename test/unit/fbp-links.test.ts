// FBP links (FreeDMR bridge protocol, DMRE v5 with BLAKE2b, BC* control), from both ends: FreeDMR's
// captured frames reach the subscribed peers; a peer's call leaves as a signed DMRE v5 with this
// server as its source and hop 1; calls in transit go on to the other FBP links with one hop more,
// never back and never to an OpenBridge v1 link; what is refused (too many hops, too old, a loop,
// from ourselves) is answered with a BCSQ; a received BCSQ quenches the stream on that link for a
// while; keepalives, version advertisements, the silence warning, address following, the BCVE
// answer to a v1 frame, and a call carried on over a second path when its first path goes quiet.

import { describe, expect, it } from 'vitest';
import type { CoreConfig, LinkConfig } from '../../src/core/index.js';
import { decodeFbp, DMRE, dmreHops, dmreSourceRepeater, dmreSourceServer, dmreTimeMs, encodeBc, fbpKeys, fbpKind, verifyBc, verifyDmre, writeDmre } from '../../src/protocol/fbp/index.js';
import { readU24, readU32 } from '../../src/protocol/index.js';
import { capture } from '../support/fixtures.js';
import { testConfig, voiceCall, World, type Sent } from '../support/harness.js';
import { readPcapUdp } from '../support/pcap.js';

/** FreeDMR (SERVER_ID 9990) to its FBP target, key "passw0rd": DMRE v5 calls on TG 23001 and BCKA. */
const FREEDMR_FBP = readPcapUdp(capture('freedmr-openbridge-fbp5.pcap')).map((r) => r.payload);

const SERVER = 9991;
const FD = { socket: 1, address: '127.0.0.1', port: 62044 };
const OTHER = { socket: 2, address: '127.0.0.1', port: 62050 };
const V1 = { socket: 3, address: '127.0.0.1', port: 62060 };
const KEYS = fbpKeys('passw0rd');
const OTHER_KEYS = fbpKeys('other key');

function fbpLink(at: { socket: number; address: string; port: number }, patch: Partial<LinkConfig> = {}): LinkConfig {
  return { name: `l${at.socket}`, ...at, passphrase: 'passw0rd', networkId: 0, preserveSourcePeer: false, checkSource: true, talkgroups: [], protocol: 'fbp', ...patch };
}

function world(links: LinkConfig[], patch: (c: CoreConfig) => void = () => {}): World {
  return new World(
    testConfig((c) => {
      c.serverId = SERVER;
      c.links = links;
      patch(c);
    }),
  );
}

/** One datagram on a link's socket, from its far end (or `from`). */
function onLink(w: World, at: { socket: number; address: string; port: number }, f: Uint8Array, from: { address?: string; port?: number } = {}): Sent[] {
  return w.datagram(from.port ?? at.port, f, from.address ?? at.address, at.socket);
}

/** A call as DMRE v5 frames from another server: `hops` so far, entered the mesh at `server`. */
function dmreCall(o: { streamId: number; tg: number; hops?: number; server?: number; keys?: typeof KEYS; timeMs?: number; src?: number; superframes?: number }): Uint8Array[] {
  return voiceCall({ peerId: 9990, src: o.src ?? 3100123, tg: o.tg, slot: 1, streamId: o.streamId, superframes: o.superframes ?? 1 }).map((d) => {
    const out = new Uint8Array(89);
    writeDmre(out, d, { version: 5, sourceServer: o.server ?? 3101, sourceRepeater: 310012301, hops: o.hops ?? 1 }, o.timeMs ?? 0, (o.keys ?? KEYS).blake2b);
    return out;
  });
}

const dmrdTo = (sent: Sent[], port: number): Sent[] => sent.filter((s) => s.port === port && s.socket === 0);
const onSocket = (sent: Sent[], socket: number): Sent[] => sent.filter((s) => s.socket === socket);
const tagOf = (b: Uint8Array): string => String.fromCharCode(b[0]!, b[1]!, b[2]!, b[3]!);

describe('FBP links', () => {
  it('takes FreeDMR\'s captured DMRE calls to the subscribed peers, frame by frame, and its keepalives as signs of life', () => {
    const w = world([fbpLink(FD, { networkId: 9990 })]);
    w.login(3100001, 5001, 'TS1=23001');
    const frames = FREEDMR_FBP.filter((f) => fbpKind(f) === 'dmre-v5');
    expect(frames.length).toBeGreaterThan(0);
    const got: Sent[] = [];
    for (const f of FREEDMR_FBP) {
      w.now += 60;
      got.push(...onLink(w, FD, f));
    }
    const toPeer = dmrdTo(got, 5001);
    expect(toPeer).toHaveLength(frames.length);
    toPeer.forEach((s, i) => {
      expect(tagOf(s.bytes)).toBe('DMRD');
      expect(s.bytes.length).toBe(55);
      // The DMRD inside: header and burst as FreeDMR sent them, our peer's ID, TS1.
      expect(s.bytes.subarray(4, 11)).toEqual(frames[i]!.subarray(4, 11));
      expect(s.bytes.subarray(15, 53)).toEqual(frames[i]!.subarray(15, 53));
      expect(readU32(s.bytes, 11)).toBe(3100001);
    });
    // Nothing refused, so no quench went back.
    expect(onSocket(got, FD.socket).filter((s) => tagOf(s.bytes) === 'BCSQ')).toEqual([]);
    expect(w.core.stats()).toContainEqual(['fbp.keepalive', FREEDMR_FBP.filter((f) => fbpKind(f) === 'bcka').length]);
  });

  it('sends a peer\'s call as signed DMRE v5: our ID, TS1, hop 1, this server and the peer as its origin, our clock', () => {
    const w = world([fbpLink(FD)]);
    w.now = 5_000;
    w.login(3100001, 5001, 'TS2=2350');
    const call = voiceCall({ peerId: 3100001, src: 3100123, tg: 2350, slot: 2, streamId: 0x2350 });
    const out = onSocket(w.play(5001, call), FD.socket).filter((s) => tagOf(s.bytes) === 'DMRE');
    expect(out).toHaveLength(call.length);
    out.forEach((s, i) => {
      const f = s.bytes;
      expect([f.length, fbpKind(f), verifyDmre(f, KEYS.blake2b), verifyDmre(f, OTHER_KEYS.blake2b)]).toEqual([89, 'dmre-v5', true, false]);
      expect([s.address, s.port]).toEqual([FD.address, FD.port]);
      expect(f.subarray(4, 11)).toEqual(call[i]!.subarray(4, 11));
      expect(readU32(f, 11)).toBe(SERVER);
      expect(f[15]).toBe(call[i]![15]! & 0x7f);
      expect([f[DMRE.VERSION], dmreSourceServer(f), dmreSourceRepeater(f), dmreHops(f)]).toEqual([5, SERVER, 3100001, 1]);
      // The core's clock plus the wall-clock offset of the started event (0 here).
      expect(Math.abs(dmreTimeMs(f) - (5_000 + 60 * (i + 1) + 60 * 0))).toBeLessThan(2_000);
    });
  });

  it('carries a call in transit to the other FBP links with one hop more, never back and never to an OpenBridge v1 link', () => {
    const v1: LinkConfig = { name: 'v1', ...V1, passphrase: 'passw0rd', networkId: 0, preserveSourcePeer: false, checkSource: true, talkgroups: [] };
    const w = world([fbpLink(FD), fbpLink(OTHER, { passphrase: 'other key' }), v1]);
    w.login(3100001, 5001, 'TS1=2350');
    // The other FBP link has been heard from (a transit call goes only to a link that is alive).
    onLink(w, OTHER, encodeBc({ kind: 'bcka' }, OTHER_KEYS.hmac));
    const frames = dmreCall({ streamId: 77, tg: 2350, hops: 3 });
    const got: Sent[] = [];
    for (const f of frames) {
      w.now += 60;
      got.push(...onLink(w, FD, f));
    }
    const transit = onSocket(got, OTHER.socket).filter((s) => tagOf(s.bytes) === 'DMRE');
    expect(transit).toHaveLength(frames.length);
    for (const s of transit) {
      expect(verifyDmre(s.bytes, OTHER_KEYS.blake2b)).toBe(true);
      expect([dmreHops(s.bytes), dmreSourceServer(s.bytes), dmreSourceRepeater(s.bytes), readU32(s.bytes, 11)]).toEqual([4, 3101, 310012301, SERVER]);
    }
    expect(onSocket(got, FD.socket).filter((s) => tagOf(s.bytes) === 'DMRE')).toEqual([]);
    expect(onSocket(got, V1.socket)).toEqual([]);
    expect(dmrdTo(got, 5001)).toHaveLength(frames.length);
  });

  it('does not carry a call in transit to a link never heard from, and stops feeding one silent for a minute', () => {
    const w = world([fbpLink(FD), fbpLink(OTHER, { passphrase: 'other key' })]);
    w.login(3100001, 5001, 'TS1=2350');
    const first = dmreCall({ streamId: 81, tg: 2350 });
    const a: Sent[] = [];
    for (const f of first) (w.now += 60), a.push(...onLink(w, FD, f));
    expect(onSocket(a, OTHER.socket).filter((s) => tagOf(s.bytes) === 'DMRE')).toEqual([]);
    // A peer's call still goes to a link never heard from (it may be a passive far end), but not
    // to one that has been silent for a minute.
    w.now += 2_000;
    const peerCall = voiceCall({ peerId: 3100001, src: 3100123, tg: 2350, slot: 1, streamId: 82 });
    expect(onSocket(w.play(5001, peerCall), OTHER.socket).filter((s) => tagOf(s.bytes) === 'DMRE')).toHaveLength(peerCall.length);
    onLink(w, OTHER, encodeBc({ kind: 'bcka' }, OTHER_KEYS.hmac));
    w.advance(61_000);
    const late = voiceCall({ peerId: 3100001, src: 3100123, tg: 2350, slot: 1, streamId: 83 });
    expect(onSocket(w.play(5001, late), OTHER.socket).filter((s) => tagOf(s.bytes) === 'DMRE')).toEqual([]);
  });

  it('refuses a call with too many hops, a stale timestamp or that started here, and answers each with one BCSQ', () => {
    const w = world([fbpLink(FD, { maxHops: 10 })], (c) => {
      c.routing.ts1Static = [2350];
    });
    w.login(3100001, 5001);
    w.now = 100_000;
    const cases: [string, Uint8Array[]][] = [
      ['fbp.too-many-hops', dmreCall({ streamId: 91, tg: 2350, hops: 10, timeMs: 100_000 })],
      ['fbp.stale', dmreCall({ streamId: 92, tg: 2350, timeMs: 100_000 - 6_000 })],
      ['fbp.own-call', dmreCall({ streamId: 93, tg: 2350, server: SERVER, timeMs: 100_000 })],
      ['fbp.bad-source-server', dmreCall({ streamId: 94, tg: 2350, server: 12, timeMs: 100_000 })],
      ['obp.local-talkgroup', dmreCall({ streamId: 95, tg: 70, timeMs: 100_000 })],
    ];
    for (const [code, frames] of cases) {
      const got: Sent[] = [];
      for (const f of frames.slice(0, 5)) got.push(...onLink(w, FD, f));
      expect(dmrdTo(got, 5001), code).toEqual([]);
      const quench = onSocket(got, FD.socket);
      expect(quench.map((s) => tagOf(s.bytes)), code).toEqual(['BCSQ']);
      const q = quench[0]!.bytes;
      expect(verifyBc(q, 'bcsq', KEYS.hmac)).toBe(true);
      expect([readU24(q, 4), readU32(q, 7)]).toEqual([readU24(frames[0]!, 8), readU32(frames[0]!, 16)]);
      expect(w.core.stats().find(([k]) => k === code)?.[1], code).toBe(5);
    }
  });

  it('drops a second copy of a call from another FBP link as a loop and quenches it there', () => {
    const w = world([fbpLink(FD), fbpLink(OTHER, { passphrase: 'other key' })]);
    w.login(3100001, 5001, 'TS1=2350');
    const a = dmreCall({ streamId: 99, tg: 2350 });
    const b = dmreCall({ streamId: 99, tg: 2350, keys: OTHER_KEYS });
    const got: Sent[] = [];
    for (let i = 0; i < a.length; i++) {
      w.now += 60;
      got.push(...onLink(w, FD, a[i]!), ...onLink(w, OTHER, b[i]!));
    }
    expect(dmrdTo(got, 5001)).toHaveLength(a.length);
    const q = onSocket(got, OTHER.socket).filter((s) => tagOf(s.bytes) === 'BCSQ');
    // One quench a second at most while the copies keep coming.
    expect(q).toHaveLength(1);
    expect(readU32(q[0]!.bytes, 7)).toBe(99);
    expect(w.core.stats()).toContainEqual(['stream.loop', a.length]);
  });

  it('honours a BCSQ: the stream stops on that link, and the quench lapses after 2 s unless renewed', () => {
    const w = world([fbpLink(FD)]);
    w.login(3100001, 5001, 'TS1=2350');
    onLink(w, FD, encodeBc({ kind: 'bcka' }, KEYS.hmac));
    const call = voiceCall({ peerId: 3100001, src: 3100123, tg: 2350, slot: 1, streamId: 0x77, superframes: 8 });
    const sentAt: number[] = [];
    for (let i = 0; i < call.length; i++) {
      w.now += 60;
      const out = w.datagram(5001, call[i]!);
      if (onSocket(out, FD.socket).some((s) => tagOf(s.bytes) === 'DMRE')) sentAt.push(i);
      if (i === 3) onLink(w, FD, encodeBc({ kind: 'bcsq', tg: 2350, streamId: 0x77 }, KEYS.hmac));
    }
    // Frames 0-3 went out (the quench came with frame 3), then nothing until 2 s had passed.
    expect(sentAt.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(sentAt[4]).toBe(3 + Math.ceil(2000 / 60));
    expect(sentAt.slice(4)).toEqual(Array.from({ length: call.length - sentAt[4]! }, (_, k) => sentAt[4]! + k));
    expect(w.core.stats()).toContainEqual(['fbp.quench-received', 1]);
    // A BCSQ with a wrong MAC changes nothing.
    const bad = encodeBc({ kind: 'bcsq', tg: 2350, streamId: 0x78 }, OTHER_KEYS.hmac);
    onLink(w, FD, bad);
    expect(w.core.stats()).toContainEqual(['obp.bad-mac', 1]);
  });

  it('sends a keepalive every 10 s and its version every minute, and warns once a minute while it hears nothing', () => {
    const w = world([fbpLink(FD)]);
    const first = w.advance(0);
    expect(first.map((s) => tagOf(s.bytes))).toEqual(['BCKA', 'BCVE']);
    expect(verifyBc(first[0]!.bytes, 'bcka', KEYS.hmac)).toBe(true);
    expect(decodeFbp(first[1]!.bytes)).toMatchObject({ ok: true, value: { kind: 'bcve', version: 5 } });
    const minute = w.advance(60_000);
    expect(minute.filter((s) => tagOf(s.bytes) === 'BCKA')).toHaveLength(6);
    expect(minute.filter((s) => tagOf(s.bytes) === 'BCVE')).toHaveLength(1);
    const warned = () => w.sink.logs.filter((l) => l.code === 'link.silent');
    expect(warned()).toHaveLength(1);
    expect(warned()[0]!.detail).toMatch(/never heard from it/);
    w.advance(60_000);
    expect(warned()).toHaveLength(2);
    onLink(w, FD, encodeBc({ kind: 'bcka' }, KEYS.hmac));
    w.advance(59_000);
    expect(warned()).toHaveLength(2);
  });

  it('reports the link up when the far end is first heard, and down after a minute of silence, with its counts', () => {
    const w = world([fbpLink(FD)]);
    w.advance(0);
    w.now = 1000;
    onLink(w, FD, encodeBc({ kind: 'bcka' }, KEYS.hmac));
    onLink(w, FD, encodeBc({ kind: 'bcsq', tg: 2350, streamId: 5 }, KEYS.hmac));
    w.advance(70_000);
    const states = w.sink.reports.filter((r) => r.report === 'link-state');
    expect(states.map((r) => (r.report === 'link-state' ? [r.change, r.kind, r.reason, r.counts.quenchReceived] : []))).toEqual([
      ['up', 'fbp', '', 0],
      ['down', 'fbp', 'silent', 1],
    ]);
    const down = states[1]!;
    expect(down.report === 'link-state' && down.silentMs !== null && down.silentMs >= 60_000).toBe(true);
  });

  it('is not reported down for silence while the shell is behind; after the drain, if still silent', () => {
    const w = world([fbpLink(FD)]);
    w.advance(0);
    w.now = 1000;
    onLink(w, FD, encodeBc({ kind: 'bcka' }, KEYS.hmac));
    w.core.handle({ kind: 'backlog-changed', now: w.now, behind: true }, w.sink);
    w.advance(120_000);
    const changes = () => w.sink.reports.flatMap((r) => (r.report === 'link-state' ? [r.change] : []));
    expect(changes()).toEqual(['up']);
    w.core.handle({ kind: 'backlog-changed', now: w.now, behind: false }, w.sink);
    w.advance(10_000);
    expect(changes()).toEqual(['up', 'down']);
  });

  it('follows the far end to a new address on a verified keepalive only when follow_address is on', () => {
    const moved = { address: '127.0.0.2', port: 40000 };
    const off = world([fbpLink(FD)]);
    onLink(off, FD, encodeBc({ kind: 'bcka' }, KEYS.hmac), moved);
    expect(off.core.stats()).toContainEqual(['obp.wrong-source', 1]);
    expect(off.advance(10_000).every((s) => s.address === FD.address && s.port === FD.port)).toBe(true);

    const on = world([fbpLink(FD, { followAddress: true })]);
    onLink(on, FD, encodeBc({ kind: 'bcka' }, OTHER_KEYS.hmac), moved); // wrong key: ignored
    expect(on.advance(10_000).every((s) => s.address === FD.address)).toBe(true);
    onLink(on, FD, encodeBc({ kind: 'bcka' }, KEYS.hmac), moved);
    const after = on.advance(10_000);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => s.address === moved.address && s.port === moved.port)).toBe(true);
    expect(on.sink.logs.some((l) => l.code === 'link.address-changed')).toBe(true);
  });

  it('refuses a plain OpenBridge frame and answers with its version, at most once a second', () => {
    const w = world([fbpLink(FD)]);
    w.advance(0);
    const v1 = new Uint8Array(73);
    v1.set([0x44, 0x4d, 0x52, 0x44]);
    v1[16] = 1;
    const answers = [0, 100, 200, 1200].map((t) => {
      w.now = 1000 + t;
      return onSocket(onLink(w, FD, v1), FD.socket).map((s) => tagOf(s.bytes));
    });
    expect(answers).toEqual([['BCVE'], [], [], ['BCVE']]);
    expect(w.core.stats()).toContainEqual(['fbp.v1-frame', 4]);
    expect(w.sink.logs.filter((l) => l.code === 'link.dropped' && l.reason === 'fbp.v1-frame' && l.level === 'warn')).toHaveLength(1);
  });

  it('carries a call on over another FBP link when the first path goes quiet mid-call, never twice', () => {
    const w = world([fbpLink(FD), fbpLink(OTHER, { passphrase: 'other key' })]);
    w.login(3100001, 5001, 'TS1=2350');
    const a = dmreCall({ streamId: 123, tg: 2350, superframes: 3 }).slice(0, -1);
    const b = dmreCall({ streamId: 123, tg: 2350, keys: OTHER_KEYS, superframes: 3 });
    // Both paths bring frames 0-3; then the first path breaks; the second goes on.
    const got: Sent[] = [];
    for (let i = 0; i < b.length; i++) {
      w.now += 60;
      if (i < 4) got.push(...onLink(w, FD, a[i]!));
      got.push(...onLink(w, OTHER, b[i]!));
    }
    const heard = dmrdTo(got, 5001).map((s) => s.bytes[4]!);
    // No sequence number twice, frames 0-3 from the first path, and the call's end from the second.
    expect(new Set(heard).size).toBe(heard.length);
    expect(heard.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(heard[heard.length - 1]).toBe(b.length - 1);
    expect(heard.length).toBeGreaterThanOrEqual(b.length - 1 - Math.ceil(500 / 60));
    expect(w.core.stats()).toContainEqual(['fbp.failover', 1]);
  });
});
