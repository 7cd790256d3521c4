// Golden scripts: each scenario is a text script in testdata/<name>.txt (format: test/support/
// script.ts), with the decoded actions of each command written under it and the digest of the
// canonical rendering (src/replay/render.ts) at the end. Running the script must give exactly that
// file back, and the event log its run records must replay (src/replay) to the same actions.
//
//   npx vitest run test/replay                    compare (a difference fails with a line diff)
//   UPDATE_GOLDEN=1 npx vitest run test/replay    rewrite the decoded actions from the scripts
//
// A rewritten file is reviewed like code. Beyond the transcript, each scenario makes a few direct
// assertions on the canonical lines, so a regenerated file that changed behaviour fails loudly.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PromptPackData } from '../../src/core/index.js';
import { concatPrompt } from '../../src/protocol/dmr/index.js';
import { lcDestinations } from '../support/voice-frames.js';
import { loadPromptPack } from '../../src/shell/prompts.js';
import { fromHex, obpKey, readU32, verifyObp } from '../../src/protocol/index.js';
import { dmreHops, dmreSourceRepeater, dmreSourceServer, fbpKeys, verifyFbp } from '../../src/protocol/fbp/index.js';
import { readPcapUdp } from '../support/pcap.js';
import { resolve } from 'node:path';
import { capture, syntheticPromptDir } from '../support/fixtures.js';
import { replayLog, type ReplayResult } from '../../src/replay/index.js';
import { hmacSha1, sha256 } from '../support/crypto.js';
import { DEFAULT_ADDRESS, SCENARIO_PASSPHRASE, secretDigest, textDigest, type Peer } from '../support/scenario.js';
import { runScript, type ScriptRun } from '../support/script.js';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const TESTDATA = resolve(DIR, 'testdata');
/** Script paths (captures, prompt packs) are relative to the repository root. */
const ROOT = resolve(DIR, '../..');
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';

// ── reading rendered lines ─────────────────────────────────────────────────────────────────────

interface SendLine {
  now: number;
  socket: number;
  address: string;
  port: number;
  bytes: Uint8Array;
  /** Leading ASCII tag: DMRD, RPTACK, MSTNAK, MSTPONG, MSTCL. */
  tag: string;
}

interface LogLine {
  now: number;
  code: string;
  f: Record<string, string>;
}

const LOG_KEYS = new Set(['peer', 'src', 'tg', 'slot', 'stream', 'durationMs', 'packets', 'lost', 'address', 'port', 'reason', 'detail', 'count']);

function tagOf(b: Uint8Array): string {
  let s = '';
  for (const c of b.subarray(0, 7)) {
    if (c < 0x41 || c > 0x5a) break;
    s += String.fromCharCode(c);
  }
  for (const t of ['RPTACK', 'MSTNAK', 'MSTPONG', 'MSTCL', 'DMRD']) if (s.startsWith(t)) return t;
  return s;
}

function sendsOf(lines: readonly string[]): SendLine[] {
  const out: SendLine[] = [];
  for (const line of lines) {
    const m = /^@(\d+) send (\d+) (\S+):(\d+) ([0-9a-f]+)$/.exec(line);
    if (!m) continue;
    const bytes = fromHex(m[5]!)!;
    out.push({ now: Number(m[1]), socket: Number(m[2]), address: m[3]!, port: Number(m[4]), bytes, tag: tagOf(bytes) });
  }
  return out;
}

/** Log lines; values may contain spaces, so a new field starts only at a known key. */
function logsOf(lines: readonly string[], code?: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of lines) {
    const m = /^@(\d+) log (\S+)(?: (.*))?$/.exec(line);
    if (!m || (code !== undefined && m[2] !== code)) continue;
    const f: Record<string, string> = {};
    let key: string | null = null;
    for (const tok of (m[3] ?? '').split(' ')) {
      const eq = tok.indexOf('=');
      const k = eq > 0 ? tok.slice(0, eq) : '';
      if (LOG_KEYS.has(k)) {
        key = k;
        f[k] = tok.slice(eq + 1);
      } else if (key !== null) f[key] += ' ' + tok;
    }
    out.push({ now: Number(m[1]), code: m[2]!, f });
  }
  return out;
}

const to = (sends: SendLine[], p: Peer): SendLine[] => sends.filter((s) => s.port === p.port && s.address === (p.address ?? DEFAULT_ADDRESS));
const dmrdOf = (sends: SendLine[]): SendLine[] => sends.filter((s) => s.tag === 'DMRD');
const streamOf = (s: SendLine): number => readU32(s.bytes, 16);
const seqOf = (s: SendLine): number => s.bytes[4]!;
const slotBit = (s: SendLine): number => s.bytes[15]! & 0x80;
const argOf = (s: SendLine): number => readU32(s.bytes, s.bytes.length - 4);

// ── scenarios ──────────────────────────────────────────────────────────────────────────────────

interface GoldenScenario {
  /** testdata/<name>.txt */
  name: string;
  /** Direct assertions on the replayed canonical lines. */
  check(lines: readonly string[]): void;
}

const peer = (n: number, extra: Partial<Peer> = {}): Peer => ({ id: 2340000 + n, port: 50000 + n, ...extra });


