// The ACLs in force: the global set compiled from the config, and the known-ID list the shell read
// from the [acl] id_file (event `ids-loaded`). Only the router changes it (applyConfig, ids-loaded).

import type { CoreConfig } from '../config.js';
import type { AclSet } from '../model/index.js';
import { ACL_ID_MAX, ACL_PEER_MAX, fromRanges } from './grammar.js';
import { buildAclSet, OPEN_ACLS, type AclTexts } from './set.js';

/**
 * Compile `texts`. The config loader has checked them, so an error here means an event log from
 * elsewhere: each bad list refuses everything (fail closed), and `onError` is told which.
 */
export function compileAcls(texts: AclTexts, onError: (key: string, message: string) => void): AclSet {
  const r = buildAclSet(texts);
  if (r.ok) return r.set;
  const bad = new Set(r.errors.map((e) => e.key));
  for (const e of r.errors) onError(e.key, e.message);
  const good = buildAclSet(Object.fromEntries(Object.entries(texts).filter(([k]) => !bad.has(k as keyof AclTexts))));
  const base = good.ok ? good.set : OPEN_ACLS;
  const closed = (key: keyof AclTexts, max: number) => (bad.has(key) ? fromRanges(true, [], max) : base[key]);
  return { reg: closed('reg', ACL_PEER_MAX), sub: closed('sub', ACL_ID_MAX), tgidTs1: closed('tgidTs1', ACL_ID_MAX), tgidTs2: closed('tgidTs2', ACL_ID_MAX) };
}

/** What the known-ID list says of a peer ID. */
export type Known = 'known' | 'unknown' | 'no-list';

export class AclTable {
  private set: AclSet = OPEN_ACLS;
  private ids: Uint32Array | null = null;
  private idSource = '';

  /** The global lists ([acl] reg, sub, tgid_ts1, tgid_ts2). */
  get global(): AclSet {
    return this.set;
  }

  apply(cfg: CoreConfig, onError: (key: string, message: string) => void): void {
    const a = cfg.acl;
    this.set = compileAcls({ reg: a.reg, sub: a.sub, tgidTs1: a.tgidTs1, tgidTs2: a.tgidTs2 }, onError);
  }

  /** The shell read the ID file: `ids` sorted ascending, no repeats. */
  replaceIds(ids: Uint32Array, source: string): void {
    this.ids = ids;
    this.idSource = source;
  }

  get idCount(): number {
    return this.ids === null ? 0 : this.ids.length;
  }

  get idFile(): string {
    return this.idSource;
  }

  /**
   * Is `peerId` in the known-ID list? As FreeDMR does, a peer ID longer than 7 digits (a hotspot's
   * DMR ID with a 2-digit suffix) is also looked up by its first 7 digits. O(log n).
   */
  known(peerId: number): Known {
    const ids = this.ids;
    if (ids === null) return 'no-list';
    if (has(ids, peerId)) return 'known';
    let x = peerId;
    while (x > 9_999_999) x = Math.floor(x / 10);
    return x !== peerId && has(ids, x) ? 'known' : 'unknown';
  }
}

function has(ids: Uint32Array, id: number): boolean {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid]!;
    if (v === id) return true;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
