// Property tests for the HBP codecs: no decoder throws on any bytes, every failure carries one of the
// stable error codes, and encoders and decoders are inverse for well-formed values.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat } from '../../src/protocol/bytes.js';
import {
  checkDmrd,
  decodeDmrd,
  encodeDmrd,
  encodeRptc,
  encodeRptk,
  encodeRptl,
  encodeRpto,
  HbpKind,
  hbpKind,
  LEN,
  MAX_TG,
  parseMasterReply,
  parsePeerOnly,
  parseRptc,
  parseRptk,
  parseRptl,
  parseRpto,
  parseTgList,
  RPTC_FIELDS,
  tokenizeOptions,
  type DmrdFields,
  type HbpError,
  type Parsed,
  type RepeaterConfig,
} from '../../src/protocol/hbp/index.js';

/** Every code of the HbpError union; `satisfies` keeps this list honest if the union shrinks. */
const ERROR_CODES = [
  'hbp.short',
  'hbp.unknown-tag',
  'hbp.bad-length',
  'hbp.unsupported',
  'dmrd.bad-length',
  'dmrd.null-stream',
] as const satisfies readonly HbpError[];
const KINDS = new Set<number>(Object.values(HbpKind));

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** The tags a datagram may start with, and the kind hbpKind must give for a datagram starting so. */
const TAGS: [string, (b: Uint8Array) => HbpKind][] = [
  ['RPTL', () => HbpKind.RPTL],
  ['RPTK', () => HbpKind.RPTK],
  ['RPTC', (b) => (b[4] === 0x4c && b.length !== 302 ? HbpKind.RPTCL : HbpKind.RPTC)], // the 5th byte decides, except in a 302-byte RPTC
  ['RPTCL', (b: Uint8Array) => (b.length === 302 ? HbpKind.RPTC : HbpKind.RPTCL)],
  ['RPTO', () => HbpKind.RPTO],
  ['RPTPING', () => HbpKind.RPTPING],
  ['RPTG', () => HbpKind.RPTG],
  ['RPTACK', () => HbpKind.RPTACK],
  ['RPTSBKN', () => HbpKind.RPTSBKN],
  ['MSTNAK', () => HbpKind.MSTNAK],
  ['MSTPONG', () => HbpKind.MSTPONG],
  ['MSTCL', () => HbpKind.MSTCL],
  ['DMRD', () => HbpKind.DMRD],
  ['DMRA', () => HbpKind.DMRA],
  ['DMRG', () => HbpKind.DMRG],
  ['DMRC', () => HbpKind.DMRC],
  ['DMRT', () => HbpKind.Unsupported],
  ['DMRP', () => HbpKind.Unsupported],
  ['DMRB', () => HbpKind.Unsupported],
  ['DTCL', () => HbpKind.Unsupported],
  ['DTCPING', () => HbpKind.Unsupported],
  ['DTCACK', () => HbpKind.Unsupported],
  ['PRIN', () => HbpKind.Unsupported],
  ['PRBL', () => HbpKind.Unsupported],
  // Not HBP: OpenBridge/FBP frames and unknown tags.
  ['DMRE', () => HbpKind.Unknown],
  ['BCKA', () => HbpKind.Unknown],
  ['RPTX', () => HbpKind.Unknown],
  ['MSTX', () => HbpKind.Unknown],
];

/** Lengths at which the fixed-size messages are valid, so the ok branches get exercised too. */
const INTERESTING_LENGTHS = [4, 5, 7, 8, 9, 10, 11, 15, 40, 53, 55, 71, 73, 89, 302, 308, 309];

const anyBytes = fc.uint8Array({ minLength: 0, maxLength: 400 });

