// Property tests for the FBP codecs: BLAKE2b agrees with node:crypto's BLAKE2b-512 on any input and
// signs in place at any offset; DMRE (v5 and v4) and every BC* frame round-trip through encode and
// decode with their MACs verifying; classification never throws and always names a kind or one
// of the stable error codes.

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, toHex } from '../../src/protocol/bytes.js';
import {
  blake2b,
  Blake2b,
  decodeFbp,
  encodeBc,
  encodeDmre,
  FBP_ERRORS,
  fbpKeys,
  fbpKind,
  isFbpError,
  verifyFbp,
  type BcMessage,
  type DmreFields,
} from '../../src/protocol/fbp/index.js';

const KEYS = fbpKeys('passw0rd');
const OTHER = fbpKeys('passw0rd2');
const KINDS = new Set(['dmre-v5', 'dmre-v4', 'bcka', 'bcsq', 'bcve', 'bcst']);

const u8 = fc.integer({ min: 0, max: 0xff });
const u24 = fc.integer({ min: 0, max: 0xffffff });
const u32 = fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));

describe('BLAKE2b', () => {
  it('unkeyed 64-byte output equals node:crypto blake2b512, for any input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (d) => {
        expect(toHex(blake2b(d))).toBe(createHash('blake2b512').update(d).digest('hex'));
      }),
      { numRuns: 500 },
    );
  });

  it('signs any slice of a buffer into any place and verifies it there; one flipped bit fails', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 1, max: 64 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(40),
        fc.nat(),
        (key, outLen, msg, at, bit) => {
          const buf = concat(new Uint8Array(at), msg, new Uint8Array(outLen + 3));
          const mac = new Blake2b(key, outLen);
          mac.sign(buf, at, msg.length, buf, at + msg.length);
          const want = blake2b(msg, key, outLen);
          expect(toHex(buf.subarray(at + msg.length, at + msg.length + outLen))).toBe(toHex(want));
          expect(mac.verify(buf, at, msg.length, at + msg.length)).toBe(true);
          // A flipped bit must fail, except where a short digest can collide by chance (a 1-byte
          // MAC matches a changed message once in 256 tries): checked from 8 bytes up.
          if (outLen < 8) return;
          const i = at + (bit % (msg.length + outLen));
          buf[i] = buf[i]! ^ (1 << (bit % 8));
          expect(mac.verify(buf, at, msg.length, at + msg.length)).toBe(false);
        },
      ),
      { numRuns: 400 },
    );
  });
});

const dmreFields = (v5: boolean): fc.Arbitrary<DmreFields> =>
  fc.record({
    seq: u8,
    src: u24,
    dst: u24,
    peerId: u32,
    slot: fc.constantFrom(1 as const, 2 as const),
    unit: fc.boolean(),
    frame: fc.integer({ min: 0, max: 0x3f }),
    streamId: u32.filter((s) => s !== 0),
    payload: fc.uint8Array({ minLength: 33, maxLength: 33 }),
    ber: u8,
    rssi: u8,
    version: v5 ? fc.integer({ min: 5, max: 255 }) : fc.integer({ min: 0, max: 4 }),
    timeNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    sourceServer: u32,
    sourceRepeater: v5 ? u32 : fc.constant(0),
    hops: u8,
  });

describe('DMRE round trips', () => {
  for (const v5 of [true, false]) {
    it(`v${v5 ? 5 : 4}: fields → encode → decode gives the same fields, and the MAC verifies`, () => {
      fc.assert(
        fc.property(dmreFields(v5), (f) => {
          const b = encodeDmre(f, KEYS.blake2b);
          expect(b.length).toBe(v5 ? 89 : 85);
          expect(fbpKind(b)).toBe(v5 ? 'dmre-v5' : 'dmre-v4');
          const p = decodeFbp(b);
          expect(p.ok).toBe(true);
          if (!p.ok) return;
          const { mac, ...rest } = p.value as DmreFields & { kind: 'dmre'; mac: Uint8Array };
          expect(rest).toEqual({ kind: 'dmre', ...f });
          expect(toHex(mac)).toBe(toHex(b.subarray(b.length - 16)));
          expect(verifyFbp(b, KEYS)).toBe(true);
          expect(verifyFbp(b, OTHER)).toBe(false);
          expect(toHex(encodeDmre(rest, KEYS.blake2b))).toBe(toHex(b));
        }),
        { numRuns: 300 },
      );
    });
  }
});

const bcMessage: fc.Arbitrary<BcMessage> = fc.oneof(
  fc.constant({ kind: 'bcka' as const }),
  fc.record({ kind: fc.constant('bcsq' as const), tg: u24, streamId: u32 }),
  fc.record({ kind: fc.constant('bcve' as const), version: u8 }),
  fc.constant({ kind: 'bcst' as const }),
);

describe('bridge-control round trips', () => {
  it('message → encode → decode gives the same message, and the MAC verifies with its key only', () => {
    fc.assert(
      fc.property(bcMessage, (m) => {
        const b = encodeBc(m, KEYS.hmac);
        expect(fbpKind(b)).toBe(m.kind);
        const p = decodeFbp(b);
        expect(p.ok).toBe(true);
        if (!p.ok) return;
        const { mac, ...rest } = p.value as BcMessage & { mac: Uint8Array };
        expect(rest).toEqual(m);
        expect(mac.length).toBe(20);
        expect(verifyFbp(b, KEYS)).toBe(true);
        expect(verifyFbp(b, OTHER)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

const TAGS = ['DMRE', 'DMRD', 'DMRF', 'EOBP', 'BCKA', 'BCSQ', 'BCVE', 'BCST', 'BCTO', 'BC', 'XXXX'];
const LENGTHS = [0, 3, 4, 24, 25, 31, 53, 73, 78, 85, 89, 90];
const datagram = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc
    .tuple(fc.constantFrom(...TAGS), fc.oneof(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(...LENGTHS).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))))
    .map(([tag, rest]) => {
      const t = Uint8Array.from(tag, (c) => c.charCodeAt(0));
      if (rest.length <= t.length) return concat(t, rest);
      const out = rest.slice();
      out.set(t, 0);
      return out;
    }),
);

describe('classification on arbitrary bytes', () => {
  it('fbpKind never throws and gives a kind or a declared error; decodeFbp agrees with it', () => {
    fc.assert(
      fc.property(datagram, (b) => {
        const k = fbpKind(b);
        if (isFbpError(k)) {
          expect(FBP_ERRORS).toContain(k);
          expect(decodeFbp(b)).toEqual({ ok: false, error: k });
        } else {
          expect(KINDS.has(k)).toBe(true);
          const p = decodeFbp(b);
          expect(p.ok).toBe(true);
          if (p.ok) expect(p.value.kind).toBe(k.startsWith('dmre') ? 'dmre' : k);
        }
        expect(typeof verifyFbp(b, KEYS)).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });
});
