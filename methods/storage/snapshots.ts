// pool.snapshot.* (MODULES.md 5.7): snapshots of the managed pools from the driver's snapshot
// index (only what changed is listed again), TrueNAS's items with properties and holds on
// request (read only for the page the query returns, unless a filter or the order looks at
// them), create with a name or a naming schema (recursive, exclude), delete, rollback, clone,
// hold, release, and the pool.snapshot.query event (REMOVED carries extra.recursive).
import { applyQuery, arg, compileFilters, ERRNO, method, notFound, Type, ValidationErrors, type Filter, type QueryOptionsT } from '#midship/module-api';
import { PoolSnapshotClone, PoolSnapshotCreate, PoolSnapshotDeleteOptions, PoolSnapshotRollbackOptions, RecursiveOption, SnapshotEntry, type PoolSnapshotCreateT, type SnapshotEntryT } from '../../schemas/pool_snapshot.js';
import { QueryFilters, QueryOptions } from '../../schemas/query.js';
import { ZfsInputError } from '../zfs/errors.js';
import { mapSnapshot } from '../zfs/map-snapshot.js';
import { checkDatasetName, checkSnapshotName } from '../zfs/names.js';
import { parseGetTable } from '../zfs/parse-tables.js';
import type { PropertyValue, SnapshotRecord } from '../zfs/types.js';
import type { StorageContext } from './context.js';
import { DATASET_EVENT, datasetItems } from './datasets.js';
import { zfsCall } from './errors.js';
import { format, namingSchemaProblem } from './naming-schema.js';
import type { Part } from './part.js';

export const SNAPSHOT_EVENT = 'pool.snapshot.query';
/** The hold tag TrueNAS places and looks for. */
export const HOLD_TAG = 'truenas';

const within = (name: string, root: string) => name === root || name.startsWith(`${root}/`);
/** Properties the index already knows: no command is needed for them. */
const FROM_INDEX = new Set(['createtxg', 'creation', 'guid', 'referenced', 'name']);

function indexProperty(r: SnapshotRecord, p: string): PropertyValue | null {
  const raw = p === 'createtxg' ? r.createtxg : p === 'creation' ? String(Math.floor(r.creation / 1000)) : p === 'guid' ? r.guid : p === 'referenced' ? (r.referenced === null ? null : String(r.referenced)) : p === 'name' ? r.name : null;
  return raw === null ? null : { raw, source: 'NONE', from: null };
}

/** Snapshot records of the managed, imported pools, narrowed by the filter's id/name/dataset/pool hints. */
export async function snapshotRecords(ctx: StorageContext, filter: Filter | null): Promise<SnapshotRecord[]> {
  const pools = await ctx.importedPools();
  if (pools.length === 0) return [];
  const hint = (f: string) => filter?.equals.get(f)?.filter((x): x is string => typeof x === 'string') ?? null;
  const names = hint('id') ?? hint('name');
  const datasets = hint('dataset');
  const poolHint = hint('pool');
  const z = ctx.zfs;
  const mine = (ds: string) => pools.includes(ds.split('/')[0]!);
  if (names !== null || datasets !== null) {
    const roots = [...new Set([...(names ?? []).map((n) => n.split('@')[0]!), ...(datasets ?? [])])].filter(mine);
    if (roots.length === 0) return [];
    // Names from a filter may be anything: only valid ones can be listed.
    const valid = roots.filter((r) => {
      try {
        return checkDatasetName('dataset', r) === r;
      } catch {
        return false;
      }
    });
    return zfsCall(() => z.snapshots.list({ datasets: valid, recursive: false }));
  }
  const wanted = poolHint === null ? pools : pools.filter((p) => poolHint.includes(p));
  return wanted.length === 0 ? [] : zfsCall(() => z.snapshots.list({ datasets: wanted }));
}

/** Properties (`properties` ZFS names, or all) of snapshots, in chunks of names. */
async function snapshotProperties(ctx: StorageContext, names: readonly string[], properties: readonly string[] | 'all'): Promise<Map<string, Map<string, PropertyValue>>> {
  const out = new Map<string, Map<string, PropertyValue>>();
  for (let i = 0; i < names.length; i += 1000) {
    const chunk = names.slice(i, i + 1000);
    const args = ['get', '-H', '-p', '-o', 'name,property,value,source', properties === 'all' ? 'all' : properties.join(','), ...chunk];
    for (const [n, p] of parseGetTable((await zfsCall(() => ctx.zfs.commands.zfs(args, { timeoutMs: 600_000 }))).stdout)) out.set(n, p);
  }
  return out;
}