/** A known tag followed by random bytes, either of random length or of an interesting total length. */
const taggedBytes = fc
  .tuple(
    fc.constantFrom(...TAGS.map(([t]) => t)),
    fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.constantFrom(...INTERESTING_LENGTHS).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    ),
  )
  .map(([tag, rest]) => {
    const tagBytes = ascii(tag);
    if (rest.length <= tagBytes.length) return concat(tagBytes, rest); // still starts with the tag
    const out = rest.slice();
    out.set(tagBytes, 0);
    return out;
  });

const datagram = fc.oneof(anyBytes, taggedBytes);

const u32 = fc.oneof(
  fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff),
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([h, l]) => h * 0x10000 + l),
);
const u24 = fc.integer({ min: 0, max: 0xffffff });
const u8 = fc.integer({ min: 0, max: 0xff });

function expectParsed<T>(p: Parsed<T>, allowed: readonly HbpError[]): void {
  expect(typeof p.ok).toBe('boolean');
  if (p.ok) expect(p.value).toBeDefined();
  else expect(allowed).toContain(p.error);
}

describe('decoders on arbitrary bytes', () => {
  it('hbpKind never throws and returns a declared kind; a tag prefix decides the kind', () => {
    fc.assert(
      fc.property(datagram, (b) => {
        const k = hbpKind(b);
        expect(KINDS.has(k)).toBe(true);
        if (b.length < 4) expect(k).toBe(HbpKind.Unknown);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.constantFrom(...TAGS), fc.uint8Array({ maxLength: 400 }), ([tag, kindOf], rest) => {
        const b = concat(ascii(tag), rest);
        expect(hbpKind(b)).toBe(kindOf(b));
      }),
      { numRuns: 500 },
    );
  });

  it('every parse function returns ok or a documented error code, and never throws', () => {
    fc.assert(
      fc.property(datagram, (b) => {
        const results: Parsed<unknown>[] = [
          parseRptl(b), parseRptk(b), parseRptc(b), parseRpto(b), parsePeerOnly(b, 5), parsePeerOnly(b, 7), parseMasterReply(b),
        ];
        for (const p of results) {
          expectParsed(p, ERROR_CODES);
        }
        const c = checkDmrd(b);
        if (c !== null) expect(ERROR_CODES).toContain(c);
      }),
      { numRuns: 1000 },
    );
  });

  it('the length checks decide success exactly', () => {
    fc.assert(
      fc.property(datagram, (b) => {
        const n = b.length;
        const lengthOnly = (p: Parsed<unknown>, good: boolean): void => {
          expect(p.ok).toBe(good);
          if (!p.ok) expect(p.error).toBe('hbp.bad-length');
        };
        lengthOnly(parseRptl(b), n === LEN.RPTL);
        lengthOnly(parseRptk(b), n === LEN.RPTK);
        lengthOnly(parseRptc(b), n === LEN.RPTC);
        lengthOnly(parseRpto(b), n >= LEN.RPTO_MIN && n <= LEN.RPTO_MAX);
        lengthOnly(parsePeerOnly(b, 7), n === LEN.RPTPING);
        lengthOnly(parsePeerOnly(b, 5), n === LEN.RPTCL);

        const c = checkDmrd(b);
        if (n !== 53 && n !== 55) expect(c).toBe('dmrd.bad-length');
        else if (b[16] === 0 && b[17] === 0 && b[18] === 0 && b[19] === 0) expect(c).toBe('dmrd.null-stream');
        else expect(c).toBeNull();

        const m = parseMasterReply(b);
        if (!m.ok) expect(['hbp.short', 'hbp.unknown-tag', 'hbp.bad-length']).toContain(m.error);
        if (n < 4) expect(m).toEqual({ ok: false, error: 'hbp.short' });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('round trips', () => {
  it('encodeRptl / parseRptl', () => {
    fc.assert(
      fc.property(u32, (peerId) => {
        const b = encodeRptl(peerId);
        expect(b.length).toBe(LEN.RPTL);
        expect(hbpKind(b)).toBe(HbpKind.RPTL);
        expect(parseRptl(b)).toEqual({ ok: true, value: { peerId } });
      }),
    );
  });

  it('encodeRptk / parseRptk', () => {
    fc.assert(
      fc.property(u32, fc.uint8Array({ minLength: 32, maxLength: 32 }), (peerId, digest) => {
        const b = encodeRptk(peerId, digest);
        expect(b.length).toBe(LEN.RPTK);
        expect(hbpKind(b)).toBe(HbpKind.RPTK);
        const p = parseRptk(b);
        if (!p.ok) throw new Error(p.error);
        expect(p.value.peerId).toBe(peerId);
        expect(Array.from(p.value.digest)).toEqual(Array.from(digest));
      }),
    );
  });

  it('encodeRpto / parseRpto with ASCII options up to the limit, refused beyond it', () => {
    const maxOpts = LEN.RPTO_MAX - 8;
    fc.assert(
      fc.property(u32, fc.string({ unit: 'binary-ascii', maxLength: maxOpts + 40 }), (peerId, options) => {
        const b = encodeRpto(peerId, options);
        expect(b.length).toBe(8 + options.length);
        expect(hbpKind(b)).toBe(HbpKind.RPTO);
        const p = parseRpto(b);
        if (options.length > maxOpts) {
          expect(p).toEqual({ ok: false, error: 'hbp.bad-length' });
          return;
        }
        if (!p.ok) throw new Error(p.error);
        expect(p.value.peerId).toBe(peerId);
        expect(String.fromCharCode(...p.value.options)).toBe(options);
        // The tokenizer sees the same thing whether given the bytes or the string.
        expect(tokenizeOptions(p.value.options)).toEqual(tokenizeOptions(options));
      }),
      { numRuns: 300 },
    );
  });

  const rptcFields = (extra: number): fc.Arbitrary<Record<string, string>> =>
    fc.record(
      Object.fromEntries(RPTC_FIELDS.map(([name, , width]) => [name, fc.string({ maxLength: width + extra })])),
    );

  it('encodeRptc / parseRptc: printable fields come back trimmed (and truncated to width)', () => {
    fc.assert(
      fc.property(u32, rptcFields(6), (peerId, fields) => {
        const b = encodeRptc({ peerId, ...fields });
        expect(b.length).toBe(LEN.RPTC);
        // A peer ID whose first byte is 'L' makes the record look like RPTCL: see the test below.
        if (peerId >>> 24 !== 0x4c) expect(hbpKind(b)).toBe(HbpKind.RPTC);
        const p = parseRptc(b);
        if (!p.ok) throw new Error(p.error);
        expect(p.value.peerId).toBe(peerId);
        for (const [name, , width] of RPTC_FIELDS) {
          expect(p.value[name]).toBe(fields[name]!.slice(0, width).trim());
        }
      }),
      { numRuns: 300 },
    );
  });

  it('encodeRptc(parseRptc(b)) === b for records whose fields have no leading spaces', () => {
    fc.assert(
      fc.property(u32, rptcFields(0), (peerId, fields) => {
        const cfg = { peerId, ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.trimStart()])) };
        const b = encodeRptc(cfg);
        const p = parseRptc(b);
        if (!p.ok) throw new Error(p.error);
        expect(Array.from(encodeRptc(p.value))).toEqual(Array.from(b));
      }),
      { numRuns: 300 },
    );
  });

  // Known defect: hbpKind tells RPTCL from RPTC by the 5th byte alone (as FreeDMR does), but that byte
  // is the first byte of an RPTC's peer ID. A 302-byte RPTC from a peer ID in 0x4C000000..0x4CFFFFFF
  // (1275068416..1291845631) is classified RPTCL, so that peer can never configure. The lengths
  // (9 vs 302) tell them apart. Flip to `it` once hbpKind checks the length.
  it('hbpKind: an RPTC whose peer ID starts with 0x4C is still RPTC', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffff }), (low) => {
        expect(hbpKind(encodeRptc({ peerId: 0x4c000000 + low, callsign: 'N0CALL' }))).toBe(HbpKind.RPTC);
      }),
      { numRuns: 20 },
    );
  });

  it('encodeRptc without fields pads everything with spaces', () => {
    const p = parseRptc(encodeRptc({ peerId: 7 }));
    if (!p.ok) throw new Error(p.error);
    const expected = { peerId: 7 } as RepeaterConfig;
    for (const [name] of RPTC_FIELDS) expected[name] = '';
    expect(p.value).toEqual(expected);
  });

  const dmrdFields: fc.Arbitrary<Required<DmrdFields>> = fc.record({
    seq: u8,
    src: u24,
    dst: u24,
    peerId: u32,
    slot: fc.constantFrom(1 as const, 2 as const),
    unit: fc.boolean(),
    frame: fc.integer({ min: 0, max: 0x3f }),
    streamId: u32,
    payload: fc.uint8Array({ minLength: 33, maxLength: 33 }),
    ber: u8,
    rssi: u8,
  });

  it('encodeDmrd / decodeDmrd', () => {
    fc.assert(
      fc.property(dmrdFields, (f) => {
        const b = encodeDmrd(f);
        expect(b.length).toBe(LEN.DMRD);
        expect(hbpKind(b)).toBe(HbpKind.DMRD);
        expect(checkDmrd(b)).toBe(f.streamId === 0 ? 'dmrd.null-stream' : null);
        const d = decodeDmrd(b);
        expect({ ...d, payload: Array.from(d.payload!) }).toEqual({ ...f, payload: Array.from(f.payload) });
      }),
      { numRuns: 500 },
    );
  });

  it('encodeDmrd(decodeDmrd(b)) === b for any 55-byte DMRD', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 51, maxLength: 51 }), (rest) => {
        const b = concat(ascii('DMRD'), rest);
        expect(Array.from(encodeDmrd(decodeDmrd(b)))).toEqual(Array.from(b));
      }),
      { numRuns: 500 },
    );
  });
});

