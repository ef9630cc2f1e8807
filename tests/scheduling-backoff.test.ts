// Retry delays (FIXED, EXPONENTIAL, max_delay, jitter) and the text a waiting run shows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { attemptText, delayBounds, isFinalAttempt, retryDelay, type RetryPolicy } from '../methods/scheduling/backoff.js';
import { durationText } from '../methods/scheduling/duration-text.js';

const policy = (type: 'FIXED' | 'EXPONENTIAL', retry_delay: number, max_delay: number, jitter = 0, retries = 5): RetryPolicy => ({
  retries,
  retry_delay,
  retry_backoff: { type, max_delay, jitter },
});

test('FIXED waits retry_delay each time; EXPONENTIAL doubles it, up to max_delay', () => {
  const fixed = policy('FIXED', 40, 3600);
  assert.equal([1, 2, 3, 4].map((k) => retryDelay(k, fixed)), [40_000, 40_000, 40_000, 40_000]);
  const exp = policy('EXPONENTIAL', 10, 300);
  assert.equal([1, 2, 3, 4, 5, 6, 7].map((k) => retryDelay(k, exp)), [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  // max_delay caps even the first exponential delay, never a fixed one; a huge attempt number stays finite.
  assert.is(retryDelay(1, policy('EXPONENTIAL', 600, 60)), 60_000);
  assert.is(retryDelay(1, policy('FIXED', 600, 60)), 600_000);
  assert.is(retryDelay(5000, exp), 300_000);
  assert.is(retryDelay(1, policy('FIXED', 0, 60)), 0);
});

test('jitter takes a random share off: delays stay within [max*(1-jitter), max] for any random source', () => {
  const exp = policy('EXPONENTIAL', 10, 300, 0.5);
  let seed = 3;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let k = 1; k <= 10; k++) {
    const { min, max } = delayBounds(k, exp);
    assert.is(max, Math.min(10_000 * 2 ** (k - 1), 300_000));
    assert.is(min, max / 2);
    const seen = Array.from({ length: 200 }, () => retryDelay(k, exp, rand));
    assert.ok(seen.every((d) => d >= min && d <= max), `attempt ${k}`);
    assert.ok(Math.max(...seen) - Math.min(...seen) > (max - min) / 2, 'spread');
  }
  for (const r of [0, 0.999, Number.NaN, -1, 5]) {
    const d = retryDelay(3, exp, () => r);
    assert.ok(d >= 20_000 && d <= 40_000, `random() = ${r} gave ${d}`);
  }
});

test('only the last attempt (or a success) is final: alerts fire once', () => {
  const p = { retries: 2 };
  assert.equal([1, 2, 3].map((k) => isFinalAttempt(k, false, p)), [false, false, true]);
  assert.ok(isFinalAttempt(1, true, p));
  assert.ok(isFinalAttempt(1, false, { retries: 0 }));
});

test('"attempt k of n, next in 40 s" and durations as people read them', () => {
  assert.is(attemptText(2, { retries: 3 }, 40_000), 'attempt 2 of 4, next in 40 s');
  assert.is(attemptText(4, { retries: 3 }, 39_001), 'attempt 4 of 4, next in 40 s');
  assert.equal(
    [0, 1, 999, 59_000, 60_000, 125_000, 3_600_000, 3_725_000, 86_400_000 + 3_600_000 * 5 + 60_000].map(durationText),
    ['0 s', '1 s', '1 s', '59 s', '1 min', '2 min 5 s', '1 h', '1 h 2 min', '1 d 5 h'],
  );
});

test.run();
