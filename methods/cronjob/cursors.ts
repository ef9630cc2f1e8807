// The durable "last fired" cursor of each cron job: the scheduled time up to which everything has
// been run (or skipped by the overlap policy). After downtime, catch-up looks for runs missed
// after it. Cursors move with every scheduled run; writes are gathered into one batch per tick,
// so a catch-up of a thousand runs costs a few writes, and only ever move forward.
//
// A cursor is written once its run has been submitted (the job is durable). A crash between the
// two runs that time again at the next start when it lies inside catch_up_window: at least once,
// never silently lost.
import type { CronStore } from './store.js';

export class CursorBook {
  /** The newest cursor of each cron job, stored or about to be. */
  readonly #known = new Map<number, number>();
  #pending = new Map<number, number>();
  #flushing: Promise<void> | null = null;

  constructor(
    private readonly store: CronStore,
    private readonly exists: (id: number) => boolean,
    private readonly onError: (err: unknown) => void,
  ) {}

  async load(): Promise<void> {
    for (const [id, at] of await this.store.loadCursors()) this.#known.set(id, at);
  }

  get(id: number): number | null {
    return this.#known.get(id) ?? null;
  }

  /** Cron job `id` has handled everything scheduled up to `at`. */
  advance(id: number, at: number): void {
    if ((this.#known.get(id) ?? -Infinity) >= at) return;
    this.#known.set(id, at);
    this.#pending.set(id, at);
    this.#flushing ??= Promise.resolve().then(() => this.#flush());
  }

  forget(id: number): void {
    this.#known.delete(id);
    this.#pending.delete(id);
  }

  /** Resolves once every cursor advanced so far is stored (the module's stop waits for it). */
  async settled(): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
  }

  async #flush(): Promise<void> {
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.store.putCursors(batch, this.exists);
    } catch (err) {
      this.onError(err);
    } finally {
      this.#flushing = this.#pending.size > 0 ? Promise.resolve().then(() => this.#flush()) : null;
    }
  }
}
