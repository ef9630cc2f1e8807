// The clock the scheduling layer reads and sleeps on. Everything above it takes a Clock instead of
// calling Date.now()/setTimeout, so tests drive days of schedule (DST changes, outages) with a
// VirtualClock in microseconds, and the daemon uses the SystemClock.

/** A pending timer; cancel() is safe to call more than once and after it fired. */
export interface Timer {
  /** The epoch ms it is due at. */
  readonly at: number;
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds (wall clock). */
  now(): number;
  /** Calls `fn` once, when now() >= at. */
  at(at: number, fn: () => void): Timer;
  /** Calls `fn` once, `ms` from now (setTimeout-like). */
  after(ms: number, fn: () => void): Timer;
}

/**
 * Longest single sleep of the SystemClock. Timers are kept in wall-clock time but setTimeout
 * counts monotonic time, so after a wall-clock step (NTP, an administrator, a resumed VM) a long
 * sleep would end at the wrong wall time; waking at least this often re-reads the wall clock.
 * It also keeps every delay far below setTimeout's 2^31-1 ms limit. One wake-up a minute costs
 * nothing measurable.
 */
export const MAX_SLEEP_MS = 60_000;

class SystemTimer implements Timer {
  private handle: NodeJS.Timeout | null = null;
  private done = false;

  constructor(
    readonly at: number,
    private readonly fn: () => void,
  ) {
    this.arm();
  }

  private arm(): void {
    const wait = Math.min(Math.max(0, this.at - Date.now()), MAX_SLEEP_MS);
    this.handle = setTimeout(() => this.wake(), wait);
    // A pending schedule alone must not keep a process alive (tests, embedders, shutdown).
    this.handle.unref();
  }

  private wake(): void {
    this.handle = null;
    if (this.done) return;
    // Woken early (a chunk of a long sleep, or the wall clock was set back): sleep again.
    if (Date.now() < this.at) return this.arm();
    this.done = true;
    this.fn();
  }

  cancel(): void {
    this.done = true;
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = null;
  }
}

/** The real clock: Date.now() and unref'd timers that follow wall-clock steps. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  at(at: number, fn: () => void): Timer {
    return new SystemTimer(at, fn);
  }

  after(ms: number, fn: () => void): Timer {
    return new SystemTimer(Date.now() + Math.max(0, ms), fn);
  }
}
