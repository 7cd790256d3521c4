// The FreeDMR bridge protocol (FBP) codecs against FreeDMR's own traffic and independent references:
// every DMRE and BC* frame of the v5 capture is classified, verified with the link key and no other
// key, decoded to the values FreeDMR was configured with, and re-encoded to the captured bytes.
// BLAKE2b is checked against RFC 7693's vector, the BLAKE2 reference keyed vectors, and keyed
// 16-byte digests computed with Python's hashlib (the reference C code), pasted here as data.

import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromHex, readU32, toHex, utf8 } from '../../src/protocol/bytes.js';
import { decodeDmrd, dmrdSrc, dmrdStream } from '../../src/protocol/hbp/dmrd.js';
import {
  BC_LAYOUT,
  blake2b,
  Blake2b,
  decodeFbp,
  DMRE,
  dmreHops,
  dmreSourceRepeater,
  dmreTimeMs,
  dmreToDmrd,
  encodeBc,
  encodeDmre,
  fbpKeys,
  fbpKind,
  FBP_LEN,
  setDmreTimeMs,
  signDmre,
  verifyBc,
  verifyDmre,
  verifyFbp,
  writeDmre,
  type BcKind,
  type DecodedDmre,
  type DmreFields,
  type FbpMessage,
} from '../../src/protocol/fbp/index.js';
import { obpKey } from '../../src/protocol/obp/index.js';
import { capture } from '../support/fixtures.js';
import { readPcapUdp } from '../support/pcap.js';

const PCAP = capture('freedmr-openbridge-fbp5.pcap');
const RECORDS = readPcapUdp(PCAP);
const FRAMES = RECORDS.map((r) => r.payload);
const DMRES = FRAMES.filter((f) => fbpKind(f) === 'dmre-v5');
const CONTROL = FRAMES.filter((f) => fbpKind(f).startsWith('bc'));
const KEYS = fbpKeys('passw0rd');
const hex = (s: string): Uint8Array => fromHex(s)!;

/** The capture's first record time in ms since 1970 (readPcapUdp gives times relative to it). */
function captureStartMs(path: string): number {
  const b = readFileSync(path);
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4); // little-endian, microsecond timestamps
  return b.readUInt32LE(24) * 1000 + b.readUInt32LE(28) / 1000;
}

const decoded = (f: Uint8Array): FbpMessage => {
  const p = decodeFbp(f);
  if (!p.ok) throw new Error(p.error);
  return p.value;
};

const flip = (f: Uint8Array, at: number, bit = 0): Uint8Array => {
  const g = f.slice();
  g[at] = g[at]! ^ (1 << bit);
  return g;
};

