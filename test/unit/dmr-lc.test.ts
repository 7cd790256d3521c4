// The DMR LC engine (src/protocol/dmr) against known-good data: the spec §10 vectors, the reference
// bursts of voice-frames.json, and the talker's calls in the captures
// (see test/fixtures/README.md).

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/protocol/bytes.js';
import {
  BPTC196_INTERLEAVE,
  bptc196Decode,
  bptc196Encode,
  csum5,
  decodeEmbeddedLc,
  decodeFullLc,
  encodeEmbeddedLc,
  encodeHeaderLc,
  encodeTerminatorLc,
  extractInfoBits,
  getBit,
  HAMMING_13_9_3,
  HAMMING_15_11_3,
  HAMMING_16_11_4,
  LcRewriter,
  lcFromBytes,
  lcToBytes,
  LC_OPT_GROUP,
  makeLc,
  readBits,
  readEmbeddedFragment,
  RS129_GENERATOR,
  rs129Check,
  rs129Correct,
  rs129Parity,
  RS129_MASK_TERMINATOR,
  RS129_MASK_VOICE_HEADER,
  setBit,
  writeBits,
  type HammingCode,
} from '../../src/protocol/dmr/index.js';
import { CAPTURES } from '../support/fixtures.js';
import { readPcapUdp } from '../support/pcap.js';
import { REF_CALLS } from '../support/voice-frames.js';


const hex = (s: string): Uint8Array => {
  const b = fromHex(s.replace(/\s+/g, ''));
  if (b === null) throw new Error(`bad hex ${s}`);
  return b;
};

/** Hex of bits [from, to) of `b`, which must be a whole number of nibbles. */
function bitsHex(b: Uint8Array, from: number, to: number, at = 0): string {
  let s = '';
  for (let i = from; i < to; i += 4) s += readBits(b, at * 8 + i, 4).toString(16);
  return s;
}

/** Indices of the bits that differ between two equally long buffers. */
function changedBits(a: Uint8Array, b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length * 8; i++) if (getBit(a, i) !== getBit(b, i)) out.push(i);
  return out;
}

const inRanges = (i: number, ranges: [number, number][]): boolean => ranges.some(([lo, hi]) => i >= lo && i < hi);

const HEAD_TERM_RANGES: [number, number][] = [[0, 98], [166, 264]];
const VOICE_RANGE: [number, number][] = [[116, 148]];

/** Slot-type colour code and data type, read raw (bits 98..105 of the burst). */
const slotCc = (burst: Uint8Array): number => readBits(burst, 98, 4);
const slotDataType = (burst: Uint8Array): number => readBits(burst, 102, 4);

// ---------------------------------------------------------------------------------------------------
// Spec §10 item 1: known-good bursts of a real call, as listed in dmr_utils3 decode.py `__main__`
// (LC 00 10 20 | 00 0C 30 | 2F 9B E5, colour code 1). Only the bursts this test needs.
const DU3 = {
  lc: '00102000 0c30 2f9be5',
  head: '2b6004101f842dd00df07d41046dff57d75df5de30152e2070b20f803f88c695e2',
  term: '2b0f04c41f342da80d807de104adff57d75df5d965012d1877d203c03788df95d1',
  b: 'b9e881526173002a6bb9e881526134e0f060691173002a6bb9e881526173002a6a',
  c: 'b9e881526173002a6bb9e881526171711004774173002a6bb9e881526173002a6a',
  d: 'b9e881526173002a6b954be6500170c03181b74310b00777a6c6cb53732789483a',
  e: '865ae7617555b50601b758e665115175a0f4e07124815001fff5a337706128a7ca',
  fragments: ['4e0f0606', '17110047', '0c03181b', '175a0f4e'],
};

// Spec §10 item 4: the XLX module-select voice header and terminator (HBlink3/FreeDMR hblink.py
// `send_xlxmaster`, first 33 bytes): a unit call, LC 03 00 00 | 00 0F A5 | 23 E7 FE, colour code 3.
// Its FLCO bits sit in matrix row 0, which no other vector here exercises.
const XLX = {
  lc: '030000 000fa5 23e7fe',
  head: '4f2e00b501ae3a001c40a0c1cc7dff57d75df5d5065026f82880bd616f13f18589',
  term: '4f410061011e3a781c30a061ccbdff57d75df5d2534425c02fe0b1216713e885ba',
};

