// The HBP codecs against real traffic: FreeDMR 1.3 as master, DMRGateway and two scripted peers as
// clients (captures, see test/fixtures/README.md). Every datagram of the two HBP
// captures is classified and decoded, and every master reply is rebuilt with our encoders.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/protocol/bytes.js';
import {
  checkDmrd,
  decodeDmrd,
  dmrdDst,
  dmrdFlags,
  dmrdFrameType,
  dmrdIsUnit,
  dmrdPeer,
  dmrdSeq,
  dmrdSlot,
  dmrdSrc,
  dmrdStream,
  encodeDmrd,
  encodeMstcl,
  encodeMstnak,
  encodeMstpong,
  encodeRptack,
  encodeRptackSalt,
  encodeRptc,
  HbpKind,
  hbpKind,
  isDataFrame,
  isTerminator,
  isVoiceHeader,
  parseMasterReply,
  parsePeerOnly,
  parseRptc,
  parseRptk,
  parseRptl,
  parseRpto,
  parseTgList,
  tokenizeOptions,
  type Parsed,
} from '../../src/protocol/hbp/index.js';
import { loginDigest } from '../support/crypto.js';
import { CAPTURES } from '../support/fixtures.js';
import { readPcapUdp, type UdpRecord } from '../support/pcap.js';

const PASSPHRASE = 'passw0rd';
const MASTER_PORTS = new Set([54000, 54001, 54002]);
const LOCAL_PORTS = new Set([62131, 62132]);

const session = readPcapUdp(resolve(CAPTURES, 'freedmr-dmrgateway-session.pcap'));
const login = readPcapUdp(resolve(CAPTURES, 'dmrgateway-freedmr-login.pcap'));

interface DecodedLine {
  srcPort: number;
  dstPort: number;
  tag: string;
  /** `key=value` pairs; quoted values keep their inner text verbatim (padding included). */
  fields: Record<string, string>;
  /** Everything after the tag, for the DMRD flag words. */
  rest: string;
}

