// Allocation-light latency histogram: fixed 10 µs buckets up to a ceiling, plus an overflow count.

export interface LatencySummary {
  samples: number;
  /** Milliseconds. Percentiles are bucket upper edges (10 µs resolution). */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** Samples above the histogram ceiling (counted in max/mean, reported as the ceiling in percentiles). */
  overflow: number;
}

export class LatencyHistogram {
  /** Bucket width in ms (0.01 = 10 µs). */
  readonly width: number;
  private readonly buckets: Uint32Array;
  private over = 0;
  private n = 0;
  private sum = 0;
  private maxMs = 0;

  constructor(ceilingMs = 2000, widthMs = 0.01) {
    this.width = widthMs;
    this.buckets = new Uint32Array(Math.ceil(ceilingMs / widthMs));
  }

  add(ms: number): void {
    if (ms < 0) ms = 0;
    this.n++;
    this.sum += ms;
    if (ms > this.maxMs) this.maxMs = ms;
    const i = (ms / this.width) | 0;
    if (i < this.buckets.length) this.buckets[i]!++;
    else this.over++;
  }

  get count(): number {
    return this.n;
  }

  /** Smallest bucket upper edge below which at least q of the samples lie. */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const want = Math.max(1, Math.ceil(q * this.n));
    let acc = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      acc += this.buckets[i]!;
      if (acc >= want) return round3((i + 1) * this.width);
    }
    return round3(this.buckets.length * this.width);
  }

  summary(): LatencySummary {
    return {
      samples: this.n,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      p999: this.quantile(0.999),
      max: round3(this.maxMs),
      mean: this.n === 0 ? 0 : round3(this.sum / this.n),
      overflow: this.over,
    };
  }
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Median of a numeric list (copy sorted); 0 for an empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
