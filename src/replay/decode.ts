// Decoded transcripts: the canonical action lines (./render.ts) turned into lines a person can
// review. The canonical lines pin every byte; these say who gets which frame:
//
//   @<now> send <to> <address>:<port> [socket <n>] DMRD #<seq> <src> -> tg <dst> ts<1|2> stream <id> <phase> [lc <dst>] …
//   @<now> send <to> <address>:<port> RPTACK <arg>             (also MSTNAK, MSTPONG, MSTCL)
//   @<now> send <to> <address>:<port> socket <n> RPTL <id>     (an uplink to its master: also RPTK,
//          RPTPING, RPTCL; RPTC <id> <callsign>; RPTO <id> "<options>")
//   @<now> send <to> <address>:<port> DMRA <src> block <n> "<alias>"
//   @<now> send <to> <address>:<port> socket <n> DMRE #<seq> <src> -> tg <dst> ts1 stream <id> <phase> [lc <dst>] …
//          hops <n> source <server> [repeater <id>]            (an FBP link's data frame)
//   @<now> send <to> <address>:<port> socket <n> BCSQ tg <tg> stream <id>
//          (also BCKA; BCVE version <n>; BCST)                  (an FBP link's control frames)
//   @<now> log <code> key=value …                              (as in the canonical line)
//   @<now> report <kind> key=value …                           (empty strings left out)
//
// <to> is the name the caller gives the receiver's address (a script's peer name), else the peer
// ID that logged in from that address (from the peer-login reports seen so far), else "-".
// A DMRD names its destination "tg <n>" for a group call and "unit <n>" for a private one; the
// phase is voice-header, burst-A … burst-F, terminator, or a data type (data-header, rate-1/2,
// rate-3/4, rate-1, csbk, data-<n>). `lc <n>` is the destination in the link control the frame
// carries: the full LC of a voice header or terminator (when its Reed-Solomon check passes), and
// the embedded LC of a superframe on its burst E (when bursts B–E decode with a good checksum);
// an all-zero LC is not shown.
// Optional fields: `peer <id>` when the frame's peer ID is not the receiver's, `obp` for a
// 73-byte OpenBridge frame (53 bytes + MAC), `short` for a 53-byte DMRD, `ber`/`rssi` when not 0.
// A DMRE (FBP) reads like a DMRD, then its hop count, the server where the call entered the mesh
// and (v5) the repeater it came from, and `v4` for an 85-byte frame; its timestamp and MAC are not
// shown. A BCSQ names the talkgroup and stream to stop sending, a BCVE its version.
// Hex appears nowhere: what a decoded line leaves out is pinned by the digest of the canonical lines.
//
// Pure (no Node APIs): used by the golden scripts' tests and by `dmrhub replay --decoded`.

import { fromHex, readU24, readU32 } from '../protocol/bytes.js';
import { decodeEmbeddedLc, decodeFullLc, readEmbeddedFragment } from '../protocol/dmr/index.js';
import { DMRE } from '../protocol/fbp/dmre.js';
import { fbpKind, isFbpError, type FbpKind } from '../protocol/fbp/kinds.js';

/** What the decoder knows about a receiver: a name, and the peer ID it logged in with (if a peer). */
export interface Receiver {
  name: string;
  peerId?: number;
}

/** Receiver names by socket, address and port; null when unknown. */
export type ReceiverLookup = (socket: number, address: string, port: number) => Receiver | null;

const DATA_TYPES: Record<number, string> = { 1: 'voice-header', 2: 'terminator', 3: 'csbk', 6: 'data-header', 7: 'rate-1/2', 8: 'rate-3/4', 10: 'rate-1' };

/** The call phase of a DMRD from byte 15 (slot and call-type bits ignored). */
export function framePhase(flags: number): string {
  const type = (flags & 0x30) >> 4;
  const low = flags & 0x0f;
  if (type === 1) return low === 0 ? 'burst-A' : `sync-${low}`;
  if (type === 0) return low >= 1 && low <= 5 ? `burst-${'ABCDEF'[low]}` : `voice-${low}`;
  if (type === 2) return DATA_TYPES[low] ?? `data-${low}`;
  return `type3-${low}`;
}

