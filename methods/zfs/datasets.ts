// Filesystems and volumes: create, destroy, set, inherit, get (many datasets and properties in
// one `zfs get -H -p`), list.
import type { CallOptions, ZfsCommands } from './commands.js';
import type { Dialect } from './dialect.js';
import { ZfsInputError, ZfsUnsupportedError } from './errors.js';
import { checkDatasetName, checkDatasetOrSnapshotName, checkPropertyName, checkPropertyValue } from './names.js';
import { parseGetTable, parseListTable } from './parse-tables.js';
import type { PropertyTable } from './types.js';

export type DatasetType = 'filesystem' | 'volume' | 'snapshot';

export interface CreateDatasetOptions {
  /** Properties set at creation (-o). */
  properties?: Record<string, string>;
  /** -p: create missing parents. */
  parents?: boolean;
  /** A volume of this many bytes instead of a filesystem (-V). */
  volumeSize?: number;
  /** Volume without a reservation (-s). */
  sparse?: boolean;
}

export interface GetOptions {
  /** Property names, or 'all'. */
  properties: readonly string[] | 'all';
  recursive?: boolean;
  /** With recursive: how deep (-d). */
  depth?: number;
  /** Only rows of these types; filtered by ZFS where it can (-t), here otherwise. */
  types?: readonly DatasetType[];
}

const ENCRYPTION_PROPS = ['encryption', 'keyformat', 'keylocation', 'pbkdf2iters'];

/** Checked "name=value" pairs; encryption properties are refused where ZFS has no encryption. */
export function propertyPairs(field: string, props: Record<string, string> | undefined, dialect: Dialect): string[] {
  if (props === undefined) return [];
  if (typeof props !== 'object' || props === null) throw new ZfsInputError(field, 'must be an object of property names to values');
  return Object.entries(props).map(([k, v]) => {
    checkPropertyName(`${field}.${k}`, k);
    checkPropertyValue(`${field}.${k}`, v);
    if (ENCRYPTION_PROPS.includes(k) && !dialect.encryption) {
      throw new ZfsUnsupportedError('encryption', `${dialect.flavor} has no native encryption (${field}.${k})`);
    }
    return `${k}=${v}`;
  });
}

/**
 * zfs-fuse reports a mounted read-only dataset's readonly as "off", source temporary (its FUSE
 * mount is read-write; the read-only-ness is enforced inside), while a writable one reads "off"
 * from its real source. So "off, temporary" means on; whether set here or inherited is not said:
 * inherited from the nearest ancestor in the table that is read-only too, else local.
 */
export function fixFuseReadonly(table: PropertyTable): void {
  const on = (name: string) => table.get(name)?.get('readonly')?.raw === 'on';
  for (const [name, row] of table) {
    const ro = row.get('readonly');
    if (ro === undefined || ro.source !== 'TEMPORARY' || ro.raw !== 'off' || name.includes('@')) continue;
    let from: string | null = null;
    for (let i = name.lastIndexOf('/'); i > 0 && from === null; i = name.lastIndexOf('/', i - 1)) if (on(name.slice(0, i))) from = name.slice(0, i);
    row.set('readonly', from === null ? { raw: 'on', source: 'LOCAL', from: null } : { raw: 'on', source: 'INHERITED', from });
  }
}

export class Datasets {
  constructor(private readonly c: ZfsCommands) {}

  async create(name: string, opts: CreateDatasetOptions = {}, o?: CallOptions): Promise<void> {
    checkDatasetName('name', name);
    const d = this.c.dialect;
    const args = ['create', ...(opts.parents ? ['-p'] : [])];
    if (opts.volumeSize !== undefined) {
      if (!Number.isSafeInteger(opts.volumeSize) || opts.volumeSize <= 0) throw new ZfsInputError('volumeSize', 'must be a positive number of bytes');
      if (opts.sparse) args.push('-s');
      args.push('-V', String(opts.volumeSize));
    }
    for (const p of propertyPairs('properties', opts.properties, d)) args.push('-o', p);
    args.push(name);
    await this.c.zfs(args, o);
  }

