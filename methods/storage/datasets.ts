// pool.dataset.* (MODULES.md 5.6): filesystems and volumes of the managed pools as TrueNAS's
// items (properties as {parsed, rawvalue, value, source, source_info}, user properties, children
// nested), with the flat / retrieve_children / properties / retrieve_user_props extras;
// create / update / delete with TrueNAS's checks and messages; pool.dataset.details; and the
// pool.dataset.query event (ADDED on create, CHANGED on update, REMOVED on delete).
import { arg, CallError, ERRNO, method, Type, ValidationErrors } from '#midship/module-api';
import { DatasetEntry, PoolDatasetCreate, PoolDatasetDeleteOptions, PoolDatasetUpdate, type DatasetEntryT, type PoolDatasetCreateT, type PoolDatasetUpdateT } from '../../schemas/pool_dataset.js';
import { ZfsInputError } from '../zfs/errors.js';
import { mapDatasets, type DatasetMapOptions } from '../zfs/map-dataset.js';
import { checkDatasetName } from '../zfs/names.js';
import type { StorageContext } from './context.js';
import { FILESYSTEM_ONLY, propertyChanges, recordsizeChoices, validateUserProperties, VOLUME_ONLY } from './dataset-props.js';
import { zfsCall } from './errors.js';
import type { Part } from './part.js';
import { asyncQueryMethod, getInstanceMethod, hinted } from './query.js';

export const DATASET_EVENT = 'pool.dataset.query';

const within = (name: string, root: string) => name === root || name.startsWith(`${root}/`);
const parentOf = (name: string) => name.slice(0, Math.max(0, name.lastIndexOf('/')));

export interface DatasetQueryExtra {
  flat?: boolean;
  retrieve_children?: boolean;
  properties?: string[] | null;
  retrieve_user_props?: boolean;
  snapshots_count?: boolean;
}

/**
 * Flat items (children empty) of the managed, imported pools, restricted to `ids` and their
 * subtrees. A whole pool's items are mapped once per version of its table and copied per call
 * (each call nests its own children); a few datasets of a pool are mapped as asked, so a create
 * or update, which changes the table, does not map every dataset of the pool again.
 */
async function flatItems(ctx: StorageContext, ids: readonly unknown[] | null, o: DatasetMapOptions): Promise<DatasetEntryT[]> {
  const asked = (name: string) => ids === null || ids.some((id) => typeof id === 'string' && within(name, id));
  const out: DatasetEntryT[] = [];
  for (const { name: pool, guid } of (await ctx.imported()).filter((p) => ids === null || ids.some((id) => typeof id === 'string' && within(id, p.name)))) {
    const table = await zfsCall(() => ctx.datasetCache.table(pool, guid));
    if (ids === null || ids.includes(pool)) {
      const all = ctx.datasetCache.derived(table, JSON.stringify([o.properties ?? null, o.userProperties]), () => mapDatasets(table, { ...o, flat: true }));
      for (const item of all) if (asked(item.id)) out.push({ ...item, children: [] });
    } else {
      out.push(...mapDatasets(new Map([...table].filter(([name]) => asked(name))), { ...o, flat: true }));
    }
  }
  return out;
}

/** Items for a table: each with its children nested; flat: all of them, else the top ones. */
export async function datasetItems(ctx: StorageContext, ids: readonly unknown[] | null, extra: DatasetQueryExtra): Promise<DatasetEntryT[]> {
  const items = await flatItems(ctx, ids, { ...(Array.isArray(extra.properties) ? { properties: extra.properties } : {}), userProperties: extra.retrieve_user_props !== false });
  if (extra.snapshots_count === true) {
    const counts = new Map<string, number>();
    for (const s of await zfsCall(() => ctx.zfs.snapshots.list({ datasets: [...new Set(items.map((i) => i.pool))] }))) counts.set(s.dataset, (counts.get(s.dataset) ?? 0) + 1);
    for (const i of items) i.snapshot_count = counts.get(i.id) ?? 0;
  }
  if (extra.retrieve_children === false) return items;
  const byName = new Map(items.map((i) => [i.id, i]));
  const roots: DatasetEntryT[] = [];
  for (const i of items) {
    const parent = byName.get(parentOf(i.id));
    if (parent) parent.children.push(i);
    else roots.push(i);
  }
  return extra.flat === false ? roots : items;
}

