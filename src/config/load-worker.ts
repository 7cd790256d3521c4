// Worker entry for load-isolated.ts: load, validate, post the result, end.

import { parentPort, workerData } from 'node:worker_threads';
import { loadConfigFile } from './load.js';

parentPort?.postMessage(loadConfigFile((workerData as { path: string }).path));
