// ACLs (spec §5): the grammar's errors and canonical text, the config keys with their line numbers,
// and the core's use of them: REG and the known-ID policy at RPTL, SUB and TGID at a stream's start
// on peers and links (refused for the whole stream, counted, logged once, quenched on FBP), the
// link egress check, the credential hook (Session.acl), the ID file and the ids-loaded event.

import { describe, expect, it } from 'vitest';
import { ACL_ID_MAX, ACL_PEER_MAX, parseAcl, printAcl } from '../../src/core/acl/grammar.js';
import { buildAclSet } from '../../src/core/acl/set.js';
import type { CoreConfig, LinkConfig } from '../../src/core/index.js';
import { fbpKeys, writeDmre } from '../../src/protocol/fbp/index.js';
import { encodeRptl, OBP, obpKey, readU32, signObp } from '../../src/protocol/index.js';
import { parseConfigText } from '../../src/config/load.js';
import { decodeEvent, encodeEvent } from '../../src/replay/format.js';
import { parseIdText } from '../../src/shell/id-file.js';
import { hmacSha1 } from '../support/crypto.js';
import { parseReply, testConfig, voiceCall, World, type Sent } from '../support/harness.js';

const canon = (text: string, max = ACL_ID_MAX): string => {
  const r = parseAcl(text, max);
  if (!r.ok) throw new Error(r.error);
  return printAcl(r.acl);
};
const errorOf = (text: string, max = ACL_ID_MAX): string => {
  const r = parseAcl(text, max);
  if (r.ok) throw new Error(`${text} parsed`);
  return r.error;
};

describe('ACL grammar', () => {
  it('prints the canonical text: merged, sorted, ALL for the whole space', () => {
    expect(canon('DENY:3120124,1-5,3120101')).toBe('DENY:1-5,3120101,3120124');
    expect(canon('permit : 1 - 3 , 4,10-20, 15-25 ,2')).toBe('PERMIT:1-4,10-25');
    expect(canon('PERMIT:5,ALL,7')).toBe('PERMIT:ALL');
    expect(canon('DENY:0-1000000')).toBe('DENY:1-1000000');
    expect(canon('PERMIT:16777000-20000000')).toBe('PERMIT:16777000-16777215');
    expect(canon('PERMIT:4294967295', ACL_PEER_MAX)).toBe('PERMIT:4294967295');
    expect(canon('')).toBe('PERMIT:ALL');
  });

  it('names what is wrong', () => {
    expect(errorOf('PERMIT')).toMatch(/no ":"/);
    expect(errorOf('ALLOW:1')).toMatch(/PERMIT or DENY, not "ALLOW"/);
    expect(errorOf('PERMIT:')).toMatch(/no IDs after "PERMIT:"; write PERMIT:ALL/);
    expect(errorOf('DENY:1,,2')).toMatch(/empty entry/);
    expect(errorOf('DENY:1:2')).toMatch(/only one ":"/);
    expect(errorOf('DENY:9999-9990')).toBe('9999-9990 is reversed; write 9990-9999');
    expect(errorOf('DENY:0')).toMatch(/0 is outside 1\.\.16777215/);
    expect(errorOf('DENY:16777216')).toMatch(/outside/);
    expect(errorOf('DENY:20000000-30000000')).toMatch(/outside/);
    expect(errorOf('DENY:+5')).toMatch(/not an ID/);
    expect(errorOf('DENY:5_000')).toMatch(/not an ID/);
    expect(errorOf('DENY:ALL,x')).toMatch(/"x" is not an ID/);
    expect(errorOf('DENY:1-')).toMatch(/not a range/);
  });

  it('builds a set from the four optional strings, null where everything passes', () => {
    const r = buildAclSet({ reg: 'PERMIT:ALL', sub: 'DENY:1', tgidTs2: '' });
    expect(r.ok && r.set.reg === null && r.set.sub !== null && r.set.tgidTs1 === null && r.set.tgidTs2 === null).toBe(true);
    const bad = buildAclSet({ sub: 'DENY:1', tgidTs1: 'PERMIT:x', tgidTs2: 'nope' });
    expect(bad.ok ? [] : bad.errors.map((e) => e.key)).toEqual(['tgidTs1', 'tgidTs2']);
  });
});

