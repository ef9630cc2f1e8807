// When a failed delivery is tried again, and when it is given up.
//
// Retried: timeouts, connection errors, 5xx, and 429 (after its Retry-After when given; a 503's
// Retry-After is honoured too). Never retried: any other answer outside 2xx (3xx is not followed:
// a redirect could point anywhere, 4xx says the request itself is wrong) and a URL that is not
// http(s). The wait before try n+1 is min(maxDelay, initialDelay * multiplier^(n-1)) spread by
// +-jitter, so receivers coming back after an outage are not hit by every queue at once. A
// delivery is tried for up to maxAge after it was queued, the last try falling at maxAge exactly.
import type { HttpOutcome } from './http.js';

export interface RetryPolicy {
  initialDelayMs: number;
  multiplier: number;
  maxDelayMs: number;
  /** Fraction of the nominal delay added or taken away at random (0.2: x0.8 .. x1.2). */
  jitter: number;
  /** A delivery still failing this long after it was queued is given up. */
  maxAgeMs: number;
  /** A destination that has failed without a success for this long calls onFailing once. */
  failingAlertMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  initialDelayMs: 10_000,
  multiplier: 2,
  maxDelayMs: 60 * 60_000,
  jitter: 0.2,
  maxAgeMs: 24 * 60 * 60_000,
  failingAlertMs: 24 * 60 * 60_000,
};

/** Retry-After is honoured up to maxDelayMs, and never below this (a 0 would spin). */
const MIN_RETRY_AFTER_MS = 1_000;

export type Verdict = 'delivered' | 'retry' | 'reject' | 'aborted';

/** What one try of a destination's transport reports to the queue. */
export interface TryOutcome {
  verdict: Verdict;
  /** HTTP status, or the SMTP reply code for mail; null when nothing answered. */
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  /** The receiver asked for this wait (Retry-After), in ms; null: use the backoff. */
  retryAfterMs: number | null;
}

export function httpVerdict(outcome: HttpOutcome, nowMs: number): TryOutcome {
  let verdict: Verdict;
  switch (outcome.failure) {
    case null: verdict = 'delivered'; break;
    case 'timeout':
    case 'connection': verdict = 'retry'; break;
    case 'aborted': verdict = 'aborted'; break;
    case 'invalid': verdict = 'reject'; break;
    case 'http': {
      const code = outcome.statusCode ?? 0;
      verdict = code >= 500 || code === 429 ? 'retry' : 'reject';
      break;
    }
  }
  const retryAfterMs = verdict === 'retry' && outcome.retryAfter !== null ? parseRetryAfter(outcome.retryAfter, nowMs) : null;
  return { verdict, statusCode: outcome.statusCode, durationMs: outcome.durationMs, error: outcome.error, retryAfterMs };
}

/** Retry-After in ms from `nowMs`: delta-seconds or an HTTP date; null when unreadable. */
export function parseRetryAfter(value: string, nowMs: number): number | null {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** Nominal wait after `failedTries` failed tries (1: after the first), before jitter. */
export function nominalDelay(policy: RetryPolicy, failedTries: number): number {
  const exp = policy.initialDelayMs * policy.multiplier ** Math.max(0, failedTries - 1);
  return Math.min(policy.maxDelayMs, exp);
}

/** The wait before the next try; `random` in [0, 1). */
export function retryDelay(policy: RetryPolicy, failedTries: number, retryAfterMs: number | null, random: number): number {
  if (retryAfterMs !== null) return Math.min(policy.maxDelayMs, Math.max(MIN_RETRY_AFTER_MS, retryAfterMs));
  const nominal = nominalDelay(policy, failedTries);
  return Math.round(nominal * (1 + policy.jitter * (2 * random - 1)));
}

/**
 * When to try a delivery queued at `queuedAt` again, or null to give it up: the backoff wait,
 * but never past queuedAt + maxAge, where one last try happens.
 */
export function nextTryAt(policy: RetryPolicy, queuedAt: number, now: number, failedTries: number, retryAfterMs: number | null, random: number): number | null {
  const deadline = queuedAt + policy.maxAgeMs;
  if (now >= deadline) return null;
  return Math.min(deadline, now + retryDelay(policy, failedTries, retryAfterMs, random));
}

/** Checks a policy given by a caller; a zero or negative delay would retry in a tight loop. */
export function checkPolicy(policy: RetryPolicy): RetryPolicy {
  const positive: Array<keyof RetryPolicy> = ['initialDelayMs', 'maxDelayMs', 'maxAgeMs', 'failingAlertMs'];
  for (const k of positive) {
    if (!(Number.isFinite(policy[k]) && policy[k] > 0)) throw new RangeError(`retry policy ${k} must be a positive number`);
  }
  if (!(policy.multiplier >= 1)) throw new RangeError('retry policy multiplier must be at least 1');
  if (!(policy.jitter >= 0 && policy.jitter < 1)) throw new RangeError('retry policy jitter must be in [0, 1)');
  return policy;
}
