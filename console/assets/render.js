// Rendering of each dashboard section from the state app.js keeps.

import { FADE_MS, setLastheardFilter } from './app.js';
import { askBlock, askDisconnect } from './operator.js';
import { cell, clock, h, int, num, pct, setText, show, slotsLabel, span, streamKey, syncRows, tgLabel, timeOf } from './view.js';

/** How long a call new in last heard stays highlighted. */
const FRESH_MS = 3000;

const $ = (id) => document.getElementById(id);

/** Peers by ID, rebuilt when state.peers is replaced (it is never changed in place). */
let peersById = { list: null, map: new Map() };

function peerName(state, id) {
  if (peersById.list !== state.peers) peersById = { list: state.peers, map: new Map(state.peers.map((p) => [p.id, p])) };
  return peersById.map.get(id)?.callsign ?? String(id);
}

const byText = new Intl.Collator().compare;

/** The talker: callsign when known, the DMR ID always. */
function talker(c) {
  return c.src_callsign
    ? [h('span', { class: 'call' }, c.src_callsign), h('span', { class: 'id' }, ` ${c.src}`)]
    : h('span', { class: 'call' }, String(c.src));
}

/** Where a call goes: its talkgroup with its name, or the subscriber a private call is for. */
function dest(c) {
  return c.call_type === 'private' ? ['private ', h('span', { class: 'tg' }, String(c.tg))] : tgLabel(c.tg, c.tg_name);
}

function via(state, c) {
  if (c.via && c.via !== 'peer' && c.via !== 'hbp') return c.via;
  return c.peer_callsign ?? peerName(state, c.peer);
}

// ---- on air ---------------------------------------------------------------------------------

/** How long a call has run: still counting while it is on the air. */
function callMs(e, now) {
  return e.ended === null ? e.call.duration_ms + (now - e.base) : e.call.duration_ms;
}

/** The on-air rows by stream key, as the last renderCalls left them. */
let callRows = new Map();

export function renderCalls(state) {
  const now = performance.now();
  const entries = [...state.live.entries()].sort(
    ([, a], [, b]) => (a.ended !== null) - (b.ended !== null) || a.call.tg - b.call.tg || a.call.slot - b.call.slot,
  );
  callRows = syncRows(
    $('calls-body'),
    entries,
    ([k]) => k,
    // The running time is not part of a row's signature: updateClocks keeps it current in place.
    ([, e]) => {
      const c = e.call;
      return [c.tg, c.tg_name, c.slot, c.src, c.src_callsign, c.src_name, via(state, c), c.loss, c.ber, c.rssi, e.ended !== null && clock(c.duration_ms)].join('|');
    },
    ([k, e]) => {
      const c = e.call;
      return h(
        'tr',
        { 'data-stream': k, 'data-src': c.src, 'data-tg': c.tg, class: e.ended === null ? 'talking' : 'ended' },
        cell('Slot', `TS${c.slot}`),
        cell('Talkgroup', dest(c)),
        cell('Talker', talker(c)),
        cell('Name', c.src_name ?? '', 'src-name'),
        cell('Via', via(state, c)),
        cell('Time', clock(callMs(e, now)), 'num time'),
        cell('Loss', pct(c.loss), 'num'),
        cell('BER', num(c.ber), 'num'),
        cell('RSSI', num(c.rssi), 'num'),
      );
    },
  );
  updateClocks(state);
  const talking = entries.filter(([, e]) => e.ended === null).length;
  setText($('on-air-count'), talking > 0 ? String(talking) : '');
  show($('calls-empty'), entries.length === 0);
}

/**
 * The running time of each call on the air, and the fading of ended ones, changed in place: a
 * text node or an opacity, only where it differs, so a steady screen costs the browser nothing.
 */
export function updateClocks(state) {
  const now = performance.now();
  for (const [k, e] of state.live) {
    const tr = callRows.get(k);
    if (tr === undefined) continue;
    if (e.ended === null) setText(tr.querySelector('td.time'), clock(callMs(e, now)));
    else {
      // Steps of a quarter: the row repaints four times as it fades, not on every tick.
      const opacity = String(Math.ceil(Math.max(0, 1 - (now - e.ended) / FADE_MS) * 4) / 4);
      if (tr.style.opacity !== opacity) tr.style.opacity = opacity;
    }
  }
}

// ---- last heard -----------------------------------------------------------------------------

let lastheardKeys = null;

