// An FBP link (FreeDMR bridge protocol, spec §3.2–3.7): what arrives on its socket, and its timer.
//
// Ingress, in this order: the kind by tag and length; the MAC (BLAKE2b for a DMRE, HMAC-SHA1 for
// the BC* control frames), checked before anything in the frame is believed (FreeDMR adopts a
// DMRE's version byte before its MAC); the source address; then
//  - BCKA: the far end is alive; with `follow_address`, a keepalive from another address moves
//    the link's target there (its MAC covers only the tag, so it replays: off by default);
//  - BCVE: the far end's version, upgraded, never downgraded;
//  - BCSQ: stop sending that stream on this link (the quench lapses unless renewed);
//  - BCST: counted and ignored (FreeDMR's own receiver cannot verify it);
//  - DMRE: network ID, age of the timestamp against our wall clock, where the call entered the
//    mesh (4 to 7 digits; one of `known_servers` when that is set; never ourselves), hops plus one
//    within `max_hops`; then the shared link path (links/ingress.ts): loop control, policy, transit
//    to the other FBP links, the peers. Every refusal of a call is answered with one BCSQ per
//    stream and second, so the far end stops sending what we do not take;
//  - a plain OpenBridge DMRD is refused and answered with a BCVE, at most once a second.
// Any verified frame counts as a sign of life. Every 10 s the link sends a BCKA, every 60 s a BCVE,
// and warns once a minute while it has heard nothing from the far end for a minute.

import { dmreHops, dmreSourceServer, dmreTimeMs, dmreVersion, encodeBc, fbpKind, isFbpError, verifyBc, verifyDmre, type BcKind } from '../../protocol/fbp/index.js';
import { readU24, readU32 } from '../../protocol/bytes.js';
import { DMRD } from '../../protocol/hbp/dmrd.js';
import { LINK_DEFAULTS } from '../config.js';
import type { CoreEnv } from '../effects.js';
import type { DatagramEvent } from '../inputs.js';
import type { FbpLinkState, Link } from '../model/index.js';
import { NEVER } from '../time.js';
import { LINK_DEAD_MS } from './egress.js';
import { drop, linkFrame } from './ingress.js';

export const KEEPALIVE_MS = 10_000;
/** A quench for one stream goes out again at most this often (the far end's lapses after 2 s). */
const QUENCH_RESEND_MS = 1000;
const NUDGE_EVERY_MS = 1000;

export function onFbpDatagram(env: CoreEnv, link: Link, ev: DatagramEvent): void {
  const b = ev.bytes;
  const cfg = link.cfg;
  const fbp = link.fbp!;
  const k = fbpKind(b);
  if (isFbpError(k)) {
    if (k === 'fbp.v1-frame') nudge(env, link, fbp, ev.now);
    return drop(env, link, ev, k);
  }
  const dmre = k === 'dmre-v5' || k === 'dmre-v4';
  if (!(dmre ? verifyDmre(b, fbp.keys.blake2b) : verifyBc(b, k as BcKind, fbp.keys.hmac))) return drop(env, link, ev, 'obp.bad-mac');
  if (k === 'bcka' && cfg.followAddress && (ev.address !== link.targetAddress || ev.port !== link.targetPort)) {
    env.fx.log({ code: 'link.address-changed', level: 'warn', address: ev.address, port: ev.port, detail: `link ${cfg.name}: the far end now speaks from ${ev.address}:${ev.port} (was ${link.targetAddress}:${link.targetPort})` });
    link.targetAddress = ev.address;
    link.targetPort = ev.port;
    reportState(env, link, 'changed', 'address', ev.now);
  }
  if (cfg.checkSource && (ev.port !== link.targetPort || ev.address !== link.targetAddress)) return drop(env, link, ev, 'obp.wrong-source');
  fbp.lastHeard = ev.now;
  if (!fbp.up) {
    fbp.up = true;
    env.fx.log({ code: 'link.up', level: 'info', address: ev.address, port: ev.port, detail: `link ${cfg.name}: hearing the far end (FBP)` });
    reportState(env, link, 'up', '', ev.now);
  }
  switch (k) {
    case 'bcka':
      env.counters.add('fbp.keepalive');
      return;
    case 'bcve':
      return version(env, link, fbp, b[4]!);
    case 'bcst':
      env.counters.add('fbp.bcst-ignored');
      return;
    case 'bcsq':
      return quenched(env, link, readU32(b, 7), ev.now);
    default:
      return dmreFrame(env, link, fbp, ev);
  }
}

