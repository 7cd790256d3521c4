// Voice prompts from the radio's side, with the synthetic pack (and the real packs in
// ../shared/vectors/prompts when they are there, see test/support/fixtures.ts): a dial-a-TG
// command is answered when its private call ends, one second later, on TS2 TG 9 from 5000, and
// the voice is exactly the pack's words ("linked to 2 3 5 0", "not linked", "busy", status,
// information clips); a link that expires says where the lane is now; LANG= picks the pack; with no
// pack the prompt is skipped and logged once; a prompt never plays over traffic on the slot.

import { beforeAll, expect, it } from 'vitest';
import type { PromptPackData } from '../../src/core/index.js';
import { concatPrompt, decodeFullLc, extractVoiceBits } from '../../src/protocol/dmr/index.js';
import { encodeDmrd, readU24, readU32 } from '../../src/protocol/index.js';
import { loadPromptPack } from '../../src/shell/prompts.js';
import { describePromptPacks } from '../support/fixtures.js';
import { testConfig, voiceCall, World, type Sent } from '../support/harness.js';

function pack(dir: string, lang: string): PromptPackData {
  const r = loadPromptPack(dir, lang);
  if (!r.ok) throw new Error(r.error);
  return { lang, words: Object.fromEntries(r.pack.words), ondemand: Object.fromEntries(r.pack.ondemand) };
}
/** The packs of the variant being run (set by its beforeAll). */
let EN_GB: PromptPackData;
let EN_US: PromptPackData;

function world(packs: PromptPackData[] = [EN_GB, EN_US], patch: Parameters<typeof testConfig>[0] = () => {}): World {
  const w = new World(testConfig(patch));
  w.core.handle({ kind: 'prompts-loaded', now: w.now, packs }, w.sink);
  w.sink.take();
  return w;
}

/** A private call (header and terminator) from `peerId` to `n`, 60 ms apart, deadlines fired. */
function dial(w: World, port: number, peerId: number, n: number, streamId: number, slot: 1 | 2 = 2): void {
  for (const [seq, frame] of [0x21, 0x22].entries()) {
    w.datagram(port, encodeDmrd({ seq, src: 3100001, dst: n, peerId, slot, frame, unit: true, streamId }));
    w.advance(60);
  }
}

function listen(w: World, ms: number): { at: number; s: Sent }[] {
  const out: { at: number; s: Sent }[] = [];
  for (let t = 0; t < ms; t += 10) for (const s of w.advance(10)) if (String.fromCharCode(...s.bytes.subarray(0, 4)) === 'DMRD') out.push({ at: w.now, s });
  return out;
}

/** The voice of a prompt as sent: the 27 voice bytes of every voice burst, in order. */
function voiceOf(frames: Sent[]): Uint8Array {
  const bursts = frames.filter((f) => (f.bytes[15]! & 0x30) !== 0x20);
  const out = new Uint8Array(bursts.length * 27);
  bursts.forEach((f, i) => out.set(extractVoiceBits(f.bytes, 20), i * 27));
  return out;
}

const words = (p: PromptPackData, ...ws: string[]): Uint8Array => concatPrompt(ws.map((k) => p.words[k]!));
/** What `voiceOf` must give for these words: whole superframes, the rest silence. */
function expected(p: PromptPackData, ...ws: string[]): Uint8Array {
  const v = words(p, 'silence', ...ws);
  const bursts = Math.ceil(v.length / 27 / 6) * 6;
  const out = concatPrompt([v, ...Array.from({ length: bursts - v.length / 27 }, () => p.words['silence']!)]);
  return out;
}

