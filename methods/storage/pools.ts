// pool.*: the managed pools (MODULES.md 5.1-5.4). pool.query / get_instance with the TrueNAS
// entry; pool.create, pool.export, pool.import_find and pool.import_pool as jobs with TrueNAS's
// locks, progress steps and messages; the pool.query event sent by hand (ADDED on create and
// import, CHANGED with the whole entry when a scan ends, REMOVED on export), as TrueNAS does.
import { arg, CallError, ERRNO, method, notFound, Type, type JobHandle } from '#midship/module-api';
import { PoolCreate, PoolEntry, PoolExportOptions, PoolImportFindItem, PoolImportPool, type PoolCreateT, type PoolEntryT } from '../../schemas/pool.js';
import type { PoolCreateSpec, VdevSpec, VdevType } from '../zfs/pool-spec.js';
import type { PoolRecord, StorageContext } from './context.js';
import { diskUsage } from './disk-usage.js';
import { zfsCall } from './errors.js';
import type { Part } from './part.js';
import { poolEntries, poolEntry } from './pool-entries.js';
import { topologyDisks, validateDisks, validateOptions, validateTopology } from './pool-validate.js';
import { asyncQueryMethod, getInstanceMethod, hinted } from './query.js';
import { wipeLabels } from './wipe.js';

export const POOL_EVENT = 'pool.query';

/** A progress step, also written to the job's log: events coalesce quick steps, the log keeps them all. */
function step(job: JobHandle, percent: number, text: string): void {
  job.setProgress(percent, text);
  job.log(`${text}\n`);
}

export function emitPool(ctx: StorageContext, msg: 'added' | 'changed', entry: PoolEntryT): void {
  ctx.app.events.emit(POOL_EVENT, msg, entry.id, entry);
}

/** Sends the pool's whole entry as CHANGED (the web UI replaces the pool it holds with it). */
export async function emitPoolChanged(ctx: StorageContext, name: string): Promise<void> {
  const r = ctx.poolByName(name);
  if (r === undefined || !ctx.app.events.hasListeners(POOL_EVENT)) return;
  try {
    emitPool(ctx, 'changed', await poolEntry(ctx, r));
  } catch (e) {
    ctx.log.warn({ err: e, pool: name }, 'reading a pool for its pool.query event failed');
  }
}

function vdevSpec(type: string, disks: string[], draid?: { data?: number | null; spares?: number }): VdevSpec {
  const spec: VdevSpec = { type: type.toLowerCase() as VdevType, devices: disks.map((d) => `/dev/${d}`) };
  if (draid?.data != null) spec.draidDataDisks = draid.data;
  if (draid?.spares !== undefined && type.startsWith('DRAID')) spec.draidSpareDisks = draid.spares;
  return spec;
}

/** The `zpool create` of a validated pool.create: TrueNAS's root dataset options this ZFS has. */
function createSpec(ctx: StorageContext, data: PoolCreateT): PoolCreateSpec {
  const d = ctx.zfs.dialect;
  const t = data.topology;
  const fs: Record<string, string> = { atime: 'off', compression: d.features.includes('lz4_compress') ? 'lz4' : 'on' };
  if (data.deduplication !== null) fs.dedup = data.deduplication.toLowerCase();
  if (data.checksum !== null) fs.checksum = data.checksum.toLowerCase();
  if (d.datasetProperties.includes('aclmode')) fs.aclmode = 'discard';
  const pool: Record<string, string> = {};
  if (d.poolProperties.includes('failmode')) pool.failmode = 'continue';
  if (d.poolProperties.includes('autoexpand')) pool.autoexpand = 'on';
  if (data.deduplication !== null && data.dedup_table_quota === 'CUSTOM' && data.dedup_table_quota_value !== null) pool.dedup_table_quota = String(data.dedup_table_quota_value);
  return {
    name: data.name,
    data: t.data.map((v) => vdevSpec(v.type, v.disks, { data: v.draid_data_disks ?? null, spares: v.draid_spare_disks ?? 0 })),
    log: t.log.map((v) => vdevSpec(v.type, v.disks)),
    cache: t.cache.flatMap((v) => v.disks.map((x) => `/dev/${x}`)),
    spares: t.spares.map((x) => `/dev/${x}`),
    special: t.special.map((v) => vdevSpec(v.type, v.disks)),
    dedup: t.dedup.map((v) => vdevSpec(v.type, v.disks)),
    poolProperties: pool,
    datasetProperties: fs,
    mountpoint: ctx.poolPath(data.name),
  };
}