function dmreFrame(env: CoreEnv, link: Link, fbp: FbpLinkState, ev: DatagramEvent): void {
  const b = ev.bytes;
  const cfg = link.cfg;
  if (cfg.networkId !== 0 && readU32(b, DMRD.PEER) !== cfg.networkId) return drop(env, link, ev, 'obp.wrong-network-id', `expected ${cfg.networkId}, got ${readU32(b, DMRD.PEER)}`);
  version(env, link, fbp, dmreVersion(b));
  const skew = ev.now + env.wallOffset - dmreTimeMs(b);
  const abs = skew < 0 ? -skew : skew;
  if (abs > fbp.maxSkewMs) fbp.maxSkewMs = abs;
  if (skew > (cfg.maxAgeMs ?? LINK_DEFAULTS.maxAgeMs)) return refuse(env, link, ev, 'fbp.stale', `a timestamp ${Math.round(skew)} ms old`);
  const from = dmreSourceServer(b);
  if (from < 1000 || from > 9_999_999) return refuse(env, link, ev, 'fbp.bad-source-server', `source server ${from}`);
  if (from === env.cfg.serverId) return refuse(env, link, ev, 'fbp.own-call');
  const known = cfg.knownServers ?? LINK_DEFAULTS.knownServers;
  if (known.length > 0 && !known.includes(from)) return refuse(env, link, ev, 'fbp.unknown-source-server', `source server ${from}`);
  const hops = dmreHops(b) + 1;
  if (hops > (cfg.maxHops ?? LINK_DEFAULTS.maxHops)) {
    link.counts.tooManyHops++;
    return refuse(env, link, ev, 'fbp.too-many-hops', `${hops} hops`);
  }
  const r = linkFrame(env, link, ev, hops);
  if (typeof r === 'string') sendQuench(env, link, readU24(b, DMRD.DST), readU32(b, DMRD.STREAM), ev.now);
}

/** Drop a call's frame and ask the far end to stop sending that stream. */
function refuse(env: CoreEnv, link: Link, ev: DatagramEvent, code: string, detail?: string): void {
  drop(env, link, ev, code, detail);
  sendQuench(env, link, readU24(ev.bytes, DMRD.DST), readU32(ev.bytes, DMRD.STREAM), ev.now);
}

/** BCSQ: "stop sending me stream `streamId` on talkgroup `tg`", at most once a second per stream. */
export function sendQuench(env: CoreEnv, link: Link, tg: number, streamId: number, now: number): void {
  const fbp = link.fbp;
  if (fbp === null) return;
  const last = fbp.quenchSent.get(streamId);
  if (last !== undefined && now - last < QUENCH_RESEND_MS) return;
  fbp.quenchSent.set(streamId, now);
  link.counts.quenchSent++;
  env.counters.add('fbp.quench-sent');
  env.fx.send(link.cfg.socket, link.targetAddress, link.targetPort, encodeBc({ kind: 'bcsq', tg, streamId }, fbp.keys.hmac));
}

/** The far end asked us to stop sending a stream on this link: its link target is quenched (for a while). */
function quenched(env: CoreEnv, link: Link, streamId: number, now: number): void {
  env.counters.add('fbp.quench-received');
  link.counts.quenchReceived++;
  const st = env.streams.get(streamId);
  if (st === undefined || st.ended) return;
  for (const t of st.linkTargets) if (t.link === link) t.quenchedAt = now;
}

