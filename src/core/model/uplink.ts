// An uplink: this server logged in to another master as a HomeBrew peer (spec §1.12), so its
// peers' calls on the talkgroups the uplink carries reach that network and back. Owned by
// src/core/uplinks (the UplinkTable).

import type { RepeaterConfig } from '../../protocol/hbp/rptc.js';
import type { Session } from './session.js';

/**
 * Where the client login stands: `down` (waiting for the next attempt), then one state per
 * message sent and not yet acknowledged — `login` (RPTL), `auth` (RPTK), `config` (RPTC),
 * `options` (RPTO) — and `up`.
 */
export type UplinkState = 'down' | 'login' | 'auth' | 'config' | 'options' | 'up';

/** Why an uplink went down (its logs and counters name these). */
export type UplinkDownReason = 'nak' | 'closed' | 'timeout' | 'passphrase' | 'reload' | 'removed' | 'shutdown';

/** The RPTC fields sent at login, as text ready for the wire (fixed widths, spec §1.4). */
export type UplinkRptc = Omit<RepeaterConfig, 'peerId'>;

/** One [[uplinks]] table: a master this server logs in to as a peer. */
export interface UplinkConfig {
  /** Unique name, for logs and counters. */
  name: string;
  /** The shell socket it sends and receives on (after the HBP socket and the links' sockets). */
  socket: number;
  /** The master's address and port: datagrams from anywhere else are dropped. */
  address: string;
  port: number;
  /** The master's passphrase: RPTK carries SHA-256(salt ‖ passphrase). */
  passphrase: string;
  /** Our peer ID at the master (RPTL … RPTCL, bytes 11–14 of every DMRD we send it). */
  peerId: number;
  rptc: UplinkRptc;
  /** The RPTO options string sent after RPTC ('' = none sent). */
  options: string;
  /** Talkgroups carried on each slot; null = the TS1= / TS2= lists of `options`. */
  ts1: number[] | null;
  ts2: number[] | null;
  /** XLX and other loose masters: no check of our ID in their ACKs and DMRD. */
  loose: boolean;
  /** XLX module to select after login, as its private-call number (4001 = A … 4026 = Z); 0 = none. */
  xlxModule: number;
  /** RPTPING interval; also how long a login step may go unanswered. */
  pingIntervalMs: number;
  /** Pings unanswered in a row before the uplink is taken down. */
  maxMissedPongs: number;
  /** Reconnect backoff: the first delay, doubling up to the last (each drawn in [d/2, d]). */
  retryMinMs: number;
  retryMaxMs: number;
}

export interface Uplink {
  cfg: UplinkConfig;
  /** Stands for the master as talker and receiver (role 'uplink', never in the session table). */
  session: Session;
  /** The talkgroups carried on TS1 and TS2 (from the config, or from the options). */
  carried: [null, number[], number[]];
  state: UplinkState;
  /** Bumped on every change of state: a timer carrying an older value is stale and does nothing. */
  gen: number;
  /** Attempts failed since the last successful login (the backoff's exponent). */
  failures: number;
  /** Pings sent and not answered since the last MSTPONG. */
  missed: number;
  /** Passphrase refusals since the last successful login (only the first is logged). */
  refusals: number;
  /** When it last came up. */
  upAt: number;
  /**
   * The options go out once more with the first ping after a login, and the master's RPTACK to
   * that copy is expected: an RPTACK carries only the peer ID, so a duplicated answer to RPTC can
   * look like the answer to an RPTO that was lost (found by the mesh simulation, seed 147).
   */
  optionsAgain: 'no' | 'due' | 'sent';
  /** Taken out of the config: it stays down. */
  removed: boolean;
  framesIn: number;
  dropped: number;
}
