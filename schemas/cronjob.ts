// Argument and result schemas of cronjob.* (TrueNAS's cronjob shape plus Midship's run
// controls). Field names and defaults follow TrueNAS: `stdout`/`stderr` true means "do not keep
// that stream" (TrueNAS redirects it to /dev/null), schedule minute defaults to "00". The
// scheduling fields (schedule.timezone and jitter, schedules, ...) come from the scheduling layer
// (methods/scheduling/schemas.ts), defaults and all.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Schedule, SchedulingEntryFields, scheduleSchema, schedulingFields } from './scheduling.js';

/** How environment values appear in every response (TrueNAS style); sent back unchanged on update, the stored value stays. */
export const ENV_REDACTED = '******';

export { CronScheduleResultFields, DEFAULT_SCHEDULE, cronScheduleFields } from './cron-schedule.js';

// Usernames are passed to getent: no leading dash, no separators.
const UserName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^-:\\s][^:\\s]*$' });

/** The fields a new cron job takes when not given: the schema's defaults and what cronjob.create fills in. */
export const DEFAULTS = {
  enabled: true,
  description: '',
  stdout: true,
  stderr: false,
  timeout: 3600,
  retries: 0,
  retry_delay: 60,
  environment: {} as Record<string, string>,
  working_directory: null as string | null,
  tags: [] as string[],
};

function dataSchema(create: boolean) {
  const opt = <T extends TSchema>(s: T) => Type.Optional(s);
  const def = (k: keyof typeof DEFAULTS) => (create ? { default: DEFAULTS[k] } : {});
  const { schedules, catch_up_window, catch_up, overlap_policy, max_concurrent, retry_backoff, on_success, on_failure, on_finish } = schedulingFields(create);
  return Type.Object(
    {
      enabled: opt(Type.Boolean(def('enabled'))),
      description: opt(Type.String({ maxLength: 1000, ...def('description') })),
      command: create ? Type.String({ minLength: 1 }) : opt(Type.String({ minLength: 1 })),
      user: create ? UserName : opt(UserName),
      stdout: opt(Type.Boolean({ description: 'true: do not keep standard output in the job log', ...def('stdout') })),
      stderr: opt(Type.Boolean({ description: 'true: do not keep standard error in the job log', ...def('stderr') })),
      schedule: opt(scheduleSchema(create)),
      timeout: opt(Type.Integer({ minimum: 1, maximum: 31 * 24 * 3600, description: 'Seconds an attempt may run before its process group is terminated', ...def('timeout') })),
      retries: opt(Type.Integer({ minimum: 0, maximum: 100, description: 'Further attempts after a failed one', ...def('retries') })),
      retry_delay: opt(Type.Integer({ minimum: 0, maximum: 24 * 3600, description: 'Seconds between a failed attempt and the next', ...def('retry_delay') })),
      environment: opt(
        Type.Record(Type.String(), Type.String({ secret: true }), {
          description: `Variables added to the command's environment; values are shown as "${ENV_REDACTED}" in responses`,
          ...def('environment'),
        }),
      ),
      working_directory: opt(Type.Union([Type.String({ minLength: 1 }), Type.Null()], { description: "Absolute path; null: the user's home directory (or / when it does not exist)", ...def('working_directory') })),
      tags: opt(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100, ...def('tags') })),
      schedules,
      catch_up_window,
      catch_up,
      overlap_policy,
      max_concurrent,
      retry_backoff,
      on_success,
      on_failure,
      on_finish,
    },
    { additionalProperties: false },
  );
}

export const CronJobCreate = dataSchema(true);
export const CronJobUpdate = dataSchema(false);
export type CronJobCreateT = Static<typeof CronJobCreate>;
export type CronJobUpdateT = Static<typeof CronJobUpdate>;

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
  schedule: Schedule,
  timeout: Type.Integer(),
  retries: Type.Integer(),
  retry_delay: Type.Integer(),
  environment: Type.Record(Type.String(), Type.String()),
  working_directory: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  schedules: SchedulingEntryFields.schedules,
  catch_up_window: SchedulingEntryFields.catch_up_window,
  catch_up: SchedulingEntryFields.catch_up,
  overlap_policy: SchedulingEntryFields.overlap_policy,
  max_concurrent: SchedulingEntryFields.max_concurrent,
  retry_backoff: SchedulingEntryFields.retry_backoff,
  on_success: SchedulingEntryFields.on_success,
  on_failure: SchedulingEntryFields.on_failure,
  on_finish: SchedulingEntryFields.on_finish,
  next_run: Type.Union([Type.String(), Type.Null()], { description: 'ISO time of the next scheduled run; null when disabled' }),
  last_run: Type.Union([LastRun, Type.Null()], { description: 'The most recent run (cronjob.run job): its id, state and ISO finish time (RUNNING and null while it runs)' }),
});

export type LastRunT = Static<typeof LastRun>;
export type CronJobEntryT = Static<typeof CronJobEntry>;

/** Why a cronjob.run job was started, when the scheduler started it (its third argument). */
export const RunOrigin = Type.Object(
  {
    scheduled_at: Type.Optional(Type.String({ maxLength: 40, description: 'ISO time the run was scheduled for (before jitter)' })),
    caught_up: Type.Optional(Type.Boolean({ description: 'Run for a time missed while the daemon was down (catch_up_window)' })),
  },
  { additionalProperties: false },
);
export type RunOriginT = Static<typeof RunOrigin>;

export const RunResult = Type.Object({
  exit_code: Type.Integer(),
  duration: Type.Number({ description: 'Seconds from the start of the first attempt to the end of the last' }),
  attempts: Type.Integer(),
});
export type RunResultT = Static<typeof RunResult>;
