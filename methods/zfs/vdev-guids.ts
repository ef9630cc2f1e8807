// Vdev guids are not in the default `zpool status` text. OpenZFS prints the same tree with
// guids in place of names (`-g`); zfs-fuse has no -g, but its cache file (`zdb -C`) holds the
// data and log vdevs with guids in the same order. Either way the trees are zipped by position.
import type { ZdbPool, ZdbVdev } from './parse-zdb.js';
import type { PoolStatus, Topology, VdevStatus } from './types.js';

function zipNames(named: VdevStatus, byGuid: VdevStatus): void {
  if (/^\d+$/.test(byGuid.name)) named.guid = byGuid.name;
  named.children.forEach((c, i) => {
    const g = byGuid.children[i];
    if (g) zipNames(c, g);
  });
}

/** Copies guids from the `zpool status -g` reading of the same pool. */
export function applyStatusGuids(status: PoolStatus, withGuids: PoolStatus): void {
  if (status.root && withGuids.root) zipNames(status.root, withGuids.root);
  for (const k of Object.keys(status.topology) as Array<keyof Topology>) {
    status.topology[k].forEach((v, i) => {
      const g = withGuids.topology[k][i];
      if (g) zipNames(v, g);
    });
  }
}

function zipZdb(v: VdevStatus, z: ZdbVdev, top: boolean): void {
  v.guid = z.guid;
  if (top && z.asize !== null) v.size = z.asize;
  if (v.path === null && z.path !== null && v.children.length === 0) v.path = z.path;
  if (v.children.length === 0 && z.type === 'file') v.kind = 'file';
  v.children.forEach((c, i) => {
    const zc = z.children[i];
    if (zc) zipZdb(c, zc, false);
  });
}

/** Copies guids (and top-level sizes) from the pool's `zdb -C` config. Cache and spare devices are not in it. */
export function applyZdbGuids(status: PoolStatus, pool: ZdbPool): void {
  if (!pool.tree) return;
  if (status.root) status.root.guid = pool.tree.guid ?? pool.guid;
  const tops = pool.tree.children.filter((c) => c.type !== 'hole' && c.type !== 'missing');
  const data = tops.filter((c) => !c.isLog);
  const log = tops.filter((c) => c.isLog);
  status.topology.data.forEach((v, i) => { if (data[i]) zipZdb(v, data[i]!, true); });
  status.topology.log.forEach((v, i) => { if (log[i]) zipZdb(v, log[i]!, true); });
}
