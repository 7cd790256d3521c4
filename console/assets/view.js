// DOM and formatting helpers for the dashboard. No framework: rows are keyed, built once and
// updated in place when their content changes, so a row that is fading out keeps its animation.

/** An element: h('td', { class: 'num' }, 'text', child, [more]). Strings become text nodes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** A table cell with a label for the narrow (card) layout. */
export function cell(label, content, cls) {
  return h('td', { 'data-label': label, class: cls }, content);
}

/**
 * Make `tbody` hold one row per item, in order. `key(item)` names a row; `sig(item)` says when it
 * must be rebuilt (same signature: the row is kept as it is); `build(item)` returns the <tr>.
 * Rows whose key is gone are removed. Returns the rows by key.
 */
export function syncRows(tbody, items, key, sig, build) {
  const old = new Map();
  for (const tr of tbody.children) old.set(tr.dataset.key, tr);
  const rows = new Map();
  for (const item of items) {
    const k = String(key(item));
    if (rows.has(k)) continue;
    const s = sig(item);
    let tr = old.get(k);
    if (tr === undefined || tr.dataset.sig !== s) {
      const fresh = build(item);
      fresh.dataset.key = k;
      fresh.dataset.sig = s;
      if (tr !== undefined) {
        // Keep what was added to the row after it was built (a highlight, its fading).
        if (tr.classList.contains('fresh')) fresh.classList.add('fresh');
        if (tr.hasAttribute('style')) fresh.setAttribute('style', tr.getAttribute('style'));
        tr.replaceWith(fresh);
      }
      tr = fresh;
    }
    old.delete(k);
    rows.set(k, tr);
  }
  for (const tr of old.values()) tr.remove();
  let at = tbody.firstElementChild;
  for (const tr of rows.values()) {
    if (tr === at) at = at.nextElementSibling;
    else tbody.insertBefore(tr, at);
  }
  return rows;
}

export function show(el, visible) {
  if (el.hidden === visible) el.hidden = !visible;
}

/** Set an element's text only when it differs: writing the same text still costs a repaint. */
export function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** 83000 → "1:23", 3723000 → "1:02:03". */
export function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** A long span: "3 d 4 h", "2 h 5 min", "42 s". */
export function span(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hr = Math.floor(m / 60);
  if (hr < 48) return `${hr} h ${m % 60} min`;
  return `${Math.floor(hr / 24)} d ${hr % 24} h`;
}

/** The fraction 0.0135 as "1.4 %"; "–" when unknown. */
export function pct(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '–';
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)} %`;
}

export function num(x, digits = 1) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '–';
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

const INT = new Intl.NumberFormat('en-US');

export function int(x) {
  return typeof x === 'number' && Number.isFinite(x) ? INT.format(x) : '–';
}

// Made once: toLocaleTimeString builds a formatter on every call, which is slow in a 200-row table.
const TIME = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const DATE = new Intl.DateTimeFormat([]);

/** An ISO time as local HH:MM:SS (with the date when it is not today). */
export function timeOf(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  const t = TIME.format(d);
  return d.toDateString() === new Date().toDateString() ? t : `${DATE.format(d)} ${t}`;
}

/** A talkgroup with its name: "2350 UK Calling" (the number in a span of its own). */
export function tgLabel(tg, name) {
  return [h('span', { class: 'tg' }, String(tg)), name ? h('span', { class: 'name' }, ` ${name}`) : null];
}

/** Slots as RPTC sends them. */
export function slotsLabel(s) {
  return { 1: 'TS1', 2: 'TS2', 3: 'TS1+2', 4: 'simplex' }[String(s).trim()] ?? String(s ?? '–');
}

/** A stream ID as the events write it: 8 lowercase hex digits. */
export function streamKey(id) {
  if (typeof id === 'number') return (id >>> 0).toString(16).padStart(8, '0');
  return String(id).toLowerCase().replace(/^0x/, '').padStart(8, '0');
}
