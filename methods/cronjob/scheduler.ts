// When cron jobs run: every enabled cron job's schedules (`schedule` first, then `schedules`) in
// the scheduling layer's ScheduleEngine, on the module's clock (a VirtualClock in tests). One heap
// and one timer for all cron jobs; time zones, DST and jitter are the Calendar's rules
// (methods/scheduling/calendar.ts). Disabled cron jobs are not in the engine at all.
import { jobSchedules, ScheduleEngine, type Calendar, type Clock, type JobTiming, type RandomSource, type ScheduledRun } from '../scheduling/index.js';
import type { CronRecord } from './store.js';

export interface CronSchedulerOptions {
  clock: Clock;
  calendar: Calendar;
  random?: RandomSource;
  onRun(run: ScheduledRun): void;
  /** A cron job's cursor moved without a run (set at start, or past runs not caught up). */
  onCursor(id: number, cursor: number): void;
  onError(err: unknown, id: number): void;
}

export function timingOf(r: CronRecord): JobTiming {
  return { schedules: jobSchedules(r), catchUpWindow: r.catch_up_window, catchUp: r.catch_up };
}

export class CronScheduler {
  private readonly engine: ScheduleEngine;

  constructor(o: CronSchedulerOptions) {
    this.engine = new ScheduleEngine({ clock: o.clock, calendar: o.calendar, ...(o.random ? { random: o.random } : {}), onRun: o.onRun, onCursor: o.onCursor, onError: o.onError });
  }

  /**
   * Schedules cron job `r` (validated), or unschedules it when disabled. `cursor`: its stored
   * last-fired time, given before start() so that start() catches up what was missed after it.
   */
  set(r: CronRecord, cursor: number | null = null): void {
    if (r.enabled) this.engine.set(r.id, timingOf(r), cursor);
    else this.engine.remove(r.id);
  }

  remove(id: number): void {
    this.engine.remove(id);
  }

  /** When the next run starts (its scheduled time plus jitter); null when disabled or never again. */
  next(id: number): number | null {
    return this.engine.next(id)?.due ?? null;
  }

  /** Runs missed since each cron job's cursor (within its catch_up_window) fire now, oldest first; then the schedules go on. */
  start(): void {
    this.engine.start();
  }

  stop(): void {
    this.engine.stop();
  }
}
