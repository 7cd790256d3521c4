// Report event schema v1, checked from every side: docs/events.schema.json must compile and accept
// one hand-written example of each family/type (examples the compiler checks against the
// TypeScript types), reject broken variants of them, agree with the types field for field, accept
// every ```json example in docs/events.md, and accept what the real core produces through the
// shell's mapping.

import Ajv2020 from 'ajv/dist/2020.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPORT_VERSION, type ReportEvent } from '../../src/reporting/events.js';
import { toReportInput } from '../../src/shell/report-map.js';
import { voiceCall, World } from '../support/harness.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface Branch {
  title: string;
  type: string;
  additionalProperties: boolean;
  required: string[];
  properties: Record<string, { const?: unknown; properties?: Record<string, unknown>; required?: string[] }>;
}
const schema = JSON.parse(readFileSync(resolve(ROOT, 'docs/events.schema.json'), 'utf8')) as { oneOf: Branch[] } & Record<string, unknown>;

const ajv = new Ajv2020.default({ strict: true, allErrors: true });
const validate = ajv.compile(schema);
/** The schema's complaints about `e`; empty when it is a valid v1 event. */
const problems = (e: unknown): string[] => (validate(e) ? [] : (validate.errors ?? []).map((x) => `${x.instancePath || '/'} ${x.message ?? ''}`));

// ── examples, one per family/type, checked by the compiler ──────────────────────────────────────

/** "family.type" for every event the types allow (a union type field gives several keys). */
type EventKey = ReportEvent extends infer E ? (E extends { family: infer F extends string; type: infer T extends string } ? `${F}.${T}` : never) : never;
/** The event type for one key. */
type EventOf<K extends EventKey> = K extends `${infer F}.${infer T}` ? Extract<ReportEvent, { family: F }> & { type: T } : never;
/** True when no event type has an optional field, so an example with every field shows all of them. */
type NoOptional<E> = E extends unknown ? (E extends Required<E> ? true : false) : never;
const everyFieldRequired: [NoOptional<ReportEvent>] extends [true] ? true : false = true;

const base = { v: REPORT_VERSION, server: 'hub-north' } as const;
const call = { stream: '5e1f00a3', peer: 234512301, src: 2345678, dst: 2350, slot: 1, callType: 'group', kind: 'voice' } as const;

