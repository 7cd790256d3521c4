// What the fuzzed actors send: each builds a datagram that is valid for its situation (a login step
// with the right digest, the next frame of a call, a link frame with a good MAC), which the world
// then sends as it is or mutated.

import { encodeBc, fbpKeys, writeDmre, type FbpKeys } from '../../src/protocol/fbp/index.js';
import { HmacSha1 } from '../../src/protocol/obp/hmac-sha1.js';
import {
  encodeDmrd,
  encodeMstpong,
  encodeRptack,
  encodeRptackSalt,
  encodeRptc,
  encodeRptcl,
  encodeRptk,
  encodeRptl,
  encodeRpto,
  encodeRptping,
  obpKey,
  writeAscii,
  writeU32,
} from '../../src/protocol/index.js';
import { loginDigest } from '../support/crypto.js';
import type { Rng } from './rng.js';
import { FBP_2_PASS, PASS, SERVER_ID, TGS, UPLINK_PEER, type VoiceFrames } from './setup.js';

/** One call in progress: the next frame to send. */
export interface Call {
  streamId: number;
  seq: number;
  src: number;
  dst: number;
  slot: 1 | 2;
  unit: boolean;
  /** Frames sent so far and in all (header(s), voice, terminator). */
  sent: number;
  length: number;
  headers: number;
  data: boolean;
  /** Which reference call's bursts to use (-1: random payloads). */
  voice: number;
  /** Peer ID field (links and masters write their own). */
  peerField: number;
}

export const enum PeerState { Out, Salted, Authed, Connected }

export interface FuzzPeer {
  id: number;
  address: string;
  homePort: number;
  altPort: number;
  port: number;
  state: PeerState;
  salt: number;
  call: Call | null;
}

const OPTIONS = [
  'TS1=91;TS2=92',
  'TS1=;TS2=',
  'TS2=91,92,2350,3100;TS1=23001',
  'TS1=666;TS2=1',
  'DIAL=91;TIMER=1;SINGLE=1',
  'DIAL=0;VOICE=0;LANG=en_US;IDENTTG=91',
  'TS1=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20;TS2=99999999',
  'ts1=91;ts2=2350',
  'KEY=abc;TS2=91',
  'StartRef=3100;RelinkTime=5;UserLink=1',
  'junk',
  'TS1=91;TS1=92;=;;;',
];

const FLAGS_VOICE = [0x10, 0x01, 0x02, 0x03, 0x04, 0x05];

export function newCall(rng: Rng, voices: readonly VoiceFrames[], peerField: number, slot?: 1 | 2, tgs: readonly number[] = TGS): Call {
  const unit = rng.chance(0.15);
  return {
    streamId: rng.chance(0.02) ? 0 : rng.u32(),
    seq: rng.byte(),
    src: rng.chance(0.9) ? 3_100_000 + rng.int(64) : rng.u32() & 0xffffff,
    dst: unit ? rng.pick([9, 91, 2350, 4000, 5000, 9990, 9991, 3_100_000 + rng.int(64), rng.u32() & 0xffffff]) : rng.chance(0.9) ? rng.pick(tgs) : rng.u32() & 0xffffff,
    slot: slot ?? (rng.chance(0.5) ? 1 : 2),
    unit,
    sent: 0,
    length: rng.chance(0.1) ? rng.range(1, 4) : rng.range(8, 60),
    headers: rng.range(1, 3),
    data: rng.chance(0.05),
    voice: rng.chance(0.8) ? rng.int(voices.length) : -1,
    peerField,
  };
}

/** The next DMRD (55 bytes) of `c`; undefined when the call is over. */
export function nextFrame(rng: Rng, c: Call, voices: readonly VoiceFrames[]): Uint8Array | undefined {
  if (c.sent >= c.length) return undefined;
  const i = c.sent++;
  const v = c.voice >= 0 ? voices[c.voice] : undefined;
  let frame: number;
  let payload: Uint8Array | undefined;
  if (i < c.headers) {
    frame = 0x21;
    payload = v?.head;
  } else if (i === c.length - 1 && !rng.chance(0.05)) {
    frame = 0x22;
    payload = v?.term;
  } else if (c.data) {
    frame = 0x20 | rng.range(3, 10);
  } else {
    const k = (i - c.headers) % 6;
    frame = FLAGS_VOICE[k]!;
    payload = v?.bursts[k];
  }
  return encodeDmrd({ seq: c.seq++ & 0xff, src: c.src, dst: c.dst, peerId: c.peerField, slot: c.slot, unit: c.unit, frame, streamId: c.streamId, payload: payload ?? rng.bytes(33), ber: rng.byte(), rssi: rng.byte() });
}