async function instance(ctx: StorageContext, id: string): Promise<DatasetEntryT | undefined> {
  return (await datasetItems(ctx, [id], {})).find((d) => d.id === id);
}

function checkName(name: string, attr: string, v: ValidationErrors): boolean {
  if (!name.includes('/')) {
    v.add(attr, 'You need a full name, e.g. pool/newdataset');
    return false;
  }
  try {
    checkDatasetName(attr, name);
  } catch (e) {
    if (!(e instanceof ZfsInputError)) throw e;
    v.add(attr, 'Invalid dataset name');
    return false;
  }
  if (name.endsWith(' ')) {
    v.add(attr, 'Trailing spaces are not permitted in dataset names');
    return false;
  }
  return true;
}

function prop(d: DatasetEntryT, name: string): { rawvalue: string | null; parsed: unknown } | undefined {
  return d[name] as { rawvalue: string | null; parsed: unknown } | undefined;
}

async function create(ctx: StorageContext, data: PoolDatasetCreateT): Promise<DatasetEntryT> {
  const S = 'pool_dataset_create';
  const v = new ValidationErrors();
  const z = ctx.zfs;
  if (!checkName(data.name, `${S}.name`, v)) v.throwIfAny();
  const pool = data.name.split('/')[0]!;
  if ((await ctx.poolOf(data.name)) === null) v.add(`${S}.name`, `zpool (${pool}) does not exist.`, ERRNO.ENOENT);
  v.throwIfAny();
  let parentName = parentOf(data.name);
  let parent = await instance(ctx, parentName);
  if (parent === undefined && data.create_ancestors) {
    while (parent === undefined && parentName.includes('/')) {
      parentName = parentOf(parentName);
      parent = await instance(ctx, parentName);
    }
  }
  if (parent === undefined) v.add(`${S}.name`, `Parent dataset (${parentOf(data.name)}) does not exist.`, ERRNO.ENOENT);
  else if (await instance(ctx, data.name)) v.add(`${S}.name`, `${data.name} already exists.`, ERRNO.EEXIST);
  else if (parent.type === 'VOLUME') v.add(`${S}.name`, `${parent.id}: parent may not be a ZFS volume`);
  else if (prop(parent, 'readonly')?.rawvalue === 'on') v.add(`${S}.readonly`, `Turn off readonly mode on ${parent.id} to create ${data.name.split('/').pop()}`);
  v.throwIfAny();

  const volume = data.type === 'VOLUME';
  for (const f of volume ? FILESYSTEM_ONLY : VOLUME_ONLY) {
    if (data[f] !== undefined) v.add(`${S}.${f}`, `This field is not valid for ${volume ? 'VOLUME' : 'FILESYSTEM'}`);
  }
  if (data.encryption) v.add(`${S}.encryption`, z.dialect.encryption ? 'Encryption is not supported by Midship yet (it keeps no dataset keys)' : `Encryption is not supported by the installed ZFS (${z.dialect.flavor} has no native encryption)`, ERRNO.EOPNOTSUPP);
  if (data.share_type !== 'GENERIC' && !z.dialect.datasetProperties.includes('acltype')) {
    v.add(`${S}.share_type`, `Share type ${data.share_type} needs ACL types (acltype), which the installed ZFS (${z.dialect.flavor}) does not have`, ERRNO.EOPNOTSUPP);
  }
  if (typeof data.recordsize === 'string' && data.recordsize !== 'INHERIT' && !recordsizeChoices(z.dialect).includes(data.recordsize)) {
    v.add(`${S}.recordsize`, `'${data.recordsize}' is an invalid recordsize.`);
  }
  if (volume) {
    if (data.volsize === undefined) v.add(`${S}.volsize`, 'Field required');
    else {
      const avail = Number(prop(parent!, 'available')?.rawvalue ?? 0);
      if (data.volsize > avail * 0.8 && data.force_size !== true) v.add(`${S}.volsize`, 'It is not recommended to use more than 80% of your available space for VOLUME');
      const bs = data.volblocksize === undefined ? 16384 : data.volblocksize.startsWith('512') ? 512 : Number(data.volblocksize.slice(0, -1)) * 1024;
      if (data.volsize % bs !== 0) v.add(`${S}.volsize`, 'Volume size should be a multiple of volume block size');
    }
  }
  validateUserProperties(v, `${S}.user_properties`, data.user_properties);
  const changes = propertyChanges(data, S, z.dialect, v, true);
  v.throwIfAny();
  for (const up of data.user_properties) changes.set[up.key] = up.value;
  const { volsize: _s, ...props } = changes.set;
  await zfsCall(() => z.datasets.create(data.name, {
    properties: props,
    parents: data.create_ancestors,
    ...(volume ? { volumeSize: data.volsize!, sparse: data.sparse === true } : {}),
  }), S);
  const entry = (await instance(ctx, data.name))!;
  ctx.app.events.emit(DATASET_EVENT, 'added', entry.id, entry);
  return entry;
}