describe('options', () => {
  const strings = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: fc.constantFrom('T', 'S', '1', '2', '=', ';', ',', ' ', '"', "'", '\u0000', 'é', '9'), maxLength: 60 }),
  );

  it('tokenizeOptions never throws; its output is clean', () => {
    const clean = (s: string): void => {
      for (const ch of s) {
        const c = ch.charCodeAt(0);
        expect(c > 0 && c < 0x80 && ch !== '"' && ch !== "'" && ch !== ';').toBe(true);
      }
    };
    fc.assert(
      fc.property(fc.oneof(strings, anyBytes), (raw) => {
        const { fields, malformed } = tokenizeOptions(raw);
        for (const { key, value } of fields) {
          expect(key.length).toBeGreaterThan(0);
          expect(key.includes('=') || value.includes('=')).toBe(false);
          expect(key).toBe(key.trim());
          expect(value).toBe(value.trim());
          clean(key);
          clean(value);
        }
        for (const m of malformed) {
          expect(m.length).toBeGreaterThan(0);
          expect(m.split('=').length === 2 && !m.startsWith('=')).toBe(false);
          clean(m);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('parseTgList never throws; talkgroups are unique, in range and within the limit', () => {
    fc.assert(
      fc.property(
        fc.oneof(strings, fc.array(fc.integer({ min: -5, max: MAX_TG + 5 }), { maxLength: 40 }).map((a) => a.join(','))),
        fc.integer({ min: 0, max: 50 }),
        (value, limit) => {
          const { tgs, rejected } = parseTgList(value, limit);
          expect(tgs.length).toBeLessThanOrEqual(limit);
          expect(new Set(tgs).size).toBe(tgs.length);
          for (const tg of tgs) {
            expect(Number.isInteger(tg)).toBe(true);
            expect(tg >= 1 && tg < MAX_TG).toBe(true);
          }
          for (const r of rejected) expect(r.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