/** A tag, a peer ID and bytes to a given length (DMRA, RPTG, DMRG, DMRC and the like). */
export function withId(rng: Rng, tag: string, peerId: number, length: number): Uint8Array {
  const out = rng.bytes(Math.max(length, 8));
  writeAscii(out, 0, tag);
  writeU32(out, 4, peerId);
  return out;
}

export const rptc = (peerId: number, rng: Rng): Uint8Array =>
  encodeRptc({ peerId, callsign: rng.pick(['N0CALL', 'G4ABC', '', 'X'.repeat(8)]), slots: rng.pick(['1', '2', '3', '4']), softwareId: 'fuzz', packageId: 'fuzz' });

/** The valid next message of a fuzzed peer, given where its login stands. */
export function peerMessage(rng: Rng, p: FuzzPeer, voices: readonly VoiceFrames[]): Uint8Array {
  switch (p.state) {
    case PeerState.Out:
      return encodeRptl(p.id);
    case PeerState.Salted:
      return encodeRptk(p.id, loginDigest(p.salt, rng.chance(0.95) ? PASS : 'wrong'));
    case PeerState.Authed:
      return rptc(p.id, rng);
    case PeerState.Connected:
      break;
  }
  const r = rng.int(100);
  if (r < 62) {
    if (p.call === null) p.call = newCall(rng, voices, p.id);
    const f = nextFrame(rng, p.call, voices);
    if (f !== undefined) return f;
    p.call = newCall(rng, voices, p.id);
    return nextFrame(rng, p.call, voices)!;
  }
  if (r < 72) return encodeRptping(p.id);
  if (r < 80) return encodeRpto(p.id, rng.pick(OPTIONS));
  if (r < 85) return withId(rng, 'DMRA', p.id, rng.pick([15, 16, 20, 40]));
  if (r < 88) return withId(rng, rng.chance(0.5) ? 'RPTG' : 'DMRG', p.id, rng.range(8, 60));
  if (r < 90) return withId(rng, 'DMRC', p.id, 119);
  if (r < 93) return rptc(p.id, rng);
  if (r < 95) return encodeRptl(p.id);
  if (r < 97) return encodeRptk(p.id, rng.bytes(32));
  return encodeRptcl(p.id);
}

/** Any HBP peer message with `peerId`, with random contents where a peer would put its own. */
export function anyPeerMessage(rng: Rng, peerId: number, voices: readonly VoiceFrames[]): Uint8Array {
  switch (rng.int(11)) {
    case 0: return encodeRptl(peerId);
    case 1: return encodeRptk(peerId, rng.bytes(32));
    case 2: return rptc(peerId, rng);
    case 3: return encodeRpto(peerId, rng.pick(OPTIONS));
    case 4: return encodeRptcl(peerId);
    case 5: return encodeRptping(peerId);
    case 6: return withId(rng, 'DMRA', peerId, 15);
    case 7: return withId(rng, rng.pick(['RPTG', 'DMRG', 'DMRC', 'DMRP', 'RPTS']), peerId, rng.range(8, 120));
    default: {
      const c = newCall(rng, voices, peerId);
      c.sent = rng.int(c.length);
      return nextFrame(rng, c, voices) ?? encodeRptping(peerId);
    }
  }
}

/** A link's far end: its keys and the calls it is sending. */
export class FarEnd {
  readonly hmac: HmacSha1;
  readonly keys: FbpKeys;
  readonly calls: Call[] = [];
  /** Streams we saw the core send on the link (tg, stream ID), for quenches. */
  readonly seen: [number, number][] = [];

