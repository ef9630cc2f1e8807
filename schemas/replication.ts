// Wire shapes of replication.* (MODULES.md 5.8; truenas/middleware master
// api/v27_0_0/replication.py): the task with every TrueNAS field and its defaults, its state,
// and the run arguments. The checks JSON Schema cannot make (direction, transport, retention)
// are the module's (methods/replication/validate.ts), with TrueNAS's messages.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Nullable } from './pool.js';
import { LIFETIME_UNITS, PoolSnapshotTaskEntry } from './pool_snapshottask.js';
import { StoredSchedule, TASK_SCHEDULE_DEFAULTS, taskSchedule } from './task_schedule.js';

const choice = <T extends string>(values: readonly T[], opts: Record<string, unknown> = {}) => Type.Unsafe<T>({ type: 'string', enum: [...values], ...opts });
const nullableChoice = <T extends string>(values: readonly T[], opts: Record<string, unknown> = {}) => Type.Unsafe<T | null>({ anyOf: [{ type: 'string', enum: [...values] }, { type: 'null' }], ...opts });

export const TRANSPORTS = ['SSH', 'SSH+NETCAT', 'LOCAL'] as const;
export const RETENTION_POLICIES = ['SOURCE', 'CUSTOM', 'NONE'] as const;

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Lifetime = Type.Object({
  schedule: Type.Record(Type.String(), Type.String()),
  lifetime_value: Type.Integer({ minimum: 1 }),
  lifetime_unit: choice(LIFETIME_UNITS),
}, { additionalProperties: false });

/**
 * The fields of a task: for `create` with TrueNAS's defaults and its required ones required,
 * for `update` all optional, for `entry` all present.
 */
