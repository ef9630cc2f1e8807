// Wire shapes of pool.snapshottask.* (truenas/middleware master api/v27_0_0/pool_snapshottask.py):
// periodic snapshot tasks with their schedule window and snapshot lifetime.
import { Type, type Static } from '@sinclair/typebox';
import { StoredSchedule, TASK_SCHEDULE_DEFAULTS, taskSchedule } from './task_schedule.js';

export const LIFETIME_UNITS = ['HOUR', 'DAY', 'WEEK', 'MONTH', 'YEAR'] as const;
export const LifetimeUnit = Type.Unsafe<(typeof LIFETIME_UNITS)[number]>({ type: 'string', enum: [...LIFETIME_UNITS] });

function fields(create: boolean) {
  const def = <V>(v: V) => (create ? { default: v } : {});
  return {
    dataset: Type.String({ minLength: 1 }),
    recursive: Type.Boolean(def(false)),
    exclude: Type.Array(Type.String({ minLength: 1 }), def([])),
    lifetime_value: Type.Integer({ minimum: 1, ...def(2) }),
    lifetime_unit: Type.Unsafe<(typeof LIFETIME_UNITS)[number]>({ type: 'string', enum: [...LIFETIME_UNITS], ...def('WEEK') }),
    naming_schema: Type.String({ minLength: 1, description: 'strftime-style snapshot name; %Y %m %d %H %M are needed', ...def('auto-%Y-%m-%d_%H-%M') }),
    allow_empty: Type.Boolean(def(true)),
    schedule: taskSchedule(TASK_SCHEDULE_DEFAULTS, true, create),
    enabled: Type.Boolean(def(true)),
  };
}

const c = fields(true);
export const PoolSnapshotTaskCreate = Type.Object({
  dataset: c.dataset,
  recursive: Type.Optional(c.recursive),
  exclude: Type.Optional(c.exclude),
  lifetime_value: Type.Optional(c.lifetime_value),
  lifetime_unit: Type.Optional(c.lifetime_unit),
  naming_schema: Type.Optional(c.naming_schema),
  allow_empty: Type.Optional(c.allow_empty),
  schedule: Type.Optional(c.schedule),
  enabled: Type.Optional(c.enabled),
}, { additionalProperties: false });
export type PoolSnapshotTaskCreateT = Static<typeof PoolSnapshotTaskCreate>;

const u = fields(false);
export const PoolSnapshotTaskUpdate = Type.Object({
  dataset: Type.Optional(u.dataset),
  recursive: Type.Optional(u.recursive),
  exclude: Type.Optional(u.exclude),
  lifetime_value: Type.Optional(u.lifetime_value),
  lifetime_unit: Type.Optional(u.lifetime_unit),
  naming_schema: Type.Optional(u.naming_schema),
  allow_empty: Type.Optional(u.allow_empty),
  schedule: Type.Optional(u.schedule),
  enabled: Type.Optional(u.enabled),
  fixate_removal_date: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export type PoolSnapshotTaskUpdateT = Static<typeof PoolSnapshotTaskUpdate>;

export const SnapshotTaskState = Type.Object({
  state: Type.String(),
  datetime: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.String()),
  last_snapshot: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});

export const PoolSnapshotTaskEntry = Type.Object({
  id: Type.Integer(),
  dataset: Type.String(),
  recursive: Type.Boolean(),
  exclude: Type.Array(Type.String()),
  lifetime_value: Type.Integer(),
  lifetime_unit: Type.String(),
  naming_schema: Type.String(),
  allow_empty: Type.Boolean(),
  schedule: StoredSchedule,
  enabled: Type.Boolean(),
  vmware_sync: Type.Boolean(),
  state: SnapshotTaskState,
}, { additionalProperties: false });
export type PoolSnapshotTaskEntryT = Static<typeof PoolSnapshotTaskEntry>;

export const SnapshotTaskDeleteOptions = Type.Object({
  fixate_removal_date: Type.Boolean({ default: false }),
}, { additionalProperties: false });
