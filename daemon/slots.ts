// How many things run at once: `new Slots(1)` runs tasks one at a time in the order they were
// started (writes that must land in order), `new Slots(n)` at most n at a time (a connection's
// calls, password checks per address). Waiters are served first come, first served, and a freed
// slot passes straight to the next waiter, so no later arrival can overtake it.
export class Slots {
  #running = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(private readonly size: number) {}

  /** Nothing runs and nothing waits. */
  get idle(): boolean {
    return this.#running === 0;
  }

  /**
   * Take a slot: null when one was free (it is taken now), else a promise that resolves once a
   * slot has been handed over. Pair every acquire with one release().
   */
  acquire(): Promise<void> | null {
    if (this.#running < this.size) {
      this.#running++;
      return null;
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }

  /**
   * Run `fn` in a slot; its failure is its caller's alone and frees the slot like success. `fn`
   * never starts inside this call, even with a slot free: like a promise chain, it starts after the
   * code that called run(), so work issued in the same tick can still join what it flushes (the
   * job store's group commit relies on that).
   */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /** Resolves once everything started before it has ended (one at a time: every earlier task). */
  drained(): Promise<void> {
    return this.run(() => undefined);
  }
}
