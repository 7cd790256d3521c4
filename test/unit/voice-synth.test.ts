// The voice synthesizer (src/protocol/dmr/voice.ts), EMB and slot type coding, and the prompt packs:
// checked bit for bit against the reference bursts of voice-frames.json, and against the synthetic
// pack and, when they are there, the real packs in ../shared/vectors/prompts (read in place: they
// are GPL and must not be copied into the repo).

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHex, readU32, toHex } from '../../src/protocol/bytes.js';
import { parseIndexedPack, splitWordFile, SILENCE_WORD } from '../../src/protocol/dmr/ambe-pack.js';
import { decodeEmb, encodeEmb, Lcss, QR_16_7_6, readEmb, VOICE_BURST_LCSS, writeEmb } from '../../src/protocol/dmr/emb.js';
import { decodeEmbeddedLc, decodeFullLc, lcFromBytes, makeLc, readBits, readEmbeddedFragment } from '../../src/protocol/dmr/index.js';
import { decodeSlotType, encodeSlotType, GOLAY_20_8, readSlotType, SlotDataType, writeSlotType } from '../../src/protocol/dmr/slot-type.js';
import {
  AMBE_SILENCE_FRAME,
  buildVoiceStream,
  BURST_VOICE_BYTES,
  concatPrompt,
  extractVoiceBits,
  SILENCE_BURST_VOICE,
  voiceBurstCount,
} from '../../src/protocol/dmr/voice.js';
import { loadPromptPack, loadPromptPackAsync } from '../../src/shell/prompts.js';
import { capture, describePromptPacks } from '../support/fixtures.js';
import { readPcapUdp } from '../support/pcap.js';
import { REF_CALLS } from '../support/voice-frames.js';

const CALLS = REF_CALLS;

const hex = (s: string): Uint8Array => {
  const b = fromHex(s);
  if (b === null) throw new Error(`bad hex ${s}`);
  return b;
};
const payload = (p: Uint8Array): string => toHex(p.subarray(20, 53));
const popcount = (v: number): number => {
  let n = 0;
  for (let x = v >>> 0; x !== 0; x &= x - 1) n++;
  return n;
};

describe('EMB (QR(16,7,6))', () => {
  it('reproduces the EMB of bursts B..F of every reference call (CC 1, LCSS 1 3 3 2 0)', () => {
    for (const c of CALLS) {
      for (let n = 1; n <= 5; n++) {
        const b = hex(c.bursts[n]!);
        const emb = readEmb(b);
        expect(emb).toBe(encodeEmb(1, VOICE_BURST_LCSS[n]!));
        expect(decodeEmb(emb)).toEqual({ colorCode: 1, pi: false, lcss: VOICE_BURST_LCSS[n], errors: 0, ok: true });
        const x = b.slice();
        writeEmb(x, 0);
        writeEmb(x, emb);
        expect(toHex(x)).toBe(c.bursts[n]);
      }
    }
    expect(VOICE_BURST_LCSS.slice(1)).toEqual([Lcss.First, Lcss.Continuation, Lcss.Continuation, Lcss.Last, Lcss.Single]);
    // The CC 1 words, as tabulated for FreeDMR's generator: B 1391, C/D 1774, E 1507, F 11e2.
    expect([1, 3, 2, 0].map((l) => encodeEmb(1, l).toString(16))).toEqual(['1391', '1774', '1507', '11e2']);
  });

  it('is a linear code with minimum distance 6, decoding every CC/PI/LCSS with up to 2 errors', () => {
    let dmin = 16;
    for (let a = 0; a < 128; a++) {
      for (let b = a + 1; b < 128; b++) {
        dmin = Math.min(dmin, popcount(QR_16_7_6[a]! ^ QR_16_7_6[b]!));
        expect(QR_16_7_6[a]! ^ QR_16_7_6[b]!).toBe(QR_16_7_6[a ^ b]!);
      }
    }
    expect(dmin).toBe(6);
    for (let cc = 0; cc < 16; cc++) {
      for (let lcss = 0; lcss < 4; lcss++) {
        for (const pi of [false, true]) {
          const w = encodeEmb(cc, lcss, pi);
          expect(w >> 9).toBe((cc << 3) | (pi ? 4 : 0) | lcss);
          for (let i = 0; i < 16; i++) {
            for (let j = i; j < 16; j++) {
              const d = decodeEmb(w ^ (1 << i) ^ (i === j ? 0 : 1 << j));
              expect([d.colorCode, d.pi, d.lcss, d.ok]).toEqual([cc, pi, lcss, true]);
            }
          }
        }
      }
    }
  });
});