// `satisfies` a mapped type: each entry must be exactly that event (no missing or extra field), and
// every family/type the types know must have an entry.
const examples = {
  'server.started': { ...base, at: 1795437293915, seq: 1, family: 'server', type: 'started', version: '0.1.0', port: 62031 },
  'server.stopped': { ...base, at: 1795523693915, seq: 48213, family: 'server', type: 'stopped', version: '0.1.0', port: 62031 },
  'peer.login': {
    ...base,
    at: 1795437295338,
    seq: 2,
    family: 'peer',
    type: 'login',
    peer: 234512301,
    callsign: 'G4XYZ',
    address: '198.51.100.23',
    port: 62032,
    rxFreq: '430212500',
    txFreq: '439212500',
    colorCode: '01',
    slots: '3',
    location: 'Leeds',
    description: 'Club repeater',
    url: '',
    softwareId: '20240101_Pi-Star',
    packageId: 'MMDVM_MMDVM_HS_Hat',
  },
  'peer.options': { ...base, at: 1795437295412, seq: 3, family: 'peer', type: 'options', peer: 234512301, options: 'TS1=2350;TS2=23001;SINGLE=2', ts1: [2350], ts2: [23001], rejected: ["SINGLE: '2' is not 0 or 1"] },
  'peer.keepalive-lost': { ...base, at: 1795440112870, seq: 3977, family: 'peer', type: 'keepalive-lost', peer: 234512301, silentMs: 30412 },
  'peer.logout': { ...base, at: 1795440112870, seq: 3978, family: 'peer', type: 'logout', peer: 234512301, reason: 'timeout', durationMs: 2817532 },
  'subscription.added': { ...base, at: 1795437295412, seq: 4, family: 'subscription', type: 'added', peer: 234512301, slot: 1, tg: 2350, conference: 2350, source: 'options' },
  'subscription.removed': { ...base, at: 1795440112870, seq: 3979, family: 'subscription', type: 'removed', peer: 234512301, slot: 1, tg: 2350, conference: 2350, source: 'options' },
  'subscription.expired': { ...base, at: 1795438913000, seq: 2210, family: 'subscription', type: 'expired', peer: 234512301, slot: 2, tg: 9, conference: 4400, source: 'dial' },
  'call.start': { ...base, ...call, at: 1795437301004, seq: 57, family: 'call', type: 'start' },
  'call.end': {
    ...base,
    ...call,
    at: 1795437305384,
    seq: 58,
    family: 'call',
    type: 'end',
    startedAt: 1795437301004,
    durationMs: 4380,
    packets: 73,
    lost: 1,
    loss: 0.0135,
    ber: null,
    rssi: 71.5,
    reason: 'terminator',
    receivers: 12,
  },
  'call.limited': { ...base, at: 1795437361004, seq: 940, family: 'call', type: 'limited', peer: 234512301, via: 'peer', name: '', streams: 212, reported: 30, windowMs: 60000 },
  'link.up': { ...base, at: 1795437294100, seq: 5, family: 'link', type: 'up', link: 'mesh-b', kind: 'fbp', address: '203.0.113.7', port: 62044, reason: '', version: 0, silentMs: 0, counts: { dropped: 0, quenchSent: 0, quenchReceived: 0, loops: 0, tooManyHops: 0 } },
  'link.down': { ...base, at: 1795437900000, seq: 812, family: 'link', type: 'down', link: 'hb-master', kind: 'uplink', address: '198.51.100.9', port: 62031, reason: 'timeout', version: 0, silentMs: 15020, counts: { dropped: 0, quenchSent: 0, quenchReceived: 0, loops: 0, tooManyHops: 0 } },
  'link.changed': { ...base, at: 1795437300000, seq: 60, family: 'link', type: 'changed', link: 'mesh-b', kind: 'fbp', address: '203.0.113.8', port: 62044, reason: 'address', version: 5, silentMs: 0, counts: { dropped: 3, quenchSent: 2, quenchReceived: 5, loops: 2, tooManyHops: 0 } },
  'reporting.health': {
    ...base,
    at: 1795437410250,
    seq: 1204,
    sink: 'mqtt',
    family: 'reporting',
    type: 'health',
    dropped: { queueFull: 0, sinkDown: 214, coalesced: 3 },
    queueDepth: 37,
    sinks: { mqtt: 'up', sql: 'down' },
  },
} satisfies { [K in EventKey]: EventOf<K> };

const named: [string, ReportEvent][] = Object.entries(examples);
const clone = <T>(x: T): Record<string, unknown> => structuredClone(x) as Record<string, unknown>;
const branchFor = (e: ReportEvent): Branch => {
  const b = schema.oneOf.find((x) => x.title === `${e.family}.${e.type}`);
  if (b === undefined) throw new Error(`no schema branch titled ${e.family}.${e.type}`);
  return b;
};
const sorted = (keys: Iterable<string>): string[] => [...keys].sort();

