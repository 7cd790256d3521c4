import { performance } from 'node:perf_hooks';

/** Integer milliseconds of a monotonic clock: the only time the core ever sees. */
export const monotonicMs = (): number => Math.floor(performance.now());
