// The fuzz world's fixed cast: the core's config (HBP, an OpenBridge v1 link, two FBP links, an
// uplink), the bystander peers that must never be disturbed, the fuzzed peers, and the material
// the generators draw from (captured traffic, correctly encoded voice bursts).

import { readFileSync } from 'node:fs';
import type { CoreConfig, LinkConfig, UplinkConfig } from '../../src/core/index.js';
import { fromHex } from '../../src/protocol/index.js';
import { capture, VOICE_FRAMES } from '../support/fixtures.js';
import { testConfig } from '../support/harness.js';
import { readPcapUdp } from '../support/pcap.js';

export const PASS = 'passw0rd';
export const SERVER_ID = 9991;
/** The wall clock at core time 0 (fixed, so a seed replays the same FBP timestamps). */
export const WALL0 = 1_767_225_600_000;

export interface Addr {
  socket: number;
  address: string;
  port: number;
}

export const OBP_LINK: Addr = { socket: 1, address: '10.9.0.1', port: 62044 };
export const FBP_LINK: Addr = { socket: 2, address: '10.9.0.2', port: 62045 };
export const FBP_LINK_2: Addr = { socket: 3, address: '10.9.0.3', port: 62046 };
export const UPLINK: Addr = { socket: 4, address: '10.9.0.4', port: 62031 };
export const FBP_2_PASS = 'fbp-three';
export const UPLINK_PASS = 'up-pass';
export const UPLINK_PEER = 9991001;
/** Sockets 0–4 are the core's; 5 is a socket it does not know. */
export const SOCKETS = 6;

function link(at: Addr, name: string, patch: Partial<LinkConfig>): LinkConfig {
  return { name, socket: at.socket, address: at.address, port: at.port, passphrase: PASS, networkId: 0, preserveSourcePeer: false, checkSource: true, talkgroups: [], ...patch };
}

const uplink: UplinkConfig = {
  name: 'up',
  socket: UPLINK.socket,
  address: UPLINK.address,
  port: UPLINK.port,
  passphrase: UPLINK_PASS,
  peerId: UPLINK_PEER,
  rptc: {
    callsign: 'N0HUB', rxFreq: '000000000', txFreq: '000000000', txPower: '00', colorCode: '01', latitude: '51.5000', longitude: '-0.1200',
    height: '000', location: 'Fuzz', description: 'fuzz uplink', slots: '3', url: 'https://example.org', softwareId: 'dmrhub', packageId: '0.1.0',
  },
  options: 'TS2=91;TS1=2350',
  ts1: null,
  ts2: null,
  loose: false,
  xlxModule: 0,
  pingIntervalMs: 10_000,
  maxMissedPongs: 3,
  retryMinMs: 1000,
  retryMaxMs: 30_000,
};

export function fuzzConfig(): CoreConfig {
  return testConfig((c) => {
    c.serverId = SERVER_ID;
    c.hbp.passphrase = PASS;
    c.routing.ts1Static = [2350];
    c.routing.ts2Static = [91];
    c.routing.privateCalls = true;
    c.routing.prohibited = [666];
    c.links = [
      link(OBP_LINK, 'obp', {}),
      link(FBP_LINK, 'fbp', { protocol: 'fbp' }),
      link(FBP_LINK_2, 'fbp2', { protocol: 'fbp', passphrase: FBP_2_PASS, checkSource: false, followAddress: true, maxHops: 4, talkgroups: [91, 92, 3100, 23001] }),
    ];
    c.uplinks = [uplink];
  });
}

export interface Bystander {
  id: number;
  address: string;
  port: number;
  options: string | null;
}

/** Logged in at the start, pinging on time, never sending anything else: nothing may change them. */
export const BYSTANDERS: Bystander[] = Array.from({ length: 8 }, (_, i) => ({
  id: 3_100_001 + i,
  address: `10.1.0.${i + 1}`,
  port: 62031 + (i & 1),
  options: [
    'TS1=91,2350;TS2=92,3100;',
    'TS2=91,23001;TS1=;',
    null,
    'TS1=3100;TS2=92;TIMER=0;SINGLE=0',
  ][i % 4]!,
}));

/** The fuzzed peers' IDs: they log in, talk, change options and leave, mutated or not. */
export const FUZZ_PEERS = 16;
export const fuzzPeerId = (i: number): number => 3_200_001 + i;

/** Talkgroups the generators use: statics of the bystanders, local, dial, echo, info, all-call, prohibited. */
export const TGS = [91, 92, 2350, 3100, 23001, 1, 2, 9, 9990, 4000, 5000, 9991, 9999, 16_777_215, 666, 310, 31000];

export interface VoiceFrames {
  head: Uint8Array;
  term: Uint8Array;
  bursts: Uint8Array[];
}

export function voiceFrames(): VoiceFrames[] {
  const raw = JSON.parse(readFileSync(VOICE_FRAMES, 'utf8')) as { head: string; term: string; bursts: string[] }[];
  const hex = (s: string): Uint8Array => fromHex(s) ?? new Uint8Array(33);
  return raw.map((r) => ({ head: hex(r.head), term: hex(r.term), bursts: r.bursts.map(hex) }));
}

export interface Captured {
  /** Which of the core's sockets it belongs on. */
  socket: number;
  address: string;
  port: number;
  bytes: Uint8Array;
}

/** Every datagram of test/fixtures/captures, sorted onto the socket a server would get it on. */
export function captures(): Captured[] {
  const out: Captured[] = [];
  const add = (file: string, socketOf: (b: Uint8Array) => number): void => {
    for (const r of readPcapUdp(capture(file))) out.push({ socket: socketOf(r.payload), address: r.srcAddr, port: r.srcPort, bytes: r.payload });
  };
  // Master replies go to the uplink's socket (what a master says to a peer); the rest to the HBP socket.
  const hbp = (b: Uint8Array): number => (/^(RPTACK|MSTNAK|MSTPONG|MSTCL)/.test(String.fromCharCode(...b.subarray(0, 7))) ? UPLINK.socket : 0);
  add('dmrgateway-freedmr-login.pcap', hbp);
  add('freedmr-dmrgateway-session.pcap', hbp);
  add('freedmr-openbridge-obp1.pcap', () => OBP_LINK.socket);
  add('freedmr-openbridge-fbp5.pcap', () => FBP_LINK.socket);
  return out;
}
