// The reporting thread: one worker (run by piscina) that hosts every configured reporting sink.
// Each sink is its own module exporting `createSink(options)`; this thread loads only the modules
// of the sinks that are configured, and the main thread loads none of them. Tasks name their sink;
// each sink keeps its own state, and the hub keeps at most one batch in flight per sink.
//
// One thread rather than one per sink: a Node worker costs about 10 MB of resident memory before
// it loads anything, and the sinks spend their time waiting on a socket or a short transaction.

import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';
import type { BatchTask, HostedSink, SinkInstance, StopTask, TaskResult } from '../src/reporting/events.js';

const hosted = (workerData as { sinks: HostedSink[] }).sinks;
const sinks = new Map<string, SinkInstance>();
for (const h of hosted) {
  const mod = (await import(pathToFileURL(h.module).href)) as { createSink(options: unknown): SinkInstance };
  sinks.set(h.name, mod.createSink(h.options));
}

export default async function run(task: BatchTask | StopTask): Promise<TaskResult> {
  const sink = sinks.get(task.sink);
  if (sink === undefined) return { ok: false, delivered: 0, state: 'off', error: `no sink named '${task.sink}' in this thread` };
  return sink.run(task);
}