const CALLS = REF_CALLS;

/**
 * The LC these bursts really carry. The README says `00 00 20` + tg + src, but every header, terminator
 * and embedded LC in the file (and in the captures) carries service options 0x00: the RS parity and the
 * embedded checksum only check with 0x00 (see the test "voice-frames.json carries service options 0x00").
 */
const callLc = (c: { tg: number; src: number }): Uint8Array => makeLc([0x00, 0x00, 0x00], c.tg, c.src);

function fragmentsOf(bursts: Uint8Array[]): Uint8Array {
  const frags = new Uint8Array(16);
  for (let n = 1; n <= 4; n++) readEmbeddedFragment(bursts[n - 1]!, n, frags);
  return frags;
}

describe('bit helpers', () => {
  it('number bits MSB-first and ignore writes outside the buffer', () => {
    const b = new Uint8Array(2);
    setBit(b, 0, 1);
    setBit(b, 15, 1);
    expect(toHex(b)).toBe('8001');
    writeBits(b, 4, 8, 0xa5);
    expect(toHex(b)).toBe('8a51');
    expect(readBits(b, 4, 8)).toBe(0xa5);
    setBit(b, 16, 1);
    setBit(b, -1, 1);
    expect(toHex(b)).toBe('8a51');
    expect(getBit(b, 99)).toBe(0);
  });
});

describe('Hamming codes', () => {
  const codes: [string, HammingCode][] = [
    ['(15,11,3)', HAMMING_15_11_3],
    ['(13,9,3)', HAMMING_13_9_3],
    ['(16,11,4)', HAMMING_16_11_4],
  ];
  for (const [name, code] of codes) {
    it(`${name}: every codeword checks and every single bit error is corrected`, () => {
      for (let d = 0; d < 1 << code.k; d++) {
        const w = code.encode(d);
        expect(code.syndrome(w)).toBe(0);
        for (let pos = 0; pos < code.n; pos++) expect(code.correct(w ^ (1 << pos))).toBe(w);
      }
    });
  }

  it('(16,11,4) detects every double error without miscorrecting', () => {
    const code = HAMMING_16_11_4;
    for (const d of [0, 1, 0x2aa, 0x555, 0x7ff]) {
      const w = code.encode(d);
      for (let i = 0; i < 16; i++) for (let j = i + 1; j < 16; j++) expect(code.correct(w ^ (1 << i) ^ (1 << j))).toBe(-1);
    }
  });

  it('minimum distances are 3, 3 and 4', () => {
    const minWeight = (code: HammingCode): number => {
      let best = 99;
      for (let d = 1; d < 1 << code.k; d++) {
        let w = code.encode(d);
        let n = 0;
        while (w) {
          n += w & 1;
          w >>>= 1;
        }
        best = Math.min(best, n);
      }
      return best;
    };
    expect(minWeight(HAMMING_15_11_3)).toBe(3);
    expect(minWeight(HAMMING_13_9_3)).toBe(3);
    expect(minWeight(HAMMING_16_11_4)).toBe(4);
  });
});

