// Echo, talker alias and voice prompts through the real server over UDP on 127.0.0.1, from the
// radios' side: a call to 9990 comes back to the caller alone echo.delay after it ends, paced at
// the DMR rate, with a new stream ID; a talker alias sent during a call reaches the peer hearing that
// call; with a prompt pack (the synthetic one, and the real packs of ../shared/vectors/prompts when
// they are there), a dial is answered "linked to …" with exactly the pack's voice, and a recorded
// run replays to the same bytes.
//
// The servers run with short delays (ECHO_DELAY_S instead of the 2 s default, PROMPT_DELAY_S
// instead of 1 s), so the tests do not sit through the operator defaults.

import { describe, expect, it } from 'vitest';
import { itPromptPacks } from '../support/fixtures.js';
import { concatPrompt, extractVoiceBits } from '../../src/protocol/dmr/index.js';
import { encodeDmrd, readU24, readU32 } from '../../src/protocol/index.js';
import { loadPromptPack } from '../../src/shell/prompts.js';
import { voiceCall } from '../support/harness.js';
import type { HbpClient } from '../support/hbp-client.js';
import { runCli, serverFixture } from '../support/server-process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tag = (b: Uint8Array): string => String.fromCharCode(...b.subarray(0, 4));
/** echo.delay and prompts.delay of these servers. */
const ECHO_DELAY_S = 0.5;
const PROMPT_DELAY_S = 0.1;
/** The default echo.delay: an echo that comes sooner shows that ECHO_DELAY_S is in force. */
const DEFAULT_ECHO_DELAY_MS = 2000;

const fx = serverFixture();

async function peers(...ids: number[]): Promise<HbpClient[]> {
  return peersWith({}, ...ids);
}

function peersWith(extra: Record<string, Record<string, unknown>>, ...ids: number[]): Promise<HbpClient[]> {
  const config = { sql: { enabled: false }, echo: { delay: ECHO_DELAY_S }, ...extra, prompts: { delay: PROMPT_DELAY_S, ...extra['prompts'] } };
  return fx.withPeers({ config, record: true }, ids.map((id): [number, string] => [id, 'TS2=91;']));
}

