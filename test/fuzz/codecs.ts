// Every parse and decode function of src/protocol, run on one datagram. The ones documented as
// "never throws" get every datagram as it is; the ones that decode what a check has accepted
// (decodeDmrd after checkDmrd, decodeFbp's field decoders after fbpKind, dmreToDmrd) get it only when
// their check passed, as the core calls them. Where a decoder has an encoder that should give the
// same bytes back, the round trip is checked too. A contract breach throws (a finding).

import {
  bptc196Decode,
  decodeEmb,
  decodeEmbeddedLc,
  decodeFullLc,
  decodeSlotType,
  extractInfoBits,
  extractVoiceBits,
  HAMMING_13_9_3,
  HAMMING_15_11_3,
  HAMMING_16_11_4,
  LcRewriter,
  lcFromBytes,
  parseIndexedPack,
  readEmb,
  readSlotType,
  rs129Check,
  rs129Correct,
  splitWordFile,
  voiceBurstCount,
} from '../../src/protocol/dmr/index.js';
import { decodeFbp, DMRE, dmreHops, dmreSourceRepeater, dmreSourceServer, dmreTimeMs, dmreTimeNs, dmreToDmrd, dmreVersion, fbpKind, isFbpError, verifyFbp, type FbpKeys } from '../../src/protocol/fbp/index.js';
import {
  checkDmrd,
  checkObpFrame,
  decodeDmrd,
  encodeDmrd,
  encodeMstcl,
  encodeMstnak,
  encodeMstpong,
  encodeRptack,
  encodeRptcl,
  encodeRptl,
  encodeRptping,
  fromHex,
  hbpKind,
  HbpKind,
  parseMasterReply,
  parsePeerOnly,
  parseRptc,
  parseRptk,
  parseRptl,
  parseRpto,
  parseTgList,
  readAscii,
  toHex,
  tokenizeOptions,
  verifyObp,
} from '../../src/protocol/index.js';
import type { HmacSha1 } from '../../src/protocol/obp/hmac-sha1.js';

const dmrdOut = new Uint8Array(55);
const rewriter = new LcRewriter(Uint8Array.of(0, 0, 0, 0, 0x09, 0x2e, 0x2f, 0x54, 0x1f));
let sink = 0;
let nth = 0;

function fail(what: string): never {
  throw new Error(`codec contract: ${what}`);
}