async function create(ctx: StorageContext, job: JobHandle, data: PoolCreateT): Promise<PoolEntryT> {
  const z = ctx.zfs;
  const liveBefore = new Set((await zfsCall(() => z.pools.list())).map((p) => p.name));
  validateOptions(data, ctx.poolByName(data.name) !== undefined || liveBefore.has(data.name), z.dialect).throwIfAny();
  validateTopology(data, z.dialect).throwIfAny();
  const usage = await diskUsage(ctx, { exported: true });
  validateDisks(data, usage).throwIfAny();

  const disks = [...new Set(topologyDisks(data).map((x) => x.disk))];
  for (const [i, name] of disks.entries()) {
    step(job, (30 * i) / disks.length, `Formatting disks (${i + 1}/${disks.length})`);
    await wipeLabels(`/dev/${name}`, usage.disks.find((d) => d.name === name)!.size);
  }
  let record: PoolRecord | null = null;
  try {
    step(job, 90, 'Creating ZFS Pool');
    await zfsCall(() => z.pools.create(createSpec(ctx, data)), 'pool_create');
    step(job, 95, 'Setting pool options');
    const [listed] = await zfsCall(() => z.pools.list([data.name]));
    record = await ctx.pools.insert({ name: data.name, guid: listed!.guid });
    await ctx.runHooks('poolAdded', record);
    const entry = await poolEntry(ctx, record);
    emitPool(ctx, 'added', entry);
    return entry;
  } catch (e) {
    // Roll back: the pool if it was made (even when `zpool create` failed half way), the record.
    ctx.log.warn({ err: e, pool: data.name }, 'pool.create failed: rolling back');
    const nowLive = await z.pools.list().catch(() => []);
    if (!liveBefore.has(data.name) && nowLive.some((p) => p.name === data.name)) {
      await z.pools.destroy(data.name, { force: true }).catch((err: unknown) => ctx.log.error({ err, pool: data.name }, 'pool.create rollback: destroying the pool failed'));
    }
    if (record !== null) {
      await ctx.runHooks('poolRemoving', record, true);
      await ctx.pools.delete(record.id);
    }
    throw e;
  } finally {
    ctx.runHooks('disksChanged').catch(() => {});
  }
}

async function exportPool(ctx: StorageContext, job: JobHandle, r: PoolRecord, o: { cascade: boolean; destroy: boolean }): Promise<void> {
  const z = ctx.zfs;
  const live = (await zfsCall(() => z.pools.list())).some((p) => p.name === r.name && p.guid === r.guid);
  step(job, 10, `${o.cascade ? 'Deleting' : 'Disabling'} pool attachments`);
  await ctx.runHooks('poolRemoving', r, o.cascade);
  if (live) {
    step(job, 30, 'Running pre-export actions');
    z.snapshots.index.forget(r.name);
    if (o.destroy) {
      const usage = await diskUsage(ctx, { exported: false });
      const members = usage.disks.filter((d) => usage.imported.get(d.name) === r.name);
      step(job, 60, 'Destroying pool');
      await zfsCall(() => z.pools.destroy(r.name, { force: true }));
      step(job, 80, 'Cleaning disks');
      for (const d of members) await wipeLabels(`/dev/${d.name}`, d.size);
    } else {
      step(job, 80, 'Exporting pool');
      await zfsCall(() => z.pools.export(r.name));
    }
  }
  step(job, 90, 'Cleaning up after export');
  await ctx.pools.delete(r.id);
  ctx.app.events.emit(POOL_EVENT, 'removed', r.id);
  void ctx.runHooks('disksChanged');
}

