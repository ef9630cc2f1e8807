// The cron fields of a schedule object (TrueNAS's five, Midship's `second`), shared by the cron
// module's schemas (schemas/cronjob.ts) and the scheduling layer's (methods/scheduling/schemas.ts),
// which adds timezone and jitter. Kept apart so that neither imports the other's file.
import { Type } from '@sinclair/typebox';

// One cron field: no whitespace, or the five fields would shift into each other.
const field = (what: string, def: string | null) =>
  Type.String({ minLength: 1, maxLength: 200, pattern: '^\\S+$', description: `Cron expression for the ${what}`, ...(def === null ? {} : { default: def }) });

/** A schedule's fields when not given: every hour at minute 00, as in TrueNAS. */
export const DEFAULT_SCHEDULE: Readonly<Record<'minute' | 'hour' | 'dom' | 'month' | 'dow', string>> = { minute: '00', hour: '*', dom: '*', month: '*', dow: '*' };

/**
 * The cron fields of a schedule object as a client sends them: TrueNAS's five (with their
 * defaults when `withDefaults`) and Midship's `second`. The scheduling layer adds its own fields.
 */
export function cronScheduleFields(withDefaults: boolean) {
  const d = (k: keyof typeof DEFAULT_SCHEDULE) => (withDefaults ? DEFAULT_SCHEDULE[k] : null);
  return {
    minute: Type.Optional(field('minute (0-59)', d('minute'))),
    hour: Type.Optional(field('hour (0-23)', d('hour'))),
    dom: Type.Optional(field('day of month (1-31)', d('dom'))),
    month: Type.Optional(field('month (1-12 or jan-dec)', d('month'))),
    dow: Type.Optional(field('day of week (0-7 or sun-sat, 0 and 7 are Sunday)', d('dow'))),
    second: Type.Optional(field('second (0-59), a Midship extension (not in TrueNAS); absent means second 0', null)),
  };
}

/** The cron fields of a schedule with its defaults applied: what is stored, run and returned. */
export const CronScheduleResultFields = {
  minute: Type.String(),
  hour: Type.String(),
  dom: Type.String(),
  month: Type.String(),
  dow: Type.String(),
  second: Type.Optional(Type.String()),
};
