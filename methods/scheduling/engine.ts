// The scheduler: keeps the next run of every enabled job in one min-heap and sleeps on a single
// clock timer for the earliest, so idle cost does not grow with the number of jobs. It persists
// nothing: the caller hands in each job's durable "last fired" cursor and stores the cursors the
// engine reports (with each run, and through onCursor when it moves without a run).
//
// Catch-up happens in start(): runs missed while the daemon was down (between a job's cursor and
// now) are planned by catch-up.ts and fired oldest first across all jobs, flagged caughtUp. A run
// that comes late while running (busy event loop, jitter) still runs as scheduled if it is at most
// LATE_GRACE_MS late; runs slept through for longer (a suspended host) follow the catch-up rules.
// Jobs set after start() are armed from now: re-enabling a job does not replay its disabled time.
import { Calendar, sameSchedules, type CompiledSchedule, type FireTime } from './calendar.js';
import { MAX_CATCH_UP_RUNS, planCatchUp, type CatchUpRun } from './catch-up.js';
import type { Clock, Timer } from './clock.js';
import { KeyedHeap } from './heap.js';
import { jitterDelay, type RandomSource } from './jitter.js';
import type { CatchUpModeT, ScheduleT } from './schemas.js';

/** How late a run may come while the daemon runs and still count as on time (not missed). */
export const LATE_GRACE_MS = 60_000;

export interface JobTiming {
  /** `schedule` first, then `schedules` (validate.ts jobSchedules). */
  schedules: readonly ScheduleT[];
  /** Seconds; 0: missed runs are not caught up. */
  catchUpWindow: number;
  catchUp: CatchUpModeT;
}

export interface ScheduledRun {
  jobId: number;
  /** The scheduled (nominal) time, before jitter. */
  scheduledAt: number;
  /** When the engine fired it (clock time). */
  firedAt: number;
  /** Run for a time missed while the daemon was down or asleep. */
  caughtUp: boolean;
  /** Store this as the job's cursor once the run is started. */
  cursor: number;
  /** Index into JobTiming.schedules of the schedule that produced it. */
  schedule: number;
}

export interface EngineOptions {
  clock: Clock;
  /** Shared zone and pattern caches; default: a new Calendar in the host's zone. */
  calendar?: Calendar;
  /** For jitter; default Math.random. */
  random?: RandomSource;
  /** catch_up ALL: most runs per job at one start (default MAX_CATCH_UP_RUNS). */
  maxCatchUpRuns?: number;
  /** Start a run. Must not throw (errors go to onError). */
  onRun(run: ScheduledRun): void;
  /**
   * A job's cursor moved without a run: set at start for a job that had none, or past missed runs
   * that were not run (`dropped`: older than the window, folded into ONE, beyond the cap), or to
   * now when a job is set while running. Store it.
   */
  onCursor?(jobId: number, cursor: number, dropped: boolean): void;
  /** onRun or onCursor threw; default: rethrown outside the engine, so it is not lost. */
  onError?(err: unknown, jobId: number): void;
}

interface Job {
  id: number;
  timing: JobTiming;
  compiled: CompiledSchedule[];
  /** Everything scheduled up to this instant has been handled; null: never set, becomes now at start. */
  cursor: number | null;
}

interface Armed {
  jobId: number;
  scheduledAt: number;
  /** scheduledAt + jitter: when the timer fires it. */
  due: number;
  schedule: number;
}