export function renderLastheard(state) {
  const lh = state.lastheard;
  const key = (c) => `${streamKey(c.stream_id)}@${c.started_at}`;
  const before = lastheardKeys;
  const rows = syncRows(
    $('lastheard-body'),
    lh.items,
    key,
    (c) => [c.ended_at, c.src_callsign, c.src_name, c.tg_name, via(state, c), c.duration_ms, c.loss, c.ber, c.rssi, c.end_reason].join('|'),
    (c) =>
      h(
        'tr',
        { 'data-stream': streamKey(c.stream_id), 'data-src': c.src, 'data-tg': c.tg },
        cell('Ended', timeOf(c.ended_at)),
        cell('Talker', talker(c)),
        cell('Name', c.src_name ?? '', 'src-name'),
        cell('Talkgroup', dest(c)),
        cell('Slot', `TS${c.slot}`),
        cell('Via', via(state, c), 'minor'),
        cell('Time', clock(c.duration_ms), 'num'),
        cell('Loss', pct(c.loss), 'num'),
        cell('BER', num(c.ber), 'num minor'),
        cell('RSSI', num(c.rssi), 'num minor'),
        cell('End', c.end_reason ?? '', 'minor'),
      ),
  );
  // Calls that arrive while the page is open light up for a moment (a class set, then taken away:
  // an animated background would repaint the row on every frame).
  if (before !== null) {
    for (const [k, tr] of rows) {
      if (before.has(k)) continue;
      tr.classList.add('fresh');
      setTimeout(() => tr.classList.remove('fresh'), FRESH_MS);
    }
  }
  if (lh.loaded) lastheardKeys = new Set(rows.keys());
  show($('lastheard-empty'), lh.items.length === 0);
  show($('lh-more'), lh.next !== null);
}

// ---- peers ----------------------------------------------------------------------------------

function tgList(tgs, dial) {
  const out = (tgs ?? []).map((tg) => h('span', { class: 'chip' }, String(tg)));
  if (dial !== undefined && dial !== null) out.push(h('span', { class: 'chip dial', title: 'dial-a-TG' }, `☎ ${dial}`));
  return out.length > 0 ? out : '–';
}

/** How long a peer has been connected, to the minute: the column changes once a minute at most. */
function connectedFor(p, now) {
  const ms = now - Date.parse(p.connected_since);
  return ms < 60_000 ? '< 1 min' : span(ms);
}

export function renderPeers(state) {
  const now = Date.now();
  const rows = syncRows(
    $('peers-body'),
    [...state.peers].sort((a, b) => byText(String(a.callsign), String(b.callsign)) || a.id - b.id),
    (p) => p.id,
    (p) => JSON.stringify([p.callsign, p.location, p.software, p.package, p.slots, p.subscriptions, p.dial, p.address, p.port, p.connected_since]),
    (p) =>
      h(
        'tr',
        { 'data-peer': p.id },
        cell('ID', String(p.id)),
        cell('Callsign', h('span', { class: 'call' }, p.callsign || '–')),
        cell('Location', p.location || '–'),
        cell('Software', h('span', { title: p.package ?? '' }, p.software || '–')),
        cell('Slots', slotsLabel(p.slots)),
        cell('TS1', tgList(p.subscriptions?.ts1, p.dial?.ts1)),
        cell('TS2', tgList(p.subscriptions?.ts2, p.dial?.ts2)),
        cell('Connected', h('span', { title: `${p.address}:${p.port}, since ${timeOf(p.connected_since)}` }, connectedFor(p, now)), 'since'),
        cell(
          'Commands',
          h(
            'span',
            { class: 'cmds' },
            h('button', { type: 'button', class: 'cmd', 'data-cmd': 'disconnect', onclick: () => askDisconnect(p) }, 'Disconnect'),
            h('button', { type: 'button', class: 'cmd', 'data-cmd': 'block', onclick: () => askBlock(p) }, 'Block…'),
          ),
          'cmd-col',
        ),
      ),
  );
  for (const p of state.peers) {
    const since = rows.get(String(p.id))?.querySelector('td.since > span');
    if (since) setText(since, connectedFor(p, now));
  }
  setText($('peers-count'), state.peers.length > 0 ? String(state.peers.length) : '');
  show($('peers-empty'), state.peers.length === 0);
}

// ---- talkgroups -----------------------------------------------------------------------------

