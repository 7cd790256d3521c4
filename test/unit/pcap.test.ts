// The test-support pcap reader: checked against the captures in test/fixtures (and the decoded listing of the
// session capture, datagram by datagram) and against small synthetic files for the variants the
// captures do not exercise (big-endian, nanosecond timestamps, IP options, non-UDP records).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capture } from '../support/fixtures.js';
import { parsePcapUdp, readPcapUdp } from '../support/pcap.js';


interface DecodedLine {
  timeS: number;
  srcPort: number;
  dstPort: number;
  tag: string;
  len?: number;
}

/** One line per datagram: `  0.0001 62133 -> 54000 RPTL     peer=234000101`. */
function readDecoded(name: string): DecodedLine[] {
  const lines = readFileSync(capture(name), 'utf8').split('\n').filter((l) => l.trim() !== '');
  return lines.map((line) => {
    const m = /^\s*(\d+\.\d+)\s+(\d+) -> (\d+)\s+([A-Z]+)\b(.*)$/.exec(line);
    if (!m) throw new Error(`unparsed decoded line: ${line}`);
    const len = /\blen=(\d+)/.exec(m[5]!);
    return {
      timeS: Number(m[1]),
      srcPort: Number(m[2]),
      dstPort: Number(m[3]),
      tag: m[4]!,
      ...(len ? { len: Number(len[1]) } : {}),
    };
  });
}

const ascii = (b: Uint8Array, n: number): string => String.fromCharCode(...b.subarray(0, n));

/** Parse a `.hexdump-head.txt` file: blank-line separated blocks of `offset  hex bytes  ascii`. */
function readHexdumpFrames(name: string): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let cur: number[] = [];
  for (const line of readFileSync(capture(name), 'utf8').split('\n')) {
    const m = /^([0-9a-f]{4})  ((?:[0-9a-f]{2} ?)+)/.exec(line);
    if (!m) {
      if (cur.length) frames.push(Uint8Array.from(cur));
      cur = [];
      continue;
    }
    for (const h of m[2]!.trim().split(/\s+/)) cur.push(parseInt(h, 16));
  }
  if (cur.length) frames.push(Uint8Array.from(cur));
  return frames;
}

describe('readPcapUdp on the captures', () => {
  it('reads the DMRGateway→FreeDMR login capture: 12 datagrams in the documented order', () => {
    const recs = readPcapUdp(capture('dmrgateway-freedmr-login.pcap'));
    expect(recs.map((r) => ascii(r.payload, r.payload[0] === 0x4d ? 6 : 4))).toEqual([
      'RPTL', 'RPTA', 'RPTK', 'RPTA', 'RPTC', 'RPTA', 'RPTO', 'RPTA', 'RPTP', 'MSTPON', 'RPTC', 'MSTNAK',
    ]);
    expect(recs.map((r) => r.payload.length)).toEqual([8, 10, 40, 10, 302, 10, 15, 10, 11, 11, 9, 10]);
    for (const [i, r] of recs.entries()) {
      expect(r.srcAddr).toBe('127.0.0.1');
      expect(r.dstAddr).toBe('127.0.0.1');
      // Even records go client → master, odd ones are the master's replies.
      expect(i % 2 === 0 ? [r.srcPort, r.dstPort] : [r.dstPort, r.srcPort]).toEqual([62133, 54000]);
    }
    expect(recs[0]!.timeUs).toBe(0);
    for (let i = 1; i < recs.length; i++) expect(recs[i]!.timeUs).toBeGreaterThanOrEqual(recs[i - 1]!.timeUs);
  });

  it('reads the session capture and agrees with the decoded listing for every datagram', () => {
    const recs = readPcapUdp(capture('freedmr-dmrgateway-session.pcap'));
    const decoded = readDecoded('freedmr-dmrgateway-session.decoded.txt');
    expect(recs.length).toBe(554);
    expect(decoded.length).toBe(recs.length);
    expect(recs.slice(0, 6).map((r) => ascii(r.payload, 4))).toEqual(['DMRP', 'RPTL', 'RPTA', 'RPTK', 'RPTA', 'RPTC']);
    for (const [i, r] of recs.entries()) {
      const d = decoded[i]!;
      const where = `datagram ${i} (${d.tag} at ${d.timeS})`;
      expect(r.srcPort, where).toBe(d.srcPort);
      expect(r.dstPort, where).toBe(d.dstPort);
      expect(r.srcAddr, where).toBe('127.0.0.1');
      expect(r.dstAddr, where).toBe('127.0.0.1');
      expect(ascii(r.payload, d.tag.length), where).toBe(d.tag);
      if (d.len !== undefined) expect(r.payload.length, where).toBe(d.len);
      // The listing rounds to 0.1 ms.
      expect(Math.abs(r.timeUs / 1e6 - d.timeS), where).toBeLessThanOrEqual(0.00006);
    }
  });

  it('reads both OpenBridge captures; frames match the hexdump heads', () => {
    const cases = [
      ['freedmr-openbridge-obp1', 70, 'DMRD', 73],
      ['freedmr-openbridge-fbp5', 72, 'DMRE', 89],
    ] as const;
    for (const [base, count, firstTag, firstLen] of cases) {
      const recs = readPcapUdp(capture(`${base}.pcap`));
      expect(recs.length, base).toBe(count);
      expect(ascii(recs[0]!.payload, 4)).toBe(firstTag);
      expect(recs[0]!.payload.length).toBe(firstLen);
      for (const r of recs) expect([r.srcPort, r.dstPort], base).toEqual([62044, 62045]);
      const heads = readHexdumpFrames(`${base}.hexdump-head.txt`);
      expect(heads.length).toBeGreaterThan(5);
      for (const [i, frame] of heads.entries()) {
        // Ethernet (14) + IPv4 (20, no options here) + UDP (8) in front of the payload. The file's last
        // block may be cut short, so compare what it shows.
        const shown = frame.subarray(42);
        if (i < heads.length - 1) expect(shown.length, `${base} frame ${i}`).toBe(recs[i]!.payload.length);
        expect(Array.from(recs[i]!.payload.subarray(0, shown.length)), `${base} frame ${i}`).toEqual(Array.from(shown));
      }
    }
  });
});