describe('slot type (Golay(20,8))', () => {
  it('reproduces the slot type of every reference header (data type 1) and terminator (2), CC 1', () => {
    for (const c of CALLS) {
      const h = hex(c.head);
      const t = hex(c.term);
      expect(readSlotType(h)).toBe(encodeSlotType(1, SlotDataType.VoiceLcHeader));
      expect(readSlotType(t)).toBe(encodeSlotType(1, SlotDataType.TerminatorWithLc));
      expect(decodeSlotType(readSlotType(h))).toEqual({ colorCode: 1, dataType: 1, errors: 0, ok: true });
      expect(decodeSlotType(readSlotType(t))).toEqual({ colorCode: 1, dataType: 2, errors: 0, ok: true });
      const x = h.slice();
      writeSlotType(x, 0);
      writeSlotType(x, encodeSlotType(1, 1));
      expect(toHex(x)).toBe(c.head);
    }
    expect(encodeSlotType(1, 1).toString(16)).toBe('11b8c');
    expect(encodeSlotType(1, 2).toString(16)).toBe('12a59');
  });

  it('has minimum distance 8 (extended Golay, shortened) and decodes every CC/data type with up to 3 errors', () => {
    let dmin = 20;
    for (let a = 0; a < 256; a++) for (let b = a + 1; b < 256; b++) dmin = Math.min(dmin, popcount(GOLAY_20_8[a]! ^ GOLAY_20_8[b]!));
    expect(dmin).toBe(8);
    for (let cc = 0; cc < 16; cc++) {
      for (let dt = 0; dt < 16; dt++) {
        const w = encodeSlotType(cc, dt);
        expect(w >>> 12).toBe((cc << 4) | dt);
        for (let i = 0; i < 20; i++) {
          const e = (1 << i) | (1 << ((i + 7) % 20)) | (1 << ((i + 13) % 20));
          const d = decodeSlotType(w ^ e);
          expect([d.colorCode, d.dataType, d.errors, d.ok]).toEqual([cc, dt, 3, true]);
        }
      }
    }
  });
});

describe('EMB and slot type in the captures', () => {
  it('every DMRD/DMRE burst decodes with zero errors: CC 1, the LCSS of its position, the data type of its flags', () => {
    let seen = 0;
    for (const f of ['freedmr-dmrgateway-session.pcap', 'freedmr-openbridge-obp1.pcap', 'freedmr-openbridge-fbp5.pcap']) {
      for (const { payload: b } of readPcapUdp(capture(f))) {
        const tag = String.fromCharCode(...b.subarray(0, 4));
        if ((tag !== 'DMRD' && tag !== 'DMRE') || b.length < 53) continue;
        const flags = b[15]!;
        const frameType = (flags >> 4) & 3;
        if (frameType === 2) {
          expect(decodeSlotType(readSlotType(b, 20))).toEqual({ colorCode: 1, dataType: flags & 0x0f, errors: 0, ok: true });
          seen++;
        } else if (frameType === 0) {
          expect(decodeEmb(readEmb(b, 20))).toEqual({ colorCode: 1, pi: false, lcss: VOICE_BURST_LCSS[flags & 0x0f], errors: 0, ok: true });
          seen++;
        }
      }
    }
    expect(seen).toBeGreaterThan(500);
  });
});

