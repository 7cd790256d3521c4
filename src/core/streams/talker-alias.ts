// Talker alias (DMRA, spec §1.8): a peer tells us the alias its radio sends for the talker of its
// current call. When the server forwards aliases (routing.talkerAlias, off by default), the message
// goes to every peer that is receiving that talker's stream right now and accepts DMRA from a master
// (Session.acceptsAlias: its credential's `talker_alias`, its RPTC software ID in
// routing.talkerAliasSoftware, or an uplink's master), once per peer, with the receiver's own peer
// ID at [4:8) as every master→peer message carries it. DMRGateway and MMDVMHost do not accept DMRA
// from a master (each logs "Unknown packet from the master" with a hex dump), so they never get it.
// The alias is never sent anywhere the voice is not going, and an alias for a talker with no live
// stream goes nowhere.
//
// Layout from a peer: "DMRA" + peer ID (4) + source ID (3) + block type (1) + alias bytes. Only
// the first 12 bytes are required; the rest is passed on as it came.

import { readU24, writeU32 } from '../../protocol/bytes.js';
import type { CoreEnv } from '../effects.js';
import type { Session, Stream } from '../model/index.js';

export function onTalkerAlias(env: CoreEnv, s: Session, b: Uint8Array): void {
  if (!env.cfg.routing.talkerAlias) return;
  if (b.length < 12) {
    env.counters.add('dmra.short');
    return;
  }
  const src = readU24(b, 8);
  let st: Stream | null = null;
  for (const slot of [1, 2] as const) {
    const rx = s.slots[slot].rx;
    if (rx !== null && !rx.ended && rx.src === src) st = rx;
  }
  if (st === null || st.echo !== null) {
    env.counters.add('dmra.no-stream');
    return;
  }
  const epoch = ++env.hot.markEpoch;
  let sent = 0;
  let declined = 0;
  for (const v of st.variants) {
    for (const sub of v.subs) {
      const lane = sub.session.slots[sub.slot];
      if (lane.txStream !== st.id || sub.session.closed) continue;
      if (!sub.session.acceptsAlias) {
        declined++;
        continue;
      }
      // One copy per peer, even when both of its slots carry the stream.
      const other = sub.session.slots[sub.slot === 1 ? 2 : 1];
      if (other.mark === epoch || lane.mark === epoch) continue;
      lane.mark = epoch;
      const out = b.slice();
      writeU32(out, 4, sub.session.peerId);
      env.fx.send(lane.target.socket, lane.target.address, lane.target.port, out);
      sent++;
    }
  }
  if (declined > 0) env.counters.add('dmra.not-accepted', declined);
  env.counters.add(sent > 0 ? 'dmra.forwarded' : 'dmra.no-receivers');
}
