// Worker entry for loadNamesOffThread: run the loader process, post the shared tables, end.

import { parentPort, workerData } from 'node:worker_threads';
import { loadNames, NamesFileError, type NamesFiles } from './index.js';
import type { ThreadReply } from './thread.js';

let reply: ThreadReply;
try {
  reply = { ok: true, names: (await loadNames(workerData as NamesFiles, { isolated: true })).share() };
} catch (err) {
  reply = err instanceof NamesFileError ? { ok: false, message: err.message, path: err.path, line: err.line } : { ok: false, message: `cannot load names: ${(err as Error).message}`, path: '', line: null };
}
parentPort?.postMessage(reply);
