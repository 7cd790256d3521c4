// Property tests for the DMR LC engine: random LCs round-trip through the header, terminator and
// embedded encodings (directly and through LcRewriter patches of random bursts), the BPTC decoder
// corrects every single and double bit error, and the decoders report garbage instead of throwing.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/protocol/bytes.js';
import {
  bptc196Decode,
  bptc196Encode,
  decodeEmbeddedLc,
  decodeFullLc,
  encodeEmbeddedLc,
  encodeHeaderLc,
  encodeTerminatorLc,
  extractInfoBits,
  getBit,
  LcRewriter,
  lcFromBytes,
  lcToBytes,
  readEmbeddedFragment,
  setBit,
} from '../../src/protocol/dmr/index.js';

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
const lc9 = bytes(9);
const burst33 = bytes(33);

const flip = (b: Uint8Array, i: number): void => setBit(b, i, getBit(b, i) ^ 1);

/** Bits [98:166) of a burst as hex: slot type and sync, which header/terminator patches keep. */
const middle = (b: Uint8Array): string => {
  let s = '';
  for (let i = 98; i < 166; i++) s += getBit(b, i);
  return s;
};

describe('full LC round trip', () => {
  it('a random LC patched into a random burst as header or terminator decodes back with RS ok', () => {
    fc.assert(
      fc.property(lc9, burst33, fc.boolean(), (lc, burst, header) => {
        const rw = new LcRewriter(lc);
        const b = burst.slice();
        if (header) rw.patchHeader(b);
        else rw.patchTerminator(b);
        const d = decodeFullLc(b);
        expect(toHex(d.lc)).toBe(toHex(lc));
        expect(d.rsOk).toBe(true);
        expect(d.kind).toBe(header ? 'header' : 'terminator');
        expect(d.bptcCorrected).toBe(0);
        expect(middle(b)).toBe(middle(burst));
        expect(toHex(extractInfoBits(b))).toBe(toHex(header ? encodeHeaderLc(lc) : encodeTerminatorLc(lc)));
      }),
    );
  });

  it('a single bit error anywhere in the info bits of a header is corrected', () => {
    fc.assert(
      fc.property(lc9, burst33, fc.integer({ min: 0, max: 195 }), (lc, burst, k) => {
        const b = burst.slice();
        new LcRewriter(lc).patchHeader(b);
        flip(b, k < 98 ? k : k + 68);
        const d = decodeFullLc(b);
        expect([toHex(d.lc), d.rsOk, d.kind, d.bptcOk]).toEqual([toHex(lc), true, 'header', true]);
      }),
    );
  });

  it('LC bytes and fields convert both ways (reserved bit 6 of byte 0 aside)', () => {
    fc.assert(
      fc.property(lc9, (raw) => {
        const b = raw.slice();
        b[0] = b[0]! & 0xbf;
        expect(toHex(lcToBytes(lcFromBytes(b)))).toBe(toHex(b));
      }),
    );
  });
});

describe('BPTC(196,96)', () => {
  it('corrects any single bit error in the 196 bits', () => {
    fc.assert(
      fc.property(bytes(12), fc.integer({ min: 0, max: 195 }), (info, i) => {
        const cw = bptc196Encode(info);
        flip(cw, i);
        const out = new Uint8Array(12);
        expect(bptc196Decode(cw, out)).toBeGreaterThanOrEqual(0);
        expect(toHex(out)).toBe(toHex(info));
      }),
    );
  });

  it('corrects any two bit errors in the 196 bits', () => {
    fc.assert(
      fc.property(bytes(12), fc.uniqueArray(fc.integer({ min: 0, max: 195 }), { minLength: 2, maxLength: 2 }), (info, [i, j]) => {
        const cw = bptc196Encode(info);
        flip(cw, i!);
        flip(cw, j!);
        const out = new Uint8Array(12);
        expect(bptc196Decode(cw, out)).toBeGreaterThanOrEqual(0);
        expect(toHex(out)).toBe(toHex(info));
      }),
    );
  });
});

describe('embedded LC round trip', () => {
  it('a random LC patched into random bursts B..E decodes back with the checksum ok; A and F are untouched', () => {
    fc.assert(
      fc.property(lc9, fc.array(burst33, { minLength: 6, maxLength: 6 }), (lc, bursts) => {
        const rw = new LcRewriter(lc);
        const patched = bursts.map((b, n) => {
          const x = b.slice();
          rw.patchVoice(x, n);
          for (let i = 0; i < 264; i++) if (i < 116 || i >= 148 || n === 0 || n === 5) expect(getBit(x, i)).toBe(getBit(b, i));
          return x;
        });
        const frags = new Uint8Array(16);
        for (let n = 1; n <= 4; n++) readEmbeddedFragment(patched[n]!, n, frags);
        expect(toHex(frags)).toBe(toHex(encodeEmbeddedLc(lc)));
        const d = decodeEmbeddedLc(frags);
        expect([toHex(d.lc), d.ok, d.checksumOk, d.corrected]).toEqual([toHex(lc), true, true, 0]);
      }),
    );
  });

  it('a single bit error anywhere in the 128 bits is corrected', () => {
    fc.assert(
      fc.property(lc9, fc.integer({ min: 0, max: 127 }), (lc, i) => {
        const frags = encodeEmbeddedLc(lc);
        flip(frags, i);
        const d = decodeEmbeddedLc(frags);
        expect([toHex(d.lc), d.ok, d.corrected]).toEqual([toHex(lc), true, 1]);
      }),
    );
  });
});

describe('decoders on garbage', () => {
  it('decodeFullLc never throws on a random burst and reports the failure', () => {
    fc.assert(
      fc.property(burst33, (b) => {
        const d = decodeFullLc(b);
        expect(d.lc.length).toBe(9);
        expect(d.rsOk).toBe(false);
        expect(d.kind).toBe('unknown');
      }),
    );
  });

  it('decodeFullLc never throws on any buffer and offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: -5, max: 90 }), (b, at) => {
        const d = decodeFullLc(b, at);
        expect(d.rsOk).toBe(d.kind !== 'unknown');
        if (at < 0 || b.length < at + 33) expect(d.rsOk).toBe(false);
      }),
    );
  });

  it('decodeEmbeddedLc never throws, and what it accepts unchanged re-encodes to its input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (b) => {
        const d = decodeEmbeddedLc(b);
        expect(d.ok).toBe(d.checksumOk && d.hammingOk && d.parityOk);
        if (d.ok && d.corrected === 0) {
          const full = new Uint8Array(16);
          full.set(b.subarray(0, 16));
          expect(toHex(encodeEmbeddedLc(d.lc))).toBe(toHex(full));
        }
      }),
    );
  });

  it('LcRewriter.patchFrame ignores flags that are not header, terminator or B..E', () => {
    fc.assert(
      fc.property(lc9, fc.uint8Array({ minLength: 55, maxLength: 55 }), fc.integer({ min: 0, max: 255 }), (lc, pkt, flags) => {
        const x = pkt.slice();
        const did = new LcRewriter(lc).patchFrame(x, flags);
        const type = (flags >> 4) & 3;
        const low = flags & 15;
        expect(did).toBe((type === 2 && (low === 1 || low === 2)) || (type === 0 && low >= 1 && low <= 4));
        if (!did) expect(toHex(x)).toBe(toHex(pkt));
        expect(toHex(x.subarray(0, 20))).toBe(toHex(pkt.subarray(0, 20)));
        expect(toHex(x.subarray(53))).toBe(toHex(pkt.subarray(53)));
      }),
    );
  });
});
