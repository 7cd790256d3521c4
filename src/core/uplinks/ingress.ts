// A datagram on an uplink's socket. Only the configured master address:port is listened to (spec
// §1.12). DMRD, once the uplink is up and with our peer ID at [11:15) (any ID when loose), enters
// like a peer's DMRD for the uplink's stand-in session (streams/ingress.ts, which admits only group
// calls on the talkgroups the uplink carries on that slot: uplinks/routing.ts). Everything else is
// the login's business (uplinks/login.ts).

import { readU32 } from '../../protocol/bytes.js';
import { checkDmrd, DMRD } from '../../protocol/hbp/dmrd.js';
import { HbpKind, hbpKind } from '../../protocol/hbp/kinds.js';
import type { CoreEnv } from '../effects.js';
import type { DatagramEvent } from '../inputs.js';
import type { Uplink } from '../model/index.js';
import { onPeerDmrd } from '../streams/ingress.js';
import { ignore, onMasterControl } from './login.js';

export function onUplinkDatagram(env: CoreEnv, u: Uplink, ev: DatagramEvent): void {
  if (ev.port !== u.cfg.port || ev.address !== u.cfg.address) return ignore(env, u, ev, 'uplink.wrong-source');
  if (u.removed) return ignore(env, u, ev, 'uplink.removed');
  const b = ev.bytes;
  if (hbpKind(b) !== HbpKind.DMRD) return onMasterControl(env, u, ev);
  const err = checkDmrd(b);
  if (err !== null) return ignore(env, u, ev, err);
  if (u.state !== 'up') return ignore(env, u, ev, 'uplink.dmrd-not-up');
  if (!u.cfg.loose && readU32(b, DMRD.PEER) !== u.cfg.peerId) return ignore(env, u, ev, 'uplink.wrong-peer-id');
  u.framesIn++;
  u.session.lastSeen = ev.now;
  onPeerDmrd(env, u.session, b, ev.now);
}
