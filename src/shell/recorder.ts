// Recording events at the core boundary. Two parts:
//  - EventLog: the full NDJSON log, switched on by config or `--record`, written through a stream.
//  - FlightRing: the last N events kept in memory in preallocated arrays (no allocation per
//    datagram), written out as the same NDJSON on a crash, on SIGUSR2 or on request.

import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { CoreConfig } from '../core/config.js';
import type { CoreEvent } from '../core/inputs.js';
import { encodeEvent, type LogHeader } from '../replay/format.js';

export type Redactor = (c: CoreConfig) => CoreConfig;

export class EventLog {
  private readonly out: WriteStream;

  constructor(readonly path: string, header: LogHeader, private readonly redact: Redactor) {
    mkdirSync(dirname(path), { recursive: true });
    this.out = createWriteStream(path, { flags: 'w', mode: 0o600 });
    this.out.write(JSON.stringify(header) + '\n');
  }

  write(ev: CoreEvent): void {
    this.out.write(encodeEvent(ev, this.redact) + '\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}

const SLOT = 64; // datagrams up to this size are kept in the slab; larger ones are copied

export class FlightRing {
  private readonly kinds: Uint8Array;
  private readonly nows: Float64Array;
  private readonly sockets: Uint8Array;
  private readonly ports: Uint16Array;
  private readonly lengths: Uint16Array;
  private readonly slab: Uint8Array;
  private readonly addresses: string[];
  private readonly big: (Uint8Array | null)[];
  private readonly others: (CoreEvent | null)[];
  private next = 0;
  private count = 0;
  private wrapped = false;

  constructor(readonly capacity: number) {
    this.kinds = new Uint8Array(capacity);
    this.nows = new Float64Array(capacity);
    this.sockets = new Uint8Array(capacity);
    this.ports = new Uint16Array(capacity);
    this.lengths = new Uint16Array(capacity);
    this.slab = new Uint8Array(capacity * SLOT);
    this.addresses = new Array<string>(capacity).fill('');
    this.big = new Array<Uint8Array | null>(capacity).fill(null);
    this.others = new Array<CoreEvent | null>(capacity).fill(null);
  }

  push(ev: CoreEvent): void {
    if (this.capacity === 0) return;
    const i = this.next;
    this.nows[i] = ev.now;
    this.big[i] = null;
    this.others[i] = null;
    if (ev.kind === 'datagram-received') {
      this.kinds[i] = 1;
      this.sockets[i] = ev.socket;
      this.ports[i] = ev.port;
      this.addresses[i] = ev.address;
      const n = ev.bytes.length;
      this.lengths[i] = n;
      if (n <= SLOT) this.slab.set(ev.bytes, i * SLOT);
      else this.big[i] = ev.bytes.slice();
    } else if (ev.kind === 'ticked') {
      this.kinds[i] = 2;
    } else {
      this.kinds[i] = 3;
      this.others[i] = ev;
    }
    this.next = i + 1 === this.capacity ? 0 : i + 1;
    if (this.count < this.capacity) this.count++;
    else this.wrapped = true;
  }

  /** Events oldest first. */
  *events(): Generator<CoreEvent> {
    const start = this.count < this.capacity ? 0 : this.next;
    for (let k = 0; k < this.count; k++) {
      const i = (start + k) % this.capacity;
      const now = this.nows[i]!;
      if (this.kinds[i] === 1) {
        const n = this.lengths[i]!;
        const bytes = this.big[i] ?? this.slab.slice(i * SLOT, i * SLOT + n);
        yield { kind: 'datagram-received', now, socket: this.sockets[i]!, address: this.addresses[i]!, port: this.ports[i]!, bytes };
      } else if (this.kinds[i] === 2) {
        yield { kind: 'ticked', now };
      } else {
        yield this.others[i]!;
      }
    }
  }

  /** Write the ring as an event log (synchronously: this runs on crashes too). */
  dump(path: string, header: LogHeader, redact: Redactor): void {
    mkdirSync(dirname(path), { recursive: true });
    const lines = [JSON.stringify({ ...header, partial: this.wrapped })];
    for (const ev of this.events()) lines.push(encodeEvent(ev, redact));
    writeFileSync(path, lines.join('\n') + '\n', { mode: 0o600 });
  }
}
