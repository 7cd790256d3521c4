// Echo and talker alias through the real server over UDP on 127.0.0.1, from the radios' side:
// a call to 9990 comes back to the caller alone about 2 s after it ends, paced at the DMR rate, with
// a new stream ID; a talker alias sent during a call reaches the peer hearing that call.

import { afterEach, describe, expect, it } from 'vitest';
import { readU24, readU32 } from '../../src/protocol/index.js';
import { voiceCall } from '../support/harness.js';
import { HbpClient } from '../support/hbp-client.js';
import { startServer, type ServerHandle } from '../support/server-process.js';

const HOST = '127.0.0.1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tag = (b: Uint8Array): string => String.fromCharCode(...b.subarray(0, 4));

let server: ServerHandle | null = null;
const clients: HbpClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  if (server) {
    await server.stop();
    server.cleanup();
    server = null;
  }
});

async function peers(...ids: number[]): Promise<HbpClient[]> {
  server = await startServer({ config: { sql: { enabled: false } } });
  const out: HbpClient[] = [];
  for (const id of ids) {
    const c = new HbpClient(id);
    clients.push(c);
    await c.bind();
    await c.login(HOST, server.port, { passphrase: 'passw0rd', options: 'TS2=91;' });
    out.push(c);
  }
  return out;
}

describe('echo and talker alias over UDP', () => {
  it('plays a TG 9990 call back to the caller only, 2 s after its end, 60 ms apart, new stream ID', async () => {
    const [a, b] = await peers(313001, 313002);
    const call = voiceCall({ peerId: a!.peerId, src: 3130001, tg: 9990, slot: 2, streamId: 0x99900001, superframes: 2 });
    const fromA = a!.mark();
    const fromB = b!.mark();
    for (const p of call) {
      a!.send(p);
      await sleep(60);
    }
    const endedAt = performance.now();
    await a!.waitFor((d, i) => i >= fromA + call.length - 1 && tag(d.bytes) === 'DMRD', 6000, fromA, 'the whole echo');
    const back = a!.received.slice(fromA).filter((d) => tag(d.bytes) === 'DMRD');
    expect(back).toHaveLength(call.length);
    expect(back[0]!.at - endedAt).toBeGreaterThan(1800);
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
    const [a, b, c] = await peers(313011, 313012, 313013);
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
    for (const p of call.slice(1)) {
      a!.send(p);
      await sleep(20);
    }
  });
});
