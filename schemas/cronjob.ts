// Argument and result schemas of cronjob.* (TrueNAS's cronjob shape plus Midship's run
// controls). Field names and defaults follow TrueNAS: `stdout`/`stderr` true means "do not keep
// that stream" (TrueNAS redirects it to /dev/null), schedule minute defaults to "00".
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Schedule } from '../methods/cronjob/schedule.js';
import type { CronAuthor } from '../methods/cronjob/users.js';

/** How environment values appear in every response (TrueNAS style); sent back unchanged on update, the stored value stays. */
export const ENV_REDACTED = '******';

// One cron field: no whitespace, or the five fields would shift into each other.
const field = (what: string, def: string | null) =>
  Type.String({ minLength: 1, maxLength: 200, pattern: '^\\S+$', description: `Cron expression for the ${what}`, ...(def === null ? {} : { default: def }) });

function scheduleSchema(withDefaults: boolean) {
  const d = (v: string) => (withDefaults ? v : null);
  return Type.Object(
    {
      minute: Type.Optional(field('minute (0-59)', d('00'))),
      hour: Type.Optional(field('hour (0-23)', d('*'))),
      dom: Type.Optional(field('day of month (1-31)', d('*'))),
      month: Type.Optional(field('month (1-12 or jan-dec)', d('*'))),
      dow: Type.Optional(field('day of week (0-7 or sun-sat, 0 and 7 are Sunday)', d('*'))),
      second: Type.Optional(
        Type.String({ minLength: 1, maxLength: 200, pattern: '^\\S+$', description: 'Midship extension, not in TrueNAS: cron expression for the second (0-59); absent means second 0' }),
      ),
    },
    { additionalProperties: false, ...(withDefaults ? { default: {} } : {}) },
  );
}

// Usernames are passed to getent: no leading dash, no separators.
const UserName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^-:\\s][^:\\s]*$' });

function dataSchema(create: boolean) {
  const opt = <T extends TSchema>(s: T) => Type.Optional(s);
  const def = <V>(v: V) => (create ? { default: v } : {});
  return Type.Object(
    {
      enabled: opt(Type.Boolean(def(true))),
      description: opt(Type.String({ maxLength: 1000, ...def('') })),
      command: create ? Type.String({ minLength: 1 }) : opt(Type.String({ minLength: 1 })),
      user: create ? UserName : opt(UserName),
      stdout: opt(Type.Boolean({ description: 'true: do not keep standard output in the job log', ...def(true) })),
      stderr: opt(Type.Boolean({ description: 'true: do not keep standard error in the job log', ...def(false) })),
      schedule: opt(scheduleSchema(create)),
      timeout: opt(Type.Integer({ minimum: 1, maximum: 31 * 24 * 3600, description: 'Seconds an attempt may run before its process group is terminated', ...def(3600) })),
      retries: opt(Type.Integer({ minimum: 0, maximum: 100, description: 'Further attempts after a failed one', ...def(0) })),
      retry_delay: opt(Type.Integer({ minimum: 0, maximum: 24 * 3600, description: 'Seconds between a failed attempt and the next', ...def(60) })),
      environment: opt(
        Type.Record(Type.String(), Type.String({ secret: true }), {
          description: `Variables added to the command's environment; values are shown as "${ENV_REDACTED}" in responses`,
          ...def({}),
        }),
      ),
      working_directory: opt(Type.Union([Type.String({ minLength: 1 }), Type.Null()], { description: "Absolute path; null: the user's home directory (or / when it does not exist)", ...def(null) })),
      tags: opt(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100, ...def([]) })),
    },
    { additionalProperties: false },
  );
}

export const CronJobCreate = dataSchema(true);
export const CronJobUpdate = dataSchema(false);
export type CronJobCreateT = Static<typeof CronJobCreate>;
export type CronJobUpdateT = Static<typeof CronJobUpdate>;

const ScheduleResult = Type.Object({
  minute: Type.String(),
  hour: Type.String(),
  dom: Type.String(),
  month: Type.String(),
  dow: Type.String(),
  second: Type.Optional(Type.String()),
});

const LastRun = Type.Object({
  job_id: Type.Integer(),
  state: Type.String(),
  time_finished: Type.Union([Type.String(), Type.Null()]),
});

export const CronJobEntry = Type.Object({
  id: Type.Integer(),
  enabled: Type.Boolean(),
  description: Type.String(),
  command: Type.String(),
  user: Type.String(),
  stdout: Type.Boolean(),
  stderr: Type.Boolean(),
  schedule: ScheduleResult,
  timeout: Type.Integer(),
  retries: Type.Integer(),
  retry_delay: Type.Integer(),
  environment: Type.Record(Type.String(), Type.String()),
  working_directory: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  next_run: Type.Union([Type.String(), Type.Null()], { description: 'ISO time of the next scheduled run; null when disabled' }),
  last_run: Type.Union([LastRun, Type.Null()], { description: 'The most recent run (cronjob.run job): its id, state and ISO finish time (RUNNING and null while it runs)' }),
});

export type LastRunT = Static<typeof LastRun>;
export type CronJobEntryT = Static<typeof CronJobEntry>;

export const RunResult = Type.Object({
  exit_code: Type.Integer(),
  duration: Type.Number({ description: 'Seconds from the start of the first attempt to the end of the last' }),
  attempts: Type.Integer(),
});
export type RunResultT = Static<typeof RunResult>;

/** A cron job as stored: everything but the computed next_run / last_run, environment in clear. */
export interface CronRecord {
  id: number;
  enabled: boolean;
  description: string;
  command: string;
  user: string;
  stdout: boolean;
  stderr: boolean;
  schedule: Schedule;
  timeout: number;
  retries: number;
  retry_delay: number;
  environment: Record<string, string>;
  working_directory: string | null;
  tags: string[];
  /** Who last saved it: running as root or an unlisted user needs a full admin (never returned). */
  author?: CronAuthor;
}

export type CronData = Omit<CronRecord, 'id'>;

export const DEFAULTS: Omit<CronData, 'command' | 'user' | 'schedule'> = {
  enabled: true,
  description: '',
  stdout: true,
  stderr: false,
  timeout: 3600,
  retries: 0,
  retry_delay: 60,
  environment: {},
  working_directory: null,
  tags: [],
};
