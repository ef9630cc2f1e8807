// Delays between the attempts of a run: retry_delay, FIXED or doubled after each failure
// (EXPONENTIAL, never above max_delay), less a random share (jitter) so that jobs failing together
// do not retry together. And the text a waiting run shows.
import { durationText } from './duration-text.js';
import type { RandomSource } from './jitter.js';
import type { RetryBackoffT } from './schemas.js';

export interface RetryPolicy {
  /** Further attempts after the first. */
  retries: number;
  /** Seconds: the first delay (and every delay with FIXED). */
  retry_delay: number;
  retry_backoff: RetryBackoffT;
}

/** Delay range (ms) after failed attempt `k` (1 = the first attempt), before jitter takes its share. */
export function delayBounds(k: number, p: RetryPolicy): { min: number; max: number } {
  const base = Math.max(0, p.retry_delay) * 1000;
  // 2^52 already exceeds any max_delay; stopping there keeps the number finite.
  // FIXED is retry_delay as given (max_delay does not cut it: a cron job stored before
  // retry_backoff existed keeps its delay, up to a day).
  const max = p.retry_backoff.type === 'EXPONENTIAL' ? Math.min(base * 2 ** Math.min(Math.max(0, k - 1), 52), p.retry_backoff.max_delay * 1000) : base;
  const jitter = Math.min(1, Math.max(0, p.retry_backoff.jitter));
  return { min: Math.ceil(max * (1 - jitter)), max };
}

/** The delay (ms) before the attempt after failed attempt `k`. */
export function retryDelay(k: number, p: RetryPolicy, random: RandomSource = Math.random): number {
  const { min, max } = delayBounds(k, p);
  let r = random();
  if (!(r >= 0)) r = 0;
  if (r > 1) r = 1;
  return Math.round(max - (max - min) * r);
}

/** Whether attempt `k` is the last there will be: only then do alerts and webhooks report the outcome. */
export function isFinalAttempt(k: number, succeeded: boolean, p: Pick<RetryPolicy, 'retries'>): boolean {
  return succeeded || k >= p.retries + 1;
}

/** "attempt 2 of 4, next in 40 s": `next` is the attempt that is waiting to start. */
export function attemptText(next: number, p: Pick<RetryPolicy, 'retries'>, waitMs: number): string {
  return `attempt ${next} of ${p.retries + 1}, next in ${durationText(waitMs)}`;
}
