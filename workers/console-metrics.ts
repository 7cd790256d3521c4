// Prometheus text format (version 0.0.4) for GET /metrics, written by hand: a client library
// would cost the reporting thread resident memory for what is a few dozen lines of text. Counters
// end in _total; every figure comes from the core's latest state report (the core's own
// counters, unchanged) or from the reporting hub and the process, as sent with it.

import type { ConsoleState } from './console-state.js';

/** Core counters that are gauges (they go down). */
const CORE_GAUGES = new Set(['peers', 'pending-logins', 'subscriptions', 'live-streams']);
/**
 * Core counters that count something done, not something refused or dropped; every other core
 * counter names a reason a datagram, a stream or a request was dropped or refused.
 */
const NOT_DROPS = /^(dmrd\.in|forward\.|link\.|call\.|peer\.logout\.|operator\.|dial\.(linked|expired)|echo\.recorded|fbp\.(keepalive|failover|quench-sent|quench-received)|ident\.|playout\.|prompt\.|uplink\.(up|down\.|pongs-missed|xlx-module-selected)|login\.challenge-expired|[a-z]+\.received$)/;

const escape = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

class Writer {
  readonly lines: string[] = [];
  family(name: string, type: 'counter' | 'gauge', help: string): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    return this;
  }
  sample(name: string, value: number, labels: Record<string, string> = {}): this {
    const l = Object.entries(labels);
    const text = l.length === 0 ? '' : `{${l.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
    this.lines.push(`${name}${text} ${Number.isFinite(value) ? value : 'NaN'}`);
    return this;
  }
}

export function renderMetrics(s: ConsoleState, startedAt: number, now = Date.now()): string {
  const w = new Writer();
  const st = s.state;
  const counters = st?.state.counters ?? [];
  const core = new Map(counters);
  const get = (name: string): number => core.get(name) ?? 0;

  w.family('dmrhub_up', 'gauge', 'Whether the console has received the core state (1) or not yet (0).').sample('dmrhub_up', st === null ? 0 : 1);
  w.family('dmrhub_uptime_seconds', 'gauge', 'Seconds since the server started.').sample('dmrhub_uptime_seconds', Math.round((now - startedAt) / 100) / 10);
  w.family('dmrhub_peers', 'gauge', 'Peers logged in.').sample('dmrhub_peers', get('peers'));
  w.family('dmrhub_pending_logins', 'gauge', 'Logins waiting for their answer.').sample('dmrhub_pending_logins', get('pending-logins'));
  w.family('dmrhub_subscriptions', 'gauge', 'Subscriptions of peer slots to talkgroups.').sample('dmrhub_subscriptions', get('subscriptions'));
  w.family('dmrhub_live_calls', 'gauge', 'Calls in progress.').sample('dmrhub_live_calls', get('live-streams'));

  const links = st?.state.links ?? [];
  const uplinks = st?.state.uplinks ?? [];
  w.family('dmrhub_links', 'gauge', 'Links to other servers (OpenBridge, FBP) and uplinks, by kind and state.');
  const linkCount = new Map<string, number>();
  for (const l of links) {
    const k = `${l.protocol}|${l.up === null ? 'active' : l.up ? 'up' : 'down'}`;
    linkCount.set(k, (linkCount.get(k) ?? 0) + 1);
  }
  for (const u of uplinks) {
    const k = `uplink|${u.state === 'up' ? 'up' : 'down'}`;
    linkCount.set(k, (linkCount.get(k) ?? 0) + 1);
  }
  for (const [k, n] of [...linkCount].sort()) {
    const [kind, state] = k.split('|') as [string, string];
    w.sample('dmrhub_links', n, { kind, state });
  }
  w.family('dmrhub_link_frames_total', 'counter', 'Frames of each link and uplink, by direction (in, out, dropped).');
  for (const l of links) {
    w.sample('dmrhub_link_frames_total', l.framesIn, { link: l.name, direction: 'in' });
    w.sample('dmrhub_link_frames_total', l.framesOut, { link: l.name, direction: 'out' });
    w.sample('dmrhub_link_frames_total', l.dropped, { link: l.name, direction: 'dropped' });
  }
  for (const u of uplinks) {
    w.sample('dmrhub_link_frames_total', u.framesIn, { link: u.name, direction: 'in' });
    w.sample('dmrhub_link_frames_total', u.dropped, { link: u.name, direction: 'dropped' });
  }

  w.family('dmrhub_packets_in_total', 'counter', 'DMRD packets received from peers (core counter dmrd.in).').sample('dmrhub_packets_in_total', get('dmrd.in'));
  w.family('dmrhub_packets_out_total', 'counter', 'Datagrams sent by the fan-out (core counter forward.sends).').sample('dmrhub_packets_out_total', get('forward.sends'));
  w.family('dmrhub_frames_forwarded_total', 'counter', 'Frames forwarded, each to one or more receivers (core counter forward.frames).').sample('dmrhub_frames_forwarded_total', get('forward.frames'));
  w.family('dmrhub_drops_total', 'counter', 'Datagrams, streams and requests dropped or refused, by reason (the core counter of that name).');
  for (const [name, n] of counters) if (!CORE_GAUGES.has(name) && !NOT_DROPS.test(name)) w.sample('dmrhub_drops_total', n, { reason: name });
  w.family('dmrhub_calls_started_total', 'counter', 'Calls started (core counter call.start).').sample('dmrhub_calls_started_total', get('call.start'));
  w.family('dmrhub_calls_ended_total', 'counter', 'Calls ended, by reason (core counters call.end.<reason>).');
  for (const [name, n] of counters) if (name.startsWith('call.end.')) w.sample('dmrhub_calls_ended_total', n, { reason: name.slice('call.end.'.length) });
  w.family('dmrhub_core_counter_total', 'counter', 'Every counter of the routing core, by its name.');
  for (const [name, n] of counters) if (!CORE_GAUGES.has(name)) w.sample('dmrhub_core_counter_total', n, { counter: name });

  const sinks = Object.entries(st?.reporting ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  w.family('dmrhub_reporting_queue_depth', 'gauge', 'Report events waiting in each sink\'s queue.');
  for (const [name, q] of sinks) w.sample('dmrhub_reporting_queue_depth', q.queued, { sink: name });
  w.family('dmrhub_reporting_dropped_total', 'counter', 'Report events dropped from a full queue, per sink.');
  for (const [name, q] of sinks) w.sample('dmrhub_reporting_dropped_total', q.droppedQueueFull, { sink: name });
  w.family('dmrhub_reporting_delivered_total', 'counter', 'Report events delivered, per sink.');
  for (const [name, q] of sinks) w.sample('dmrhub_reporting_delivered_total', q.delivered, { sink: name });
  w.family('dmrhub_reporting_sink_up', 'gauge', 'Whether each reporting sink is delivering.');
  for (const [name, q] of sinks) w.sample('dmrhub_reporting_sink_up', q.state === 'up' ? 1 : 0, { sink: name });
  w.family('dmrhub_console_events_total', 'counter', 'Report events the console received.').sample('dmrhub_console_events_total', s.received);

  const p = st?.process;
  w.family('dmrhub_process_resident_memory_bytes', 'gauge', 'Resident memory of the whole process.').sample('dmrhub_process_resident_memory_bytes', p?.rss ?? process.memoryUsage.rss());
  w.family('dmrhub_heap_used_bytes', 'gauge', 'V8 heap in use, by thread (main, console).');
  if (p) w.sample('dmrhub_heap_used_bytes', p.heapUsed, { thread: 'main' });
  w.sample('dmrhub_heap_used_bytes', process.memoryUsage().heapUsed, { thread: 'console' });
  w.family('dmrhub_event_loop_lag_seconds', 'gauge', 'How late the main thread\'s timer fired, mean since the previous state report.').sample('dmrhub_event_loop_lag_seconds', (p?.lagMs ?? 0) / 1000);
  w.family('dmrhub_event_loop_lag_max_seconds', 'gauge', 'How late the main thread\'s timer fired, most since the previous state report.').sample('dmrhub_event_loop_lag_max_seconds', (p?.lagMaxMs ?? 0) / 1000);
  return w.lines.join('\n') + '\n';
}
