// The mutator: small, structure-blind changes to a valid datagram, the kind that turn a packet a
// server accepts into one just outside what it expects (a flipped bit in a length-checked field,
// a tag from another message, one byte too many or too few, a field set to 0 or all ones).

import type { Rng } from './rng.js';

/** Lengths the protocols care about (HBP, OpenBridge, FBP), and their neighbours. */
const LENGTHS = [0, 1, 3, 4, 5, 7, 8, 9, 10, 11, 12, 14, 15, 24, 25, 31, 40, 52, 53, 54, 55, 56, 72, 73, 74, 84, 85, 86, 88, 89, 90, 94, 119, 301, 302, 303, 308, 309];
const TAGS = ['DMRD', 'DMRE', 'DMRA', 'DMRG', 'DMRC', 'RPTL', 'RPTK', 'RPTC', 'RPTCL', 'RPTO', 'RPTPING', 'RPTACK', 'RPTG', 'MSTNAK', 'MSTPONG', 'MSTCL', 'BCKA', 'BCSQ', 'BCST', 'BCVE', 'BCTO'].map((t) =>
  Uint8Array.from(t, (c) => c.charCodeAt(0)),
);
const SPECIAL = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x3b, 0x3d, 0x2c];

export const MUTATIONS = ['flip', 'byte', 'special', 'truncate', 'extend', 'length', 'tag', 'range', 'u32', 'splice', 'repeat'] as const;

/** A mutated copy of `b` (1–3 mutations); `donor` is another datagram to splice from. */
export function mutate(rng: Rng, b: Uint8Array, donor: Uint8Array): Uint8Array {
  let out: Uint8Array = b.slice();
  const n = 1 + (rng.chance(0.3) ? rng.int(3) : 0);
  for (let k = 0; k < n; k++) out = mutateOnce(rng, out, donor);
  return out;
}

function mutateOnce(rng: Rng, b: Uint8Array, donor: Uint8Array): Uint8Array {
  const len = b.length;
  switch (rng.int(MUTATIONS.length)) {
    case 0: // flip 1-4 bits
      if (len > 0) for (let i = rng.range(1, 4); i > 0; i--) b[rng.int(len)]! ^= 1 << rng.int(8);
      return b;
    case 1: // a random byte
      if (len > 0) b[rng.int(len)] = rng.byte();
      return b;
    case 2: // an interesting byte value
      if (len > 0) b[rng.int(len)] = rng.pick(SPECIAL);
      return b;
    case 3: // cut short
      return b.slice(0, rng.int(len + 1));
    case 4: { // random tail
      const out = new Uint8Array(len + rng.range(1, 24));
      out.set(b);
      for (let i = len; i < out.length; i++) out[i] = rng.byte();
      return out;
    }
    case 5: { // to a length some message has (padding with random bytes)
      const to = rng.pick(LENGTHS);
      const out = new Uint8Array(to);
      out.set(b.subarray(0, to));
      for (let i = len; i < to; i++) out[i] = rng.byte();
      return out;
    }
    case 6: { // another message's tag over the first bytes
      const t = rng.pick(TAGS);
      const out = len >= t.length ? b : new Uint8Array(t.length);
      if (out !== b) out.set(b);
      out.set(t, 0);
      return out;
    }
    case 7: { // a run of random bytes
      if (len === 0) return b;
      const at = rng.int(len);
      const end = Math.min(len, at + rng.range(1, 16));
      for (let i = at; i < end; i++) b[i] = rng.byte();
      return b;
    }
    case 8: { // a 32-bit field (peer ID, stream ID, salt, timestamp) to 0, all ones or random
      if (len < 4) return b;
      const at = rng.int(len - 3);
      const v = rng.pick([0, 0xffffffff, rng.u32(), 1]);
      b[at] = v >>> 24;
      b[at + 1] = (v >>> 16) & 0xff;
      b[at + 2] = (v >>> 8) & 0xff;
      b[at + 3] = v & 0xff;
      return b;
    }
    case 9: { // a slice of another datagram
      if (donor.length === 0 || len === 0) return b;
      const from = rng.int(donor.length);
      const n = Math.min(rng.range(1, 32), donor.length - from, len);
      b.set(donor.subarray(from, from + n), rng.int(len - n + 1));
      return b;
    }
    default: { // repeat a chunk of itself
      if (len === 0) return b;
      const from = rng.int(len);
      const chunk = b.subarray(from, Math.min(len, from + rng.range(1, 16)));
      const out = new Uint8Array(len + chunk.length);
      out.set(b.subarray(0, from));
      out.set(chunk, from);
      out.set(b.subarray(from), from + chunk.length);
      return out;
    }
  }
}
