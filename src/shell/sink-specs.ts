// What the reporting thread runs, from a config: the sink modules and their options (the console,
// MQTT, SQLite), the hub's settings that a reload may change, and where the compiled workers and the
// dashboard's files are. Split from driver.ts, which starts and reloads them.

import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { redactConfig, type AppConfig } from '../config/types.js';
import type { ConsoleSinkOptions } from '../reporting/console.js';
import type { MqttSinkOptions, SqlSinkOptions } from '../reporting/sinks.js';
import type { SinkSpec } from './reporting.js';
import { VERSION } from './version.js';

/** Where the compiled reporting workers are (dist/workers next to dist/src). */
export const workerFile = (name: string): string => fileURLToPath(new URL(`../../workers/${name}`, import.meta.url));

/** The dashboard's static files: console/ at the top of the repository (and of the npm package). */
export const dashboardDir = (): string => fileURLToPath(new URL('../../../console/', import.meta.url));

/** The least time from one of the console's event batches to the next (ms). */
export const CONSOLE_BATCH_MS = 500;

export function sinkSpecs(app: AppConfig): SinkSpec[] {
  const sinks: SinkSpec[] = [];
  if (app.console.enabled) {
    const c = app.console;
    const data: ConsoleSinkOptions = {
      address: c.address,
      port: c.port,
      token: c.token,
      names: app.names,
      auditLog: c.auditLog,
      dashboardDir: dashboardDir(),
      version: VERSION,
      server: app.server.name,
      startedAt: Date.now(),
      config: redactConfig(app),
      backlog: 2000,
      lastheard: 5000,
    };
    // Under a steady flow of calls, two batches a second; a call after a quiet spell goes at once.
    sinks.push({ name: 'console', module: workerFile('console-sink.js'), options: data, minBatchMs: CONSOLE_BATCH_MS });
  }
  if (app.mqtt.url !== '') {
    const m = app.mqtt;
    const data: MqttSinkOptions = {
      url: m.url,
      prefix: m.prefix,
      server: app.server.name,
      reconnect: { minMs: m.reconnectMinMs, maxMs: m.reconnectMaxMs },
      ...(m.clientId ? { clientId: m.clientId } : {}),
      ...(m.username ? { username: m.username } : {}),
      ...(m.password ? { password: m.password } : {}),
      tls: {
        ...(m.caFile ? { caFile: m.caFile } : {}),
        ...(m.certFile ? { certFile: m.certFile } : {}),
        ...(m.keyFile ? { keyFile: m.keyFile } : {}),
        rejectUnauthorized: m.rejectUnauthorized,
      },
    };
    sinks.push({ name: 'mqtt', module: workerFile('mqtt-sink.js'), options: data });
  }
  if (app.sql.enabled) {
    const data: SqlSinkOptions = { path: app.sql.path, retentionDays: app.sql.retentionDays, busyTimeoutMs: 100, pruneEveryMs: 10_000, pruneChunk: 1000 };
    sinks.push({ name: 'sql', module: workerFile('sqlite-sink.js'), options: data });
  }
  return sinks;
}

/** The reporting hub's settings from a config (what a reload may change). */
export function hubSettings(app: AppConfig): { server: string; queueDepth: number; batchSize: number; batchMs: number; sinks: SinkSpec[] } {
  return { server: app.server.name, queueDepth: app.reporting.queueDepth, batchSize: app.reporting.batchSize, batchMs: app.reporting.batchMs, sinks: sinkSpecs(app) };
}

/**
 * Whether better-sqlite3 (an optional dependency) loads: null, or why not and what to do. Asked of
 * a short-lived thread (workers/sqlite-probe.js), so the main thread never loads the module.
 */
export function probeSqlite(): Promise<string | null> {
  return new Promise((resolve) => {
    const worker = new Worker(workerFile('sqlite-probe.js'));
    worker.once('message', (problem: string | null) => {
      resolve(problem);
      void worker.terminate();
    });
    worker.once('error', (err) => resolve(`cannot check for better-sqlite3: ${err.message}`));
    worker.once('exit', (code) => resolve(`cannot check for better-sqlite3: the check exited with code ${code}`));
  });
}

