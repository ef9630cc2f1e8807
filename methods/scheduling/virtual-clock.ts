// A clock whose time moves only when told to: advance() fires the timers that fall due, one at a
// time in the order of their due times (ties in the order they were set), with now() equal to
// each timer's due time while it runs. Timers set by a timer that fall inside the same advance
// fire too. Tests drive schedules across DST changes and outages with it without waiting.
import type { Clock, Timer } from './clock.js';
import { KeyedHeap } from './heap.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** No advance may fire more timers than this: a timer that re-arms itself at `now` loops forever. */
export const MAX_FIRES_PER_ADVANCE = 1_000_000;

export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new KeyedHeap<number, Pending>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));

  constructor(start: number | Date = 0) {
    this.time = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.time;
  }

  at(at: number, fn: () => void): Timer {
    const seq = this.seq++;
    this.timers.set(seq, { at, seq, fn });
    return { at, cancel: () => void this.timers.delete(seq) };
  }

  after(ms: number, fn: () => void): Timer {
    return this.at(this.time + Math.max(0, ms), fn);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Due time of the earliest pending timer, or null. */
  nextAt(): number | null {
    return this.timers.peek()?.value.at ?? null;
  }

  /** Moves time forward by `ms`, firing what falls due on the way. Returns the number fired. */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`advance needs a duration >= 0, got ${ms}`);
    return this.advanceTo(this.time + ms);
  }

  /** Moves time forward to `t` (epoch ms), firing what falls due on the way. */
  advanceTo(t: number | Date): number {
    const target = typeof t === 'number' ? t : t.getTime();
    if (target < this.time) throw new RangeError(`the virtual clock does not go back (now ${this.time}, asked ${target})`);
    let fired = 0;
    for (let top = this.timers.peek(); top !== undefined && top.value.at <= target; top = this.timers.peek()) {
      if (++fired > MAX_FIRES_PER_ADVANCE) throw new Error(`more than ${MAX_FIRES_PER_ADVANCE} timers fired in one advance: a timer keeps re-arming itself`);
      this.timers.delete(top.key);
      // A timer set in the past fires at the current time, never moving the clock back.
      this.time = Math.max(this.time, top.value.at);
      top.value.fn();
    }
    this.time = target;
    return fired;
  }

  /** Jumps the wall clock without firing anything, like a host that was off (or a clock step). */
  jumpTo(t: number | Date): void {
    this.time = typeof t === 'number' ? t : t.getTime();
  }
}
