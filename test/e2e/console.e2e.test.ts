// The operator console's backend through the built server: real hotspots over UDP on 127.0.0.1,
// real HTTP with fetch. Every endpoint and error code; the event stream carries each report event
// once and in order (and Last-Event-ID resumes it); commands change the server, are audited, are
// recorded, and `dmrhub replay` reproduces them; the metrics parse strictly and match the core's
// counters as the server logs them when it stops.

import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { voiceCall } from '../support/harness.js';
import { HbpClient } from '../support/hbp-client.js';
import { api, auditPath, CONSOLE_TOKEN, consoleOptions, consoleUrl, SseReader, until } from '../support/console-client.js';
import { parsePrometheusText, sampleValue } from '../support/prom-text.js';
import { encodeDmrd } from '../../src/protocol/index.js';
import { runCli, serversFixture } from '../support/server-process.js';

const fx = serversFixture();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SNAPSHOT_S = 0.2;
const base = { console: { snapshot_interval: SNAPSHOT_S } };
const tag = (b: Uint8Array): string => String.fromCharCode(...b.subarray(0, 5));

type Peer = { id: number; callsign: string; subscriptions: { ts1: number[]; ts2: number[] }; dial: Record<string, number> } & Record<string, unknown>;
const peersOf = async (url: string): Promise<Peer[]> => (await api(url, '/api/v1/peers')).body['peers'] as Peer[];
const waitPeers = (url: string, pred: (p: Peer[]) => boolean, what: string): Promise<Peer[]> =>
  until(async () => {
    const r = await api(url, '/api/v1/peers');
    if (r.status !== 200) return undefined;
    const p = r.body['peers'] as Peer[];
    return pred(p) ? p : undefined;
  }, 5000, what);