describe('report event schema v1', () => {
  it('compiles in strict mode, with one closed branch per family/type', () => {
    expect(typeof validate).toBe('function');
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    const titles = schema.oneOf.map((b) => b.title);
    expect(sorted(titles)).toEqual(sorted(Object.keys(examples)));
    for (const b of schema.oneOf) {
      expect(b.type, b.title).toBe('object');
      expect(b.additionalProperties, b.title).toBe(false);
      for (const f of ['v', 'at', 'server', 'seq', 'family', 'type']) expect(b.required, `${b.title} requires ${f}`).toContain(f);
      expect(`${String(b.properties['family']?.const)}.${String(b.properties['type']?.const)}`).toBe(b.title);
    }
  });

  it('agrees with the TypeScript types field for field', () => {
    expect(everyFieldRequired).toBe(true);
    for (const [name, e] of named) {
      const b = branchFor(e);
      // Every example carries every field of its type (the compiler saw to that), so its keys are
      // the type's keys: they must be the branch's properties, all of them required.
      expect(sorted(Object.keys(e)), name).toEqual(sorted(Object.keys(b.properties)));
      expect(sorted(b.required), name).toEqual(sorted(Object.keys(b.properties)));
      for (const [field, value] of Object.entries(e)) {
        const sub = b.properties[field];
        if (sub?.properties === undefined) continue;
        expect(sorted(Object.keys(value as object)), `${name}.${field}`).toEqual(sorted(Object.keys(sub.properties)));
        expect(sorted(sub.required ?? []), `${name}.${field}`).toEqual(sorted(Object.keys(sub.properties)));
      }
    }
  });

  it('accepts the example of every family/type', () => {
    for (const [name, e] of named) expect(problems(e), name).toEqual([]);
    expect(problems({ ...examples['call.end'], ber: 0.41, rssi: null })).toEqual([]);
    expect(problems({ ...examples['reporting.health'], sinks: {} })).toEqual([]);
  });

  it('rejects each example with a field missing, an extra field, a field of the wrong type, or v: 2', () => {
    const wrongType = (x: unknown): unknown => (typeof x === 'number' ? String(x) : typeof x === 'string' ? 42 : x === null ? 'none' : Array.isArray(x) ? {} : []);
    for (const [name, e] of named) {
      for (const field of Object.keys(e)) {
        const missing = clone(e);
        delete missing[field];
        expect(problems(missing), `${name} without ${field}`).not.toEqual([]);
        const retyped = clone(e);
        retyped[field] = wrongType(retyped[field]);
        expect(problems(retyped), `${name} with ${field} of the wrong type`).not.toEqual([]);
      }
      expect(problems({ ...e, extra: 1 }), `${name} with an extra field`).not.toEqual([]);
      expect(problems({ ...e, v: 2 }), `${name} as v 2`).not.toEqual([]);
      expect(problems({ ...e, v: '1' }), `${name} with v as a string`).not.toEqual([]);
      expect(problems({ ...e, at: e.at + 0.5 }), `${name} with a fractional at`).not.toEqual([]);
      expect(problems({ ...e, seq: 0 }), `${name} with seq 0`).not.toEqual([]);
      expect(problems({ ...e, seq: 1.5 }), `${name} with a fractional seq`).not.toEqual([]);
    }
  });

  it('rejects values outside the enums and formats', () => {
    const sub = examples['subscription.added'];
    const start = examples['call.start'];
    const end = examples['call.end'];
    const health = examples['reporting.health'];
    const bad: [string, unknown][] = [
      ['slot 3', { ...sub, slot: 3 }],
      ['slot 0', { ...start, slot: 0 }],
      ['slot as a string', { ...end, slot: '1' }],
      ['stream not hex', { ...start, stream: 'XYZ' }],
      ['stream in upper case', { ...start, stream: '5E1F00A3' }],
      ['stream of 7 digits', { ...start, stream: '5e1f00a' }],
      ['stream of 9 digits', { ...end, stream: '5e1f00a30' }],
      ['stream as a number', { ...start, stream: 0x5e1f00a3 }],
      ['callType broadcast', { ...start, callType: 'broadcast' }],
      ['kind sms', { ...end, kind: 'sms' }],
      ['loss above 1', { ...end, loss: 1.5 }],
      ['fractional packets', { ...end, packets: 72.5 }],
      ['unknown sink state', { ...health, sinks: { mqtt: 'sleeping' } }],
      ['dropped without coalesced', { ...health, dropped: { queueFull: 0, sinkDown: 0 } }],
      ['dropped with an extra count', { ...health, dropped: { ...health.dropped, lost: 1 } }],
      ['negative drop count', { ...health, dropped: { ...health.dropped, sinkDown: -1 } }],
      ['unknown family', { ...sub, family: 'mesh' }],
      ['unknown type', { ...sub, type: 'changed' }],
      ['a start with the type of an end', { ...start, type: 'end' }],
      ['an end with the type of a start', { ...end, type: 'start' }],
      ['peer ID above 32 bits', { ...sub, peer: 2 ** 32 }],
      ['talkgroup above 24 bits', { ...sub, tg: 2 ** 24 }],
      ['a passphrase on a login', { ...examples['peer.login'], passphrase: 'passw0rd' }],
      ['a salt on a login', { ...examples['peer.login'], salt: '0badcafe' }],
      ['not an object', [examples['server.started']]],
      ['null', null],
    ];
    for (const [what, e] of bad) expect(problems(e), what).not.toEqual([]);
  });

  it('names no field after a secret', () => {
    const names: string[] = [];
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      const props = (node as { properties?: unknown }).properties;
      if (props !== null && typeof props === 'object') names.push(...Object.keys(props));
      for (const child of Object.values(node)) walk(child);
    };
    walk(schema);
    expect(names.length).toBeGreaterThan(50);
    expect(names.filter((n) => /pass|salt|secret|digest|key|token|hash/i.test(n))).toEqual([]);
  });

  it('accepts every JSON example in docs/events.md, which show every family/type', () => {
    const md = readFileSync(resolve(ROOT, 'docs/events.md'), 'utf8');
    const blocks = [...md.matchAll(/^```json[ \t]*\r?\n([\s\S]*?)^```/gm)].map((m) => m[1]!.trim());
    const shown = new Set<string>();
    for (const block of blocks) {
      const e = JSON.parse(block) as ReportEvent;
      expect(problems(e), block).toEqual([]);
      shown.add(`${e.family}.${e.type}`);
    }
    expect(sorted(shown)).toEqual(sorted(Object.keys(examples)));
  });
});

