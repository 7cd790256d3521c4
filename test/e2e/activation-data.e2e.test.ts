// User activation and unit data through the real server over UDP on 127.0.0.1, from the radios'
// side: keying a talkgroup the slot has not joined routes the call and joins the slot (it then
// hears that talkgroup); an SMS-style unit data burst reaches the peer where its destination was
// last heard, and no one else.
//
// The servers run with a short hang time (HANG_S): a wait "past the hang time" is the configured
// hang time plus a margin, not the 5 s default.

import { describe, expect, it } from 'vitest';
import { encodeDmrd, readU24, readU32 } from '../../src/protocol/index.js';
import { voiceCall } from '../support/harness.js';
import type { HbpClient } from '../support/hbp-client.js';
import { serverFixture } from '../support/server-process.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** timers.group_hangtime of these servers (default 5 s), and how long to wait to be past it. */
const HANG_S = 0.5;
const PAST_HANG_MS = HANG_S * 1000 + 500;
const dmrd = (b: Uint8Array): boolean => String.fromCharCode(...b.subarray(0, 4)) === 'DMRD';

const fx = serverFixture();

const peers = (list: [number, string][]): Promise<HbpClient[]> => fx.withPeers({ config: { sql: { enabled: false }, timers: { group_hangtime: HANG_S } } }, list);
const send = (from: HbpClient, packets: Uint8Array[]): Promise<void> => from.sendPaced(packets);

describe('user activation and unit data over UDP', () => {
  it('keying a new talkgroup routes the call and joins the slot to it', async () => {
    const [a, b, c] = await peers([
      [314001, 'TS2=91;'],
      [314002, 'TS2=3100;'],
      [314003, 'TS2=91;'],
    ]);
    // A keys TG 3100, which its TS2 has not joined: B (on 3100) hears it, C (on 91) does not.
    const first = voiceCall({ peerId: a!.peerId, src: 3140001, tg: 3100, slot: 2, streamId: 0x31000001 });
    await send(a!, first);
    await b!.waitFor((d, i) => i >= first.length - 1, 3000, 0, 'the activating call');
    // B answers on 3100 after the hang time: A hears it through the activation.
    await sleep(PAST_HANG_MS);
    const fromA = a!.mark();
    const answer = voiceCall({ peerId: b!.peerId, src: 3140002, tg: 3100, slot: 2, streamId: 0x31000002 });
    await send(b!, answer);
    await a!.waitFor((d, i) => i >= fromA + answer.length - 1, 3000, fromA, 'the answer');
    expect(a!.received.slice(fromA).filter((d) => dmrd(d.bytes)).map((d) => readU24(d.bytes, 8))).toEqual(answer.map(() => 3100));
    expect(c!.received.filter((d) => dmrd(d.bytes))).toEqual([]);
  });

  it('unit data goes to where its destination was last heard', async () => {
    const [a, b, c] = await peers([
      [314011, 'TS2=91;'],
      [314012, 'TS1=91;'],
      [314013, 'TS2=91;'],
    ]);
    // 3140012 talks from B on TS1: it is now known to be there.
    await send(b!, voiceCall({ peerId: b!.peerId, src: 3140012, tg: 91, slot: 1, streamId: 0x91000012 }));
    await sleep(PAST_HANG_MS); // past the hang time of that call on the listeners' slots
    const fromB = b!.mark();
    const fromC = c!.mark();
    const burst = [0x26, 0x27, 0x27].map((frame, seq) => encodeDmrd({ seq, src: 3140011, dst: 3140012, peerId: a!.peerId, slot: 2, frame, unit: true, streamId: 0xda7a0001 }));
    await send(a!, burst);
    await b!.waitFor((d, i) => i >= fromB + burst.length - 1, 3000, fromB, 'the data');
    const got = b!.received.slice(fromB).filter((d) => dmrd(d.bytes));
    expect(got.map((d) => [readU32(d.bytes, 11), d.bytes[15]! & 0xc0, readU24(d.bytes, 8)])).toEqual(burst.map(() => [b!.peerId, 0x40, 3140012]));
    await sleep(200);
    expect(c!.received.slice(fromC).filter((d) => dmrd(d.bytes))).toEqual([]);
  }, 15_000);
});
