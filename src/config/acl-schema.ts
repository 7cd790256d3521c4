// The [acl] section and the ACL keys of [[links]] (spec §5): FreeDMR's grammar, checked here with
// the core's own parser so a bad list is named with its line; stored as the canonical text.
// Kept apart from schema.ts, which lists the section among the others.

import { z } from 'zod';
import { ACL_ID_MAX, ACL_PEER_MAX, parseAcl, printAcl } from '../core/acl/grammar.js';
import { describeValue, expecting, text } from './fields.js';

const FORM = 'an ACL such as "PERMIT:ALL", "DENY:1-999,3120101" or "" (everything)';

/**
 * An ACL string for IDs up to `max`: "" stays "" (lets everything through); anything else becomes
 * its canonical text. The error names the entry at fault.
 */
export function aclField(max: number) {
  return z
    .string(expecting(FORM))
    .transform((s, ctx) => {
      if (s.trim() === '') return '';
      const r = parseAcl(s, max);
      if (r.ok) return printAcl(r.acl);
      ctx.addIssue({ code: 'custom', input: s, message: `expected ${FORM}, got ${describeValue(s)}: ${r.error}` });
      return z.NEVER;
    })
    .default('');
}

export const subscriberAcl = () => aclField(ACL_ID_MAX);
export const peerAcl = () => aclField(ACL_PEER_MAX);

const unknownError = expecting('"allow" or "deny"');

export const aclSection = z
  .strictObject(
    {
      /** Peer IDs that may log in (FreeDMR REG_ACL). */
      reg: peerAcl(),
      /** Source subscribers of streams (FreeDMR SUB_ACL). */
      sub: subscriberAcl(),
      /** Destination talkgroups on TS1, and on links (FreeDMR TGID_TS1_ACL). */
      tgid_ts1: subscriberAcl(),
      /** Destination talkgroups on TS2 (FreeDMR TGID_TS2_ACL). */
      tgid_ts2: subscriberAcl(),
      /** A local file of known subscriber and repeater IDs: RadioID CSV, or FreeDMR/RadioID JSON. */
      id_file: text(0, 4096, 'a file path', ''),
      /** A login from a peer ID not in id_file: "allow" or "deny" (FreeDMR ALLOW_UNREG_ID = False). */
      unknown_ids: z.enum(['allow', 'deny'], unknownError).default('allow'),
    },
    expecting('a table [acl]'),
  )
  .superRefine((acl, ctx) => {
    if (acl.unknown_ids === 'deny' && acl.id_file === '')
      ctx.addIssue({ code: 'custom', path: ['unknown_ids'], input: acl.unknown_ids, message: 'expected acl.id_file to name the list of known IDs when unknown_ids = "deny"' });
  });
