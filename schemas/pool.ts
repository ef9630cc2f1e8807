// Wire shapes of pool.* (MODULES.md 5.1-5.4): the pool entry with its vdev nodes and scan, and
// the arguments of pool.create, pool.export and pool.import_pool. Field names, types and
// defaults follow truenas/middleware master (api/v27_0_0/pool.py, pool_scrub.py PoolScan, the
// legacy vdev node of plugins/pool_/topology.py). The ZFS driver's mappers produce these types.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { WireDate } from './util.js';

/** `s` or null; `options` (a default, a description) go on the union, where ajv looks for them. */
export const Nullable = <T extends TSchema>(s: T, options: Record<string, unknown> = {}) => Type.Union([s, Type.Null()], options);

export const PoolScan = Type.Object({
  function: Type.Union([Type.Literal('SCRUB'), Type.Literal('RESILVER')]),
  state: Type.Union([Type.Literal('SCANNING'), Type.Literal('FINISHED'), Type.Literal('CANCELED')]),
  start_time: Nullable(WireDate({ integer: true })),
  end_time: Nullable(WireDate({ integer: true })),
  percentage: Type.Number({ minimum: 0 }),
  bytes_to_process: Nullable(Type.Integer({ minimum: 0 })),
  bytes_processed: Nullable(Type.Integer({ minimum: 0 })),
  bytes_issued: Nullable(Type.Integer({ minimum: 0 })),
  pause: Nullable(WireDate({ integer: true })),
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

/**
 * A vdev node whose children are checked `depth` levels down. Written out per level instead of
 * as a recursive schema: every method's result is compiled by the daemon's one ajv, where a
 * recursive schema's $id could exist only once. ZFS trees are shallow (top vdev, a replacing or
 * spare group, the disk), so four levels cover every real one.
 */
function vdevNode(depth: number): TSchema {
  return Type.Object({
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
    children: Type.Array(depth > 0 ? vdevNode(depth - 1) : Type.Unknown()),
  }, { additionalProperties: false });
}

export interface VdevNodeT {
  name: string;
  type: Static<typeof VdevType>;
  guid: string | null;
  status: string;
  path: string | null;
  device: string | null;
  disk: string | null;
  unavail_disk: Record<string, never> | null;
  stats: Static<typeof VdevStats>;
  children: VdevNodeT[];
}

export const VdevNode = Type.Unsafe<VdevNodeT>(vdevNode(3));
const VdevList = Type.Array(VdevNode);

export const PoolTopology = Type.Object({
  data: VdevList,
  log: VdevList,
  cache: VdevList,
  spare: VdevList,
  special: VdevList,
  dedup: VdevList,
}, { additionalProperties: false });
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

// ---- pool.create ----

const DiskName = Type.String({ minLength: 1, maxLength: 255, description: 'A disk name as disk.query lists it (sda, nvme0n1, loop3)' });
const Disks = Type.Array(DiskName, { description: 'Disks of this vdev' });
const vdev = (types: readonly string[]) => Type.Object({
  type: Type.Unsafe<string>({ type: 'string', enum: [...types] }),
  disks: Disks,
}, { additionalProperties: false });

export const DATA_VDEV_TYPES = ['RAIDZ1', 'RAIDZ2', 'RAIDZ3', 'MIRROR', 'STRIPE'] as const;
export const DRAID_VDEV_TYPES = ['DRAID1', 'DRAID2', 'DRAID3'] as const;

const DataVdev = Type.Object({
  type: Type.Unsafe<string>({ type: 'string', enum: [...DATA_VDEV_TYPES, ...DRAID_VDEV_TYPES] }),
  disks: Disks,
  draid_data_disks: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
  draid_spare_disks: Type.Optional(Type.Integer({ minimum: 0 })),
}, { additionalProperties: false });

export const PoolCreateTopology = Type.Object({
  data: Type.Array(DataVdev, { minItems: 1, description: 'All vdevs must be of the same type' }),
  special: Type.Array(DataVdev, { default: [] }),
  dedup: Type.Array(vdev(['MIRROR', 'STRIPE']), { default: [] }),
  cache: Type.Array(vdev(['STRIPE']), { default: [] }),
  log: Type.Array(vdev(['MIRROR', 'STRIPE']), { default: [] }),
  spares: Type.Array(DiskName, { default: [] }),
}, { additionalProperties: false });
export type PoolCreateTopologyT = Static<typeof PoolCreateTopology>;

export const EncryptionOptions = Type.Object({
  generate_key: Type.Boolean({ default: false }),
  pbkdf2iters: Type.Integer({ minimum: 1300000, default: 1300000 }),
  passphrase: Nullable(Type.String({ minLength: 8, secret: true }), { default: null }),
  key: Nullable(Type.String({ minLength: 64, maxLength: 64, secret: true }), { default: null }),
}, { additionalProperties: false, default: {} });

export const PoolCreate = Type.Object({
  name: Type.String({ minLength: 1 }),
  encryption: Type.Boolean({ default: false }),
  encryption_options: EncryptionOptions,
  dedup_table_quota: Type.Union([Type.Literal('AUTO'), Type.Literal('CUSTOM'), Type.Null()], { default: 'AUTO' }),
  dedup_table_quota_value: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { default: null }),
  deduplication: Type.Union([Type.Literal('ON'), Type.Literal('VERIFY'), Type.Literal('OFF'), Type.Null()], { default: null }),
  checksum: Type.Union([...['ON', 'OFF', 'FLETCHER2', 'FLETCHER4', 'SHA256', 'SHA512', 'SKEIN', 'EDONR', 'BLAKE3'].map((c) => Type.Literal(c)), Type.Null()], { default: null }),
  topology: PoolCreateTopology,
  allow_duplicate_serials: Type.Boolean({ default: false }),
  all_sed: Type.Boolean({ default: false }),
  force_topology: Type.Boolean({ default: false, description: 'Allow data vdevs of different types or widths, and wider vdevs than recommended' }),
}, { additionalProperties: false });
export type PoolCreateT = Static<typeof PoolCreate>;

// ---- pool.export / import ----

export const PoolExportOptions = Type.Object({
  cascade: Type.Boolean({ default: false }),
  restart_services: Type.Boolean({ default: false }),
  destroy: Type.Boolean({ default: false, description: 'PERMANENTLY destroy the pool and its data' }),
}, { additionalProperties: false });

export const PoolImportFindItem = Type.Object({
  name: Type.String(),
  guid: Type.String(),
  status: Type.String(),
  hostname: Type.String(),
}, { additionalProperties: false });

export const PoolImportPool = Type.Object({
  guid: Type.String({ minLength: 1, pattern: '^[0-9]+$' }),
  name: Nullable(Type.String({ minLength: 1 }), { default: null, description: 'Import under this new name' }),
}, { additionalProperties: false });
