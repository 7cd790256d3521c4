// A peer's stream going out on its links: each frame as the 53-byte DMRD on TS1 with our ID (or
// the peer's) in bytes 11–14, signed with the link's HMAC-SHA1 (73 bytes).

import { OBP } from '../../protocol/obp/index.js';
import { writeU24, writeU32 } from '../../protocol/bytes.js';
import { DMRD, FLAG } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { Stream } from '../model/index.js';

/** Send one packet of a peer's stream on its links. */
export function sendToLinks(env: CoreEnv, st: Stream, b: Uint8Array): void {
  const targets = st.linkTargets;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    const link = t.link;
    if (link.removed) continue;
    let out = link.buffer;
    if (out === null) out = link.buffer = new Uint8Array(OBP.FRAME);
    for (let j = 0; j < OBP.BODY; j++) out[j] = b[j]!;
    if (t.rewriter !== null) {
      writeU24(out, DMRD.DST, t.tg);
      t.rewriter.patchFrame(out, out[DMRD.FLAGS]!, DMRD.PAYLOAD);
    }
    out[DMRD.FLAGS] = out[DMRD.FLAGS]! & ~FLAG.SLOT2;
    writeU32(out, DMRD.PEER, link.cfg.preserveSourcePeer ? st.session.peerId : env.cfg.serverId);
    link.mac.sign(out, 0, OBP.BODY, out, OBP.BODY);
    if (env.fx.send(link.cfg.socket, link.cfg.address, link.cfg.port, out) === true) link.buffer = null;
    if (t.sent++ === 0) st.receivers++;
    link.framesOut++;
  }
}
