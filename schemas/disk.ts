// Wire shapes of disk.* (MODULES.md 4; truenas/middleware master api/v27_0_0/disk.py): the disk
// entry of disk.query and the in-use details of disk.details / get_used / get_unused.
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './pool.js';
import { WireDate } from './util.js';

export const DiskEntry = Type.Object({
  identifier: Type.String(),
  name: Type.String(),
  devname: Type.String(),
  subsystem: Type.String(),
  number: Type.Integer(),
  serial: Type.String(),
  lunid: Nullable(Type.String()),
  size: Nullable(Type.Integer()),
  description: Type.String(),
  transfermode: Type.String(),
  hddstandby: Type.String(),
  advpowermgmt: Type.String(),
  expiretime: Nullable(WireDate({ integer: true })),
  model: Nullable(Type.String()),
  rotationrate: Nullable(Type.Integer()),
  type: Nullable(Type.String()),
  zfs_guid: Nullable(Type.String()),
  bus: Type.String(),
  enclosure: Nullable(Type.Object({ number: Type.Integer(), slot: Type.Integer() })),
  pool: Nullable(Type.String()),
  sed: Nullable(Type.Boolean()),
}, { additionalProperties: false });
export type DiskEntryT = Static<typeof DiskEntry>;

/** An entry of disk.details: what the system knows of a disk and which pool, imported or not, holds it. */
export const DiskDetail = Type.Object({
  identifier: Type.String(),
  name: Type.String(),
  devname: Type.String(),
  serial: Type.String(),
  lunid: Nullable(Type.String()),
  size: Nullable(Type.Integer()),
  model: Nullable(Type.String()),
  type: Nullable(Type.String()),
  rotationrate: Nullable(Type.Integer()),
  bus: Type.String(),
  subsystem: Type.String(),
  enclosure: Type.Object({}),
  partitions: Type.Array(Type.Object({ name: Type.String() }, { additionalProperties: true })),
  exported_zpool: Nullable(Type.String()),
  imported_zpool: Nullable(Type.String()),
  duplicate_serial: Type.Array(Type.String()),
  sed: Nullable(Type.Boolean()),
  sed_status: Nullable(Type.String()),
}, { additionalProperties: false });
export type DiskDetailT = Static<typeof DiskDetail>;

export const DiskDetailsOptions = Type.Object({
  join_partitions: Type.Boolean({ default: false }),
  type: Type.Unsafe<'USED' | 'UNUSED' | 'BOTH'>({ type: 'string', enum: ['USED', 'UNUSED', 'BOTH'], default: 'BOTH' }),
}, { additionalProperties: false, default: {} });
