// The reporting.realtime event payload (MODULES.md §2, api/v27_0_0/reporting.py
// ReportingRealtimeEventSourceEvent).
import { Type, type Static } from '@sinclair/typebox';

export const RealtimeCpu = Type.Object({ usage: Type.Number(), temp: Type.Union([Type.Number(), Type.Null()]) });

export const RealtimeMemory = Type.Object({
  arc_size: Type.Integer(),
  arc_free_memory: Type.Integer(),
  arc_available_memory: Type.Integer(),
  physical_memory_total: Type.Integer(),
  physical_memory_available: Type.Integer(),
});

export const ZFS_KEYS = [
  'demand_accesses_per_second', 'demand_data_accesses_per_second', 'demand_metadata_accesses_per_second',
  'demand_data_hits_per_second', 'demand_data_io_hits_per_second', 'demand_data_misses_per_second',
  'demand_data_hit_percentage', 'demand_data_io_hit_percentage', 'demand_data_miss_percentage',
  'demand_metadata_hits_per_second', 'demand_metadata_io_hits_per_second', 'demand_metadata_misses_per_second',
  'demand_metadata_hit_percentage', 'demand_metadata_io_hit_percentage', 'demand_metadata_miss_percentage',
  'l2arc_hits_per_second', 'l2arc_misses_per_second', 'total_l2arc_accesses_per_second',
  'l2arc_access_hit_percentage', 'l2arc_miss_percentage',
  'bytes_read_per_second_from_the_l2arc', 'bytes_written_per_second_to_the_l2arc',
] as const;
export type ZfsKey = (typeof ZFS_KEYS)[number];

export const RealtimeZfs = Type.Object(Object.fromEntries(ZFS_KEYS.map((k) => [k, Type.Integer()])) as Record<ZfsKey, ReturnType<typeof Type.Integer>>);

export const RealtimeDisks = Type.Object({
  read_ops: Type.Number(),
  read_bytes: Type.Number(),
  write_ops: Type.Number(),
  write_bytes: Type.Number(),
  /** Mean busy percent over the disks. */
  busy: Type.Number(),
});

export const RealtimeInterface = Type.Object({
  link_state: Type.Union([Type.Literal('LINK_STATE_UP'), Type.Literal('LINK_STATE_DOWN')]),
  /** Mbit/s; 0 when unknown. */
  speed: Type.Number(),
  received_bytes_rate: Type.Number(),
  sent_bytes_rate: Type.Number(),
  // Only when the link is down (TrueNAS keeps these Bluefin-era keys there), always 0.
  received_bytes: Type.Optional(Type.Number()),
  sent_bytes: Type.Optional(Type.Number()),
});

export const PoolUsage = Type.Record(Type.String(), Type.Number());

export const RealtimePayload = Type.Object({
  cpu: Type.Record(Type.String(), RealtimeCpu),
  memory: RealtimeMemory,
  zfs: RealtimeZfs,
  disks: RealtimeDisks,
  interfaces: Type.Record(Type.String(), RealtimeInterface),
  pools: Type.Record(Type.String(), PoolUsage),
});

export type RealtimeCpuT = Static<typeof RealtimeCpu>;
export type RealtimeMemoryT = Static<typeof RealtimeMemory>;
export type RealtimeZfsT = Record<ZfsKey, number>;
export type RealtimeDisksT = Static<typeof RealtimeDisks>;
export type RealtimeInterfaceT = Static<typeof RealtimeInterface>;
export type RealtimePayloadT = Static<typeof RealtimePayload>;
