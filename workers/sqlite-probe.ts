// Run by the server at start, in a short-lived thread, when [sql] is enabled: can better-sqlite3
// be loaded? Posts null, or the operator-facing reason it cannot (see sqlite-module.ts). The
// module goes away with the thread; the main thread never loads it.

import { parentPort } from 'node:worker_threads';
import { loadSqlite } from './sqlite-module.js';

try {
  await loadSqlite();
  parentPort!.postMessage(null);
} catch (err) {
  parentPort!.postMessage(err instanceof Error ? err.message : String(err));
}
