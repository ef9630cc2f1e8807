// TypeBox schemas of the scheduling fields a cron job gains (issue 19), with the TypeScript types
// derived from them. The cron module merges them into its create/update/entry schemas:
//
//   schedule:  { ...its cron fields, ...ScheduleExtensionFields }       timezone, jitter
//   create:    Type.Object({ ...its fields, ...schedulingFields(true) })  defaults filled by ajv
//   update:    Type.Object({ ...its fields, ...schedulingFields(false) }) no defaults
//   entry:     Type.Object({ ...its fields, ...SchedulingEntryFields })
//
// Semantic checks (cron syntax, zone names, chain targets and cycles) are in
// methods/scheduling/validate.ts and chains.ts: JSON Schema cannot express them.
import { Type, type Static } from '@sinclair/typebox';
import { CronScheduleResultFields, DEFAULT_SCHEDULE as CRON_DEFAULT_SCHEDULE, cronScheduleFields } from './cron-schedule.js';

export const MAX_JITTER_S = 3600;
export const MAX_SCHEDULES = 24;
export const MAX_CATCH_UP_WINDOW_S = 31 * 86_400;
export const MAX_CONCURRENT = 100;
export const MAX_RETRY_DELAY_S = 7 * 86_400;
export const MAX_CHAIN_TARGETS = 50;

export const OVERLAP_POLICIES = ['SKIP', 'QUEUE_ONE', 'CANCEL_PREVIOUS', 'ALLOW'] as const;
export const CATCH_UP_MODES = ['ONE', 'ALL'] as const;
export const BACKOFF_TYPES = ['FIXED', 'EXPONENTIAL'] as const;
export const CHAIN_FIELDS = ['on_success', 'on_failure', 'on_finish'] as const;

// A plain JSON Schema enum (not anyOf of consts): ajv then says "should be one of ...", once.
const literals = <T extends string>(values: readonly T[], opts: Record<string, unknown>) => Type.Unsafe<T>({ type: 'string', enum: [...values], ...opts });

export const TimeZoneName = Type.String({
  minLength: 1,
  maxLength: 64,
  description: "IANA time zone the schedule's times are read in (e.g. Europe/Berlin), stored in canonical form; absent: the host's zone",
});

export const JitterSeconds = Type.Integer({
  minimum: 0,
  maximum: MAX_JITTER_S,
  description: 'Random delay of each scheduled run, 0 to this many seconds (never past the next scheduled time); catch-up runs start at once',
});

/** Midship's fields of a schedule object, to add to the cron module's `schedule` schema. */
export const ScheduleExtensionFields = {
  timezone: Type.Optional(TimeZoneName),
  jitter: Type.Optional(JitterSeconds),
};

/** A whole schedule object: the cron module's fields (schemas/cronjob.ts) and the extension. */
export function scheduleSchema(withDefaults: boolean) {
  return Type.Object({ ...cronScheduleFields(withDefaults), ...ScheduleExtensionFields }, { additionalProperties: false, ...(withDefaults ? { default: {} } : {}) });
}

/** A schedule with its defaults applied: what is stored and evaluated. */
export const Schedule = Type.Object({
  ...CronScheduleResultFields,
  timezone: Type.Optional(Type.String()),
  jitter: Type.Optional(Type.Integer()),
});
export type ScheduleT = Static<typeof Schedule>;

export const DEFAULT_SCHEDULE: ScheduleT = { ...CRON_DEFAULT_SCHEDULE };

const OVERLAP_DESCRIPTION =
  'When a scheduled run comes while one is waiting or running: SKIP it, QUEUE_ONE (at most one waits), CANCEL_PREVIOUS (abort the old ones), ALLOW (up to max_concurrent at once)';
const CATCH_UP_DESCRIPTION = 'Runs missed within catch_up_window while the daemon was down: ONE run for all of them, or ALL, oldest first';
const BACKOFF_DESCRIPTION = 'FIXED: retry_delay every time; EXPONENTIAL: retry_delay doubled after each failed attempt';

export const OverlapPolicy = literals(OVERLAP_POLICIES, { description: OVERLAP_DESCRIPTION });
export type OverlapPolicyT = Static<typeof OverlapPolicy>;

export const CatchUpMode = literals(CATCH_UP_MODES, { description: CATCH_UP_DESCRIPTION });
export type CatchUpModeT = Static<typeof CatchUpMode>;

export const BackoffType = literals(BACKOFF_TYPES, { description: BACKOFF_DESCRIPTION });

/** Every default of the scheduling fields, once: the create schema and normalize() both read it. */
export const SCHEDULING_DEFAULTS = {
  schedules: [] as ScheduleT[],
  catch_up_window: 0,
  catch_up: 'ONE' as CatchUpModeT,
  overlap_policy: 'SKIP' as OverlapPolicyT,
  max_concurrent: 1,
  retry_backoff: { type: 'FIXED' as Static<typeof BackoffType>, max_delay: 3600, jitter: 0 },
  on_success: [] as number[],
  on_failure: [] as number[],
  on_finish: [] as number[],
};

