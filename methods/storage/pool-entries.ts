// The TrueNAS pool entries of the managed pools: `zpool list` and `zpool status` read once for
// all of them (with vdev guids), mapped by the driver's mapper. A managed pool that is not
// imported (exported elsewhere, disks gone) is listed as OFFLINE, as TrueNAS lists a pool that
// is in its database but not imported.
import type { PoolEntryT } from '../../schemas/pool.js';
import { mapPoolEntry } from '../zfs/map-pool.js';
import type { PoolListEntry, PoolStatus, PropertyTable } from '../zfs/types.js';
import type { PoolRecord, StorageContext } from './context.js';
import { zfsCall } from './errors.js';

const POOL_PROPERTIES = ['autotrim', 'dedup_table_size', 'dedup_table_quota'];

function offline(ctx: StorageContext, r: PoolRecord): PoolEntryT {
  return {
    id: r.id, name: r.name, guid: r.guid, all_sed: false, status: 'OFFLINE', path: ctx.poolPath(r.name), scan: null, expand: null,
    is_upgraded: false, healthy: false, warning: false, status_code: null, status_detail: null,
    size: null, allocated: null, free: null, freeing: null, dedup_table_size: null, dedup_table_quota: null, fragmentation: null,
    size_str: null, allocated_str: null, free_str: null, freeing_str: null,
    autotrim: { parsed: 'off', rawvalue: 'off', value: 'off', source: 'DEFAULT' },
    topology: null,
  };
}

/** Entries of `records` (default: every managed pool), by id. */
export async function poolEntries(ctx: StorageContext, records: readonly PoolRecord[] = ctx.pools.all()): Promise<PoolEntryT[]> {
  if (records.length === 0) return [];
  const z = ctx.zfs;
  const listed = await zfsCall(() => z.pools.list());
  const live = new Map<string, PoolListEntry>();
  for (const r of records) {
    const l = listed.find((x) => x.name === r.name && x.guid === r.guid);
    if (l) live.set(r.name, l);
  }
  let statuses: PoolStatus[] = [];
  let props: PropertyTable = new Map();
  if (live.size > 0) {
    // One pool asked: its status alone; several: one `zpool status` for all.
    const only = live.size === 1 ? [...live.keys()][0]! : undefined;
    statuses = await zfsCall(() => z.pools.status(only));
    const wanted = POOL_PROPERTIES.filter((p) => z.dialect.poolProperties.includes(p));
    if (wanted.length > 0) props = await zfsCall(() => z.pools.properties([...live.keys()], wanted));
  }
  return records.map((r) => {
    const list = live.get(r.name);
    if (list === undefined) return offline(ctx, r);
    const status = statuses.find((s) => s.name === r.name) ?? null;
    return mapPoolEntry({ id: r.id, path: ctx.poolPath(r.name), list, status, properties: props });
  }).sort((a, b) => a.id - b.id);
}

export async function poolEntry(ctx: StorageContext, r: PoolRecord): Promise<PoolEntryT> {
  return (await poolEntries(ctx, [r]))[0]!;
}
