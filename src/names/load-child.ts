// The process that parses names files for loadNames (./spawn.ts): it writes the finished tables
// to a file and exits, so everything the parse allocated goes back to the system with it.
//
//   node load-child.js '<NamesFiles as JSON>' OUTPUT_FILE
//
// Writes each table's ids, offsets, split and bytes arrays to OUTPUT_FILE, then one JSON line on
// stdout: ok, each table's entry count and text bytes, and the file reports; or the error.

import { openSync, writeSync, closeSync } from 'node:fs';
import { parseNames, type NamesFiles } from './index.js';
import { NamesFileError } from './read.js';
import type { TableData } from './table.js';

const shape = (t: TableData): { n: number; bytes: number } => ({ n: t.ids.length, bytes: t.bytes.length });

let reply: unknown;
try {
  const names = await parseNames(JSON.parse(process.argv[2] ?? '{}') as NamesFiles);
  const fd = openSync(process.argv[3] ?? '', 'w', 0o600);
  try {
    for (const t of [names.subscribers, names.talkgroups]) {
      for (const a of [t.ids, t.offsets, t.split, t.bytes]) {
        const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      }
    }
  } finally {
    closeSync(fd);
  }
  reply = { ok: true, files: names.files, subscribers: shape(names.subscribers), talkgroups: shape(names.talkgroups) };
} catch (err) {
  reply = err instanceof NamesFileError ? { ok: false, message: err.message, path: err.path, line: err.line } : { ok: false, message: `cannot load names: ${(err as Error).message}`, path: '', line: null };
}
process.stdout.write(JSON.stringify(reply) + '\n');