/** Byte 15 (without slot and call-type bits) for a phase name; null when the name is unknown. */
export function phaseFlags(phase: string): number | null {
  if (phase === 'burst-A') return 0x10;
  const burst = /^burst-([B-F])$/.exec(phase);
  if (burst) return 'ABCDEF'.indexOf(burst[1]!);
  for (const [low, name] of Object.entries(DATA_TYPES)) if (name === phase) return 0x20 | Number(low);
  return null;
}

/** False for an all-zero LC (it passes the embedded checksum, but no frame that carries one says anything). */
const carriesLc = (lc: Uint8Array): boolean => lc.some((x) => x !== 0);

/** The leading upper-case ASCII of a datagram (its HBP tag and what follows, e.g. "RPTACK"). */
function asciiTag(b: Uint8Array): string {
  let s = '';
  for (const c of b.subarray(0, 7)) {
    if (c < 0x41 || c > 0x5a) break;
    s += String.fromCharCode(c);
  }
  return s;
}

const CONTROL: [tag: string, length: number][] = [
  ['RPTACK', 10],
  ['MSTNAK', 10],
  ['MSTPONG', 11],
  ['MSTCL', 9],
];

/** What a client (an uplink) sends its master: tags whose argument is the peer ID at the end. */
const CLIENT: [tag: string, length: number][] = [
  ['RPTL', 8],
  ['RPTK', 40],
  ['RPTPING', 11],
  ['RPTCL', 9],
];

const ascii = (b: Uint8Array): string => {
  let s = '';
  for (const c of b) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '?';
  return s;
};

/** A report's fields as key=value (its kind first); empty strings are left out. */
export function compactReport(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const parts = [String(o['report'])];
  for (const [k, v] of Object.entries(o)) {
    if (k === 'report' || v === '') continue;
    const s = typeof v === 'string' ? (/^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)) : JSON.stringify(v);
    parts.push(`${k}=${s}`);
  }
  return parts.join(' ');
}

/**
 * Turns canonical lines into decoded ones, one for one. Keeps the embedded-LC fragments of each
 * receiver's stream between lines, so feed it every line of a run in order.
 */
export class TranscriptDecoder {
  private readonly frags = new Map<string, Uint8Array>();
  /** Peers named by their ID, from the peer-login reports seen so far (when the lookup knows no name). */
  private readonly loggedIn = new Map<string, Receiver>();

  constructor(private readonly lookup: ReceiverLookup = () => null) {}

  line(canonical: string): string {
    const send = /^(@\d+) send (\d+) (\S+):(\d+) ([0-9a-f]*)$/.exec(canonical);
    if (send) {
      const socket = Number(send[2]);
      const address = send[3]!;
      const port = Number(send[4]);
      const bytes = fromHex(send[5]!) ?? new Uint8Array(0);
      const rx = this.lookup(socket, address, port) ?? (socket === 0 ? (this.loggedIn.get(`${address}:${port}`) ?? null) : null);
      const where = `${rx?.name ?? '-'} ${address}:${port}${socket !== 0 ? ` socket ${socket}` : ''}`;
      return `${send[1]} send ${where} ${this.datagram(bytes, rx, `${socket} ${address}:${port}`)}`;
    }
    const report = /^(@\d+) report (.*)$/.exec(canonical);
    if (report) {
      this.learn(report[2]!);
      return `${report[1]} report ${compactReport(report[2]!)}`;
    }
    return canonical;
  }

  lines(canonical: readonly string[]): string[] {
    return canonical.map((l) => this.line(l));
  }

  private learn(json: string): void {
    if (!json.startsWith('{"report":"peer-login"')) return;
    const r = JSON.parse(json) as { peer: number; address: string; port: number };
    this.loggedIn.set(`${r.address}:${r.port}`, { name: String(r.peer), peerId: r.peer });
  }

