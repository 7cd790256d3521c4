// The dmrhub operator dashboard. Data comes from the console's JSON API (polled, each endpoint at
// its own pace) and its event stream (Server-Sent Events), which says when to fetch again soon:
// a call start shows as soon as its event arrives and gains its names from the next /calls fetch.
// Paths are relative, so the dashboard also works behind a reverse proxy under a prefix.
//
// The page must stay cheap while a busy server streams to it (it may run on the server's own
// machine): a burst of events marks sections dirty and asks for fetches, and each section is drawn
// at most once per animation frame and each endpoint fetched at most once per clock tick.

import { renderCalls, renderHealth, renderLastheard, renderPeers, renderTalkgroups, updateClocks } from './render.js';
import { streamKey } from './view.js';
import { initOperator, setReadOnly } from './operator.js';

const API = 'api/v1/';
/** How long an ended call stays on the air list, fading, before it is only in last heard. */
export const FADE_MS = 4000;
/** How long an ended stream ID is not taken back from a /calls answer that was older than its end. */
const GONE_MS = 30_000;

export const state = {
  server: null,
  peers: [],
  talkgroups: [],
  links: { links: [], uplinks: [] },
  lastheard: { items: [], next: null, filter: {}, loaded: false, older: false },
  /** streamKey → { call, base (performance.now() when call.duration_ms was true), ended (time or null), seen } */
  live: new Map(),
  /** streamKey → performance.now() of its end */
  gone: new Map(),
  /** Names seen in earlier answers, so a call announced by an event can carry them at once. */
  names: { src: new Map(), tg: new Map() },
};

/** Remember the names a call or last-heard item carries. */
function learnNames(c) {
  if (c.src_callsign) state.names.src.set(c.src, { src_callsign: c.src_callsign, ...(c.src_name ? { src_name: c.src_name } : {}) });
  if (c.tg_name) state.names.tg.set(c.tg, c.tg_name);
}

// ---- fetching -------------------------------------------------------------------------------

