// Recording events at the core boundary. Two parts:
//  - EventLog (event-log.ts): the full NDJSON log, switched on by config or `--record`.
//  - FlightRing: the last N events kept in memory in preallocated arrays (no allocation per
//    datagram), written out as the same NDJSON on a crash (synchronously), or on SIGUSR2 (in
//    chunks across event-loop turns, from a copy of the ring, so routing never waits for it).

import { mkdirSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CoreConfig } from '../core/config.js';
import type { CoreEvent } from '../core/inputs.js';
import { encodeEvent, type LogHeader } from '../replay/format.js';

export type Redactor = (c: CoreConfig) => CoreConfig;

const SLOT = 64; // datagrams up to this size are kept in the slab; larger ones are copied

/** Distinct source addresses the flight ring keeps one copy of before it starts again. */
const INTERNED = 4096;

export class FlightRing {
  private readonly kinds: Uint8Array;
  private readonly nows: Float64Array;
  private readonly sockets: Uint8Array;
  private readonly ports: Uint16Array;
  private readonly lengths: Uint16Array;
  private readonly slab: Uint8Array;
  private readonly addresses: string[];
  /**
   * One copy of each source address: the ring keeps that copy, not the string each datagram
   * brings, which would otherwise live for a whole turn of the ring and be promoted to V8's old
   * space (the slow RSS drift of the soak benchmark). Cleared when it reaches INTERNED addresses.
   */
  private readonly interned = new Map<string, string>();
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

  private intern(address: string): string {
    const known = this.interned.get(address);
    if (known !== undefined) return known;
    if (this.interned.size >= INTERNED) this.interned.clear();
    this.interned.set(address, address);
    return address;
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
      this.addresses[i] = this.intern(ev.address);
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

  /**
   * A copy of the ring as it is now (typed arrays copied whole: about 1.5 MB for 20 000 events),
   * which new events cannot overwrite while it is written out.
   */
  snapshot(): FlightRing {
    const copy = Object.create(FlightRing.prototype) as FlightRing;
    Object.assign(copy, {
      capacity: this.capacity,
      kinds: this.kinds.slice(),
      nows: this.nows.slice(),
      sockets: this.sockets.slice(),
      ports: this.ports.slice(),
      lengths: this.lengths.slice(),
      slab: this.slab.slice(),
      addresses: this.addresses.slice(),
      big: this.big.slice(),
      others: this.others.slice(),
      next: this.next,
      count: this.count,
      wrapped: this.wrapped,
    });
    return copy;
  }

  get partial(): boolean {
    return this.wrapped;
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

/** Events encoded per chunk of an asynchronous dump: a few milliseconds of work each. */
export const DUMP_CHUNK = 256;

/**
 * Write a snapshot of the ring as an event log without holding the event loop: `chunk` events are
 * encoded per turn and written before the next are encoded, so memory stays at one chunk of text
 * and the packet path runs between chunks. Resolves when the file is complete; rejects (the file
 * left partial) on a write error.
 */
export async function dumpInChunks(ring: FlightRing, path: string, header: LogHeader, redact: Redactor, chunk = DUMP_CHUNK): Promise<void> {
  const snap = ring.snapshot();
  mkdirSync(dirname(path), { recursive: true });
  const fh = await open(path, 'w', 0o600);
  try {
    await fh.write(JSON.stringify({ ...header, partial: snap.partial }) + '\n');
    let lines: string[] = [];
    for (const ev of snap.events()) {
      lines.push(encodeEvent(ev, redact));
      if (lines.length === chunk) {
        await fh.write(lines.join('\n') + '\n');
        lines = [];
        await new Promise((r) => setImmediate(r));
      }
    }
    if (lines.length > 0) await fh.write(lines.join('\n') + '\n');
  } finally {
    await fh.close();
  }
}
