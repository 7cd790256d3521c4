// Minimal reader for classic libpcap files holding Ethernet/IPv4/UDP traffic, for tests that replay
// captured datagrams. Handles both byte orders and the microsecond and nanosecond timestamp variants.
// Anything that is not an unfragmented IPv4/UDP datagram is skipped.

import { readFileSync } from 'node:fs';

export interface UdpRecord {
  /** Capture time in microseconds relative to the first record of the file (fractional for ns files). */
  timeUs: number;
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  payload: Uint8Array;
}

const LINKTYPE_ETHERNET = 1;
const ETH_HEADER = 14;
const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_UDP = 17;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;

interface Format {
  little: boolean;
  /** Divisor that turns the sub-second field into microseconds. */
  fracPerUs: number;
}

function detectFormat(view: DataView): Format {
  const le = view.getUint32(0, true);
  switch (le) {
    case 0xa1b2c3d4: return { little: true, fracPerUs: 1 };
    case 0xa1b23c4d: return { little: true, fracPerUs: 1000 };
    default: break;
  }
  const be = view.getUint32(0, false);
  switch (be) {
    case 0xa1b2c3d4: return { little: false, fracPerUs: 1 };
    case 0xa1b23c4d: return { little: false, fracPerUs: 1000 };
    default: break;
  }
  throw new Error(`not a classic pcap file (magic 0x${be.toString(16).padStart(8, '0')})`);
}

const ipv4 = (b: Uint8Array, at: number): string => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** Decode pcap bytes already in memory. Throws on a bad magic, an unsupported link type or truncation. */
export function parsePcapUdp(bytes: Uint8Array): UdpRecord[] {
  if (bytes.length < GLOBAL_HEADER) throw new Error('pcap: file shorter than its global header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { little, fracPerUs } = detectFormat(view);
  const linkType = view.getUint32(20, little) & 0x0fffffff; // upper bits may carry FCS info
  if (linkType !== LINKTYPE_ETHERNET) throw new Error(`pcap: link type ${linkType} is not Ethernet`);

  const out: UdpRecord[] = [];
  let firstSec = -1;
  let firstFrac = 0;
  let at = GLOBAL_HEADER;
  while (at < bytes.length) {
    if (at + RECORD_HEADER > bytes.length) throw new Error(`pcap: truncated record header at ${at}`);
    const sec = view.getUint32(at, little);
    const frac = view.getUint32(at + 4, little);
    const inclLen = view.getUint32(at + 8, little);
    const start = at + RECORD_HEADER;
    const end = start + inclLen;
    if (end > bytes.length) throw new Error(`pcap: truncated record data at ${start}`);
    at = end;

    if (firstSec < 0) {
      firstSec = sec;
      firstFrac = frac;
    }
    const frame = bytes.subarray(start, end);
    const rec = udpFromEthernet(frame);
    if (rec === null) continue;
    const timeUs = (sec - firstSec) * 1_000_000 + (frac - firstFrac) / fracPerUs;
    out.push({ timeUs, ...rec });
  }
  return out;
}

function udpFromEthernet(frame: Uint8Array): Omit<UdpRecord, 'timeUs'> | null {
  if (frame.length < ETH_HEADER + 20) return null;
  const etherType = (frame[12]! << 8) | frame[13]!;
  if (etherType !== ETHERTYPE_IPV4) return null;
  const ip = ETH_HEADER;
  const version = frame[ip]! >> 4;
  const ihl = (frame[ip]! & 0x0f) * 4;
  if (version !== 4 || ihl < 20 || ip + ihl > frame.length) return null;
  if (frame[ip + 9] !== IPPROTO_UDP) return null;
  const fragment = ((frame[ip + 6]! << 8) | frame[ip + 7]!) & 0x3fff; // MF flag + offset
  if (fragment !== 0) return null;
  const totalLen = (frame[ip + 2]! << 8) | frame[ip + 3]!;
  // Ethernet may pad short frames; the IP total length says where the datagram really ends.
  const ipEnd = Math.min(frame.length, ip + totalLen);
  const udp = ip + ihl;
  if (udp + 8 > ipEnd) return null;
  const udpLen = (frame[udp + 4]! << 8) | frame[udp + 5]!;
  if (udpLen < 8) return null;
  const payloadEnd = Math.min(ipEnd, udp + udpLen);
  return {
    srcAddr: ipv4(frame, ip + 12),
    srcPort: (frame[udp]! << 8) | frame[udp + 1]!,
    dstAddr: ipv4(frame, ip + 16),
    dstPort: (frame[udp + 2]! << 8) | frame[udp + 3]!,
    payload: frame.slice(udp + 8, payloadEnd),
  };
}

/** Read a pcap file and return its UDP datagrams in capture order. */
export function readPcapUdp(path: string): UdpRecord[] {
  return parsePcapUdp(new Uint8Array(readFileSync(path)));
}
