// Which talkgroups cross an OpenBridge link (spec §3.1, §4.8, §4.9): policy, both ways.
//  - a local talkgroup (routing.local_talkgroups) never does: it is carried between this server's
//    own peers only;
//  - a prohibited talkgroup never does;
//  - a link with a `talkgroups` list carries exactly those; one without carries every other
//    talkgroup (FreeDMR puts its OBP systems into every user-activated bridge of TG 80 and up).
// The talkgroup a link carries is the conference: a call on a peer's TG 9 dial lane to reflector
// N goes out as TG N, its link control rewritten.

import { LcRewriter, makeLc } from '../../protocol/dmr/index.js';
import { DMRE } from '../../protocol/fbp/index.js';
import { NEVER } from '../time.js';
import type { CoreConfig } from '../config.js';
import type { CoreEnv } from '../effects.js';
import type { Link, LinkTarget, Stream } from '../model/index.js';
import { prohibited } from '../sessions/policy.js';
import { linkEgressAllowed } from '../acl/check.js';

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
 * The links a stream to conference `tg` goes out on under the policy in force: for a peer's stream
 * (`from` null) every link that carries `tg`; for a stream that came in on link `from`, only when
 * that is an FBP link, the other FBP links that carry it (transit; OpenBridge v1 has no hop count,
 * so nothing crosses between v1 links). Called at the stream's start and again after each config
 * change, so a talkgroup made local mid-call stops crossing at once (and one newly carried crosses
 * from its next frame); targets kept keep their state.
 */
export function linkTargetsFor(env: CoreEnv, st: Stream, tg: number, from: Link | null = null): LinkTarget[] {
  st.linkPolicy = env.links.policy;
  const out: LinkTarget[] = [];
  if (from !== null && from.fbp === null) return out;
  for (const link of env.links.all) {
    if (from !== null && (link === from || link.fbp === null)) continue;
    if (notCarried(env.cfg, link, tg) !== null) continue;
    if (!linkEgressAllowed(env, link, tg)) {
      env.counters.add('stream.refused.acl-link-egress');
      continue;
    }
    const kept = st.linkTargets.find((t) => t.link === link);
    if (kept !== undefined) {
      out.push(kept);
      continue;
    }
    const rewriter = tg !== st.tg ? new LcRewriter(makeLc(st.lcPrefix, tg, st.src)) : null;
    out.push({ link, tg, rewriter, sent: 0, quenchedAt: NEVER });
    // A call that starts here enters the mesh here: our server ID, the peer, hop 1.
    if (link.fbp !== null && st.origin === null) st.origin = { version: DMRE.VERSION_CURRENT, sourceServer: env.cfg.serverId, sourceRepeater: st.session.peerId, hops: 1 };
  }
  return out;
}
