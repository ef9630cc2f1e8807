// Wire shapes of pool.dataset.* (MODULES.md 5.6): the query item with properties as
// {parsed, rawvalue, value, source, source_info}, and the create / update / delete arguments
// (truenas/middleware master api/v27_0_0/pool_dataset.py). One create object carries both
// FILESYSTEM and VOLUME fields, as TrueNAS's discriminated union does; the fields that do not
// belong to the chosen type are refused by the module with "This field is not valid for ...".
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Nullable } from './pool.js';

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
 * model allows extra fields. `children` holds items of the same shape (TrueNAS's model says
 * `list`); pool.dataset.details adds counters, so extra non-property fields are allowed there.
 */
export const DatasetEntry = Type.Object({
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
  children: Type.Array(Type.Unknown()),
}, { additionalProperties: DatasetProperty });
export type DatasetEntryT = Static<typeof DatasetEntry> & { [property: string]: unknown };

const onOffInherit = Type.Unsafe<'ON' | 'OFF' | 'INHERIT'>({ type: 'string', enum: ['ON', 'OFF', 'INHERIT'] });
const choice = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });
const percentOrInherit = Type.Union([Type.Integer({ minimum: 0, maximum: 100 }), Type.Literal('INHERIT')]);
/** quota / refquota: at least 1 GiB, or 0 / null for none. */
const Quota = Type.Union([Type.Integer({ minimum: 1024 ** 3 }), Type.Literal(0), Type.Null()]);

export const COMPRESSION_CHOICES = [
  'ON', 'OFF', 'LZ4', 'GZIP', 'GZIP-1', 'GZIP-9', 'ZSTD', 'ZSTD-FAST', 'ZLE', 'LZJB',
  ...Array.from({ length: 19 }, (_, i) => `ZSTD-${i + 1}`),
  ...[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 500, 1000].map((n) => `ZSTD-FAST-${n}`),
] as const;
export const CHECKSUM_CHOICES = ['ON', 'OFF', 'FLETCHER2', 'FLETCHER4', 'SHA256', 'SHA512', 'SKEIN', 'EDONR', 'BLAKE3'] as const;
export const VOLBLOCKSIZE_CHOICES = ['512', '512B', '1K', '2K', '4K', '8K', '16K', '32K', '64K', '128K'] as const;

export const UserProperty = Type.Object({
  key: Type.String({ minLength: 1, pattern: '.*:.*', description: 'namespace:property' }),
  value: Type.String(),
}, { additionalProperties: false });

export const UserPropertyUpdate = Type.Object({
  key: Type.String({ minLength: 1, pattern: '.*:.*' }),
  value: Type.Optional(Type.String()),
  remove: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

/** The settable fields, with TrueNAS's defaults on create (`create`) or none (update). */
function settable(create: boolean) {
  const inherit = create ? { default: 'INHERIT' } : {};
  const opt = <T extends TSchema>(s: T) => Type.Optional(s);
  return {
    comments: opt(Type.String({ ...inherit })),
    sync: opt(Type.Unsafe<string>({ type: 'string', enum: ['STANDARD', 'ALWAYS', 'DISABLED', 'INHERIT'], ...inherit })),
    snapdev: opt(choice(['HIDDEN', 'VISIBLE', 'INHERIT'])),
    compression: opt(Type.Unsafe<string>({ type: 'string', enum: [...COMPRESSION_CHOICES, 'INHERIT'], ...inherit })),
    exec: opt(Type.Unsafe<string>({ ...onOffInherit, ...inherit })),
    managedby: opt(Type.String({ minLength: 1, ...inherit })),
    quota_warning: opt(Type.Union(percentOrInherit.anyOf, inherit)),
    quota_critical: opt(Type.Union(percentOrInherit.anyOf, inherit)),
    refquota_warning: opt(Type.Union(percentOrInherit.anyOf, inherit)),
    refquota_critical: opt(Type.Union(percentOrInherit.anyOf, inherit)),
    reservation: opt(Type.Integer({ minimum: 0 })),
    refreservation: opt(Type.Integer({ minimum: 0 })),
    special_small_block_size: opt(Type.Union([Type.Integer({ minimum: 0 }), Type.Literal('INHERIT')])),
    copies: opt(Type.Union([Type.Integer({ minimum: 1, maximum: 3 }), Type.Literal('INHERIT')], inherit)),
    snapdir: opt(Type.Unsafe<string>({ type: 'string', enum: ['DISABLED', 'VISIBLE', 'HIDDEN', 'INHERIT'], ...inherit })),
    deduplication: opt(Type.Unsafe<string>({ type: 'string', enum: ['ON', 'VERIFY', 'OFF', 'INHERIT'], ...inherit })),
    checksum: opt(Type.Unsafe<string>({ type: 'string', enum: [...CHECKSUM_CHOICES, 'INHERIT'], ...inherit })),
    readonly: opt(Type.Unsafe<string>({ ...onOffInherit, ...inherit })),
    // FILESYSTEM only
    aclmode: opt(choice(['PASSTHROUGH', 'RESTRICTED', 'DISCARD', 'INHERIT'])),
    acltype: opt(choice(['OFF', 'NFSV4', 'POSIX', 'INHERIT'])),
    atime: opt(onOffInherit),
    quota: opt(Quota),
    refquota: opt(Quota),
    recordsize: opt(Type.String({ minLength: 1 })),
    mountpoint: opt(Type.String({ minLength: 1, description: 'Midship extension: an absolute path, "none", "legacy" or "INHERIT"' })),
    // VOLUME only
    force_size: opt(Type.Boolean()),
    volsize: opt(Type.Integer({ minimum: 1 })),
  };
}

export const PoolDatasetCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.Unsafe<'FILESYSTEM' | 'VOLUME'>({ type: 'string', enum: ['FILESYSTEM', 'VOLUME'], default: 'FILESYSTEM' }),
  ...settable(true),
  casesensitivity: Type.Optional(choice(['SENSITIVE', 'INSENSITIVE', 'INHERIT'])),
  sparse: Type.Optional(Type.Boolean()),
  volblocksize: Type.Optional(choice(VOLBLOCKSIZE_CHOICES)),
  share_type: Type.Unsafe<string>({ type: 'string', enum: ['GENERIC', 'MULTIPROTOCOL', 'NFS', 'SMB', 'APPS'], default: 'GENERIC' }),
  encryption: Type.Boolean({ default: false }),
  inherit_encryption: Type.Boolean({ default: true }),
  encryption_options: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  user_properties: Type.Array(UserProperty, { default: [] }),
  create_ancestors: Type.Boolean({ default: false }),
}, { additionalProperties: false });
export type PoolDatasetCreateT = Static<typeof PoolDatasetCreate> & Record<string, unknown>;

export const PoolDatasetUpdate = Type.Object({
  ...settable(false),
  user_properties: Type.Optional(Type.Array(UserProperty)),
  user_properties_update: Type.Optional(Type.Array(UserPropertyUpdate)),
}, { additionalProperties: false });
export type PoolDatasetUpdateT = Static<typeof PoolDatasetUpdate> & Record<string, unknown>;

export const PoolDatasetDeleteOptions = Type.Object({
  recursive: Type.Boolean({ default: false }),
  force: Type.Boolean({ default: false }),
}, { additionalProperties: false });
