// The DMRD packet (spec §2.1–2.2): accessors that read fields straight from the bytes, so the hot
// path allocates nothing, plus a builder for clients and tests.

import { readU24, readU32, writeAscii, writeU24, writeU32 } from '../bytes.js';
import { LEN, type HbpError } from './messages.js';

export const DMRD = {
  SEQ: 4,
  SRC: 5,
  DST: 8,
  PEER: 11,
  FLAGS: 15,
  STREAM: 16,
  PAYLOAD: 20,
  PAYLOAD_LEN: 33,
  BER: 53,
  RSSI: 54,
} as const;

/** Bits of byte 15. */
export const FLAG = {
  SLOT2: 0x80,
  UNIT: 0x40,
  FRAME_TYPE: 0x30,
  LOW: 0x0f,
} as const;

export const FrameType = { Voice: 0, VoiceSync: 1, DataSync: 2, Unused: 3 } as const;
/** Data types carried in the low nibble when the frame type is data sync. */
export const DataType = {
  VoiceHeader: 1,
  Terminator: 2,
  Csbk: 3,
  DataHeader: 6,
  Rate12: 7,
  Rate34: 8,
  Rate1: 10,
} as const;

export const dmrdSeq = (b: Uint8Array): number => b[4]!;
export const dmrdSrc = (b: Uint8Array): number => readU24(b, 5);
export const dmrdDst = (b: Uint8Array): number => readU24(b, 8);
export const dmrdPeer = (b: Uint8Array): number => readU32(b, 11);
export const dmrdFlags = (b: Uint8Array): number => b[15]!;
export const dmrdStream = (b: Uint8Array): number => readU32(b, 16);
/** 1 or 2. */
export const dmrdSlot = (b: Uint8Array): 1 | 2 => ((b[15]! & FLAG.SLOT2) !== 0 ? 2 : 1);
export const dmrdIsUnit = (b: Uint8Array): boolean => (b[15]! & FLAG.UNIT) !== 0;
export const dmrdFrameType = (b: Uint8Array): number => (b[15]! & FLAG.FRAME_TYPE) >> 4;

/**
 * Address a forwarded frame to one receiver: its peer ID at [11:15) and its slot in byte 15's top
 * bit (`slotBit` 0x80 for TS2, 0 for TS1). The one place a fan-out target is written into a frame.
 */
export function patchTarget(b: Uint8Array, peerId: number, slotBit: number): void {
  writeU32(b, DMRD.PEER, peerId);
  b[DMRD.FLAGS] = (b[DMRD.FLAGS]! & ~FLAG.SLOT2) | slotBit;
}

export const isVoiceHeader = (flags: number): boolean => (flags & 0x3f) === 0x21;
export const isTerminator = (flags: number): boolean => (flags & 0x3f) === 0x22;
/** Frame type 2 with a data type other than voice header/terminator: CSBK, data header, data blocks. */
export const isDataFrame = (flags: number): boolean => (flags & 0x30) === 0x20 && (flags & 0x0f) !== 1 && (flags & 0x0f) !== 2;

/** Validate a DMRD from the wire. Returns null when it may be processed, else an error code. */
export function checkDmrd(b: Uint8Array): HbpError | null {
  if (b.length !== LEN.DMRD && b.length !== LEN.DMRD_SHORT) return 'dmrd.bad-length';
  if (b[16] === 0 && b[17] === 0 && b[18] === 0 && b[19] === 0) return 'dmrd.null-stream';
  return null;
}

export interface DmrdFields {
  seq: number;
  src: number;
  dst: number;
  peerId: number;
  slot: 1 | 2;
  unit?: boolean;
  /** Byte 15 without the slot and call-type bits (frame type and low nibble), e.g. 0x21. */
  frame: number;
  streamId: number;
  payload?: Uint8Array;
  ber?: number;
  rssi?: number;
}

/** Build a 55-byte DMRD. */
export function encodeDmrd(f: DmrdFields): Uint8Array {
  const out = new Uint8Array(LEN.DMRD);
  writeAscii(out, 0, 'DMRD');
  out[4] = f.seq & 0xff;
  writeU24(out, 5, f.src);
  writeU24(out, 8, f.dst);
  writeU32(out, 11, f.peerId);
  out[15] = (f.slot === 2 ? FLAG.SLOT2 : 0) | (f.unit ? FLAG.UNIT : 0) | (f.frame & 0x3f);
  writeU32(out, 16, f.streamId);
  if (f.payload) out.set(f.payload.subarray(0, 33), 20);
  out[53] = f.ber ?? 0;
  out[54] = f.rssi ?? 0;
  return out;
}

/** Decoded view for logs, tests and tools (allocates; not for the hot path). */
export function decodeDmrd(b: Uint8Array): DmrdFields {
  return {
    seq: dmrdSeq(b),
    src: dmrdSrc(b),
    dst: dmrdDst(b),
    peerId: dmrdPeer(b),
    slot: dmrdSlot(b),
    unit: dmrdIsUnit(b),
    frame: b[15]! & 0x3f,
    streamId: dmrdStream(b),
    payload: b.slice(20, 53),
    ber: b.length >= 55 ? b[53]! : 0,
    rssi: b.length >= 55 ? b[54]! : 0,
  };
}
