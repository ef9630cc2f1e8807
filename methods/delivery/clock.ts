// Time for the delivery engine comes from a Clock, so tests can run a day of retries in
// milliseconds: the queue and the digest buffer never read Date.now() or call setTimeout directly.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once, `ms` from now. Timers never keep the process alive on their own. */
  setTimer(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    // Node's setTimeout overflows (fires at once) past 2^31-1 ms; nothing here waits that long,
    // but a corrupt nextAt must not turn into a tight loop.
    const t = setTimeout(fn, Math.min(Math.max(0, ms), 2 ** 31 - 1));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told. Timers due at or before the new time fire in time order
 * (ties in creation order), each seeing now() equal to its own due time.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(start = Date.UTC(2025, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  /** Due times of the timers still waiting, earliest first. */
  pending(): number[] {
    return this.live().map((t) => t.at);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.time + ms);
  }

  advanceTo(target: number): void {
    for (;;) {
      const next = this.live()[0];
      if (next === undefined || next.at > target) break;
      this.time = Math.max(this.time, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.time = Math.max(this.time, target);
  }

  private live(): ManualTimer[] {
    this.timers = this.timers.filter((t) => !t.cancelled);
    return this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
}
