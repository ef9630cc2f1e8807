// Jitter: a random delay added to each scheduled run so that many jobs on the same schedule do
// not all start in the same second. The random source is injected so tests can pin it.

/** Returns a number in [0, 1), like Math.random. */
export type RandomSource = () => number;

/**
 * The delay (ms) of the run scheduled at `nominal`: 0 to `jitterMs` inclusive, but never reaching
 * the job's next scheduled time, so jitter cannot reorder or merge runs.
 */
export function jitterDelay(jitterMs: number, nominal: number, nextNominal: number | null, random: RandomSource): number {
  if (jitterMs <= 0) return 0;
  let r = random();
  // A broken source (NaN, out of range) must not push a run out by an unbounded time.
  if (!(r >= 0)) r = 0;
  if (r >= 1) r = 1 - Number.EPSILON;
  let delay = Math.floor(r * (jitterMs + 1));
  if (nextNominal !== null) delay = Math.min(delay, nextNominal - nominal - 1);
  return Math.max(0, delay);
}