describe('buildVoiceStream against voice-frames.json', () => {
  it('the reference bursts carry AMBE+2 silence: three silence frames per burst', () => {
    for (const c of CALLS) for (const b of c.bursts) expect(toHex(extractVoiceBits(hex(b)))).toBe(toHex(SILENCE_BURST_VOICE));
    expect(toHex(AMBE_SILENCE_FRAME)).toBe('b9e881526173002a6b');
  });

  for (const headers of [1, 3]) {
    it(`rebuilds every reference call bit for bit (${headers} header(s), 1 terminator)`, () => {
      for (const c of CALLS) {
        const pkts = buildVoiceStream({
          voice: SILENCE_BURST_VOICE, // one burst: the stream is padded to one superframe of silence
          src: c.src,
          dst: c.tg,
          slot: 1,
          streamId: 0x12345678,
          peerId: 312000,
          colorCode: 1,
          headers,
          seq0: 0,
          lcOptions: [0x00, 0x00, 0x00],
        });
        expect(pkts.length).toBe(headers + 6 + 1);
        for (let i = 0; i < headers; i++) expect(payload(pkts[i]!)).toBe(c.head);
        for (let n = 0; n < 6; n++) expect(payload(pkts[headers + n]!)).toBe(c.bursts[n]);
        expect(payload(pkts[headers + 6]!)).toBe(c.term);
        pkts.forEach((p, i) => {
          expect(p.length).toBe(55);
          expect(toHex(p.subarray(0, 4))).toBe(toHex(new TextEncoder().encode('DMRD')));
          expect(p[4]).toBe(i);
          expect(readBits(p, 40, 24)).toBe(c.src);
          expect(readBits(p, 64, 24)).toBe(c.tg);
          expect(readU32(p, 11)).toBe(312000);
          expect(readU32(p, 16)).toBe(0x12345678);
          expect([p[53], p[54]]).toEqual([0, 0]);
        });
        expect(pkts.map((p) => p[15])).toEqual([...Array<number>(headers).fill(0x21), 0x10, 1, 2, 3, 4, 5, 0x22]);
      }
    });
  }

  it('TS2 and unit calls set bits 0x80 and 0x40 of byte 15, and a unit LC uses FLCO 3', () => {
    const ts2 = buildVoiceStream({ voice: new Uint8Array(0), src: 1, dst: 2, slot: 2, streamId: 7, peerId: 9, padSuperframe: false });
    expect(ts2.map((p) => p[15])).toEqual([0xa1, 0xa1, 0xa1, 0xa2]);
    const unit = buildVoiceStream({ voice: SILENCE_BURST_VOICE, src: 1, dst: 2, slot: 2, streamId: 7, peerId: 9, group: false, headers: 1 });
    expect(unit.map((p) => p[15])).toEqual([0xe1, 0xd0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xe2]);
    expect(lcFromBytes(decodeFullLc(unit[0]!, 20).lc)).toMatchObject({ flco: 3, fid: 0, serviceOptions: 0, dst: 2, src: 1 });
  });

  it('the built header, terminator and embedded LC decode to the LC; EMB and slot type name the colour code', () => {
    for (const cc of [0, 1, 7, 15]) {
      const lc = makeLc([0x00, 0x00, 0x20], 2350, 2345678);
      const pkts = buildVoiceStream({ voice: concatPrompt([SILENCE_BURST_VOICE]), src: 2345678, dst: 2350, slot: 2, streamId: 1, peerId: 5, colorCode: cc, lcOptions: [0, 0, 0x20] });
      const head = decodeFullLc(pkts[0]!, 20);
      const term = decodeFullLc(pkts[pkts.length - 1]!, 20);
      expect([head.kind, toHex(head.lc), term.kind, toHex(term.lc)]).toEqual(['header', toHex(lc), 'terminator', toHex(lc)]);
      expect(decodeSlotType(readSlotType(pkts[0]!, 20))).toMatchObject({ colorCode: cc, dataType: 1, ok: true });
      expect(decodeSlotType(readSlotType(pkts[pkts.length - 1]!, 20))).toMatchObject({ colorCode: cc, dataType: 2, ok: true });
      const frags = new Uint8Array(16);
      for (let n = 1; n <= 4; n++) readEmbeddedFragment(pkts[3 + n]!, n, frags, 20);
      const emb = decodeEmbeddedLc(frags);
      expect([emb.ok, toHex(emb.lc)]).toEqual([true, toHex(lc)]);
      for (let n = 1; n <= 5; n++) expect(decodeEmb(readEmb(pkts[3 + n]!, 20))).toMatchObject({ colorCode: cc, lcss: VOICE_BURST_LCSS[n], ok: true });
      expect(readBits(pkts[8]!, 160 + 116, 32)).toBe(0);
    }
  });
});

