// Percentiles and medians over the recorded latencies and over repeated rounds.

/** The q-quantile (0 < q <= 1) by the nearest-rank method; NaN when there are no samples. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** p50 and p99 of the first `count` samples (sorted in place on a copy-free subarray). */
export function latencySummary(samples: Float64Array, count: number): { p50Ms: number; p99Ms: number } {
  const used = samples.subarray(0, count).sort();
  return { p50Ms: percentile(used, 0.5), p99Ms: percentile(used, 0.99) };
}

/** Median of a few round results; robust to one round disturbed by the noisy machine. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
