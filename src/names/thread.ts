// Loading names for the server's main thread. Starting a process blocks the thread that starts it
// until the child has exec'd (5-45 ms measured on a busy two-core machine), which on the main
// thread would pause routing. So a short-lived worker thread starts the loader process and reads
// the tables (./spawn.ts), and posts them back: they are in shared memory, so nothing is copied.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LoadedNames, loadNames, NamesFileError, type NamesFiles, type SharedNames } from './index.js';

const WORKER = fileURLToPath(new URL('./thread-worker.js', import.meta.url));

export type ThreadReply = { ok: true; names: SharedNames } | { ok: false; message: string; path: string; line: number | null };

/** Like loadNames, with the loader process started from a worker thread (from the build; from the sources, in this thread). */
export async function loadNamesOffThread(files: NamesFiles): Promise<LoadedNames> {
  if (!import.meta.url.endsWith('.js') || !existsSync(WORKER)) return loadNames(files);
  const worker = new Worker(WORKER, { workerData: files });
  try {
    const reply = await new Promise<ThreadReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`names loader thread exited with code ${code}`)));
    });
    if (!reply.ok) throw Object.assign(new NamesFileError('', reply.path, reply.line), { message: reply.message });
    return LoadedNames.from(reply.names);
  } finally {
    await worker.terminate();
  }
}
