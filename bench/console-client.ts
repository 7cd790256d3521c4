// A dashboard's load on the console, in a process of its own (bench/reporting.ts starts it): the
// event stream open and four endpoints fetched every second. In the load generator's process it
// would compete with the generator's own event loop, and the latency measured would be partly
// the client's. Usage: node dist/bench/console-client.js <base URL>; it answers a "stop" message
// (IPC) with { events, polls } and exits.

const base = process.argv[2]!;
let events = 0;
let polls = 0;
const abort = new AbortController();
const res = await fetch(`${base}/api/v1/events`, { signal: abort.signal });
const reading = (async () => {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      events += (dec.decode(value, { stream: true }).match(/^id: /gm) ?? []).length;
    }
  } catch {
    /* aborted */
  }
})();
const poll = setInterval(() => {
  void Promise.all(['/api/v1/peers', '/api/v1/calls', '/api/v1/lastheard', '/metrics'].map((p) => fetch(base + p).then((r) => r.text()))).then(
    () => polls++,
    () => {},
  );
}, 1000);
process.send?.({ ready: true });
process.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(poll);
  abort.abort();
  void reading.then(() => {
    process.send?.({ events, polls }, () => process.exit(0));
  });
});
