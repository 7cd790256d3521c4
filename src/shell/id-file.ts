// The known-ID list of the registration policy ([acl] id_file, spec §5.3, §5.4): read off the
// packet path at start and on SIGHUP, and handed to the core as a sorted Uint32Array in an
// `ids-loaded` event. Two formats, told apart by the first character that is not a space:
//  - "{": JSON as FreeDMR's subscriber_ids.json / peer_ids.json and RadioID's users.json and
//    rptrs.json: an object whose first key other than "count" holds a list of records, each with
//    an "id" (a number or decimal text; "radio_id" is accepted too).
//  - anything else: CSV as RadioID's user.csv (RADIO_ID,CALLSIGN,…) or a plain list, one ID a line.
//    The ID is the column headed RADIO_ID or ID when there is such a header, otherwise the first
//    column; "," ";" and tab separate columns; lines that are empty, start with "#" or (the header)
//    have no number there are skipped.
// IDs outside 1..4294967295 are errors, as is a file with no ID at all.

import { readFile, stat } from 'node:fs/promises';

/** Larger files are refused (the full RadioID users list is about 30 MB as JSON). */
export const MAX_ID_FILE_BYTES = 128 * 1024 * 1024;

export type IdFileResult = { ok: true; ids: Uint32Array; format: 'json' | 'csv'; skipped: number } | { ok: false; error: string };

export async function readIdFile(path: string): Promise<IdFileResult> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return { ok: false, error: `${path} is not a file` };
    if (st.size > MAX_ID_FILE_BYTES) return { ok: false, error: `${path} is ${st.size} bytes, more than ${MAX_ID_FILE_BYTES}` };
    // Latin-1, as FreeDMR reads these files: every byte is a character, nothing can fail to decode.
    return parseIdText(await readFile(path, 'latin1'), path);
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
    if (code === 'ENOENT') return { ok: false, error: `${path} does not exist` };
    if (code === 'EACCES' || code === 'EPERM') return { ok: false, error: `no permission to read ${path}` };
    return { ok: false, error: `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Parse the text of an ID file (`name` is for the messages). */
export function parseIdText(text: string, name: string): IdFileResult {
  const first = text.trimStart()[0];
  const r = first === '{' ? fromJson(text, name) : fromCsv(text, name);
  if (!r.ok) return r;
  if (r.ids.length === 0) return { ok: false, error: `${name}: no IDs found` };
  const ids = Uint32Array.from(r.ids).sort();
  let n = 0;
  for (let i = 0; i < ids.length; i++) if (i === 0 || ids[i] !== ids[n - 1]) ids[n++] = ids[i]!;
  return { ok: true, ids: ids.slice(0, n), format: first === '{' ? 'json' : 'csv', skipped: r.skipped };
}

type Raw = { ok: true; ids: number[]; skipped: number } | { ok: false; error: string };

const DECIMAL = /^\d{1,10}$/;

function checkId(v: unknown): number | null {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  if (!DECIMAL.test(s)) return null;
  const n = Number(s);
  return n >= 1 && n <= 0xffff_ffff ? n : null;
}

function fromJson(text: string, name: string): Raw {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${name}: not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { ok: false, error: `${name}: expected a JSON object such as {"results": [{"id": 3120101, …}, …]}` };
  const key = Object.keys(v).find((k) => k !== 'count');
  const list = key === undefined ? undefined : (v as Record<string, unknown>)[key];
  if (!Array.isArray(list)) return { ok: false, error: `${name}: expected the first key other than "count" to hold a list of records` };
  const ids: number[] = [];
  for (const [i, rec] of list.entries()) {
    const r = typeof rec === 'object' && rec !== null ? (rec as Record<string, unknown>) : {};
    const raw = r['id'] ?? r['radio_id'];
    const id = checkId(raw);
    if (id === null) return { ok: false, error: `${name}: record ${i + 1} of "${key}" has no "id" 1..4294967295 (got ${JSON.stringify(raw) ?? 'nothing'})` };
    ids.push(id);
  }
  return { ok: true, ids, skipped: 0 };
}

function fromCsv(text: string, name: string): Raw {
  const ids: number[] = [];
  let column = 0;
  let skipped = 0;
  let headerSeen = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(/[,;\t]/).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    const cell = cells[column] ?? '';
    if (/^\d+$/.test(cell)) {
      const id = checkId(cell);
      if (id === null) return { ok: false, error: `${name}:${i + 1}: ${cell} is outside 1..4294967295` };
      ids.push(id);
      continue;
    }
    if (!headerSeen && ids.length === 0) {
      // The header: find the ID column by name.
      headerSeen = true;
      const at = cells.findIndex((c) => /^(radio_?id|id|dmr_?id)$/i.test(c));
      if (at >= 0) column = at;
      continue;
    }
    skipped++;
  }
  return { ok: true, ids, skipped };
}