export class ScheduleEngine {
  private readonly clock: Clock;
  readonly calendar: Calendar;
  private readonly random: RandomSource;
  private readonly maxCatchUpRuns: number;
  private readonly jobs = new Map<number, Job>();
  private readonly heap = new KeyedHeap<number, Armed>((a, b) => a.due < b.due || (a.due === b.due && (a.scheduledAt < b.scheduledAt || (a.scheduledAt === b.scheduledAt && a.jobId < b.jobId))));
  private timer: Timer | null = null;
  private started = false;

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock;
    this.calendar = options.calendar ?? new Calendar();
    this.random = options.random ?? Math.random;
    this.maxCatchUpRuns = options.maxCatchUpRuns ?? MAX_CATCH_UP_RUNS;
  }

  get size(): number {
    return this.jobs.size;
  }

  get running(): boolean {
    return this.started;
  }

  /**
   * Adds or replaces job `id` (validated schedules). `cursor`: its stored last-fired instant, or
   * null for a job never scheduled. Before start() the cursor is kept for catch-up; after, the
   * job is armed from now. Replacing a job with the same schedules keeps its armed run (and jitter).
   */
  set(id: number, timing: JobTiming, cursor: number | null = null): void {
    const compiled = timing.schedules.map((s) => this.calendar.compile(s));
    const old = this.jobs.get(id);
    if (old !== undefined && sameSchedules(old.compiled, compiled)) {
      old.timing = timing;
      if (!this.started && cursor !== null) old.cursor = cursor;
      return;
    }
    // Before start the caller's stored cursor counts; once running, the engine's own is newer.
    const job: Job = { id, timing, compiled, cursor: this.started ? (old?.cursor ?? cursor) : (cursor ?? old?.cursor ?? null) };
    this.jobs.set(id, job);
    if (!this.started) return;
    const now = this.clock.now();
    if (job.cursor === null || job.cursor < now) this.moveCursor(job, now, false);
    this.arm(job);
    this.rearm();
  }

  remove(id: number): boolean {
    const had = this.jobs.delete(id);
    if (this.heap.delete(id)) this.rearm();
    return had;
  }

  has(id: number): boolean {
    return this.jobs.has(id);
  }

  /** The job's armed run: its scheduled time and when it will fire (with jitter); null if none. */
  next(id: number): { scheduledAt: number; due: number } | null {
    const a = this.heap.get(id);
    return a === undefined ? null : { scheduledAt: a.scheduledAt, due: a.due };
  }

  cursor(id: number): number | null {
    return this.jobs.get(id)?.cursor ?? null;
  }

  /** Catches up what was missed since each job's cursor, then arms every job. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const now = this.clock.now();
    const runs: Array<{ job: Job; run: CatchUpRun }> = [];
    for (const job of this.jobs.values()) {
      if (job.cursor === null) {
        this.moveCursor(job, now, false);
        continue;
      }
      const plan = planCatchUp(this.calendar, job.compiled, job.cursor, now, {
        windowS: job.timing.catchUpWindow,
        mode: job.timing.catchUp,
        maxRuns: this.maxCatchUpRuns,
      });
      for (const run of plan.runs) runs.push({ job, run });
      if (plan.runs.length === 0 && plan.cursor !== job.cursor) this.moveCursor(job, plan.cursor, plan.dropped);
      // Nothing missed: the plan already knows the next run.
      if (plan.next !== undefined) this.arm(job, plan.next);
    }
    runs.sort((a, b) => a.run.scheduledAt - b.run.scheduledAt || a.job.id - b.job.id);
    for (const { job, run } of runs) this.fire(job, run.scheduledAt, run.cursor, true, run.schedule);
    // onRun may have stopped the engine.
    if (!this.started) return this.heap.clear();
    // The rest: jobs that caught up or dropped runs (their cursor moved), or had no cursor.
    for (const job of this.jobs.values()) if (!this.heap.has(job.id)) this.arm(job);
    this.rearm();
  }

  /** Stops firing; jobs and cursors stay, and start() catches up from them again. */
  stop(): void {
    this.started = false;
    this.timer?.cancel();
    this.timer = null;
    this.heap.clear();
  }

  /** Arms the job's next run after its cursor (`known`: already computed), or unarms it when it has none. */
  private arm(job: Job, known?: FireTime | null): void {
    const n = known !== undefined ? known : this.calendar.nextOf(job.compiled, job.cursor ?? this.clock.now());
    if (n === null) {
      this.heap.delete(job.id);
      return;
    }
    const jitterMs = job.compiled[n.schedule]!.jitterMs;
    const following = jitterMs > 0 ? (this.calendar.nextOf(job.compiled, n.at)?.at ?? null) : null;
    this.heap.set(job.id, { jobId: job.id, scheduledAt: n.at, due: n.at + jitterDelay(jitterMs, n.at, following, this.random), schedule: n.schedule });
  }

  /** Keeps the one clock timer on the earliest armed run. */
  private rearm(): void {
    const top = this.heap.peek();
    if (!this.started || top === undefined) {
      this.timer?.cancel();
      this.timer = null;
      return;
    }
    if (this.timer !== null && this.timer.at === top.value.due) return;
    this.timer?.cancel();
    this.timer = this.clock.at(top.value.due, () => this.wake());
  }

  private wake(): void {
    this.timer = null;
    const now = this.clock.now();
    for (let top = this.heap.peek(); this.started && top !== undefined && top.value.due <= now; top = this.heap.peek()) {
      this.heap.delete(top.key);
      const job = this.jobs.get(top.key)!;
      const armed = top.value;
      this.fire(job, armed.scheduledAt, armed.scheduledAt, false, armed.schedule);
      // onRun may have removed or replaced the job: then it is not ours to re-arm.
      if (this.jobs.get(job.id) !== job || !this.started) continue;
      // Slept through later runs (host suspended, loop blocked): the catch-up rules decide for
      // those more than LATE_GRACE_MS late; later ones are armed below and fire in this loop.
      const plan = planCatchUp(this.calendar, job.compiled, armed.scheduledAt, now - LATE_GRACE_MS, {
        windowS: job.timing.catchUpWindow,
        mode: job.timing.catchUp,
        maxRuns: this.maxCatchUpRuns,
      });
      for (const run of plan.runs) {
        this.fire(job, run.scheduledAt, run.cursor, true, run.schedule);
        if (this.jobs.get(job.id) !== job) break;
      }
      if (this.jobs.get(job.id) !== job || !this.started) continue;
      if (plan.runs.length === 0 && plan.cursor !== job.cursor) this.moveCursor(job, plan.cursor, plan.dropped);
      this.arm(job, plan.next);
    }
    this.rearm();
  }

  private fire(job: Job, scheduledAt: number, cursor: number, caughtUp: boolean, schedule: number): void {
    job.cursor = cursor;
    try {
      this.options.onRun({ jobId: job.id, scheduledAt, firedAt: this.clock.now(), caughtUp, cursor, schedule });
    } catch (err) {
      this.report(err, job.id);
    }
  }

  private moveCursor(job: Job, cursor: number, dropped: boolean): void {
    job.cursor = cursor;
    try {
      this.options.onCursor?.(job.id, cursor, dropped);
    } catch (err) {
      this.report(err, job.id);
    }
  }

  private report(err: unknown, jobId: number): void {
    if (this.options.onError) this.options.onError(err, jobId);
    else
      queueMicrotask(() => {
        throw err;
      });
  }
}
