// Canonical rendering of actions: one line per action, fan-outs expanded to the exact bytes each
// receiver gets. Two runs that make the same decisions render the same text.
//   @<now> send <socket> <address>:<port> <hex>
//   @<now> log <code> key=value …   (keys sorted)
//   @<now> report <JSON of the report, without its `now`>

import { toHex } from '../protocol/bytes.js';
import { patchTarget } from '../protocol/hbp/dmrd.js';
import type { ActionSink, CoreReport, LogEntry, Target } from '../core/actions.js';

export class CanonicalSink implements ActionSink {
  readonly lines: string[] = [];
  now = 0;

  send(socket: number, address: string, port: number, bytes: Uint8Array): void {
    this.lines.push(`@${this.now} send ${socket} ${address}:${port} ${toHex(bytes)}`);
  }

  fanOut(frame: Uint8Array, targets: readonly Target[], count: number): void {
    const out = frame.slice();
    for (let i = 0; i < count; i++) {
      const t = targets[i]!;
      patchTarget(out, t.peerId, t.slotBit);
      this.lines.push(`@${this.now} send ${t.socket} ${t.address}:${t.port} ${toHex(out)}`);
    }
  }

  log(entry: LogEntry): void {
    const keys = Object.keys(entry).filter((k) => k !== 'code' && k !== 'level').sort();
    const rec = entry as unknown as Record<string, unknown>;
    const fields = keys.map((k) => `${k}=${String(rec[k])}`).join(' ');
    this.lines.push(`@${this.now} log ${entry.code}${fields ? ' ' + fields : ''}`);
  }

  report(r: CoreReport): void {
    const { now: _now, ...rest } = r;
    this.lines.push(`@${this.now} report ${JSON.stringify(rest)}`);
  }
}