  constructor(readonly fbp: boolean, passphrase: string) {
    this.hmac = new HmacSha1(obpKey(passphrase));
    this.keys = fbpKeys(passphrase);
  }

  /** The next frame of one of its calls (a new call now and then). */
  private dmrd(rng: Rng, voices: readonly VoiceFrames[]): Uint8Array {
    if (this.calls.length < 3 && (this.calls.length === 0 || rng.chance(0.05))) this.calls.push(newCall(rng, voices, rng.chance(0.9) ? 9990 : rng.u32(), 1));
    const i = rng.int(this.calls.length);
    const f = nextFrame(rng, this.calls[i]!, voices);
    if (f !== undefined) return f;
    this.calls.splice(i, 1);
    return this.dmrd(rng, voices);
  }

  /** A correctly signed frame: OpenBridge v1, or FBP DMRE v5/v4 and BC* control. */
  frame(rng: Rng, voices: readonly VoiceFrames[], wallNow: number): Uint8Array {
    if (!this.fbp) {
      const d = this.dmrd(rng, voices);
      const out = new Uint8Array(73);
      out.set(d.subarray(0, 53));
      this.hmac.sign(out, 0, 53, out, 53);
      return out;
    }
    const r = rng.int(100);
    if (r < 8) return encodeBc({ kind: 'bcka' }, this.hmac);
    if (r < 11) return encodeBc({ kind: 'bcve', version: rng.pick([1, 4, 5, 6, 255]) }, this.hmac);
    if (r < 16) {
      const [tg, sid] = this.seen.length > 0 && rng.chance(0.8) ? rng.pick(this.seen) : [rng.pick(TGS), rng.u32()];
      return encodeBc({ kind: 'bcsq', tg, streamId: sid }, this.hmac);
    }
    if (r < 17) return encodeBc({ kind: 'bcst' }, this.hmac);
    const v4 = rng.chance(0.1);
    const out = new Uint8Array(v4 ? 85 : 89);
    const skew = rng.chance(0.05) ? rng.range(-20_000, 20_000) : rng.range(-50, 50);
    const meta = {
      version: v4 ? 4 : 5,
      sourceServer: rng.chance(0.9) ? rng.pick([3101, 9990, 2341]) : rng.chance(0.5) ? SERVER_ID : rng.u32(),
      sourceRepeater: rng.u32(),
      hops: rng.chance(0.9) ? rng.range(0, 3) : rng.byte(),
    };
    writeDmre(out, this.dmrd(rng, voices), meta, wallNow + skew, this.keys.blake2b);
    return out;
  }
}

export const farEnds = (): FarEnd[] => [new FarEnd(false, PASS), new FarEnd(true, PASS), new FarEnd(true, FBP_2_PASS)];

/** The master the uplink logs in to: answers what the uplink last sent, or sends calls. */
export class Master {
  /** Tag of the uplink's last message, and the peer ID in it. */
  last = '';
  calls: Call[] = [];

  message(rng: Rng, voices: readonly VoiceFrames[]): Uint8Array {
    const last = this.last;
    if (last !== '' && rng.chance(0.95)) {
      this.last = '';
      if (rng.chance(0.05)) return withId(rng, 'MSTNAK', UPLINK_PEER, 10);
      switch (last) {
        case 'RPTL': return encodeRptackSalt(rng.u32());
        case 'RPTK': case 'RPTC': case 'RPTO': return encodeRptack(UPLINK_PEER);
        case 'RPTP': return encodeMstpong(UPLINK_PEER);
        default: break;
      }
    }
    if (rng.chance(0.02)) return withId(rng, 'MSTCL', UPLINK_PEER, 9);
    if (this.calls.length === 0 || rng.chance(0.02)) this.calls.push(newCall(rng, voices, UPLINK_PEER, undefined, [91, 2350, 92, 9]));
    const i = rng.int(this.calls.length);
    const f = nextFrame(rng, this.calls[i]!, voices);
    if (f !== undefined) return f;
    this.calls.splice(i, 1);
    return encodeMstpong(UPLINK_PEER);
  }
}
