// Uplinks made, changed and ended: from the config (at start and after each reload) and at
// shutdown. An uplink is kept by name while its socket stays the same; any change to what it sends
// or carries (credentials, RPTC fields, options, talkgroups, master) applies with a new login. One
// taken out of the config says goodbye (RPTCL) and stays down.

import type { CoreEnv } from '../effects.js';
import type { Uplink, UplinkConfig } from '../model/index.js';
import { newSession, SessionState } from '../sessions/session.js';
import { beginLogin, goDown } from './login.js';
import { carriedBy, sayGoodbye } from './routing.js';

function standIn(cfg: UplinkConfig, now: number) {
  const s = newSession(cfg.peerId, cfg.socket, cfg.address, cfg.port, now, 0, 'uplink');
  s.state = SessionState.Connected;
  return s;
}

function newUplink(env: CoreEnv, cfg: UplinkConfig, now: number): Uplink {
  return {
    cfg,
    session: standIn(cfg, now),
    carried: carriedBy(cfg, env.cfg.routing.maxStaticPerSlot),
    state: 'down',
    gen: 0,
    failures: 0,
    missed: 0,
    refusals: 0,
    upAt: now,
    optionsAgain: 'no',
    removed: false,
    framesIn: 0,
    dropped: 0,
  };
}

/** Make the uplinks match the config: new ones log in now, changed ones log in again, removed ones leave. */
export function applyUplinks(env: CoreEnv, cfgs: readonly UplinkConfig[], now: number): void {
  const byName = new Map(env.uplinks.all.map((u) => [u.cfg.name, u]));
  const next: Uplink[] = [];
  const fresh: Uplink[] = [];
  for (const c of cfgs) {
    const cur = byName.get(c.name);
    if (cur !== undefined && cur.cfg.socket === c.socket) {
      byName.delete(c.name);
      next.push(cur);
      if (JSON.stringify(cur.cfg) === JSON.stringify(c)) continue;
      sayGoodbye(env, cur);
      goDown(env, cur, 'reload', now);
      const old = cur.session;
      cur.cfg = c;
      cur.session = standIn(c, now);
      cur.carried = carriedBy(c, env.cfg.routing.maxStaticPerSlot);
      cur.failures = 0;
      cur.refusals = 0;
      env.uplinks.rebind(cur, old);
      fresh.push(cur);
    } else {
      const u = newUplink(env, c, now);
      next.push(u);
      fresh.push(u);
    }
  }
  for (const gone of byName.values()) {
    sayGoodbye(env, gone);
    gone.removed = true;
    goDown(env, gone, 'removed', now);
  }
  env.uplinks.replace(next);
  for (const u of fresh) beginLogin(env, u, now);
}

/** The server stops: every uplink says goodbye and goes down for good. */
export function shutdownUplinks(env: CoreEnv, now: number): void {
  for (const u of env.uplinks.all) {
    sayGoodbye(env, u);
    u.removed = true;
    goDown(env, u, 'shutdown', now);
  }
}
