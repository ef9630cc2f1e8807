// Caps requests in flight, overall and per destination key. A waiter whose key is at its cap does
// not hold up waiters for other keys: one slow receiver must not delay anybody else's delivery.

interface Waiter {
  key: string;
  start: () => void;
}

export class ConcurrencyLimiter {
  private active = 0;
  private readonly activeByKey = new Map<string, number>();
  private waiters: Waiter[] = [];

  constructor(
    readonly maxTotal: number,
    readonly maxPerKey: number,
  ) {
    if (!(maxTotal >= 1) || !(maxPerKey >= 1)) throw new RangeError('concurrency limits must be at least 1');
  }

  /** Requests running now, overall. */
  get running(): number {
    return this.active;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  async run<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(key, signal);
    try {
      return await fn();
    } finally {
      this.release(key);
    }
  }

  private hasRoom(key: string): boolean {
    return this.active < this.maxTotal && (this.activeByKey.get(key) ?? 0) < this.maxPerKey;
  }

  private take(key: string): void {
    this.active++;
    this.activeByKey.set(key, (this.activeByKey.get(key) ?? 0) + 1);
  }

  private acquire(key: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.hasRoom(key)) {
      this.take(key);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        key,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(key: string): void {
    this.active--;
    const n = (this.activeByKey.get(key) ?? 1) - 1;
    if (n === 0) this.activeByKey.delete(key);
    else this.activeByKey.set(key, n);
    // First waiter (in arrival order) whose key has room now.
    for (let i = 0; i < this.waiters.length && this.active < this.maxTotal; i++) {
      const w = this.waiters[i]!;
      if (!this.hasRoom(w.key)) continue;
      this.waiters.splice(i, 1);
      i--;
      this.take(w.key);
      w.start();
    }
  }
}
