// Which talkgroups cross an OpenBridge link (spec §3.1, §4.8, §4.9): policy, both ways.
//  - a local talkgroup (routing.local_talkgroups) never does: it is carried between this server's
//    own peers only;
//  - a prohibited talkgroup never does;
//  - a link with a `talkgroups` list carries exactly those; one without carries every other
//    talkgroup (FreeDMR puts its OBP systems into every user-activated bridge of TG 80 and up).
// The talkgroup a link carries is the conference: a call on a peer's TG 9 dial lane to reflector
// N goes out as TG N, its link control rewritten.

import { LcRewriter, makeLc } from '../../protocol/dmr/index.js';
import type { CoreConfig } from '../config.js';
import type { CoreEnv } from '../effects.js';
import type { Link, LinkTarget, Stream } from '../model/index.js';
import { prohibited } from '../sessions/policy.js';

export function isLocal(cfg: CoreConfig, tg: number): boolean {
  const ranges = cfg.routing.localTalkgroups;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if (tg >= r[0] && tg <= r[1]) return true;
  }
  return false;
}

/** Why `link` does not carry talkgroup `tg`, or null when it does. */
export function notCarried(cfg: CoreConfig, link: Link, tg: number): string | null {
  if (tg === 0 || tg >= 0xffffff) return 'obp.not-a-talkgroup';
  if (isLocal(cfg, tg)) return 'obp.local-talkgroup';
  if (prohibited(cfg, tg)) return 'obp.prohibited-talkgroup';
  if (link.carried !== null && !link.carried.has(tg)) return 'obp.talkgroup-not-carried';
  return null;
}

/**
 * The links a peer's stream to conference `tg` goes out on under the policy in force. Called at
 * the stream's start and again after each config change, so a talkgroup made local mid-call stops
 * crossing at once (and one newly carried crosses from its next frame); targets kept keep their state.
 */
export function linkTargetsFor(env: CoreEnv, st: Stream, tg: number): LinkTarget[] {
  st.linkPolicy = env.links.policy;
  const out: LinkTarget[] = [];
  for (const link of env.links.all) {
    if (notCarried(env.cfg, link, tg) !== null) continue;
    const kept = st.linkTargets.find((t) => t.link === link);
    if (kept !== undefined) {
      out.push(kept);
      continue;
    }
    const rewriter = tg !== st.tg ? new LcRewriter(makeLc(st.lcPrefix, tg, st.src)) : null;
    out.push({ link, tg, rewriter, sent: 0 });
  }
  return out;
}
