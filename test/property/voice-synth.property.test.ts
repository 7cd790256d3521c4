// Property tests for the voice synthesizer: whatever LC, IDs, slot, colour code and voice go in, the
// built stream decodes back to them (full LC of headers and terminators, embedded LC of every
// superframe, EMB, slot type, voice bits, DMRD fields); EMB and slot type survive their correctable
// error counts; and the prompt-pack parsers never throw on arbitrary input.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readU24, readU32, toHex } from '../../src/protocol/bytes.js';
import { parseIndexedPack, splitWordFile, withSilenceWord } from '../../src/protocol/dmr/ambe-pack.js';
import { decodeEmb, encodeEmb, readEmb, VOICE_BURST_LCSS } from '../../src/protocol/dmr/emb.js';
import { decodeEmbeddedLc, decodeFullLc, makeLc, readBits, readEmbeddedFragment } from '../../src/protocol/dmr/index.js';
import { decodeSlotType, encodeSlotType, readSlotType } from '../../src/protocol/dmr/slot-type.js';
import { buildVoiceStream, BURST_VOICE_BYTES, concatPrompt, extractVoiceBits, SILENCE_BURST_VOICE } from '../../src/protocol/dmr/voice.js';

const u24 = fc.integer({ min: 0, max: 0xffffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** `k` distinct bit positions below `n`, as an XOR mask. */
const errorMask = (n: number, maxErrors: number): fc.Arbitrary<number> =>
  fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: maxErrors }).map((bits) => bits.reduce((m, b) => (m | (1 << b)) >>> 0, 0));

describe('buildVoiceStream round trip', () => {
  it('decodes back to what was built', () => {
    fc.assert(
      fc.property(
        fc.record({
          src: u24,
          dst: u24,
          slot: fc.constantFrom(1 as const, 2 as const),
          streamId: u32,
          peerId: u32,
          colorCode: fc.integer({ min: 0, max: 15 }),
          headers: fc.integer({ min: 0, max: 4 }),
          terminators: fc.integer({ min: 0, max: 3 }),
          seq0: fc.integer({ min: 0, max: 255 }),
          group: fc.boolean(),
          lcOptions: fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })),
          padSuperframe: fc.boolean(),
        }),
        fc.uint8Array({ maxLength: 27 * 14 }),
        (o, voice) => {
          const pkts = buildVoiceStream({ ...o, voice });
          const lc = makeLc(o.lcOptions, o.dst, o.src);
          const whole = Math.ceil(voice.length / BURST_VOICE_BYTES);
          const bursts = o.padSuperframe ? Math.ceil(whole / 6) * 6 : whole;
          expect(pkts.length).toBe(o.headers + bursts + o.terminators);

          pkts.forEach((p, i) => {
            expect(p.length).toBe(55);
            expect(p[4]).toBe((o.seq0 + i) & 0xff);
            expect([readU24(p, 5), readU24(p, 8), readU32(p, 11), readU32(p, 16)]).toEqual([o.src, o.dst, o.peerId, o.streamId]);
            expect((p[15]! & 0x80) !== 0).toBe(o.slot === 2);
            expect((p[15]! & 0x40) !== 0).toBe(!o.group);
          });

          for (let i = 0; i < o.headers + o.terminators; i++) {
            const isHead = i < o.headers;
            const p = pkts[isHead ? i : o.headers + bursts + (i - o.headers)]!;
            expect(p[15]! & 0x3f).toBe(isHead ? 0x21 : 0x22);
            const d = decodeFullLc(p, 20);
            expect([d.kind, d.bptcCorrected, toHex(d.lc)]).toEqual([isHead ? 'header' : 'terminator', 0, toHex(lc)]);
            expect(decodeSlotType(readSlotType(p, 20))).toEqual({ colorCode: o.colorCode, dataType: isHead ? 1 : 2, errors: 0, ok: true });
          }

          const frags = new Uint8Array(16);
          for (let i = 0; i < bursts; i++) {
            const p = pkts[o.headers + i]!;
            const n = i % 6;
            expect(p[15]! & 0x3f).toBe(n === 0 ? 0x10 : n);
            // The voice bytes of this burst, completed with silence where the input runs out.
            const want = SILENCE_BURST_VOICE.slice();
            if (i * 27 < voice.length) want.set(voice.subarray(i * 27, i * 27 + 27));
            expect(toHex(extractVoiceBits(p, 20))).toBe(toHex(want));
            if (n === 0) {
              expect(readBits(p, 160 + 108, 24).toString(16) + readBits(p, 160 + 132, 24).toString(16)).toBe('755fd7df75f7');
              continue;
            }
            expect(decodeEmb(readEmb(p, 20))).toEqual({ colorCode: o.colorCode, pi: false, lcss: VOICE_BURST_LCSS[n], errors: 0, ok: true });
            if (n <= 4) readEmbeddedFragment(p, n, frags, 20);
            if (n === 4) {
              const e = decodeEmbeddedLc(frags);
              expect([e.ok, toHex(e.lc)]).toEqual([true, toHex(lc)]);
            }
            if (n === 5) expect(readBits(p, 160 + 116, 32)).toBe(0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('concatPrompt keeps every word and starts each on a burst boundary', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 6 }), (words) => {
        const v = concatPrompt(words);
        let o = 0;
        for (const w of words) {
          expect(toHex(v.subarray(o, o + w.length))).toBe(toHex(w));
          o += Math.ceil(w.length / 27) * 27;
        }
        expect(v.length).toBe(o);
      }),
    );
  });
});

