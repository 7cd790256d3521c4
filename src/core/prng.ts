// The core's one source of randomness, seeded: login salts and the stream IDs of the streams the
// core makes itself (echo playbacks, voice prompts). The seed arrives in the `started` event, so a
// replay draws the same values. Integer arithmetic only (Math.imul), no floats in state.

export class Prng {
  private state: number;
  private readonly key: number;

  constructor(seed: number) {
    this.state = seed | 0;
    // A second word from the seed keeps consecutive outputs from exposing the counter directly.
    this.key = Math.imul((seed ^ 0x5bd1e995) | 0, 0x27d4eb2d) ^ 0x165667b1;
  }

  /** Next value in 0..2^32-1. */
  nextU32(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state ^ this.key;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    z = Math.imul(z ^ this.key, 0x9e3779b1);
    return (z ^ (z >>> 15)) >>> 0;
  }
}