describePromptPacks('prompt packs', (PROMPTS) => {
  const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  const NATO = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima', 'mike'];

  it('loads en_GB (directory form) with its words and on-demand clips, sync and async alike', async () => {
    const r = loadPromptPack(PROMPTS, 'en_GB');
    if (!r.ok) throw new Error(r.error);
    const { pack } = r;
    expect(pack.lang).toBe('en_GB');
    for (const w of [...DIGITS, ...NATO, 'x-ray', 'zulu', 'linked-to', 'not-linked', 'busy', 'this-is', 'freedmr', SILENCE_WORD]) {
      const v = pack.words.get(w);
      expect(v, w).toBeInstanceOf(Uint8Array);
      expect(v!.length % BURST_VOICE_BYTES, w).toBe(0);
      expect(v!.length, w).toBeGreaterThan(0);
    }
    expect([...pack.ondemand.keys()]).toEqual(['9991', '9992', '9993']);
    expect(toHex(pack.words.get(SILENCE_WORD)!)).toBe(toHex(SILENCE_BURST_VOICE));
    // The word is the file's bit stream, cut to whole pairs of 108-bit halves.
    const raw = readFileSync(resolve(PROMPTS, 'en_GB/linked-to.ambe'));
    expect(toHex(pack.words.get('linked-to')!)).toBe(toHex(splitWordFile(raw)));
    expect(toHex(raw.subarray(0, 27))).toBe(toHex(pack.words.get('linked-to')!.subarray(0, 27)));

    const a = await loadPromptPackAsync(PROMPTS, 'en_GB');
    if (!a.ok) throw new Error(a.error);
    expect([...a.pack.words.keys()]).toEqual([...pack.words.keys()]);
    for (const [k, v] of pack.words) expect(toHex(a.pack.words.get(k)!)).toBe(toHex(v));
    for (const [k, v] of pack.ondemand) expect(toHex(a.pack.ondemand.get(k)!)).toBe(toHex(v));
  });

  it('loads en_US (indexed form): each word is its frames of the .ambe file', async () => {
    const r = await loadPromptPackAsync(PROMPTS, 'en_US');
    if (!r.ok) throw new Error(r.error);
    expect(r.warnings).toEqual([]);
    const { pack } = r;
    for (const w of [...DIGITS, 'alpha', 'bravo', 'charlie', 'delta', 'A', 'Z', 'linked', 'notlinked', 'linking', 'isbusy', SILENCE_WORD]) {
      expect(pack.words.get(w)?.length, w).toBeGreaterThan(0);
    }
    expect(pack.ondemand.size).toBe(0);
    const ambe = readFileSync(resolve(PROMPTS, 'en_US.ambe'));
    const index = readFileSync(resolve(PROMPTS, 'en_US.indx'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [word, start, frames] = l.trim().split(/\s+/);
        return { word: word!, start: Number(start), frames: Number(frames) };
      });
    for (const e of index) expect(toHex(pack.words.get(e.word)!), e.word).toBe(toHex(splitWordFile(ambe.subarray(e.start * 9, (e.start + e.frames) * 9))));
    // 3k frames (e.g. 39 = 2808 bits = 26 halves exactly = 13 bursts): exactly the word's frames.
    const whole = index.find((e) => e.frames % 3 === 0)!;
    expect(toHex(pack.words.get(whole.word)!)).toBe(toHex(ambe.subarray(whole.start * 9, (whole.start + whole.frames) * 9)));
    // 3k+1 frames (e.g. 34 = 2448 bits = 22⅔ halves → 23 halves → 11 pairs): the unpaired half is dropped.
    const over = index.find((e) => e.frames % 3 === 1)!;
    expect(toHex(pack.words.get(over.word)!)).toBe(toHex(ambe.subarray(over.start * 9, over.start * 9 + ((over.frames - 1) / 3) * 27)));
    const s = loadPromptPack(PROMPTS, 'en_US');
    expect(s.ok && [...s.pack.words.keys()]).toEqual([...pack.words.keys()]);
  });

  it('reports a missing or bad language instead of throwing', async () => {
    expect(loadPromptPack(PROMPTS, 'xx_XX')).toMatchObject({ ok: false });
    expect(await loadPromptPackAsync(PROMPTS, 'xx_XX')).toMatchObject({ ok: false });
    expect(await loadPromptPackAsync(PROMPTS, '../prompts')).toMatchObject({ ok: false });
    expect(loadPromptPack('/nonexistent/dir', 'en_GB')).toMatchObject({ ok: false });
  });

  it('splits word files as FreeDMR does, or with silence-padded frames', () => {
    const frames = (n: number): Uint8Array => Uint8Array.from({ length: n * 9 }, (_, i) => (i % 251) + 1);
    // 3k frames: unchanged. 3k+1: the last 72-bit half has no partner and is dropped. 3k+2: the last
    // burst ends in 72 zero bits.
    expect(toHex(splitWordFile(frames(6)))).toBe(toHex(frames(6)));
    expect(toHex(splitWordFile(frames(7)))).toBe(toHex(frames(6)));
    const eight = splitWordFile(frames(8));
    expect(eight.length).toBe(81);
    expect(toHex(eight.subarray(0, 72))).toBe(toHex(frames(8)));
    expect(toHex(eight.subarray(72))).toBe('00'.repeat(9));
    // 'silence' tail: every frame kept, the burst completed with silence frames.
    const seven = splitWordFile(frames(7), 'silence');
    expect(toHex(seven)).toBe(toHex(frames(7)) + toHex(AMBE_SILENCE_FRAME).repeat(2));
    expect(splitWordFile(new Uint8Array(0)).length).toBe(0);
    expect(splitWordFile(new Uint8Array(13)).length).toBe(0); // 104 bits: one short half, unpaired
    expect(splitWordFile(new Uint8Array(14)).length).toBe(27); // 112 bits: a full half and a short one
  });

  it('parseIndexedPack skips bad lines with warnings and fails only when nothing is usable', () => {
    const ambe = Uint8Array.from({ length: 9 * 10 }, (_, i) => i);
    const r = parseIndexedPack(ambe, 'a\t0\t3\nbad line\n\nb 3 3\r\nc 9 5\nd 20 1\na 6 3\n');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([...r.words.keys()]).toEqual(['a', 'b', 'c']);
    expect(toHex(r.words.get('a')!)).toBe(toHex(ambe.subarray(54, 81)));
    expect(toHex(r.words.get('b')!)).toBe(toHex(ambe.subarray(27, 54)));
    expect(r.words.get('c')!.length).toBe(0); // one frame left: a single short half
    expect(r.warnings.length).toBe(4);
    expect(parseIndexedPack(ambe, '')).toMatchObject({ ok: false });
    expect(parseIndexedPack(ambe, 'x y z')).toMatchObject({ ok: false });
  });
});

