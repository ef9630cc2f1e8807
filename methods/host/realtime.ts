// A HostSample as the reporting.realtime event payload (MODULES.md §2): the names, units and
// rounding of TrueNAS's realtime_reporting/*.py.
import { aggregateDisks } from './disk-stats.js';
import type { HostSample } from './sampler.js';
import type { RealtimeCpuT, RealtimeInterfaceT, RealtimePayloadT } from '../../schemas/host/realtime.js';

/** Pool name -> {available, used, total} bytes, from the storage module. */
export type PoolUsageMap = Record<string, Record<string, number>>;

export function toRealtimePayload(sample: HostSample, pools: PoolUsageMap = {}): RealtimePayloadT {
  const cpu: Record<string, RealtimeCpuT> = {};
  for (const [name, u] of sample.cpu) cpu[name] = { usage: u.usage, temp: sample.temperatures?.[name] ?? null };
  const interfaces: Record<string, RealtimeInterfaceT> = {};
  for (const [name, i] of sample.interfaces) {
    const speed = i.speed ?? 0;
    interfaces[name] = i.link_state === 'LINK_STATE_UP'
      ? { link_state: 'LINK_STATE_UP', speed, received_bytes_rate: i.received, sent_bytes_rate: i.sent }
      : { link_state: 'LINK_STATE_DOWN', speed, received_bytes: 0, sent_bytes: 0, received_bytes_rate: 0, sent_bytes_rate: 0 };
  }
  // TrueNAS sends no zero values and no pool without values.
  const poolOut: PoolUsageMap = {};
  for (const [name, stats] of Object.entries(pools)) {
    const kept = Object.fromEntries(Object.entries(stats).filter(([, v]) => typeof v === 'number' && Number.isFinite(v) && v !== 0));
    if (Object.keys(kept).length > 0) poolOut[name] = kept;
  }
  const arc = sample.arc;
  const mem = sample.memory;
  return {
    cpu,
    memory: {
      arc_size: Math.round(arc?.size ?? 0),
      // Signed in OpenZFS (negative means the ARC should shrink); TrueNAS's abs() would
      // turn that into plenty of room, so it is floored at 0 here.
      arc_free_memory: Math.max(0, Math.round(arc?.memory_free_bytes ?? 0)),
      arc_available_memory: Math.max(0, Math.round(arc?.memory_available_bytes ?? 0)),
      physical_memory_total: mem?.total ?? 0,
      physical_memory_available: mem?.available ?? 0,
    },
    zfs: sample.zfs,
    disks: aggregateDisks(sample.disks),
    interfaces,
    pools: poolOut,
  };
}