// ── what the core really produces ────────────────────────────────────────────────────────────────

/** Run a small scenario through the core and map its reports exactly as the shell does. */
function fromCore(options: string): ReportEvent[] {
  const w = new World();
  w.login(1001, 5001, options);
  w.login(1002, 5002, 'TS2=91;');
  for (const p of voiceCall({ peerId: 1001, src: 3100001, tg: 91, slot: 2, streamId: 0x0badcafe })) {
    w.now += 60;
    w.datagram(5001, p);
  }
  w.advance(40_000); // both peers fall silent: keepalive lost, then logout
  return w.sink.reports.map((r, i) => ({ ...toReportInput(r, (mono) => 1795437293915 + mono), v: REPORT_VERSION, server: 'hub-north', seq: i + 1 }) as ReportEvent);
}

describe('report events from the core', () => {
  it('match the schema, for every family/type the scenario produces', () => {
    const events = fromCore('TS2=91,abc;TS1=1');
    const seen = new Set(events.map((e) => `${e.family}.${e.type}`));
    for (const k of ['peer.login', 'peer.options', 'peer.keepalive-lost', 'peer.logout', 'subscription.added', 'subscription.removed', 'call.start', 'call.end']) {
      expect(seen, k).toContain(k);
    }
    for (const e of events) expect(problems(e), JSON.stringify(e)).toEqual([]);
    expect(events.find((e) => e.family === 'call' && e.type === 'end')).toMatchObject({ stream: '0badcafe', src: 3100001, dst: 91, slot: 2, reason: 'terminator', lost: 0, loss: 0 });
  });

  // docs/events.md promises that the value of an options KEY never appears in an event.
  it('never carry the value of an options KEY', () => {
    const lock = 'lock-s3cr3t-9f2c';
    const events = fromCore(`TS2=91;KEY=${lock}`);
    const opts = events.find((e) => e.family === 'peer' && e.type === 'options');
    expect(opts).toMatchObject({ options: 'TS2=91;KEY=***', ts2: [91] });
    expect(JSON.stringify(events)).not.toContain(lock);
    // nor a malformed KEY field quoted among the rejected ones
    expect(JSON.stringify(fromCore(`TS2=91;KEY=${lock}=x`))).not.toContain(lock);
  });
});
