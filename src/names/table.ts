// A compact, read-only table from a 32-bit ID to a callsign and an optional name, for the RadioID
// and FreeDMR name files (about 250,000 subscribers). One JavaScript object per entry would cost
// well over 100 bytes each before the strings; here the whole table is four typed arrays:
//
//   ids      Uint32Array, sorted ascending, no duplicates (binary search)
//   offsets  Uint32Array, length n + 1: entry i's text is bytes[offsets[i], offsets[i + 1])
//   split    Uint8Array: how many of those bytes are the callsign; the rest is the name
//   bytes    Uint8Array: every callsign and name, UTF-8, back to back
//
// About 9 bytes per entry plus its text. The arrays live in SharedArrayBuffers, so a table built
// in one thread can be used by any other without a copy (`tableData`, `PackedTable.from`).

/** The arrays of a table, as posted between threads. */
export interface TableData {
  ids: Uint32Array;
  offsets: Uint32Array;
  split: Uint8Array;
  bytes: Uint8Array;
}

/** Longest callsign and name kept, in bytes of UTF-8 (longer ones are cut at a character boundary). */
export const MAX_CALLSIGN_BYTES = 32;
export const MAX_NAME_BYTES = 96;

const utf8 = new TextDecoder('utf-8');

export class PackedTable {
  private constructor(private readonly d: TableData) {}

  static from(d: TableData): PackedTable {
    const n = d.ids.length;
    if (d.offsets.length !== n + 1 || d.split.length !== n || d.offsets[n] !== d.bytes.length) throw new Error('names: inconsistent table arrays');
    return new PackedTable(d);
  }

  static empty(): PackedTable {
    return new PackedTable({ ids: new Uint32Array(0), offsets: new Uint32Array(1), split: new Uint8Array(0), bytes: new Uint8Array(0) });
  }

  get size(): number {
    return this.d.ids.length;
  }

  /** The arrays, for posting to another thread (they are shared, not copied). */
  data(): TableData {
    return this.d;
  }

  /** Bytes held by the arrays. */
  byteLength(): number {
    const { ids, offsets, split, bytes } = this.d;
    return ids.byteLength + offsets.byteLength + split.byteLength + bytes.byteLength;
  }

  /** The entry's index, or -1. */
  indexOf(id: number): number {
    const ids = this.d.ids;
    let lo = 0;
    let hi = ids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = ids[mid]!;
      if (v < id) lo = mid + 1;
      else if (v > id) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  callsignAt(i: number): string {
    const { offsets, split, bytes } = this.d;
    const start = offsets[i]!;
    return utf8.decode(bytes.subarray(start, start + split[i]!));
  }

  /** The name, or undefined when the entry has none. */
  nameAt(i: number): string | undefined {
    const { offsets, split, bytes } = this.d;
    const start = offsets[i]! + split[i]!;
    const end = offsets[i + 1]!;
    return end > start ? utf8.decode(bytes.subarray(start, end)) : undefined;
  }

  idAt(i: number): number {
    return this.d.ids[i]!;
  }
}

const encoder = new TextEncoder();

/** `text` as UTF-8 into `out` at `at`, at most `max` bytes, never splitting a character; returns the byte count. */
function putText(text: string, out: Uint8Array, at: number, max: number): number {
  // Callsigns and most names are ASCII: copied here without a call into the encoder.
  const n = text.length;
  if (n <= max) {
    let i = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) break;
      out[at + i] = c;
    }
    if (i === n) return n;
  }
  const { written } = encoder.encodeInto(text, out.subarray(at, at + max));
  return written;
}

const shared = (bytes: number): SharedArrayBuffer => new SharedArrayBuffer(bytes);

/**
 * Collects entries in any order (the files are not always sorted) into growing arrays, then
 * `finish` sorts them by ID into a PackedTable. Of entries with the same ID, the last added wins,
 * so a later file corrects an earlier one.
 */
export class TableBuilder {
  private ids = new Uint32Array(1024);
  private offsets = new Uint32Array(1025);
  private split = new Uint8Array(1024);
  private bytes = new Uint8Array(16 * 1024);
  private n = 0;
  private used = 0;

  get count(): number {
    return this.n;
  }

  add(id: number, callsign: string, name: string): void {
    if (this.n === this.ids.length) this.growEntries();
    // Worst case 3 bytes of UTF-8 per UTF-16 unit (encodeInto stops at the limit anyway).
    const room = MAX_CALLSIGN_BYTES + MAX_NAME_BYTES;
    if (this.used + room > this.bytes.length) this.growBytes(this.used + room);
    const cs = putText(callsign, this.bytes, this.used, MAX_CALLSIGN_BYTES);
    const nm = name === '' ? 0 : putText(name, this.bytes, this.used + cs, MAX_NAME_BYTES);
    this.ids[this.n] = id;
    this.split[this.n] = cs;
    this.offsets[this.n] = this.used;
    this.used += cs + nm;
    this.n++;
  }

  private growEntries(): void {
    const cap = this.ids.length * 2;
    const ids = new Uint32Array(cap);
    ids.set(this.ids);
    this.ids = ids;
    const offsets = new Uint32Array(cap + 1);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const split = new Uint8Array(cap);
    split.set(this.split);
    this.split = split;
  }

  private growBytes(need: number): void {
    let cap = this.bytes.length * 2;
    while (cap < need) cap *= 2;
    const bytes = new Uint8Array(cap);
    bytes.set(this.bytes.subarray(0, this.used));
    this.bytes = bytes;
  }

  /** The table, sorted by ID, one entry per ID, in shared memory sized exactly. */
  finish(): PackedTable {
    const n = this.n;
    const order = sortedOrder(this.ids, n);
    // Keep the last of each run of equal IDs (the order is stable: equal IDs by insertion).
    let kept = 0;
    let textBytes = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      const next = k + 1 < n ? order[k + 1]! : -1;
      if (next >= 0 && this.ids[next] === this.ids[i]) {
        order[k] = 0xffff_ffff;
        continue;
      }
      kept++;
      textBytes += this.entryEnd(i) - this.offsets[i]!;
    }
    const ids = new Uint32Array(shared(kept * 4));
    const offsets = new Uint32Array(shared((kept + 1) * 4));
    const split = new Uint8Array(shared(kept));
    const bytes = new Uint8Array(shared(textBytes));
    let j = 0;
    let at = 0;
    for (let k = 0; k < n; k++) {
      const i = order[k]!;
      if (i === 0xffff_ffff) continue;
      const start = this.offsets[i]!;
      const end = this.entryEnd(i);
      ids[j] = this.ids[i]!;
      offsets[j] = at;
      split[j] = this.split[i]!;
      bytes.set(this.bytes.subarray(start, end), at);
      at += end - start;
      j++;
    }
    offsets[kept] = at;
    return PackedTable.from({ ids, offsets, split, bytes });
  }

  private entryEnd(i: number): number {
    return i + 1 < this.n ? this.offsets[i + 1]! : this.used;
  }
}

/**
 * Indices 0..n-1 ordered by ID, equal IDs in insertion order. Below 2^21 entries each (ID, index)
 * pair is one exact double (ID * 2^21 + index < 2^53), and a Float64Array sorts numerically in
 * native code; above that, a comparator sort.
 */
function sortedOrder(ids: Uint32Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  const SHIFT = 2 ** 21;
  if (n < SHIFT) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = ids[i]! * SHIFT + i;
    keys.sort();
    for (let k = 0; k < n; k++) order[k] = keys[k]! % SHIFT;
    return order;
  }
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => ids[a]! - ids[b]! || a - b);
}