function same(a: Uint8Array, b: Uint8Array, n = a.length): boolean {
  if (a.length < n || b.length < n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Run every codec on `b`. `keys` and `obpMac` are a link's, so MAC checks run on real keys. */
export function fuzzCodecs(b: Uint8Array, keys: FbpKeys, obpMac: HmacSha1): void {
  // HBP
  const kind = hbpKind(b);
  const rptl = parseRptl(b);
  if (rptl.ok && kind === HbpKind.RPTL && !same(encodeRptl(rptl.value.peerId), b)) fail('RPTL round trip');
  parseRptk(b);
  const ping = parsePeerOnly(b, 7);
  // hbpKind knows RPTPING by its first 4 bytes; the ID is what must survive.
  if (ping.ok && kind === HbpKind.RPTPING && !same(encodeRptping(ping.value.peerId).subarray(7), b.subarray(7))) fail('RPTPING round trip');
  const cl = parsePeerOnly(b, 5);
  if (cl.ok && kind === HbpKind.RPTCL && !same(encodeRptcl(cl.value.peerId), b)) fail('RPTCL round trip');
  const rpto = parseRpto(b);
  if (rpto.ok) {
    const t = tokenizeOptions(rpto.value.options);
    for (const f of t.fields) sink += parseTgList(f.value, 64).tgs.length;
  }
  const rptc = parseRptc(b);
  if (rptc.ok) sink += rptc.value.callsign.length;
  const reply = parseMasterReply(b);
  if (reply.ok) {
    const enc = { RPTACK: encodeRptack, MSTNAK: encodeMstnak, MSTPONG: encodeMstpong, MSTCL: encodeMstcl }[reply.value.tag];
    if (!same(enc(reply.value.arg), b)) fail(`${reply.value.tag} round trip`);
  }
  if (checkDmrd(b) === null) {
    const f = decodeDmrd(b);
    const again = encodeDmrd(f);
    // checkDmrd looks at length and stream ID; the tag is the dispatcher's (hbpKind).
    if (kind === HbpKind.DMRD && !same(again, b, 53)) fail('DMRD round trip');
    // DMR air interface on the burst inside.
    const burst = b.subarray(20, 53);
    sink += decodeFullLc(b, 20).bptcCorrected;
    sink += decodeEmb(readEmb(burst)).errors + decodeSlotType(readSlotType(burst)).errors;
    sink += extractVoiceBits(burst)[0]! + lcFromBytes(b, 20).dst;
    const copy = b.slice();
    rewriter.patchFrame(copy, b[15]!);
  }
  if ((nth++ & 7) === 0) anyBytes(b);
  // OpenBridge v1
  if (checkObpFrame(b) === null) sink += verifyObp(b, new Uint8Array(20), (_k, d) => { const out = new Uint8Array(20); obpMac.sign(d, 0, d.length, out, 0); return out; }) ? 1 : 0;

  // FBP
  const k = fbpKind(b);
  const dec = decodeFbp(b);
  if (dec.ok !== !isFbpError(k)) fail('decodeFbp disagrees with fbpKind');
  sink += verifyFbp(b, keys) ? 1 : 0;
  if (k === 'dmre-v5' || k === 'dmre-v4') {
    dmreToDmrd(b, dmrdOut);
    for (let i = 4; i < DMRE.RSSI + 1; i++) if (dmrdOut[i] !== b[i]) fail('dmreToDmrd');
    if (readAscii(dmrdOut, 0, 4) !== 'DMRD') fail('dmreToDmrd tag');
    sink += dmreVersion(b) + dmreSourceServer(b) + dmreSourceRepeater(b) + dmreHops(b) + dmreTimeMs(b) + Number(dmreTimeNs(b) & 1n);
  }
}

/**
 * Every eighth datagram, whatever it is, also goes where only files and config text go (options
 * text, talkgroup lists, prompt packs, hex) and into the DMR decoders at odd offsets.
 */
function anyBytes(b: Uint8Array): void {
  const latin = readAscii(b, 0, Math.min(b.length, 64));
  sink += tokenizeOptions(b).fields.length + parseTgList(latin, 8).rejected.length;
  sink += decodeFullLc(b, b.length & 7).bptcCorrected + decodeEmbeddedLc(b, b.length & 3).corrected;
  sink += bptc196Decode(extractInfoBits(b, b.length & 1)) + decodeEmbeddedLc(b, 20).corrected;
  sink += rs129Correct(b.slice(0, 12)) + (rs129Check(b, b.length & 3, 0x96) ? 1 : 0);
  if (b.length > 0) {
    sink += HAMMING_15_11_3.correct((b[0]! << 7) | (b[b.length - 1]! & 0x7f)) + HAMMING_13_9_3.correct(b[0]! << 5) + HAMMING_16_11_4.correct((b[0]! << 8) | b[b.length - 1]!);
  }
  sink += splitWordFile(b).length + splitWordFile(b, 'silence').length + voiceBurstCount(b);
  const idx = parseIndexedPack(b, latin.replace(/;/g, '\n'));
  if (!idx.ok && idx.error.length === 0) fail('parseIndexedPack gave an empty error');
  const back = fromHex(toHex(b));
  if (back === null || back.length !== b.length || !same(back, b)) fail('hex round trip');
  sink += fromHex(latin) === null ? 0 : 1;
}

/** Defeats dead-code elimination of the results above. */
export const codecSink = (): number => sink;
