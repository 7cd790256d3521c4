// Which passphrases a peer may prove at RPTK, from `hbp.credentials` and the catch-all
// `hbp.passphrase`. Compiled once per config change, so an RPTK costs a map lookup, a short scan
// of the ID ranges and one SHA-256 per candidate passphrase.
//
// The rules (README, "Per-peer credentials"):
// - A peer whose ID a credential covers (single IDs first, then ranges, each in file order) must
//   prove that credential's passphrase and no other; the catch-all does not work for it.
// - Any other peer may prove a callsign-only credential or the catch-all. RPTK comes before RPTC,
//   so the callsign is not known when the passphrase is checked: the credential is remembered on
//   the session, and RPTC is refused (the session closed) when its callsign does not match.
// - Only a credential that covers the peer's ID proves the peer itself; that is what allows
//   taking over an ID connected from another address (login.ts).

import { utf8 } from '../../protocol/bytes.js';
import type { CoreConfig } from '../config.js';
import type { Credential } from '../model/index.js';

export interface Candidate {
  /** null: the catch-all passphrase. */
  readonly credential: Credential | null;
  readonly passphrase: Uint8Array;
}

export class CredentialBook {
  private readonly single = new Map<number, Candidate>();
  private readonly ranges: { lo: number; hi: number; c: Candidate }[] = [];
  private readonly open: Candidate[] = [];

  constructor(cfg: CoreConfig) {
    for (const c of cfg.hbp.credentials) {
      const cand: Candidate = { credential: c, passphrase: utf8(c.passphrase) };
      if (c.ids.length === 0) this.open.push(cand);
      for (const [lo, hi] of c.ids) {
        if (lo === hi) {
          if (!this.single.has(lo)) this.single.set(lo, cand);
        } else this.ranges.push({ lo, hi, c: cand });
      }
    }
    if (cfg.hbp.passphrase !== '') this.open.push({ credential: null, passphrase: utf8(cfg.hbp.passphrase) });
  }

  /** The credential covering `peerId` by ID, if any. */
  byId(peerId: number): Candidate | undefined {
    const s = this.single.get(peerId);
    if (s !== undefined) return s;
    for (const r of this.ranges) if (peerId >= r.lo && peerId <= r.hi) return r.c;
    return undefined;
  }

  /** The passphrases `peerId` may prove, in the order they are tried. */
  candidates(peerId: number): readonly Candidate[] {
    const own = this.byId(peerId);
    return own !== undefined ? [own] : this.open;
  }
}

/** `callsign` matches `pattern` ("*" any run, "?" one character; case-insensitive; "" matches all). */
export function callsignMatches(pattern: string, callsign: string): boolean {
  if (pattern === '') return true;
  const p = pattern.toUpperCase();
  const s = callsign.trim().toUpperCase();
  // Iterative wildcard match with one backtrack point (linear in practice, no regex built per call).
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < s.length) {
    if (i < p.length && (p[i] === '?' || p[i] === s[j])) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      mark = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++mark;
    } else return false;
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}
