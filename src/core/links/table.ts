// The link table: the OpenBridge links of the config, by the shell socket they use and in config
// order, and the policy counter live streams compare with. Only applyConfig changes it.

import { obpKey } from '../../protocol/obp/index.js';
import { HmacSha1 } from '../../protocol/obp/hmac-sha1.js';
import { DMRE, encodeBc, fbpKeys } from '../../protocol/fbp/index.js';
import type { LinkConfig } from '../config.js';
import type { FbpLinkState, Link } from '../model/index.js';
import { newSession, SessionState } from '../sessions/session.js';
import { NEVER } from '../time.js';
import { compileAcls } from '../acl/table.js';
import type { AclSet } from '../model/index.js';

/** A link's own lists (its tgid_acl is TS1: a link carries TS1 only). */
const linkAcls = (cfg: LinkConfig, onError: (key: string, message: string) => void): AclSet =>
  compileAcls({ sub: cfg.subAcl ?? '', tgidTs1: cfg.tgidAcl ?? '' }, onError);

function fbpState(cfg: LinkConfig, was: FbpLinkState | null): FbpLinkState | null {
  if (cfg.protocol !== 'fbp') return null;
  const keys = fbpKeys(cfg.passphrase);
  return {
    keys,
    out: null,
    bcka: encodeBc({ kind: 'bcka' }, keys.hmac),
    bcve: encodeBc({ kind: 'bcve', version: DMRE.VERSION_CURRENT }, keys.hmac),
    peerVersion: was?.peerVersion ?? 0,
    lastHeard: was?.lastHeard ?? NEVER,
    quenchSent: was?.quenchSent ?? new Map(),
    lastNudge: was?.lastNudge ?? NEVER,
    ticks: was?.ticks ?? 0,
    ticking: was?.ticking ?? false,
    maxSkewMs: was?.maxSkewMs ?? 0,
    up: was?.up ?? false,
  };
}

function newLink(cfg: LinkConfig, now: number, onError: (key: string, message: string) => void): Link {
  const session = newSession(cfg.networkId, cfg.socket, cfg.address, cfg.port, now, 0, 'link');
  session.state = SessionState.Connected;
  return {
    cfg,
    mac: new HmacSha1(obpKey(cfg.passphrase)),
    carried: cfg.talkgroups.length > 0 ? new Set(cfg.talkgroups) : null,
    session,
    buffer: null,
    framesIn: 0,
    framesOut: 0,
    dropped: 0,
    removed: false,
    targetAddress: cfg.address,
    targetPort: cfg.port,
    fbp: fbpState(cfg, null),
    warned: new Map(),
    acl: linkAcls(cfg, onError),
    aclRefused: new Map(),
    counts: { quenchSent: 0, quenchReceived: 0, loops: 0, tooManyHops: 0 },
  };
}

function updateLink(link: Link, cfg: LinkConfig, onError: (key: string, message: string) => void): void {
  const moved = cfg.address !== link.cfg.address || cfg.port !== link.cfg.port;
  link.cfg = cfg;
  link.mac = new HmacSha1(obpKey(cfg.passphrase));
  link.carried = cfg.talkgroups.length > 0 ? new Set(cfg.talkgroups) : null;
  link.acl = linkAcls(cfg, onError);
  // A target the config moved wins over one learnt from the far end.
  if (moved || cfg.protocol !== 'fbp' || !cfg.followAddress) {
    link.targetAddress = cfg.address;
    link.targetPort = cfg.port;
  }
  link.fbp = fbpState(cfg, link.fbp);
}

export class LinkTable {
  private readonly list: Link[] = [];
  private readonly bySocket = new Map<number, Link>();
  private version = 0;

  /** Bumped whenever the links or the talkgroup policy may have changed (every config applied). */
  get policy(): number {
    return this.version;
  }

  bySocketNumber(socket: number): Link | undefined {
    return this.bySocket.get(socket);
  }

  get all(): readonly Link[] {
    return this.list;
  }

  /**
   * Make the links match the config: kept by name (live streams stay theirs), added, removed.
   * `onAclError` hears of a link ACL that does not parse (only from a foreign event log).
   */
  apply(cfgs: readonly LinkConfig[], now: number, onAclError: (link: string, key: string, message: string) => void = () => {}): void {
    const byName = new Map(this.list.map((l) => [l.cfg.name, l]));
    const next: Link[] = [];
    for (const c of cfgs) {
      const cur = byName.get(c.name);
      if (cur !== undefined && cur.cfg.socket === c.socket) {
        updateLink(cur, c, (k, m) => onAclError(c.name, k, m));
        byName.delete(c.name);
        next.push(cur);
      } else next.push(newLink(c, now, (k, m) => onAclError(c.name, k, m)));
    }
    for (const gone of byName.values()) gone.removed = true;
    // Live streams look at the policy again before their next frame.
    this.version++;
    this.list.length = 0;
    this.bySocket.clear();
    for (const l of next) {
      this.list.push(l);
      this.bySocket.set(l.cfg.socket, l);
    }
  }
}
