// The [[hbp.credentials]] tables of the config file: per-peer passphrases and defaults. Kept apart
// from schema.ts (which lists it in [hbp]). The passphrase is given in the file (`passphrase`) or
// read from a file of its own (`passphrase_file`, resolved by load.ts). A hash of the passphrase
// cannot be used: HBP's RPTK is SHA-256(salt ‖ passphrase) with a fresh salt, which can only be
// checked by someone who has the passphrase itself, so `passphrase_sha256` is refused with that
// reason rather than accepted and silently useless.

import { z } from 'zod';
import { describeValue, expecting, MAX_TALKGROUP } from './fields.js';

const MAX_PEER_ID = 0xffff_ffff;
const booleanError = expecting('true or false');
const passphraseError = expecting('a passphrase of 1..128 printable ASCII characters');
const idWhat = `a peer ID 1..${MAX_PEER_ID} or a range "first-last"`;
const idError = expecting(idWhat);

const bounds = (t: string): [number, number] => t.split('-').map((x) => Number(x.trim())) as [number, number];

const tgError = expecting(`a talkgroup number 1..${MAX_TALKGROUP}`);
/** A static talkgroup list that may be left out (then the server's applies). */
const staticList = z
  .array(z.number(tgError).int(tgError).min(1, tgError).max(MAX_TALKGROUP, tgError), expecting('an array of talkgroup numbers, e.g. [91, 3100]'))
  .optional();

const peerId = z
  .union([z.number(idError).int(idError).min(1, idError).max(MAX_PEER_ID, idError), z.string(idError).regex(/^\s*\d{1,10}\s*-\s*\d{1,10}\s*$/, idError)], idError)
  .superRefine((v, ctx) => {
    if (typeof v === 'number') return;
    const [a, b] = bounds(v);
    if (a > b) ctx.addIssue({ code: 'custom', input: v, message: `expected ${idWhat}, got "${v.trim()}": ${a}-${b} is reversed (write "${b}-${a}")` });
    else if (a < 1 || b > MAX_PEER_ID) ctx.addIssue({ code: 'custom', input: v, message: `expected ${idWhat}, got ${describeValue(v)}` });
  })
  .transform((v): [number, number] => (typeof v === 'number' ? [v, v] : bounds(v)));

const peerIds = z.array(peerId, expecting('an array of peer IDs and ranges, e.g. [2345001, "234500100-234500199"]')).default(() => []);

const callsignError = expecting('a callsign pattern of 1..16 letters, digits, "*" (any run) or "?" (one character), e.g. "G4*"');

export const credentialEntry = z
  .strictObject(
    {
      name: z.string(expecting('a name of 1..32 characters')).min(1, expecting('a name of 1..32 characters')).max(32, expecting('a name of 1..32 characters')).optional(),
      ids: peerIds,
      callsign: z.string(callsignError).regex(/^[A-Za-z0-9*?/-]{1,16}$/, callsignError).optional(),
      passphrase: z.string(passphraseError).min(1, passphraseError).max(128, passphraseError).regex(/^[\x20-\x7e]*$/, passphraseError).optional(),
      passphrase_file: z.string(expecting('a file path')).min(1, expecting('a file path')).max(4096, expecting('a file path')).optional(),
      passphrase_sha256: z
        .unknown()
        .refine(() => false, {
          error: () =>
            'a hash cannot be used: RPTK is SHA-256(salt ‖ passphrase) with a fresh salt, so only the passphrase itself can check it; give passphrase, or passphrase_file naming a file (mode 0600) that holds it',
        })
        .optional(),
      ts1_static: staticList,
      ts2_static: staticList,
      options: z.boolean(booleanError).default(true),
      talker_alias: z.boolean(booleanError).default(false),
    },
    expecting('a table [[hbp.credentials]]'),
  )
  .superRefine((c, ctx) => {
    const given = (c.passphrase !== undefined ? 1 : 0) + (c.passphrase_file !== undefined ? 1 : 0);
    if (given !== 1)
      ctx.addIssue({ code: 'custom', path: given === 0 ? [] : ['passphrase_file'], input: c, message: 'expected exactly one of passphrase or passphrase_file' });
    if (c.ids.length === 0 && c.callsign === undefined)
      ctx.addIssue({ code: 'custom', path: [], input: c, message: 'expected ids, callsign or both: a credential must say whom it covers' });
  });

export type CredentialEntry = z.output<typeof credentialEntry>;