describePromptPacks('a spoken prompt: "linked to 2 3 5 0"', (PROMPTS) => {
  const r = loadPromptPack(PROMPTS, 'en_GB');
  if (!r.ok) throw new Error(r.error);
  const words = ['linked-to', '2', '3', '5', '0'].map((w) => r.pack.words.get(w)!);

  for (const [headers, terminators, seq0] of [
    [3, 1, 0],
    [1, 2, 250],
  ] as const) {
    it(`${headers} header(s), ${terminators} terminator(s), sequence from ${seq0}`, () => {
      const voice = concatPrompt(words);
      const bursts = words.reduce((n, w) => n + w.length / BURST_VOICE_BYTES, 0);
      expect(voice.length).toBe(bursts * BURST_VOICE_BYTES);
      const pkts = buildVoiceStream({ voice, src: 5000, dst: 9, slot: 2, streamId: 0xdeadbeef, peerId: 9, headers, terminators, seq0 });
      expect(pkts.length).toBe(headers + 6 * Math.ceil(bursts / 6) + terminators);
      expect(voiceBurstCount(voice)).toBe(6 * Math.ceil(bursts / 6));
      pkts.forEach((p, i) => expect(p[4]).toBe((seq0 + i) % 256));
      // The voice goes out in order, then silence up to the superframe boundary.
      for (let i = 0; i < 6 * Math.ceil(bursts / 6); i++) {
        const v = extractVoiceBits(pkts[headers + i]!, 20);
        const want = i < bursts ? voice.subarray(i * 27, i * 27 + 27) : SILENCE_BURST_VOICE;
        expect(toHex(v)).toBe(toHex(want));
        expect(pkts[headers + i]![15]).toBe(i % 6 === 0 ? 0x90 : 0x80 | i % 6);
      }
      expect(lcFromBytes(decodeFullLc(pkts[0]!, 20).lc)).toMatchObject({ flco: 0, dst: 9, src: 5000 });
    });
  }
});
