// OpenBridge v1 links and local talkgroups, from both ends: what a peer's call puts on a link
// (TS1, this server's ID, a valid HMAC, the conference's talkgroup), what a link's frames reach
// (the subscribed peers, never another link), and what never crosses (local and prohibited
// talkgroups, frames with a bad MAC, from the wrong address or with the wrong network ID).
// Frames FreeDMR sent to its OpenBridge target (test/fixtures/captures) are the inbound input.

import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha1, sha1 } from '../../src/protocol/obp/hmac-sha1.js';
import type { CoreConfig, LinkConfig } from '../../src/core/index.js';
import { checkObpFrame, encodeDmrd, OBP, obpKey, readU24, readU32, signObp, verifyObp, writeU24 } from '../../src/protocol/index.js';
import { hmacSha1 } from '../support/crypto.js';
import { capture } from '../support/fixtures.js';
import { testConfig, World, type Sent } from '../support/harness.js';
import { readPcapUdp } from '../support/pcap.js';
import { lcDestinations, REF_CALLS, refCallPackets } from '../support/voice-frames.js';

/** FreeDMR (SERVER_ID 9990) to its OpenBridge target 127.0.0.1:62045, key "passw0rd". */
const FREEDMR_OBP = readPcapUdp(capture('freedmr-openbridge-obp1.pcap')).map((r) => r.payload);
const FREEDMR_FBP = readPcapUdp(capture('freedmr-openbridge-fbp5.pcap')).map((r) => r.payload);

const FD_ADDR = '127.0.0.1';
const FD_PORT = 62044;
const LINK_SOCKET = 1;

function link(patch: Partial<LinkConfig> = {}): LinkConfig {
  return {
    name: 'freedmr',
    socket: LINK_SOCKET,
    address: FD_ADDR,
    port: FD_PORT,
    passphrase: 'passw0rd',
    networkId: 9990,
    preserveSourcePeer: false,
    checkSource: true,
    talkgroups: [],
    ...patch,
  };
}

function world(patch: (c: CoreConfig) => void = () => {}, links: LinkConfig[] = [link()]): World {
  return new World(
    testConfig((c) => {
      c.serverId = 9991;
      c.links = links;
      patch(c);
    }),
  );
}

const play = (w: World, port: number, packets: Uint8Array[]): Sent[] => w.play(port, packets);

/** Frames arriving on the link's socket from `from` (default the configured far end). */
function fromLink(w: World, frames: Uint8Array[], from: { address?: string; port?: number } = {}): Sent[] {
  const out: Sent[] = [];
  for (const f of frames) {
    w.now += 60;
    out.push(...w.datagram(from.port ?? FD_PORT, f, from.address ?? FD_ADDR, LINK_SOCKET));
  }
  w.now += 1000;
  return out;
}

/** A v1 frame of our own making: `dmrd`'s first 53 bytes, signed with `passphrase`. */
function obpFrame(dmrd: Uint8Array, passphrase = 'passw0rd'): Uint8Array {
  const f = new Uint8Array(OBP.FRAME);
  f.set(dmrd.subarray(0, 53));
  signObp(f, obpKey(passphrase), hmacSha1);
  return f;
}

/** The captured FreeDMR call re-addressed: new destination (and stream ID), re-signed. */
function capturedAs(tg: number, streamId?: number): Uint8Array[] {
  return FREEDMR_OBP.filter((f) => readU32(f, 16) === readU32(FREEDMR_OBP[FREEDMR_OBP.length - 1]!, 16)).map((f) => {
    const d = f.slice(0, 53);
    writeU24(d, 8, tg);
    if (streamId !== undefined) d.set([streamId >>> 24, (streamId >>> 16) & 0xff, (streamId >>> 8) & 0xff, streamId & 0xff], 16);
    return obpFrame(d);
  });
}