describe('RS(12,9) — spec §10 item 2', () => {
  const lc = hex(DU3.lc);

  it('has generator x³ + 14x² + 56x + 64 ([64, 56, 14] low order first)', () => {
    expect(RS129_GENERATOR).toEqual([64, 56, 14]);
  });

  it('gives header parity DA D4 5A and terminator parity D5 DB 55', () => {
    expect(toHex(rs129Parity(lc, 0, undefined, 0, RS129_MASK_VOICE_HEADER))).toBe('dad45a');
    expect(toHex(rs129Parity(lc, 0, undefined, 0, RS129_MASK_TERMINATOR))).toBe('d5db55');
    const cw = new Uint8Array(12);
    cw.set(lc);
    rs129Parity(lc, 0, cw, 9, RS129_MASK_VOICE_HEADER);
    expect(rs129Check(cw, 0, RS129_MASK_VOICE_HEADER)).toBe(true);
    expect(rs129Check(cw, 0, RS129_MASK_TERMINATOR)).toBe(false);
    expect(rs129Check(cw, 0, 0)).toBe(false);
  });

  it('corrects any single wrong byte and refuses two', () => {
    const cw = new Uint8Array(12);
    cw.set(lc);
    rs129Parity(lc, 0, cw, 9, RS129_MASK_TERMINATOR);
    const good = toHex(cw);
    for (let i = 0; i < 12; i++) {
      for (const e of [1, 0x80, 0xff, 0x5a]) {
        const bad = cw.slice();
        bad[i] = bad[i]! ^ e;
        expect(rs129Correct(bad, 0, RS129_MASK_TERMINATOR)).toBe(1);
        expect(toHex(bad)).toBe(good);
      }
    }
    const two = cw.slice();
    two[0] = two[0]! ^ 1;
    two[5] = two[5]! ^ 2;
    const before = toHex(two);
    expect(rs129Correct(two, 0, RS129_MASK_TERMINATOR)).toBe(-1);
    expect(toHex(two)).toBe(before);
  });

  it('csum5 of the LC is 01100 (12)', () => {
    expect(csum5(lc)).toBe(12);
  });
});

describe('BPTC(196,96)', () => {
  it('interleaves matrix bit i to codeword bit (i × 181) mod 196, a permutation', () => {
    expect(new Set(BPTC196_INTERLEAVE).size).toBe(196);
    expect(BPTC196_INTERLEAVE[1]).toBe(181);
    expect(BPTC196_INTERLEAVE[2]).toBe(166);
  });

  it('decodes what it encodes; reports uncorrectable errors, and RS catches a miscorrection', () => {
    const info = hex('001020000c302f9be5dad45a');
    const cw = bptc196Encode(info);
    const out = new Uint8Array(12);
    expect(bptc196Decode(cw, out)).toBe(0);
    expect(toHex(out)).toBe(toHex(info));
    const flip = (cells: [number, number][]): Uint8Array => {
      const bad = cw.slice();
      for (const [r, c] of cells) {
        const pos = BPTC196_INTERLEAVE[1 + 15 * r + c]!;
        setBit(bad, pos, getBit(bad, pos) ^ 1);
      }
      return bad;
    };
    // Two errors in one row, or in one column, are corrected.
    expect(bptc196Decode(flip([[0, 0], [0, 5]]), out)).toBe(2);
    expect(toHex(out)).toBe(toHex(info));
    expect(bptc196Decode(flip([[0, 0], [5, 0]]), out)).toBeGreaterThanOrEqual(2);
    expect(toHex(out)).toBe(toHex(info));
    // A rectangle of four errors that the row and column passes cannot resolve.
    expect(bptc196Decode(flip([[5, 5], [5, 12], [7, 5], [7, 12]]), out)).toBe(-1);
    // A 4 × 4 block converges on a wrong codeword; the RS check then fails.
    expect(bptc196Decode(flip(Array.from({ length: 16 }, (_, i): [number, number] => [i >> 2, i & 3])), out)).toBeGreaterThan(0);
    expect(toHex(out)).not.toBe(toHex(info));
    expect(rs129Check(out, 0, RS129_MASK_VOICE_HEADER)).toBe(false);
  });
});