describe('ACL config keys', () => {
  it('stores canonical text, and names the line of a bad list', () => {
    const r = parseConfigText('[acl]\nreg = "deny:1"\nsub = "DENY: 2, 1"\ntgid_ts2 = "PERMIT:91,3100-3199"\n', '/tmp');
    expect(r.ok && r.config.core.acl).toEqual({ reg: 'DENY:1', sub: 'DENY:1-2', tgidTs1: '', tgidTs2: 'PERMIT:91,3100-3199', unknownIds: 'allow' });
    const bad = parseConfigText('[server]\nid = 1\n\n[acl]\nsub = "DENY:1"\ntgid_ts1 = "PERMIT:9999-9990"\n', '/tmp');
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors).toHaveLength(1);
    expect(bad.errors[0]).toMatchObject({ key: 'acl.tgid_ts1', line: 6 });
    expect(bad.errors[0]!.message).toMatch(/9999-9990 is reversed/);
  });

  it('checks link lists and the unknown-ID policy', () => {
    const link = '[server]\nid = 9\n[[links]]\nname = "fd"\nport = 62044\ntarget_address = "127.0.0.1"\ntarget_port = 62045\npassphrase = "x"\n';
    const r = parseConfigText(link + 'sub_acl = "DENY:1"\ntgid_acl = "PERMIT:2350,91-92"\n', '/tmp');
    expect(r.ok && [r.config.core.links[0]!.subAcl, r.config.core.links[0]!.tgidAcl]).toEqual(['DENY:1', 'PERMIT:91-92,2350']);
    const bad = parseConfigText(link + 'tgid_acl = "PERMIT:91-"\n', '/tmp');
    expect(bad.ok ? null : bad.errors[0]).toMatchObject({ key: 'links.0.tgid_acl', line: 9 });
    const deny = parseConfigText('[acl]\nunknown_ids = "deny"\n', '/tmp');
    expect(deny.ok ? null : deny.errors[0]).toMatchObject({ key: 'acl.unknown_ids', line: 2 });
    const file = parseConfigText('[acl]\nid_file = "ids/user.csv"\nunknown_ids = "deny"\n', '/srv/dmrhub');
    expect(file.ok && file.config.acl.idFile).toBe('/srv/dmrhub/ids/user.csv');
  });
});

const world = (patch: (c: CoreConfig) => void): World => new World(testConfig(patch));
const stat = (w: World, code: string): number => Object.fromEntries(w.core.stats())[code] ?? 0;
const toPort = (sent: Sent[], port: number): Sent[] => sent.filter((s) => s.socket === 0 && s.port === port);

describe('REG at login', () => {
  it('answers a denied ID with MSTNAK, keeps nothing, and warns once per ID', () => {
    const w = world((c) => (c.acl.reg = 'DENY:3100001,3109000-3109999'));
    for (let i = 0; i < 3; i++) expect(parseReply(w.datagram(5001, encodeRptl(3100001)), 'MSTNAK')).toBe(3100001);
    expect(parseReply(w.datagram(5002, encodeRptl(3109500)), 'MSTNAK')).toBe(3109500);
    expect(w.core.pendingLogins).toBe(0);
    expect(stat(w, 'login.refused.acl.reg')).toBe(4);
    const warned = w.sink.logs.filter((l) => l.code === 'login.refused');
    expect(warned.map((l) => [l.peer, l.level, l.reason])).toEqual([
      [3100001, 'warn', 'acl.reg'],
      [3109500, 'warn', 'acl.reg'],
    ]);
    w.login(3100002, 5003);
    expect(w.core.sessions.has(3100002)).toBe(true);
    // The status probe ID is never refused.
    expect(parseReply(w.datagram(5004, encodeRptl(0xffffffff)), 'RPTACK')).toBeTypeOf('number');
  });

  it('refuses unknown IDs once the list says so, and judges hotspot suffixes by the first 7 digits', () => {
    const w = world((c) => (c.acl.unknownIds = 'deny'));
    expect(parseReply(w.datagram(5001, encodeRptl(3100001)), 'MSTNAK')).toBe(3100001);
    expect(stat(w, 'login.refused.acl.id-list-not-loaded')).toBe(1);
    w.core.handle({ kind: 'ids-loaded', now: w.now, source: 'ids.csv', ids: Uint32Array.from([1234, 3100001, 3100002]) }, w.sink);
    w.login(3100001, 5001);
    w.login(310000201, 5002);
    w.login(1234, 5005);
    expect(parseReply(w.datagram(5003, encodeRptl(3100003)), 'MSTNAK')).toBe(3100003);
    expect(parseReply(w.datagram(5004, encodeRptl(310000301)), 'MSTNAK')).toBe(310000301);
    expect(stat(w, 'login.refused.acl.unknown-id')).toBe(2);
    // The REG list still applies to known IDs.
    w.core.handle({ kind: 'config-applied', now: w.now, config: testConfig((c) => ((c.acl.unknownIds = 'deny'), (c.acl.reg = 'DENY:3100002'))) }, w.sink);
    expect(parseReply(w.datagram(5006, encodeRptl(3100002)), 'MSTNAK')).toBe(3100002);
  });
});

