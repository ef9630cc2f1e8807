// The TrueNAS shapes of MODULES.md 5 that the mapping functions produce, as TypeBox schemas
// (the storage module's result schemas can be built from these; the types are derived from
// them, never written twice). Field names and types follow truenas/middleware master:
// api/v27_0_0/pool.py, pool_scrub.py (PoolScan), pool_dataset.py, pool_snapshot.py, and the
// legacy vdev node of plugins/pool_/topology.py.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);

/** A datetime on the wire: {"$date": epoch ms}. */
export const DateValue = Type.Object({ $date: Type.Integer() }, { additionalProperties: false });
export type DateValueT = Static<typeof DateValue>;

export const PoolScan = Type.Object({
  function: Type.Union([Type.Literal('SCRUB'), Type.Literal('RESILVER')]),
  state: Type.Union([Type.Literal('SCANNING'), Type.Literal('FINISHED'), Type.Literal('CANCELED')]),
  start_time: Nullable(DateValue),
  end_time: Nullable(DateValue),
  percentage: Type.Number({ minimum: 0 }),
  bytes_to_process: Nullable(Type.Integer({ minimum: 0 })),
  bytes_processed: Nullable(Type.Integer({ minimum: 0 })),
  bytes_issued: Nullable(Type.Integer({ minimum: 0 })),
  pause: Nullable(DateValue),
  errors: Type.Integer({ minimum: 0 }),
  total_secs_left: Nullable(Type.Integer({ minimum: 0 })),
}, { additionalProperties: false });
export type PoolScanT = Static<typeof PoolScan>;

export const VdevStats = Type.Object({
  timestamp: Type.Integer(),
  read_errors: Type.Integer({ minimum: 0 }),
  write_errors: Type.Integer({ minimum: 0 }),
  checksum_errors: Type.Integer({ minimum: 0 }),
  ops: Type.Array(Type.Integer(), { minItems: 7, maxItems: 7 }),
  bytes: Type.Array(Type.Integer(), { minItems: 7, maxItems: 7 }),
  size: Type.Integer({ minimum: 0 }),
  allocated: Type.Integer({ minimum: 0 }),
  fragmentation: Type.Integer({ minimum: 0 }),
  self_healed: Type.Integer({ minimum: 0 }),
  configured_ashift: Type.Integer({ minimum: 0 }),
  logical_ashift: Type.Integer({ minimum: 0 }),
  physical_ashift: Type.Integer({ minimum: 0 }),
}, { additionalProperties: false });

export const VdevType = Type.Union(['DISK', 'FILE', 'MIRROR', 'RAIDZ1', 'RAIDZ2', 'RAIDZ3', 'DRAID', 'SPARE', 'REPLACING', 'MISSING', 'INDIRECT', 'HOLE'].map((t) => Type.Literal(t)));

export const VdevNode = Type.Recursive((Self) => Type.Object({
  name: Type.String(),
  type: VdevType,
  /** A decimal string; null where the installed ZFS does not reveal it (zfs-fuse cache and spare devices). */
  guid: Nullable(Type.String({ pattern: '^[0-9]+$' })),
  status: Type.String(),
  path: Nullable(Type.String()),
  device: Nullable(Type.String()),
  disk: Nullable(Type.String()),
  unavail_disk: Nullable(Type.Object({})),
  stats: VdevStats,
  children: Type.Array(Self),
}, { additionalProperties: false }), { $id: 'MidshipVdevNode' });
export type VdevNodeT = Static<typeof VdevNode>;

// The node is defined once ($defs) and referenced six times: a JSON Schema may hold one
// definition per $id.
const VdevList = Type.Array(Type.Ref(VdevNode));
export const PoolTopology = Type.Object({
  data: VdevList,
  log: VdevList,
  cache: VdevList,
  spare: VdevList,
  special: VdevList,
  dedup: VdevList,
}, { additionalProperties: false, $defs: { VdevNode } });
export type PoolTopologyT = Static<typeof PoolTopology>;

/** {parsed, rawvalue, value, source} as pool.query's autotrim. */
export const PoolProperty = Type.Object({
  parsed: Type.Unknown(),
  rawvalue: Nullable(Type.String()),
  value: Nullable(Type.String()),
  source: Type.String(),
}, { additionalProperties: false });

export const PoolEntry = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  guid: Type.String({ pattern: '^[0-9]+$' }),
  all_sed: Nullable(Type.Boolean()),
  status: Type.String(),
  path: Type.String(),
  scan: Nullable(PoolScan),
  expand: Nullable(Type.Object({})),
  is_upgraded: Type.Boolean(),
  healthy: Type.Boolean(),
  warning: Type.Boolean(),
  status_code: Nullable(Type.String()),
  status_detail: Nullable(Type.String()),
  size: Nullable(Type.Integer()),
  allocated: Nullable(Type.Integer()),
  free: Nullable(Type.Integer()),
  freeing: Nullable(Type.Integer()),
  dedup_table_size: Nullable(Type.Integer()),
  dedup_table_quota: Nullable(Type.String()),
  fragmentation: Nullable(Type.String()),
  size_str: Nullable(Type.String()),
  allocated_str: Nullable(Type.String()),
  free_str: Nullable(Type.String()),
  freeing_str: Nullable(Type.String()),
  autotrim: PoolProperty,
  topology: Nullable(PoolTopology),
}, { additionalProperties: false });
export type PoolEntryT = Static<typeof PoolEntry>;

/** One dataset property: {parsed, rawvalue, value, source, source_info}. */
export const DatasetProperty = Type.Object({
  parsed: Type.Unknown(),
  rawvalue: Nullable(Type.String()),
  value: Nullable(Type.String()),
  source: Nullable(Type.String()),
  source_info: Type.Unknown(),
}, { additionalProperties: false });
export type DatasetPropertyT = Static<typeof DatasetProperty>;

/**
 * A pool.dataset.query item. The fixed fields are listed; every mapped ZFS property is an
 * additional DatasetProperty field (compression, atime, used, ...), as in TrueNAS where the
 * model allows extra fields.
 */
export const DatasetEntry = Type.Recursive((Self) => Type.Object({
  id: Type.String(),
  name: Type.String(),
  pool: Type.String(),
  type: Type.Union([Type.Literal('FILESYSTEM'), Type.Literal('VOLUME')]),
  encrypted: Type.Boolean(),
  encryption_root: Nullable(Type.String()),
  key_loaded: Nullable(Type.Boolean()),
  locked: Type.Boolean(),
  mountpoint: Nullable(Type.String()),
  user_properties: Type.Record(Type.String(), DatasetProperty),
  children: Type.Array(Self),
}, { additionalProperties: DatasetProperty }));
export type DatasetEntryT = Static<typeof DatasetEntry> & { [property: string]: unknown };

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