/** Which snapshots carry TrueNAS's hold: listed where ZFS can, else asked snapshot by snapshot (those with any hold). */
async function truenasHolds(ctx: StorageContext, names: readonly string[]): Promise<Set<string>> {
  const z = ctx.zfs;
  const held = new Set<string>();
  if (names.length === 0) return held;
  for (let i = 0; i < names.length; i += 1000) {
    const records = await zfsCall(() => z.snapshots.holds(names.slice(i, i + 1000)));
    for (const r of records) {
      if (r.count === 0) continue;
      if (r.tags !== null ? r.tags.includes(HOLD_TAG) : await zfsCall(() => z.snapshots.hasHold(r.snapshot, HOLD_TAG))) held.add(r.snapshot);
    }
  }
  return held;
}

/** Items for records: properties and holds as `extra` asks. */
async function items(ctx: StorageContext, records: readonly SnapshotRecord[], extra: Record<string, unknown>): Promise<SnapshotEntryT[]> {
  const asked = Array.isArray(extra.properties) ? (extra.properties as unknown[]).filter((p): p is string => typeof p === 'string') : [];
  const needZfs = asked.filter((p) => !FROM_INDEX.has(p));
  const props = needZfs.length > 0 ? await snapshotProperties(ctx, records.map((r) => r.name), asked) : null;
  const holds = extra.holds === true ? await truenasHolds(ctx, records.map((r) => r.name)) : null;
  return records.map((r) => {
    let properties: Map<string, PropertyValue> | undefined = props?.get(r.name);
    if (properties === undefined && asked.length > 0) {
      properties = new Map(asked.flatMap((p) => { const v = indexProperty(r, p); return v === null ? [] : [[p, v] as const]; }));
    }
    const e = mapSnapshot(r, { ...(properties ? { properties } : {}), holdTags: holds === null ? [] : holds.has(r.name) ? [HOLD_TAG] : [] });
    return e;
  });
}

async function one(ctx: StorageContext, id: string, extra: Record<string, unknown> = {}): Promise<SnapshotEntryT | undefined> {
  const recs = (await snapshotRecords(ctx, compileFilters([['id', '=', id]]))).filter((r) => r.name === id);
  return recs.length === 0 ? undefined : (await items(ctx, recs, extra))[0];
}

function mustExist(e: SnapshotEntryT | undefined, id: string): SnapshotEntryT {
  if (e === undefined) throw notFound(`${id} does not exist`);
  return e;
}