async function update(ctx: StorageContext, id: string, data: PoolDatasetUpdateT): Promise<DatasetEntryT> {
  const S = 'pool_dataset_update';
  const v = new ValidationErrors();
  const z = ctx.zfs;
  const current = (await ctx.poolOf(id)) === null ? undefined : await instance(ctx, id);
  if (current === undefined) throw new ValidationErrors([['id', `${id} does not exist`, ERRNO.ENOENT]]);
  const volume = current.type === 'VOLUME';
  for (const f of volume ? FILESYSTEM_ONLY : VOLUME_ONLY) {
    if (data[f] !== undefined) v.add(`${S}.${f}`, `This field is not valid for ${volume ? 'VOLUME' : 'FILESYSTEM'}`);
  }
  if (volume && data.volsize !== undefined && data.volsize < Number(prop(current, 'volsize')?.parsed ?? 0)) {
    v.add(`${S}.volsize`, 'You cannot shrink a zvol from GUI, this may lead to data loss.');
  }
  if (typeof data.recordsize === 'string' && data.recordsize !== 'INHERIT' && !recordsizeChoices(z.dialect).includes(data.recordsize)) {
    v.add(`${S}.recordsize`, `'${data.recordsize}' is an invalid recordsize.`);
  }
  const changes = propertyChanges(data, S, z.dialect, v, false);
  let updates = data.user_properties_update ?? [];
  if (data.user_properties !== undefined && data.user_properties_update !== undefined) {
    v.add(`${S}.user_properties_update`, 'Should not be specified when "user_properties" are explicitly specified');
  } else if (data.user_properties !== undefined) {
    validateUserProperties(v, `${S}.user_properties`, data.user_properties);
    const keep = new Set(data.user_properties.map((p) => p.key));
    updates = [...data.user_properties, ...Object.keys(current.user_properties).filter((k) => !keep.has(k)).map((key) => ({ key, remove: true }))];
  } else {
    validateUserProperties(v, `${S}.user_properties_update`, updates);
    updates.forEach((p, i) => {
      if (p.value !== undefined && p.remove) v.add(`${S}.user_properties_update.${i}.remove`, 'When "value" is specified, this cannot be set');
      else if (p.value === undefined && !p.remove) v.add(`${S}.user_properties_update.${i}.value`, 'Either "value" or "remove" must be specified');
    });
  }
  v.throwIfAny();
  for (const p of updates) {
    if (p.value !== undefined) changes.set[p.key] = p.value;
    else if (p.remove) changes.inherit.push(p.key);
  }
  await zfsCall(() => z.datasets.set(id, changes.set), S);
  for (const p of changes.inherit) await zfsCall(() => z.datasets.inherit(id, p), S);
  const entry = (await instance(ctx, id))!;
  ctx.app.events.emit(DATASET_EVENT, 'changed', entry.id, entry);
  return entry;
}

async function destroy(ctx: StorageContext, id: string, o: { recursive: boolean; force: boolean }): Promise<true> {
  const z = ctx.zfs;
  const items = (await ctx.poolOf(id)) === null ? [] : await datasetItems(ctx, [id], { retrieve_children: false, properties: [] });
  if (!items.some((d) => d.id === id)) throw new ValidationErrors([['id', `${id} does not exist`, ERRNO.ENOENT]]);
  const below = items.filter((d) => d.id !== id).map((d) => d.id);
  const isPool = !id.includes('/');
  if (!o.recursive && below.length > 0) throw new CallError(`Failed to delete dataset: cannot destroy '${id}': filesystem has children`, ERRNO.ENOTEMPTY);
  if (isPool) {
    // The root dataset is the pool: with recursive, its children go and it stays (TrueNAS).
    if (!o.recursive) throw new CallError(`Failed to delete dataset: cannot destroy '${id}': the root dataset of a pool goes with the pool (pool.export with destroy)`, ERRNO.EINVAL);
    for (const child of below.filter((n) => parentOf(n) === id)) await zfsCall(() => z.datasets.destroy(child, { recursive: true, force: o.force }));
  } else {
    // -r also takes the dataset's own snapshots, which TrueNAS's delete destroys too.
    await zfsCall(() => z.datasets.destroy(id, { recursive: true, force: o.force }));
  }
  const gone = isPool ? below : [id, ...below];
  for (const name of gone.reverse()) ctx.app.events.emit(DATASET_EVENT, 'removed', name);
  await ctx.runHooks('datasetsDestroyed', gone);
  return true;
}

