// The fuzz harness (test/fuzz, `npm run fuzz`) checked on small runs: that a run is reproducible
// from its seed, reaches the authenticated paths, and that each of its checks can fail.

import { describe, expect, it } from 'vitest';
import { mutate } from '../fuzz/mutate.js';
import { Rng } from '../fuzz/rng.js';
import { growth, runShard, type ShardOptions } from '../fuzz/shard.js';

const opts = (patch: Partial<ShardOptions> = {}): ShardOptions => ({ seed: 42, shard: 0, count: 3000, checkEvery: 100, sampleEvery: 500, takeover: false, ...patch });

describe('fuzz harness', () => {
  it('the same seed and shard give the same run; another shard another', () => {
    const a = runShard(opts({ count: 1500 }), () => {});
    const b = runShard(opts({ count: 1500 }), () => {});
    const c = runShard(opts({ count: 1500, shard: 1 }), () => {});
    expect(b.stats).toEqual(a.stats);
    expect(b.out).toEqual(a.out);
    expect(c.stats).not.toEqual(a.stats);
  });

  it('reaches logins, forwarding, every link and the uplink, and finds nothing on a short run', () => {
    const r = runShard(opts(), () => {});
    expect(r.findings).toEqual([]);
    for (const k of ['forward.frames', 'link.obp.in', 'link.fbp.in', 'link.fbp2.in', 'fbp.keepalive', 'uplink.up']) expect(r.stats[k] ?? 0, k).toBeGreaterThan(0);
    expect(r.out.mutated).toBeGreaterThan(300);
  });

  it('with whole logins of bystanders’ IDs from other addresses (the shared passphrase), no bystander is taken over', () => {
    // Before the takeover policy, this run found bystanders knocked off (the shared passphrase
    // proved any ID); now each such login is refused while the bystander answers its pings.
    const r = runShard(opts({ takeover: true }), () => {});
    expect(r.findings).toEqual([]);
    expect(r.stats['login.refused.in-use'] ?? 0).toBeGreaterThan(0);
  });

  it('flags a table that grows with the datagrams, not one that levels off or has a hard bound', () => {
    const linear = Array.from({ length: 40 }, (_, i) => ({ streams: i * 100 }));
    const plateau = Array.from({ length: 40 }, (_, i) => ({ streams: Math.min(i, 10) * 100 }));
    expect(growth(linear, 0)).toHaveLength(1);
    expect(growth(plateau, 0)).toEqual([]);
    expect(growth(linear, 0, { streams: 10_000 })).toEqual([]);
  });

  it('mutates deterministically and never returns the input buffer', () => {
    const b = Uint8Array.from({ length: 55 }, (_, i) => i);
    const r1 = new Rng(7);
    const r2 = new Rng(7);
    for (let i = 0; i < 200; i++) {
      const x = mutate(r1, b, b);
      expect(x).not.toBe(b);
      expect(x).toEqual(mutate(r2, b, b));
    }
    expect(b).toEqual(Uint8Array.from({ length: 55 }, (_, i) => i));
  });
});
