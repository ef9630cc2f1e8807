// Caps on running jobs: a global one (MIDSHIP_MAX_RUNNING_JOBS) and one per method
// (MIDSHIP_MAX_RUNNING_PER_METHOD). A job whose turn has come (its lock, if any, is free) starts
// only while both allow; otherwise it stays WAITING, first come first served, with a progress
// description that says why and where it stands in line. A job held back by its method's cap does
// not hold back jobs of other methods; once the global cap is reached nothing more starts.
//
// A job started by a job that is still running (core.bulk's calls) is never held: its parent
// already has a slot and waits for it, so holding it could wait forever. It counts all the same.

export interface CapLimits {
  /** Most jobs running at once; null: no limit. */
  global: number | null;
  /** Most running jobs of a method, e.g. { 'cronjob.run': 4 }. */
  perMethod: Readonly<Record<string, number>>;
}

/** A job held back by the caps. */
export interface Waiter {
  readonly id: number;
  readonly method: string;
  /** Called once, when the caps let it run. */
  start(): void;
  /** Why it waits ('' once it starts). */
  describe(reason: string): void;
}

/** Places in line told exactly; behind them the text stays the same, so a long line costs no events. */
const SHOWN_PLACES = 100;

function place(n: number): string {
  if (n === 1) return 'next';
  if (n > SHOWN_PLACES) return `more than ${SHOWN_PLACES} in line`;
  const suffix = n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : n % 10 === 1 && n % 100 !== 11 ? 'st' : 'th';
  return `${n}${suffix} in line`;
}

export class Admission {
  #total = 0;
  readonly #perMethod = new Map<string, number>();
  #waiting: Waiter[] = [];
  readonly #reasons = new Map<number, string>();

  constructor(private readonly limits: CapLimits) {}

  get running(): number {
    return this.#total;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * A job may start: true when it does now (counted), false when it waits (it is told why, and
   * start() is called when its turn comes). `exempt`: never held (see above).
   */
  admit(w: Waiter, exempt: boolean): boolean {
    // Jobs already waiting are blocked by a cap that blocks this one too, unless only their own
    // method's cap holds them: so "fits now" never jumps the line of its own kind.
    if (exempt || this.#blockedBy(w.method) === null) {
      this.#count(w.method, 1);
      return true;
    }
    this.#waiting.push(w);
    this.#pump();
    return false;
  }

  /** A counted job ended: its slot goes to the jobs in line. */
  release(method: string): void {
    this.#count(method, -1);
    this.#pump();
  }

  /** A waiting job left the line (aborted); false when it was not waiting. */
  remove(id: number): boolean {
    const before = this.#waiting.length;
    this.#waiting = this.#waiting.filter((w) => w.id !== id);
    if (this.#waiting.length === before) return false;
    this.#reasons.delete(id);
    this.#pump();
    return true;
  }

  #count(method: string, delta: number): void {
    this.#total += delta;
    const n = (this.#perMethod.get(method) ?? 0) + delta;
    if (n <= 0) this.#perMethod.delete(method);
    else this.#perMethod.set(method, n);
  }

  /** Which cap keeps a job of `method` from starting now, or null. */
  #blockedBy(method: string): 'global' | 'method' | null {
    if (this.limits.global !== null && this.#total >= this.limits.global) return 'global';
    const cap = this.limits.perMethod[method];
    return cap !== undefined && (this.#perMethod.get(method) ?? 0) >= cap ? 'method' : null;
  }

  /** Starts, in order, the waiting jobs the caps now allow, and tells the others why they wait. */
  #pump(): void {
    const start: Waiter[] = [];
    const still: Waiter[] = [];
    let behindGlobal = 0;
    const behindMethod = new Map<string, number>();
    for (const w of this.#waiting) {
      const blocked = this.#blockedBy(w.method);
      if (blocked === null) {
        this.#count(w.method, 1);
        start.push(w);
        continue;
      }
      still.push(w);
      let reason: string;
      if (blocked === 'global') {
        reason = `Waiting: the limit of ${this.limits.global} running jobs is reached (${this.#total} running); ${place(++behindGlobal)}`;
      } else {
        const n = (behindMethod.get(w.method) ?? 0) + 1;
        behindMethod.set(w.method, n);
        reason = `Waiting: the limit of ${this.limits.perMethod[w.method]} running ${w.method} jobs is reached (${this.#perMethod.get(w.method) ?? 0} running); ${place(n)}`;
      }
      if (this.#reasons.get(w.id) !== reason) {
        this.#reasons.set(w.id, reason);
        w.describe(reason);
      }
    }
    this.#waiting = still;
    for (const w of start) {
      if (this.#reasons.delete(w.id)) w.describe('');
      w.start();
    }
  }
}