// 1. login — default timers. Pins the HBP login handshake and its refusals:
//    - A logs in (RPTL → RPTACK+salt, RPTK → RPTACK, RPTC → RPTACK + peer.login, RPTO → RPTACK +
//      peer.options) and pings (MSTPONG);
//    - B answers its challenge with a wrong passphrase: MSTNAK, login.refused, and nothing is kept
//      (its ping is refused, and a correct answer afterwards finds no challenge);
//    - an RPTO for A's ID from an unknown address: an 8-byte RPTO would need a 10-byte MSTNAK, which
//      is withheld (never reply to a stranger with more than it sent); a 13-byte RPTO gets its
//      MSTNAK; A's subscriptions are not touched either way;
//    - A logs out with RPTCL: no reply, peer.logout reason=closed; a ping afterwards gets MSTNAK.
const A1 = peer(1);
const B1 = peer(2);
const SPOOF = peer(1, { address: '198.51.100.7', port: 40000 });
const login: GoldenScenario = {
  name: 'login',
  check(lines) {
    const sends = sendsOf(lines);
    const toA = to(sends, A1);
    expect(toA.map((x) => `${x.now} ${x.tag}`)).toEqual(['100 RPTACK', '110 RPTACK', '120 RPTACK', '130 RPTACK', '1000 MSTPONG', '4100 MSTNAK']);
    expect(toA.slice(1, 4).every((x) => argOf(x) === A1.id)).toBe(true);
    expect(logsOf(lines, 'peer.login').map((l) => l.f['peer'])).toEqual([String(A1.id)]);
    const opts = logsOf(lines, 'peer.options');
    expect(opts.map((l) => `${l.now} ${l.f['peer']} ${l.f['detail']}`)).toEqual([`130 ${A1.id} TS1=1 TS2=91`]);
    // B: salt, then MSTNAK for the wrong digest, the ping and the late correct answer.
    expect(to(sends, B1).map((x) => `${x.now} ${x.tag}`)).toEqual(['2000 RPTACK', '2010 MSTNAK', '2100 MSTNAK', '2200 MSTNAK']);
    expect(logsOf(lines, 'login.refused').map((l) => `${l.now} ${l.f['peer']} ${l.f['reason']}`)).toEqual([`2010 ${B1.id} passphrase`]);
    // The stranger: nothing at 3000 (withheld), one MSTNAK at 3010.
    expect(lines.filter((l) => l.startsWith('@3000 '))).toEqual([]);
    expect(to(sends, SPOOF).map((x) => `${x.now} ${x.tag} ${argOf(x)}`)).toEqual([`3010 MSTNAK ${A1.id}`]);
    // RPTCL: no reply, logged as closed.
    expect(sends.filter((x) => x.now === 4000)).toEqual([]);
    expect(logsOf(lines, 'peer.logout').map((l) => `${l.now} ${l.f['peer']} ${l.f['reason']}`)).toEqual([`4000 ${A1.id} closed`]);
    // Nobody left at shutdown: no MSTCL.
    expect(sends.some((x) => x.tag === 'MSTCL')).toBe(false);
  },
};