describe('full LC — spec §10 items 1 and 4', () => {
  for (const [name, v, cc] of [['dmr_utils3 sample call', DU3, 1], ['XLX module select (unit call)', XLX, 3]] as const) {
    it(`${name}: header and terminator decode to the LC and re-encode bit for bit`, () => {
      const head = hex(v.head);
      const term = hex(v.term);
      const lc = hex(v.lc);
      const dh = decodeFullLc(head);
      const dt = decodeFullLc(term);
      expect(toHex(dh.lc)).toBe(toHex(lc));
      expect(toHex(dt.lc)).toBe(toHex(lc));
      expect([dh.kind, dh.rsOk, dh.bptcCorrected]).toEqual(['header', true, 0]);
      expect([dt.kind, dt.rsOk, dt.bptcCorrected]).toEqual(['terminator', true, 0]);
      expect([slotCc(head), slotDataType(head), slotCc(term), slotDataType(term)]).toEqual([cc, 1, cc, 2]);
      expect(bitsHex(head, 108, 156)).toBe('dff57d75df5d');
      expect(toHex(encodeHeaderLc(lc))).toBe(toHex(extractInfoBits(head)));
      expect(toHex(encodeTerminatorLc(lc))).toBe(toHex(extractInfoBits(term)));
    });
  }

  it('dmr_utils3 sample LC parses as group, Motorola FID, TG 3120 from 3120101', () => {
    expect(lcFromBytes(decodeFullLc(hex(DU3.head)).lc)).toEqual({ pf: false, flco: 0, fid: 0x10, serviceOptions: 0x20, dst: 3120, src: 3120101 });
    expect(lcFromBytes(hex(XLX.lc))).toMatchObject({ flco: 3, fid: 0, serviceOptions: 0, dst: 4005, src: 2353150 });
  });

  it('LC fields and bytes convert both ways', () => {
    const lc = { pf: true, flco: 3, fid: 0x10, serviceOptions: 0x21, dst: 0xabcdef, src: 0x123456 };
    expect(toHex(lcToBytes(lc))).toBe('831021abcdef123456');
    expect(lcFromBytes(lcToBytes(lc))).toEqual(lc);
    expect(toHex(lcToBytes({ flco: 0, fid: 0, serviceOptions: 0x20, dst: 9, src: 3100001 }))).toBe('0000200000092f4d61');
    expect(toHex(makeLc(LC_OPT_GROUP, 9, 3100001))).toBe('0000200000092f4d61');
    // A short buffer is read as zeros rather than thrown on.
    expect(lcFromBytes(new Uint8Array(2))).toEqual({ pf: false, flco: 0, fid: 0, serviceOptions: 0, dst: 0, src: 0 });
  });

  it('a truncated burst is reported, not thrown on', () => {
    const d = decodeFullLc(hex(DU3.head).subarray(0, 32));
    expect([d.rsOk, d.kind, d.bptcOk]).toEqual([false, 'unknown', false]);
    expect(decodeFullLc(hex(DU3.head), 1).rsOk).toBe(false);
  });
});

describe('embedded LC — spec §10 items 1 and 3', () => {
  it('the sample call carries fragments 4e0f0606 17110047 0c03181b 175a0f4e, which decode and re-encode', () => {
    const bursts = [DU3.b, DU3.c, DU3.d, DU3.e].map(hex);
    const frags = fragmentsOf(bursts);
    expect([0, 1, 2, 3].map((n) => toHex(frags.subarray(4 * n, 4 * n + 4)))).toEqual(DU3.fragments);
    const d = decodeEmbeddedLc(frags);
    expect(toHex(d.lc)).toBe(toHex(hex(DU3.lc)));
    expect([d.ok, d.checksumOk, d.hammingOk, d.parityOk, d.corrected, d.checksum]).toEqual([true, true, true, true, 0, 12]);
    expect(toHex(encodeEmbeddedLc(hex(DU3.lc)))).toBe(DU3.fragments.join(''));
    // LCSS 1, 3, 3, 2 and colour code 1 in the EMB of B..E.
    expect(bursts.map((b) => readBits(b, 113, 2))).toEqual([1, 3, 3, 2]);
    expect(bursts.map((b) => readBits(b, 108, 4))).toEqual([1, 1, 1, 1]);
  });

  it('bug vector: LC 00 00 10 00 0C 30 2F 9B E5 gives burst-D fragment 4d03175a (ETSI), not 4d43175a (dmr_utils3)', () => {
    const lc = hex('000010000c302f9be5');
    const frags = encodeEmbeddedLc(lc);
    expect(toHex(frags.subarray(8, 12))).toBe('4d03175a');
    expect(toHex(frags.subarray(8, 12))).not.toBe('4d43175a');
    const d = decodeEmbeddedLc(frags);
    expect(d.ok).toBe(true);
    expect(toHex(d.lc)).toBe('000010000c302f9be5');
    // dmr_utils3's output is not a valid matrix: the flipped bit is found and corrected.
    const buggy = frags.slice();
    buggy.set(hex('4d43175a'), 8);
    const db = decodeEmbeddedLc(buggy);
    expect(db.corrected).toBe(1);
    expect(toHex(db.lc)).toBe('000010000c302f9be5');
  });

  it('detects corruption: a wrong checksum, and a double error in one row', () => {
    const frags = encodeEmbeddedLc(hex(DU3.lc));
    const one = frags.slice();
    one[3] = one[3]! ^ 0x40; // row 1, column 3: one data bit
    expect(decodeEmbeddedLc(one)).toMatchObject({ ok: true, corrected: 1 });
    const two = frags.slice();
    two[3] = two[3]! ^ 0x40;
    two[4] = two[4]! ^ 0x40; // a second error in row 1
    expect(decodeEmbeddedLc(two)).toMatchObject({ ok: false, hammingOk: false });
    expect(decodeEmbeddedLc(new Uint8Array(3)).ok).toBe(true); // zeros are a valid (all-zero) LC
    expect(decodeEmbeddedLc(new Uint8Array(16).fill(0xff)).ok).toBe(false);
  });
});

