// What the server's config and a peer's options say together: prohibited talkgroups, the peer's
// timer and single mode.

import type { CoreConfig } from '../config.js';
import type { Session } from '../model/index.js';

/** Talkgroups that may not be used as statics, user activations or dial targets. */
export function prohibited(cfg: CoreConfig, tg: number): boolean {
  return cfg.routing.prohibited.includes(tg);
}

/** The peer's user-activation/dial timer (ms; 0 = no expiry). */
export const timerOf = (cfg: CoreConfig, s: Session): number => s.options.timerMs ?? cfg.routing.userActivationMs;

export const singleOf = (cfg: CoreConfig, s: Session): boolean => s.options.single ?? cfg.routing.singleMode;