describe('BLAKE2b', () => {
  it('gives RFC 7693 Appendix A: BLAKE2b-512("abc")', () => {
    expect(toHex(blake2b(utf8('abc')))).toBe(
      'ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1' + '7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923',
    );
  });

  it('gives the reference keyed vectors (key 00..3f, message 00..n-1, 64-byte digest)', () => {
    const key = Uint8Array.from({ length: 64 }, (_, i) => i);
    const kat: [number, string][] = [
      [0, '10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568'],
      [1, '961f6dd1e4dd30f63901690c512e78e4b45e4742ed197c3c5e45c549fd25f2e4187b0bc9fe30492b16b0d0bc4ef9b0f34c7003fac09a5ef1532e69430234cebd'],
      [2, 'da2cfbe2d8409a0f38026113884f84b50156371ae304c4430173d08a99d9fb1b983164a3770706d537f49e0c916d9f32b95cc37a95b99d857436f0232c88a965'],
      [127, '76d2d819c92bce55fa8e092ab1bf9b9eab237a25267986cacf2b8ee14d214d730dc9a5aa2d7b596e86a1fd8fa0804c77402d2fcd45083688b218b1cdfa0dcbcb'],
      [128, '72065ee4dd91c2d8509fa1fc28a37c7fc9fa7d5b3f8ad3d0d7a25626b57b1b44788d4caf806290425f9890a3a2a35a905ab4b37acfd0da6e4517b2525c9651e4'],
      [255, '142709d62e28fcccd0af97fad0f8465b971e82201dc51070faa0372aa43e92484be1c1e73ba10906d5d1853db6a4106e0a7bf9800d373d6dee2d46d62ef2a461'],
    ];
    for (const [n, want] of kat) expect(toHex(blake2b(Uint8Array.from({ length: n }, (_, i) => i), key)), `n=${n}`).toBe(want);
  });

  it('gives what Python hashlib.blake2b(m, key=k, digest_size=16) gives', () => {
    // [key, message, digest], random bytes (Python's random.Random(7693)); message lengths around
    // the block size and the DMRE bodies (73, 69), keys from 1 to 64 bytes.
    const table: [string, string, string][] = [
    ['0d8ecdafae29b026ad7d91aff21f98df0f352c51', '25882021c79c22e5fc32f610993f3653fd0da8e8eaf046c7b6bec74e8b87e514276a7874c013c1a6b02be1c3df3280637c424e3c6bc9cdb057f6cc2e66c19b08b751d6cd9183ef2420', '4151de0e7205a4e04d0fd2851aeb278d'],
    ['d00e347b421a14f3282151497fcd9df0bd8a7da4', 'eb4432b3d48d76f462a266df2f377212816b637269b123db1f1bfe8fbf1229e53668433c7e17d932a5c1f1e09c0da8c917ca35ac44e2e02b9b3ad690c52f563624009a5c25', '298354c5ffd531ad920e925e8d40d09f'],
    ['13a40e0a32960c98626b87875d7202e503467ebd', '', 'ce7fc13e23716568872219d8d7820015'],
    ['f7', '20', '1dfe43ff1b64c7bdcfa5945f18117ac9'],
    ['69746b88a4557ef85dd873d0b2704082b15244557b007701a742ba33197c0b971ff2610480bfe445ab6a71e5eafe365e1b891c2326cebbe91d9c8475e5de98f7', '5dbec66ac014b0b5eed81a03202a11cd627ecbde5b06833269019a45c6e967f5a09c163b62c22535ebe938460988feb15716914cdf7494b0c91d775b29cac7c79292be8295d866ed030b724417f09d0c6265f5a71e0e2c100be97948d3644ac9f6cb26d42ceed29819dcdbc4ecaf25e2dc8404fe7c21a84080cd6ff5b62a152c', '0e3a4e58ec7c8875f5f10ffe3317fabf'],
    ['4685d3bc69a7e20d6c2b737d7c168eafad67763d753a691d0d0fcd3764eaaf97', 'ef643a1441c294b73800d9cb315ab2f70aca0532a878dc6279c55d8597eae5379deebd49ef6c60e6219ecbf21c63512c1e45b793376942c61b8c5c5c9fd97a0bf9f1fc0e60ac9d5cbf8450724c73a07472e6b66dfe2a3c77787583b06320278190d4f967517fa4b68d15ab7888ed6bb2f6b3016d992ec1829d6940b2e7826fa8de', 'cc8d8d582caab9bddf711c4dac518ccc'],
    ['c4df490c188005f20008561c8c7011669b52ac4e', '2c11a5fa70a9093aefa0f7a916fb9a8d14fc2d9440069ab8a883dcb157141d922f4b8bd771c0b122e70a025fbe90037c91d3d90f4d9b5013584cd7117564ca677d4fb2d48083d6fbef37505915d27cb6a31e188c94aebaeb86523dc795449725ab23e9e45e438c324269747e6d3f272cfd98545585d2fe495d443400fbcc91c00c4a0a252016f92c44c76f72d9165c4b4f14a0d561fde2f0c0ceeead00efa5ef396e7b337e12847e67d6fd8b0592cfe9cdc46c52786c6388ee4c634ba6cddaf9987883984893f45c42fcddcb993297bff4f5c77da317d861544ba2d3d182602520d3d316154717181cdbf6710aed19e546e91118f368451f9dabd75aa95702', '4731f46f44bc7ac91303f02c7365b6b1'],
    ['9830ca7fe06d35', '1ef18127de52222c9196920a7a77d9356a0e1f18aa0e1a18880d69ad1682f456adf3325ea34bdc40ccad5a4feb0c31cd7fb55fdc6bba310e81a5f1559cd5f582d975062907dda845cf0d9f2a070df54422378dd1f96fc758d2b5f283e3c3bb5de1210f75268f7f57357817221edea7a2c880c66591c032dddfe18bb18fe15eac4417d2765fd63dd5b21559e5084237e4d456ccb7026b7d0990e1a6445735e319bdeae3876ca419821727a876d080ab6b24f6457fdb9186807f0a0c8746d82b2279d0f3132c784650323d872232d6667d42933ef9c2889429fea497fe10fb3fbc93ba12a1650ab3124fdc6ad9adf9be34334ec839a0fa3814dc75023968a2de02', 'dde84fc4d5ea0ab5942d9f2178b5d4f2'],
    ['b6cfca0467664b24d3cab13b1670cb8d65249ffa', '795dd1bf726c3d95e73a564f525e4fbd286cac517d110ceeba0f59b52694504c6e41c175c14de54c6dc996bb46ec53daf42245f0c662ceb4b21943c244dac2bb884189ddbd9509a390ad8456b30dc63a1fc37bb08e248de70400ca1c06dfeb932c3d8729c9df4b5f40f06231c1c6f43ea7d519ba5547babfb8c27a34a5127c61c973e9bd4ed239d7d430c0f59d7fe7601de44db127f7d506c0dcd4c3d8add4d70cf114260b523bea88d39aed4d9bdd4039fbd044ba074ed74f75b3a8cf46e50864eebcdcbf49a973a5ee46c91f91373597dd49a86a724c26fd382861439f2c09fbca9f60230b96c338a84e2e50704886c81c536adef3e1ced0384c97e9964490d28c64ac3603c4cafb7778f78470bf11b53b1717d47ad3211d908ebf8b797b5ce913726902af8ebbc21869d8', 'cea821cf4b725fa33cf76976340dc9bb'],
    ['092346607cd2177ccb18576b373d2d8bf0b9052639f7930f36213b2bc7e13c7ae2003357c659a69ca9064b6fa1f607fcb9ec0dfcb9495c0132091de4cbefb113', '', '324129279c9d207aceee77fa74af6e26'],
    ['0742eb8599c2e99df34e474ec9', 'c7ed02b5238727a31eaa11eb57fa50aa3f241a98172ed44b89fd84a912a0ec6150ab977e75249dfe5be0ef75ad4a4a892e5b74b03a72a80365096fad0a615e775185dc08be9fd0751f531ae1c856f4d434fe257c28ff9022329c3b7871865969533a7b08c5297c6f43dcc08de8e374675708f1b5e183d87f16c328aa1beb5860a5d00592d3d51ca49d6f07474260690963f64e1a71301f6d367294fc0cd090f16ca12baa4f454da50a2e59a348930d35fc4a61a1db684eaee3aff89ca6e96c8ebdde528a358f8f0ea59a837f62614569e53df678d34b2162ee183960e329d1751d029e961772a9c23725048c5e210d20e34210a7044bed8e64afd467466b0fde71be43fddab480b36d18db867fb43bb280c0ac7a4b96a34492f94f450b232bee6ea960ccdf1b459de956c163334b3da656e1fe2f25886a249b1c21507338cd5203221749a0806df0a194ed5d90e1f0da059d873f59ca946c8200e7d1cf8c87b27728b33fc1ae41760b824105b66765652719906048a1c10f12a6b3e41edfe5103db136514271351dbb13a4f987b82a4f4edca30d227f93f833ffac33dfa720694f6f33566e24cad69d2538c3b7508d93018687c923fe964924b4e1e1b469c60fe6074be049ed55bc746c422e08b0be80d242c31dd47f8e20b9037a85d00fa82dbf66bf85944d4387fa2713c50ecd759893833d4b395b243530b7fca9d4eeffcd27587c6b3bf3ab0e803e874741bea8f80c8c5f47e24bd61367a6132809b160ad39ba391aa346b9ea2e2d6c3ef4e778c2cd2b92cc837b8915a435521b1bf63e8b94e310dc80c2035ff56f0f9678dc645c3725ae45323c960c2290d8ea571aa81cf70ea4044803f768118c525b7f7931a46f4d46238a405404dba0162ecf9a22f145011bed2877ce18ba1000a6b1631e6972609f3c99fc71721a2fb5122eeb982d7c4cdc204cbd49e0642716378ac4c8d289c9a22bbf749228b4ed3c4266614e681160a2536f9acdaff65d1378c20cef4e94b99b4fe5af57807bf77bdee715c625951661b1640f0e6b870f549c7b0b27e9bc380c3a6ff14745b99386b521089d8d7e763ba79751ee3192aa5ca61f36fed750fe7b8dfd672d4d772e94267aec88999805a644291239967f7f4d676abcd5f8598484bfef677ec397acd2f3bb3ada5c11a535f9c358fbc798c15c5cd2d9b6824182a9e3c726a1b58a7569b0fe84871751a7eab35f415caacafd57052bb212a9279af1c7cb29f6ba88f7c6533b35d3964896e5c182d2e4bcbbfdaefce8a0b1ea9fd164d57085bb941f62d3937e7b55a15f4634aa9693b2350970884d1e180044d9d39e4d14f6f453cd7b70dd5bbba1ec79f299e3428e81e6c1a93ab6daa8307b52f4ecc7a5cf590506f44f394a0ad4ebfe59eb0d6be6309d', '48a646823d7f28f31482134418466d3a'],
    ['73d46326460fe0daad2d29738f845eff7a2879a6', '09b9122a1153664f54def0', '456587c3bb315040ad9ed3bec149189b'],
    ];
    for (const [k, m, want] of table) {
      const mac = new Blake2b(hex(k), 16);
      const out = new Uint8Array(16);
      mac.sign(hex(m), 0, m.length / 2, out, 0);
      expect(toHex(out), `key ${k.length / 2} bytes, message ${m.length / 2}`).toBe(want);
      expect(toHex(blake2b(hex(m), hex(k), 16))).toBe(want);
    }
  });

  it('keys with all 20 bytes of the padded passphrase (Python: key=b"passw0rd".ljust(20, b"\\0"))', () => {
    const mac = (p: string): string => toHex(blake2b(utf8('DMRE'), obpKey(p), 16));
    expect(mac('passw0rd')).toBe('2338fa88f1efe876090d7d936baa0f8d');
    expect(mac('a'.repeat(25))).toBe('dfabcd56ad7b4de4a48f054781c9f4bf'); // cut to 20
    expect(mac('pässwörd')).toBe('9d29d9b7285de0e4669df07977ef666c'); // UTF-8
    // Keyed with the bare 8 bytes instead, the digest differs: the padding is part of the key.
    expect(toHex(blake2b(utf8('DMRE'), utf8('passw0rd'), 16))).not.toBe(mac('passw0rd'));
  });

  it('signs into a buffer at an offset and verifies in place', () => {
    const buf = Uint8Array.from({ length: 200 }, (_, i) => (i * 31) & 0xff);
    const mac = new Blake2b(obpKey('passw0rd'), 16);
    mac.sign(buf, 7, 73, buf, 150);
    expect(toHex(buf.subarray(150, 166))).toBe(toHex(blake2b(buf.slice(7, 80), obpKey('passw0rd'), 16)));
    expect(mac.verify(buf, 7, 73, 150)).toBe(true);
    expect(mac.verify(flip(buf, 165, 7), 7, 73, 150)).toBe(false);
    expect(mac.verify(buf, 7, 73, 190)).toBe(false); // the MAC would run past the end
  });

  it('refuses digest and key lengths outside 1..64 and 0..64', () => {
    expect(() => new Blake2b(new Uint8Array(0), 0)).toThrow(RangeError);
    expect(() => new Blake2b(new Uint8Array(0), 65)).toThrow(RangeError);
    expect(() => new Blake2b(new Uint8Array(65), 16)).toThrow(RangeError);
  });
});

