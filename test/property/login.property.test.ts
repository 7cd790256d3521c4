// Properties of the stateless login challenge: no digest but SHA-256(salt ‖ passphrase) for the
// salt this sender was given (this window or the one before) is ever accepted, and nothing a sender
// does before a proven RPTK leaves state in the core.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRptk, encodeRptl } from '../../src/protocol/index.js';
import { loginDigest } from '../support/crypto.js';
import { parseReply, testConfig, World } from '../support/harness.js';

const peerId = fc.integer({ min: 1, max: 0xfffffffe });
const port = fc.integer({ min: 1024, max: 65535 });
const host = fc.constantFrom('127.0.0.1', '10.0.0.7', '192.0.2.55', '::1');

describe('stateless login challenge', () => {
  it('never accepts a wrong digest: random bytes, a wrong passphrase, or another sender’s salt', () => {
    fc.assert(
      fc.property(
        peerId,
        port,
        host,
        fc.oneof(
          fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
          fc.record({ kind: fc.constant('passphrase' as const), pass: fc.string({ minLength: 1, maxLength: 20 }).filter((p) => p !== 'passw0rd') }),
          fc.record({ kind: fc.constant('other-port' as const), delta: fc.integer({ min: 1, max: 100 }) }),
          fc.record({ kind: fc.constant('other-peer' as const), delta: fc.integer({ min: 1, max: 100 }) }),
          fc.record({ kind: fc.constant('flipped-bit' as const), bit: fc.integer({ min: 0, max: 255 }) }),
        ),
        fc.integer({ min: 0, max: 1_000_000 }),
        (id, p, address, wrong, start) => {
          const w = new World();
          w.now = start;
          let digest: Uint8Array;
          if (wrong.kind === 'random') digest = wrong.bytes;
          else if (wrong.kind === 'passphrase') digest = loginDigest(parseReply(w.datagram(p, encodeRptl(id), address), 'RPTACK'), wrong.pass);
          else if (wrong.kind === 'other-port') {
            const q = p + wrong.delta > 65535 ? p - wrong.delta : p + wrong.delta;
            digest = loginDigest(parseReply(w.datagram(q, encodeRptl(id), address), 'RPTACK'), 'passw0rd');
          } else if (wrong.kind === 'other-peer') {
            digest = loginDigest(parseReply(w.datagram(p, encodeRptl((id + wrong.delta) % 0xffffffff || 1), address), 'RPTACK'), 'passw0rd');
          } else {
            digest = loginDigest(parseReply(w.datagram(p, encodeRptl(id), address), 'RPTACK'), 'passw0rd');
            digest[wrong.bit >> 3]! ^= 1 << (wrong.bit & 7);
          }
          const r = w.datagram(p, encodeRptk(id, digest), address);
          expect(r.some((s) => String.fromCharCode(...s.bytes.subarray(0, 6)) === 'RPTACK')).toBe(false);
          expect(w.core.sessions.size).toBe(0);
          expect(w.core.pendingLogins).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('accepts the right digest at any time within one to two login timeouts of its RPTL, never after', () => {
    const t = testConfig().hbp.loginTimeoutMs;
    fc.assert(
      fc.property(peerId, port, fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 3 * t }), (id, p, start, delay) => {
        const w = new World();
        w.now = start;
        const salt = parseReply(w.datagram(p, encodeRptl(id)), 'RPTACK');
        w.now += delay;
        const ok = w.datagram(p, encodeRptk(id, loginDigest(salt, 'passw0rd'))).some((s) => String.fromCharCode(...s.bytes.subarray(0, 6)) === 'RPTACK');
        const windows = Math.floor(w.now / t) - Math.floor(start / t);
        expect(ok).toBe(windows <= 1);
        if (delay < t) expect(ok).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps no state before a proven RPTK, whatever RPTLs and wrong RPTKs arrive from wherever', () => {
    const datagram = fc.tuple(fc.boolean(), peerId, port, host, fc.uint8Array({ minLength: 32, maxLength: 32 }));
    fc.assert(
      fc.property(fc.array(datagram, { minLength: 1, maxLength: 200 }), (inputs) => {
        const w = new World();
        const before = JSON.stringify(w.core.stats().filter(([k]) => !k.startsWith('login.') && k !== 'reply.nak-rate-limited'));
        for (const [rptl, id, p, address, digest] of inputs) {
          w.now += 7;
          w.datagram(p, rptl ? encodeRptl(id) : encodeRptk(id, digest), address);
        }
        expect(w.core.sessions.size).toBe(0);
        expect(w.core.pendingLogins).toBe(0);
        expect(w.core.nextDeadline()).toBe(null);
        // The two per-address limits are fixed-size tables; RPTL touches neither, a failed RPTK
        // only the failure table (one entry per address at most).
        const failing = new Set(inputs.filter(([rptl]) => !rptl).map(([, , , a]) => a));
        expect(w.core.limitedAddresses).toBeLessThanOrEqual(2 * failing.size);
        // Nothing else moved: only login counters.
        expect(JSON.stringify(w.core.stats().filter(([k]) => !k.startsWith('login.') && k !== 'reply.nak-rate-limited'))).toBe(before);
      }),
      { numRuns: 200 },
    );
  });
});