describePromptPacks('voice prompts', (dir) => {
  beforeAll(() => {
    EN_GB = pack(dir, 'en_GB');
    EN_US = pack(dir, 'en_US');
  });

  it('answers a dial with "linked to 2 3 5 0" on TS2 TG 9 from 5000, a second after the call', () => {
    const w = world();
    w.login(1001, 5001);
    w.login(1002, 5002, 'TS2=2350;');
    dial(w, 5001, 1001, 2350, 0x501, 1);
    const end = w.now - 60;
    const got = listen(w, 10_000);
    expect(got.every((x) => x.s.port === 5001)).toBe(true); // nobody else hears it
    const frames = got.map((x) => x.s);
    expect(got[0]!.at - end).toBeGreaterThanOrEqual(1000);
    expect(got[0]!.at - end).toBeLessThan(1100);
    for (const f of frames) {
      expect(readU24(f.bytes, 5)).toBe(5000);
      expect(readU24(f.bytes, 8)).toBe(9);
      expect(f.bytes[15]! & 0xc0).toBe(0x80); // TS2, group call
      expect(readU32(f.bytes, 11)).toBe(1001);
    }
    const head = decodeFullLc(frames[0]!.bytes, 20);
    expect(head.rsOk).toBe(true);
    expect(readU24(head.lc, 3)).toBe(9);
    expect(readU24(head.lc, 6)).toBe(5000);
    expect(voiceOf(frames)).toEqual(expected(EN_GB, 'linked-to', '2', '3', '5', '0'));
    expect((frames.at(-1)!.bytes[15]! & 0x3f)).toBe(0x22);
  });

  it('"not linked" after 4000, "busy" for a number that cannot be dialled, status with 5000, clips for 9991', () => {
    const w = world();
    w.login(1001, 5001);
    dial(w, 5001, 1001, 4000, 0x511);
    expect(voiceOf(listen(w, 8000).map((x) => x.s))).toEqual(expected(EN_GB, 'not-linked'));
    dial(w, 5001, 1001, 9, 0x512);
    expect(voiceOf(listen(w, 8000).map((x) => x.s))).toEqual(expected(EN_GB, 'busy'));
    dial(w, 5001, 1001, 5000, 0x513);
    expect(voiceOf(listen(w, 8000).map((x) => x.s))).toEqual(expected(EN_GB, 'not-linked'));
    dial(w, 5001, 1001, 91, 0x514);
    listen(w, 8000);
    dial(w, 5001, 1001, 5000, 0x515);
    expect(voiceOf(listen(w, 8000).map((x) => x.s))).toEqual(expected(EN_GB, 'linked-to', '9', '1'));
    dial(w, 5001, 1001, 9991, 0x516);
    const clip: Sent[] = [];
    for (let i = 0; i < 3; i++) {
      clip.push(...listen(w, 9000).map((x) => x.s));
      w.ping(1001, 5001); // a long clip: the peer keeps pinging meanwhile
    }
    const want = concatPrompt([EN_GB.words['silence']!, EN_GB.ondemand['9991']!]);
    expect(voiceOf(clip).subarray(0, want.length)).toEqual(want);
    dial(w, 5001, 1001, 9999, 0x517); // no such clip in the pack
    expect(voiceOf(listen(w, 8000).map((x) => x.s))).toEqual(expected(EN_GB, 'busy'));
  });

  it('LANG= picks the indexed en_US pack (its own words for the same phrase)', () => {
    const w = world();
    w.login(1001, 5001, 'LANG=en_US;');
    dial(w, 5001, 1001, 4000, 0x521);
    expect(voiceOf(listen(w, 8000).map((x) => x.s))).toEqual(expected(EN_US, 'notlinked'));
  });

  it('says where the lane is when a dial link expires (the "disconnected" notice)', () => {
    const w = world(undefined, (c) => (c.routing.userActivationMs = 60_000));
    w.login(1001, 5001, 'DIAL=3100;');
    dial(w, 5001, 1001, 2350, 0x531);
    listen(w, 8000);
    // The link lapses a minute after its last use; pings keep the peer logged in.
    for (let i = 0; i < 5; i++) {
      w.advance(9_990);
      w.ping(1001, 5001);
    }
    expect(w.core.peers().find((p) => p.peerId === 1001)!.ts2).toEqual([9]);
    const notice = listen(w, 10_000).map((x) => x.s);
    expect(w.sink.logs.some((l) => l.code === 'dial.expired')).toBe(true);
    expect(voiceOf(notice)).toEqual(expected(EN_GB, 'linked-to', '3', '1', '0', '0'));
  });

  it('without a pack the prompt is skipped, and logged once per peer', () => {
    const w = world([]);
    w.login(1001, 5001);
    dial(w, 5001, 1001, 2350, 0x541);
    dial(w, 5001, 1001, 4000, 0x542);
    expect(listen(w, 8000)).toEqual([]);
    expect(w.sink.logs.filter((l) => l.code === 'prompt.no-pack')).toHaveLength(1);
    expect(w.core.stats().find(([k]) => k === 'prompt.no-pack')?.[1]).toBe(2);
  });

  it('never plays over traffic on the slot: it waits for the call and the hang time', () => {
    const w = world(undefined, (c) => (c.timers.groupHangtimeMs = 500));
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;');
    dial(w, 5001, 1001, 2350, 0x551, 1); // dialled from TS1; the answer goes to TS2
    // 1002 talks on TG 91 (heard by 1001 on TS2) across the moment the prompt is due.
    const call = voiceCall({ peerId: 1002, src: 3100002, tg: 91, slot: 2, streamId: 0x9191, superframes: 5 });
    const seen: { at: number; s: Sent }[] = [];
    for (const p of call) {
      for (const s of w.datagram(5002, p)) if (s.port === 5001) seen.push({ at: w.now, s });
      for (const s of w.advance(60)) if (s.port === 5001) seen.push({ at: w.now, s });
    }
    seen.push(...listen(w, 5000).filter((x) => x.s.port === 5001));
    const tgs = seen.map((x) => readU24(x.s.bytes, 8));
    const firstPrompt = tgs.indexOf(9);
    expect(firstPrompt).toBe(call.length); // every TG 91 frame first, then the prompt
    expect(tgs.slice(firstPrompt).every((t) => t === 9)).toBe(true);
    expect(seen[firstPrompt]!.at - seen[firstPrompt - 1]!.at).toBeGreaterThanOrEqual(500);
  });

  it('identifies a quiet peer every interval: "this is <callsign spelled>" to all-call on TS2', () => {
    const w = world(undefined, (c) => (c.prompts.identIntervalMs = 120_000));
    w.login(1001, 5001); // callsign T1 (the harness's RPTC)
    w.login(1002, 5002, 'VOICE=0;');
    w.login(1003, 5003, 'IDENTTG=91;');
    const heard: Sent[] = [];
    for (let i = 0; i < 14; i++) {
      heard.push(...listen(w, 9_000).map((x) => x.s));
      for (const [id, p] of [[1001, 5001], [1002, 5002], [1003, 5003]] as const) w.ping(id, p);
    }
    const to1 = heard.filter((s) => s.port === 5001);
    expect(to1.length).toBeGreaterThan(0);
    for (const f of to1) expect([readU24(f.bytes, 5), readU24(f.bytes, 8), f.bytes[15]! & 0x80]).toEqual([5000, 16_777_215, 0x80]);
    expect(voiceOf(to1)).toEqual(expected(EN_GB, 'this-is', 'tango', '1'));
    expect(heard.filter((s) => s.port === 5002)).toEqual([]); // VOICE=0
    expect(new Set(heard.filter((s) => s.port === 5003).map((f) => readU24(f.bytes, 8)))).toEqual(new Set([91]));
  });

  it('puts the ident off while the slot is busy', () => {
    const w = world(undefined, (c) => (c.prompts.identIntervalMs = 60_000));
    w.login(1001, 5001, 'TS2=91;');
    w.login(1002, 5002, 'TS2=91;VOICE=0;');
    // 1002 talks on TG 91 (heard by 1001 on TS2) every 20 s: 1001's TS2 is never quiet for 30 s.
    const heard: Sent[] = [];
    for (let i = 0; i < 9; i++) {
      for (const p of voiceCall({ peerId: 1002, src: 3100002, tg: 91, slot: 2, streamId: 0x7000 + i })) {
        w.datagram(5002, p);
        w.advance(60);
      }
      heard.push(...listen(w, 19_000).map((x) => x.s).filter((s) => s.port === 5001 && readU24(s.bytes, 5) === 5000));
      w.ping(1001, 5001);
      w.ping(1002, 5002);
    }
    expect(heard).toEqual([]);
    expect(w.core.stats().find(([k]) => k === 'ident.deferred')?.[1]).toBeGreaterThan(0);
  });
});

