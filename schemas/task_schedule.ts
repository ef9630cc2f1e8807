// The cron schedule objects of the storage tasks (pool.scrub, pool.snapshottask, replication):
// TrueNAS's CronModel fields with each service's defaults, TimeCronModel's begin/end window
// where the service has one, and Midship's optional `second` (as cronjob.*). The field syntax
// is cronjob's; the scheduling layer checks the patterns.
import { Type, type Static } from '@sinclair/typebox';

export type CronFields = Record<'minute' | 'hour' | 'dom' | 'month' | 'dow', string>;

const field = (what: string, def: string | undefined) =>
  Type.String({ minLength: 1, maxLength: 200, pattern: '^\\S+$', description: `Cron expression for the ${what}`, ...(def === undefined ? {} : { default: def }) });

const TimeOfDay = (def: string | undefined) =>
  Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM', ...(def === undefined ? {} : { default: def }) });

/**
 * A schedule object. `defaults` are the service's (scrub: 00:00 on Sundays); `window` adds
 * begin/end ("00:00"-"23:59"): a run is only started inside it. Without `withDefaults` every
 * field is optional and has no default (an update merges field by field).
 */
export function taskSchedule(defaults: CronFields, window: boolean, withDefaults: boolean) {
  const d = (k: keyof CronFields) => (withDefaults ? defaults[k] : undefined);
  return Type.Object({
    minute: Type.Optional(field('minute (0-59)', d('minute'))),
    hour: Type.Optional(field('hour (0-23)', d('hour'))),
    dom: Type.Optional(field('day of month (1-31)', d('dom'))),
    month: Type.Optional(field('month (1-12 or jan-dec)', d('month'))),
    dow: Type.Optional(field('day of week (0-7 or sun-sat, 0 and 7 are Sunday)', d('dow'))),
    second: Type.Optional(field('second (0-59), a Midship extension (not in TrueNAS); absent means second 0', undefined)),
    ...(window ? { begin: Type.Optional(TimeOfDay(withDefaults ? '00:00' : undefined)), end: Type.Optional(TimeOfDay(withDefaults ? '23:59' : undefined)) } : {}),
  }, { additionalProperties: false, ...(withDefaults ? { default: {} } : {}) });
}

/** A stored schedule: every cron field present, `second` when given, begin/end for windowed ones. */
export const StoredSchedule = Type.Object({
  minute: Type.String(),
  hour: Type.String(),
  dom: Type.String(),
  month: Type.String(),
  dow: Type.String(),
  second: Type.Optional(Type.String()),
  begin: Type.Optional(Type.String()),
  end: Type.Optional(Type.String()),
});
export type StoredScheduleT = Static<typeof StoredSchedule>;

export const SCRUB_SCHEDULE_DEFAULTS: CronFields = { minute: '00', hour: '00', dom: '*', month: '*', dow: '7' };
export const TASK_SCHEDULE_DEFAULTS: CronFields = { minute: '00', hour: '*', dom: '*', month: '*', dow: '*' };
