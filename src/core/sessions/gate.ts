// What the login path keeps between datagrams, none of it per RPTL: the challenge key, the compiled
// credentials and two per-address limits. Owned by src/core/sessions; the router makes it new on
// `started` (the key) and hands it each config.

import type { CoreConfig } from '../config.js';
import { LoginChallenge, type Hashing } from './challenge.js';
import { CredentialBook } from './credentials.js';
import { AddressLimiter } from './limiter.js';

/** MSTNAKs to a sender that has not logged in: a burst of 20, then 10 a second per address. */
export const NAK_BURST = 20;
export const NAK_PER_SECOND = 10;
/** Failed RPTKs (wrong passphrase) per address: 10, then one every 2 s; beyond it RPTK is not checked. */
export const FAIL_BURST = 10;
export const FAIL_PER_SECOND = 0.5;

export class LoginGate {
  challenge: LoginChallenge;
  book: CredentialBook;
  readonly naks = new AddressLimiter(NAK_BURST, NAK_PER_SECOND);
  readonly failures = new AddressLimiter(FAIL_BURST, FAIL_PER_SECOND);

  constructor(
    private readonly deps: Hashing,
    cfg: CoreConfig,
  ) {
    this.challenge = new LoginChallenge(deps, 0);
    this.book = new CredentialBook(cfg);
  }

  rekey(seed: number): void {
    this.challenge = new LoginChallenge(this.deps, seed);
  }

  apply(cfg: CoreConfig): void {
    this.book = new CredentialBook(cfg);
  }
}
