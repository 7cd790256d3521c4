// A stream going out on its links. OpenBridge v1: the 53-byte DMRD on TS1 with our ID (or the
// peer's) in bytes 11–14, signed with the link's HMAC-SHA1 (73 bytes). FBP: a DMRE v5 (89 bytes)
// with our ID in bytes 11–14, BER and RSSI, our wall-clock timestamp, where the call entered the
// mesh and its hop count, signed with the link's keyed BLAKE2b. An FBP link that asked us to stop
// sending the stream (BCSQ) is skipped until that lapses, and one not heard from for a minute is
// not fed (nor one never heard from at all, for a call in transit).

import { OBP } from '../../protocol/obp/index.js';
import { writeU24, writeU32 } from '../../protocol/bytes.js';
import { DMRE, FBP_LEN, setDmreTimeMs, signDmre } from '../../protocol/fbp/index.js';
import { DMRD, FLAG } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { Link, LinkTarget, Stream } from '../model/index.js';
import { NEVER } from '../time.js';

/** A received quench holds this long; the far end renews it while it still gets the stream elsewhere. */
export const QUENCH_LAPSE_MS = 2000;
/** An FBP link silent this long is not fed (FreeDMR: six missed keepalives). */
export const LINK_DEAD_MS = 60_000;

/** Send one packet of `st` (a DMRD from a peer, or a DMRE in transit) on its links. */
export function sendToLinks(env: CoreEnv, st: Stream, b: Uint8Array, now: number): void {
  const targets = st.linkTargets;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    const link = t.link;
    if (link.removed) continue;
    const out = link.fbp === null ? obpFrame(env, st, t, link, b) : dmreFrame(env, st, t, link, b, now);
    if (out === null) continue;
    if (env.fx.send(link.cfg.socket, link.targetAddress, link.targetPort, out) === true) {
      if (link.fbp === null) link.buffer = null;
      else link.fbp.out = null;
    }
    if (t.sent++ === 0) st.receivers++;
    link.framesOut++;
  }
}

/** The body both framings share: bytes [4, 53) of `b`, rewritten for the target's talkgroup, TS1, our ID. */
function copyBody(out: Uint8Array, t: LinkTarget, b: Uint8Array, peerId: number): void {
  for (let j = 4; j < OBP.BODY; j++) out[j] = b[j]!;
  if (t.rewriter !== null) {
    writeU24(out, DMRD.DST, t.tg);
    t.rewriter.patchFrame(out, out[DMRD.FLAGS]!, DMRD.PAYLOAD);
  }
  out[DMRD.FLAGS] = out[DMRD.FLAGS]! & ~FLAG.SLOT2;
  writeU32(out, DMRD.PEER, peerId);
}

function obpFrame(env: CoreEnv, st: Stream, t: LinkTarget, link: Link, b: Uint8Array): Uint8Array {
  let out = link.buffer;
  if (out === null) {
    out = link.buffer = new Uint8Array(OBP.FRAME);
    out.set([0x44, 0x4d, 0x52, 0x44]); // DMRD
  }
  copyBody(out, t, b, link.cfg.preserveSourcePeer ? st.session.peerId : env.cfg.serverId);
  link.mac.sign(out, 0, OBP.BODY, out, OBP.BODY);
  return out;
}

function dmreFrame(env: CoreEnv, st: Stream, t: LinkTarget, link: Link, b: Uint8Array, now: number): Uint8Array | null {
  const fbp = link.fbp!;
  if (t.quenchedAt !== NEVER && now - t.quenchedAt < QUENCH_LAPSE_MS) return null;
  if (now - fbp.lastHeard >= LINK_DEAD_MS && (fbp.lastHeard !== NEVER || st.route === 'link')) return null;
  const o = st.origin!;
  let out = fbp.out;
  if (out === null) {
    out = fbp.out = new Uint8Array(FBP_LEN.DMRE_V5);
    out.set([0x44, 0x4d, 0x52, 0x45]); // DMRE
  }
  copyBody(out, t, b, env.cfg.serverId);
  out[DMRE.BER] = b.length >= 55 ? b[DMRD.BER]! : 0;
  out[DMRE.RSSI] = b.length >= 55 ? b[DMRD.RSSI]! : 0;
  out[DMRE.VERSION] = DMRE.VERSION_CURRENT;
  setDmreTimeMs(out, now + env.wallOffset);
  writeU32(out, DMRE.SOURCE_SERVER, o.sourceServer);
  writeU32(out, DMRE.SOURCE_REPEATER, o.sourceRepeater);
  out[DMRE.HOPS_V5] = o.hops;
  signDmre(out, fbp.keys.blake2b);
  return out;
}
