// The [[uplinks]] table of the config file: one master this server logs in to as a HomeBrew peer.
// Kept apart from schema.ts (which lists it among the sections and checks it against the others).

import { isIP } from 'node:net';
import { z } from 'zod';
import { expecting, integer, MAX_TALKGROUP, seconds } from './fields.js';

const addressError = expecting('an IPv4 or IPv6 address literal such as "192.0.2.10" or "::1"');
const address = () => z.string(addressError).refine((s) => isIP(s) !== 0, addressError);
const nameError = expecting('an uplink name of 1..32 letters, digits, dots, dashes or underscores');
const booleanError = expecting('true or false');

/** Printable ASCII text of at most `max` characters (it goes on the wire in a fixed-width field). */
function ascii(min: number, max: number, what: string, fallback?: string) {
  const e = expecting(`${what} of ${min}..${max} printable ASCII characters`);
  const t = z.string(e).min(min, e).max(max, e).regex(/^[\x20-\x7e]*$/, e);
  return fallback === undefined ? t : t.default(fallback);
}

function decimal(lo: number, hi: number, what: string, fallback: number) {
  const e = expecting(`${what} ${lo}..${hi}`);
  return z.number(e).min(lo, e).max(hi, e).default(fallback);
}

const tgError = expecting(`a talkgroup number 1..${MAX_TALKGROUP}`);
const talkgroupList = z
  .array(z.number(tgError).int(tgError).min(1, tgError).max(MAX_TALKGROUP, tgError), expecting('an array of talkgroup numbers, e.g. [91, 3100]'))
  .optional();

const moduleError = expecting('an XLX module letter "A".."Z" or its number 4001..4026');
const xlxModule = z
  .union([z.string(moduleError).regex(/^[A-Za-z]$/, moduleError), z.number(moduleError).int(moduleError).min(4001, moduleError).max(4026, moduleError)], moduleError)
  .optional();

/** The private-call number of an XLX module ("D" or 4004 → 4004); 0 when none is set. */
export const xlxModuleNumber = (m: string | number | undefined): number =>
  m === undefined ? 0 : typeof m === 'number' ? m : 4000 + (m.toUpperCase().charCodeAt(0) - 64);

/** One [[uplinks]] table. */
export const uplinkEntry = z.strictObject(
  {
    name: z.string(nameError).regex(/^[A-Za-z0-9._-]{1,32}$/, nameError),
    enabled: z.boolean(booleanError).default(true),
    address: address(),
    port: integer(1, 65535, 'the master\'s UDP port', 62031),
    local_address: address().default('0.0.0.0'),
    local_port: integer(0, 65535, 'a UDP port', 0, '0 = any free port'),
    passphrase: ascii(1, 128, 'a passphrase'),
    peer_id: z.number(expecting('our peer ID at the master, 1..4294967295')).int(expecting('an integer peer ID 1..4294967295')).min(1, expecting('a peer ID 1..4294967295')).max(0xffff_ffff, expecting('a peer ID 1..4294967295')),
    callsign: ascii(1, 8, 'a callsign'),
    rx_freq: integer(0, 999_999_999, 'a frequency in Hz', 0, '0 = not on RF'),
    tx_freq: integer(0, 999_999_999, 'a frequency in Hz', 0, '0 = not on RF'),
    tx_power: integer(0, 99, 'a power in watts', 0),
    color_code: integer(0, 15, 'a colour code', 1),
    latitude: decimal(-90, 90, 'a latitude in degrees', 0),
    longitude: decimal(-180, 180, 'a longitude in degrees', 0),
    height: integer(0, 999, 'a height in metres', 0),
    location: ascii(0, 20, 'a location', ''),
    description: ascii(0, 19, 'a description', ''),
    slots: integer(0, 4, 'an RPTC slots value (0 none, 1 TS1, 2 TS2, 3 both, 4 simplex)', 3),
    url: ascii(0, 124, 'a URL', ''),
    software_id: ascii(0, 40, 'a software ID', 'dmrhub'),
    package_id: ascii(0, 40, 'a package ID ("" = the dmrhub version)', ''),
    options: ascii(0, 300, 'an options string such as "TS2=91;TS1=2350"', ''),
    ts1_talkgroups: talkgroupList,
    ts2_talkgroups: talkgroupList,
    loose: z.boolean(booleanError).default(false),
    xlx_module: xlxModule,
    ping_interval: seconds(true, 5000),
    max_missed_pongs: integer(1, 100, 'an integer', 3),
    reconnect_min: seconds(true, 1000),
    reconnect_max: seconds(true, 60_000),
  },
  expecting('a table [[uplinks]]'),
);

export type UplinkEntry = z.output<typeof uplinkEntry>;
