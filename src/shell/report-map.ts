// Core reports (monotonic `now`) → v1 report events (wall-clock `at`), for the reporting hub.

import type { CoreReport } from '../core/actions.js';
import type { ReportInput } from './reporting.js';

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
const mean = (sum: number, n: number): number | null => (n > 0 ? Math.round((sum / n) * 100) / 100 : null);

/** `wall` turns the core's monotonic milliseconds into wall-clock milliseconds since the epoch. */
export function toReportInput(r: CoreReport, wall: (monotonicMs: number) => number): ReportInput {
  const at = wall(r.now);
  switch (r.report) {
    case 'peer-login': {
      const { report: _r, now: _n, ...fields } = r;
      return { family: 'peer', type: 'login', at, ...fields };
    }
    case 'peer-logout':
      return { family: 'peer', type: 'logout', at, peer: r.peer, reason: r.reason, durationMs: r.durationMs };
    case 'peer-options':
      return { family: 'peer', type: 'options', at, peer: r.peer, options: r.options, ts1: r.ts1, ts2: r.ts2, rejected: r.rejected };
    case 'peer-keepalive-lost':
      return { family: 'peer', type: 'keepalive-lost', at, peer: r.peer, silentMs: r.silentMs };
    case 'subscription':
      return { family: 'subscription', type: r.change, at, peer: r.peer, slot: r.slot, tg: r.tg, conference: r.conference, source: r.source };
    case 'link-state':
      return {
        family: 'link',
        type: r.change,
        at,
        link: r.link,
        kind: r.kind,
        address: r.address,
        port: r.port,
        reason: r.reason,
        version: r.version,
        silentMs: r.silentMs,
        counts: { ...r.counts },
      };
    case 'call-start':
      return { family: 'call', type: 'start', at, stream: hex8(r.stream), peer: r.peer, src: r.src, dst: r.dst, slot: r.slot, callType: r.callType, kind: r.kind };
    case 'call-end':
      return {
        family: 'call',
        type: 'end',
        at,
        stream: hex8(r.stream),
        peer: r.peer,
        src: r.src,
        dst: r.dst,
        slot: r.slot,
        callType: r.callType,
        kind: r.kind,
        startedAt: wall(r.startedNow),
        durationMs: r.durationMs,
        packets: r.packets,
        lost: r.lost,
        loss: r.packets + r.lost > 0 ? Math.round((r.lost / (r.packets + r.lost)) * 10000) / 10000 : 0,
        ber: mean(r.berSum, r.qualityPackets),
        rssi: mean(r.rssiSum, r.qualityPackets),
        reason: r.reason,
        receivers: r.receivers,
      };
    case 'state':
    case 'command-result':
      // The console's own reports are not v1 events: the driver hands them to the console bridge.
      throw new Error(`${r.report} is not a v1 report event`);
  }
}
