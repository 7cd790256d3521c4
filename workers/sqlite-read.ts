// Reading the lastheard table for `dmrhub lastheard` (its own short-lived process, read-only).

import { loadSqlite } from './sqlite-module.js';

// The optional native module; without it this import fails with SqliteUnavailable (see there).
const Sqlite = await loadSqlite();

export interface LastheardRow {
  src: number;
  dst: number;
  peer: number;
  slot: number;
  call_type: string;
  kind: string;
  stream: string;
  started_at: number;
  duration_ms: number | null;
  loss: number | null;
  ber: number | null;
  rssi: number | null;
  reason: string | null;
  /** From the name files ([console] subscriber_names, talkgroup_names), when they are configured and know the ID. */
  src_callsign?: string;
  src_name?: string;
  tg_name?: string;
}

/** The newest `limit` rows; throws a clear error when the file does not exist. */
export function readLastheard(path: string, limit: number): LastheardRow[] {
  const db = new Sqlite(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT * FROM lastheard ORDER BY started_at DESC LIMIT ?`).all(limit) as LastheardRow[];
  } finally {
    db.close();
  }
}

const pad = (s: string, n: number): string => (s.length >= n ? s.slice(0, n) : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

export function formatLastheardTable(rows: LastheardRow[]): string {
  // The name columns appear only when some row has a name.
  const named = rows.some((r) => r.src_callsign !== undefined || r.tg_name !== undefined);
  const who = (cs: string, name: string): string => (named ? `  ${pad(cs, 9)}  ${pad(name, 20)}` : '');
  const tgCol = (s: string): string => (named ? `  ${pad(s, 16)}` : '');
  const head = `${pad('time', 19)}  ${lpad('source', 8)}${who('callsign', 'name')}  ${lpad('TG/dst', 8)}${tgCol('TG name')}  ${pad('type', 7)}  ${lpad('peer', 10)}  ${pad('slot', 4)}  ${lpad('secs', 6)}  ${lpad('loss', 6)}  reason`;
  const lines = rows.map((r) => {
    const secs = r.duration_ms === null ? '' : (r.duration_ms / 1000).toFixed(1);
    const loss = r.loss === null ? '' : `${(r.loss * 100).toFixed(1)}%`;
    return `${pad(localTime(r.started_at), 19)}  ${lpad(String(r.src), 8)}${who(r.src_callsign ?? '', r.src_name ?? '')}  ${lpad(String(r.dst), 8)}${tgCol(r.tg_name ?? '')}  ${pad(r.call_type, 7)}  ${lpad(String(r.peer), 10)}  ${pad(`TS${r.slot}`, 4)}  ${lpad(secs, 6)}  ${lpad(loss, 6)}  ${r.reason ?? ''}`;
  });
  return [head, ...lines].join('\n') + '\n';
}