function fields(mode: 'create' | 'update' | 'entry'): Record<string, TSchema> {
  const create = mode === 'create';
  const def = (v: unknown) => (create ? { default: v } : {});
  const req = <T extends TSchema>(s: T): TSchema => (mode === 'update' ? Type.Optional(s) : s);
  const opt = <T extends TSchema>(s: T): TSchema => (mode === 'entry' ? s : Type.Optional(s));
  return {
    name: req(Type.String({ minLength: 1, maxLength: 200 })),
    direction: req(choice(['PUSH', 'PULL'])),
    transport: req(choice(TRANSPORTS)),
    ssh_credentials: opt(Nullable(Type.Integer(), def(null))),
    netcat_active_side: opt(nullableChoice(['LOCAL', 'REMOTE'], def(null))),
    netcat_active_side_listen_address: opt(Nullable(Type.String(), def(null))),
    netcat_active_side_port_min: opt(Nullable(Port, def(null))),
    netcat_active_side_port_max: opt(Nullable(Port, def(null))),
    netcat_passive_side_connect_address: opt(Nullable(Type.String(), def(null))),
    sudo: opt(Type.Boolean(def(false))),
    source_datasets: req(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    target_dataset: req(Type.String({ minLength: 1 })),
    recursive: req(Type.Boolean()),
    exclude: opt(Type.Array(Type.String({ minLength: 1 }), def([]))),
    properties: opt(Type.Boolean(def(true))),
    properties_exclude: opt(Type.Array(Type.String({ minLength: 1 }), def([]))),
    properties_override: opt(Type.Record(Type.String(), Type.String(), def({}))),
    replicate: opt(Type.Boolean(def(false))),
    encryption: opt(Type.Boolean(def(false))),
    encryption_inherit: opt(Nullable(Type.Boolean(), def(null))),
    encryption_key: opt(Nullable(Type.String({ secret: true }), def(null))),
    encryption_key_format: opt(nullableChoice(['HEX', 'PASSPHRASE'], def(null))),
    encryption_key_location: opt(Nullable(Type.String(), def(null))),
    periodic_snapshot_tasks: opt(Type.Array(Type.Integer(), { uniqueItems: true, ...def([]) })),
    naming_schema: opt(Type.Array(Type.String({ minLength: 1 }), def([]))),
    also_include_naming_schema: opt(Type.Array(Type.String({ minLength: 1 }), def([]))),
    name_regex: opt(Nullable(Type.String({ minLength: 1 }), def(null))),
    auto: req(Type.Boolean()),
    schedule: opt(Nullable(taskSchedule(TASK_SCHEDULE_DEFAULTS, true, create), def(null))),
    restrict_schedule: opt(Nullable(taskSchedule(TASK_SCHEDULE_DEFAULTS, true, create), def(null))),
    only_matching_schedule: opt(Type.Boolean(def(false))),
    allow_from_scratch: opt(Type.Boolean(def(false))),
    readonly: opt(choice(['SET', 'REQUIRE', 'IGNORE'], def('SET'))),
    hold_pending_snapshots: opt(Type.Boolean(def(false))),
    retention_policy: req(choice(RETENTION_POLICIES)),
    lifetime_value: opt(Nullable(Type.Integer({ minimum: 1 }), def(null))),
    lifetime_unit: opt(nullableChoice(LIFETIME_UNITS, def(null))),
    lifetimes: opt(Type.Array(Lifetime, def([]))),
    compression: opt(nullableChoice(['LZ4', 'PIGZ', 'PLZIP'], def(null))),
    speed_limit: opt(Nullable(Type.Integer({ minimum: 1 }), def(null))),
    large_block: opt(Type.Boolean(def(true))),
    embed: opt(Type.Boolean(def(false))),
    compressed: opt(Type.Boolean(def(true))),
    retries: opt(Type.Integer({ minimum: 1, ...def(5) })),
    logging_level: opt(nullableChoice(['DEBUG', 'INFO', 'WARNING', 'ERROR'], def(null))),
    enabled: opt(Type.Boolean(def(true))),
  };
}

export const ReplicationCreate = Type.Object(fields('create'), { additionalProperties: false });
export const ReplicationUpdate = Type.Object(fields('update'), { additionalProperties: false });

/** A task as stored: every field present (create's defaults applied), schedules as stored. */
export interface ReplicationData {
  name: string;
  direction: 'PUSH' | 'PULL';
  transport: (typeof TRANSPORTS)[number];
  ssh_credentials: number | null;
  netcat_active_side: 'LOCAL' | 'REMOTE' | null;
  netcat_active_side_listen_address: string | null;
  netcat_active_side_port_min: number | null;
  netcat_active_side_port_max: number | null;
  netcat_passive_side_connect_address: string | null;
  sudo: boolean;
  source_datasets: string[];
  target_dataset: string;
  recursive: boolean;
  exclude: string[];
  properties: boolean;
  properties_exclude: string[];
  properties_override: Record<string, string>;
  replicate: boolean;
  encryption: boolean;
  encryption_inherit: boolean | null;
  encryption_key: string | null;
  encryption_key_format: 'HEX' | 'PASSPHRASE' | null;
  encryption_key_location: string | null;
  periodic_snapshot_tasks: number[];
  naming_schema: string[];
  also_include_naming_schema: string[];
  name_regex: string | null;
  auto: boolean;
  schedule: Static<typeof StoredSchedule> | null;
  restrict_schedule: Static<typeof StoredSchedule> | null;
  only_matching_schedule: boolean;
  allow_from_scratch: boolean;
  readonly: 'SET' | 'REQUIRE' | 'IGNORE';
  hold_pending_snapshots: boolean;
  retention_policy: (typeof RETENTION_POLICIES)[number];
  lifetime_value: number | null;
  lifetime_unit: (typeof LIFETIME_UNITS)[number] | null;
  lifetimes: Array<Static<typeof Lifetime>>;
  compression: 'LZ4' | 'PIGZ' | 'PLZIP' | null;
  speed_limit: number | null;
  large_block: boolean;
  embed: boolean;
  compressed: boolean;
  retries: number;
  logging_level: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | null;
  enabled: boolean;
}

export const ReplicationProgress = Type.Object({
  dataset: Type.String(),
  snapshot: Type.String(),
  snapshots_sent: Type.Integer(),
  snapshots_total: Type.Integer(),
  bytes_sent: Type.Integer(),
  bytes_total: Type.Integer(),
  current: Type.Integer(),
  total: Type.Integer(),
}, { additionalProperties: false });

export const ReplicationState = Type.Object({
  state: choice(['PENDING', 'WAITING', 'RUNNING', 'FINISHED', 'ERROR', 'HOLD']),
  datetime: Type.Optional(Type.Unknown()),
  error: Type.Optional(Nullable(Type.String())),
  warnings: Type.Optional(Type.Array(Type.String())),
  last_snapshot: Type.Optional(Nullable(Type.String())),
  progress: Type.Optional(ReplicationProgress),
}, { additionalProperties: false });
export type ReplicationStateT = Static<typeof ReplicationState>;

export const ReplicationEntry = Type.Object({
  id: Type.Integer(),
  ...fields('entry'),
  schedule: Nullable(StoredSchedule),
  restrict_schedule: Nullable(StoredSchedule),
  ssh_credentials: Nullable(Type.Object({})),
  periodic_snapshot_tasks: Type.Array(PoolSnapshotTaskEntry),
  state: ReplicationState,
  job: Nullable(Type.Object({}, { additionalProperties: true })),
  has_encrypted_dataset_keys: Type.Boolean(),
}, { additionalProperties: false });

export const ReplicationRunOptions = Type.Object({
  really_run: Type.Boolean({ default: true }),
}, { additionalProperties: false });