function retryBackoffSchema(withDefaults: boolean) {
  const D = SCHEDULING_DEFAULTS.retry_backoff;
  const def = <V>(v: V) => (withDefaults ? { default: v } : {});
  return Type.Object(
    {
      type: Type.Optional(literals(BACKOFF_TYPES, { description: BACKOFF_DESCRIPTION, ...def(D.type) })),
      max_delay: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_RETRY_DELAY_S, description: 'EXPONENTIAL: no retry waits longer than this many seconds (FIXED waits retry_delay)', ...def(D.max_delay) })),
      jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Fraction of each delay taken off at random (0: none, 0.5: 50-100% of it)', ...def(D.jitter) })),
    },
    { additionalProperties: false, description: 'How long to wait between attempts (with retries and retry_delay)', ...def({}) },
  );
}

const chainList = (what: string, withDefaults: boolean) =>
  Type.Array(Type.Integer({ minimum: 1 }), {
    maxItems: MAX_CHAIN_TARGETS,
    uniqueItems: true,
    description: `Ids of cron jobs to start, each as a child job, when this one ${what}`,
    ...(withDefaults ? { default: [] } : {}),
  });

/** The new top-level fields of cronjob.create (with defaults) or cronjob.update (without). */
export function schedulingFields(create: boolean) {
  const D = SCHEDULING_DEFAULTS;
  const def = <V>(v: V) => (create ? { default: v } : {});
  return {
    schedules: Type.Optional(
      Type.Array(scheduleSchema(true), {
        maxItems: MAX_SCHEDULES,
        description: 'More schedules beside `schedule`: the job runs at the times of all of them (once when several meet); replaced as a whole on update',
        ...def(D.schedules),
      }),
    ),
    catch_up_window: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_CATCH_UP_WINDOW_S, description: 'Seconds back from start-up in which missed runs are caught up; 0: none (as TrueNAS)', ...def(D.catch_up_window) }),
    ),
    catch_up: Type.Optional(literals(CATCH_UP_MODES, { description: CATCH_UP_DESCRIPTION, ...def(D.catch_up) })),
    overlap_policy: Type.Optional(literals(OVERLAP_POLICIES, { description: OVERLAP_DESCRIPTION, ...def(D.overlap_policy) })),
    max_concurrent: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CONCURRENT, description: 'Runs at once with overlap_policy ALLOW', ...def(D.max_concurrent) })),
    retry_backoff: Type.Optional(retryBackoffSchema(create)),
    on_success: Type.Optional(chainList('succeeds', create)),
    on_failure: Type.Optional(chainList('fails', create)),
    on_finish: Type.Optional(chainList('ends, whatever the outcome', create)),
  };
}

export const SchedulingCreate = Type.Object(schedulingFields(true), { additionalProperties: false });
export const SchedulingUpdate = Type.Object(schedulingFields(false), { additionalProperties: false });
export type SchedulingCreateT = Static<typeof SchedulingCreate>;
export type SchedulingUpdateT = Static<typeof SchedulingUpdate>;

export const RetryBackoff = Type.Object({ type: BackoffType, max_delay: Type.Integer(), jitter: Type.Number() });
export type RetryBackoffT = Static<typeof RetryBackoff>;

/** The fields as stored and returned in query results (every one present). */
export const SchedulingEntryFields = {
  schedules: Type.Array(Schedule),
  catch_up_window: Type.Integer(),
  catch_up: CatchUpMode,
  overlap_policy: OverlapPolicy,
  max_concurrent: Type.Integer(),
  retry_backoff: RetryBackoff,
  on_success: Type.Array(Type.Integer()),
  on_failure: Type.Array(Type.Integer()),
  on_finish: Type.Array(Type.Integer()),
};
export const SchedulingEntry = Type.Object(SchedulingEntryFields);
export type SchedulingData = Static<typeof SchedulingEntry>;
export type ChainField = (typeof CHAIN_FIELDS)[number];

function fullSchedule(s: Partial<ScheduleT>): ScheduleT {
  const out: ScheduleT = { ...DEFAULT_SCHEDULE };
  for (const [k, v] of Object.entries(s)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Create input with every default applied (ajv already did it for calls; this keeps types honest). */
export function normalizeScheduling(d: Partial<SchedulingCreateT>): SchedulingData {
  const D = SCHEDULING_DEFAULTS;
  return {
    schedules: (d.schedules ?? D.schedules).map(fullSchedule),
    catch_up_window: d.catch_up_window ?? D.catch_up_window,
    catch_up: d.catch_up ?? D.catch_up,
    overlap_policy: d.overlap_policy ?? D.overlap_policy,
    max_concurrent: d.max_concurrent ?? D.max_concurrent,
    retry_backoff: { ...D.retry_backoff, ...definedOnly(d.retry_backoff ?? {}) },
    on_success: [...(d.on_success ?? D.on_success)],
    on_failure: [...(d.on_failure ?? D.on_failure)],
    on_finish: [...(d.on_finish ?? D.on_finish)],
  };
}

/** Update semantics: given fields replace stored ones; retry_backoff merges field by field. */
export function mergeScheduling(old: SchedulingData, patch: SchedulingUpdateT): SchedulingData {
  const { retry_backoff, schedules, ...rest } = patch;
  const merged: SchedulingData = { ...old, ...definedOnly(rest), retry_backoff: { ...old.retry_backoff, ...definedOnly(retry_backoff ?? {}) } };
  if (schedules !== undefined) merged.schedules = schedules.map(fullSchedule);
  for (const f of CHAIN_FIELDS) merged[f] = [...merged[f]];
  return merged;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