describe('SUB and TGID on peer streams', () => {
  const setup = (patch: (c: CoreConfig) => void): World => {
    const w = world(patch);
    w.login(3100001, 5001, 'TS1=2350;TS2=91;');
    w.login(3100002, 5002, 'TS1=2350;TS2=91;');
    w.sink.take();
    w.sink.logs.length = 0;
    return w;
  };

  it('drops a stream whose source SUB denies, for its whole life, logged once, checked once', () => {
    const w = setup((c) => (c.acl.sub = 'DENY:3120000-3129999'));
    const call = voiceCall({ peerId: 3100001, src: 3120101, tg: 91, slot: 2, streamId: 0x501, superframes: 2 });
    expect(toPort(w.play(5001, call), 5002)).toEqual([]);
    expect(stat(w, 'stream.refused.acl.sub')).toBe(1);
    expect(stat(w, 'stream.refused.acl-frames')).toBe(call.length - 1);
    const logs = w.sink.logs.filter((l) => l.code === 'call.refused');
    expect(logs).toEqual([{ code: 'call.refused', level: 'info', peer: 3100001, src: 3120101, tg: 91, slot: 2, stream: 0x501, reason: 'acl.sub', detail: 'peer 3100001' }]);
    expect(w.sink.logs.some((l) => l.code === 'call.start')).toBe(false);
    // Another talker on the same lane is routed.
    const ok = voiceCall({ peerId: 3100001, src: 3100011, tg: 91, slot: 2, streamId: 0x502 });
    expect(toPort(w.play(5001, ok), 5002)).toHaveLength(ok.length);
  });

  it('applies the TS2 list on TS2 only, and the TS1 list on TS1 only', () => {
    const w = setup((c) => {
      c.acl.tgidTs2 = 'DENY:91';
      c.acl.tgidTs1 = 'PERMIT:2350';
    });
    const ts2 = voiceCall({ peerId: 3100001, src: 3100011, tg: 91, slot: 2, streamId: 0x601 });
    expect(toPort(w.play(5001, ts2), 5002)).toEqual([]);
    expect(stat(w, 'stream.refused.acl.tgid-ts2')).toBe(1);
    const ts1 = voiceCall({ peerId: 3100001, src: 3100011, tg: 2350, slot: 1, streamId: 0x602 });
    expect(toPort(w.play(5001, ts1), 5002)).toHaveLength(ts1.length);
    const ts1other = voiceCall({ peerId: 3100001, src: 3100011, tg: 91, slot: 1, streamId: 0x603 });
    expect(toPort(w.play(5001, ts1other), 5002)).toEqual([]);
    expect(stat(w, 'stream.refused.acl.tgid-ts1')).toBe(1);
  });

  it('applies a session\'s own lists (the credential hook) after the global ones', () => {
    const w = setup(() => {});
    const r = buildAclSet({ tgidTs2: 'PERMIT:3100-3199' });
    if (!r.ok) throw new Error('bad');
    w.core.sessions.get(3100001)!.acl = r.set;
    expect(toPort(w.play(5001, voiceCall({ peerId: 3100001, src: 3100011, tg: 91, slot: 2, streamId: 0x701 })), 5002)).toEqual([]);
    // The other peer has no such list.
    expect(toPort(w.play(5002, voiceCall({ peerId: 3100002, src: 3100012, tg: 91, slot: 2, streamId: 0x702 })), 5001).length).toBeGreaterThan(0);
  });
});

