// Access control lists (spec §5.1), as the core holds them. Owned by src/core/acl (grammar, checks);
// a link and a session carry the set that applies to them.

export interface Acl {
  /** The action of a matching ID: true = PERMIT, false = DENY; every other ID gets the opposite. */
  readonly permit: boolean;
  /** Sorted, disjoint, non-adjacent inclusive ranges: starts[i]..ends[i]. */
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  /** Top of the ID space the list was parsed for (ALL is 0..max). */
  readonly max: number;
}

/**
 * The four lists of one owner (the global [acl] section, a link, a credential pattern). A list
 * that lets everything through is null, so it costs nothing to check.
 */
export interface AclSet {
  /** The peer ID at login (RPTL). */
  readonly reg: Acl | null;
  /** The source subscriber of a stream, at its start. */
  readonly sub: Acl | null;
  /** The destination talkgroup of a stream on TS1 (a link's one talkgroup list), at its start. */
  readonly tgidTs1: Acl | null;
  /** The destination talkgroup of a stream on TS2, at its start. */
  readonly tgidTs2: Acl | null;
}