export async function getJson(path) {
  const r = await fetch(API + path, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  let body = null;
  try {
    body = await r.json();
  } catch {
    /* not JSON */
  }
  if (!r.ok) throw new Error(body?.error?.message ?? `${r.status} ${r.statusText}`);
  return body;
}

// ---- drawing --------------------------------------------------------------------------------

const painters = {
  calls: () => renderCalls(state),
  peers: () => renderPeers(state),
  talkgroups: () => renderTalkgroups(state),
  lastheard: () => renderLastheard(state),
  health: () => (renderHealth(state), setReadOnly(state.server?.read_only === true)),
};
const dirty = new Set();
let frame = 0;

/** Draw these sections in the next animation frame (once each, however often asked). */
export function invalidate(...sections) {
  for (const name of sections) dirty.add(name);
  if (frame === 0) frame = requestAnimationFrame(paint);
}

function paint() {
  frame = 0;
  const names = [...dirty];
  dirty.clear();
  for (const name of names) painters[name]();
}

// ---- sources --------------------------------------------------------------------------------

const sources = {
  server: { every: 2000, path: () => 'server', apply: (d) => (state.server = d), draws: ['health'] },
  calls: { every: 1000, path: () => 'calls', apply: applyCalls, draws: ['calls'] },
  peers: { every: 5000, path: () => 'peers', apply: applyPeers, draws: ['peers', 'talkgroups'] },
  talkgroups: { every: 5000, path: () => 'talkgroups', apply: (d) => (state.talkgroups = d.talkgroups ?? []), draws: ['talkgroups'] },
  lastheard: { every: 10_000, path: lastheardPath, apply: applyLastheard, draws: ['lastheard'] },
  links: { every: 5000, path: () => 'links', apply: (d) => (state.links = { links: d.links ?? [], uplinks: d.uplinks ?? [] }), draws: ['health'] },
};
// last: when last fetched; due/follow: fetch when the clock passes these (asked for by events).
for (const s of Object.values(sources)) Object.assign(s, { last: -Infinity, due: Infinity, follow: Infinity, busy: false, again: false, error: null });

/** Fetch one source now (or right after the fetch already under way). */
export async function refresh(name) {
  const s = sources[name];
  if (s.busy) {
    s.again = true;
    return;
  }
  s.busy = true;
  s.last = performance.now();
  try {
    s.apply(await getJson(s.path()));
    s.error = null;
  } catch (err) {
    s.error = String(err.message ?? err);
    // 503 until the server's first state report, or the server restarting: ask again in a second.
    s.last = Math.min(s.last, performance.now() - s.every + 1000);
  }
  s.busy = false;
  invalidate(...s.draws);
  if (name === 'server') setLive(stream.open ? 'live' : s.error ? 'offline' : 'polling');
  if (s.again) {
    s.again = false;
    void refresh(name);
  }
}

/** Fetch at the next clock tick: a burst of events that each ask costs one fetch. */
function soon(name) {
  sources[name].due = Math.min(sources[name].due, performance.now());
}

/**
 * Fetch soon and once more after the server's next state report: peers, talkgroups and links come
 * from a report the core makes every second or so, so an answer right after an event can be older
 * than the event.
 */
function soonAndLater(name) {
  soon(name);
  sources[name].follow = performance.now() + FOLLOW_UP_MS;
}
const FOLLOW_UP_MS = 1200;

function refreshAll() {
  for (const name of Object.keys(sources)) void refresh(name);
}

function lastheardPath() {
  const q = new URLSearchParams({ limit: '50' });
  for (const [k, v] of Object.entries(state.lastheard.filter)) if (v) q.set(k, v);
  return `lastheard?${q}`;
}

function applyLastheard(d) {
  const lh = state.lastheard;
  const first = d.items ?? [];
  for (const c of first) learnNames(c);
  if (lh.older) {
    // Older pages were asked for: keep them under the new first page.
    const key = (c) => `${streamKey(c.stream_id)}@${c.started_at}`;
    const seen = new Set(first.map(key));
    lh.items = first.concat(lh.items.filter((c) => !seen.has(key(c))));
  } else {
    lh.items = first;
    lh.next = d.next_cursor ?? null;
  }
  lh.loaded = true;
}

export async function lastheardOlder() {
  const lh = state.lastheard;
  if (lh.next === null) return;
  const d = await getJson(`${lastheardPath()}&cursor=${encodeURIComponent(lh.next)}`);
  lh.items = lh.items.concat(d.items ?? []);
  lh.next = d.next_cursor ?? null;
  lh.older = true;
  invalidate('lastheard');
}

export function setLastheardFilter(filter) {
  state.lastheard.filter = filter;
  state.lastheard.older = false;
  const form = document.getElementById('lh-filter');
  for (const k of ['src', 'tg', 'peer']) form.elements[k].value = filter[k] ?? '';
  void refresh('lastheard');
}

// ---- live calls -----------------------------------------------------------------------------

function applyCalls(d) {
  const now = performance.now();
  const seen = new Set();
  for (const call of d.calls ?? []) {
    const k = streamKey(call.stream_id);
    const gone = state.gone.get(k);
    // A stream that ended after this answer was made: the answer is older than its end.
    if (gone !== undefined && now - gone < GONE_MS) continue;
    seen.add(k);
    learnNames(call);
    const e = state.live.get(k);
    state.live.set(k, { call: e ? { ...e.call, ...call } : call, base: now, ended: null, seen: e?.seen ?? now });
  }
  // A call the server no longer lists whose end event never came (stream reconnected, say): it
  // has ended. One announced by an event a moment ago may simply be newer than the answer.
  for (const [k, e] of state.live) {
    if (e.ended === null && !seen.has(k) && now - e.seen > 1500) endCall(k, null, now);
  }
}

function endCall(k, ev, now) {
  const e = state.live.get(k);
  state.gone.set(k, now);
  if (e === undefined) return;
  const dur = ev ? ev.durationMs : e.call.duration_ms + (now - e.base);
  e.call = { ...e.call, duration_ms: dur, ...(ev ? { loss: ev.loss, ber: ev.ber, rssi: ev.rssi } : {}) };
  e.base = now;
  e.ended = now;
}

function onCallStart(ev) {
  const k = streamKey(ev.stream);
  const now = performance.now();
  state.gone.delete(k);
  if (!state.live.has(k)) {
    const call = {
      stream_id: ev.stream, src: ev.src, tg: ev.dst, slot: ev.slot, peer: ev.peer, started_at: new Date(ev.at).toISOString(),
      duration_ms: 0, loss: 0, ber: null, rssi: null, call_type: ev.callType,
      ...state.names.src.get(ev.src),
      ...(state.names.tg.has(ev.dst) ? { tg_name: state.names.tg.get(ev.dst) } : {}),
    };
    state.live.set(k, { call, base: now, ended: null, seen: now });
  }
  invalidate('calls');
}

function onCallEnd(ev) {
  endCall(streamKey(ev.stream), ev, performance.now());
  invalidate('calls');
}

// ---- event stream ---------------------------------------------------------------------------

const stream = { source: null, open: false, lastSeq: 0, everOpen: false };
const EVENT_NAMES = [
  'server.started', 'server.stopped', 'peer.login', 'peer.options', 'peer.keepalive-lost', 'peer.logout',
  'subscription.added', 'subscription.removed', 'subscription.expired', 'call.start', 'call.end',
  'link.up', 'link.down', 'link.changed', 'reporting.health',
];

function setLive(s) {
  const el = document.getElementById('live');
  el.dataset.state = s;
  el.textContent = s;
}

function onEvent(msg) {
  let ev;
  try {
    ev = JSON.parse(msg.data);
  } catch {
    return;
  }
  if (typeof ev !== 'object' || ev === null) return;
  const name = `${ev.family}.${ev.type}`;
  if (name === 'server.started') stream.lastSeq = 0;
  if (typeof ev.seq === 'number') {
    if (ev.seq <= stream.lastSeq) return; // delivered under two names, or again after a reconnect
    stream.lastSeq = ev.seq;
  }
  switch (ev.family) {
    case 'call':
      if (ev.type === 'start') onCallStart(ev);
      else if (ev.type === 'end') onCallEnd(ev);
      soon('calls');
      soonAndLater('talkgroups');
      if (ev.type === 'end') soon('lastheard');
      break;
    case 'peer':
      // The event is the news; the state report that confirms it may be a second behind.
      if (ev.type === 'logout') {
        removePeer(ev.peer);
      } else if (ev.type === 'login') {
        upsertPeer(ev);
      }
      soonAndLater('peers');
      soonAndLater('talkgroups');
      break;
    case 'subscription':
      soonAndLater('peers');
      soonAndLater('talkgroups');
      break;
    case 'link':
      soonAndLater('links');
      break;
    case 'server':
      refreshAll();
      break;
    default:
      break;
  }
  if (ev.family !== 'call' || ev.type === 'end') soon('server');
}

/**
 * Logins and logouts seen on the event stream in the last RECENT_MS, by peer: an answer from
 * /peers comes from a state report that can be older than them, so they win over it until the
 * report has caught up.
 */
const recentPeers = new Map();
const RECENT_MS = 3000;

function applyPeers(d) {
  const now = performance.now();
  let peers = d.peers ?? [];
  for (const [id, r] of recentPeers) {
    if (now - r.at > RECENT_MS) {
      recentPeers.delete(id);
      continue;
    }
    const listed = peers.find((p) => p.id === id);
    if (r.peer === null) peers = peers.filter((p) => p.id !== id);
    else if (listed === undefined) peers = [...peers, r.peer];
    else if (Date.parse(listed.connected_since) + 1000 < Date.parse(r.peer.connected_since)) peers = peers.map((p) => (p.id === id ? r.peer : p));
  }
  state.peers = peers;
}

function removePeer(id) {
  recentPeers.set(id, { at: performance.now(), peer: null });
  state.peers = state.peers.filter((p) => p.id !== id);
  invalidate('peers');
}

/** A peer from its login event, until the state report lists it with its subscriptions. */
function upsertPeer(ev) {
  const old = state.peers.find((p) => p.id === ev.peer);
  const p = {
    subscriptions: { ts1: [], ts2: [] },
    dial: {},
    ...old,
    id: ev.peer, callsign: ev.callsign, address: ev.address, port: ev.port, connected_since: new Date(ev.at).toISOString(),
    software: ev.softwareId, package: ev.packageId, location: ev.location, description: ev.description, url: ev.url,
    rx_freq: ev.rxFreq, tx_freq: ev.txFreq, colour_code: ev.colorCode, slots: ev.slots,
  };
  recentPeers.set(ev.peer, { at: performance.now(), peer: p });
  state.peers = [...state.peers.filter((x) => x.id !== ev.peer), p];
  invalidate('peers');
}

function connectEvents() {
  if (typeof EventSource === 'undefined') return;
  const es = new EventSource(`${API}events`);
  stream.source = es;
  es.onopen = () => {
    stream.open = true;
    // A restarted server counts from 1 again; the stream itself resumes after Last-Event-ID.
    stream.lastSeq = 0;
    setLive('live');
    // After a break the stream resumes from Last-Event-ID, but a long break can outrun the backlog.
    if (stream.everOpen) refreshAll();
    stream.everOpen = true;
  };
  es.onerror = () => {
    stream.open = false;
    setLive(es.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting');
  };
  es.onmessage = onEvent;
  for (const n of EVENT_NAMES) {
    es.addEventListener(n, onEvent);
    es.addEventListener(n.slice(n.indexOf('.') + 1), onEvent);
  }
}

// ---- the clock ------------------------------------------------------------------------------

function tick() {
  const now = performance.now();
  for (const [k, t] of state.gone) if (now - t > GONE_MS) state.gone.delete(k);
  let faded = false;
  for (const [k, e] of state.live) if (e.ended !== null && now - e.ended > FADE_MS) faded = state.live.delete(k);
  if (faded) invalidate('calls');
  // Running durations and fading rows change text and opacity in place, nothing else.
  else if (!dirty.has('calls')) updateClocks(state);
  if (document.hidden) return;
  for (const [name, s] of Object.entries(sources)) {
    const asked = now >= s.due || now >= s.follow;
    if (!asked && now - s.last < s.every) continue;
    if (now >= s.due) s.due = Infinity;
    if (now >= s.follow) s.follow = Infinity;
    void refresh(name);
  }
}

function start() {
  initOperator({ refresh });
  const form = document.getElementById('lh-filter');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(form));
    setLastheardFilter({ src: f.src.trim(), tg: f.tg.trim(), peer: f.peer.trim() });
  });
  form.addEventListener('reset', () => setLastheardFilter({}));
  document.getElementById('lh-more').addEventListener('click', () => void lastheardOlder());
  document.addEventListener('visibilitychange', () => document.hidden || (refreshAll(), invalidate(...Object.keys(painters))));
  connectEvents();
  refreshAll();
  setInterval(tick, 250);
}

start();