async function create(ctx: StorageContext, data: PoolSnapshotCreateT): Promise<SnapshotEntryT> {
  const S = 'snapshot_create';
  const v = new ValidationErrors();
  const z = ctx.zfs;
  if ((data.name === undefined) === (data.naming_schema === undefined)) v.add(`${S}.name`, 'Either name or naming_schema must be given (not both)');
  if (data.naming_schema !== undefined) {
    const problem = namingSchemaProblem(data.naming_schema);
    if (problem !== null) v.add(`${S}.naming_schema`, problem);
  }
  if (data.exclude.length > 0) {
    for (const k of ['vmware_sync', 'properties'] as const) {
      if (k === 'vmware_sync' ? data.vmware_sync : Object.keys(data.properties).length > 0) v.add(`${S}.${k}`, 'This option is not supported when excluding datasets');
    }
    if (!data.recursive) v.add(`${S}.exclude`, 'Excluding datasets is only supported for recursive snapshots');
  }
  if (data.vmware_sync) v.add(`${S}.vmware_sync`, 'VMware sync is not available: this host has no VMware integration', ERRNO.EOPNOTSUPP);
  if (data.suspend_vms) v.add(`${S}.suspend_vms`, 'Suspending VMs is not available: this host runs no VMs', ERRNO.EOPNOTSUPP);
  v.throwIfAny();
  const snap = data.name ?? format(data.naming_schema!, ctx.wallNow());
  const full = `${data.dataset}@${snap}`;
  try {
    checkSnapshotName('name', full);
  } catch (e) {
    if (e instanceof ZfsInputError) throw new ValidationErrors([[`${S}.${data.name === undefined ? 'naming_schema' : 'name'}`, e.message.slice(e.field.length + 2), ERRNO.EINVAL]]);
    throw e;
  }
  const datasets = (await ctx.poolOf(data.dataset)) === null ? [] : await datasetItems(ctx, [data.dataset], { retrieve_children: false, properties: [], retrieve_user_props: false });
  if (!datasets.some((d) => d.id === data.dataset)) throw new ValidationErrors([[`${S}.dataset`, `Dataset ${data.dataset} does not exist`, ERRNO.ENOENT]]);
  if ((await one(ctx, full)) !== undefined) throw new ValidationErrors([[`${S}.name`, `${full} already exists.`, ERRNO.EEXIST]]);
  data.exclude.forEach((x, i) => {
    if (!within(x, data.dataset) || x === data.dataset) v.add(`${S}.exclude.${i}`, 'Excluded dataset should be a child or other descendant of the selected dataset');
  });
  v.throwIfAny();
  if (data.recursive && data.exclude.length > 0) {
    // `zfs snapshot -r` cannot leave anything out: one snapshot per dataset that is not excluded.
    for (const d of datasets.filter((x) => !data.exclude.some((e) => within(x.id, e)))) await zfsCall(() => z.snapshots.create(`${d.id}@${snap}`), S);
  } else {
    await zfsCall(() => z.snapshots.create(full, { recursive: data.recursive, properties: data.properties }), S);
  }
  const { holds: _h, ...entry } = mustExist(await one(ctx, full), full);
  ctx.app.events.emit(SNAPSHOT_EVENT, 'added', entry.id, entry);
  return entry;
}

