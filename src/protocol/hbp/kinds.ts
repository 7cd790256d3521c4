// Recognising HomeBrew (HBP) datagrams by their leading ASCII tag (spec §1.1–1.2).
// The dispatcher looks at 4 bytes, with RPTCL told from RPTC by a 5th byte and RPTPING by its prefix.

export const HbpKind = {
  Unknown: 0,
  RPTL: 1,
  RPTK: 2,
  RPTC: 3,
  RPTCL: 4,
  RPTO: 5,
  RPTPING: 6,
  DMRD: 7,
  DMRA: 8,
  RPTG: 9,
  DMRG: 10,
  DMRC: 11,
  /** Trunking (DTC*), DMRT, proxy (PRIN/PRBL), DMRP/DMRB gateway-local: recognised, never handled. */
  Unsupported: 12,
  // Master → peer (what a client receives)
  RPTACK: 20,
  MSTNAK: 21,
  MSTPONG: 22,
  MSTCL: 23,
  RPTSBKN: 24,
} as const;
export type HbpKind = (typeof HbpKind)[keyof typeof HbpKind];

const R = 0x52, P = 0x50, T = 0x54, D = 0x44, M = 0x4d, S = 0x53;

/** Classify a datagram by its tag. Never throws; short or unknown input gives Unknown. */
export function hbpKind(b: Uint8Array): HbpKind {
  if (b.length < 4) return HbpKind.Unknown;
  const c0 = b[0], c1 = b[1], c2 = b[2], c3 = b[3];
  if (c0 === D && c1 === M && c2 === R) {
    if (c3 === D) return HbpKind.DMRD; // 'DMRD'
    if (c3 === 0x41) return HbpKind.DMRA; // 'DMRA'
    if (c3 === 0x47) return HbpKind.DMRG; // 'DMRG'
    if (c3 === 0x43) return HbpKind.DMRC; // 'DMRC'
    if (c3 === T || c3 === P || c3 === 0x42) return HbpKind.Unsupported; // DMRT, DMRP, DMRB
    return HbpKind.Unknown;
  }
  if (c0 === R && c1 === P && c2 === T) {
    switch (c3) {
      case 0x4c: return HbpKind.RPTL; // 'RPTL'
      case 0x4b: return HbpKind.RPTK; // 'RPTK'
      // In a 302-byte RPTC the 5th byte is the first byte of the peer ID, so only a shorter datagram
      // with 'L' there is RPTCL (a well-formed one is 9 bytes; other lengths then fail its parser).
      case 0x43: return b.length !== 302 && b.length >= 5 && b[4] === 0x4c ? HbpKind.RPTCL : HbpKind.RPTC;
      case 0x4f: return HbpKind.RPTO; // 'RPTO'
      case P: return HbpKind.RPTPING; // 'RPTP…'
      case 0x47: return HbpKind.RPTG; // 'RPTG'
      case 0x41: return HbpKind.RPTACK; // 'RPTA…'
      case S: return HbpKind.RPTSBKN; // 'RPTS…'
      default: return HbpKind.Unknown;
    }
  }
  if (c0 === M && c1 === S && c2 === T) {
    if (c3 === 0x4e) return HbpKind.MSTNAK; // 'MSTN'
    if (c3 === P) return HbpKind.MSTPONG; // 'MSTP'
    if (c3 === 0x43) return HbpKind.MSTCL; // 'MSTC'
    return HbpKind.Unknown;
  }
  if (c0 === D && c1 === T && c2 === 0x43) return HbpKind.Unsupported; // DTC* (trunking)
  if (c0 === P && c1 === R && (c2 === 0x49 || c2 === 0x42)) return HbpKind.Unsupported; // PRIN / PRBL
  return HbpKind.Unknown;
}