describe('EMB and slot type under bit errors', () => {
  it('EMB corrects up to 2 errors for any CC, PI and LCSS', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), errorMask(16, 2), (cc, lcss, pi, e) => {
        const d = decodeEmb(encodeEmb(cc, lcss, pi) ^ e);
        expect([d.colorCode, d.lcss, d.pi, d.ok]).toEqual([cc, lcss, pi, true]);
      }),
    );
  });

  it('slot type corrects up to 3 errors for any CC and data type', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 15 }), errorMask(20, 3), (cc, dt, e) => {
        const d = decodeSlotType(encodeSlotType(cc, dt) ^ e);
        expect([d.colorCode, d.dataType, d.ok]).toEqual([cc, dt, true]);
      }),
    );
  });

  it('the decoders take any word without throwing', () => {
    fc.assert(
      fc.property(fc.integer(), (w) => {
        expect(decodeEmb(w).colorCode).toBeLessThan(16);
        expect(decodeSlotType(w).dataType).toBeLessThan(16);
      }),
    );
  });
});

describe('prompt-pack parsers never throw', () => {
  const token = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.constantFrom('0', '1', 'alpha', 'linked', '\t', ' ', '\n', '\r\n', '-1', '1e3', '99999999999999', 'NaN'),
    fc.integer({ min: 0, max: 400 }).map(String),
  );
  const indx = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.array(fc.tuple(token, token, token).map(([a, b, c]) => `${a}\t${b}\t${c}`), { maxLength: 20 }).map((l) => l.join('\n')),
  );

  it('splitWordFile: whole bursts, a prefix of the input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom('freedmr' as const, 'silence' as const), (b, tail) => {
        const w = splitWordFile(b, tail);
        expect(w.length % 27).toBe(0);
        const n = Math.min(w.length, b.length);
        expect(toHex(w.subarray(0, n))).toBe(toHex(b.subarray(0, n)));
        if (tail === 'silence') expect(w.length).toBeGreaterThanOrEqual(b.length);
        else expect(Math.abs(w.length - b.length)).toBeLessThan(27);
      }),
    );
  });

  it('parseIndexedPack returns a result for any bytes and text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), indx, (ambe, text) => {
        const r = parseIndexedPack(ambe, text);
        if (r.ok) {
          expect(r.words.size).toBeGreaterThan(0);
          for (const v of r.words.values()) expect(v.length % 27).toBe(0);
          expect(withSilenceWord(r.words).has('silence')).toBe(true);
        } else expect(typeof r.error).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});