// 2. routing — default timers. Four peers with different static talkgroups:
//      P1 TS2=91   P2 TS1=91   P3 TS1=9;TS2=91   P4 TS2=3100
//    - P1 talks on TS2 TG 91: each packet goes to P2 (on its TS1: byte 15 bit 7 cleared) and P3 (on
//      TS2: bit set), with the receiver's peer ID at [11:15); never back to P1, never to P4;
//    - P4 talks on TG 3100, which nobody else has: call.start/call.end, no DMRD sent;
//    - P2 talks on TS2 TG 4000, which it is not subscribed to: call.start reason=not-subscribed,
//      nothing sent;
//    - shutdown: MSTCL to every peer, peer.logout reason=shutdown.
const P = [peer(1), peer(2), peer(3), peer(4)] as const;
const routing: GoldenScenario = {
  name: 'routing',
  check(lines) {
    const frames = dmrdOf(sendsOf(lines));
    expect(frames.every((f) => streamOf(f) === 0x9101)).toBe(true);
    const toP2 = to(frames, P[1]);
    const toP3 = to(frames, P[2]);
    expect(toP2.map(seqOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(toP3.map(seqOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(to(frames, P[0])).toEqual([]);
    expect(to(frames, P[3])).toEqual([]);
    // The TS1 listener's copies have byte 15 bit 7 clear, the TS2 listener's set; frame type kept.
    expect(toP2.every((f) => slotBit(f) === 0 && readU32(f.bytes, 11) === P[1].id)).toBe(true);
    expect(toP3.every((f) => slotBit(f) === 0x80 && readU32(f.bytes, 11) === P[2].id)).toBe(true);
    expect(toP2.map((f) => f.bytes[15]! & 0x3f)).toEqual([0x21, 0x10, 0x01, 0x02, 0x03, 0x04, 0x05, 0x22]);
    const starts = logsOf(lines, 'call.start').map((l) => `${l.f['tg']} ${l.f['reason'] ?? '-'}`);
    expect(starts).toEqual(['91 -', '3100 -', '4000 not-subscribed']);
    expect(logsOf(lines, 'call.end').map((l) => `${l.f['tg']} ${l.f['reason']} ${l.f['packets']}`)).toEqual([
      '91 terminator 8',
      '3100 terminator 8',
      '4000 terminator 8',
    ]);
    const cl = sendsOf(lines).filter((x) => x.tag === 'MSTCL');
    expect(cl.map((x) => `${x.now} ${x.port} ${argOf(x)}`)).toEqual(P.map((p) => `4000 ${p.port} ${p.id}`));
    expect(logsOf(lines, 'peer.logout').every((l) => l.f['reason'] === 'shutdown')).toBe(true);
  },
};

// 3. contention — group hang time 1 s. A and B (TS2=91) and C (TS2=92) talk toward L (TS2=91,92).
//    - A keys up TG 91 at 1000, B keys up TG 91 at 1130 while A is still talking: A wins. L hears A
//      only while A's stream is live; B (itself a member of TG 91) hears A's first three packets,
//      sent before it keyed up, then nothing while it transmits.
//    - Once A's terminator has gone out (1420) the slot is free and the rest of B's still-running
//      stream reaches L and A (from 1430 on, without a voice header: a late entry).
//    - C's call on TG 92 at 1600 falls inside L's hang time for TG 91 (last frame to L at 1550): held
//      off completely. C's next call at 2600 (more than 1 s after 1550) gets through.
const A3 = peer(1);
const B3 = peer(2);
const L3 = peer(3);
const C3 = peer(4);
const contention: GoldenScenario = {
  name: 'contention',
  check(lines) {
    const frames = dmrdOf(sendsOf(lines));
    const toL = to(frames, L3);
    // A's whole call reaches L; B's packets reach L only after A's terminator (1420).
    expect(toL.filter((f) => streamOf(f) === 0xa1).map(seqOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const bAtL = toL.filter((f) => streamOf(f) === 0xb1);
    expect(bAtL.every((f) => f.now > 1420)).toBe(true);
    expect(bAtL.map((f) => `${f.now}:${seqOf(f)}`)).toEqual(['1430:5', '1490:6', '1550:7']);
    // B hears A only until it keys up itself (1130); A hears the late part of B's stream.
    expect(to(frames, B3).map((f) => `${f.now}:${streamOf(f)}:${seqOf(f)}`)).toEqual([`1000:${0xa1}:0`, `1060:${0xa1}:1`, `1120:${0xa1}:2`]);
    expect(to(frames, A3).map((f) => `${f.now}:${streamOf(f)}:${seqOf(f)}`)).toEqual([`1430:${0xb1}:5`, `1490:${0xb1}:6`, `1550:${0xb1}:7`]);
    // No frame of C's first call reaches L; C's second call reaches L completely.
    expect(toL.filter((f) => streamOf(f) === 0xc1)).toEqual([]);
    expect(frames.filter((f) => f.now >= 1600 && f.now < 2600)).toEqual([]);
    expect(toL.filter((f) => streamOf(f) === 0xc2).map(seqOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  },
};

// 4. hangtime — group hang time 1 s. X (TS2=100) and Y (TS2=200) talk toward L (TS2=100,200).
//    - X's call on TG 100 reaches L; its last frame (the terminator) goes out at 1420.
//    - Y's call on TG 200 at 1500..1920 is inside L's hang time: nothing reaches L.
//    - Y's call on TG 200 from 2300 straddles the end of the hang time: the packets at 2300 and 2360
//      are held, from 2420 (= 1420 + 1000) on they reach L.
const X4 = peer(1);
const Y4 = peer(2);
const L4 = peer(3);
const hangtime: GoldenScenario = {
  name: 'hangtime',
  check(lines) {
    const toL = to(dmrdOf(sendsOf(lines)), L4);
    expect(toL.filter((f) => streamOf(f) === 0x100).map((f) => f.now)).toEqual([1000, 1060, 1120, 1180, 1240, 1300, 1360, 1420]);
    // Nothing to L during the hang time 1420..2420.
    expect(toL.filter((f) => f.now > 1420 && f.now < 2420)).toEqual([]);
    expect(toL.filter((f) => streamOf(f) === 0x202).map((f) => `${f.now}:${seqOf(f)}`)).toEqual([
      '2420:2',
      '2480:3',
      '2540:4',
      '2600:5',
      '2660:6',
      '2720:7',
    ]);
    expect(logsOf(lines, 'call.end').map((l) => `${l.f['stream']} ${l.f['reason']}`)).toEqual([`${0x100} terminator`, `${0x201} terminator`, `${0x202} terminator`]);
  },
};

// 5. timeouts — stream timeout 1 s, ping interval 1 s × 3 missed pings, login timeout 1 s.
//    - A's call (TS2 TG 91, heard by L) loses its terminator: last packet at 1360, ended by the
//      stream timeout at 2360 (call.end reason=timeout, packets=7).
//    - L never pings: its last packet was its RPTO at 230, so it is dropped at 230 + 3 × 1000 = 3230
//      with MSTCL and peer.logout reason=timeout. A keeps pinging and stays.
//    - After L is gone, A's next call reaches nobody, and L's ping is answered with MSTNAK.
//    - C's challenge (RPTL at 400) is not answered in time; its RPTK at 1600 finds no challenge
//      (MSTNAK).
const A5 = peer(1);
const L5 = peer(2);
const C5 = peer(3);
const timeouts: GoldenScenario = {
  name: 'timeouts',
  check(lines) {
    const sends = sendsOf(lines);
    const ends = logsOf(lines, 'call.end');
    expect(ends.map((l) => `${l.now} ${l.f['stream']} ${l.f['reason']} ${l.f['packets']} ${l.f['durationMs']}`)).toEqual([
      `2360 ${0x5a1} timeout 7 360`,
      `3920 ${0x5a2} terminator 8 420`,
    ]);
    // L heard the first call (7 packets, no terminator) and nothing of the second.
    expect(dmrdOf(to(sends, L5)).map((f) => streamOf(f))).toEqual(Array(7).fill(0x5a1));
    expect(dmrdOf(sends).filter((f) => streamOf(f) === 0x5a2)).toEqual([]);
    // L's MSTCL at 3230, then MSTNAK for its late ping.
    expect(to(sends, L5).filter((x) => x.tag !== 'DMRD').map((x) => `${x.now} ${x.tag}`)).toEqual([
      '200 RPTACK',
      '210 RPTACK',
      '220 RPTACK',
      '230 RPTACK',
      '3230 MSTCL',
      '4010 MSTNAK',
    ]);
    expect(logsOf(lines, 'peer.logout').map((l) => `${l.now} ${l.f['peer']} ${l.f['reason']}`)).toEqual([
      `3230 ${L5.id} timeout`,
      `4500 ${A5.id} shutdown`,
    ]);
    expect(to(sends, A5).filter((x) => x.tag === 'MSTPONG').map((x) => x.now)).toEqual([2000, 3000, 4000]);
    // C: salt at 400, MSTNAK for the late answer.
    expect(to(sends, C5).map((x) => `${x.now} ${x.tag}`)).toEqual(['400 RPTACK', '1600 MSTNAK']);
  },
};

// 6. duplicates — group hang time 1 s, stream timeout 1 s. A (TS2=91) talks to L (TS2=91) with a
//    damaged sequence: 0, 1, 2, 2 (duplicate), 1 (stale), 5 (3 and 4 lost), 6, 7 (terminator), then
//    the terminator again and a packet 8 after the end. L gets exactly 0 1 2 5 6 7; call.end counts
//    packets=6 lost=2.
const A6 = peer(1);
const L6 = peer(2);
const duplicates: GoldenScenario = {
  name: 'duplicates',
  check(lines) {
    const toL = dmrdOf(to(sendsOf(lines), L6));
    expect(toL.map((x) => `${x.now}:${seqOf(x)}`)).toEqual(['1000:0', '1060:1', '1120:2', '1300:5', '1360:6', '1420:7']);
    // Nothing for the duplicate (1180), the stale packet (1240) or anything after the terminator.
    expect(lines.filter((l) => /^@(1180|1240|1480|1540) /.test(l))).toEqual([]);
    expect(logsOf(lines, 'call.end').map((l) => `${l.now} ${l.f['reason']} ${l.f['packets']} ${l.f['lost']}`)).toEqual(['1420 terminator 6 2']);
  },
};

// 7. echo — default timers. A calls TG 9990 on TS2 (8 packets, 1000..1420): nothing is routed
//    (L also listens on TS2, to TG 91); 2 s after the terminator, at 3420, A alone hears the call
//    back, one frame every 60 ms, with a new stream ID, the same talker and TG 9990. Then B makes a
//    private call to 9990 on TS1 and hears it back as a group call on TG 9.
const A7 = peer(1);
const B7 = peer(2);
const L7 = peer(3);
const echo: GoldenScenario = {
  name: 'echo',
  check(lines) {
    const sends = dmrdOf(sendsOf(lines));
    expect(to(sends, L7)).toEqual([]);
    const toA = to(sends, A7);
    expect(toA.map((f) => f.now)).toEqual([3420, 3480, 3540, 3600, 3660, 3720, 3780, 3840]);
    expect(new Set(toA.map(streamOf)).size).toBe(1);
    expect(streamOf(toA[0]!)).not.toBe(0x9990);
    expect(toA.map(seqOf)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const f of toA) {
      expect(readU32(f.bytes, 5) >>> 8).toBe(2347001); // src [5:8)
      expect(readU32(f.bytes, 8) >>> 8).toBe(9990); // dst [8:11)
      expect(slotBit(f)).toBe(0x80);
    }
    const toB = to(sends, B7);
    expect(toB.map((f) => f.now)).toEqual([7420, 7480, 7540, 7600, 7660, 7720, 7780, 7840]);
    for (const f of toB) {
      expect(readU32(f.bytes, 8) >>> 8).toBe(9);
      expect(f.bytes[15]! & 0xc0).toBe(0); // TS1, group call
    }
    expect(logsOf(lines, 'echo.recorded').map((l) => l.f['peer'])).toEqual([String(A7.id), String(B7.id)]);
  },
};

// 8. prompts — a small en_GB pack (the words used, from the synthetic pack) is loaded at 50.
//    A dials 2350 from TS1 (private call, 1000..1060): one second after the terminator, at 2060, A
//    alone hears on TS2 TG 9, from 5000, "linked to 2 3 5 0": 3 voice headers, the voice bursts
//    (whole superframes), a terminator, 60 ms apart. A dials 4000 at 9000: "not linked" at 10060.
//    L, listening on TS2 TG 2350, hears no prompt.
const A8 = peer(1);
const L8 = peer(2);
const promptPack = (): PromptPackData => {
  const r = loadPromptPack(syntheticPromptDir(), 'en_GB');
  if (!r.ok) throw new Error(r.error);
  const keep = ['silence', 'linked-to', 'not-linked', 'busy', '0', '2', '3', '5'];
  return { lang: 'en_GB', words: Object.fromEntries(keep.map((w) => [w, r.pack.words.get(w)!])), ondemand: { '9992': r.pack.ondemand.get('9992')! } };
};
const promptBursts = (p: PromptPackData, words: string[]): number => Math.ceil(concatPrompt(words.map((w) => p.words[w]!)).length / 27 / 6) * 6;
const prompts: GoldenScenario = {
  name: 'prompts',
  check(lines) {
    const sends = dmrdOf(sendsOf(lines));
    expect(to(sends, L8)).toEqual([]);
    const toA = to(sends, A8);
    const pack = promptPack();
    const linked = 3 + promptBursts(pack, ['silence', 'linked-to', '2', '3', '5', '0']) + 1;
    const unlinked = 3 + promptBursts(pack, ['silence', 'not-linked']) + 1;
    const info = 3 + Math.ceil(concatPrompt([pack.words['silence']!, pack.ondemand['9992']!]).length / 27 / 6) * 6 + 1;
    expect(toA).toHaveLength(linked + unlinked + info);
    // The information service (private call 9992 at 16000): the clip, from 17060.
    expect(toA[linked + unlinked]!.now).toBe(17_060);
    expect(toA[0]!.now).toBe(2060);
    expect(toA[linked]!.now).toBe(10_060);
    toA.slice(0, linked + unlinked).forEach((f, i) => {
      expect(f.now - toA[i < linked ? 0 : linked]!.now).toBe(60 * (i < linked ? i : i - linked));
      expect(readU32(f.bytes, 5) >>> 8).toBe(5000);
      expect(readU32(f.bytes, 8) >>> 8).toBe(9);
      expect(slotBit(f)).toBe(0x80);
    });
    expect(new Set(toA.slice(0, linked).map(streamOf)).size).toBe(1);
  },
};

// 9. activation — user activation and single mode (both on by default), timer 5 s, hang time 1 s.
//    A listens on TS2 TG 91; B has no talkgroups; C listens on TS2 TG 3100.
//    - 1000: B keys TG 3100: its TS2 joins 3100 (subscription added, source user) and C hears it;
//    - 3000: C talks on 3100: B hears it through the activation;
//    - 6000: B keys TG 91 (single mode): it joins 91 and its 3100 activation is dropped; A hears it;
//    - 8000: C talks on 3100 again: B no longer hears it;
//    - B's 91 activation lapses 5 s after its last call (6420 + 5000): subscription expired.
const A9 = peer(1);
const B9 = peer(2);
const C9 = peer(3);
const reportsOf = (lines: readonly string[]): { now: number; r: Record<string, unknown> }[] =>
  lines.flatMap((l) => {
    const m = /^@(\d+) report (.*)$/.exec(l);
    return m ? [{ now: Number(m[1]), r: JSON.parse(m[2]!) as Record<string, unknown> }] : [];
  });
const activation: GoldenScenario = {
  name: 'activation',
  check(lines) {
    const sends = dmrdOf(sendsOf(lines));
    expect(to(sends, C9).filter((f) => streamOf(f) === 0x3101)).toHaveLength(8);
    expect(to(sends, B9).filter((f) => streamOf(f) === 0x3102)).toHaveLength(8);
    expect(to(sends, A9).filter((f) => streamOf(f) === 0x9101)).toHaveLength(8);
    expect(to(sends, B9).filter((f) => streamOf(f) === 0x3103)).toEqual([]);
    const subs = reportsOf(lines)
      .filter((x) => x.r['report'] === 'subscription' && x.r['peer'] === B9.id)
      .map((x) => `${x.now} ${String(x.r['change'])} ${String(x.r['tg'])} ${String(x.r['source'])}`);
    expect(subs).toEqual(['1000 added 3100 user', '6000 added 91 user', '6000 removed 3100 user', '11420 expired 91 user']);
  },
};

// 10. dial — A dials 2350 from TS1 at 1000: its TS2 TG 9 lane joins conference 2350.
//    - 3000: B talks on TG 2350: A hears it on TS2 as TG 9, with the voice header's and terminator's
//      full LC and the bursts' embedded LC rewritten to 9 (decoded here); C (TS2=2350) hears 2350;
//    - 6000: A talks on TG 9: B and C hear TG 2350, link control rewritten to 2350;
//    - 9000: A dials 4000 (unlink); 11000: B talks on 2350 again and A hears nothing.
const A10 = peer(1);
const B10 = peer(2);
const C10 = peer(3);
const lcTargets = (frames: SendLine[]): { full: (number | null)[]; embedded: number | null } => lcDestinations(frames.map((f) => f.bytes));
const dialGolden: GoldenScenario = {
  name: 'dial',
  check(lines) {
    const sends = dmrdOf(sendsOf(lines));
    const toA = to(sends, A10).filter((f) => streamOf(f) === 0x2351);
    expect(toA).toHaveLength(8);
    for (const f of toA) expect([readU32(f.bytes, 8) >>> 8, slotBit(f)]).toEqual([9, 0x80]);
    expect(lcTargets(toA)).toEqual({ full: [9, 9], embedded: 9 });
    expect(to(sends, C10).filter((f) => streamOf(f) === 0x2351).map((f) => readU32(f.bytes, 8) >>> 8)).toEqual(Array(8).fill(2350));
    for (const p of [B10, C10]) {
      const back = to(sends, p).filter((f) => streamOf(f) === 0x0901);
      expect(back.map((f) => readU32(f.bytes, 8) >>> 8)).toEqual(Array(8).fill(2350));
      expect(lcTargets(back)).toEqual({ full: [2350, 2350], embedded: 2350 });
    }
    expect(to(sends, A10).filter((f) => streamOf(f) === 0x2352)).toEqual([]);
  },
};

// 11. unit — B's subscriber 2340202 talks on TS1 at 1000 (heard there). A sends it unit data (a
//    data header and two blocks) at 7000: only B gets them, on TS1, still addressed to 2340202.
//    At 9000 A talks on TG 91 (B on TS1, C on TS2 listen) and sends its talker alias during the
//    call: B and C each get one DMRA with their own peer ID. With private calls on, C's private
//    voice call to 2340202 at 11000 reaches B alone, on TS1.
const A11 = peer(1);
const B11 = peer(2);
const C11 = peer(3);
const unitGolden: GoldenScenario = {
  name: 'unit',
  check(lines) {
    const all = sendsOf(lines);
    const data = dmrdOf(all).filter((f) => streamOf(f) === 0xda7a);
    expect(data.map((f) => [f.port, slotBit(f), f.bytes[15]! & 0x40, readU32(f.bytes, 8) >>> 8])).toEqual(Array(3).fill([B11.port, 0, 0x40, 2340202]));
    const aliases = all.filter((f) => f.tag === 'DMRA' || String.fromCharCode(...f.bytes.subarray(0, 4)) === 'DMRA');
    expect(aliases.map((f) => [f.port, readU32(f.bytes, 4)]).sort()).toEqual([[B11.port, B11.id], [C11.port, C11.id]].sort());
    const priv = dmrdOf(all).filter((f) => streamOf(f) === 0x0c02);
    expect(priv.map((f) => [f.port, slotBit(f), f.bytes[15]! & 0x40, readU32(f.bytes, 8) >>> 8])).toEqual(Array(8).fill([B11.port, 0, 0x40, 2340202]));
  },
};

// 12. links — an OpenBridge link to a FreeDMR server (its ID 9990, ours 9991, key "passw0rd", as in
//    the captures), with TG 2351 made local on top of the defaults. Only A's TG 2350 call crosses;
//    FreeDMR's captured call on TG 23001 reaches B (TS1) and C (its TG 9 dial lane); the same frame
//    on local TG 70, with a bad MAC or from another port reaches nobody.
const FREEDMR = { socket: 1, address: '127.0.0.1', port: 62044 };
const FREEDMR_CALL = readPcapUdp(capture('freedmr-openbridge-obp1.pcap'))
  .map((r) => r.payload)
  .filter((f) => readU32(f, 16) === 146707360);
const OBP_KEY = obpKey(SCENARIO_PASSPHRASE);

const linksGolden: GoldenScenario = {
  name: 'links',
  check(lines) {
    const all = dmrdOf(sendsOf(lines));
    const link = all.filter((f) => f.socket === FREEDMR.socket);
    // Only A's TG 2350 call crosses: 8 frames, TS1, our ID, signed.
    expect(link.map((f) => [streamOf(f), readU32(f.bytes, 8) >>> 8, slotBit(f), readU32(f.bytes, 11), f.bytes.length])).toEqual(Array(8).fill([0x2350, 2350, 0, 9991, 73]));
    for (const f of link) expect(verifyObp(f.bytes, OBP_KEY, hmacSha1)).toBe(true);
    // The local calls were heard here (B on TG 70, nobody else is on 2351).
    expect(to(all, B11).filter((f) => streamOf(f) === 0x0070)).toHaveLength(8);
    // FreeDMR's call: to B on TS1 as TG 23001, to C on TS2 as TG 9, every frame, nothing back out.
    const fd = all.filter((f) => streamOf(f) === 146707360);
    expect(to(fd, B11).map((f) => [readU32(f.bytes, 8) >>> 8, slotBit(f)])).toEqual(Array(FREEDMR_CALL.length).fill([23001, 0]));
    expect(to(fd, C11).map((f) => [readU32(f.bytes, 8) >>> 8, slotBit(f)])).toEqual(Array(FREEDMR_CALL.length).fill([9, 0x80]));
    expect(fd.filter((f) => f.socket !== 0)).toEqual([]);
    // The refused frames reached nobody.
    expect(all.filter((f) => [0x7070, 0x7071, 0x7072].includes(streamOf(f)))).toEqual([]);
  },
};

// 13. uplink — this server logs in to a master (192.0.2.50:62031) as peer 234000199 with options
//    TS2=91;TS1=2350: RPTL at 0, RPTK at 110 (a salt from another port at 100 is ignored), RPTC at
//    120, RPTO at 130, up at 140. A's TG 91 call reaches the master on TS2 with our peer ID; the
//    master's TG 2350 call on TS1 reaches B on TS2 and never goes back; its private call and its
//    TG 2350 call on TS2 reach nobody. RPTPING at 5140 (with the options once more) and 10140.
//    MSTCL at 12000 takes it down,
//    the next RPTL follows within the first backoff (0.5–1 s), and the login completes again; at
//    shutdown it sends RPTCL.
const MASTER = { socket: 1, address: '192.0.2.50', port: 62031 };
const UPLINK_ID = 234000199;
const B13 = peer(2);
const uplinkGolden: GoldenScenario = {
  name: 'uplink',
  check(lines) {
    const all = sendsOf(lines);
    const master = all.filter((f) => f.socket === MASTER.socket);
    expect(master.every((f) => f.address === MASTER.address && f.port === MASTER.port)).toBe(true);
    const control = master.filter((f) => f.tag !== 'DMRD').map((f) => `${f.now} ${String.fromCharCode(...f.bytes.subarray(0, 4))}`);
    expect(control.slice(0, 4)).toEqual(['0 RPTL', '110 RPTK', '120 RPTC', '130 RPTO']);
    expect(control.filter((c) => c.endsWith('RPTP'))).toEqual(['5140 RPTP', '10140 RPTP']);
    // The options go again with the first ping after a login (an RPTACK names no message).
    expect(control.slice(4, 7)).toEqual(['5140 RPTP', '5140 RPTO', '10140 RPTP']);
    const relogin = control.slice(7);
    expect(relogin.map((c) => c.split(' ')[1])).toEqual(['RPTL', 'RPTK', 'RPTC', 'RPTO', 'RPTC']); // the last: RPTCL at shutdown
    const again = Number(relogin[0]!.split(' ')[0]);
    expect(again).toBeGreaterThanOrEqual(12500);
    expect(again).toBeLessThanOrEqual(13000);
    const out = dmrdOf(master);
    expect(out.map((f) => [streamOf(f), readU32(f.bytes, 11), slotBit(f), readU32(f.bytes, 8) >>> 8])).toEqual(Array(8).fill([37121, UPLINK_ID, 0x80, 91]));
    const dmrd = dmrdOf(all);
    expect(to(dmrd, B13).filter((f) => streamOf(f) === 1234).map((f) => [slotBit(f), readU32(f.bytes, 8) >>> 8])).toEqual(Array(8).fill([0x80, 2350]));
    expect(dmrd.filter((f) => [1235, 1236].includes(streamOf(f)))).toEqual([]);
    expect(logsOf(lines, 'uplink.up').map((l) => l.now)).toEqual([140, 14030]);
    expect(logsOf(lines, 'uplink.down').map((l) => [l.now, l.f['reason']])).toEqual([[12000, 'closed'], [16000, 'shutdown']]);
    expect(logsOf(lines, 'call.start').filter((l) => l.f['stream'] === '1234').map((l) => l.f['detail'])).toEqual(['uplink home']);
  },
};

// 14. fbp — two FBP links: freedmr (FreeDMR, ID 9990, key "passw0rd", as in the capture) and mesh
//    (ID 3102), ours 9991, the wall clock at the capture's time. FreeDMR's captured DMRE call on
//    TG 23001 reaches B and goes on to mesh with hop 2; A's TG 2350 calls leave on both links as
//    DMRE v5 hop 1 from 9991; a BCSQ from mesh at 8200 stops stream 9041 there until it lapses
//    (10200); four refused calls from mesh and a loop are each answered with exactly one BCSQ; a
//    frame with a bad MAC with none.
const FBP = { freedmr: 1, mesh: 2 } as const;
const A14 = peer(1);
const B14 = peer(2);
const FBP_KEYS = fbpKeys(SCENARIO_PASSPHRASE);
const tag4 = (s: SendLine): string => String.fromCharCode(...s.bytes.subarray(0, 4));
const fbpGolden: GoldenScenario = {
  name: 'fbp',
  check(lines) {
    const all = sendsOf(lines);
    const on = (socket: number, tag: string): SendLine[] => all.filter((f) => f.socket === socket && tag4(f) === tag);
    // Every frame on either link is FBP and verifies with the link key; nothing plain OpenBridge.
    for (const f of all.filter((x) => x.socket !== 0)) expect(verifyFbp(f.bytes, FBP_KEYS), `${f.now} ${tag4(f)}`).toBe(true);
    expect(all.filter((f) => f.socket !== 0 && tag4(f) === 'DMRD')).toEqual([]);
    // Keepalives at 0 and 10000, the version once at the start, on both links.
    for (const socket of [FBP.freedmr, FBP.mesh]) {
      expect(on(socket, 'BCKA').map((f) => f.now)).toEqual([0, 10000]);
      expect(on(socket, 'BCVE').map((f) => [f.now, f.bytes[4]])).toEqual([[0, 5]]);
    }
    // FreeDMR's call: every frame to B, on to mesh with hop 2 from FreeDMR, nothing back to freedmr.
    const FD_STREAM = 2318846884;
    const fd = all.filter((f) => tag4(f) !== 'BCSQ' && f.bytes.length >= 20 && readU32(f.bytes, 16) === FD_STREAM);
    expect(to(dmrdOf(fd), B14)).toHaveLength(60);
    const transit = fd.filter((f) => f.socket === FBP.mesh);
    expect(transit.map((f) => [f.bytes.length, dmreHops(f.bytes), dmreSourceServer(f.bytes), readU32(f.bytes, 11)])).toEqual(Array(60).fill([89, 2, 9990, 9991]));
    expect(fd.filter((f) => f.socket === FBP.freedmr)).toEqual([]);
    // A's first call on both links, hop 1 from this server and A; the second stops on mesh after
    // the BCSQ (frames 0-3, then the terminator after the lapse), all 38 frames to freedmr.
    const dmre = (socket: number, stream: number): SendLine[] => on(socket, 'DMRE').filter((f) => readU32(f.bytes, 16) === stream);
    for (const socket of [FBP.freedmr, FBP.mesh])
      expect(dmre(socket, 9040).map((f) => [dmreHops(f.bytes), dmreSourceServer(f.bytes), dmreSourceRepeater(f.bytes), f.bytes[15]! & 0x80])).toEqual(Array(8).fill([1, 9991, A14.id, 0]));
    expect(dmre(FBP.freedmr, 9041)).toHaveLength(38);
    expect(dmre(FBP.mesh, 9041).map((f) => `${f.now} #${f.bytes[4]}`)).toEqual(['8000 #0', '8060 #1', '8120 #2', '8180 #3', '10220 #37']);
    // One BCSQ per refused stream (each sent three frames), naming its talkgroup; none for the bad MAC.
    expect(on(FBP.mesh, 'BCSQ').map((f) => `${f.now} ${readU32(f.bytes, 4) >>> 8} ${readU32(f.bytes, 7)}`)).toEqual([
      '12000 70 7070',
      '12500 23001 7071',
      '13000 23001 7072',
      '13500 23001 7073',
      `14000 23001 ${FD_STREAM}`,
    ]);
    expect(on(FBP.freedmr, 'BCSQ')).toEqual([]);
    expect(logsOf(lines, 'link.dropped').map((l) => l.f['reason'])).toEqual(['obp.local-talkgroup', 'fbp.too-many-hops', 'fbp.own-call', 'fbp.stale', 'obp.bad-mac']);
    // The refused calls reached nobody here.
    expect(dmrdOf(all).filter((f) => [7070, 7071, 7072, 7073, 7074].includes(streamOf(f)))).toEqual([]);
  },
};

// 15. operator — console commands are core events: disconnect, block (and its end), options,
//     dial-drop, and refusals that change nothing; the console's state report on its timer.
const operatorGolden: GoldenScenario = {
  name: 'operator',
  check(lines) {
    const reports = reportsOf(lines);
    const results = reports.filter((x) => x.r['report'] === 'command-result').map((x) => `${x.r['id']} ${x.r['ok']} ${x.r['code']}`);
    expect(results).toEqual(['1 true ', '2 true ', '3 true ', '4 true ', '5 false unknown_peer', '6 false bad_request', '7 false bad_request']);
    const sends = sendsOf(lines);
    expect(sends.filter((x) => x.tag === 'MSTCL' && x.now < 31000).map((x) => `${x.now} ${readU32(x.bytes, 5)}`)).toEqual(['2000 2340001', '3000 2340002']);
    expect(logsOf(lines, 'peer.logout').filter((l) => l.f['reason'] === 'operator').map((l) => l.f['peer'])).toEqual(['2340001', '2340002']);
    // B's login during the block is refused (no challenge; the MSTNAK is longer than the RPTL, so
    // it is withheld as for any unauthenticated sender); after the block, B logs in.
    expect(logsOf(lines, 'login.refused').map((l) => `${l.now} ${l.f['peer']} ${l.f['reason']}`)).toEqual(['4000 2340002 blocked']);
    expect(sends.filter((x) => x.now >= 4000 && x.now < 5000)).toEqual([]);
    expect(logsOf(lines, 'peer.login').filter((l) => l.f['peer'] === '2340002').map((l) => l.now)).toEqual([220, 64020]);
    // The options put C on TS1 TG 1; the dial-drop took reflector 2350 off its TS2 lane.
    const subs = reports.filter((x) => x.r['report'] === 'subscription' && x.r['peer'] === 2340003 && x.now >= 5500).map((x) => `${x.now} ${x.r['change']} ${x.r['slot']}/${x.r['tg']}->${x.r['conference']}`);
    expect(subs).toContain('5500 added 1/1->1');
    expect(subs).toContain('6000 removed 2/9->2350');
    // The state report every 5 s: peers and counters, the last one before the shutdown.
    const states = reports.filter((x) => x.r['report'] === 'state');
    expect(states.map((x) => x.now)).toEqual(Array.from({ length: 13 }, (_, i) => 5000 * (i + 1)));
    const at5000 = states[0]!.r as { peers: { peer: number }[]; counters: [string, number][] };
    expect(at5000.peers.map((p) => p.peer)).toEqual([2340003]);
    expect(Object.fromEntries(at5000.counters)['operator.block']).toBe(1);
  },
};

const SCENARIOS: readonly GoldenScenario[] = [login, routing, contention, hangtime, timeouts, duplicates, echo, prompts, activation, dialGolden, unitGolden, linksGolden, uplinkGolden, fbpGolden, operatorGolden];

// ── the golden scripts ─────────────────────────────────────────────────────────────────────────

function replay(log: string): ReplayResult {
  return replayLog(log, { sha256, digestText: textDigest }, (redacted) =>
    redacted === secretDigest(SCENARIO_PASSPHRASE) ? SCENARIO_PASSPHRASE : null,
  );
}

it('every script in testdata has its direct assertions here, and every scenario here its script', () => {
  const scripts = readdirSync(TESTDATA).filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -4)).sort();
  expect(scripts).toEqual(SCENARIOS.map((s) => s.name).sort());
});

for (const sc of SCENARIOS) {
  describe(`golden: ${sc.name}`, () => {
    const path = resolve(TESTDATA, `${sc.name}.txt`);
    let file: string;
    let run: ScriptRun;

    beforeAll(() => {
      file = readFileSync(path, 'utf8');
      run = runScript(file, { root: ROOT, file: `test/replay/testdata/${sc.name}.txt` });
      if (UPDATE && run.text !== file) writeFileSync(path, (file = run.text));
    });

    it('the file shows what its script does (else regenerate with UPDATE_GOLDEN=1)', () => {
      expect(run.text).toBe(file);
    });

    it('the recorded events replay to the same actions and digest', () => {
      const r = replay(run.built.log);
      expect(r.errors).toEqual([]);
      expect(r.header?.format).toBe('dmrhub-events');
      expect(r.lines).toEqual(run.built.liveLines);
      expect(r.digest).toBe(run.digest);
    });

    it('the script records the same event log every time', () => {
      expect(runScript(file, { root: ROOT }).built.log).toBe(run.built.log);
    });

    it('the actions show what the scenario claims', () => {
      sc.check(replay(run.built.log).lines);
    });

    it('the log carries no passphrase in clear', () => {
      expect(run.built.log).not.toContain(SCENARIO_PASSPHRASE);
    });
  });
}