const LINK = { socket: 1, address: '127.0.0.1', port: 62044 };
const linkCfg = (patch: Partial<LinkConfig>): LinkConfig => ({ name: 'fd', ...LINK, passphrase: 'passw0rd', networkId: 0, preserveSourcePeer: false, checkSource: true, talkgroups: [], ...patch });

function obpFrames(o: { src: number; tg: number; streamId: number }): Uint8Array[] {
  return voiceCall({ peerId: 9990, slot: 1, ...o }).map((d) => {
    const f = new Uint8Array(OBP.FRAME);
    f.set(d.subarray(0, 53));
    signObp(f, obpKey('passw0rd'), hmacSha1);
    return f;
  });
}

function fromLink(w: World, frames: Uint8Array[]): Sent[] {
  const out: Sent[] = [];
  for (const f of frames) {
    w.now += 60;
    out.push(...w.datagram(LINK.port, f, LINK.address, LINK.socket));
  }
  return out;
}

describe('SUB and TGID on links', () => {
  const setup = (links: LinkConfig[], patch: (c: CoreConfig) => void = () => {}): World => {
    const w = world((c) => {
      c.serverId = 9991;
      c.links = links;
      patch(c);
    });
    w.login(3100001, 5001, 'TS1=2350;TS2=91;');
    w.sink.take();
    return w;
  };

  it('drops calls from a link that its sub_acl or tgid_acl (or the global lists) refuse', () => {
    const w = setup([linkCfg({ subAcl: 'DENY:3120101', tgidAcl: 'PERMIT:91,2350' })], (c) => (c.acl.sub = 'DENY:3130000-3139999'));
    const refused: [number, number, string][] = [
      [3120101, 91, 'stream.refused.acl.sub'],
      [3130001, 91, 'stream.refused.acl.sub'],
      [3100099, 3100, 'stream.refused.acl.tgid-ts1'],
    ];
    let id = 0x800;
    for (const [src, tg] of refused) expect(toPort(fromLink(w, obpFrames({ src, tg, streamId: ++id })), 5001)).toEqual([]);
    expect(stat(w, 'stream.refused.acl.sub')).toBe(2);
    expect(stat(w, 'stream.refused.acl.tgid-ts1')).toBe(1);
    expect(w.sink.logs.filter((l) => l.code === 'call.refused').map((l) => [l.src, l.detail])).toEqual([
      [3120101, 'link fd'],
      [3130001, 'link fd'],
      [3100099, 'link fd'],
    ]);
    // Permitted: routed to the peer.
    const ok = obpFrames({ src: 3100011, tg: 91, streamId: 0x900 });
    expect(toPort(fromLink(w, ok), 5001)).toHaveLength(ok.length);
  });

  it('quenches a refused call on an FBP link, and forgets it at its terminator', () => {
    const keys = fbpKeys('passw0rd');
    const w = setup([linkCfg({ protocol: 'fbp', subAcl: 'DENY:3120101' })]);
    w.now = 100_000;
    const frames = voiceCall({ peerId: 9990, src: 3120101, tg: 91, slot: 1, streamId: 0xa01 }).map((d) => {
      const out = new Uint8Array(89);
      writeDmre(out, d, { version: 5, sourceServer: 3101, sourceRepeater: 310012301, hops: 1 }, w.now, keys.blake2b);
      return out;
    });
    const got = fromLink(w, frames);
    expect(toPort(got, 5001)).toEqual([]);
    const quench = got.filter((s) => s.socket === LINK.socket && String.fromCharCode(...s.bytes.subarray(0, 4)) === 'BCSQ');
    expect(quench.length).toBeGreaterThanOrEqual(1);
    expect(readU32(quench[0]!.bytes, 7)).toBe(0xa01);
    expect(stat(w, 'stream.refused.acl.sub')).toBe(1);
    expect(stat(w, 'stream.refused.acl-frames')).toBe(frames.length - 1);
    // Forgotten at the terminator: the same stream ID again is judged afresh (and logged only once).
    expect(toPort(fromLink(w, frames.slice(0, 2)), 5001)).toEqual([]);
    expect(stat(w, 'stream.refused.acl.sub')).toBe(2);
    expect(w.sink.logs.filter((l) => l.code === 'call.refused')).toHaveLength(1);
  });

  it('does not send a peer\'s call on a link whose list, or the global TS1 list, refuses its talkgroup', () => {
    const w = setup([linkCfg({ tgidAcl: 'DENY:2350' }), linkCfg({ name: 'bm', socket: 2, port: 62050 })], (c) => (c.acl.tgidTs1 = 'DENY:3100'));
    const onSocket = (sent: Sent[], s: number): number => sent.filter((x) => x.socket === s).length;
    const a = w.play(5001, voiceCall({ peerId: 3100001, src: 3100011, tg: 2350, slot: 1, streamId: 0xb01 }));
    expect([onSocket(a, 1), onSocket(a, 2) > 0]).toEqual([0, true]);
    const b = w.play(5001, voiceCall({ peerId: 3100001, src: 3100011, tg: 91, slot: 2, streamId: 0xb02 }));
    expect([onSocket(b, 1) > 0, onSocket(b, 2) > 0]).toEqual([true, true]);
    // TG 3100 from a peer's TS2: the global TS1 list still keeps it off every link.
    w.core.sessions.get(3100001)!.acl = null;
    const c = w.play(5001, voiceCall({ peerId: 3100001, src: 3100011, tg: 3100, slot: 2, streamId: 0xb03 }));
    expect([onSocket(c, 1), onSocket(c, 2)]).toEqual([0, 0]);
    expect(stat(w, 'stream.refused.acl-link-egress')).toBe(3);
  });
});

