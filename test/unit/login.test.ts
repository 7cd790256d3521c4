// The login path: the stateless challenge, per-peer credentials, the takeover policy, MSTNAK to
// peer packets from an unknown sender, and the per-address limits.

import { describe, expect, it } from 'vitest';
import type { Credential } from '../../src/core/index.js';
import { encodeRptc, encodeRptk, encodeRptl, encodeRpto, encodeRptping, parseMasterReply } from '../../src/protocol/index.js';
import { loginDigest } from '../support/crypto.js';
import { parseReply, testConfig, voiceCall, World, type Sent } from '../support/harness.js';

const tag = (s: Sent): string => {
  const r = parseMasterReply(s.bytes);
  return r.ok ? r.value.tag : String.fromCharCode(...s.bytes.subarray(0, 4));
};

function cred(patch: Partial<Credential>): Credential {
  return { name: 'c', ids: [], callsign: '', passphrase: 'own secret', ts1: null, ts2: null, options: true, talkerAlias: false, ...patch };
}

/** RPTL, RPTK with `passphrase`, RPTC with `callsign`: the replies of each step. */
function tryLogin(w: World, peerId: number, port: number, passphrase: string, callsign = 'G4XYZ', address = '127.0.0.1'): Sent[][] {
  const salt = parseReply(w.datagram(port, encodeRptl(peerId), address), 'RPTACK');
  const k = w.datagram(port, encodeRptk(peerId, loginDigest(salt, passphrase)), address);
  const c = w.datagram(port, encodeRptc({ peerId, callsign, slots: '4', softwareId: 'test', packageId: 'test' }), address);
  return [k, c];
}

const acked = (r: Sent[]): boolean => r.length === 1 && tag(r[0]!) === 'RPTACK';
const naked = (r: Sent[]): boolean => r.length === 1 && tag(r[0]!) === 'MSTNAK';

describe('stateless challenge', () => {
  it('answers a repeated RPTL with the same salt within a window, and RPTL leaves no state', () => {
    const w = new World();
    const a = parseReply(w.datagram(6000, encodeRptl(77)), 'RPTACK');
    w.now += 100;
    expect(parseReply(w.datagram(6000, encodeRptl(77)), 'RPTACK')).toBe(a);
    // Another port, address or peer ID: another salt.
    expect(parseReply(w.datagram(6001, encodeRptl(77)), 'RPTACK')).not.toBe(a);
    expect(parseReply(w.datagram(6000, encodeRptl(77), '127.0.0.2'), 'RPTACK')).not.toBe(a);
    expect(parseReply(w.datagram(6000, encodeRptl(78)), 'RPTACK')).not.toBe(a);
    expect(w.core.pendingLogins).toBe(0);
    expect(w.core.sessions.size).toBe(0);
    expect(w.core.limitedAddresses).toBe(0);
  });

  it('accepts a salt of this window and the one before, not older', () => {
    const t = testConfig().hbp.loginTimeoutMs;
    const w = new World();
    w.now = 5 * t + 10;
    const salt = parseReply(w.datagram(6000, encodeRptl(77)), 'RPTACK');
    w.now = 6 * t + t - 1; // the next window, near its end
    expect(acked(w.datagram(6000, encodeRptk(77, loginDigest(salt, 'passw0rd'))))).toBe(true);
    const w2 = new World();
    w2.now = 5 * t + 10;
    const old = parseReply(w2.datagram(6000, encodeRptl(77)), 'RPTACK');
    w2.now = 7 * t; // two windows on
    expect(naked(w2.datagram(6000, encodeRptk(77, loginDigest(old, 'passw0rd'))))).toBe(true);
    expect(w2.core.sessions.size).toBe(0);
  });

  it('keys the salts with the seed: another seed, other salts', () => {
    const a = parseReply(new World(testConfig(), 1).datagram(6000, encodeRptl(77)), 'RPTACK');
    const b = parseReply(new World(testConfig(), 2).datagram(6000, encodeRptl(77)), 'RPTACK');
    expect(a).not.toBe(b);
  });

  it('drops a proven login that sends no RPTC within the login timeout, and bounds such logins', () => {
    const w = new World(testConfig((c) => (c.hbp.maxPendingLogins = 2)));
    for (const [id, port] of [[1, 7001], [2, 7002], [3, 7003]] as const) {
      const salt = parseReply(w.datagram(port, encodeRptl(id)), 'RPTACK');
      const r = w.datagram(port, encodeRptk(id, loginDigest(salt, 'passw0rd')));
      expect(id < 3 ? acked(r) : naked(r)).toBe(true);
    }
    expect(w.core.pendingLogins).toBe(2);
    expect(new Map(w.core.stats()).get('login.refused.pending-full')).toBe(1);
    w.advance(w.core.cfg.hbp.loginTimeoutMs + 1);
    expect(w.core.pendingLogins).toBe(0);
    expect(w.core.sessions.size).toBe(0);
    expect(new Map(w.core.stats()).get('login.config-timeout')).toBe(2);
  });

  it('stops checking RPTK from an address after repeated wrong passphrases', () => {
    const w = new World();
    let answered = 0;
    for (let i = 0; i < 15; i++) {
      const salt = parseReply(w.datagram(6000 + i, encodeRptl(77)), 'RPTACK');
      answered += w.datagram(6000 + i, encodeRptk(77, loginDigest(salt, 'guess' + i))).length;
    }
    expect(answered).toBe(10);
    // Even the right passphrase from there now goes unchecked for a while…
    const salt = parseReply(w.datagram(6100, encodeRptl(77)), 'RPTACK');
    expect(w.datagram(6100, encodeRptk(77, loginDigest(salt, 'passw0rd')))).toEqual([]);
    // …while another address logs in as usual, and the first one again after a pause.
    expect(acked(tryLogin(w, 78, 6000, 'passw0rd', 'G4XYZ', '127.0.0.9')[0]!)).toBe(true);
    w.now += 2_100;
    expect(acked(tryLogin(w, 77, 6200, 'passw0rd')[0]!)).toBe(true);
  });
});

