// The 302-byte RPTC configuration record (spec §1.4): fixed-width ASCII fields after tag and peer ID.

import { readAscii, readU32, writeAscii, writeField, writeU32 } from '../bytes.js';
import { fail, LEN, ok, type Parsed } from './messages.js';

export interface RepeaterConfig {
  peerId: number;
  callsign: string;
  rxFreq: string;
  txFreq: string;
  txPower: string;
  colorCode: string;
  latitude: string;
  longitude: string;
  height: string;
  location: string;
  description: string;
  /** '0' none, '1' TS1, '2' TS2, '3' duplex, '4' simplex/DMO. */
  slots: string;
  url: string;
  softwareId: string;
  packageId: string;
}

/** [field, offset, width] in the order they appear on the wire. */
export const RPTC_FIELDS = [
  ['callsign', 8, 8],
  ['rxFreq', 16, 9],
  ['txFreq', 25, 9],
  ['txPower', 34, 2],
  ['colorCode', 36, 2],
  ['latitude', 38, 8],
  ['longitude', 46, 9],
  ['height', 55, 3],
  ['location', 58, 20],
  ['description', 78, 19],
  ['slots', 97, 1],
  ['url', 98, 124],
  ['softwareId', 222, 40],
  ['packageId', 262, 40],
] as const satisfies readonly (readonly [keyof RepeaterConfig, number, number])[];

/** Decode RPTC. Fields are trimmed; non-printable bytes become '?'. Exactly 302 bytes. */
export function parseRptc(b: Uint8Array): Parsed<RepeaterConfig> {
  if (b.length !== LEN.RPTC) return fail('hbp.bad-length');
  const cfg = { peerId: readU32(b, 4) } as RepeaterConfig;
  for (const [name, at, width] of RPTC_FIELDS) cfg[name] = readAscii(b, at, at + width).trim();
  return ok(cfg);
}

/** Encode RPTC the way MMDVMHost/DMRGateway do: left-aligned, space-padded, truncated. */
export function encodeRptc(cfg: Partial<RepeaterConfig> & { peerId: number }): Uint8Array {
  const out = new Uint8Array(LEN.RPTC);
  writeAscii(out, 0, 'RPTC');
  writeU32(out, 4, cfg.peerId);
  for (const [name, at, width] of RPTC_FIELDS) writeField(out, at, width, String(cfg[name] ?? ''));
  return out;
}