describe('the FreeDMR FBP v5 capture', () => {
  it('holds 70 DMRE v5 frames and 2 BCKA keepalives, all from FreeDMR to its target', () => {
    expect(FRAMES.map((f) => fbpKind(f)).reduce<Record<string, number>>((n, k) => ({ ...n, [k]: (n[k] ?? 0) + 1 }), {})).toEqual({ 'dmre-v5': 70, bcka: 2 });
    for (const r of RECORDS) expect([r.srcPort, r.dstPort]).toEqual([62044, 62045]);
  });

  it('every frame verifies with passw0rd, and with no other key', () => {
    const wrong = ['passw0rd!', 'Passw0rd', 'passw0r', '', 'passw0rd '].map(fbpKeys);
    for (const f of FRAMES) {
      expect(verifyFbp(f, KEYS)).toBe(true);
      for (const k of wrong) expect(verifyFbp(f, k)).toBe(false);
    }
    // Trailing NULs, or anything past the 20th byte, make the same key.
    expect(verifyFbp(DMRES[0]!, fbpKeys('passw0rd\0\0'))).toBe(true);
    expect(verifyFbp(DMRES[0]!, fbpKeys('passw0rd'.padEnd(20, '\0') + 'xyz'))).toBe(true);
  });

  it('a DMRE fails with one bit flipped anywhere in its body or MAC', () => {
    for (const [i, f] of DMRES.entries()) {
      expect(verifyDmre(flip(f, DMRE.BODY_V5 + (i % 16), i % 8), KEYS.blake2b)).toBe(false); // MAC
      expect(verifyDmre(flip(f, 4 + (i % 69), (i + 3) % 8), KEYS.blake2b)).toBe(false); // body
    }
    const f = DMRES[10]!; // every byte of one frame, tag included
    for (let at = 0; at < f.length; at++) expect(verifyFbp(flip(f, at, at % 8), KEYS), `byte ${at}`).toBe(false);
  });

  it('a BCKA fails with one bit flipped anywhere', () => {
    for (const f of CONTROL) for (let at = 0; at < f.length; at++) expect(verifyFbp(flip(f, at, (at * 5) % 8), KEYS)).toBe(false);
  });

  it('DMRE fields: FreeDMR 9990 stamps itself as sender and source, hops 1, fresh timestamps', () => {
    const start = captureStartMs(PCAP);
    let lastNs = 0n;
    const streams = new Map<number, number[]>();
    for (const [i, f] of FRAMES.entries()) {
      if (fbpKind(f) !== 'dmre-v5') continue;
      const d = decoded(f) as DecodedDmre;
      expect(d).toMatchObject({ kind: 'dmre', version: 5, peerId: 9990, sourceServer: 9990, sourceRepeater: 310000001, hops: 1 });
      expect(d).toMatchObject({ dst: 23001, slot: 1, unit: false, ber: 0, rssi: 0 });
      expect([3100001, 3200001]).toContain(d.src);
      // Sent (FreeDMR's clock) at most 1 ms before it was captured (same host, loopback).
      const capturedMs = start + RECORDS[i]!.timeUs / 1000;
      const sentMs = Number(d.timeNs / 1000n) / 1000;
      expect(capturedMs - sentMs).toBeGreaterThanOrEqual(0);
      expect(capturedMs - sentMs).toBeLessThan(1);
      expect(Math.abs(dmreTimeMs(f) - sentMs)).toBeLessThan(0.001);
      expect(d.timeNs).toBeGreaterThan(lastNs);
      lastNs = d.timeNs;
      streams.set(d.streamId, [...(streams.get(d.streamId) ?? []), d.seq]);
    }
    // Five calls, each numbered from 0 and starting with a voice header (flags 0x21).
    expect(streams.size).toBe(5);
    for (const seqs of streams.values()) expect(seqs).toEqual(seqs.map((_, i) => i));
    for (const s of streams.keys()) expect(DMRES.find((f) => dmrdStream(f) === s)![15]).toBe(0x21);
    expect(DMRES.filter((f) => dmrdSrc(f) === 3200001)).toHaveLength(4);
  });

  it('re-encoding each decoded frame gives the captured bytes', () => {
    for (const f of FRAMES) {
      const m = decoded(f);
      const again = m.kind === 'dmre' ? encodeDmre(m, KEYS.blake2b) : encodeBc(m, KEYS.hmac);
      expect(toHex(again)).toBe(toHex(f));
      expect(toHex(m.mac)).toBe(toHex(m.kind === 'dmre' ? f.subarray(DMRE.BODY_V5) : f.subarray(4)));
    }
  });

  it('the BCKA MAC is HMAC-SHA1 of the tag alone, so every keepalive of a link is the same', () => {
    const want = createHmac('sha1', obpKey('passw0rd')).update('BCKA').digest('hex');
    for (const f of CONTROL) expect(toHex(f)).toBe(toHex(utf8('BCKA')) + want);
  });

  it('the DMRD inside a DMRE is the 55-byte HBP DMRD; writeDmre builds the frame back from it', () => {
    for (const f of DMRES) {
      const dmrd = new Uint8Array(55);
      dmreToDmrd(f, dmrd);
      const d = decoded(f) as DecodedDmre;
      expect(decodeDmrd(dmrd)).toEqual(decodeDmrd(f));
      const out = new Uint8Array(FBP_LEN.DMRE_V5);
      writeDmre(out, dmrd, d, dmreTimeMs(f), KEYS.blake2b);
      expect(verifyDmre(out, KEYS.blake2b)).toBe(true);
      expect(Math.abs(dmreTimeMs(out) - dmreTimeMs(f))).toBeLessThan(0.001); // within 1 µs
      out.set(f.subarray(DMRE.TIME, DMRE.TIME + 8), DMRE.TIME);
      signDmre(out, KEYS.blake2b);
      expect(toHex(out)).toBe(toHex(f));
    }
  });
});