describe('takeover policy', () => {
  it('refuses a login with the shared passphrase for an ID connected and answering elsewhere, warning once', () => {
    const w = new World();
    w.login(1001, 5001, 'TS2=91;');
    for (let i = 0; i < 3; i++) {
      w.now += 1000;
      w.ping(1001, 5001);
      const [k] = tryLogin(w, 1001, 5999, 'passw0rd');
      expect(naked(k!)).toBe(true);
    }
    expect(w.core.sessions.get(1001)!.port).toBe(5001);
    const warnings = w.sink.logs.filter((l) => l.code === 'login.refused' && l.reason === 'in-use');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe('warn');
    expect(warnings[0]!.detail).toContain('127.0.0.1:5001');
    expect(warnings[0]!.detail).toContain('127.0.0.1:5999');
    // The running session is untouched: it still pings.
    expect(parseReply(w.ping(1001, 5001), 'MSTPONG')).toBe(1001);
  });

  it('lets a login take over an ID whose session missed a ping', () => {
    const w = new World();
    w.login(1001, 5001, 'TS2=91;');
    w.now += w.core.cfg.hbp.pingIntervalMs * 1.5 + 1;
    const [k, c] = tryLogin(w, 1001, 5999, 'passw0rd');
    expect(k!.map((s) => `${tag(s)}@${s.port}`)).toEqual(['MSTCL@5001', 'RPTACK@5999']);
    expect(acked(c!)).toBe(true);
    expect(w.core.sessions.get(1001)!.port).toBe(5999);
    expect(w.sink.logs.some((l) => l.code === 'login.takeover' && l.reason === 'silent')).toBe(true);
  });

  it('two hotspots with one ID no longer take turns', () => {
    const w = new World();
    w.login(1001, 5001);
    let moves = 0;
    for (let t = 0; t < 60; t++) {
      w.now += 1000;
      if (t % 10 === 0) w.ping(1001, 5001);
      if (t % 10 === 5) {
        const [k] = tryLogin(w, 1001, 5002, 'passw0rd');
        if (acked(k!)) moves++;
      }
    }
    expect(moves).toBe(0);
    expect(w.core.sessions.get(1001)!.port).toBe(5001);
  });

  it('a per-peer credential proves the ID and takes it over at once; the old address gets MSTCL', () => {
    const w = new World(testConfig((c) => (c.hbp.credentials = [cred({ name: 'mine', ids: [[1001, 1001]] })])));
    tryLogin(w, 1001, 5001, 'own secret');
    const salt = parseReply(w.datagram(5999, encodeRptl(1001)), 'RPTACK');
    const k = w.datagram(5999, encodeRptk(1001, loginDigest(salt, 'own secret')));
    expect(k.map((s) => `${tag(s)}@${s.port}`)).toEqual(['MSTCL@5001', 'RPTACK@5999']);
    expect(w.sink.logs.some((l) => l.code === 'login.takeover' && l.reason === 'credential')).toBe(true);
  });
});