// ---- synthetic files -------------------------------------------------------------------------

interface SynthPacket {
  sec: number;
  frac: number;
  /** Complete Ethernet frame. */
  frame: Uint8Array;
}

function synthPcap(packets: SynthPacket[], opts: { little: boolean; nano: boolean; linkType?: number }): Uint8Array {
  const size = 24 + packets.reduce((n, p) => n + 16 + p.frame.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, opts.little);
  v.setUint16(4, 2, opts.little);
  v.setUint16(6, 4, opts.little);
  v.setUint32(16, 0x40000, opts.little);
  v.setUint32(20, opts.linkType ?? 1, opts.little);
  let at = 24;
  for (const p of packets) {
    v.setUint32(at, p.sec, opts.little);
    v.setUint32(at + 4, p.frac, opts.little);
    v.setUint32(at + 8, p.frame.length, opts.little);
    v.setUint32(at + 12, p.frame.length, opts.little);
    out.set(p.frame, at + 16);
    at += 16 + p.frame.length;
  }
  return out;
}

interface FrameOpts {
  src?: [number, number, number, number];
  dst?: [number, number, number, number];
  srcPort?: number;
  dstPort?: number;
  proto?: number;
  ipOptionWords?: number;
  etherType?: number;
  /** Zero bytes appended after the IP datagram (Ethernet minimum-size padding). */
  trailer?: number;
  fragment?: number;
}