describe('operator console API', () => {
  it('serves the server, peers, calls, lastheard, talkgroups and links views', async () => {
    const s = await fx.start(consoleOptions(base));
    const url = await consoleUrl(s);
    const a = await fx.hotspot(s, 3120001, 'TS1=1;TS2=91;');
    const b = await fx.hotspot(s, 3120002, 'TS2=91;');
    const peers = await waitPeers(url, (p) => p.length === 2, 'two peers');
    expect(peers.map((p) => [p.id, p.callsign])).toEqual([
      [3120001, 'T20001'],
      [3120002, 'T20002'],
    ]);
    const pa = peers[0]!;
    expect(pa).toMatchObject({ address: '127.0.0.1', port: a.localPort, software: 'dmrhub-e2e', package: 'dmrhub-e2e', location: 'loopback', description: 'dmrhub e2e', rx_freq: '434000000', tx_freq: '434000000', colour_code: 1, slots: '4', options: 'TS1=1;TS2=91;' });
    expect(pa.subscriptions).toEqual({ ts1: [1], ts2: [91] });
    expect(pa.dial).toEqual({});
    expect(Date.parse(pa['connected_since'] as string)).toBeLessThanOrEqual(Date.now());
    expect(typeof pa['last_ping']).toBe('string');

    const server = await api(url, '/api/v1/server');
    expect(server.status).toBe(200);
    expect(server.body).toMatchObject({ version: expect.any(String), read_only: false, reporting: { queue_depth: expect.any(Number), dropped: 0 } });
    expect(server.body['uptime_ms']).toBeGreaterThan(0);
    const cfgText = JSON.stringify(server.body['config']);
    expect(cfgText).not.toContain('passw0rd');
    expect(cfgText).not.toContain(CONSOLE_TOKEN);
    expect(cfgText).not.toContain('sha256:');

    const tgs = (await api(url, '/api/v1/talkgroups')).body['talkgroups'] as { tg: number; subscribers: unknown[]; active: unknown[] }[];
    expect(tgs.find((t) => t.tg === 91)?.subscribers).toEqual([
      { peer: 3120001, slot: 2, kind: 'static' },
      { peer: 3120002, slot: 2, kind: 'static' },
    ]);
    expect((await api(url, '/api/v1/links')).body).toEqual({ links: [], uplinks: [] });

    // A long call: live in /calls (and in its talkgroup's active list), then in lastheard.
    const call = voiceCall({ peerId: a.peerId, src: 3120101, tg: 91, slot: 2, streamId: 0x12000001, superframes: 6 });
    const sending = a.sendPaced(call);
    const live = await until(async () => {
      const c = (await api(url, '/api/v1/calls')).body['calls'] as Record<string, unknown>[];
      return c.length > 0 ? c : undefined;
    }, 1000, 'the live call within 1 s');
    expect(live[0]).toMatchObject({ stream_id: '12000001', src: 3120101, tg: 91, slot: 2, peer: 3120001, via: 'peer', loss: 0 });
    const active = await until(async () => {
      const t = ((await api(url, '/api/v1/talkgroups')).body['talkgroups'] as { tg: number; active: unknown[] }[]).find((x) => x.tg === 91);
      return t !== undefined && t.active.length === 1 ? t.active : undefined;
    }, 2000, 'the call in its talkgroup');
    expect(active[0]).toMatchObject({ stream_id: '12000001' });
    await sending;
    const heard = await until(async () => {
      const r = (await api(url, '/api/v1/lastheard')).body as { items: Record<string, unknown>[] };
      return r.items.length === 1 ? r : undefined;
    }, 2000, 'the call in lastheard');
    expect(heard).toMatchObject({ items: [{ stream_id: '12000001', src: 3120101, tg: 91, peer: 3120001, end_reason: 'terminator', loss: 0 }], next_cursor: null });
    expect((await api(url, '/api/v1/calls')).body).toEqual({ calls: [] });

    // Two more calls, then filters and pages.
    for (const [src, tg, id] of [
      [3120102, 91, 0x12000002],
      [3120103, 1, 0x12000003],
    ] as const) {
      await a.sendPaced(voiceCall({ peerId: a.peerId, src, tg, slot: tg === 1 ? 1 : 2, streamId: id }), 20);
      await sleep(300);
    }
    await until(async () => (((await api(url, '/api/v1/lastheard')).body['items'] as unknown[]).length === 3 ? true : undefined), 2000, 'three calls heard');
    const srcs = async (q: string): Promise<unknown> => ((await api(url, `/api/v1/lastheard${q}`)).body['items'] as { src: number }[]).map((i) => i.src);
    expect(await srcs('')).toEqual([3120103, 3120102, 3120101]);
    expect(await srcs('?tg=91')).toEqual([3120102, 3120101]);
    expect(await srcs('?src=3120103')).toEqual([3120103]);
    expect(await srcs('?peer=3120002')).toEqual([]);
    const page1 = (await api(url, '/api/v1/lastheard?limit=2')).body as { items: { src: number }[]; next_cursor: string };
    expect(page1.items.map((i) => i.src)).toEqual([3120103, 3120102]);
    expect(page1.next_cursor).toMatch(/^\d+$/);
    const page2 = (await api(url, `/api/v1/lastheard?limit=2&cursor=${page1.next_cursor}`)).body;
    expect(page2).toMatchObject({ items: [{ src: 3120101 }], next_cursor: null });

    // Many state reports later the RPTC details are still there (they cross the port once per
    // session), and a new session of the same ID brings its own.
    expect((await peersOf(url))[1]).toMatchObject({ id: 3120002, callsign: 'T20002', software: 'dmrhub-e2e', location: 'loopback', rx_freq: '434000000' });
    // The old session logs out first: a login of a connected ID from another address is refused
    // while the old one still answers (the takeover policy).
    b.logout();
    await waitPeers(url, (p) => p.length === 1, 'the old session of 3120002 gone');
    const again = await fx.radio(3120002);
    await again.login('127.0.0.1', s.port, { passphrase: 'passw0rd', options: 'TS2=91;', callsign: 'N0NEW' });
    const renewed = await waitPeers(url, (p) => p[1]?.callsign === 'N0NEW', 'the new session of 3120002');
    expect(renewed[1]).toMatchObject({ id: 3120002, port: again.localPort, software: 'dmrhub-e2e' });
    await sleep(3 * SNAPSHOT_S * 1000);
    expect((await peersOf(url))[1]).toMatchObject({ callsign: 'N0NEW', location: 'loopback' });
  }, 30_000);

  it('answers every error with its status and stable code, and a refused command changes nothing', async () => {
    const s = await fx.start(consoleOptions(base));
    const url = await consoleUrl(s);
    const a = await fx.hotspot(s, 3120011, 'TS2=91;');
    await waitPeers(url, (p) => p.length === 1, 'the peer');
    const err = (r: { status: number; body: Record<string, unknown> }): [number, unknown] => [r.status, (r.body['error'] as { code: string } | undefined)?.code];
    expect(err(await api(url, '/api/v1/nothing'))).toEqual([404, 'not_found']);
    expect(err(await api(url, '/nothing'))).toEqual([404, 'not_found']);
    expect(err(await api(url, '/api/v1/peers', { method: 'POST' }))).toEqual([405, 'method_not_allowed']);
    expect((await api(url, '/api/v1/peers', { method: 'POST' })).headers.get('allow')).toBe('GET, HEAD');
    expect(err(await api(url, '/api/v1/reload'))).toEqual([405, 'method_not_allowed']);
    expect(err(await api(url, '/api/v1/peers/3120011/disconnect'))).toEqual([405, 'method_not_allowed']);
    expect(err(await api(url, '/api/v1/lastheard?limit=501'))).toEqual([400, 'bad_request']);
    expect(err(await api(url, '/api/v1/lastheard?src=x'))).toEqual([400, 'bad_request']);
    // Without the token, or with a wrong one: 401, and the peer stays.
    expect(err(await api(url, '/api/v1/peers/3120011/disconnect', { method: 'POST' }))).toEqual([401, 'unauthorized']);
    expect(err(await api(url, '/api/v1/peers/3120011/disconnect', { method: 'POST', token: 'not-the-token-at-all' }))).toEqual([401, 'unauthorized']);
    expect(err(await api(url, '/api/v1/peers/3120011/block', { method: 'POST', body: { seconds: 60 } }))).toEqual([401, 'unauthorized']);
    expect(err(await api(url, '/api/v1/reload', { method: 'POST' }))).toEqual([401, 'unauthorized']);
    // Bad requests and an unknown peer.
    const t = { method: 'POST', token: CONSOLE_TOKEN };
    expect(err(await api(url, '/api/v1/peers/x12/disconnect', t))).toEqual([400, 'bad_request']);
    expect(err(await api(url, '/api/v1/peers/3120011/block', { ...t, body: {} }))).toEqual([400, 'bad_request']);
    expect(err(await api(url, '/api/v1/peers/3120011/block', { ...t, body: { seconds: 0 } }))).toEqual([400, 'bad_request']);
    expect(err(await api(url, '/api/v1/peers/3120011/block', { ...t, rawBody: '{"seconds":' }))).toEqual([400, 'bad_request']);
    expect(err(await api(url, '/api/v1/peers/3120011/options', { ...t, body: { options: 5 } }))).toEqual([400, 'bad_request']);
    expect(err(await api(url, '/api/v1/peers/3120011/dial/drop', { ...t, body: { slot: 3 } }))).toEqual([400, 'bad_request']);
    expect(err(await api(url, '/api/v1/peers/3120011/dial/drop', { ...t, body: { slot: 1 } }))).toEqual([400, 'bad_request']);
    expect(err(await api(url, '/api/v1/peers/3129999/disconnect', t))).toEqual([404, 'unknown_peer']);
    expect(err(await api(url, '/api/v1/peers/3129999/options', { ...t, body: { options: 'TS2=1' } }))).toEqual([404, 'unknown_peer']);
    await sleep(3 * SNAPSHOT_S * 1000);
    expect((await peersOf(url)).map((p) => [p.id, p.subscriptions])).toEqual([[3120011, { ts1: [], ts2: [91] }]]);
    expect(a.received.filter((d) => tag(d.bytes) === 'MSTCL')).toEqual([]);
    await a.ping();
    // Every command attempt is in the audit log, refusals with their code.
    const audit = readFileSync(auditPath(s), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.map((x) => x['code'])).toEqual(['unauthorized', 'unauthorized', 'unauthorized', 'unauthorized', 'bad_request', 'bad_request', 'bad_request', 'bad_request', 'bad_request', 'bad_request', 'bad_request', 'unknown_peer', 'unknown_peer']);
    expect(audit[0]).toMatchObject({ who: 'anonymous', command: 'disconnect', target: 3120011, ok: false, remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(audit[11]).toMatchObject({ who: expect.stringMatching(/^token:[0-9a-f]{8}$/), command: 'disconnect', target: 3129999, ok: false });
  }, 20_000);

  it('without a token the console is read-only: every command is 401', async () => {
    const s = await fx.start(consoleOptions(base, ''));
    const url = await consoleUrl(s);
    await fx.hotspot(s, 3120021, '');
    await waitPeers(url, (p) => p.length === 1, 'the peer');
    expect((await api(url, '/api/v1/server')).body['read_only']).toBe(true);
    const r = await api(url, '/api/v1/peers/3120021/disconnect', { method: 'POST', token: CONSOLE_TOKEN });
    expect([r.status, (r.body['error'] as { code: string }).code]).toEqual([401, 'unauthorized']);
    await sleep(3 * SNAPSHOT_S * 1000);
    expect((await peersOf(url)).map((p) => p.id)).toEqual([3120021]);
  });

  it('a console port that cannot be opened is logged, and the server routes on', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    fx.track({ close: () => new Promise<void>((r) => blocker.close(() => r())) });
    const taken = (blocker.address() as AddressInfo).port;
    const s = await fx.start(consoleOptions({ console: { port: taken } }));
    const failed = await s.waitForLog((l) => l['code'] === 'console.listen-failed', 5000, 'console.listen-failed');
    expect(String(failed['msg'])).toContain('already in use');
    const a = await fx.hotspot(s, 3120061, 'TS2=91;');
    const b = await fx.hotspot(s, 3120062, 'TS2=91;');
    const from = b.mark();
    const call = voiceCall({ peerId: a.peerId, src: 3120161, tg: 91, slot: 2, streamId: 0x12000061 });
    await a.sendPaced(call, 20);
    await b.waitFor((_d, i) => i >= from + call.length - 1, 3000, from, 'the call at B');
  });

  it('says unavailable (503) until the first state report has come', async () => {
    const s = await fx.start(consoleOptions({ console: { snapshot_interval: 60 } }));
    const url = await consoleUrl(s);
    for (const path of ['/api/v1/peers', '/api/v1/talkgroups', '/api/v1/links']) {
      const r = await api(url, path);
      expect([path, r.status, (r.body['error'] as { code: string }).code, r.headers.get('retry-after')]).toEqual([path, 503, 'unavailable', '1']);
    }
    expect((await api(url, '/api/v1/server')).status).toBe(200);
  });
});

describe('operator console event stream', () => {
  it('carries each report event once, in order, and resumes after Last-Event-ID', async () => {
    const s = await fx.start(consoleOptions(base));
    const url = await consoleUrl(s);
    const sse = fx.track(await SseReader.open(`${url}/api/v1/events`, '0'));
    expect(sse.status).toBe(200);
    const a = await fx.hotspot(s, 3120031, 'TS2=91;');
    const b = await fx.hotspot(s, 3120032, 'TS2=91;');
    await a.sendPaced(voiceCall({ peerId: a.peerId, src: 3120131, tg: 91, slot: 2, streamId: 0x12000031 }), 20);
    b.logout();
    await sse.waitFor((e) => e.event === 'peer.logout', 3000, 'the logout event');
    const seen = sse.events.map((e) => `${e.id} ${e.event}`);
    // From seq 1 (server.started, before the stream was opened), each once, without a gap.
    expect(sse.events.map((e) => Number(e.id))).toEqual(sse.events.map((_e, i) => i + 1));
    for (const e of sse.events) {
      const d = JSON.parse(e.data) as { seq: number; family: string; type: string; v: number };
      expect(`${d.seq} ${d.family}.${d.type}`).toBe(`${e.id} ${e.event}`);
      expect(d.v).toBe(1);
    }
    expect(seen.map((x) => x.split(' ')[1])).toEqual([
      'server.started',
      'peer.login',
      'subscription.added',
      'peer.options',
      'peer.login',
      'subscription.added',
      'peer.options',
      'call.start',
      'call.end',
      'subscription.removed',
      'peer.logout',
    ]);
    // A second client that saw up to seq 4 gets exactly the rest, then the live events.
    const again = fx.track(await SseReader.open(`${url}/api/v1/events`, '4'));
    await again.waitFor((e) => e.event === 'peer.logout', 3000, 'the replayed logout');
    expect(again.events.map((e) => `${e.id} ${e.event}`)).toEqual(seen.slice(4));
    a.logout();
    await again.waitFor((e) => e.event === 'peer.logout' && JSON.parse(e.data).peer === 3120031, 3000, 'the live logout');
    await sse.waitFor((e) => e.event === 'peer.logout' && JSON.parse(e.data).peer === 3120031, 3000, 'the live logout');
    expect(again.events.slice(-2).map((e) => e.id)).toEqual(sse.events.slice(-2).map((e) => e.id));
    expect(new Set(sse.events.map((e) => e.id)).size).toBe(sse.events.length);
  }, 20_000);
});

describe('operator commands', () => {
  it('disconnect, block, options, dial-drop and reload act, are audited, recorded and replayed', async () => {
    const s = await fx.start(consoleOptions(base, CONSOLE_TOKEN, { record: true }));
    const url = await consoleUrl(s);
    const t = { method: 'POST', token: CONSOLE_TOKEN };
    const a = await fx.hotspot(s, 3120041, 'TS2=91;');
    const b = await fx.hotspot(s, 3120042, 'TS2=91;');
    const c = await fx.hotspot(s, 3120043, '');
    await waitPeers(url, (p) => p.length === 3, 'three peers');

    const r1 = await api(url, '/api/v1/peers/3120041/disconnect', t);
    expect(r1).toMatchObject({ status: 200, body: { ok: true, result: { peer: 3120041, disconnected: true } } });
    await a.waitFor((d) => tag(d.bytes) === 'MSTCL', 2000, 0, 'MSTCL');

    const r2 = await api(url, '/api/v1/peers/3120042/block', { ...t, body: { seconds: 600 } });
    expect(r2).toMatchObject({ status: 200, body: { ok: true, result: { peer: 3120042, seconds: 600, disconnected: true } } });
    await b.waitFor((d) => tag(d.bytes) === 'MSTCL', 2000, 0, 'MSTCL');
    const again = fx.track(new HbpClient(3120042, { stepTimeoutMs: 500 }));
    await again.bind();
    await expect(again.login('127.0.0.1', s.port, { passphrase: 'passw0rd' })).rejects.toThrow();

    const r3 = await api(url, '/api/v1/peers/3120043/options', { ...t, body: { options: 'TS1=1;TS2=3100' } });
    expect(r3).toMatchObject({ status: 200, body: { ok: true, result: { peer: 3120043, ts1: '1', ts2: '3100' } } });
    // A dialled reflector on C's TS2 lane, then dropped.
    await c.sendPaced([0x21, 0x22].map((frame, seq) => voicePrivate(c.peerId, 3120143, 2350, 0x12000043, frame, seq)), 60);
    const dialled = await waitPeers(url, (p) => p.length === 1 && p[0]!.dial['ts2'] === 2350, 'the dial lane');
    expect(dialled[0]!.subscriptions).toEqual({ ts1: [1], ts2: [3100] });
    const r4 = await api(url, '/api/v1/peers/3120043/dial/drop', { ...t, body: { slot: 2 } });
    expect(r4).toMatchObject({ status: 200, body: { ok: true, result: { peer: 3120043, slot: 2, dropped: 2350 } } });
    await waitPeers(url, (p) => p.length === 1 && p[0]!.dial['ts2'] === undefined, 'the dial lane gone');

    // Reload: the file now asks for hang time 2 s and names a subscriber file; the server answers ok.
    writeFileSync(s.configPath, readFileSync(s.configPath, 'utf8') + '\n[timers]\ngroup_hangtime = 2\n');
    const namesLogs = (): number => s.logs.filter((l) => String(l['code']).startsWith('console.names-')).length;
    expect(namesLogs()).toBe(0);
    writeFileSync(s.configPath, readFileSync(s.configPath, 'utf8').replace('[console]', '[console]\nsubscriber_names = "user.csv"'));
    const r5 = await api(url, '/api/v1/reload', t);
    expect(r5).toMatchObject({ status: 200, body: { ok: true, result: { reloaded: true } } });
    // The reload named a subscriber file: the console loads it (here it cannot: no such file).
    await s.waitForLog((l) => String(l['code']).startsWith('console.names-'), 15_000, 'the names load after the reload');
    const audit = readFileSync(auditPath(s), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(audit.map((x) => [x['command'], x['target'], x['ok']])).toEqual([
      ['disconnect', 3120041, true],
      ['block', 3120042, true],
      ['options', 3120043, true],
      ['dial/drop', 3120043, true],
      ['reload', null, true],
    ]);
    expect(audit[1]!['args']).toEqual({ seconds: 600 });

    fx.forget(s);
    expect(await s.stop()).toBe(0);
    // The event log has the commands; replaying it gives the same answers and the same MSTCLs.
    const log = readFileSync(s.recordPath!, 'utf8');
    expect(log.split('\n').filter((l) => l.includes('"kind":"operator-command"'))).toHaveLength(4);
    const replay = await runCli(['replay', s.recordPath!, '--config', s.configPath]);
    expect(replay.code).toBe(0);
    const results = replay.stdout.split('\n').filter((l) => l.includes('"report":"command-result"')).map((l) => JSON.parse(l.slice(l.indexOf('{'))) as Record<string, unknown>);
    expect(results.map((r) => [r['ok'], r['result']])).toEqual([r1, r2, r3, r4].map((r) => [true, r.body['result']]));
    const mstcl = replay.stdout.split('\n').filter((l) => / send 0 127\.0\.0\.1:\d+ 4d5354434c/.test(l));
    expect(mstcl.map((l) => l.split(' ')[3])).toEqual([`127.0.0.1:${a.localPort}`, `127.0.0.1:${b.localPort}`, `127.0.0.1:${c.localPort}`]);
    expect(replay.stdout).toMatch(/ log login.refused .*peer=3120042 .*reason=blocked/);
    s.cleanup();
  }, 30_000);
});

describe('operator console metrics', () => {
  it('parse as Prometheus text, and their counters are the core\'s', async () => {
    const s = await fx.start(consoleOptions(base));
    const url = await consoleUrl(s);
    const a = await fx.hotspot(s, 3120051, 'TS2=91;');
    const b = await fx.hotspot(s, 3120052, 'TS2=91;');
    await a.sendPaced(voiceCall({ peerId: a.peerId, src: 3120151, tg: 91, slot: 2, streamId: 0x12000051 }), 20);
    await b.sendPaced(voiceCall({ peerId: b.peerId, src: 3120152, tg: 3100, slot: 2, streamId: 0x12000052 }), 20);
    a.send(new Uint8Array([0x44, 0x4d])); // a runt: counted as a drop
    await sleep(200);
    const live = await fetch(`${url}/metrics`);
    expect(live.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const during = parsePrometheusText(await live.text());
    expect(sampleValue(during, 'dmrhub_peers')).toBe(2);
    a.logout();
    b.logout();
    await waitPeers(url, (p) => p.length === 0, 'no peers');
    await sleep(3 * SNAPSHOT_S * 1000);
    const m = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
    fx.forget(s);
    expect(await s.stop()).toBe(0);
    const exit = s.logs.find((l) => l['code'] === 'server.exit')!;
    const stats = exit['stats'] as Record<string, number>;
    const gauges = new Set(['peers', 'pending-logins', 'subscriptions', 'live-streams']);
    const fromMetrics = Object.fromEntries(m.get('dmrhub_core_counter_total')!.samples.map((x) => [x.labels['counter'], x.value]));
    // Every counter of server.exit (the core's and the shell's: queued sends, voice shed), less the
    // gauges and the overload maxima.
    expect(fromMetrics).toEqual(Object.fromEntries(Object.entries(stats).filter(([k]) => !gauges.has(k) && !k.startsWith('overload.'))));
    expect(fromMetrics['shed.turn-budget']).toBe(0);
    expect(sampleValue(m, 'dmrhub_packets_in_total')).toBe(stats['dmrd.in']);
    expect(stats['dmrd.in']).toBe(16);
    expect(sampleValue(m, 'dmrhub_packets_out_total')).toBe(stats['forward.sends']);
    expect(sampleValue(m, 'dmrhub_calls_started_total')).toBe(2);
    expect(sampleValue(m, 'dmrhub_calls_ended_total', { reason: 'terminator' })).toBe(2);
    expect(sampleValue(m, 'dmrhub_drops_total', { reason: 'hbp.short' })).toBe(1);
    expect(sampleValue(m, 'dmrhub_peers')).toBe(0);
    expect(sampleValue(m, 'dmrhub_reporting_queue_depth', { sink: 'console' })).toBeGreaterThanOrEqual(0);
    expect(sampleValue(m, 'dmrhub_reporting_dropped_total', { sink: 'console' })).toBe(0);
    expect(sampleValue(m, 'dmrhub_process_resident_memory_bytes')).toBeGreaterThan(10e6);
    expect(sampleValue(m, 'dmrhub_event_loop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(m.get('dmrhub_links')?.type).toBe('gauge');
    s.cleanup();
  }, 20_000);
});

/** One packet of a private voice call (a dial-a-TG command). */
function voicePrivate(peerId: number, src: number, dst: number, streamId: number, frame: number, seq: number): Uint8Array {
  return encodeDmrd({ seq, src, dst, peerId, slot: 2, frame, unit: true, streamId });
}
