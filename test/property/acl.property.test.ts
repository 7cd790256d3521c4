// Property tests for the ACL grammar (src/core/acl/grammar.ts, spec §5.1):
//  - parse → print → parse gives the same list, and print is a fixed point;
//  - the check agrees with a naive reading of the text (every entry tried in turn, FreeDMR's
//    "a match gets the action, anything else the opposite"), over random lists and IDs, the IDs
//    drawn mostly at and around entry edges;
//  - ALL, the empty string and the PERMIT/DENY defaults;
//  - whatever text is given, parsing never throws.
// The reference below reads the text itself; it shares no code with the module.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACL_ID_MAX, ACL_PEER_MAX, aclAllows, parseAcl, printAcl } from '../../src/core/acl/grammar.js';

type Entry = { kind: 'id'; id: number } | { kind: 'range'; a: number; b: number } | { kind: 'all' };

/** The naive reference: the text's entries, tried one by one. */
function naive(permit: boolean, entries: Entry[], max: number, id: number): boolean {
  for (const e of entries) {
    const hit = e.kind === 'all' ? id >= 0 && id <= max : e.kind === 'id' ? e.id === id : id >= Math.max(1, e.a) && id <= Math.min(max, e.b);
    if (hit) return permit;
  }
  return !permit;
}

const render = (e: Entry, spaced: boolean): string => {
  const s = e.kind === 'all' ? (spaced ? 'all' : 'ALL') : e.kind === 'id' ? String(e.id) : spaced ? `${e.a} - ${e.b}` : `${e.a}-${e.b}`;
  return spaced ? ` ${s} ` : s;
};

const maxArb = fc.constantFrom(ACL_ID_MAX, ACL_PEER_MAX, 1000);

function entryArb(max: number): fc.Arbitrary<Entry> {
  const id = fc.integer({ min: 1, max });
  return fc.oneof(
    { weight: 5, arbitrary: id.map((i): Entry => ({ kind: 'id', id: i })) },
    { weight: 4, arbitrary: fc.tuple(id, fc.integer({ min: 0, max: 5000 })).map(([a, w]): Entry => ({ kind: 'range', a, b: Math.min(max, a + w) })) },
    { weight: 1, arbitrary: fc.constant<Entry>({ kind: 'all' }) },
  );
}

const aclArb = maxArb.chain((max) =>
  fc.record({
    max: fc.constant(max),
    permit: fc.boolean(),
    entries: fc.array(entryArb(max), { minLength: 1, maxLength: 12 }),
    spaced: fc.boolean(),
    lower: fc.boolean(),
  }),
);

const textOf = (a: { permit: boolean; entries: Entry[]; spaced: boolean; lower: boolean }): string => {
  const action = a.permit ? 'PERMIT' : 'DENY';
  return `${a.lower ? action.toLowerCase() : action}${a.spaced ? ' : ' : ':'}${a.entries.map((e) => render(e, a.spaced)).join(',')}`;
};

/** IDs worth trying: each entry's edges and their neighbours, and a few anywhere. */
function probes(entries: Entry[], max: number): number[] {
  const out = new Set<number>([0, 1, 2, max - 1, max]);
  for (const e of entries) {
    const edges = e.kind === 'id' ? [e.id] : e.kind === 'range' ? [e.a, e.b] : [];
    for (const x of edges) for (const d of [-1, 0, 1]) if (x + d >= 0 && x + d <= max) out.add(x + d);
  }
  return [...out];
}

describe('ACL grammar (property)', () => {
  it('parse → print → parse is the same list; print is a fixed point', () => {
    fc.assert(
      fc.property(aclArb, (a) => {
        const first = parseAcl(textOf(a), a.max);
        expect(first.ok).toBe(true);
        if (!first.ok) return;
        const text = printAcl(first.acl);
        const second = parseAcl(text, a.max);
        expect(second.ok).toBe(true);
        if (!second.ok) return;
        expect(second.acl).toEqual(first.acl);
        expect(printAcl(second.acl)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('the check agrees with the naive reading over random lists and IDs', () => {
    fc.assert(
      fc.property(aclArb, fc.array(fc.integer({ min: 0, max: ACL_PEER_MAX }), { maxLength: 8 }), (a, extra) => {
        const r = parseAcl(textOf(a), a.max);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        for (const id of [...probes(a.entries, a.max), ...extra.filter((x) => x <= a.max)]) {
          expect(aclAllows(r.acl, id), `${textOf(a)} on ${id}`).toBe(naive(a.permit, a.entries, a.max, id));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the canonical text has sorted, disjoint, non-adjacent entries', () => {
    fc.assert(
      fc.property(aclArb, (a) => {
        const r = parseAcl(textOf(a), a.max);
        if (!r.ok) throw new Error(r.error);
        const text = printAcl(r.acl);
        const body = text.slice(text.indexOf(':') + 1);
        if (body === 'ALL') return;
        let last = -2;
        for (const part of body.split(',')) {
          const [x, y] = part.split('-').map(Number) as [number, number?];
          const lo = x;
          const hi = y ?? x;
          expect(lo).toBeGreaterThan(last + 1);
          expect(hi).toBeGreaterThanOrEqual(lo);
          if (y !== undefined) expect(hi).toBeGreaterThan(lo);
          last = hi;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('ALL, the empty string and the defaults of PERMIT and DENY', () => {
    fc.assert(
      fc.property(maxArb, fc.integer({ min: 0, max: ACL_PEER_MAX }), fc.array(entryArb(1000), { maxLength: 4 }), (max, raw, more) => {
        const id = raw % (max + 1);
        const check = (text: string): boolean => {
          const r = parseAcl(text, max);
          if (!r.ok) throw new Error(`${text}: ${r.error}`);
          return aclAllows(r.acl, id);
        };
        const tail = more.map((e) => render(e, false)).join(',');
        expect(check('')).toBe(true);
        expect(check('   ')).toBe(true);
        expect(check('PERMIT:ALL')).toBe(true);
        expect(check('DENY:ALL')).toBe(false);
        // ALL wins whatever else is listed with it.
        expect(check(`PERMIT:${tail}${tail ? ',' : ''}ALL`)).toBe(true);
        expect(check(`DENY:ALL${tail ? ',' : ''}${tail}`)).toBe(false);
        // One listed ID: PERMIT lets only it in, DENY keeps only it out.
        const one = Math.max(1, id);
        expect(check(`PERMIT:${one}`)).toBe(id === one);
        expect(check(`DENY:${one}`)).toBe(id !== one);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws, whatever the text', () => {
    const piece = fc.constantFrom('PERMIT', 'DENY', 'ALL', ':', ',', '-', ' ', '0', '1', '99', '16777215', '4294967296', 'x', '', '+', '_', '\t');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(piece, { maxLength: 12 }).map((p) => p.join(''))), maxArb, (text, max) => {
        const r = parseAcl(text, max);
        if (r.ok) expect(parseAcl(printAcl(r.acl), max)).toEqual(r);
        else expect(r.error.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });
});