export function datasetPart(ctx: StorageContext): Part {
  const read = async (filter: Parameters<typeof hinted>[0], extra: Record<string, unknown>) => {
    // A pool's datasets are the subtree of its root dataset: `pool = P` reads only that pool.
    const ids = hinted(filter, 'id') ?? hinted(filter, 'name') ?? hinted(filter, 'pool');
    return datasetItems(ctx, ids, extra as DatasetQueryExtra);
  };
  return {
    services: [{ name: 'pool.dataset', type: 'crud', rolePrefix: 'DATASET' }],
    methods: [
      asyncQueryMethod('pool.dataset.query', 'Filesystems and volumes of the managed pools. extra: flat (true), retrieve_children (true), properties (ZFS names; default the base set), retrieve_user_props (true), snapshots_count.', read),
      getInstanceMethod('pool.dataset.get_instance', 'One dataset by name, with its children.', Type.String(), DatasetEntry, read),
      method('pool.dataset.create', {
        description: 'Create a filesystem or volume (type FILESYSTEM or VOLUME); returns its entry.',
        args: [arg('data', PoolDatasetCreate)],
        result: DatasetEntry,
        handler: (_c, data) => create(ctx, data as PoolDatasetCreateT),
      }),
      method('pool.dataset.update', {
        description: 'Change a dataset\'s properties (INHERIT inherits); user_properties_update sets or removes user properties.',
        args: [arg('id', Type.String({ minLength: 1 })), arg('data', PoolDatasetUpdate)],
        result: DatasetEntry,
        handler: (_c, id, data) => update(ctx, id, data as PoolDatasetUpdateT),
      }),
      method('pool.dataset.delete', {
        description: 'Destroy a dataset and its snapshots; recursive also its children (of a pool\'s root: only its children).',
        args: [arg('id', Type.String({ minLength: 1 })), arg('options', PoolDatasetDeleteOptions, { default: { recursive: false, force: false } })],
        result: Type.Literal(true),
        roles: ['DATASET_DELETE'],
        handler: (_c, id, options) => destroy(ctx, id, options),
      }),
      method('pool.dataset.details', {
        description: 'Every dataset (flat, children nested) with its snapshot count and the tasks using it.',
        args: [],
        result: Type.Array(Type.Unknown()),
        roles: ['DATASET_READ'],
        handler: async () => {
          const items = await datasetItems(ctx, null, { snapshots_count: true });
          const count = (list: Array<(d: string) => number>, d: string) => list.reduce((n, f) => n + f(d), 0);
          for (const d of items) {
            const reservation = prop(d, 'reservation')?.parsed;
            const refreservation = prop(d, 'refreservation')?.parsed;
            Object.assign(d, {
              thick_provisioned: Boolean(reservation) || Boolean(refreservation),
              nfs_shares: [], smb_shares: [], webshare_shares: [], iscsi_shares: [], nvmet_shares: [], vms: [], containers: [], apps: [],
              replication_tasks_count: count(ctx.taskCounters.replication, d.id),
              snapshot_tasks_count: count(ctx.taskCounters.snapshot, d.id),
              cloudsync_tasks_count: 0,
              rsync_tasks_count: 0,
            });
          }
          return items;
        },
      }),
      method('pool.dataset.recordsize_choices', {
        description: 'Record sizes the installed ZFS takes.',
        args: [arg('pool_name', Type.Union([Type.String(), Type.Null()]), { default: null })],
        result: Type.Array(Type.String()),
        roles: ['DATASET_READ'],
        handler: () => recordsizeChoices(ctx.zfs.dialect),
      }),
    ],
    events: [{ name: DATASET_EVENT, description: 'Datasets created (ADDED, the entry), updated (CHANGED, the entry) and deleted (REMOVED).', roles: ['DATASET_READ'] }],
  };
}
