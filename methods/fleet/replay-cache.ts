// Nonces seen inside the validity window, so a captured request cannot be run twice. Each nonce
// is kept until its request's timestamp leaves the window (after that the request is refused as
// stale anyway), in buckets by expiry second, so dropping the expired ones costs only what expired.
// Bounded: at capacity a new nonce is refused rather than an old one forgotten, since forgetting a
// nonce still inside the window would reopen it to replay. Only requests whose signature checked
// out reach the cache, so filling it takes a trusted signer's key.
import { ReplayCacheFullError, ReplayedRequestError } from './errors.js';

export const DEFAULT_REPLAY_CAPACITY = 200_000;

export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private readonly buckets = new Map<number, string[]>();

  constructor(readonly capacity = DEFAULT_REPLAY_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('replay cache capacity must be a positive integer');
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Records `key` as used until `expiresAt` (ms), or throws ReplayedRequestError when it was used
   * already, ReplayCacheFullError when the cache is full of live nonces.
   */
  use(key: string, expiresAt: number, now: number): void {
    this.prune(now);
    const until = this.seen.get(key);
    if (until !== undefined && until >= now) throw new ReplayedRequestError();
    if (this.seen.size >= this.capacity) throw new ReplayCacheFullError(this.capacity);
    this.seen.set(key, expiresAt);
    const second = Math.floor(expiresAt / 1000);
    const bucket = this.buckets.get(second);
    if (bucket) bucket.push(key);
    else this.buckets.set(second, [key]);
  }

  /** Drops every nonce whose expiry second is wholly in the past. */
  private prune(now: number): void {
    const current = Math.floor(now / 1000);
    for (const [second, keys] of this.buckets) {
      if (second >= current) continue;
      for (const k of keys) if ((this.seen.get(k) ?? Infinity) < now) this.seen.delete(k);
      this.buckets.delete(second);
    }
  }
}