async function importPool(ctx: StorageContext, guid: string, newName: string | null): Promise<true> {
  const z = ctx.zfs;
  const live = await zfsCall(() => z.pools.list());
  if (live.some((p) => p.guid === guid)) throw new CallError(`Pool with guid: "${guid}" already imported`, ERRNO.EEXIST);
  if (newName !== null && live.some((p) => p.name === newName)) {
    throw new CallError(`Cannot import pool using new name: "${newName}" because a pool is already imported with that name`, ERRNO.EEXIST);
  }
  const found = (await zfsCall(() => z.pools.importable())).find((p) => p.guid === guid);
  if (found === undefined) throw new CallError(`Pool with guid "${guid}" not found`, ERRNO.ENOENT);
  await zfsCall(() => z.pools.import({ pool: guid, ...(newName === null ? {} : { newName }) }), 'pool_import');
  const name = newName ?? found.name;
  // Mount it where managed pools are mounted (TrueNAS imports with altroot /mnt).
  const mp = (await zfsCall(() => z.datasets.get([name], { properties: ['mountpoint'] }))).get(name)?.get('mountpoint')?.raw;
  if (mp !== undefined && mp !== ctx.poolPath(name)) await zfsCall(() => z.datasets.set(name, { mountpoint: ctx.poolPath(name) }));
  for (const old of ctx.pools.all().filter((p) => p.name === name || p.guid === guid)) await ctx.pools.delete(old.id);
  const record = await ctx.pools.insert({ name, guid });
  await ctx.runHooks('poolAdded', record);
  emitPool(ctx, 'added', await poolEntry(ctx, record));
  void ctx.runHooks('disksChanged');
  return true;
}

function recordOf(ctx: StorageContext, id: number): PoolRecord {
  const r = ctx.pools.get(id);
  if (r === undefined) throw notFound(`Pool ${id} does not exist`);
  return r;
}

export function poolPart(ctx: StorageContext): Part {
  const read = async (filter: Parameters<typeof hinted>[0]) => {
    const ids = hinted(filter, 'id');
    const names = hinted(filter, 'name');
    const records = ctx.pools.all().filter((r) => (ids === null || ids.includes(r.id)) && (names === null || names.includes(r.name)));
    return records.length === 0 ? [] : poolEntries(ctx, records);
  };
  return {
    services: [{ name: 'pool', type: 'crud', rolePrefix: 'POOL' }],
    methods: [
      asyncQueryMethod('pool.query', 'Managed pools with status, usage, topology (vdevs with error counters) and the last scan.', read),
      getInstanceMethod('pool.get_instance', 'One managed pool by id.', Type.Integer(), PoolEntry, read),
      method('pool.create', {
        description: 'Create a pool: data vdevs (STRIPE, MIRROR, RAIDZ1-3) with log, cache and spares; returns its entry.',
        args: [arg('pool_create', PoolCreate)],
        result: PoolEntry,
        job: { lock: 'pool_createupdate', logs: true, description: ([d]) => `Pool create: ${d.name}` },
        handler: (_c, job, data) => create(ctx, job, data),
      }),
      method('pool.export', {
        description: 'Export a pool (or, with destroy, destroy it and wipe its disks) and forget it.',
        args: [arg('id', Type.Integer()), arg('options', PoolExportOptions, { default: { cascade: false, restart_services: false, destroy: false } })],
        result: Type.Null(),
        job: { lock: 'pool_export', logs: true },
        handler: async (_c, job, id, options) => {
          await exportPool(ctx, job, recordOf(ctx, id), options);
          return null;
        },
      }),
      method('pool.import_find', {
        description: 'Pools that can be imported: not managed here and not UNAVAIL.',
        args: [],
        result: Type.Array(PoolImportFindItem),
        roles: ['POOL_READ'],
        job: {},
        handler: async () => {
          const known = new Set(ctx.pools.all().map((p) => p.guid));
          const found = await zfsCall(() => ctx.zfs.pools.importable());
          // zfs-fuse's listing has no host name (OpenZFS reads it from the label): '' then.
          return found.filter((p) => p.state !== 'UNAVAIL' && !known.has(p.guid)).map((p) => ({ name: p.name, guid: p.guid, status: p.state, hostname: '' }));
        },
      }),
      method('pool.import_pool', {
        description: 'Import a pool pool.import_find lists, by guid, optionally under a new name.',
        args: [arg('data', PoolImportPool)],
        result: Type.Literal(true),
        job: { lock: 'import_pool' },
        handler: (_c, _job, data) => importPool(ctx, data.guid, data.name ?? null),
      }),
    ],
    events: [{ name: POOL_EVENT, description: 'Pools added (created, imported), changed (the whole entry) and removed (exported).', roles: ['POOL_READ'] }],
  };
}