describe('per-peer credentials', () => {
  const config = () =>
    testConfig((c) => {
      c.hbp.credentials = [
        cred({ name: 'one', ids: [[1001, 1001]], passphrase: 'one secret', ts2: [2350], options: false }),
        cred({ name: 'range', ids: [[2000, 2099]], passphrase: 'range secret', talkerAlias: true }),
        cred({ name: 'calls', callsign: 'M0*', passphrase: 'm0 secret' }),
      ];
    });

  it('an ID covered by a credential needs its passphrase; the shared one no longer works for it', () => {
    const w = new World(config());
    expect(naked(tryLogin(w, 1001, 5001, 'passw0rd')[0]!)).toBe(true);
    expect(naked(tryLogin(w, 2050, 5002, 'one secret')[0]!)).toBe(true);
    const [k, c] = tryLogin(w, 1001, 5003, 'one secret');
    expect(acked(k!) && acked(c!)).toBe(true);
    const [k2, c2] = tryLogin(w, 2050, 5004, 'range secret');
    expect(acked(k2!) && acked(c2!)).toBe(true);
    // Anyone else: the catch-all, or a callsign credential.
    expect(acked(tryLogin(w, 3000, 5005, 'passw0rd')[1]!)).toBe(true);
  });

  it('a callsign credential is checked against the RPTC callsign', () => {
    const w = new World(config());
    const [k, c] = tryLogin(w, 4000, 5001, 'm0 secret', 'M0ABC');
    expect(acked(k!) && acked(c!)).toBe(true);
    const [k2, c2] = tryLogin(w, 4001, 5002, 'm0 secret', 'G4XYZ');
    expect(acked(k2!)).toBe(true);
    expect(naked(c2!)).toBe(true);
    expect(w.core.sessions.has(4001)).toBe(false);
    expect(w.sink.logs.some((l) => l.code === 'login.refused' && l.reason === 'callsign')).toBe(true);
  });

  it('gives the credential its static talkgroups, ignores its options when not allowed, and never logs a passphrase', () => {
    const w = new World(config());
    tryLogin(w, 1001, 5001, 'one secret');
    expect([...w.core.sessions.get(1001)!.subs[2].keys()]).toEqual([2350]);
    expect(parseReply(w.datagram(5001, encodeRpto(1001, 'TS2=91')), 'RPTACK')).toBe(1001);
    expect([...w.core.sessions.get(1001)!.subs[2].keys()]).toEqual([2350]);
    const notAllowed = w.sink.logs.filter((l) => l.code === 'options.rejected' && l.reason === 'not-allowed');
    expect(notAllowed).toHaveLength(1);
    expect(notAllowed[0]!.level).toBe('info');
    const text = JSON.stringify([w.sink.logs, w.sink.reports]);
    for (const secret of ['one secret', 'range secret', 'm0 secret', 'passw0rd']) expect(text).not.toContain(secret);
  });

  it('with no catch-all, only credentials log in', () => {
    const w = new World(testConfig((c) => ((c.hbp.passphrase = ''), (c.hbp.credentials = [cred({ ids: [[1001, 1001]] })]))));
    expect(naked(tryLogin(w, 1002, 5001, '')[0]!)).toBe(true);
    expect(acked(tryLogin(w, 1001, 5002, 'own secret')[1]!)).toBe(true);
  });
});

