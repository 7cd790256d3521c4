// The four lists that can apply to a call or a login (spec §5.1), as one value that can be attached
// to anything that has ACLs: the global [acl] section, a [[links]] entry, and a credential pattern
// ([[hbp.credentials]], keys reg_acl, sub_acl, tgid_ts1_acl and tgid_ts2_acl).
//  - reg: the peer ID at login (RPTL);
//  - sub: the source subscriber ID of a stream, at its start;
//  - tgidTs1 / tgidTs2: the destination talkgroup of a stream on that slot, at its start. A link
//    is TS1 only: its one talkgroup list is tgidTs1.
// A list that lets everything through is stored as null, so it costs nothing to check.

import type { Acl, AclSet } from '../model/index.js';
import { ACL_ID_MAX, ACL_PEER_MAX, aclAllows, parseAcl, permitsAll, printAcl } from './grammar.js';

export type { AclSet };

/** The four lists as text; a missing or empty one is PERMIT:ALL. */
export interface AclTexts {
  reg?: string | undefined;
  sub?: string | undefined;
  tgidTs1?: string | undefined;
  tgidTs2?: string | undefined;
}

export const OPEN_ACLS: AclSet = { reg: null, sub: null, tgidTs1: null, tgidTs2: null };

export type AclSetResult = { ok: true; set: AclSet } | { ok: false; errors: { key: keyof AclTexts; message: string }[] };

/** Parse the (up to) four lists of one owner; every bad one is named. */
export function buildAclSet(texts: AclTexts): AclSetResult {
  const errors: { key: keyof AclTexts; message: string }[] = [];
  const one = (key: keyof AclTexts, max: number): Acl | null => {
    const text = texts[key];
    if (text === undefined || text.trim() === '') return null;
    const r = parseAcl(text, max);
    if (!r.ok) {
      errors.push({ key, message: r.error });
      return null;
    }
    return permitsAll(r.acl) ? null : r.acl;
  };
  const set: AclSet = { reg: one('reg', ACL_PEER_MAX), sub: one('sub', ACL_ID_MAX), tgidTs1: one('tgidTs1', ACL_ID_MAX), tgidTs2: one('tgidTs2', ACL_ID_MAX) };
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, set: set.reg === null && set.sub === null && set.tgidTs1 === null && set.tgidTs2 === null ? OPEN_ACLS : set };
}

/** The canonical text of one list of a set ("" for one that lets everything through). */
export const aclText = (acl: Acl | null): string => (acl === null ? '' : printAcl(acl));

/** Which list refused: the reason in counters and logs. */
export type AclRefusal = 'acl.sub' | 'acl.tgid-ts1' | 'acl.tgid-ts2';

/**
 * Why a stream from `src` to `tg` on `slot` is refused by `set`, or null: the subscriber list
 * first, then the slot's talkgroup list (FreeDMR's order).
 */
export function refusal(set: AclSet, src: number, tg: number, slot: 1 | 2): AclRefusal | null {
  if (set.sub !== null && !aclAllows(set.sub, src)) return 'acl.sub';
  if (slot === 1) {
    if (set.tgidTs1 !== null && !aclAllows(set.tgidTs1, tg)) return 'acl.tgid-ts1';
  } else if (set.tgidTs2 !== null && !aclAllows(set.tgidTs2, tg)) return 'acl.tgid-ts2';
  return null;
}

/** The registration list lets `peerId` log in. */
export const regAllows = (set: AclSet, peerId: number): boolean => set.reg === null || aclAllows(set.reg, peerId);
