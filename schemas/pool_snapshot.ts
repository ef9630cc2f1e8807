// Wire shapes of pool.snapshot.* (MODULES.md 5.7; truenas/middleware master
// api/v27_0_0/pool_snapshot.py): the query item, and the arguments of create (with a name or a
// naming schema), delete, rollback, clone, hold and release.
import { Type, type Static } from '@sinclair/typebox';

export const SnapshotProperty = Type.Object({
  value: Type.String(),
  rawvalue: Type.String(),
  source: Type.Union(['NONE', 'DEFAULT', 'LOCAL', 'TEMPORARY', 'INHERITED', 'RECEIVED'].map((s) => Type.Literal(s))),
  parsed: Type.Unknown(),
}, { additionalProperties: false });

export const SnapshotEntry = Type.Object({
  id: Type.String(),
  name: Type.String(),
  pool: Type.String(),
  type: Type.Literal('SNAPSHOT'),
  snapshot_name: Type.String(),
  dataset: Type.String(),
  createtxg: Type.String(),
  properties: Type.Record(Type.String(), SnapshotProperty),
  holds: Type.Optional(Type.Object({ truenas: Type.Optional(Type.Integer()) }, { additionalProperties: false })),
}, { additionalProperties: false });
export type SnapshotEntryT = Static<typeof SnapshotEntry>;

export const PoolSnapshotCreate = Type.Object({
  dataset: Type.String({ minLength: 1 }),
  name: Type.Optional(Type.String({ minLength: 1, description: 'The snapshot name (after the @); or give naming_schema' })),
  naming_schema: Type.Optional(Type.String({ minLength: 1, description: 'strftime-style name (%Y %m %d %H %M needed), e.g. auto-%Y-%m-%d_%H-%M' })),
  recursive: Type.Boolean({ default: false }),
  exclude: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  vmware_sync: Type.Boolean({ default: false }),
  suspend_vms: Type.Boolean({ default: false }),
  properties: Type.Record(Type.String(), Type.String(), { default: {} }),
}, { additionalProperties: false });
export type PoolSnapshotCreateT = Static<typeof PoolSnapshotCreate>;

export const PoolSnapshotDeleteOptions = Type.Object({
  defer: Type.Boolean({ default: false }),
  recursive: Type.Boolean({ default: false }),
}, { additionalProperties: false });

export const PoolSnapshotRollbackOptions = Type.Object({
  recursive: Type.Boolean({ default: false, description: 'Destroy snapshots newer than the one rolled back to' }),
  recursive_clones: Type.Boolean({ default: false, description: 'As recursive, and also destroy their clones' }),
  force: Type.Boolean({ default: false, description: 'Force unmount of any clones' }),
  recursive_rollback: Type.Boolean({ default: false, description: 'Roll back every child dataset to its snapshot of the same name' }),
}, { additionalProperties: false });

export const PoolSnapshotClone = Type.Object({
  snapshot: Type.String({ minLength: 1 }),
  dataset_dst: Type.String({ minLength: 1 }),
  dataset_properties: Type.Record(Type.String(), Type.String(), { default: {} }),
}, { additionalProperties: false });

export const RecursiveOption = Type.Object({
  recursive: Type.Boolean({ default: false }),
}, { additionalProperties: false });
