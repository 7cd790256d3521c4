// The reporting thread: one worker (run by piscina) that hosts every configured reporting sink.
// Each sink is its own module exporting `createSink(options)`; this thread loads only the modules
// of the sinks that are configured, and the main thread loads none of them. Tasks name their sink;
// each sink keeps its own state, and the hub keeps at most one batch in flight per sink.
//
// One thread rather than one per sink: a Node worker costs about 10 MB of resident memory before
// it loads anything, and the sinks spend their time waiting on a socket or a short transaction.

import { setPriority } from 'node:os';
import { pathToFileURL } from 'node:url';
import { workerData } from 'node:worker_threads';
import type { AttachTask, BatchTask, HostedSink, SinkInstance, StopTask, TaskResult } from '../src/reporting/events.js';

// This thread yields the CPU to the packet path: on Linux a thread has a nice value of its own, and
// setPriority(0, …) sets the calling thread's only. On a machine with fewer free cores than busy
// threads, the console's HTTP answers and the sinks' batches then wait, not the routing.
try {
  setPriority(0, 10);
} catch {
  // Not allowed here (some containers): the thread keeps the process's priority.
}

const hosted = (workerData as { sinks: HostedSink[] }).sinks;
const sinks = new Map<string, SinkInstance>();
for (const h of hosted) {
  try {
    const mod = (await import(pathToFileURL(h.module).href)) as { createSink(options: unknown): SinkInstance };
    sinks.set(h.name, mod.createSink(h.options));
  } catch (err) {
    // A sink whose module does not load (the optional better-sqlite3 missing, say) fails each of
    // its batches with the reason, which the shell logs once; the other sinks run on.
    sinks.set(h.name, unavailable(err instanceof Error ? err.message : String(err)));
  }
}

function unavailable(error: string): SinkInstance {
  return { run: (task) => Promise.resolve(task.op === 'stop' ? { ok: true, delivered: 0, state: 'off' } : { ok: false, delivered: 0, state: 'down', error }) };
}

export default async function run(task: BatchTask | StopTask | AttachTask): Promise<TaskResult> {
  const sink = sinks.get(task.sink);
  if (sink === undefined) return { ok: false, delivered: 0, state: 'off', error: `no sink named '${task.sink}' in this thread` };
  if (task.op === 'attach') {
    if (sink.attach === undefined) return { ok: false, delivered: 0, state: 'off', error: `the sink '${task.sink}' takes no port` };
    sink.attach(task.port);
    return { ok: true, delivered: 0, state: 'up' };
  }
  return sink.run(task);
}