describe('echo and talker alias over UDP', () => {
  it('plays a TG 9990 call back to the caller only, echo.delay after its end, 60 ms apart, new stream ID', async () => {
    const [a, b] = await peers(313001, 313002);
    const call = voiceCall({ peerId: a!.peerId, src: 3130001, tg: 9990, slot: 2, streamId: 0x99900001, superframes: 2 });
    const fromA = a!.mark();
    const fromB = b!.mark();
    await a!.sendPaced(call);
    const endedAt = performance.now();
    await a!.waitFor((d, i) => i >= fromA + call.length - 1 && tag(d.bytes) === 'DMRD', 6000, fromA, 'the whole echo');
    const back = a!.received.slice(fromA).filter((d) => tag(d.bytes) === 'DMRD');
    expect(back).toHaveLength(call.length);
    // endedAt is one frame (60 ms) after the terminator went out, hence the 200 ms allowance.
    expect(back[0]!.at - endedAt).toBeGreaterThan(ECHO_DELAY_S * 1000 - 200);
    expect(back[0]!.at - endedAt).toBeLessThan(DEFAULT_ECHO_DELAY_MS - 200);
    const span = back.at(-1)!.at - back[0]!.at;
    expect(span).toBeGreaterThan((call.length - 1) * 60 * 0.8);
    expect(span).toBeLessThan((call.length - 1) * 60 * 1.5);
    expect(new Set(back.map((d) => readU32(d.bytes, 16))).size).toBe(1);
    expect(readU32(back[0]!.bytes, 16)).not.toBe(0x99900001);
    back.forEach((d, i) => {
      expect(readU24(d.bytes, 8)).toBe(9990);
      expect(readU32(d.bytes, 11)).toBe(a!.peerId);
      expect(d.bytes.subarray(20, 53)).toEqual(call[i]!.subarray(20, 53));
    });
    await sleep(200);
    expect(b!.received.slice(fromB).filter((d) => tag(d.bytes) === 'DMRD')).toEqual([]);
  });

  it('forwards a talker alias to the peer hearing the call, with that peer’s ID', async () => {
    // Talker alias is off by default; on, it goes only to peers known to accept DMRA (here by the
    // RPTC software ID the test client sends).
    const [a, b, c] = await peersWith({ routing: { talker_alias: true, talker_alias_software: ['dmrhub-e2e'] } }, 313011, 313012, 313013);
    const call = voiceCall({ peerId: a!.peerId, src: 3130011, tg: 91, slot: 2, streamId: 0x91000011 });
    const fromB = b!.mark();
    a!.send(call[0]!);
    await b!.waitFor((d) => tag(d.bytes) === 'DMRD', 2000, fromB, 'the call');
    const alias = new Uint8Array(15);
    alias.set([0x44, 0x4d, 0x52, 0x41]);
    new DataView(alias.buffer).setUint32(4, a!.peerId);
    alias.set([0x2f, 0xc2, 0x9b], 8); // 3130011
    alias.set([0, 0x47, 0x34, 0x58], 11); // block 0, "G4X" (DMRGateway cuts the message at 15 bytes)
    a!.send(alias);
    const got = await b!.waitFor((d) => tag(d.bytes) === 'DMRA', 2000, fromB, 'the talker alias');
    expect(readU32(got.bytes, 4)).toBe(b!.peerId);
    expect(got.bytes.subarray(8)).toEqual(alias.subarray(8));
    await c!.waitFor((d) => tag(d.bytes) === 'DMRA', 2000, 0, 'the talker alias at the other listener');
    await a!.sendPaced(call.slice(1), 20);
  });

  itPromptPacks('answers a dial with the voice prompt "linked to 2 3 5 0" from the pack, and the run replays exactly', async (dir) => {
    const [a] = await peersWith({ prompts: { directory: dir } }, 313021);
    await fx.server!.waitForLog((l) => l['code'] === 'prompts.loaded', 5000, 'the prompt packs');
    const from = a!.mark();
    await a!.sendPaced([0x21, 0x22].map((frame, seq) => encodeDmrd({ seq, src: 3130021, dst: 2350, peerId: a!.peerId, slot: 2, frame, unit: true, streamId: 0x23500001 })));
    const r = loadPromptPack(dir, 'en_GB');
    if (!r.ok) throw new Error(r.error);
    const voice = concatPrompt(['silence', 'linked-to', '2', '3', '5', '0'].map((w) => r.pack.words.get(w)!));
    const bursts = Math.ceil(voice.length / 27 / 6) * 6;
    const frames = 3 + bursts + 1; // voice headers, bursts (whole superframes), terminator
    await a!.waitFor((d, i) => i >= from + frames - 1, 10_000, from, 'the whole prompt');
    const got = a!.received.slice(from).filter((d) => tag(d.bytes) === 'DMRD');
    expect(got).toHaveLength(frames);
    const heard = new Uint8Array(bursts * 27);
    got.filter((d) => (d.bytes[15]! & 0x30) !== 0x20).forEach((d, i) => heard.set(extractVoiceBits(d.bytes, 20), i * 27));
    expect(heard.subarray(0, voice.length)).toEqual(voice);
    for (const d of got) expect([readU24(d.bytes, 5), readU24(d.bytes, 8), d.bytes[15]! & 0xc0]).toEqual([5000, 9, 0x80]);
    // The recording holds the packs; replaying it sends the same prompt, byte for byte.
    const s = fx.server!;
    await s.stop();
    const replay = await runCli(['replay', s.recordPath!, '--config', s.configPath, '--sends']);
    expect(replay.code).toBe(0);
    const sent = replay.stdout.split('\n').filter((l) => l.includes(' send ') && l.includes('444d5244'));
    const hexes = got.map((d) => Buffer.from(d.bytes).toString('hex'));
    expect(sent.map((l) => l.trim().split(' ').at(-1))).toEqual(expect.arrayContaining(hexes));
  });
});