const onLink = (sent: Sent[]): Sent[] => sent.filter((s) => s.socket === LINK_SOCKET);
const toPeer = (sent: Sent[], port: number): Sent[] => sent.filter((s) => s.socket === 0 && s.port === port);
const ref2350 = REF_CALLS.find((c) => c.tg === 2350)!;
const refTg9 = REF_CALLS.find((c) => c.tg === 9)!;

describe('HMAC-SHA1 without allocation', () => {
  it('equals node:crypto for any key and message, at any offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150 }), fc.uint8Array({ maxLength: 300 }), fc.nat(8), (key, msg, at) => {
        const data = new Uint8Array(at + msg.length + 20);
        data.set(msg, at);
        const mac = new HmacSha1(key);
        mac.sign(data, at, msg.length, data, at + msg.length);
        const expected = createHmac('sha1', key).update(msg).digest();
        expect(Buffer.from(data.subarray(at + msg.length))).toEqual(expected);
        expect(mac.verify(data, at, msg.length, at + msg.length)).toBe(true);
        data[at + msg.length + (msg.length % 20)]! ^= 0x01;
        expect(mac.verify(data, at, msg.length, at + msg.length)).toBe(false);
        expect(Buffer.from(sha1(msg))).toEqual(createHash('sha1').update(msg).digest());
      }),
      { numRuns: 400 },
    );
  });
});

describe('OpenBridge v1 framing', () => {
  it('verifies every frame FreeDMR sent with the NUL-padded passphrase key, and no other key', () => {
    expect(FREEDMR_OBP.length).toBeGreaterThan(60);
    for (const f of FREEDMR_OBP) {
      expect(checkObpFrame(f)).toBeNull();
      expect(verifyObp(f, obpKey('passw0rd'), hmacSha1)).toBe(true);
      expect(verifyObp(f, obpKey('passw0rd!'), hmacSha1)).toBe(false);
      expect(readU32(f, 11)).toBe(9990); // FreeDMR stamps its SERVER_ID
      expect(f[15]! & 0x80).toBe(0); // TS1
    }
  });

  it('keys are 20 bytes: shorter passphrases padded with NULs, longer ones cut', () => {
    expect([...obpKey('ab')]).toEqual([0x61, 0x62, ...new Array(18).fill(0)]);
    const long = 'abcdefghijklmnopqrstuvwxyz';
    expect(obpKey(long)).toEqual(obpKey(long.slice(0, 20)));
    const f = obpFrame(encodeDmrd({ seq: 0, src: 1, dst: 2350, peerId: 1, slot: 1, frame: 0x21, streamId: 7 }), long);
    expect(verifyObp(f, obpKey(long.slice(0, 20)), hmacSha1)).toBe(true);
  });

  it('names what is not a v1 frame', () => {
    const f = FREEDMR_OBP[0]!;
    expect(checkObpFrame(f.subarray(0, 72))).toBe('obp.bad-length');
    expect(checkObpFrame(new Uint8Array(3))).toBe('obp.unknown-tag');
    const tags = new Set(FREEDMR_FBP.map((p) => checkObpFrame(p)));
    expect(tags).toEqual(new Set(['obp.unsupported-tag'])); // DMRE, BCKA, BCVE: FreeDMR bridge protocol
    const nullStream = f.slice();
    nullStream.fill(0, 16, 20);
    expect(checkObpFrame(nullStream)).toBe('obp.null-stream');
  });
});