describe('DMRE v4 (85 bytes)', () => {
  /** A captured v5 frame recast as v4: no source repeater, hops at 68, MAC over [0, 69). */
  const v4 = (f: Uint8Array): Uint8Array => encodeDmre({ ...(decoded(f) as DmreFields), version: 4 }, KEYS.blake2b);

  it('drops the source repeater, moves hops and the MAC up, and verifies', () => {
    const f = v4(DMRES[5]!);
    expect(f.length).toBe(85);
    expect(fbpKind(f)).toBe('dmre-v4');
    expect(toHex(f.subarray(0, 68))).toBe(toHex(flip(DMRES[5]!, 55, 0).subarray(0, 68))); // 5 → 4
    expect([f[68], dmreHops(f), dmreSourceRepeater(f)]).toEqual([1, 1, 0]);
    expect(toHex(f.subarray(69))).toBe(toHex(blake2b(f.subarray(0, 69), obpKey('passw0rd'), 16)));
    expect(verifyFbp(f, KEYS)).toBe(true);
    expect(verifyFbp(f, fbpKeys('passw0rd!'))).toBe(false);
    expect(decoded(f)).toMatchObject({ version: 4, sourceRepeater: 0, hops: 1, sourceServer: 9990 });
  });
});

describe('bridge-control frames', () => {
  const hmac = (from: Uint8Array): string => createHmac('sha1', obpKey('passw0rd')).update(from).digest('hex');

  it('BCSQ: talkgroup and stream, MAC over the first 11 bytes', () => {
    const f = encodeBc({ kind: 'bcsq', tg: 23001, streamId: 0x8a36cba4 }, KEYS.hmac);
    expect(toHex(f)).toBe(toHex(utf8('BCSQ')) + '0059d9' + '8a36cba4' + hmac(f.subarray(0, 11)));
    expect(decoded(f)).toEqual({ kind: 'bcsq', tg: 23001, streamId: 0x8a36cba4, mac: f.slice(11) });
  });

  it('BCVE: the version byte, MAC over that byte alone', () => {
    const f = encodeBc({ kind: 'bcve', version: 5 }, KEYS.hmac);
    expect(toHex(f)).toBe(toHex(utf8('BCVE')) + '05' + hmac(Uint8Array.of(5)));
    expect(decoded(f)).toMatchObject({ kind: 'bcve', version: 5 });
    // The tag is not covered: the same MAC would sign any 5-byte header ending in 05.
    expect(BC_LAYOUT.bcve).toEqual({ macAt: 5, from: 4, to: 5 });
  });

  it('BCST: as FreeDMR sends it, MAC over the tag', () => {
    const f = encodeBc({ kind: 'bcst' }, KEYS.hmac);
    expect(toHex(f)).toBe(toHex(utf8('BCST')) + hmac(utf8('BCST')));
    expect(decoded(f)).toMatchObject({ kind: 'bcst' });
  });

  it('a control frame verifies only as its own kind and with its own key', () => {
    const all: [BcKind, Uint8Array][] = (['bcka', 'bcsq', 'bcve', 'bcst'] as const).map((k) => [
      k,
      encodeBc(k === 'bcsq' ? { kind: k, tg: 9, streamId: 1 } : k === 'bcve' ? { kind: k, version: 4 } : { kind: k }, KEYS.hmac),
    ]);
    for (const [k, f] of all) {
      expect(fbpKind(f)).toBe(k);
      expect(verifyBc(f, k, KEYS.hmac)).toBe(true);
      expect(verifyBc(f, k, fbpKeys('other').hmac)).toBe(false);
      // BCKA and BCST have the same length and MAC region (the tag): the tag must match the kind.
      for (const [other] of all) if (other !== k) expect(verifyBc(f, other, KEYS.hmac)).toBe(false);
    }
  });
});

