// Which pool uses which disk, for disk.query's `pool`: every leaf vdev path of every pool
// (data, log, cache, spare, special, dedup) resolved to a whole disk. Paths may be links
// (/dev/disk/by-partuuid/...) or partitions (/dev/sdb1); the disk is the whole device.
import { realpath } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Topology, VdevStatus } from '../zfs/types.js';
import type { BlockDevice } from './sysfs.js';

export interface PoolTopologyRef {
  name: string;
  topology: Topology;
}

function leafPaths(v: VdevStatus, out: string[]): void {
  if (v.children.length === 0) {
    if (v.path !== null) out.push(v.path);
    return;
  }
  for (const c of v.children) leafPaths(c, out);
}

/** Every device path a pool's topology names. */
export function topologyPaths(t: Topology): string[] {
  const out: string[] = [];
  for (const list of Object.values(t)) for (const v of list) leafPaths(v, out);
  return out;
}

/**
 * The disk a resolved device path belongs to: the disk itself (/dev/sdb) or the disk whose
 * partition it is (/dev/sdb1). Paths outside /dev (file vdevs) belong to no disk.
 */
export function diskOfPath(path: string, disks: readonly BlockDevice[]): string | null {
  if (!path.startsWith('/dev/')) return null;
  const dev = basename(path);
  for (const d of disks) {
    if (d.name === dev || d.partitions.includes(dev)) return d.name;
  }
  return null;
}

/**
 * disk name -> pool name. `resolve` turns a link into the device it points to; the default
 * follows symlinks on this system (realpath), leaving paths that do not exist as they are.
 */
export async function poolsByDisk(
  pools: readonly PoolTopologyRef[],
  disks: readonly BlockDevice[],
  resolve: (path: string) => Promise<string> = (p) => realpath(p).catch(() => p),
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const pool of pools) {
    for (const path of topologyPaths(pool.topology)) {
      const disk = diskOfPath(await resolve(path), disks);
      if (disk !== null && !out.has(disk)) out.set(disk, pool.name);
    }
  }
  return out;
}