describe('peer packets from an unknown sender', () => {
  it('DMRD and RPTPING from a peer that is not logged in get MSTNAK, limited per address', () => {
    const w = new World();
    const dmrd = voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 9 })[0]!;
    const first = w.datagram(5001, dmrd);
    expect(first.map(tag)).toEqual(['MSTNAK']);
    expect(first[0]!.bytes.length).toBeLessThanOrEqual(dmrd.length);
    expect(parseReply(first, 'MSTNAK')).toBe(1001);
    expect(parseReply(w.datagram(5001, encodeRptping(1001)), 'MSTNAK')).toBe(1001);
    let naks = 2;
    for (let i = 0; i < 100; i++) naks += w.datagram(5001, dmrd).length;
    expect(naks).toBe(20); // the burst, then nothing until the bucket refills
    w.now += 1000;
    for (let i = 0; i < 100; i++) naks += w.datagram(5001, dmrd).length;
    expect(naks).toBe(30);
    expect(w.core.sessions.size).toBe(0);
  });

  it('a logged-in peer whose DMRD comes from another address is told at that address only', () => {
    const w = new World();
    w.login(1001, 5001, 'TS2=91;');
    const dmrd = voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 9 })[0]!;
    expect(w.datagram(5002, dmrd).map((s) => `${tag(s)}@${s.port}`)).toEqual(['MSTNAK@5002']);
    expect(w.core.sessions.get(1001)!.port).toBe(5001);
  });
});

describe('options from the peer', () => {
  it('keys are case-insensitive, and rejected fields are logged at info once per peer with the reason', () => {
    const w = new World();
    w.login(1001, 5001, 'ts2=91;ts1=2350;single=0;Foo=1;TS1_1=x');
    const s = w.core.sessions.get(1001)!;
    expect([...s.subs[1].keys()]).toEqual([2350]);
    expect([...s.subs[2].keys()]).toEqual([91]);
    expect(s.options.single).toBe(false);
    const rejected = w.sink.logs.filter((l) => l.code === 'options.rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.level).toBe('info');
    expect(rejected[0]!.detail).toContain("Foo: not an option this server knows");
    expect(rejected[0]!.detail).toContain("TS1: 'x' is not a talkgroup");
    // The same peer again (a new login, the same bad options): not logged again.
    w.datagram(5001, encodeRpto(1001, 'ts2=91;Foo=1'));
    w.now += 20_000;
    w.login(1001, 5001, 'Foo=2');
    expect(w.sink.logs.filter((l) => l.code === 'options.rejected')).toHaveLength(1);
  });
});

describe('event logs with credentials', () => {
  it('hold only digests of credential passphrases, and replay with the real ones from the config', async () => {
    const { encodeEvent, redactCore } = await import('../../src/replay/format.js');
    const { replayLog } = await import('../../src/replay/runner.js');
    const { secretDigest } = await import('../../src/config/types.js');
    const { sha256 } = await import('../support/crypto.js');
    const config = testConfig((c) => (c.hbp.credentials = [cred({ name: 'mine', ids: [[1001, 1001]], passphrase: 'cred secret' })]));
    const w = new World(config, 7);
    const events: string[] = [encodeEvent({ kind: 'started', now: 0, seed: 7, config }, (c) => redactCore(c, secretDigest))];
    const send = (port: number, bytes: Uint8Array): Sent[] => {
      events.push(encodeEvent({ kind: 'datagram-received', now: w.now, socket: 0, address: '127.0.0.1', port, bytes }, (c) => c));
      return w.datagram(port, bytes);
    };
    const salt = parseReply(send(5001, encodeRptl(1001)), 'RPTACK');
    expect(parseReply(send(5001, encodeRptk(1001, loginDigest(salt, 'cred secret'))), 'RPTACK')).toBe(1001);
    const log = events.join('\n');
    expect(log).not.toContain('cred secret');
    expect(log).toContain(secretDigest('cred secret'));
    const secrets = ['passw0rd', 'cred secret'];
    const deps = { sha256, digestText: (t: string) => t.length.toString() };
    const good = replayLog(log, deps, (r) => secrets.find((s) => secretDigest(s) === r) ?? null);
    expect(good.errors).toEqual([]);
    const ackOf1001 = '52505441434b000003e9'; // "RPTACK" + peer ID 1001, as the canonical lines show it
    expect(good.lines.filter((l) => l.endsWith(ackOf1001))).toHaveLength(1);
    // Without the credential's passphrase the replay says so, and the login fails as it would live.
    const bad = replayLog(log, deps, (r) => (r === secretDigest('passw0rd') ? 'passw0rd' : null));
    expect(bad.errors.some((e) => e.startsWith('secret:'))).toBe(true);
    expect(bad.lines.filter((l) => l.endsWith(ackOf1001))).toHaveLength(0);
  });
});
