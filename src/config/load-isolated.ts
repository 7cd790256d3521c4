// Loading the config file in a short-lived worker thread: the parser and the schema library are
// loaded there and go away with the thread, so the server's resident memory does not carry them.

import { Worker } from 'node:worker_threads';
import type { ConfigResult } from './types.js';

export async function loadConfigIsolated(path: string): Promise<ConfigResult> {
  const worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: { path } });
  try {
    return await new Promise<ConfigResult>((resolve, reject) => {
      worker.once('message', (r: ConfigResult) => resolve(r));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`config loader exited with code ${code}`)));
    });
  } catch (err) {
    return { ok: false, errors: [{ key: '', line: null, message: `cannot load the config: ${(err as Error).message}` }] };
  } finally {
    await worker.terminate();
  }
}