describe('known-ID file', () => {
  it('reads RadioID CSV, plain lists and FreeDMR JSON, sorted without repeats', () => {
    const csv = parseIdText('RADIO_ID,CALLSIGN,FIRST_NAME\n3120101,N0CALL,Al\n1023001,XX1X,Bo\n3120101,N0CALL,Al\n', 'user.csv');
    expect(csv.ok && [...csv.ids]).toEqual([1023001, 3120101]);
    const plain = parseIdText('# local\n5\n 7 \n\n3\n', 'ids.txt');
    expect(plain.ok && [...plain.ids]).toEqual([3, 5, 7]);
    const other = parseIdText('CALLSIGN;DMR_ID\nN0CALL;3120101\n', 'x.csv');
    expect(other.ok && [...other.ids]).toEqual([3120101]);
    const json = parseIdText('{"count": 2, "results": [{"id": 3120101, "callsign": "N0CALL"}, {"id": "1023001", "callsign": "XX1X"}]}', 'subscriber_ids.json');
    expect(json.ok && [...json.ids]).toEqual([1023001, 3120101]);
  });

  it('says what is wrong with a bad file', () => {
    expect(parseIdText('{"results": [{"callsign": "N0CALL"}]}', 'a.json')).toEqual({ ok: false, error: 'a.json: record 1 of "results" has no "id" 1..4294967295 (got nothing)' });
    expect(parseIdText('{"results": 5}', 'a.json').ok).toBe(false);
    expect(parseIdText('{bad', 'a.json').ok).toBe(false);
    expect(parseIdText('RADIO_ID\n99999999999\n', 'u.csv')).toEqual({ ok: false, error: 'u.csv:2: 99999999999 is outside 1..4294967295' });
    expect(parseIdText('RADIO_ID,CALLSIGN\n', 'u.csv')).toEqual({ ok: false, error: 'u.csv: no IDs found' });
  });

  it('records ids-loaded in the event log and reads it back', () => {
    const ids = Uint32Array.from([1, 3120101, 0xffffffff]);
    const line = encodeEvent({ kind: 'ids-loaded', now: 5, source: '/x/user.csv', ids }, (c) => c);
    expect(decodeEvent(line)).toEqual({ ok: true, event: { kind: 'ids-loaded', now: 5, source: '/x/user.csv', ids } });
    expect(decodeEvent(line.replace('00000001', '0bffffff')).ok).toBe(false);
  });
});