describe('classification', () => {
  const ascii = (s: string, len: number): Uint8Array => {
    const b = new Uint8Array(len);
    b.set(utf8(s));
    return b;
  };

  it('names every malformed or foreign datagram with a stable code', () => {
    const f = DMRES[0]!;
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(0), 'fbp.short'],
      [utf8('BCK'), 'fbp.short'],
      [ascii('XXXX', 89), 'fbp.unknown-tag'],
      [ascii('DMRD', 73), 'fbp.v1-frame'],
      [ascii('DMRF', 78), 'fbp.unsupported-tag'],
      [ascii('EOBP', 40), 'fbp.unsupported-tag'],
      [ascii('BCTO', 24), 'fbp.unsupported-tag'],
      [f.subarray(0, 88), 'fbp.bad-length'],
      [ascii('DMRE', 73), 'fbp.bad-length'],
      [ascii('BCKA', 25), 'fbp.bad-length'],
      [ascii('BCSQ', 24), 'fbp.bad-length'],
      [ascii('BCVE', 24), 'fbp.bad-length'],
      [ascii('BCST', 31), 'fbp.bad-length'],
      [flip(f, 55, 0), 'fbp.version-mismatch'], // 89 bytes saying v4
      [((g) => ((g[55] = 5), g))(f.slice(0, 85)), 'fbp.version-mismatch'], // 85 bytes saying v5 (FD22's v4 sender)
      [((g) => (g.fill(0, 16, 20), g))(f.slice()), 'fbp.null-stream'],
    ];
    for (const [b, want] of cases) {
      expect(fbpKind(b), toHex(b.subarray(0, 8))).toBe(want);
      expect(decodeFbp(b)).toEqual({ ok: false, error: want });
      expect(verifyFbp(b, KEYS)).toBe(false);
    }
  });

  it('the timestamp writer and reader agree to within a microsecond, and clamp at 0', () => {
    const b = new Uint8Array(89);
    for (const ms of [0, 1, 1795394870691.553, 2 ** 41 + 0.25]) {
      setDmreTimeMs(b, ms);
      expect(Math.abs(dmreTimeMs(b) - ms)).toBeLessThan(0.001);
    }
    setDmreTimeMs(b, -5);
    expect(readU32(b, DMRE.TIME) + readU32(b, DMRE.TIME + 4)).toBe(0);
  });
});