function version(env: CoreEnv, link: Link, fbp: FbpLinkState, v: number): void {
  if (v <= fbp.peerVersion) return;
  const was = fbp.peerVersion;
  fbp.peerVersion = v;
  if (was === 0) return;
  env.fx.log({ code: 'link.version', level: 'info', detail: `link ${link.cfg.name}: the far end speaks FBP version ${v} (was ${was})` });
  reportState(env, link, 'changed', 'version', env.now);
}

/** A link-state report: what the link is and has done. */
function reportState(env: CoreEnv, link: Link, change: 'up' | 'down' | 'changed', reason: string, now: number): void {
  const fbp = link.fbp;
  const c = link.counts;
  env.fx.report({
    report: 'link-state',
    now,
    change,
    link: link.cfg.name,
    kind: fbp === null ? 'openbridge' : 'fbp',
    address: link.targetAddress,
    port: link.targetPort,
    reason,
    version: fbp?.peerVersion ?? 0,
    silentMs: fbp === null || fbp.lastHeard === NEVER ? null : now - fbp.lastHeard,
    counts: { dropped: link.dropped, quenchSent: c.quenchSent, quenchReceived: c.quenchReceived, loops: c.loops, tooManyHops: c.tooManyHops },
  });
}

/** A plain OpenBridge frame on an FBP link: tell the far end our version (FreeDMR upgrades on it). */
function nudge(env: CoreEnv, link: Link, fbp: FbpLinkState, now: number): void {
  if (now - fbp.lastNudge < NUDGE_EVERY_MS) return;
  fbp.lastNudge = now;
  env.fx.send(link.cfg.socket, link.targetAddress, link.targetPort, fbp.bcve);
}

/** Start the link's keepalive timer, unless it runs already (a link kept across a reload). */
export function startTicking(env: CoreEnv, link: Link, now: number): void {
  const fbp = link.fbp;
  if (fbp === null || fbp.ticking) return;
  fbp.ticking = true;
  env.fx.schedule(now, { kind: 'link-tick', link });
}

/** The link's `link-tick`: keepalive, version every sixth tick, silence warning once a minute, old quench records forgotten. */
export function linkTick(env: CoreEnv, d: { readonly kind: 'link-tick'; readonly link: Link }, now: number): void {
  const link = d.link;
  const fbp = link.fbp;
  if (link.removed || fbp === null) {
    if (fbp !== null) fbp.ticking = false;
    return;
  }
  const sixth = fbp.ticks++ % 6 === 0;
  env.fx.send(link.cfg.socket, link.targetAddress, link.targetPort, fbp.bcka);
  // While the shell's receive queue is behind, the far end's keepalives may be waiting in it.
  if (fbp.up && now - fbp.lastHeard >= LINK_DEAD_MS && !env.receive.behind) {
    fbp.up = false;
    reportState(env, link, 'down', 'silent', now);
  }
  if (sixth) {
    env.fx.send(link.cfg.socket, link.targetAddress, link.targetPort, fbp.bcve);
    for (const [id, at] of fbp.quenchSent) if (now - at >= LINK_DEAD_MS) fbp.quenchSent.delete(id);
    if (fbp.ticks > 1 && now - fbp.lastHeard >= LINK_DEAD_MS) {
      const silent = fbp.lastHeard === NEVER ? 'never heard from it' : `nothing for ${Math.round((now - fbp.lastHeard) / 1000)} s`;
      env.fx.log({
        code: 'link.silent',
        level: 'warn',
        address: link.targetAddress,
        port: link.targetPort,
        detail: `link ${link.cfg.name}: no keepalive from the far end (${silent}); not fed until it is heard (check its address, port, passphrase and PROTO_VER 5)`,
      });
    }
  }
  env.fx.schedule(now + KEEPALIVE_MS, d);
}
