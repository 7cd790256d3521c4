// Access control lists in FreeDMR's grammar (spec §5.1): "PERMIT:<entries>" or "DENY:<entries>",
// the entries a comma list of decimal IDs, inclusive ranges "a-b" and ALL. An ID that matches an
// entry gets the action; every other ID gets the opposite, so PERMIT lists are whitelists and DENY
// lists blacklists. The empty string is PERMIT:ALL.
//
// A parsed list is kept as sorted, merged, disjoint ranges, so a check is one binary search with no
// allocation: O(log n) in the number of ranges. Printing gives the canonical text (ranges merged and
// sorted, single IDs written alone, ALL for the whole space), which parses back to the same list.
//
// Where dmrhub reads the text differently from FreeDMR, on purpose (FreeDMR facts as observed in
// its config.py acl_build and hblink.py acl_check):
//  - The action is PERMIT or DENY in any case; anything else is an error. FreeDMR treats every
//    action other than the exact word PERMIT as DENY, so "permit:1" there means DENY:1.
//  - Spaces around the colon, the commas and the dash are allowed; an empty entry, a missing colon,
//    a second colon, a sign, "_" or any non-digit is an error. FreeDMR stops at the first bad entry
//    with a Python exception (a missing colon, "PERMIT:" and "1,,2" all crash it at start).
//  - A reversed range ("9999-9990") is an error; FreeDMR keeps it and it never matches.
//  - A range with one end outside 1..max is kept, clipped to that space, as FreeDMR accepts it
//    (ADN's "DENY:0-1000000" is a real value); a single ID outside it is an error, as there.
//  - Entries after ALL are still checked; FreeDMR ignores them (so garbage there goes unnoticed).
//  - ALL covers every ID including 0 and, for talkgroups and subscribers, up to 16777215 (the
//    all-call). FreeDMR's ALL stops at 16776415 (its ID_MAX), so there "PERMIT:ALL" on a TG list
//    refuses the all-call talkgroup and 16776416.. ; explicit entries here may go up to 16777215.
//  - In older FreeDMR code an empty value builds a malformed list; here it is simply PERMIT:ALL.

import type { Acl } from '../model/index.js';

export type { Acl };

/** Highest subscriber or talkgroup ID: DMR IDs are 24-bit (16777215 is the all-call). */
export const ACL_ID_MAX = 0xff_ffff;
/** Highest peer ID (REG lists): HBP peer IDs are 32-bit. */
export const ACL_PEER_MAX = 0xffff_ffff;

export type AclParse = { ok: true; acl: Acl } | { ok: false; error: string };

/** Is `id` let through by `acl`? One binary search; allocates nothing. */
export function aclAllows(acl: Acl, id: number): boolean {
  const s = acl.starts;
  let lo = 0;
  let hi = s.length - 1;
  // The last range starting at or below id.
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid]! <= id) lo = mid + 1;
    else hi = mid - 1;
  }
  const hit = hi >= 0 && id <= acl.ends[hi]!;
  return hit === acl.permit;
}

const NUMBER = /^\d{1,10}$/;

/** Parse `text` for IDs 1..`max`. Never throws; the error says which entry and why. */
export function parseAcl(text: string, max: number): AclParse {
  const t = text.trim();
  if (t === '') return { ok: true, acl: { permit: true, starts: [0], ends: [max], max } };
  const colon = t.indexOf(':');
  if (colon < 0) return fail(`no ":" after the action; write PERMIT:<ids> or DENY:<ids>`);
  const action = t.slice(0, colon).trim().toUpperCase();
  if (action !== 'PERMIT' && action !== 'DENY') return fail(`the action must be PERMIT or DENY, not ${JSON.stringify(t.slice(0, colon).trim())}`);
  const body = t.slice(colon + 1);
  if (body.includes(':')) return fail('only one ":" is allowed');
  const ranges: [number, number][] = [];
  for (const raw of body.split(',')) {
    const entry = raw.trim();
    if (entry === '') return fail(body.trim() === '' ? `no IDs after "${action}:"; write ${action}:ALL for every ID` : 'an empty entry (two commas, or a comma at an end)');
    if (entry.toUpperCase() === 'ALL') {
      ranges.push([0, max]);
      continue;
    }
    const dash = entry.indexOf('-');
    if (dash < 0) {
      if (!NUMBER.test(entry)) return fail(`${JSON.stringify(entry)} is not an ID, a range "first-last" or ALL`);
      const id = Number(entry);
      if (id < 1 || id > max) return fail(`${entry} is outside 1..${max}`);
      ranges.push([id, id]);
      continue;
    }
    const a = entry.slice(0, dash).trim();
    const b = entry.slice(dash + 1).trim();
    if (!NUMBER.test(a) || !NUMBER.test(b)) return fail(`${JSON.stringify(entry)} is not a range "first-last" of decimal IDs`);
    const first = Number(a);
    const last = Number(b);
    if (first > last) return fail(`${first}-${last} is reversed; write ${last}-${first}`);
    if (last < 1 || first > max) return fail(`${first}-${last} is outside 1..${max}`);
    ranges.push([Math.max(first, 1), Math.min(last, max)]);
  }
  return { ok: true, acl: fromRanges(action === 'PERMIT', ranges, max) };
}

function fail(error: string): AclParse {
  return { ok: false, error };
}

/** An ACL from any inclusive ranges (sorted and merged here). */
export function fromRanges(permit: boolean, ranges: readonly (readonly [number, number])[], max: number): Acl {
  const sorted = [...ranges].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const starts: number[] = [];
  const ends: number[] = [];
  for (const [a, b] of sorted) {
    const n = ends.length;
    if (n > 0 && a <= ends[n - 1]! + 1) {
      if (b > ends[n - 1]!) ends[n - 1] = b;
    } else {
      starts.push(a);
      ends.push(b);
    }
  }
  return { permit, starts, ends, max };
}

/** The canonical text of `acl`: the action, then ALL or the merged entries in order. */
export function printAcl(acl: Acl): string {
  const action = acl.permit ? 'PERMIT' : 'DENY';
  if (acl.starts.length === 1 && acl.starts[0] === 0 && acl.ends[0] === acl.max) return `${action}:ALL`;
  const parts: string[] = [];
  for (let i = 0; i < acl.starts.length; i++) {
    const a = acl.starts[i]!;
    const b = acl.ends[i]!;
    // A merged range may start at 0 only when it came from ALL, which covers everything.
    parts.push(a === b ? String(a) : `${a}-${b}`);
  }
  return `${action}:${parts.join(',')}`;
}

/** Lets every ID through (so it need not be checked at all). */
export function permitsAll(acl: Acl): boolean {
  if (acl.permit) return acl.starts.length === 1 && acl.starts[0] === 0 && acl.ends[0] === acl.max;
  return acl.starts.length === 0;
}
