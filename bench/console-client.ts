// A dashboard's load on the console, in a process of its own (bench/reporting.ts starts it): the
// event stream open, and the API read on the schedule console/assets/app.js keeps (calls every
// second, the server every 2 s, peers, talkgroups and links every 5 s, lastheard every 10 s), plus
// a Prometheus scrape of /metrics every 15 s. In the load generator's process it would compete
// with the generator's own event loop, and the latency measured would be partly the client's.
// Usage: node dist/bench/console-client.js <base URL>; it answers a "stop" message (IPC) with
// { events, polls } and exits.

const base = process.argv[2]!;
/** Path and period (ms) of each read; the dashboard's own periods. */
const SCHEDULE: [string, number][] = [
  ['/api/v1/calls', 1000],
  ['/api/v1/server', 2000],
  ['/api/v1/peers', 5000],
  ['/api/v1/talkgroups', 5000],
  ['/api/v1/links', 5000],
  ['/api/v1/lastheard', 10_000],
  ['/metrics', 15_000],
];
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
const read = (path: string): void => {
  void fetch(base + path)
    .then((r) => r.text())
    .then(
      () => polls++,
      () => {},
    );
};
// Like the dashboard, everything once at the start, then each on its own period.
const timers = SCHEDULE.map(([path, every]) => {
  read(path);
  return setInterval(() => read(path), every);
});
process.send?.({ ready: true });
process.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  for (const t of timers) clearInterval(t);
  abort.abort();
  void reading.then(() => {
    process.send?.({ events, polls }, () => process.exit(0));
  });
});