describe('voice-frames.json', () => {
  it('holds calls to check', () => {
    expect(CALLS.length).toBeGreaterThanOrEqual(5);
  });

  it('carries service options 0x00 (the README says 0x20): only 0x00 checks', () => {
    for (const c of CALLS) {
      const head = decodeFullLc(hex(c.head));
      expect(head.lc[2]).toBe(0x00);
      const with20 = makeLc(LC_OPT_GROUP, c.tg, c.src);
      expect(toHex(encodeHeaderLc(with20))).not.toBe(toHex(extractInfoBits(hex(c.head))));
      expect(toHex(encodeEmbeddedLc(with20))).not.toBe(toHex(fragmentsOf(c.bursts.slice(1, 5).map(hex))));
    }
  });

  for (const c of CALLS) {
    describe(`src ${c.src} → TG ${c.tg}`, () => {
      const lc = callLc(c);
      const head = hex(c.head);
      const term = hex(c.term);
      const bursts = c.bursts.map(hex);

      it('header and terminator decode to the LC with RS ok and re-encode bit for bit', () => {
        const dh = decodeFullLc(head);
        const dt = decodeFullLc(term);
        expect(toHex(dh.lc)).toBe(toHex(lc));
        expect(toHex(dt.lc)).toBe(toHex(lc));
        expect([dh.kind, dh.rsOk, dh.bptcOk, dh.bptcCorrected]).toEqual(['header', true, true, 0]);
        expect([dt.kind, dt.rsOk, dt.bptcOk, dt.bptcCorrected]).toEqual(['terminator', true, true, 0]);
        expect(lcFromBytes(dh.lc)).toMatchObject({ flco: 0, dst: c.tg, src: c.src });
        expect(toHex(encodeHeaderLc(lc))).toBe(toHex(extractInfoBits(head)));
        expect(toHex(encodeTerminatorLc(lc))).toBe(toHex(extractInfoBits(term)));
        // Patching with the same LC reproduces the burst exactly, so [98:166) is left alone.
        const rw = new LcRewriter(lc);
        const h2 = head.slice();
        const t2 = term.slice();
        rw.patchHeader(h2);
        rw.patchTerminator(t2);
        expect(toHex(h2)).toBe(c.head);
        expect(toHex(t2)).toBe(c.term);
      });

      it('bursts B..E carry the LC with a good checksum and re-encode bit for bit; A and F are untouched', () => {
        const d = decodeEmbeddedLc(fragmentsOf(bursts.slice(1, 5)));
        expect(toHex(d.lc)).toBe(toHex(lc));
        expect([d.ok, d.checksumOk, d.checksum, d.corrected]).toEqual([true, true, csum5(lc), 0]);
        const frags = encodeEmbeddedLc(lc);
        const rw = new LcRewriter(lc);
        for (let n = 0; n < 6; n++) {
          if (n >= 1 && n <= 4) expect(bitsHex(bursts[n]!, 116, 148)).toBe(toHex(frags.subarray(4 * (n - 1), 4 * n)));
          const b = bursts[n]!.slice();
          rw.patchVoice(b, n);
          expect(rw.patchFrame(b, n === 0 ? 0x90 : 0x80 | n, 0)).toBe(n >= 1 && n <= 4);
          expect(toHex(b)).toBe(c.bursts[n]);
        }
        expect(bitsHex(bursts[5]!, 116, 148)).toBe('00000000');
      });
    });
  }
});