export function snapshotPart(ctx: StorageContext): Part {
  const z = () => ctx.zfs;
  const exists = async (id: string) => mustExist(await one(ctx, id), id);
  return {
    services: [{ name: 'pool.snapshot', type: 'crud', rolePrefix: 'SNAPSHOT' }],
    methods: [
      method('pool.snapshot.query', {
        description: 'Snapshots of the managed pools. extra: holds (bool), properties (ZFS names). Filters on id, name, dataset or pool read only those.',
        args: [arg('filters', QueryFilters, { default: [] }), arg('options', QueryOptions, { default: {} as never })],
        result: Type.Unknown(),
        filterable: true,
        handler: async (_c, filters, options) => {
          const filter = compileFilters(filters);
          const o = options as Partial<QueryOptionsT>;
          const extra = o.extra ?? {};
          const records = await snapshotRecords(ctx, filter);
          const deep = JSON.stringify([filter.conditions, o.order_by ?? []]);
          if (/properties|holds/.test(deep)) return applyQuery(await items(ctx, records, extra), filter, o);
          // Filter and page on what the index knows, then read properties and holds for the page.
          const bare = records.map((r) => ({ rec: r, entry: mapSnapshot(r, { holdTags: [] }) }));
          const byEntry = new Map(bare.map((b) => [b.entry, b.rec]));
          const picked = applyQuery(bare.map((b) => b.entry), filter, { ...o, select: [] });
          if (typeof picked === 'number') return picked;
          const list = Array.isArray(picked) ? picked : [picked];
          const full = (extra.properties !== undefined || extra.holds === true) ? await items(ctx, list.map((e) => byEntry.get(e)!), extra) : list;
          const selected = applyQuery(full, [], { select: o.select ?? [] }) as unknown[];
          return Array.isArray(picked) ? selected : selected[0];
        },
      }),
      method('pool.snapshot.get_instance', {
        description: 'One snapshot by name (dataset@snapshot).',
        args: [arg('id', Type.String()), arg('options', QueryOptions, { default: {} as never })],
        result: SnapshotEntry,
        handler: async (_c, id, options) => exists(id).then(async () => (await one(ctx, id, (options as Partial<QueryOptionsT>).extra ?? {}))!),
      }),
      method('pool.snapshot.create', {
        description: 'Take a snapshot named `name`, or named by `naming_schema` from the time; recursive (with exclude) takes the children too.',
        args: [arg('data', PoolSnapshotCreate)],
        result: SnapshotEntry,
        handler: (_c, data) => create(ctx, data),
      }),
      method('pool.snapshot.delete', {
        description: 'Destroy a snapshot (recursive: the same-named snapshots of the children too; defer: once its holds are released).',
        args: [arg('id', Type.String({ minLength: 1 })), arg('options', PoolSnapshotDeleteOptions, { default: { defer: false, recursive: false } })],
        result: Type.Literal(true),
        roles: ['SNAPSHOT_DELETE'],
        handler: async (_c, id, options) => {
          await exists(id);
          await zfsCall(() => z().snapshots.destroy(id, options));
          ctx.app.events.emit(SNAPSHOT_EVENT, 'removed', id, undefined, { extra: { recursive: options.recursive } });
          return true as const;
        },
      }),
      method('pool.snapshot.rollback', {
        description: 'Roll a dataset back to this snapshot; recursive destroys newer snapshots, recursive_rollback rolls back the children too.',
        args: [arg('id', Type.String({ minLength: 1 })), arg('options', PoolSnapshotRollbackOptions, { default: { recursive: false, recursive_clones: false, force: false, recursive_rollback: false } })],
        result: Type.Null(),
        handler: async (_c, id, o) => {
          await exists(id);
          const [dataset, snap] = id.split('@') as [string, string];
          const targets = [id];
          if (o.recursive_rollback) {
            const children = (await datasetItems(ctx, [dataset], { retrieve_children: false, properties: [], retrieve_user_props: false })).map((d) => d.id).filter((d) => d !== dataset);
            targets.push(...children.map((c) => `${c}@${snap}`));
          }
          for (const t of targets) await zfsCall(() => z().snapshots.rollback(t, { destroyNewer: o.recursive || o.recursive_clones, destroyClones: o.recursive_clones, force: o.force }));
          return null;
        },
      }),
      method('pool.snapshot.clone', {
        description: 'Make a new dataset (dataset_dst) from a snapshot.',
        args: [arg('data', PoolSnapshotClone)],
        result: Type.Literal(true),
        handler: async (_c, data) => {
          await exists(data.snapshot);
          if ((await ctx.poolOf(data.dataset_dst)) === null) throw new ValidationErrors([['snapshot_clone.dataset_dst', `zpool (${data.dataset_dst.split('/')[0]}) does not exist.`, ERRNO.ENOENT]]);
          await zfsCall(() => z().snapshots.clone(data.snapshot, data.dataset_dst, { properties: data.dataset_properties }), 'snapshot_clone');
          const [entry] = (await datasetItems(ctx, [data.dataset_dst], { retrieve_children: false })).filter((d) => d.id === data.dataset_dst);
          if (entry) ctx.app.events.emit(DATASET_EVENT, 'added', entry.id, entry);
          return true as const;
        },
      }),
      method('pool.snapshot.hold', {
        description: `Place the '${HOLD_TAG}' hold on a snapshot (recursive: on the children's too): it cannot be destroyed while held.`,
        args: [arg('id', Type.String({ minLength: 1 })), arg('options', RecursiveOption, { default: { recursive: false } })],
        result: Type.Null(),
        handler: async (_c, id, o) => {
          await exists(id);
          await zfsCall(() => z().snapshots.hold(HOLD_TAG, [id], o));
          return null;
        },
      }),
      method('pool.snapshot.release', {
        description: `Release the '${HOLD_TAG}' hold of a snapshot (recursive: of the children's too).`,
        args: [arg('id', Type.String({ minLength: 1 })), arg('options', RecursiveOption, { default: { recursive: false } })],
        result: Type.Null(),
        handler: async (_c, id, o) => {
          await exists(id);
          await zfsCall(() => z().snapshots.release(HOLD_TAG, [id], o));
          return null;
        },
      }),
    ],
    events: [{ name: SNAPSHOT_EVENT, description: 'Snapshots taken (ADDED, the entry) and deleted (REMOVED, extra.recursive).', roles: ['SNAPSHOT_READ'] }],
  };
}
