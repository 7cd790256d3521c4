// The v1 event contract three ways at once: the JSON Schema in docs/, the TypeScript types, and the
// events the real core produces (through the shell's mapping) must agree; so must the examples in
// docs/events.md.

import Ajv2020 from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPORT_VERSION, type ReportEvent } from '../../src/reporting/events.js';
import { toReportInput } from '../../src/shell/report-map.js';
import { voiceCall, World } from '../support/harness.js';

const ROOT = resolve(import.meta.dirname, '../..');
const schema = JSON.parse(readFileSync(resolve(ROOT, 'docs/events.schema.json'), 'utf8')) as object;
const ajv = new Ajv2020.default({ allErrors: true, strict: true });
const validate = ajv.compile(schema);

const check = (e: unknown): string[] => (validate(e) ? [] : (validate.errors ?? []).map((x) => `${x.instancePath} ${x.message}`));

const base = { v: REPORT_VERSION, at: 1795437293915, server: 'dmrhub', seq: 1 } as const;
const typed: ReportEvent[] = [
  { ...base, family: 'server', type: 'started', version: '0.1.0', port: 62031 },
  { ...base, family: 'peer', type: 'logout', peer: 1, reason: 'closed', durationMs: 5 },
  { ...base, family: 'peer', type: 'keepalive-lost', peer: 1, silentMs: 30000 },
  { ...base, family: 'reporting', type: 'health', dropped: { queueFull: 0, sinkDown: 3, coalesced: 1 }, queueDepth: 0, sinks: { sql: 'up' } },
] satisfies ReportEvent[];

/** Events from a real core run, mapped exactly as the shell maps them. */
function liveEvents(): ReportEvent[] {
  const w = new World();
  w.login(1001, 5001, 'TS2=91,abc;TS1=1');
  w.login(1002, 5002, 'TS2=91;');
  for (const p of voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 0x0badcafe })) {
    w.now += 60;
    w.datagram(5001, p);
  }
  w.advance(40_000); // both peers go silent: keepalive lost, logout
  return w.sink.reports.map((r, i) => ({ ...toReportInput(r, 1795437293915 + r.now), v: REPORT_VERSION, server: 'dmrhub', seq: i + 1 }) as ReportEvent);
}

describe('report events v1', () => {
  it('every event the core produces, of every family, matches the schema', () => {
    const events = liveEvents();
    const kinds = new Set(events.map((e) => `${e.family}.${e.type}`));
    for (const k of ['peer.login', 'peer.options', 'peer.keepalive-lost', 'peer.logout', 'subscription.added', 'subscription.removed', 'call.start', 'call.end']) expect(kinds).toContain(k);
    for (const e of events) expect(check(e), JSON.stringify(e)).toEqual([]);
    const end = events.find((e) => e.family === 'call' && e.type === 'end');
    expect(end).toMatchObject({ stream: '0badcafe', src: 3100001, dst: 91, packets: 8, lost: 0, loss: 0, reason: 'terminator', receivers: 1 });
  });

  it('hand-written typed examples match the schema', () => {
    for (const e of typed) expect(check(e), JSON.stringify(e)).toEqual([]);
  });

  it('every JSON example in docs/events.md matches the schema', () => {
    const md = readFileSync(resolve(ROOT, 'docs/events.md'), 'utf8');
    const blocks = [...md.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    for (const b of blocks) expect(check(JSON.parse(b)), b).toEqual([]);
  });

  it('rejects what is not a v1 event', () => {
    const good = typed[0]!;
    const bad: unknown[] = [
      { ...good, v: 2 },
      { ...good, extra: 1 },
      (({ port: _p, ...rest }) => rest)(good as Extract<ReportEvent, { family: 'server' }>),
      { ...good, port: '62031' },
      { ...base, family: 'subscription', type: 'added', peer: 1, slot: 3, tg: 91, conference: 91, source: 'options' },
      { ...base, family: 'call', type: 'start', stream: 'XYZ', peer: 1, src: 1, dst: 91, slot: 2, callType: 'group', kind: 'voice' },
      { ...base, family: 'peer', type: 'logout', peer: 1, reason: 'closed', durationMs: 5, passphrase: 'passw0rd' },
    ];
    for (const b of bad) expect(check(b).length, JSON.stringify(b)).toBeGreaterThan(0);
  });
});
