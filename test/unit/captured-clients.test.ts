// The client side of real captured sessions (MMDVMHost through DMRGateway, and scripted peers) fed
// to the core: every login succeeds, every reply has the tag, length and ID FreeDMR answered with,
// and every voice frame FreeDMR forwarded in the capture, dmrhub forwards byte for byte.
//
// The one change to the captured bytes: RPTK carries SHA-256(salt ‖ passphrase) for the salt of the
// capture's server, so the test recomputes it for the salt dmrhub sent, exactly as the client does.

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeRptk, hbpKind, HbpKind, parseMasterReply, readU32, toHex } from '../../src/protocol/index.js';
import { loginDigest } from '../support/crypto.js';
import { World, type Sent } from '../support/harness.js';
import { CAPTURES } from '../support/fixtures.js';
import { readPcapUdp, type UdpRecord } from '../support/pcap.js';

const MASTER_PORTS = new Set([54000, 54001, 54002, 62031]);

interface Exchange {
  input: UdpRecord;
  ours: Sent[];
}

function feed(file: string): { exchanges: Exchange[]; theirs: UdpRecord[]; world: World } {
  const records = readPcapUdp(resolve(CAPTURES, file));
  const world = new World();
  const salts = new Map<number, number>();
  const exchanges: Exchange[] = [];
  const theirs = records.filter((r) => MASTER_PORTS.has(r.srcPort));
  for (const r of records) {
    if (!MASTER_PORTS.has(r.dstPort)) continue; // master replies and the gateway-local link
    const now = Math.floor(r.timeUs / 1000);
    if (now > world.now) world.advance(now - world.now);
    let bytes = r.payload;
    if (hbpKind(bytes) === HbpKind.RPTK) bytes = encodeRptk(readU32(bytes, 4), loginDigest(salts.get(r.srcPort)!, 'passw0rd'));
    const ours = world.datagram(r.srcPort, bytes, r.srcAddr);
    for (const s of ours) {
      const reply = parseMasterReply(s.bytes);
      if (hbpKind(r.payload) === HbpKind.RPTL && reply.ok && reply.value.tag === 'RPTACK') salts.set(r.srcPort, reply.value.arg);
    }
    exchanges.push({ input: r, ours });
  }
  return { exchanges, theirs, world };
}

const TAGS = ['RPTACK', 'MSTNAK', 'MSTPONG', 'MSTCL'];
const tag = (b: Uint8Array): string => TAGS.find((t) => String.fromCharCode(...b.subarray(0, t.length)) === t) ?? '?';

describe('captured clients against the core', () => {
  for (const file of ['dmrgateway-freedmr-login.pcap', 'freedmr-dmrgateway-session.pcap']) {
    it(`${file}: every client logs in and every reply matches FreeDMR's in tag, length and ID`, () => {
      const { exchanges, theirs, world } = feed(file);
      const logins = new Set<number>();
      for (const { input, ours } of exchanges) {
        const kind = hbpKind(input.payload);
        if (kind === HbpKind.DMRD) continue;
        // FreeDMR's reply to the same datagram: the next master datagram to that client port.
        const theirReply = theirs.find((t) => t.dstPort === input.srcPort && t.timeUs >= input.timeUs && hbpKind(t.payload) !== HbpKind.DMRD);
        const peerId = readU32(input.payload, kind === HbpKind.RPTPING ? 7 : kind === HbpKind.RPTCL ? 5 : 4);
        if (kind === HbpKind.RPTCL) {
          // dmrhub sends nothing to a peer that closed (FreeDMR answers with MSTNAK); the session is gone.
          expect(ours).toEqual([]);
          expect(world.core.peers().some((p) => p.peerId === peerId)).toBe(false);
          continue;
        }
        expect(ours, `reply to ${String.fromCharCode(...input.payload.subarray(0, 4))} from port ${input.srcPort}`).toHaveLength(1);
        const mine = ours[0]!.bytes;
        expect(theirReply).toBeDefined();
        expect(tag(mine)).toBe(tag(theirReply!.payload));
        expect(mine.length).toBe(theirReply!.payload.length);
        expect(ours[0]!.port).toBe(input.srcPort);
        if (kind === HbpKind.RPTL) expect(mine.length).toBe(10);
        else expect(readU32(mine, mine.length - 4)).toBe(peerId);
        if (kind === HbpKind.RPTO) logins.add(peerId);
      }
      expect(logins.size).toBeGreaterThan(0);
      for (const id of logins) expect(world.core.peers().find((p) => p.peerId === id)?.state ?? 'gone').toMatch(/connected|gone/);
    });
  }

  it('the session capture: every frame FreeDMR forwarded, dmrhub forwards with identical bytes', () => {
    const { exchanges, theirs, world } = feed('freedmr-dmrgateway-session.pcap');
    const forwardedByThem = theirs.filter((t) => hbpKind(t.payload) === HbpKind.DMRD);
    expect(forwardedByThem.length).toBeGreaterThan(20);
    const ours = new Map<number, string[]>();
    for (const { ours: sent } of exchanges)
      for (const s of sent) if (s.forwarded) (ours.get(s.port) ?? ours.set(s.port, []).get(s.port)!).push(toHex(s.bytes));
    for (const t of forwardedByThem) {
      const list = ours.get(t.dstPort) ?? [];
      expect(list, `frame to port ${t.dstPort} at ${(t.timeUs / 1e6).toFixed(3)} s`).toContain(toHex(t.payload));
    }
    // The captured peers all subscribe TS2=23001, so the talker's calls reach both other peers.
    expect(world.core.peers().map((p) => p.ts2)).toEqual(world.core.peers().map(() => [23001]));
    // And nothing is ever sent back to the talker.
    const talkerPort = exchanges.find((e) => hbpKind(e.input.payload) === HbpKind.DMRD)!.input.srcPort;
    expect(ours.get(talkerPort) ?? []).toEqual([]);
  });
});