  private datagram(b: Uint8Array, rx: Receiver | null, key: string): string {
    const tag = asciiTag(b);
    if (tag.startsWith('DMRD') && (b.length === 55 || b.length === 53 || b.length === 73)) return this.dmrd(b, rx, key);
    const fbp = fbpKind(b);
    if (!isFbpError(fbp)) return this.fbp(b, fbp, rx, key);
    if (tag.startsWith('DMRA') && b.length >= 12) {
      const peer = readU32(b, 4);
      let text = '';
      for (const c of b.subarray(12)) text += String.fromCharCode(c);
      return `DMRA${peer !== rx?.peerId ? ` peer ${peer}` : ''} ${readU24(b, 8)} block ${b[11]} ${JSON.stringify(text)}`;
    }
    for (const [name, length] of CONTROL) if (tag.startsWith(name) && b.length === length) return `${name} ${readU32(b, name.length)}`;
    for (const [name, length] of CLIENT) if (tag.startsWith(name) && b.length === length) return `${name} ${readU32(b, name.length)}`;
    if (tag.startsWith('RPTC') && b.length === 302) return `RPTC ${readU32(b, 4)} ${JSON.stringify(ascii(b.subarray(8, 16)).trim())}`;
    if (tag.startsWith('RPTO') && b.length >= 8) return `RPTO ${readU32(b, 4)} ${JSON.stringify(ascii(b.subarray(8)))}`;
    return `${tag === '' ? 'datagram' : tag} length ${b.length}`;
  }

  /** An FBP frame: a DMRE as a DMRD with its mesh fields, or a BC* control frame's fields. */
  private fbp(b: Uint8Array, kind: FbpKind, rx: Receiver | null, key: string): string {
    switch (kind) {
      case 'bcka':
        return 'BCKA';
      case 'bcst':
        return 'BCST';
      case 'bcve':
        return `BCVE version ${b[4]}`;
      case 'bcsq':
        return `BCSQ tg ${readU24(b, 4)} stream ${readU32(b, 7)}`;
    }
    const v5 = kind === 'dmre-v5';
    const out = [`DMRE${this.dmrd(b, rx, key, true).slice(4)}`, `hops ${b[v5 ? DMRE.HOPS_V5 : DMRE.HOPS_V4]}`, `source ${readU32(b, DMRE.SOURCE_SERVER)}`];
    if (v5) out.push(`repeater ${readU32(b, DMRE.SOURCE_REPEATER)}`);
    else out.push('v4');
    return out.join(' ');
  }

  private dmrd(b: Uint8Array, rx: Receiver | null, key: string, dmre = false): string {
    const flags = b[15]!;
    const stream = readU32(b, 16);
    const peer = readU32(b, 11);
    const t = flags & 0x3f;
    const out = [`DMRD #${b[4]}`, `${readU24(b, 5)} -> ${flags & 0x40 ? 'unit' : 'tg'} ${readU24(b, 8)}`, `ts${flags & 0x80 ? 2 : 1}`, `stream ${stream}`, framePhase(flags)];
    if (t === 0x21 || t === 0x22) {
      const lc = decodeFullLc(b, 20);
      if (lc.rsOk && carriesLc(lc.lc)) out.push(`lc ${readU24(lc.lc, 3)}`);
    } else if (t === 0x10 || (t >= 1 && t <= 4)) {
      const k = `${key} ${stream}`;
      let frags = this.frags.get(k);
      if (frags === undefined) this.frags.set(k, (frags = new Uint8Array(16)));
      if (t === 0x10) frags.fill(0);
      else readEmbeddedFragment(b, t, frags, 20);
      if (t === 4) {
        const e = decodeEmbeddedLc(frags);
        if (e.ok && carriesLc(e.lc)) out.push(`lc ${readU24(e.lc, 3)}`);
      }
    }
    if (t === 0x22) this.frags.delete(`${key} ${stream}`);
    if (peer !== rx?.peerId) out.push(`peer ${peer}`);
    if (dmre) {
      if (b[DMRE.BER] !== 0) out.push(`ber ${b[DMRE.BER]}`);
      if (b[DMRE.RSSI] !== 0) out.push(`rssi ${b[DMRE.RSSI]}`);
    } else if (b.length === 73) out.push('obp');
    else if (b.length === 53) out.push('short');
    else {
      if (b[53] !== 0) out.push(`ber ${b[53]}`);
      if (b[54] !== 0) out.push(`rssi ${b[54]}`);
    }
    return out.join(' ');
  }
}
