// A per-peer login credential ([[hbp.credentials]] in the config file), as the core holds it.
// Owned by src/core/sessions (credentials.ts compiles the list into lookups at each config change).

/** One credential: who it covers, the passphrase they prove, and defaults for their sessions. */
export interface Credential {
  /** For logs: the entry's `name`, or "credentials.<n>" (1-based) when it has none. */
  name: string;
  /** Peer IDs it covers, as inclusive [first, last] ranges (a single ID is [id, id]); may be empty. */
  ids: [number, number][];
  /**
   * Callsign pattern ("*" any run of characters, "?" one), matched case-insensitively against the
   * RPTC callsign; "" = any callsign. An entry with no IDs must have one.
   */
  callsign: string;
  /** The passphrase (the config loader resolves `passphrase_file`). */
  passphrase: string;
  /** Static talkgroups of a peer that sends no options; null = the server's (routing.ts1Static…). */
  ts1: number[] | null;
  ts2: number[] | null;
  /** RPTO options are applied (false: acknowledged, logged once, not applied). */
  options: boolean;
  /** The peer accepts talker alias (DMRA) from the master. */
  talkerAlias: boolean;
}
