// Scheduled storage tasks (scrubs, periodic snapshots, replications) on the scheduling layer's
// ScheduleEngine, one engine per kind of task, on the storage module's clock. TrueNAS runs these
// from cron, so nothing missed while the daemon was down is caught up (catch-up window 0) and no
// cursor is stored. A begin/end window (snapshot tasks, replication) is checked when a run comes:
// outside it the run is skipped, as TrueNAS's schedule with begin/end means.
import { ERRNO, type ValidationErrors } from '#midship/module-api';
import type { StoredScheduleT } from '../../schemas/task_schedule.js';
import { ScheduleEngine, validateSchedule, type Calendar, type Clock, type ScheduleT } from '../scheduling/index.js';

const DAY_MS = 86_400_000;

export function scheduleOf(s: StoredScheduleT): ScheduleT {
  return { minute: s.minute, hour: s.hour, dom: s.dom, month: s.month, dow: s.dow, ...(s.second === undefined ? {} : { second: s.second }) };
}

/** A schedule object with the service's defaults under what was given (begin/end only when windowed). */
export function fullSchedule(defaults: Record<string, string>, given: Partial<StoredScheduleT> | undefined, window: boolean): StoredScheduleT {
  const out: Record<string, string> = { ...defaults, ...(window ? { begin: '00:00', end: '23:59' } : {}) };
  for (const [k, v] of Object.entries(given ?? {})) if (v !== undefined) out[k] = v;
  return out as StoredScheduleT;
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether instant `at` falls in the schedule's begin-end window (host time); no window: always. */
export function inWindow(calendar: Calendar, s: StoredScheduleT, at: number): boolean {
  if (s.begin === undefined || s.end === undefined) return true;
  const wall = calendar.rules(calendar.defaultTimeZone).wallAt(at);
  const m = Math.floor((((wall % DAY_MS) + DAY_MS) % DAY_MS) / 60_000);
  return m >= minutes(s.begin) && m <= minutes(s.end);
}

/** Cron syntax per field (under `attr`), begin not after end, and a schedule that runs inside its window. */
export function validateTaskSchedule(calendar: Calendar, s: StoredScheduleT, attr: string, errors: ValidationErrors, now: number): void {
  const before = errors.length;
  validateSchedule(calendar, scheduleOf(s), attr, errors, now);
  if (errors.length > before || s.begin === undefined || s.end === undefined) return;
  if (minutes(s.begin) > minutes(s.end)) {
    errors.add(`${attr}.begin`, 'Begin time should be less than or equal to end time', ERRNO.EINVAL);
    return;
  }
  // As TrueNAS: one of the next day's runs must fall in the window.
  const compiled = [calendar.compile(scheduleOf(s))];
  const times = calendar.fireTimes(compiled, now, now + DAY_MS, 24 * 60 * 60).times;
  if (!times.some((t) => inWindow(calendar, s, t.at))) errors.add(attr, 'Specified schedule does not match specified time interval', ERRNO.EINVAL);
}

export class TaskScheduler {
  private readonly engine: ScheduleEngine;
  private readonly schedules = new Map<number, StoredScheduleT>();

  constructor(private readonly calendar: Calendar, clock: Clock, onRun: (id: number, at: number) => void, onError: (err: unknown, id: number) => void) {
    this.engine = new ScheduleEngine({
      clock,
      calendar,
      onRun: (run) => {
        const s = this.schedules.get(run.jobId);
        if (s !== undefined && inWindow(this.calendar, s, run.scheduledAt)) onRun(run.jobId, run.scheduledAt);
      },
      onError,
    });
  }

  /** Schedules task `id`, or unschedules it when disabled or without a schedule. */
  set(id: number, schedule: StoredScheduleT | null, enabled: boolean): void {
    if (!enabled || schedule === null) {
      this.remove(id);
      return;
    }
    this.schedules.set(id, schedule);
    this.engine.set(id, { schedules: [scheduleOf(schedule)], catchUpWindow: 0, catchUp: 'ONE' });
  }

  remove(id: number): void {
    this.schedules.delete(id);
    this.engine.remove(id);
  }

  /** The next scheduled run of task `id` (epoch ms), or null. */
  next(id: number): number | null {
    return this.engine.next(id)?.scheduledAt ?? null;
  }

  start(): void {
    this.engine.start();
  }

  stop(): void {
    this.engine.stop();
  }
}
