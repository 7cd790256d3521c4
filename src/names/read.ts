// Reading one names file, chunk by chunk, into a TableBuilder. The format is told by the first
// character: `{` or `[` is JSON (RadioID users.json, FreeDMR subscriber_ids.json and
// talkgroup_ids.json), anything else CSV with a header row (RadioID user.csv). Between chunks the
// reader awaits the next read, so the thread it runs in is never held for long.

import { open } from 'node:fs/promises';
import { ChunkText, JsonRecordScanner, NamesFormatError } from './json-records.js';
import type { TableBuilder } from './table.js';

export type NamesKind = 'subscribers' | 'talkgroups';

export interface FileReport {
  path: string;
  format: 'json' | 'csv';
  /** Entries added. */
  records: number;
  /** Records left out (no usable ID or callsign), with the first few places named in `warnings`. */
  skipped: number;
  warnings: string[];
}

/** A names file that cannot be used; the message starts with "<path>:<line>:" where the line is known. */
export class NamesFileError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly line: number | null,
  ) {
    super(`${path}${line === null ? '' : `:${line}`}: ${message}`);
    this.name = 'NamesFileError';
  }
}

const CHUNK = 256 * 1024;
const MAX_WARNINGS = 5;
const MAX_ID = 0xffff_ffff;

/** A DMR ID from a number or a string of digits, or null. */
export function parseId(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d{1,10}\s*$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= MAX_ID ? n : null;
}

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');
const joinName = (first: string, last: string): string => (first === '' ? last : last === '' ? first : `${first} ${last}`);

export async function readNamesFile(path: string, kind: NamesKind, into: TableBuilder): Promise<FileReport> {
  const report: FileReport = { path, format: 'json', records: 0, skipped: 0, warnings: [] };
  const skip = (line: number, why: string): void => {
    report.skipped++;
    if (report.warnings.length < MAX_WARNINGS) report.warnings.push(`${path}:${line}: ${why}; skipped`);
  };
  const add = (id: number | null, callsign: string, name: string, line: number): void => {
    if (id === null) return skip(line, 'no valid ID (1..4294967295)');
    if (callsign === '') return skip(line, kind === 'talkgroups' ? 'no talkgroup name' : 'no callsign');
    into.add(id, callsign, name);
    report.records++;
  };
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new NamesFileError(`cannot open: ${(err as Error).message}`, path, null);
  }
  try {
    let feeder: { feed(text: string): void; end(): void } | null = null;
    const text = new ChunkText();
    const buf = new Uint8Array(CHUNK);
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      let chunk = text.decode(buf.subarray(0, bytesRead));
      if (feeder === null) {
        if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
        const first = /\S/.exec(chunk)?.[0];
        if (first === undefined) continue;
        report.format = first === '{' || first === '[' ? 'json' : 'csv';
        feeder = report.format === 'json' ? jsonFeeder(kind, add, (line, why) => skip(line, why)) : new CsvReader(kind, add);
      }
      feeder.feed(chunk);
    }
    const rest = text.flush();
    if (feeder === null) throw new NamesFormatError('the file is empty', null);
    if (rest !== '') feeder.feed(rest);
    feeder.end();
  } catch (err) {
    if (err instanceof NamesFormatError) throw new NamesFileError(err.message, path, err.line);
    if (err instanceof NamesFileError) throw err;
    throw new NamesFileError(`cannot read: ${(err as Error).message}`, path, null);
  } finally {
    await handle.close();
  }
  if (report.records === 0) throw new NamesFileError(`no usable records (${report.skipped} skipped)${report.warnings[0] ? `; first: ${report.warnings[0]}` : ''}`, path, null);
  return report;
}

type Add = (id: number | null, callsign: string, name: string, line: number) => void;

function jsonFeeder(kind: NamesKind, add: Add, skip: (line: number, why: string) => void): JsonRecordScanner {
  return new JsonRecordScanner((value, line) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return skip(line, 'not a JSON object');
    const r = value as Record<string, unknown>;
    const id = parseId(r.id ?? r.radio_id);
    if (kind === 'talkgroups') return add(id, str(r.callsign) || str(r.name), '', line);
    // RadioID: fname/name (first name) and surname; FreeDMR's subscriber file has the same fields.
    add(id, str(r.callsign), joinName(str(r.fname) || str(r.name), str(r.surname)), line);
  });
}

/** Header names, compared lowercased with everything but letters and digits removed. */
const HEADERS = {
  id: ['radioid', 'id', 'dmrid', 'tg', 'talkgroup', 'tgid'],
  callsign: ['callsign', 'call'],
  first: ['firstname', 'fname', 'first', 'name'],
  last: ['lastname', 'surname', 'last'],
} as const;

const norm = (h: string): string => h.toLowerCase().replace(/[^a-z0-9]/g, '');

/** CSV with a header row, one record a line; fields may be quoted ("a, b" and "say ""hi"""). */
class CsvReader {
  private carry = '';
  private line = 0;
  private cols: { id: number; callsign: number; first: number; last: number } | null = null;

  constructor(
    private readonly kind: NamesKind,
    private readonly add: Add,
  ) {}

  feed(chunk: string): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      let text = chunk.slice(start, nl);
      if (this.carry !== '') {
        text = this.carry + text;
        this.carry = '';
      }
      this.onLine(text);
      start = nl + 1;
    }
    if (start < chunk.length) this.carry += chunk.slice(start);
  }

  end(): void {
    if (this.carry !== '') this.onLine(this.carry);
    this.carry = '';
    if (this.cols === null) throw new NamesFormatError('no header row', null);
  }

  private onLine(raw: string): void {
    this.line++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    const fields = splitCsvLine(text);
    if (fields === null) throw new NamesFormatError('unterminated quoted field', this.line);
    if (this.cols === null) return this.header(fields);
    const { id, callsign, first, last } = this.cols;
    const at = (i: number): string => (i < 0 ? '' : (fields[i] ?? '').trim());
    if (this.kind === 'talkgroups') {
      // A talkgroup file's name column may be called name or callsign.
      return this.add(parseId(at(id)), at(callsign) || at(first), '', this.line);
    }
    this.add(parseId(at(id)), at(callsign), joinName(at(first), at(last)), this.line);
  }

  private header(fields: string[]): void {
    const names = fields.map(norm);
    const find = (options: readonly string[]): number => {
      for (const o of options) {
        const i = names.indexOf(o);
        if (i >= 0) return i;
      }
      return -1;
    };
    const cols = { id: find(HEADERS.id), callsign: find(HEADERS.callsign), first: find(HEADERS.first), last: find(HEADERS.last) };
    const nameCol = this.kind === 'talkgroups' ? Math.max(cols.callsign, cols.first) : cols.callsign;
    if (cols.id < 0 || nameCol < 0) {
      const want = this.kind === 'talkgroups' ? 'an ID column (RADIO_ID, ID or TG) and a NAME or CALLSIGN column' : 'an ID column (RADIO_ID or ID) and a CALLSIGN column';
      throw new NamesFormatError(`the header row has no ${cols.id < 0 ? 'ID' : 'name'} column: expected ${want}, got "${fields.join(',').slice(0, 80)}"`, this.line);
    }
    this.cols = cols;
  }
}

/** One CSV line's fields, or null when a quoted field is not closed. */
export function splitCsvLine(line: string): string[] | null {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      // Anything between the closing quote and the comma is kept, as most readers do.
      const comma = line.indexOf(',', i);
      out.push(value + (comma < 0 ? line.slice(i) : line.slice(i, comma)));
      if (comma < 0) return out;
      i = comma + 1;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}
