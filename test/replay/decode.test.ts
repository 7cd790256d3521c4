// The transcript decoder (src/replay/decode.ts) on hand-made canonical lines: the golden scripts
// cover it on whole runs, these pin the corners they do not reach.

import { describe, expect, it } from 'vitest';
import { encodeDmrd, encodeMstcl, toHex } from '../../src/protocol/index.js';
import { framePhase, phaseFlags, TranscriptDecoder } from '../../src/replay/index.js';
import { REF_CALLS, refCallPackets } from '../support/voice-frames.js';

const send = (bytes: Uint8Array, port = 50001, socket = 0): string => `@5 send ${socket} 192.0.2.1:${port} ${toHex(bytes)}`;

describe('transcript decoder', () => {
  it('names every phase a script can send and reads it back', () => {
    const names = ['voice-header', 'burst-A', 'burst-B', 'burst-C', 'burst-D', 'burst-E', 'burst-F', 'terminator', 'csbk', 'data-header', 'rate-1/2', 'rate-3/4', 'rate-1'];
    for (const n of names) expect(framePhase(phaseFlags(n)!)).toBe(n);
    expect(phaseFlags('burst-G')).toBeNull();
  });

  it('shows the LC destination of a real call (full LC and embedded), none for a synthetic one', () => {
    const ref = REF_CALLS[0]!;
    const d = new TranscriptDecoder(() => ({ name: 'A', peerId: 7 }));
    const out = d.lines(refCallPackets(ref, { peerId: 7, slot: 2, streamId: 99, dst: 2350 }).map((b) => send(b)));
    expect(out[0]).toBe(`@5 send A 192.0.2.1:50001 DMRD #0 ${ref.src} -> tg 2350 ts2 stream 99 voice-header lc ${ref.tg}`);
    expect(out[5]).toMatch(new RegExp(`burst-E lc ${ref.tg}$`));
    expect(out.at(-1)).toMatch(new RegExp(`terminator lc ${ref.tg}$`));
    const synthetic = encodeDmrd({ seq: 1, src: 1, dst: 2, peerId: 8, slot: 1, frame: 0x21, streamId: 3 });
    expect(d.line(send(synthetic))).toBe('@5 send A 192.0.2.1:50001 DMRD #1 1 -> tg 2 ts1 stream 3 voice-header peer 8');
  });

  it('names receivers by the peer-login reports when no name is given; no hex anywhere', () => {
    const d = new TranscriptDecoder();
    expect(d.line(send(encodeMstcl(2340001)))).toBe('@5 send - 192.0.2.1:50001 MSTCL 2340001');
    d.line('@4 report {"report":"peer-login","peer":2340001,"address":"192.0.2.1","port":50001,"callsign":""}');
    expect(d.line(send(encodeMstcl(2340001)))).toBe('@5 send 2340001 192.0.2.1:50001 MSTCL 2340001');
    expect(d.line(send(Uint8Array.of(0x58, 0x59, 0, 1), 50001, 2))).toBe('@5 send - 192.0.2.1:50001 socket 2 XY length 4');
    expect(d.line('@4 report {"report":"peer-login","peer":1,"address":"a b","port":2,"callsign":""}')).toBe('@4 report peer-login peer=1 address="a b" port=2');
  });
});