describe('a peer’s call on a link', () => {
  it('goes out on TS1 with this server’s ID and a valid MAC, once per frame, alongside the local receivers', () => {
    const w = world();
    w.login(1001, 5001);
    w.login(1002, 5002, 'TS2=2350;');
    const call = refCallPackets(ref2350, { peerId: 1001, slot: 2, streamId: 0xabc });
    const sent = play(w, 5001, call);
    const out = onLink(sent);
    expect(out).toHaveLength(call.length);
    for (const [i, s] of out.entries()) {
      expect([s.address, s.port]).toEqual([FD_ADDR, FD_PORT]);
      expect(s.bytes.length).toBe(73);
      expect(verifyObp(s.bytes, obpKey('passw0rd'), hmacSha1)).toBe(true);
      expect(readU32(s.bytes, 11)).toBe(9991);
      expect(s.bytes[15]).toBe(call[i]![15]! & 0x7f);
      expect(readU24(s.bytes, 8)).toBe(2350);
      // Everything else is the peer's frame, unchanged.
      expect(s.bytes.subarray(0, 11)).toEqual(call[i]!.subarray(0, 11));
      expect(s.bytes.subarray(16, 53)).toEqual(call[i]!.subarray(16, 53));
    }
    expect(toPeer(sent, 5002)).toHaveLength(call.length);
    const linkStats = Object.fromEntries(w.core.stats());
    expect(linkStats['link.freedmr.out']).toBe(call.length);
  });

  it('keeps local talkgroups (the FreeDMR defaults and the configured ones) on this server', () => {
    const w = world((c) => {
      c.routing.localTalkgroups = [...c.routing.localTalkgroups, [2351, 2351]];
    });
    w.login(1001, 5001);
    w.login(1002, 5002, 'TS1=70;TS2=2351;');
    let stream = 0x100;
    for (const [tg, slot] of [[70, 1], [2351, 2]] as const) {
      const sent = play(w, 5001, refCallPackets(ref2350, { peerId: 1001, slot, streamId: ++stream, dst: tg }));
      expect(onLink(sent)).toEqual([]);
      expect(toPeer(sent, 5002)).toHaveLength(8); // heard locally
    }
    // The same call on a talkgroup that is not local crosses.
    expect(onLink(play(w, 5001, refCallPackets(ref2350, { peerId: 1001, slot: 2, streamId: ++stream, dst: 2352 })))).toHaveLength(8);
  });

  it('never sends a prohibited talkgroup or, with a talkgroup list, one not on it', () => {
    const w = world(
      (c) => {
        c.routing.prohibited = [2353];
        c.routing.userActivation = true;
      },
      [link({ talkgroups: [2350] })],
    );
    w.login(1001, 5001, 'TS2=2353;');
    let stream = 0x200;
    expect(onLink(play(w, 5001, refCallPackets(ref2350, { peerId: 1001, slot: 2, streamId: ++stream, dst: 2353 })))).toEqual([]);
    expect(onLink(play(w, 5001, refCallPackets(ref2350, { peerId: 1001, slot: 2, streamId: ++stream, dst: 2352 })))).toEqual([]);
    expect(onLink(play(w, 5001, refCallPackets(ref2350, { peerId: 1001, slot: 2, streamId: ++stream })))).toHaveLength(8);
  });

  it('a call on the TG 9 dial lane goes out as the reflector’s talkgroup, link control rewritten', () => {
    const w = world();
    w.login(1001, 5001);
    play(w, 5001, [0x21, 0x22].map((frame, seq) => encodeDmrd({ seq, src: 3100001, dst: 2350, peerId: 1001, slot: 2, frame, unit: true, streamId: 0x300 })));
    w.advance(3000); // the dial prompt (none loaded) and hang time
    const out = onLink(play(w, 5001, refCallPackets(refTg9, { peerId: 1001, slot: 2, streamId: 0x301 })));
    expect(out).toHaveLength(8);
    expect(new Set(out.map((s) => readU24(s.bytes, 8)))).toEqual(new Set([2350]));
    const lc = lcDestinations(out.map((s) => s.bytes));
    expect(lc.full).toEqual([2350, 2350]);
    expect(lc.embedded).toBe(2350);
    for (const s of out) expect(verifyObp(s.bytes, obpKey('passw0rd'), hmacSha1)).toBe(true);
  });

  it('carries the originating peer’s ID when preserve_source_peer is set', () => {
    const w = world(() => {}, [link({ preserveSourcePeer: true })]);
    w.login(1001, 5001);
    const out = onLink(play(w, 5001, refCallPackets(ref2350, { peerId: 1001, slot: 2, streamId: 0x400 })));
    expect(out.map((s) => readU32(s.bytes, 11))).toEqual(new Array(8).fill(1001));
  });
});