  /** Destroys a filesystem or volume; `recursive` takes its children and snapshots (-r), `dependents` clones too (-R). */
  async destroy(name: string, opts: { recursive?: boolean; dependents?: boolean; force?: boolean } = {}, o?: CallOptions): Promise<void> {
    checkDatasetName('name', name);
    const args = ['destroy', ...(opts.recursive ? ['-r'] : []), ...(opts.dependents ? ['-R'] : []), ...(opts.force ? ['-f'] : []), name];
    await this.c.retryBusy(() => this.c.zfs(args, o), o?.signal);
  }

  /** Sets properties; one command where ZFS takes several, else one per property (in the given order). */
  async set(name: string, props: Record<string, string>, o?: CallOptions): Promise<void> {
    checkDatasetOrSnapshotName('name', name);
    const d = this.c.dialect;
    const pairs = propertyPairs('properties', props, d);
    if (pairs.length === 0) return;
    if (d.zfsSetMany) {
      await this.c.zfs(['set', ...pairs, name], o);
      return;
    }
    for (const p of pairs) await this.c.zfs(['set', p, name], o);
  }

  async inherit(name: string, property: string, opts: { recursive?: boolean } = {}, o?: CallOptions): Promise<void> {
    checkDatasetOrSnapshotName('name', name);
    checkPropertyName('property', property);
    await this.c.zfs(['inherit', ...(opts.recursive ? ['-r'] : []), property, name], o);
  }

  /**
   * Properties of many datasets (and/or snapshots) in one `zfs get -H -p`: exact raw values
   * and their sources. No names means every dataset. A missing name is an error (ENOENT)
   * naming the dataset.
   */
  async get(names: readonly string[], opts: GetOptions, o?: CallOptions): Promise<PropertyTable> {
    names.forEach((n, i) => checkDatasetOrSnapshotName(`names.${i}`, n));
    const props = opts.properties === 'all' ? ['all'] : opts.properties.map((p, i) => checkPropertyName(`properties.${i}`, p));
    if (props.length === 0) return new Map();
    const d = this.c.dialect;
    const args = ['get', '-H', '-p', '-o', 'name,property,value,source'];
    if (opts.recursive) args.push('-r');
    if (opts.depth !== undefined) {
      if (!Number.isInteger(opts.depth) || opts.depth < 0) throw new ZfsInputError('depth', 'must be a non-negative integer');
      args.push('-d', String(opts.depth));
    }
    const types = opts.types;
    // Without `zfs get -t` the type is fetched too and the rows are filtered here.
    const filterHere = types !== undefined && !d.zfsGetTypes;
    if (types !== undefined && d.zfsGetTypes) args.push('-t', types.join(','));
    const wanted = filterHere && props[0] !== 'all' && !props.includes('type') ? [...props, 'type'] : props;
    args.push(wanted.join(','), ...names);
    const table = parseGetTable((await this.c.zfs(args, { timeoutMs: 600_000, ...o })).stdout);
    if (d.busyAfterUnmount) fixFuseReadonly(table);
    if (!filterHere) return table;
    for (const [name, row] of table) {
      const t = row.get('type')?.raw;
      if (t === undefined || !types!.includes(t as DatasetType)) table.delete(name);
      else if (!props.includes('type') && props[0] !== 'all') row.delete('type');
    }
    return table;
  }

  /** Names and types under `root` (or everywhere), filesystems and volumes by default. */
  async list(root?: string, opts: { recursive?: boolean; types?: readonly DatasetType[] } = {}, o?: CallOptions): Promise<Array<{ name: string; type: DatasetType }>> {
    if (root !== undefined) checkDatasetName('root', root);
    const args = ['list', '-H', '-o', 'name,type', '-t', (opts.types ?? ['filesystem', 'volume']).join(',')];
    if (root !== undefined && opts.recursive !== false) args.push('-r');
    if (root !== undefined) args.push(root);
    const out = await this.c.zfs(args, { timeoutMs: 600_000, ...o });
    return parseListTable(out.stdout, ['name', 'type']).map((r) => ({ name: r.name!, type: r.type as DatasetType }));
  }

  async mount(name: string, o?: CallOptions): Promise<void> {
    checkDatasetName('name', name);
    await this.c.zfs(['mount', name], o);
  }

  async unmount(name: string, opts: { force?: boolean } = {}, o?: CallOptions): Promise<void> {
    checkDatasetName('name', name);
    await this.c.zfs(['unmount', ...(opts.force ? ['-f'] : []), name], o);
  }
}
