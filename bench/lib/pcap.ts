// The server's own forwarding latency, from a loopback capture (tcpdump -w, read with the tests' pcap
// reader): for each DMRD frame the server sent, the time from the capture of the frame it came from
// (the kernel's timestamp as the load generator's datagram crossed `lo`) to the capture of the copy
// the server sent. This leaves out the load generator's own scheduling on the receiving side, which
// the end-to-end latency includes. A frame is known by its stream ID (DMRD bytes [16:20)) and the
// load generator's ordinal (the first 4 bytes of its payload, DMRD bytes [20:24); bench/loadgen.ts).

import { readPcapUdp } from '../../test/support/pcap.js';

export interface CaptureLatency {
  /** Frames the server sent that matched one it received. */
  matched: number;
  p50: number;
  p99: number;
  p999: number;
}

const isDmrd = (p: Uint8Array): boolean => p.length >= 24 && p[0] === 0x44 && p[1] === 0x4d && p[2] === 0x52 && p[3] === 0x44;

/** Latencies (ms) of the server on UDP `port` in a pcap file of loopback traffic. */
export function captureLatency(file: string, port: number): CaptureLatency {
  const received = new Map<string, number>();
  const lat: number[] = [];
  for (const r of readPcapUdp(file)) {
    if (!isDmrd(r.payload)) continue;
    const v = new DataView(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength);
    const key = `${v.getUint32(16)}:${v.getUint32(20)}`;
    if (r.dstPort === port) received.set(key, r.timeUs);
    else if (r.srcPort === port) {
      const at = received.get(key);
      if (at !== undefined) lat.push((r.timeUs - at) / 1000);
    }
  }
  lat.sort((x, y) => x - y);
  const q = (p: number): number => (lat.length === 0 ? 0 : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!);
  return { matched: lat.length, p50: q(0.5), p99: q(0.99), p999: q(0.999) };
}
