// Wire shapes of pool.scrub.* (MODULES.md 5.5; truenas/middleware master api/v27_0_0/pool_scrub.py):
// the scheduled scrub task entry and its create / update arguments, and the pool.scan event.
import { Type, type Static } from '@sinclair/typebox';
import { PoolScan } from './pool.js';
import { SCRUB_SCHEDULE_DEFAULTS, StoredSchedule, taskSchedule } from './task_schedule.js';

function fields(create: boolean) {
  const def = <V>(v: V) => (create ? { default: v } : {});
  return {
    pool: Type.Integer({ minimum: 1, description: 'Id of the pool (pool.query)' }),
    threshold: Type.Integer({ minimum: 0, description: 'Days since the last scrub before a scheduled one starts', ...def(35) }),
    description: Type.String({ maxLength: 200, ...def('') }),
    schedule: taskSchedule(SCRUB_SCHEDULE_DEFAULTS, false, create),
    enabled: Type.Boolean(def(true)),
  };
}

const create = fields(true);
export const PoolScrubCreate = Type.Object({
  pool: create.pool,
  threshold: Type.Optional(create.threshold),
  description: Type.Optional(create.description),
  schedule: Type.Optional(create.schedule),
  enabled: Type.Optional(create.enabled),
}, { additionalProperties: false });
export type PoolScrubCreateT = Static<typeof PoolScrubCreate>;

const update = fields(false);
export const PoolScrubUpdate = Type.Object({
  pool: Type.Optional(update.pool),
  threshold: Type.Optional(update.threshold),
  description: Type.Optional(update.description),
  schedule: Type.Optional(update.schedule),
  enabled: Type.Optional(update.enabled),
}, { additionalProperties: false });
export type PoolScrubUpdateT = Static<typeof PoolScrubUpdate>;

export const PoolScrubEntry = Type.Object({
  id: Type.Integer(),
  pool: Type.Integer(),
  pool_name: Type.String(),
  threshold: Type.Integer(),
  description: Type.String(),
  schedule: StoredSchedule,
  enabled: Type.Boolean(),
}, { additionalProperties: false });
export type PoolScrubEntryT = Static<typeof PoolScrubEntry>;

export const ScrubAction = Type.Unsafe<'START' | 'STOP' | 'PAUSE'>({ type: 'string', enum: ['START', 'STOP', 'PAUSE'] });

/** `fields` of the pool.scan event. */
export const PoolScanEvent = Type.Object({ name: Type.String(), scan: PoolScan }, { additionalProperties: false });