export function renderTalkgroups(state) {
  const tgs = [...state.talkgroups].sort((a, b) => (b.active?.length ?? 0) - (a.active?.length ?? 0) || a.tg - b.tg);
  syncRows(
    $('talkgroups-body'),
    tgs,
    (t) => t.tg,
    (t) => JSON.stringify([t.name, t.subscribers, (t.active ?? []).map((c) => [c.src, c.src_callsign, c.slot]), state.peers.length]),
    (t) =>
      h(
        'tr',
        { 'data-tg': t.tg, class: (t.active?.length ?? 0) > 0 ? 'busy' : '' },
        cell(
          'Talkgroup',
          h('a', { href: '#lastheard', title: 'last heard on this talkgroup', onclick: () => setLastheardFilter({ tg: String(t.tg) }) }, tgLabel(t.tg, t.name)),
        ),
        cell(
          'Subscribers',
          (t.subscribers ?? []).map((s) => h('span', { class: `chip ${s.kind}`, title: s.kind }, `${peerName(state, s.peer)} TS${s.slot}`)),
        ),
        cell('Now', (t.active ?? []).map((c) => h('span', { class: 'chip live' }, `${c.src_callsign ?? c.src} TS${c.slot}`))),
      ),
  );
  setText($('talkgroups-count'), tgs.length > 0 ? String(tgs.length) : '');
  show($('talkgroups-empty'), tgs.length === 0);
}

// ---- health ---------------------------------------------------------------------------------

/** A list of facts, rebuilt only when one of them changed. */
function facts(dl, pairs) {
  const sig = JSON.stringify(pairs);
  if (dl.dataset.sig === sig) return;
  dl.dataset.sig = sig;
  dl.replaceChildren(...pairs.flatMap(([k, v, cls]) => [h('dt', null, k), h('dd', { class: cls }, v)]));
}

export function renderHealth(state) {
  const s = state.server;
  if (s !== null) {
    const name = s.server ?? s.config?.server?.name ?? '';
    setText($('server-name'), [name, s.version ? `v${s.version}` : ''].filter(Boolean).join(' · '));
    facts($('server-facts'), [
      ['Version', s.version ?? '–'],
      ['Started', timeOf(s.started_at)],
      ['Up', span(s.uptime_ms ?? 0)],
      ['Peers', int(state.peers.length)],
      ['Names', s.names ? `${int(s.names.subscribers)} subscribers, ${int(s.names.talkgroups)} talkgroups` : '–'],
      ['Commands', s.read_only ? 'off (no token configured)' : 'with the token'],
    ]);
    const rep = s.reporting ?? {};
    const dropped = typeof rep.dropped === 'number' ? rep.dropped : Object.values(rep.dropped ?? {}).reduce((a, b) => a + (Number(b) || 0), 0);
    facts($('reporting-facts'), [
      ['Queue', int(rep.queue_depth)],
      ['Dropped', int(dropped), dropped > 0 ? 'bad' : ''],
      ...Object.entries(rep.sinks ?? {}).map(([k, q]) => [
        `Sink ${k}`,
        `${q.state ?? '?'}, ${int(q.queue_depth)} queued, ${int(q.delivered)} delivered, ${int(q.dropped)} dropped`,
        q.dropped > 0 || q.state === 'down' ? 'bad' : '',
      ]),
    ]);
    const counters = Object.entries(s.counters ?? {}).sort(([a], [b]) => a.localeCompare(b));
    syncRows(
      $('counters-body'),
      counters,
      ([k]) => k,
      ([, v]) => String(v),
      ([k, v]) => h('tr', { class: /drop|malformed|refus|reject|lost/i.test(k) && v > 0 ? 'bad' : '' }, h('th', null, k), h('td', { class: 'num' }, int(v))),
    );
  }
  const links = [...state.links.links.map((l) => ({ ...l, kind: l.protocol ?? 'link' })), ...state.links.uplinks.map((u) => ({ ...u, kind: 'uplink' }))];
  syncRows(
    $('links-body'),
    links,
    (l) => `${l.kind}:${l.name}`,
    (l) => JSON.stringify([l.state, l.address, l.port, l.version]),
    (l) =>
      h(
        'tr',
        { class: l.state === 'down' ? 'bad' : '' },
        cell('Name', l.name),
        cell('Kind', l.kind),
        cell('State', l.state ?? '–'),
        cell('Far end', l.address ? `${l.address}:${l.port}` : '–'),
      ),
  );
  show($('links-empty'), links.length === 0);
}
