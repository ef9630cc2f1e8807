// A HostSample as history points, in the units of TrueNAS's charts: CPU percent, bytes of
// available memory, interface traffic in kilobits/s, disk traffic in KiB/s, pool usage in bytes.
import type { PoolUsageMap } from '../realtime.js';
import type { HostSample } from '../sampler.js';
import type { HistoryPoint } from './store.js';

const r2 = (n: number) => Math.round(n * 100) / 100;

export function toHistoryPoints(sample: HostSample, pools: PoolUsageMap = {}): HistoryPoint[] {
  const points: HistoryPoint[] = [];
  if (sample.cpu.size > 0) {
    const values: Record<string, number> = {};
    for (const [name, u] of sample.cpu) values[name] = u.usage;
    points.push({ graph: 'cpu', identifier: null, values });
  }
  if (sample.temperatures) {
    // TrueNAS's legend order: cpu0 ... cpuN, then the aggregate.
    const { cpu, ...perCpu } = sample.temperatures;
    const names = Object.keys(perCpu).sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
    const values: Record<string, number> = {};
    for (const n of names) values[n] = perCpu[n]!;
    if (cpu !== undefined) values.cpu = cpu;
    points.push({ graph: 'cputemp', identifier: null, values });
  }
  if (sample.memory) points.push({ graph: 'memory', identifier: null, values: { available: sample.memory.available } });
  if (sample.loadavg) {
    const [shortterm, midterm, longterm] = sample.loadavg;
    points.push({ graph: 'load', identifier: null, values: { shortterm, midterm, longterm } });
  }
  if (sample.uptime !== null) points.push({ graph: 'uptime', identifier: null, values: { uptime: Math.round(sample.uptime) } });
  if (sample.arc) points.push({ graph: 'arcsize', identifier: null, values: { size: sample.arc.size } });
  for (const [name, i] of sample.interfaces) {
    points.push({ graph: 'interface', identifier: name, values: { received: r2((i.received * 8) / 1000), sent: r2((i.sent * 8) / 1000) } });
  }
  for (const [name, d] of sample.disks) {
    points.push({ graph: 'disk', identifier: name, values: { reads: r2(d.read_bytes / 1024), writes: r2(d.write_bytes / 1024) } });
  }
  for (const [name, stats] of Object.entries(pools)) {
    const values: Record<string, number> = {};
    for (const k of ['available', 'used', 'total']) if (typeof stats[k] === 'number') values[k] = stats[k]!;
    if (Object.keys(values).length > 0) points.push({ graph: 'pool', identifier: name, values });
  }
  return points;
}