describe('a link’s call to the peers', () => {
  it('FreeDMR’s captured call reaches every peer on its talkgroup, on that peer’s slot, and never goes back out', () => {
    const w = world();
    w.login(1001, 5001, 'TS1=23001;');
    w.login(1002, 5002, 'TS2=23001;');
    w.login(1003, 5003, 'TS2=91;');
    const main = FREEDMR_OBP.filter((f) => readU32(f, 16) === 146707360);
    const sent = fromLink(w, main);
    expect(onLink(sent)).toEqual([]);
    expect(toPeer(sent, 5003)).toEqual([]);
    for (const [port, peer, slotBit] of [[5001, 1001, 0], [5002, 1002, 0x80]] as const) {
      const got = toPeer(sent, port);
      expect(got).toHaveLength(main.length);
      for (const [i, s] of got.entries()) {
        expect(s.bytes.length).toBe(55);
        expect(readU32(s.bytes, 11)).toBe(peer);
        expect(s.bytes[15]).toBe((main[i]![15]! & 0x7f) | slotBit);
        expect(s.bytes.subarray(16, 53)).toEqual(main[i]!.subarray(16, 53));
        expect(readU24(s.bytes, 8)).toBe(23001);
      }
    }
    expect(Object.fromEntries(w.core.stats())['link.freedmr.in']).toBe(main.length);
  });

  it('a link’s call is reported like a peer’s (the link’s network ID as its peer), and ends with the server', () => {
    const w = world();
    w.login(1001, 5001, 'TS1=23001;');
    const frames = capturedAs(23001, 0x9100).slice(0, 10);
    fromLink(w, frames);
    const start = w.sink.reports.find((r) => r.report === 'call-start' && r.stream === 0x9100);
    expect(start).toMatchObject({ peer: 9990, src: readU24(frames[0]!, 5), dst: 23001, slot: 1, callType: 'group' });
    w.core.handle({ kind: 'shutdown-requested', now: w.now }, w.sink);
    const end = w.sink.reports.find((r) => r.report === 'call-end' && r.stream === 0x9100);
    expect(end).toMatchObject({ peer: 9990, reason: 'shutdown', packets: 10, receivers: 1 });
  });

  it('reaches a peer whose dial lane is linked to that talkgroup as TG 9', () => {
    const w = world();
    w.login(1001, 5001, 'DIAL=23001;');
    const got = toPeer(fromLink(w, capturedAs(23001)), 5001);
    expect(got.length).toBeGreaterThan(0);
    expect(new Set(got.map((s) => readU24(s.bytes, 8)))).toEqual(new Set([9]));
    expect(lcDestinations(got.map((s) => s.bytes)).full.every((d) => d === 9)).toBe(true);
  });

  it('drops, counts and never routes frames with a bad MAC, from the wrong place, with the wrong ID, on TS2, or on a local talkgroup', () => {
    const w = world();
    w.login(1001, 5001, 'TS1=23001;TS2=70;');
    const base = capturedAs(23001);
    const cases: [string, Uint8Array[], { address?: string; port?: number }][] = [
      ['obp.bad-mac', base.map((f) => f.map((x, i) => (i === 60 ? x ^ 1 : x)) as Uint8Array), {}],
      ['obp.wrong-source', base, { port: FD_PORT + 1 }],
      ['obp.wrong-source', base, { address: '127.0.0.2' }],
      ['obp.wrong-network-id', base.map((f) => obpFrame(((d) => (d.set([0, 0, 0x27, 0x08], 11), d))(f.slice(0, 53)))), {}],
      ['obp.ts2-group', base.map((f) => obpFrame(((d) => ((d[15] = d[15]! | 0x80), d))(f.slice(0, 53)))), {}],
      ['obp.unit-call', base.map((f) => obpFrame(((d) => ((d[15] = d[15]! | 0x40), d))(f.slice(0, 53)))), {}],
      ['obp.local-talkgroup', capturedAs(70, 0x5550), {}],
      ['obp.unsupported-tag', FREEDMR_FBP, {}],
    ];
    for (const [code, frames, from] of cases) {
      const before = Object.fromEntries(w.core.stats())[code] ?? 0;
      expect(fromLink(w, frames, from), code).toEqual([]);
      expect(Object.fromEntries(w.core.stats())[code], code).toBe(before + frames.length);
    }
    // The untouched call still goes through afterwards.
    expect(toPeer(fromLink(w, base), 5001)).toHaveLength(base.length);
  });

  it('takes frames from any address when check_source is off, and any ID when network_id is 0', () => {
    const w = world(() => {}, [link({ checkSource: false, networkId: 0 })]);
    w.login(1001, 5001, 'TS1=23001;');
    const frames = capturedAs(23001).map((f) => obpFrame(((d) => (d.set([0, 0, 0, 1], 11), d))(f.slice(0, 53))));
    expect(toPeer(fromLink(w, frames, { address: '192.0.2.9', port: 40000 }), 5001)).toHaveLength(frames.length);
  });

  it('with a talkgroup list, drops the talkgroups not on it', () => {
    const w = world(() => {}, [link({ talkgroups: [2350] })]);
    w.login(1001, 5001, 'TS1=23001;');
    const frames = capturedAs(23001);
    expect(fromLink(w, frames)).toEqual([]);
    expect(Object.fromEntries(w.core.stats())['obp.talkgroup-not-carried']).toBe(frames.length);
  });
});

