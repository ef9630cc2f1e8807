// Which job changes each webhook reports: a state it asked for when a job reaches it
// (job.FAILED, ...), and for webhooks that want progress, a running job's progress changes, at
// most one a second per job and webhook (the first at once, then the newest one when the second
// is up: a job reporting every millisecond costs a receiver one request a second). Fed by
// App.jobs.observe, synchronously: the work per change is a map lookup and a test per webhook.
import type { JobRecord } from '#midship/module-api';
import type { Clock, TimerHandle } from '../delivery/clock.js';

export interface HookFilter {
  id: number;
  methods: readonly string[];
  states: readonly string[];
  progress: boolean;
}

export type JobEventName = `job.${string}`;

export const PROGRESS_EVERY_MS = 1000;

interface Compiled {
  id: number;
  method: RegExp;
  states: ReadonlySet<string>;
  progress: boolean;
}

interface Seen {
  state: string;
  percent: number;
  description: string;
}

interface Throttle {
  last: number;
  timer: TimerHandle | null;
  pending: Readonly<JobRecord> | null;
}

const TERMINAL = new Set(['SUCCESS', 'FAILED', 'ABORTED']);

/** `cronjob.*` as a RegExp over whole method names (* is any run of characters, . is a dot). */
export function methodPattern(patterns: readonly string[]): RegExp {
  const alt = patterns.map((p) => p.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*'));
  return new RegExp(`^(?:${alt.join('|')})$`);
}

export class JobEventRouter {
  #hooks: Compiled[] = [];
  /** Some webhook wants WAITING, RUNNING or progress: then jobs are followed through their changes. */
  #follow = false;
  /** Active jobs as last seen, while any webhook is enabled. */
  readonly #seen = new Map<number, Seen>();
  readonly #throttles = new Map<string, Throttle>();

  constructor(
    private readonly clock: Clock,
    /** Queues one delivery of `record` for webhook `hookId`. */
    private readonly send: (hookId: number, event: JobEventName, record: Readonly<JobRecord>) => void,
  ) {}

  /** The enabled webhooks, as they are now. */
  setHooks(hooks: readonly HookFilter[]): void {
    this.#hooks = hooks.map((h) => ({ id: h.id, method: methodPattern(h.methods), states: new Set(h.states), progress: h.progress }));
    this.#follow = this.#hooks.some((h) => h.progress || [...h.states].some((s) => !TERMINAL.has(s)));
    if (!this.#follow) this.#seen.clear();
    for (const [key, t] of this.#throttles) {
      if (!this.#hooks.some((h) => key.startsWith(`${h.id}:`))) {
        t.timer?.cancel();
        this.#throttles.delete(key);
      }
    }
    if (this.#hooks.length === 0) this.#seen.clear();
  }

  observe(r: Readonly<JobRecord>): void {
    if (this.#hooks.length === 0) return;
    const terminal = TERMINAL.has(r.state);
    // Only ends wanted (the usual FAILED webhook): a job's end is seen once, nothing to remember.
    if (!this.#follow && !terminal) return;
    const prev = this.#seen.get(r.id);
    const stateChanged = prev === undefined || prev.state !== r.state;
    const progressChanged = !stateChanged && r.state === 'RUNNING' && (prev.percent !== r.progress.percent || prev.description !== r.progress.description);
    if (terminal) this.#seen.delete(r.id);
    else if (stateChanged || progressChanged) this.#seen.set(r.id, { state: r.state, percent: r.progress.percent, description: r.progress.description });
    for (const h of this.#hooks) {
      if (!h.method.test(r.method)) continue;
      if (terminal) this.#endThrottle(h.id, r.id);
      if (stateChanged && h.states.has(r.state)) this.send(h.id, `job.${r.state}`, r);
      else if (progressChanged && h.progress) this.#progress(h.id, r);
    }
  }

  close(): void {
    for (const t of this.#throttles.values()) t.timer?.cancel();
    this.#throttles.clear();
    this.#seen.clear();
  }

  #progress(hookId: number, r: Readonly<JobRecord>): void {
    const key = `${hookId}:${r.id}`;
    const now = this.clock.now();
    const t = this.#throttles.get(key);
    if (t === undefined || (t.timer === null && now - t.last >= PROGRESS_EVERY_MS)) {
      if (t) t.last = now;
      else this.#throttles.set(key, { last: now, timer: null, pending: null });
      this.send(hookId, 'job.progress', r);
      return;
    }
    // Within the second: the newest change goes out when it is up (the record is the live one).
    t.pending = r;
    t.timer ??= this.clock.setTimer(() => {
      t.timer = null;
      t.last = this.clock.now();
      const pending = t.pending;
      t.pending = null;
      if (pending !== null && pending.state === 'RUNNING') this.send(hookId, 'job.progress', pending);
    }, t.last + PROGRESS_EVERY_MS - now);
  }

  #endThrottle(hookId: number, jobId: number): void {
    const key = `${hookId}:${jobId}`;
    this.#throttles.get(key)?.timer?.cancel();
    this.#throttles.delete(key);
  }
}