function readDecoded(): DecodedLine[] {
  const text = readFileSync(resolve(CAPTURES, 'freedmr-dmrgateway-session.decoded.txt'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const m = /^\s*\d+\.\d+\s+(\d+) -> (\d+)\s+([A-Z]+)\b(.*)$/.exec(line);
      if (!m) throw new Error(`unparsed decoded line: ${line}`);
      const fields: Record<string, string> = {};
      for (const f of m[4]!.matchAll(/([^\s=]+)=('([^']*)'|\S+)/g)) fields[f[1]!] = f[3] ?? f[2]!;
      return { srcPort: Number(m[1]), dstPort: Number(m[2]), tag: m[3]!, fields, rest: m[4]! };
    });
}
const decoded = readDecoded();

const ascii = (b: Uint8Array): string => String.fromCharCode(...b);
const expectOk = <T>(p: Parsed<T>, what: string): T => {
  if (!p.ok) throw new Error(`${what}: expected ok, got ${p.error}`);
  return p.value;
};

type Direction = 'to-master' | 'from-master' | 'local';
function direction(r: UdpRecord): Direction {
  if (MASTER_PORTS.has(r.dstPort)) return 'to-master';
  if (MASTER_PORTS.has(r.srcPort)) return 'from-master';
  if (LOCAL_PORTS.has(r.srcPort) && LOCAL_PORTS.has(r.dstPort)) return 'local';
  throw new Error(`unexpected ports ${r.srcPort} -> ${r.dstPort}`);
}

/** What the decoded listing's tag column means in our classification. */
const KIND_OF_TAG: Record<string, HbpKind> = {
  RPTL: HbpKind.RPTL,
  RPTK: HbpKind.RPTK,
  RPTC: HbpKind.RPTC,
  RPTCL: HbpKind.RPTCL,
  RPTO: HbpKind.RPTO,
  RPTPING: HbpKind.RPTPING,
  RPTACK: HbpKind.RPTACK,
  MSTPONG: HbpKind.MSTPONG,
  MSTNAK: HbpKind.MSTNAK,
  MSTCL: HbpKind.MSTCL,
  DMRD: HbpKind.DMRD,
  DMRC: HbpKind.DMRC,
  DMRP: HbpKind.Unsupported,
};

const CLIENT_KINDS = new Set<HbpKind>([
  HbpKind.RPTL, HbpKind.RPTK, HbpKind.RPTC, HbpKind.RPTCL, HbpKind.RPTO, HbpKind.RPTPING, HbpKind.DMRD,
]);
const MASTER_KINDS = new Set<HbpKind>([HbpKind.RPTACK, HbpKind.MSTPONG, HbpKind.MSTNAK, HbpKind.MSTCL, HbpKind.DMRD]);
const LOCAL_KINDS = new Set<HbpKind>([HbpKind.Unsupported, HbpKind.DMRC, HbpKind.DMRD]);

/** The whole login capture, in order (README: login, then a ping and a close were also captured). */
const LOGIN_KINDS: HbpKind[] = [
  HbpKind.RPTL, HbpKind.RPTACK, HbpKind.RPTK, HbpKind.RPTACK, HbpKind.RPTC, HbpKind.RPTACK,
  HbpKind.RPTO, HbpKind.RPTACK, HbpKind.RPTPING, HbpKind.MSTPONG, HbpKind.RPTCL, HbpKind.MSTNAK,
];

describe('hbpKind on captured traffic', () => {
  it('the decoded listing lines up with the session capture', () => {
    expect(decoded.length).toBe(session.length);
    for (const [i, r] of session.entries()) {
      expect([r.srcPort, r.dstPort], `datagram ${i}`).toEqual([decoded[i]!.srcPort, decoded[i]!.dstPort]);
    }
  });

  it('classifies every datagram of the session capture as the listing says, per direction', () => {
    const seen = new Map<Direction, Set<HbpKind>>();
    for (const [i, r] of session.entries()) {
      const d = decoded[i]!;
      const want = KIND_OF_TAG[d.tag];
      expect(want, `tag ${d.tag} has an expected kind`).toBeDefined();
      const kind = hbpKind(r.payload);
      expect(kind, `datagram ${i} ${d.tag}`).toBe(want);
      const dir = direction(r);
      const allowed = dir === 'to-master' ? CLIENT_KINDS : dir === 'from-master' ? MASTER_KINDS : LOCAL_KINDS;
      expect(allowed.has(kind), `datagram ${i} ${d.tag} travelling ${dir}`).toBe(true);
      if (!seen.has(dir)) seen.set(dir, new Set());
      seen.get(dir)!.add(kind);
    }
    // The capture really exercises all three links.
    expect([...seen.get('local')!].sort()).toEqual([HbpKind.DMRD, HbpKind.DMRC, HbpKind.Unsupported].sort());
    expect(seen.get('to-master')!.size).toBe(CLIENT_KINDS.size);
    expect([...seen.get('from-master')!].sort()).toEqual(
      [HbpKind.RPTACK, HbpKind.MSTPONG, HbpKind.MSTNAK, HbpKind.DMRD].sort(),
    );
  });

  it('classifies every datagram of the login capture', () => {
    expect(login.map((r) => hbpKind(r.payload))).toEqual(LOGIN_KINDS);
    for (const [i, r] of login.entries()) {
      expect(direction(r)).toBe(i % 2 === 0 ? 'to-master' : 'from-master');
    }
  });
});

/** Decode one client → master datagram by its kind; returns the peer ID it names. */
function decodeClient(r: UdpRecord): number {
  const b = r.payload;
  const kind = hbpKind(b);
  switch (kind) {
    case HbpKind.RPTL: return expectOk(parseRptl(b), 'RPTL').peerId;
    case HbpKind.RPTK: return expectOk(parseRptk(b), 'RPTK').peerId;
    case HbpKind.RPTC: return expectOk(parseRptc(b), 'RPTC').peerId;
    case HbpKind.RPTO: return expectOk(parseRpto(b), 'RPTO').peerId;
    case HbpKind.RPTPING: return expectOk(parsePeerOnly(b, 7), 'RPTPING').peerId;
    case HbpKind.RPTCL: return expectOk(parsePeerOnly(b, 5), 'RPTCL').peerId;
    case HbpKind.DMRD:
      expect(checkDmrd(b)).toBeNull();
      return dmrdPeer(b);
    default:
      throw new Error(`client sent kind ${kind}`);
  }
}

describe('client packets decode', () => {
  it('every client → master datagram of the session decodes, with the peer ID of the listing', () => {
    let n = 0;
    for (const [i, r] of session.entries()) {
      if (direction(r) !== 'to-master') continue;
      const peer = decodeClient(r);
      expect(String(peer), `datagram ${i} ${decoded[i]!.tag}`).toBe(decoded[i]!.fields.peer);
      n++;
    }
    expect(n).toBe(session.filter((r) => MASTER_PORTS.has(r.dstPort)).length);
    expect(n).toBeGreaterThan(100);
  });

  it('every client → master datagram of the login capture decodes with DMRGateway\'s peer ID', () => {
    const peers = login.filter((r) => direction(r) === 'to-master').map(decodeClient);
    expect(peers).toEqual(new Array(6).fill(234000101));
  });

  it('DMRGateway\'s RPTC (both captures) carries its callsign, version, package and slots', () => {
    const fromGateway = [...login, ...session].filter(
      (r) => r.dstPort === 54000 && hbpKind(r.payload) === HbpKind.RPTC,
    );
    expect(fromGateway.length).toBe(2);
    for (const r of fromGateway) {
      const cfg = expectOk(parseRptc(r.payload), 'RPTC');
      expect(cfg).toMatchObject({
        peerId: 234000101,
        callsign: 'M0LAB',
        rxFreq: '435000000',
        txFreq: '435000000',
        txPower: '01',
        colorCode: '01',
        latitude: '0.000000',
        longitude: '00.000000',
        height: '000',
        location: 'Loopback Lab',
        description: 'DMRGateway lab',
        slots: '4',
        url: 'http://127.0.0.1/',
        softwareId: '20260713',
        packageId: 'MMDVM',
      });
    }
  });

  it('each session RPTC agrees with the listing, and re-encodes to the captured bytes', () => {
    let n = 0;
    for (const [i, r] of session.entries()) {
      if (hbpKind(r.payload) !== HbpKind.RPTC) continue;
      const f = decoded[i]!.fields;
      const cfg = expectOk(parseRptc(r.payload), 'RPTC');
      expect(cfg.callsign).toBe(f.callsign!.trim());
      expect(cfg.rxFreq).toBe(f.rx);
      expect(cfg.txFreq).toBe(f.tx);
      expect(cfg.slots).toBe(f.slots);
      expect(cfg.softwareId).toBe(f.sw);
      expect(cfg.packageId).toBe(f.pkg);
      // Clients pad with spaces and parseRptc trims, so re-encoding restores the record exactly.
      expect(toHex(encodeRptc(cfg))).toBe(toHex(r.payload));
      n++;
    }
    expect(n).toBe(3);
    const gw = login.find((r) => hbpKind(r.payload) === HbpKind.RPTC)!;
    expect(toHex(encodeRptc(expectOk(parseRptc(gw.payload), 'RPTC')))).toBe(toHex(gw.payload));
  });

  it('RPTO options tokenise to the static talkgroups', () => {
    // Session: all three clients configure TS2=23001.
    const sessionOpts = session.filter((r) => hbpKind(r.payload) === HbpKind.RPTO);
    expect(sessionOpts.length).toBe(3);
    for (const r of sessionOpts) {
      const { options } = expectOk(parseRpto(r.payload), 'RPTO');
      expect(ascii(options)).toBe('TS2=23001;');
      const tok = tokenizeOptions(options);
      expect(tok).toEqual({ fields: [{ key: 'TS2', value: '23001' }], malformed: [] });
      expect(parseTgList(tok.fields[0]!.value, 64)).toEqual({ tgs: [23001], rejected: [] });
    }
    // The standalone login capture carries `TS2=91;` (the README's table says TS2=23001 for it).
    const loginOpts = login.filter((r) => hbpKind(r.payload) === HbpKind.RPTO);
    expect(loginOpts.length).toBe(1);
    const { peerId, options } = expectOk(parseRpto(loginOpts[0]!.payload), 'RPTO');
    expect(peerId).toBe(234000101);
    expect(tokenizeOptions(options)).toEqual({ fields: [{ key: 'TS2', value: '91' }], malformed: [] });
  });
});

interface LoginCheck {
  port: number;
  peerId: number;
  salt: number;
}

/**
 * Walk a capture per client port, pairing each master reply with the request it answers, and check
 * RPTK digests and the master's reply bytes. Returns the logins seen.
 */
function walkConversation(recs: UdpRecord[], names: (i: number) => string): { logins: LoginCheck[]; replies: number } {
  const lastRequest = new Map<number, Uint8Array>();
  const salts = new Map<number, number>();
  const logins: LoginCheck[] = [];
  let replies = 0;
  for (const [i, r] of recs.entries()) {
    const dir = direction(r);
    if (dir === 'local') continue;
    const kind = hbpKind(r.payload);
    if (dir === 'to-master') {
      if (kind === HbpKind.DMRD) continue;
      if (kind === HbpKind.RPTK) {
        const salt = salts.get(r.srcPort);
        expect(salt, `${names(i)}: RPTK after a salted RPTACK`).toBeDefined();
        const rptk = expectOk(parseRptk(r.payload), 'RPTK');
        expect(toHex(rptk.digest), names(i)).toBe(toHex(loginDigest(salt!, PASSPHRASE)));
        logins.push({ port: r.srcPort, peerId: rptk.peerId, salt: salt! });
        salts.delete(r.srcPort);
      }
      lastRequest.set(r.srcPort, r.payload);
      continue;
    }
    // Master → client.
    if (kind === HbpKind.DMRD) continue;
    const reply = expectOk(parseMasterReply(r.payload), names(i));
    const request = lastRequest.get(r.dstPort);
    expect(request, `${names(i)}: a reply follows a request`).toBeDefined();
    lastRequest.delete(r.dstPort);
    const reqKind = hbpKind(request!);
    const reqPeer = decodeClient({ ...r, payload: request! });
    let expected: Uint8Array;
    if (reqKind === HbpKind.RPTL) {
      expect(reply.tag).toBe('RPTACK');
      salts.set(r.dstPort, reply.arg);
      expected = encodeRptackSalt(reply.arg);
    } else if (reply.tag === 'RPTACK') {
      expect([HbpKind.RPTK, HbpKind.RPTC, HbpKind.RPTO]).toContain(reqKind);
      expected = encodeRptack(reqPeer);
    } else if (reply.tag === 'MSTPONG') {
      expect(reqKind).toBe(HbpKind.RPTPING);
      expected = encodeMstpong(reqPeer);
    } else if (reply.tag === 'MSTNAK') {
      // FreeDMR answers RPTCL with MSTNAK.
      expected = encodeMstnak(reqPeer);
    } else {
      expected = encodeMstcl(reqPeer);
    }
    expect(toHex(r.payload), `${names(i)} reply to ${ascii(request!.subarray(0, 4))}`).toBe(toHex(expected));
    replies++;
  }
  return { logins, replies };
}

describe('login handshakes and master replies', () => {
  it('session: each RPTK digest is SHA-256(salt ‖ passphrase), and FreeDMR\'s replies match our encoders', () => {
    const { logins, replies } = walkConversation(session, (i) => `session #${i} ${decoded[i]!.tag}`);
    expect(logins.map((l) => l.peerId).sort()).toEqual([234000101, 310000001, 310000002]);
    expect(replies).toBe(session.filter((r) => MASTER_PORTS.has(r.srcPort) && hbpKind(r.payload) !== HbpKind.DMRD).length);
    expect(replies).toBe(12 + 11 + 3);
    // The salts are the ones the listing shows, and the listing's digests are ours too.
    for (const l of logins) {
      const ackLine = decoded.find((d) => d.dstPort === l.port && d.tag === 'RPTACK')!;
      expect(ackLine.fields.arg).toBe(l.salt.toString(16).padStart(8, '0'));
      const rptkLine = decoded.find((d) => d.srcPort === l.port && d.tag === 'RPTK')!;
      expect(rptkLine.fields['sha256(salt+pass)']).toBe(toHex(loginDigest(l.salt, PASSPHRASE)));
    }
  });

  it('login capture: the digest matches the salt and every reply matches our encoders', () => {
    const { logins, replies } = walkConversation(login, (i) => `login #${i}`);
    expect(logins).toEqual([{ port: 62133, peerId: 234000101, salt: 0xe90acb5f }]);
    expect(replies).toBe(6);
  });

  it('parseMasterReply reads the tag and argument of every master reply', () => {
    for (const [i, r] of session.entries()) {
      if (direction(r) !== 'from-master' || hbpKind(r.payload) === HbpKind.DMRD) continue;
      const d = decoded[i]!;
      const reply = expectOk(parseMasterReply(r.payload), `#${i}`);
      expect(reply.tag).toBe(d.tag);
      if (d.tag === 'RPTACK') expect(reply.arg.toString(16).padStart(8, '0')).toBe(d.fields.arg);
      else expect(String(reply.arg)).toBe(d.fields.peer);
    }
  });
});

/** Byte 15 (without slot and call type) as the listing names the frame. */
function frameFromListing(rest: string): number {
  if (/\bVOICE_LC_HEADER\b/.test(rest)) return 0x21;
  if (/\bVOICE_TERMINATOR\b/.test(rest)) return 0x22;
  const burst = /\bVOICE burst ([A-F])\b/.exec(rest);
  if (burst) return burst[1] === 'A' ? 0x10 : burst[1]!.charCodeAt(0) - 'A'.charCodeAt(0);
  throw new Error(`no frame in: ${rest}`);
}

describe('DMRD in the captures', () => {
  const dmrd = session
    .map((r, i) => ({ r, d: decoded[i]!, i }))
    .filter(({ r }) => hbpKind(r.payload) === HbpKind.DMRD);

  it('there are DMRD on all three legs (talker→master, master→peers, gateway→host)', () => {
    expect(dmrd.length).toBe(494);
    const legs = new Set(dmrd.map(({ r }) => direction(r)));
    expect([...legs].sort()).toEqual(['from-master', 'local', 'to-master']);
  });

  it('every DMRD passes checkDmrd and its accessors give the listing\'s fields', () => {
    for (const { r, d, i } of dmrd) {
      const b = r.payload;
      const where = `#${i} ${d.rest.trim()}`;
      expect(b.length, where).toBe(55);
      expect(checkDmrd(b), where).toBeNull();
      expect(dmrdSeq(b), where).toBe(Number(d.fields.seq));
      expect(dmrdSrc(b), where).toBe(Number(d.fields.src));
      expect(dmrdDst(b), where).toBe(Number(d.fields.dst));
      expect(dmrdPeer(b), where).toBe(Number(d.fields.peer));
      expect(dmrdStream(b).toString(16).padStart(8, '0'), where).toBe(d.fields.stream);
      const slot = /\bTS([12])\b/.exec(d.rest)![1];
      expect(dmrdSlot(b), where).toBe(Number(slot));
      expect(dmrdIsUnit(b), where).toBe(/\bunit\b/.test(d.rest));
      expect(/\bgroup\b/.test(d.rest), where).toBe(true);
      const frame = frameFromListing(d.rest);
      expect(dmrdFlags(b) & 0x3f, where).toBe(frame);
      expect(dmrdFrameType(b), where).toBe(frame >> 4);
      expect(isVoiceHeader(dmrdFlags(b)), where).toBe(frame === 0x21);
      expect(isTerminator(dmrdFlags(b)), where).toBe(frame === 0x22);
      expect(isDataFrame(dmrdFlags(b)), where).toBe(false);
    }
  });

  it('decodeDmrd then encodeDmrd reproduces every captured DMRD byte for byte', () => {
    for (const { r, i } of dmrd) {
      const f = decodeDmrd(r.payload);
      expect(f.payload!.length).toBe(33);
      expect(toHex(encodeDmrd(f)), `#${i}`).toBe(toHex(r.payload));
    }
  });

  it('the listing\'s calls: every stream starts with a voice header and ends with a terminator', () => {
    const byLegAndStream = new Map<string, number[]>();
    for (const { r } of dmrd) {
      const key = `${r.srcPort}>${r.dstPort}/${dmrdStream(r.payload)}`;
      if (!byLegAndStream.has(key)) byLegAndStream.set(key, []);
      byLegAndStream.get(key)!.push(dmrdFlags(r.payload));
    }
    for (const [key, flags] of byLegAndStream) {
      expect(isVoiceHeader(flags[0]!), key).toBe(true);
      expect(isTerminator(flags.at(-1)!), key).toBe(true);
    }
  });

  it('the first 53 bytes of an OpenBridge v1 frame are a valid short DMRD', () => {
    const obp = readPcapUdp(resolve(CAPTURES, 'freedmr-openbridge-obp1.pcap'));
    expect(obp.length).toBeGreaterThan(0);
    for (const r of obp) {
      expect(hbpKind(r.payload)).toBe(HbpKind.DMRD);
      expect(checkDmrd(r.payload)).toBe('dmrd.bad-length'); // 53 + 20-byte HMAC
      const short = r.payload.subarray(0, 53);
      expect(checkDmrd(short)).toBeNull();
      const f = decodeDmrd(short);
      expect(f.ber).toBe(0);
      expect(f.rssi).toBe(0);
      expect(toHex(encodeDmrd(f).subarray(0, 53))).toBe(toHex(short));
    }
  });
});

describe('tokenizeOptions', () => {
  const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
  const cases: { name: string; input: string | Uint8Array; fields: [string, string][]; malformed: string[] }[] = [
    { name: 'two slots', input: 'TS1=1,2;TS2=91', fields: [['TS1', '1,2'], ['TS2', '91']], malformed: [] },
    { name: 'trailing semicolon', input: 'TS2=23001;', fields: [['TS2', '23001']], malformed: [] },
    { name: 'empty string', input: '', fields: [], malformed: [] },
    { name: 'empty elements skipped', input: ';; ;TS1=1;;', fields: [['TS1', '1']], malformed: [] },
    { name: 'spaces around key and value', input: ' TS1 = 1 , 2 ;  DIAL = 0', fields: [['TS1', '1 , 2'], ['DIAL', '0']], malformed: [] },
    { name: 'empty value is a field', input: 'TS1=;TS2=5', fields: [['TS1', ''], ['TS2', '5']], malformed: [] },
    { name: 'no =', input: 'TS1;TS2=5', fields: [['TS2', '5']], malformed: ['TS1'] },
    { name: 'two =', input: 'A=B=C;TS1==1;TS2=7', fields: [['TS2', '7']], malformed: ['A=B=C', 'TS1==1'] },
    { name: 'empty key', input: '=5;TS2=9', fields: [['TS2', '9']], malformed: ['=5'] },
    { name: 'repeated key kept in order (meaning is the core\'s business)', input: 'TS1=1;TS1=2', fields: [['TS1', '1'], ['TS1', '2']], malformed: [] },
    { name: 'quotes stripped', input: `TS1='1,2';"TS2"="3"`, fields: [['TS1', '1,2'], ['TS2', '3']], malformed: [] },
    { name: 'non-ASCII (string) stripped', input: 'TS2=9é1;VOICE=1™', fields: [['TS2', '91'], ['VOICE', '1']], malformed: [] },
    { name: 'astral characters stripped', input: 'TS2=2😀3', fields: [['TS2', '23']], malformed: [] },
    { name: 'NUL (string) stripped', input: 'TS2=9\u00001;\u0000', fields: [['TS2', '91']], malformed: [] },
    { name: 'NUL, quotes and non-ASCII bytes stripped', input: Uint8Array.of(...enc('TS2=9'), 0, 0xc3, 0xa9, 0x27, ...enc('1;'), 0, 0xff), fields: [['TS2', '91']], malformed: [] },
    { name: 'bytes: a quote and 0x80 vanish inside elements', input: Uint8Array.of(...enc('TS1=1'), 0x22, ...enc(';X'), 0x80, ...enc('Y')), fields: [['TS1', '1']], malformed: ['XY'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = tokenizeOptions(c.input);
      expect(got.fields.map((f) => [f.key, f.value])).toEqual(c.fields);
      expect(got.malformed).toEqual(c.malformed);
    });
  }

  it('string and byte input agree on ASCII', () => {
    const s = 'TS1=1,2;TS2=91;bad;x=y=z;  ';
    expect(tokenizeOptions(enc(s))).toEqual(tokenizeOptions(s));
  });
});

describe('parseTgList', () => {
  const cases: { value: string; limit: number; tgs: number[]; rejected: string[] }[] = [
    { value: '1,2', limit: 10, tgs: [1, 2], rejected: [] },
    { value: '91', limit: 10, tgs: [91], rejected: [] },
    { value: '91,abc,0,16777215,3100', limit: 10, tgs: [91, 3100], rejected: ['abc', '0', '16777215'] },
    { value: '16777214,1', limit: 10, tgs: [16777214, 1], rejected: [] },
    { value: '', limit: 10, tgs: [], rejected: [] },
    { value: ',, 1 ,,2,', limit: 10, tgs: [1, 2], rejected: [] },
    { value: '00000091,000000091', limit: 10, tgs: [91], rejected: ['000000091'] },
    { value: '-5,+5,1e3,0x10,5.0,5 6,9', limit: 10, tgs: [9], rejected: ['-5', '+5', '1e3', '0x10', '5.0', '5 6'] },
    { value: '99999999', limit: 10, tgs: [], rejected: ['99999999'] },
    { value: '1,1,2,1,2', limit: 10, tgs: [1, 2], rejected: [] },
    { value: '1,2,3,4', limit: 2, tgs: [1, 2], rejected: ['3', '4'] },
    { value: '1,2,1,2,3', limit: 2, tgs: [1, 2], rejected: ['3'] },
    { value: '5,6', limit: 0, tgs: [], rejected: ['5', '6'] },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.value)} limit ${c.limit}`, () => {
      expect(parseTgList(c.value, c.limit)).toEqual({ tgs: c.tgs, rejected: c.rejected });
    });
  }
});