function ethFrame(payload: Uint8Array, o: FrameOpts = {}): Uint8Array {
  const ihl = 5 + (o.ipOptionWords ?? 0);
  const ipLen = ihl * 4 + 8 + payload.length;
  const f = new Uint8Array(14 + ipLen + (o.trailer ?? 0));
  const v = new DataView(f.buffer);
  v.setUint16(12, o.etherType ?? 0x0800);
  f[14] = 0x40 | ihl;
  v.setUint16(16, ipLen);
  v.setUint16(20, o.fragment ?? 0x4000); // DF
  f[22] = 64;
  f[23] = o.proto ?? 17;
  f.set(o.src ?? [10, 0, 0, 1], 26);
  f.set(o.dst ?? [192, 168, 1, 2], 30);
  for (let i = 34; i < 14 + ihl * 4; i++) f[i] = 0x01; // NOP options
  const udp = 14 + ihl * 4;
  v.setUint16(udp, o.srcPort ?? 1000);
  v.setUint16(udp + 2, o.dstPort ?? 62031);
  v.setUint16(udp + 4, 8 + payload.length);
  f.set(payload, udp + 8);
  return f;
}

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('parsePcapUdp on synthetic files', () => {
  const variants = [
    { little: true, nano: false },
    { little: false, nano: false },
    { little: true, nano: true },
    { little: false, nano: true },
  ];
  for (const opts of variants) {
    it(`${opts.little ? 'little' : 'big'}-endian, ${opts.nano ? 'nanosecond' : 'microsecond'} timestamps`, () => {
      const scale = opts.nano ? 1000 : 1;
      const file = synthPcap(
        [
          { sec: 1000, frac: 999_999 * scale, frame: ethFrame(bytes('RPTL\x00\x00\x00\x01'), { srcPort: 4000 }) },
          { sec: 1001, frac: 250 * scale, frame: ethFrame(bytes('RPTACK\x12\x34\x56\x78'), { dstPort: 4000, srcPort: 62031 }) },
          { sec: 1003, frac: 0, frame: ethFrame(bytes('x'), { src: [1, 2, 3, 4], dst: [255, 0, 128, 9] }) },
        ],
        opts,
      );
      const recs = parsePcapUdp(file);
      expect(recs.map((r) => r.timeUs)).toEqual([0, 251, 2_000_001]);
      expect(recs.map((r) => r.payload.length)).toEqual([8, 10, 1]);
      expect(ascii(recs[1]!.payload, 10)).toBe('RPTACK\x12\x34\x56\x78');
      expect(recs[0]).toMatchObject({ srcAddr: '10.0.0.1', srcPort: 4000, dstAddr: '192.168.1.2', dstPort: 62031 });
      expect(recs[2]).toMatchObject({ srcAddr: '1.2.3.4', dstAddr: '255.0.128.9' });
    });
  }

  it('keeps fractional microseconds from nanosecond files', () => {
    const file = synthPcap(
      [
        { sec: 5, frac: 0, frame: ethFrame(bytes('a')) },
        { sec: 5, frac: 1500, frame: ethFrame(bytes('b')) },
      ],
      { little: true, nano: true },
    );
    expect(parsePcapUdp(file).map((r) => r.timeUs)).toEqual([0, 1.5]);
  });

  it('honours IHL (IP options) and ignores Ethernet padding after the datagram', () => {
    const file = synthPcap(
      [
        { sec: 0, frac: 0, frame: ethFrame(bytes('DMRD'), { ipOptionWords: 3, srcPort: 7 }) },
        { sec: 0, frac: 1, frame: ethFrame(bytes('MSTCL'), { trailer: 12 }) },
      ],
      { little: true, nano: false },
    );
    const recs = parsePcapUdp(file);
    expect(recs.map((r) => ascii(r.payload, r.payload.length))).toEqual(['DMRD', 'MSTCL']);
    expect(recs[0]!.srcPort).toBe(7);
  });

  it('skips records that are not IPv4/UDP, and non-first fragments; times stay relative to the first record', () => {
    const file = synthPcap(
      [
        { sec: 10, frac: 0, frame: ethFrame(bytes('tcp'), { proto: 6 }) },
        { sec: 10, frac: 5, frame: ethFrame(bytes('arp'), { etherType: 0x0806 }) },
        { sec: 10, frac: 7, frame: new Uint8Array(20) },
        { sec: 10, frac: 9, frame: ethFrame(bytes('frag'), { fragment: 0x2000 }) },
        { sec: 10, frac: 10, frame: ethFrame(bytes('udp')) },
      ],
      { little: true, nano: false },
    );
    const recs = parsePcapUdp(file);
    expect(recs.length).toBe(1);
    expect(ascii(recs[0]!.payload, 3)).toBe('udp');
    expect(recs[0]!.timeUs).toBe(10);
  });

  it('returns nothing for a file with only the global header', () => {
    expect(parsePcapUdp(synthPcap([], { little: false, nano: false }))).toEqual([]);
  });

  it('rejects a bad magic, a non-Ethernet link type and a truncated record', () => {
    expect(() => parsePcapUdp(new Uint8Array(24))).toThrow(/magic/);
    expect(() => parsePcapUdp(new Uint8Array(10))).toThrow();
    expect(() => parsePcapUdp(synthPcap([], { little: true, nano: false, linkType: 101 }))).toThrow(/link type/);
    const whole = synthPcap([{ sec: 0, frac: 0, frame: ethFrame(bytes('abcdef')) }], { little: true, nano: false });
    expect(() => parsePcapUdp(whole.subarray(0, whole.length - 2))).toThrow(/truncated/);
    expect(() => parsePcapUdp(whole.subarray(0, 30))).toThrow(/truncated/);
  });
});
