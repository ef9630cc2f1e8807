// Per-key state over fixed time windows, for counting what a key did lately: no-auth calls per
// address and method (dispatch.ts), failed logins per account and address (auth/throttle.ts).
// A key's window starts with its first event and lasts `windowMs`; the next event after that
// starts a new one. At most `maxKeys` keys are kept: past that, ended windows are dropped, then
// (a flood of fresh keys) the oldest ones, so memory stays bounded whoever is counting.

export interface Window {
  readonly start: number;
}

export interface WindowOptions<W extends Window> {
  windowMs: number;
  maxKeys: number;
  /** A new window starting at `now`. */
  create(now: number): W;
  /** Whether an ended window must still be kept when pruning (e.g. it holds queued attempts). */
  keep?(w: W, now: number): boolean;
}

export class FixedWindows<W extends Window> {
  readonly #windows = new Map<string, W>();

  constructor(private readonly o: WindowOptions<W>) {}

  /** The key's window if it has not ended. */
  get(key: string, now: number): W | undefined {
    const w = this.#windows.get(key);
    return w !== undefined && now - w.start < this.o.windowMs ? w : undefined;
  }

  /** The key's window, a new one when it has none or its window ended. */
  open(key: string, now: number): W {
    const current = this.get(key, now);
    if (current !== undefined) return current;
    this.#windows.delete(key);
    if (this.#windows.size >= this.o.maxKeys) this.#prune(now);
    const w = this.o.create(now);
    this.#windows.set(key, w);
    return w;
  }

  #prune(now: number): void {
    for (const [k, w] of this.#windows) {
      if (now - w.start >= this.o.windowMs && !this.o.keep?.(w, now)) this.#windows.delete(k);
    }
    // Still full: forget the oldest.
    for (const k of this.#windows.keys()) {
      if (this.#windows.size < this.o.maxKeys) break;
      this.#windows.delete(k);
    }
  }
}
