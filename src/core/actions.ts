// Actions: what the core asks the shell to do. To keep the packet path free of allocation the core
// hands actions to an ActionSink, one method per action kind, synchronously inside `handle`; the
// arguments are valid only during the call (a sink that keeps them must copy). Replay renders the
// same calls into canonical text, so recorded behaviour is still plain data.

/** One receiver of a fan-out: the shell writes `peerId` at [11:15) and the slot bit, then sends. */
export interface Target {
  readonly socket: number;
  readonly address: string;
  readonly port: number;
  readonly peerId: number;
  /** 0x80 for TS2, 0 for TS1: the value of byte 15's bit 7 on the wire for this receiver. */
  readonly slotBit: number;
}

/** A structured log entry: a stable code and plain fields; text is made outside the core. */
export interface LogEntry {
  code: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  peer?: number;
  src?: number;
  tg?: number;
  slot?: number;
  stream?: number;
  durationMs?: number;
  packets?: number;
  lost?: number;
  address?: string;
  port?: number;
  reason?: string;
  detail?: string;
  count?: number;
}

export interface ActionSink {
  /** Send `bytes` from socket `socket` to address:port. */
  send(socket: number, address: string, port: number, bytes: Uint8Array): void;
  /**
   * Send one frame to `count` targets (the first `count` entries of `targets`). For each target the
   * shell writes its peer ID and slot bit into the frame and sends it, without copying per target.
   */
  fanOut(frame: Uint8Array, targets: readonly Target[], count: number): void;
  log(entry: LogEntry): void;
}
