// Parsing names files in a child process (./load-child.ts) and reading its tables from a
// temporary file straight into shared memory of their exact size. A worker thread was tried
// first: its isolate and the parse's buffers are freed when it ends, but the C allocator keeps
// much of that memory in the process, and 250,000 subscribers added about 24 MB of resident
// memory for 7.7 MB of tables. Reading the tables through a pipe left the pipe's 64 KiB chunks
// behind in about half the runs (another 7 MB). A process gives all of its memory back when it
// exits, and a file read lands in the tables without a buffer between (BENCHMARKS.md, "Names").

import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SharedNames } from './index.js';
import type { FileReport } from './read.js';
import { NamesFileError } from './read.js';
import type { TableData } from './table.js';

type Shape = { n: number; bytes: number };
type Reply = { ok: true; files: FileReport[]; subscribers: Shape; talkgroups: Shape } | { ok: false; message: string; path: string; line: number | null };

const table = ({ n, bytes }: Shape): TableData => ({
  ids: new Uint32Array(new SharedArrayBuffer(n * 4)),
  offsets: new Uint32Array(new SharedArrayBuffer((n + 1) * 4)),
  split: new Uint8Array(new SharedArrayBuffer(n)),
  bytes: new Uint8Array(new SharedArrayBuffer(bytes)),
});

const asBytes = (a: Uint32Array | Uint8Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Longest a load may take before its process is ended (a file on a hung mount, say). */
const LOAD_TIMEOUT_MS = 120_000;

function run(childFile: string, files: object, out: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [childFile, JSON.stringify(files), out], { maxBuffer: 1 << 20, timeout: LOAD_TIMEOUT_MS }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (line.startsWith('{')) return resolve(JSON.parse(line) as Reply);
      if (err?.killed) return reject(new Error(`names loader: no answer after ${LOAD_TIMEOUT_MS / 1000} s; ended it`));
      const why = (stderr.trim().split('\n').slice(-3).join(' / ') || err?.message) ?? 'no reply';
      reject(new Error(`names loader ended without a reply: ${why}`));
    });
    // The parse takes a core for a few seconds: at the lowest priority it takes only what routing
    // leaves (on a two-core machine it otherwise doubled the server's event-loop delay p99).
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, 19);
      } catch {
        /* not permitted here: it runs at normal priority */
      }
    }
  });
}

/** Runs `childFile` with node and reads its tables; rejects with a NamesFileError for a bad file. */
export async function parseInProcess(files: object, childFile: string): Promise<SharedNames> {
  const dir = await mkdtemp(join(tmpdir(), 'dmrhub-names-'));
  try {
    const out = join(dir, 'tables.bin');
    const reply = await run(childFile, files, out);
    if (!reply.ok) throw Object.assign(new NamesFileError('', reply.path, reply.line), { message: reply.message });
    const subscribers = table(reply.subscribers);
    const talkgroups = table(reply.talkgroups);
    const handle = await open(out, 'r');
    try {
      for (const t of [subscribers, talkgroups]) {
        for (const dest of [asBytes(t.ids), asBytes(t.offsets), t.split, t.bytes]) {
          for (let at = 0; at < dest.length; ) {
            const { bytesRead } = await handle.read(dest, at, dest.length - at, null);
            if (bytesRead === 0) throw new Error('names loader: its table file is shorter than it said');
            at += bytesRead;
          }
        }
      }
    } finally {
      await handle.close();
    }
    return { subscribers, talkgroups, files: reply.files };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