describe('LcRewriter', () => {
  it('re-targets TG 9 to TG 91 and yields exactly the reference bursts of the TG 91 call', () => {
    const from = CALLS.find((c) => c.tg === 9 && c.src === 3100001)!;
    const to = CALLS.find((c) => c.tg === 91 && c.src === 3100001)!;
    const source = decodeFullLc(hex(from.head)).lc;
    const rw = new LcRewriter(makeLc(source, 91, from.src));
    const head = hex(from.head);
    const term = hex(from.term);
    rw.patchHeader(head);
    rw.patchTerminator(term);
    expect(toHex(head)).toBe(to.head);
    expect(toHex(term)).toBe(to.term);
    from.bursts.forEach((b, n) => {
      const x = hex(b);
      rw.patchVoice(x, n);
      expect(toHex(x)).toBe(to.bursts[n]);
    });
  });

  for (const c of CALLS) {
    it(`re-targets src ${c.src} TG ${c.tg} → TG 23001: new LC decodes, only the specified bits change`, () => {
      const target = 23001;
      const source = decodeFullLc(hex(c.head)).lc;
      const want = makeLc(source, target, c.src);
      const rw = new LcRewriter(want);
      for (const [orig, patch, kind] of [
        [c.head, (b: Uint8Array) => rw.patchHeader(b), 'header'],
        [c.term, (b: Uint8Array) => rw.patchTerminator(b), 'terminator'],
      ] as const) {
        const before = hex(orig);
        const after = before.slice();
        patch(after);
        const d = decodeFullLc(after);
        expect([toHex(d.lc), d.rsOk, d.kind, d.bptcCorrected]).toEqual([toHex(want), true, kind, 0]);
        const changed = changedBits(before, after);
        expect(changed.length).toBeGreaterThan(0);
        expect(changed.every((i) => inRanges(i, HEAD_TERM_RANGES))).toBe(true);
        // Patching twice changes nothing more.
        const again = after.slice();
        patch(again);
        expect(toHex(again)).toBe(toHex(after));
      }
      const patched = c.bursts.map((b, n) => {
        const before = hex(b);
        const after = before.slice();
        rw.patchVoice(after, n);
        const changed = changedBits(before, after);
        if (n === 0 || n === 5) expect(changed).toEqual([]);
        else expect(changed.every((i) => inRanges(i, VOICE_RANGE))).toBe(true);
        return after;
      });
      const d = decodeEmbeddedLc(fragmentsOf(patched.slice(1, 5)));
      expect([toHex(d.lc), d.ok, d.checksumOk]).toEqual([toHex(want), true, true]);
      expect(lcFromBytes(d.lc)).toMatchObject({ dst: target, src: c.src });
    });
  }

  it('setLc re-encodes in place', () => {
    const a = CALLS[0]!;
    const b = CALLS[2]!;
    const rw = new LcRewriter(callLc(a));
    rw.setLc(callLc(b));
    const head = hex(a.head);
    rw.patchHeader(head);
    expect(toHex(head)).toBe(b.head);
    expect(toHex(rw.fragments)).toBe(toHex(encodeEmbeddedLc(callLc(b))));
  });
});

// ---------------------------------------------------------------------------------------------------
// The captures: the scripted talker's calls on TG 23001, and FreeDMR's forwarded copies of them.

interface Dmrd {
  pkt: Uint8Array;
  flags: number;
  src: number;
  dst: number;
  stream: string;
  key: string;
}

