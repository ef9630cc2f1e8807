// Disk traffic from /proc/diskstats: operations, bytes and busy time per whole disk, and rates
// between two readings. Which devices count as disks: the entries of /sys/block backed by a
// device (sd*, nvme*, vd*, ...), so partitions, loop, zram, md and dm devices are left out, as
// TrueNAS leaves them out of its disk charts.
import { toSource, type HostRoot } from './files.js';
import type { RealtimeDisksT } from '../../schemas/host/realtime.js';

export interface DiskCounters {
  reads: number;
  readSectors: number;
  writes: number;
  writeSectors: number;
  /** Milliseconds the device had I/O in flight. */
  ioTicks: number;
}

/** /proc/diskstats counts sectors of 512 bytes whatever the device's sector size. */
const SECTOR = 512;

export function parseDiskstats(text: string): Map<string, DiskCounters> {
  const out = new Map<string, DiskCounters>();
  for (const line of text.split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p.length < 14) continue;
    const n = (i: number) => {
      const v = Number(p[i]);
      return Number.isFinite(v) ? v : 0;
    };
    out.set(p[2]!, { reads: n(3), readSectors: n(5), writes: n(7), writeSectors: n(9), ioTicks: n(12) });
  }
  return out;
}

export async function readDiskstats(root: HostRoot = '/'): Promise<Map<string, DiskCounters> | null> {
  const text = await toSource(root).read('/proc/diskstats');
  return text === null ? null : parseDiskstats(text);
}

/** Whole disks backed by a device, by kernel name, sorted. */
export async function listDisks(root: HostRoot = '/'): Promise<string[]> {
  const files = toSource(root);
  const names = (await files.list('/sys/block')) ?? [];
  const backed = await Promise.all(names.map(async (n) => (await files.link(`/sys/block/${n}/device`)) !== null || (await files.list(`/sys/block/${n}/device`)) !== null));
  return names.filter((_, i) => backed[i]).sort();
}

export interface DiskRate {
  read_ops: number;
  write_ops: number;
  /** Bytes per second. */
  read_bytes: number;
  write_bytes: number;
  /** Percent of the interval the disk was busy. */
  busy: number;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** Per-disk rates between two readings `seconds` apart; disks missing from either are left out. */
export function diskRates(prev: Map<string, DiskCounters>, cur: Map<string, DiskCounters>, disks: string[], seconds: number): Map<string, DiskRate> {
  const out = new Map<string, DiskRate>();
  if (seconds <= 0) return out;
  for (const name of disks) {
    const a = prev.get(name);
    const b = cur.get(name);
    if (!a || !b) continue;
    // A counter that went back (device re-added under the same name) counts as no traffic.
    const d = (k: keyof DiskCounters) => Math.max(0, b[k] - a[k]);
    out.set(name, {
      read_ops: round2(d('reads') / seconds),
      write_ops: round2(d('writes') / seconds),
      read_bytes: Math.round((d('readSectors') * SECTOR) / seconds),
      write_bytes: Math.round((d('writeSectors') * SECTOR) / seconds),
      busy: round2(Math.min(100, d('ioTicks') / (seconds * 10))),
    });
  }
  return out;
}

/** reporting.realtime's `disks`: one aggregate, sums of the rates and the mean busy percent. */
export function aggregateDisks(rates: Map<string, DiskRate>): RealtimeDisksT {
  const total = { read_ops: 0, read_bytes: 0, write_ops: 0, write_bytes: 0, busy: 0 };
  for (const r of rates.values()) {
    total.read_ops += r.read_ops;
    total.read_bytes += r.read_bytes;
    total.write_ops += r.write_ops;
    total.write_bytes += r.write_bytes;
    total.busy += r.busy;
  }
  return {
    read_ops: round2(total.read_ops),
    read_bytes: total.read_bytes,
    write_ops: round2(total.write_ops),
    write_bytes: total.write_bytes,
    busy: rates.size > 0 ? round2(total.busy / rates.size) : 0,
  };
}
