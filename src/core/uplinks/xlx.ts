// Selecting an XLX reflector's module after login (spec §1.12, §10.4). XLX takes its commands as
// private calls from the peer: one to 4000 unlinks, one to 4001…4026 links module A…Z. Each is
// sent as three voice headers and two terminators on TS2, carrying the unit-call link control
// (FLCO 3) from our subscriber ID to the number, with the uplink's colour code and a stream ID of
// its own. Built here from the ETSI encodings (src/protocol/dmr), nothing canned.

import { buildLcBurst, encodeHeaderLc, encodeTerminatorLc, LC_OPT_UNIT, makeLc, SlotDataType } from '../../protocol/dmr/index.js';
import { encodeDmrd } from '../../protocol/hbp/dmrd.js';
import type { CoreEnv } from '../effects.js';
import type { Uplink } from '../model/index.js';

/** XLX's unlink number. */
export const XLX_UNLINK = 4000;

/** The subscriber ID our private calls come from: a 9-digit hotspot ID is its owner's ID and two digits. */
export const xlxSource = (peerId: number): number => (peerId > 0xffffff ? Math.floor(peerId / 100) & 0xffffff : peerId);

/** The five DMRD packets of one command to `dst` (fresh buffers; sent once after login). */
export function xlxCommand(u: Uplink, dst: number, streamId: number): Uint8Array[] {
  const src = xlxSource(u.cfg.peerId);
  const cc = Number(u.cfg.rptc.colorCode) & 0x0f;
  const lc = makeLc(LC_OPT_UNIT, dst, src);
  const head = buildLcBurst(encodeHeaderLc(lc), cc, SlotDataType.VoiceLcHeader);
  const term = buildLcBurst(encodeTerminatorLc(lc), cc, SlotDataType.TerminatorWithLc);
  const out: Uint8Array[] = [];
  for (let seq = 0; seq < 5; seq++) {
    const header = seq < 3;
    out.push(encodeDmrd({ seq, src, dst, peerId: u.cfg.peerId, slot: 2, unit: true, frame: header ? 0x21 : 0x22, streamId, payload: header ? head : term }));
  }
  return out;
}

/** After login: unlink, then link the configured module. */
export function selectXlxModule(env: CoreEnv, u: Uplink): void {
  if (u.cfg.xlxModule === 0) return;
  for (const dst of [XLX_UNLINK, u.cfg.xlxModule]) {
    const streamId = env.prng.nextU32() || 1;
    for (const p of xlxCommand(u, dst, streamId)) env.fx.send(u.cfg.socket, u.cfg.address, u.cfg.port, p);
  }
  env.counters.add('uplink.xlx-module-selected');
}