function dmrdPackets(file: string): Dmrd[] {
  const out: Dmrd[] = [];
  for (const r of readPcapUdp(resolve(CAPTURES, file))) {
    const p = r.payload;
    if (p.length < 53 || p[0] !== 0x44 || p[1] !== 0x4d || p[2] !== 0x52 || p[3] !== 0x44) continue; // 'DMRD'
    out.push({
      pkt: p,
      flags: p[15]!,
      src: readBits(p, 5 * 8, 24),
      dst: readBits(p, 8 * 8, 24),
      stream: toHex(p.subarray(16, 20)),
      key: `${r.srcPort}>${r.dstPort}`,
    });
  }
  return out;
}

describe('captured calls', () => {
  for (const file of ['freedmr-dmrgateway-session.pcap', 'freedmr-openbridge-obp1.pcap']) {
    const packets = dmrdPackets(file);

    it(`${file}: every header and terminator decodes to the DMRD's dst and src with RS ok`, () => {
      let heads = 0;
      let terms = 0;
      for (const p of packets) {
        const t = p.flags & 0x3f;
        if (t !== 0x21 && t !== 0x22) continue;
        const d = decodeFullLc(p.pkt, 20);
        expect(d.rsOk).toBe(true);
        expect(d.bptcCorrected).toBe(0);
        expect(d.kind).toBe(t === 0x21 ? 'header' : 'terminator');
        expect(lcFromBytes(d.lc)).toMatchObject({ flco: 0, dst: p.dst, src: p.src });
        if (t === 0x21) heads++;
        else terms++;
      }
      expect(heads).toBeGreaterThan(0);
      expect(terms).toBeGreaterThan(0);
    });

    it(`${file}: every complete B..E run decodes to the same LC with checksum ok`, () => {
      const runs = new Map<string, { next: number; frags: Uint8Array }>();
      let decoded = 0;
      for (const p of packets) {
        const frameType = (p.flags >> 4) & 3;
        const n = p.flags & 0x0f;
        const id = `${p.key}/${p.stream}`;
        if (frameType !== 0 || n < 1 || n > 4) continue;
        let run = runs.get(id);
        if (!run || n === 1) {
          run = { next: 1, frags: new Uint8Array(16) };
          runs.set(id, run);
        }
        if (run.next !== n) {
          run.next = 0; // a gap: wait for the next B
          continue;
        }
        readEmbeddedFragment(p.pkt, n, run.frags, 20);
        run.next = n + 1;
        if (n === 4) {
          const d = decodeEmbeddedLc(run.frags);
          expect([d.ok, d.checksumOk]).toEqual([true, true]);
          expect(lcFromBytes(d.lc)).toMatchObject({ flco: 0, dst: p.dst, src: p.src });
          decoded++;
        }
      }
      expect(decoded).toBeGreaterThan(0);
    });
  }

  it('patches a 55-byte DMRD in place at offset 20, touching only the payload ranges', () => {
    const packets = dmrdPackets('freedmr-dmrgateway-session.pcap').filter((p) => p.pkt.length === 55);
    const source = decodeFullLc(packets.find((p) => (p.flags & 0x3f) === 0x21)!.pkt, 20).lc;
    const want = makeLc(source, 91, 3100001);
    const rw = new LcRewriter(want);
    const seen = new Set<string>();
    for (const p of packets) {
      const before = p.pkt;
      const after = before.slice();
      const did = rw.patchFrame(after, p.flags);
      const t = p.flags & 0x3f;
      const kind = t === 0x21 ? 'head' : t === 0x22 ? 'term' : (p.flags & 0x30) === 0 && (p.flags & 0x0f) >= 1 && (p.flags & 0x0f) <= 4 ? 'voice' : 'other';
      seen.add(kind);
      expect(did).toBe(kind !== 'other');
      const changed = changedBits(before, after).map((i) => i - 160);
      const ranges = kind === 'voice' ? VOICE_RANGE : HEAD_TERM_RANGES;
      expect(changed.every((i) => inRanges(i, ranges))).toBe(true);
      if (kind === 'other') expect(changed).toEqual([]);
      if (kind === 'head' || kind === 'term') {
        const d = decodeFullLc(after, 20);
        expect([toHex(d.lc), d.rsOk, d.kind]).toEqual([toHex(want), true, kind === 'head' ? 'header' : 'terminator']);
      }
    }
    expect([...seen].sort()).toEqual(['head', 'other', 'term', 'voice']);
  });
});
