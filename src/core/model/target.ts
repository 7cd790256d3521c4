// One receiver of a fan-out, as the shell needs it.

/** One receiver of a fan-out: the shell writes `peerId` at [11:15) and the slot bit, then sends. */
export interface Target {
  readonly socket: number;
  readonly address: string;
  readonly port: number;
  readonly peerId: number;
  /** 0x80 for TS2, 0 for TS1: the value of byte 15's bit 7 on the wire for this receiver. */
  readonly slotBit: number;
}
