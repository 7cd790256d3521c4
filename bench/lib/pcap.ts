// The server's own forwarding latency, from a loopback capture (tcpdump -w): for each DMRD frame the
// server sent, the time from the capture of the frame it came from (the kernel's timestamp as the
// load generator's datagram crossed `lo`) to the capture of the copy the server sent. This leaves
// out the load generator's own scheduling on the receiving side, which the end-to-end latency
// includes. A frame is known by its stream ID (DMRD bytes [16:20)) and the load generator's
// ordinal (the first 4 bytes of its payload, DMRD bytes [20:24); bench/loadgen.ts).

import { readFileSync } from 'node:fs';

export interface CaptureLatency {
  /** Frames the server sent that matched one it received. */
  matched: number;
  p50: number;
  p99: number;
  p999: number;
}

const LINK_ETHERNET = 1;
const LINK_LINUX_SLL = 113;

/** Latencies (ms) of the server on `port` in a classic pcap file (microsecond timestamps). */
export function captureLatency(file: string, port: number): CaptureLatency {
  const b = readFileSync(file);
  if (b.length < 24 || b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian microsecond pcap file`);
  const link = b.readUInt32LE(20);
  const linkHeader = link === LINK_ETHERNET ? 14 : link === LINK_LINUX_SLL ? 16 : -1;
  if (linkHeader < 0) throw new Error(`${file}: link type ${link} is not handled`);
  const received = new Map<string, number>();
  const lat: number[] = [];
  for (let off = 24; off + 16 <= b.length; ) {
    const us = b.readUInt32LE(off) * 1e6 + b.readUInt32LE(off + 4);
    const caplen = b.readUInt32LE(off + 8);
    const frame = off + 16;
    off = frame + caplen;
    if (off > b.length) break;
    const ip = frame + linkHeader;
    if (b[ip]! >> 4 !== 4 || b[ip + 9] !== 17) continue; // IPv4, UDP
    const udp = ip + (b[ip]! & 15) * 4;
    const dmrd = udp + 8;
    if (dmrd + 24 > off || b.toString('latin1', dmrd, dmrd + 4) !== 'DMRD') continue;
    const key = `${b.readUInt32BE(dmrd + 16)}:${b.readUInt32BE(dmrd + 20)}`;
    if (b.readUInt16BE(udp + 2) === port) received.set(key, us);
    else if (b.readUInt16BE(udp) === port) {
      const at = received.get(key);
      if (at !== undefined) lat.push((us - at) / 1000);
    }
  }
  lat.sort((x, y) => x - y);
  const q = (p: number): number => (lat.length === 0 ? 0 : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!);
  return { matched: lat.length, p50: q(0.5), p99: q(0.99), p999: q(0.999) };
}
