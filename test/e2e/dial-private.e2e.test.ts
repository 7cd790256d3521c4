// Dial-a-TG, single mode, private voice and the information service through the real server over
// UDP on 127.0.0.1, from the radios' side: after a private call to 2350, TG 2350 traffic reaches the
// caller as TG 9 with the link control rewritten (decoded here); keying another talkgroup mutes a
// slot's static talkgroup for a while (single mode); with private calls on, a private voice call
// reaches the called subscriber only; a private call to 9992 plays that clip from the prompt pack.
//
// The servers run with short timers (HANG_S, PROMPT_DELAY_S): a wait "past the hang time" is the
// configured hang time plus a margin, not the 5 s default.

import { itPromptPacks } from '../support/fixtures.js';
import { describe, expect, it } from 'vitest';
import { concatPrompt, extractVoiceBits } from '../../src/protocol/dmr/index.js';
import { encodeDmrd, readU24 } from '../../src/protocol/index.js';
import { loadPromptPack } from '../../src/shell/prompts.js';
import { voiceCall } from '../support/harness.js';
import type { HbpClient, Received } from '../support/hbp-client.js';
import { serverFixture } from '../support/server-process.js';
import { lcDestinations, REF_CALLS, refCallPackets } from '../support/voice-frames.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** timers.group_hangtime of these servers (default 5 s), and how long to wait to be past it. */
const HANG_S = 0.5;
const PAST_HANG_MS = HANG_S * 1000 + 500;
/** prompts.delay of these servers (default 1 s). */
const PROMPT_DELAY_S = 0.1;
const dmrd = (d: Received): boolean => String.fromCharCode(...d.bytes.subarray(0, 4)) === 'DMRD';

const fx = serverFixture();

const peers = (config: Record<string, Record<string, unknown>>, list: [number, string][]): Promise<HbpClient[]> =>
  fx.withPeers(
    { config: { sql: { enabled: false }, timers: { group_hangtime: HANG_S }, ...config, prompts: { delay: PROMPT_DELAY_S, ...config['prompts'] } } },
    list,
  );
const send = (from: HbpClient, packets: Uint8Array[], gap = 60): Promise<void> => from.sendPaced(packets, gap);

const privateCall = (c: HbpClient, src: number, n: number, streamId: number, slot: 1 | 2 = 2): Uint8Array[] =>
  [0x21, 0x22].map((frame, seq) => encodeDmrd({ seq, src, dst: n, peerId: c.peerId, slot, frame, unit: true, streamId }));

describe('dial-a-TG, single mode, private voice and the information service over UDP', () => {
  it('a dialled link brings TG 2350 to TS2 TG 9 with the link control rewritten', async () => {
    const [a, b] = await peers({}, [
      [315001, ''],
      [315002, 'TS2=2350;'],
    ]);
    await send(a!, privateCall(a!, 3150001, 2350, 0xd1a10001, 1));
    await sleep(1200);
    const from = a!.mark();
    const ref = REF_CALLS.find((c) => c.tg === 2350)!;
    const call = refCallPackets(ref, { peerId: b!.peerId, slot: 2, streamId: 0x23500003 });
    await send(b!, call);
    await a!.waitFor((_d, i) => i >= from + call.length - 1, 3000, from, 'the linked call');
    const got = a!.received.slice(from).filter(dmrd);
    expect(got.map((d) => [readU24(d.bytes, 8), d.bytes[15]! & 0x80])).toEqual(call.map(() => [9, 0x80]));
    expect(lcDestinations(got.map((d) => d.bytes))).toEqual({ full: [9, 9], embedded: 9 });
  });

  it('single mode: keying another talkgroup mutes the slot’s static talkgroup for a while', async () => {
    const [a, b, c] = await peers({}, [
      [315011, 'TS2=91;'],
      [315012, 'TS2=91;'],
      [315013, 'TS2=91;SINGLE=0;'], // the same, but opted out of single mode
    ]);
    await Promise.all([
      send(a!, voiceCall({ peerId: a!.peerId, src: 3150011, tg: 3100, slot: 2, streamId: 0x31000011 })),
      send(c!, voiceCall({ peerId: c!.peerId, src: 3150013, tg: 3100, slot: 2, streamId: 0x31000013 }), 61),
    ]);
    await sleep(PAST_HANG_MS); // past the hang time
    const [fromA, fromC] = [a!.mark(), c!.mark()];
    const call = voiceCall({ peerId: b!.peerId, src: 3150012, tg: 91, slot: 2, streamId: 0x91000012 });
    await send(b!, call);
    await c!.waitFor((_d, i) => i >= fromC + call.length - 1, 3000, fromC, 'the TG 91 call at the opted-out peer');
    expect(a!.received.slice(fromA).filter(dmrd)).toEqual([]);
  }, 15_000);

  it('private voice (routing.private_calls) reaches the called subscriber, and no one else', async () => {
    const [a, b, c] = await peers({ routing: { private_calls: true } }, [
      [315021, 'TS2=91;'],
      [315022, 'TS2=91;'],
      [315023, 'TS2=91;'],
    ]);
    await send(b!, voiceCall({ peerId: b!.peerId, src: 3150022, tg: 91, slot: 2, streamId: 0x91000022 })); // 3150022 heard at B
    await sleep(PAST_HANG_MS); // past the hang time at B, whose TS2 just carried TG 91
    const [fromB, fromC] = [b!.mark(), c!.mark()];
    const call = voiceCall({ peerId: a!.peerId, src: 3150021, tg: 3150022, slot: 2, streamId: 0x77000021 }).map((p) => {
      p[15] = p[15]! | 0x40;
      return p;
    });
    await send(a!, call);
    await b!.waitFor((_d, i) => i >= fromB + call.length - 1, 3000, fromB, 'the private call');
    expect(b!.received.slice(fromB).filter(dmrd).map((d) => [readU24(d.bytes, 8), d.bytes[15]! & 0x40])).toEqual(call.map(() => [3150022, 0x40]));
    await sleep(200);
    expect(c!.received.slice(fromC).filter(dmrd)).toEqual([]);
  }, 15_000);

  itPromptPacks('a private call to 9992 plays that information clip from the pack', async (PROMPTS) => {
    const [a] = await peers({ prompts: { directory: PROMPTS } }, [[315031, '']]);
    await fx.server!.waitForLog((l) => l['code'] === 'prompts.loaded', 5000, 'the prompt packs');
    const from = a!.mark();
    await send(a!, privateCall(a!, 3150031, 9992, 0x99920031));
    const r = loadPromptPack(PROMPTS, 'en_GB');
    if (!r.ok) throw new Error(r.error);
    const voice = concatPrompt([r.pack.words.get('silence')!, r.pack.ondemand.get('9992')!]);
    const frames = 3 + Math.ceil(voice.length / 27 / 6) * 6 + 1;
    await a!.waitFor((_d, i) => i >= from + frames - 1, 15_000, from, 'the whole clip');
    const got = a!.received.slice(from).filter(dmrd);
    const heard = new Uint8Array(got.length * 27);
    let n = 0;
    for (const d of got) if ((d.bytes[15]! & 0x30) !== 0x20) heard.set(extractVoiceBits(d.bytes, 20), 27 * n++);
    expect(heard.subarray(0, voice.length)).toEqual(voice);
    expect(new Set(got.map((d) => readU24(d.bytes, 5)))).toEqual(new Set([5000]));
  }, 20_000);
});
