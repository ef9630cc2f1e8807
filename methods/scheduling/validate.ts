// Checks JSON Schema cannot make: cron syntax per field, zone names, schedules that never fire.
// Each problem is reported with its attribute path (cron_job_create.schedules.1.hour), into
// anything with ValidationErrors' add(); this layer does not import the engine.
import type { Calendar } from './calendar.js';
import { cronProblems } from './cron-pattern.js';
import { MAX_JITTER_S, type ScheduleT, type SchedulingData } from './schemas.js';
import { canonicalTimeZone } from './zone.js';

/** Where problems go: daemon/errors.ts ValidationErrors fits (errno defaults to EINVAL). */
export interface ErrorSink {
  add(attribute: string, message: string, errno?: number): unknown;
}

/** Adds one error per problem of schedule `s`, under `attr` (e.g. cron_job_update.schedule). */
export function validateSchedule(calendar: Calendar, s: ScheduleT, attr: string, errors: ErrorSink, now: number = Date.now()): void {
  let ok = true;
  for (const p of cronProblems(s)) {
    errors.add(p.field === null ? attr : `${attr}.${p.field}`, p.message);
    ok = false;
  }
  if (s.timezone !== undefined && calendar.canonicalZone(s.timezone) === null) {
    errors.add(`${attr}.timezone`, `Unknown time zone "${s.timezone}": give an IANA zone name such as Europe/Berlin, America/New_York or UTC`);
    ok = false;
  }
  if (s.jitter !== undefined && !(Number.isInteger(s.jitter) && s.jitter >= 0 && s.jitter <= MAX_JITTER_S)) {
    errors.add(`${attr}.jitter`, `Jitter must be a whole number of seconds from 0 to ${MAX_JITTER_S}`);
    ok = false;
  }
  if (ok && calendar.next(calendar.compile(s), now) === null) {
    errors.add(attr, `Schedule "${[s.second, s.minute, s.hour, s.dom, s.month, s.dow].filter((f) => f !== undefined).join(' ')}" never fires`);
  }
}

/** The scheduling part of a cron job: `schedule` and every entry of `schedules`. */
export function validateScheduling(
  calendar: Calendar,
  d: { schedule: ScheduleT } & Pick<SchedulingData, 'schedules'>,
  attr: string,
  errors: ErrorSink,
  now: number = Date.now(),
): void {
  validateSchedule(calendar, d.schedule, `${attr}.schedule`, errors, now);
  d.schedules.forEach((s, i) => validateSchedule(calendar, s, `${attr}.schedules.${i}`, errors, now));
}

/** The schedule with its zone in canonical form ("europe/berlin" -> "Europe/Berlin"), to store. */
export function canonicalSchedule(s: ScheduleT): ScheduleT {
  if (s.timezone === undefined) return { ...s };
  return { ...s, timezone: canonicalTimeZone(s.timezone) ?? s.timezone };
}

/** All schedules of a job, `schedule` first: what the engine and Calendar.nextOf take. */
export function jobSchedules(d: { schedule: ScheduleT } & Pick<SchedulingData, 'schedules'>): ScheduleT[] {
  return [d.schedule, ...d.schedules];
}