describe('loops', () => {
  it('a stream ID seen from a link is dropped when a peer sends it, and the other way round', () => {
    const w = world();
    w.login(1001, 5001, 'TS1=23001;');
    w.login(1002, 5002, 'TS1=23001;');
    const frames = capturedAs(23001, 0x6000);
    expect(toPeer(fromLink(w, frames), 5002)).toHaveLength(frames.length);
    // 1001 heard it and sends it back with the same stream ID (a hotspot on both networks).
    const echoBack = refCallPackets(ref2350, { peerId: 1001, slot: 1, streamId: 0x6000, dst: 23001 });
    const sent = play(w, 5001, echoBack);
    expect(sent).toEqual([]);
    expect(Object.fromEntries(w.core.stats())['stream.loop']).toBeGreaterThan(0);

    // A peer's stream that comes back in on the link is dropped too.
    const out = onLink(play(w, 5001, refCallPackets(ref2350, { peerId: 1001, slot: 1, streamId: 0x7000, dst: 23001 })));
    expect(out).toHaveLength(8);
    const returned = out.map((s) => obpFrame(((d) => (d.set([0, 0, 0x27, 0x06], 11), d))(s.bytes.slice(0, 53))));
    expect(fromLink(w, returned)).toEqual([]);
  });

  it('two links: a call from one never goes out on the other', () => {
    const w = world(() => {}, [link(), link({ name: 'second', socket: 2, port: FD_PORT + 10 })]);
    w.login(1001, 5001, 'TS1=23001;');
    const sent = fromLink(w, capturedAs(23001));
    expect(sent.filter((s) => s.socket !== 0)).toEqual([]);
    expect(toPeer(sent, 5001).length).toBeGreaterThan(0);
    // A peer's call goes out on both.
    const out = play(w, 5001, refCallPackets(ref2350, { peerId: 1001, slot: 1, streamId: 0x8000, dst: 23001 }));
    expect(new Set(out.filter((s) => s.socket !== 0).map((s) => s.socket))).toEqual(new Set([1, 2]));
  });
});
