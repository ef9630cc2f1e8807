// Which disks are in use, and by which pool: the disks of imported pools (from their status)
// and of pools that are exported but whose labels are still on the disks (from `zpool import`),
// as TrueNAS's disk.details tells them apart, and the disks the host itself uses (mounted, swap,
// stacked on). pool.create refuses all of them.
import { hostUse } from '../disk/host-use.js';
import { readBlockDevices, type BlockDevice } from '../disk/sysfs.js';
import { poolsByDisk } from '../disk/pool-disks.js';
import type { StorageContext } from './context.js';
import { zfsCall } from './errors.js';

export interface DiskUsage {
  disks: BlockDevice[];
  /** disk name -> imported pool */
  imported: Map<string, string>;
  /** disk name -> exported (importable) pool */
  exported: Map<string, string>;
  /** disk name -> the guid of its vdev in an imported pool, where ZFS revealed it */
  guids: Map<string, string>;
  /** disk name -> why the host itself uses it (a mounted file system, swap, a device on top) */
  host: Map<string, string>;
}

export function readDisks(ctx: StorageContext): Promise<BlockDevice[]> {
  return readBlockDevices(ctx.sysRoot, { includeLoop: ctx.includeLoop });
}

/** Disks with the imported pools using them; `exported`: also look for exported pools' labels. */
export async function diskUsage(ctx: StorageContext, o: { exported: boolean }): Promise<DiskUsage> {
  const disks = await readDisks(ctx);
  const usage: DiskUsage = { disks, imported: new Map(), exported: new Map(), guids: new Map(), host: await hostUse(disks, { sysRoot: ctx.sysRoot }) };
  if (!ctx.available) return usage;
  const z = ctx.zfs;
  const statuses = (await zfsCall(() => z.pools.list())).length > 0 ? await zfsCall(() => z.pools.status()) : [];
  usage.imported = await poolsByDisk(statuses.map((s) => ({ name: s.name, topology: s.topology })), disks);
  for (const s of statuses) {
    for (const top of Object.values(s.topology)) {
      const walk = (v: typeof top[number]): void => {
        if (v.children.length === 0 && v.path !== null && v.guid !== null) {
          const d = disks.find((x) => v.path === `/dev/${x.name}` || x.partitions.some((p) => v.path === `/dev/${p}`));
          if (d) usage.guids.set(d.name, v.guid);
        }
        v.children.forEach(walk);
      };
      top.forEach(walk);
    }
  }
  if (o.exported) {
    const importable = await zfsCall(() => z.pools.importable());
    usage.exported = await poolsByDisk(importable.map((p) => ({ name: p.name, topology: p.topology })), disks);
  }
  return usage;
}
