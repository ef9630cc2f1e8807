// Pools: list, properties, status (with vdev guids), create, destroy, export, import, scrub.
import type { CallOptions, ZfsCommands } from './commands.js';
import { ZfsCommandError, ZfsInputError, ZfsUnsupportedError } from './errors.js';
import { checkAbsolutePath, checkGuid, checkPoolName, checkPropertyName, checkPropertyValue } from './names.js';
import { poolCreateArgs, type PoolCreateSpec } from './pool-spec.js';
import { parseZpoolImport, parseZpoolStatus } from './parse-status.js';
import { parseGetTable, parseListTable } from './parse-tables.js';
import { parseZdbConfig } from './parse-zdb.js';
import type { ImportablePool, PoolListEntry, PoolStatus, PropertyTable } from './types.js';
import { parseExactInteger, parseNiceSize } from './units.js';
import { applyStatusGuids, applyZdbGuids } from './vdev-guids.js';

const LIST_COLUMNS = ['name', 'guid', 'health', 'size', 'allocated', 'free', 'freeing', 'fragmentation', 'capacity', 'dedupratio', 'altroot'] as const;

export interface ImportOptions {
  /** The pool's name or its numeric guid. */
  pool: string;
  /** Import under this name instead. */
  newName?: string;
  /** Directories to search for devices (-d); the default is ZFS's own. */
  dirs?: string[];
  /** -R: mount everything under this directory (TrueNAS uses /mnt). */
  altroot?: string;
  /** -f: import a pool that looks active elsewhere. */
  force?: boolean;
  /** -D: import a destroyed pool. */
  destroyed?: boolean;
  /** -o: pool properties for the import, e.g. { cachefile: 'none' }. */
  properties?: Record<string, string>;
}

export type ScrubAction = 'start' | 'stop' | 'pause';

function sizeOf(text: string | undefined, exact: boolean): number | null {
  if (text === undefined || text === '-' || text === '') return null;
  return exact ? parseExactInteger(text) : parseNiceSize(text);
}

export class Pools {
  constructor(private readonly c: ZfsCommands) {}

  /** `zpool list` of all pools or the named ones. Sizes are exact where ZFS has `-p`. */
  async list(names: readonly string[] = [], o?: CallOptions): Promise<PoolListEntry[]> {
    names.forEach((n, i) => checkPoolName(`names.${i}`, n));
    const d = this.c.dialect;
    const columns = LIST_COLUMNS.filter((col) => col === 'name' || d.poolProperties.includes(col));
    const args = ['list', '-H', ...(d.zpoolListParsable ? ['-p'] : []), '-o', columns.join(','), ...names];
    let out: string;
    try {
      out = (await this.c.zpool(args, o)).stdout;
    } catch (e) {
      // "no pools available" is an empty list, not a failure.
      if (names.length === 0 && e instanceof ZfsCommandError && /no pools available/.test(e.zfsMessage)) return [];
      throw e;
    }
    if (/^no pools available\s*$/m.test(out)) return [];
    const exact = d.zpoolListParsable;
    return parseListTable(out, columns).map((r) => {
      const frag = r.fragmentation;
      return {
        name: r.name!,
        guid: r.guid ?? '',
        health: r.health ?? 'UNKNOWN',
        size: sizeOf(r.size, exact),
        allocated: sizeOf(r.allocated, exact),
        free: sizeOf(r.free, exact),
        freeing: sizeOf(r.freeing, exact),
        fragmentation: frag === undefined || frag === '-' ? null : Number(frag.replace('%', '')),
        capacity: r.capacity === undefined ? null : Number(r.capacity.replace('%', '')),
        dedupratio: r.dedupratio ?? null,
        altroot: r.altroot === undefined || r.altroot === '-' ? null : r.altroot,
        raw: r,
        exact,
      };
    });
  }

  /** Pool properties with their sources (sources are NONE where `zpool get` has no scripted mode). */
  async properties(pools: readonly string[], properties: readonly string[], o?: CallOptions): Promise<PropertyTable> {
    pools.forEach((n, i) => checkPoolName(`pools.${i}`, n));
    properties.forEach((p, i) => checkPropertyName(`properties.${i}`, p));
    if (pools.length === 0 || properties.length === 0) return new Map();
    const d = this.c.dialect;
    if (d.zpoolGetScripted) {
      const out = await this.c.zpool(['get', '-H', '-p', '-o', 'name,property,value,source', properties.join(','), ...pools], o);
      return parseGetTable(out.stdout);
    }
    // zfs-fuse's `zpool get` prints an aligned table whose columns drift with long values;
    // `zpool list -H -o` gives the same values tab-separated (without sources).
    const known = properties.filter((p) => d.poolProperties.includes(p));
    const table: PropertyTable = new Map();
    if (known.length === 0) return table;
    const out = await this.c.zpool(['list', '-H', '-o', ['name', ...known].join(','), ...pools], o);
    for (const row of parseListTable(out.stdout, ['name', ...known])) {
      table.set(row.name!, new Map(known.map((k) => [k, { raw: row[k]!, source: 'NONE' as const, from: null }])));
    }
    return table;
  }

  /**
   * `zpool status` parsed, with vdev guids filled in (`-g` on OpenZFS, the cache file via
   * `zdb -C` on zfs-fuse, where cache and spare devices stay without a guid).
   */
  async status(name?: string, o?: CallOptions & { guids?: boolean }): Promise<PoolStatus[]> {
    if (name !== undefined) checkPoolName('name', name);
    const d = this.c.dialect;
    const flags = [...(d.zpoolStatusParsable ? ['-p'] : []), ...(d.zpoolStatusFullPaths ? ['-P'] : [])];
    const target = name === undefined ? [] : [name];
    const now = Date.now();
    const out = await this.c.zpool(['status', ...flags, ...target], o);
    const pools = parseZpoolStatus(out.stdout, now);
    if (o?.guids === false || pools.length === 0) return pools;
    if (d.zpoolStatusGuids) {
      const g = parseZpoolStatus((await this.c.zpool(['status', '-g', ...flags, ...target], o)).stdout, now);
      for (const p of pools) {
        const same = g.find((x) => x.name === p.name);
        if (same) applyStatusGuids(p, same);
      }
    } else if (d.zdbConfig) {
      try {
        const cfg = parseZdbConfig((await this.c.zdb(['-C'], { ...o, timeoutMs: 20_000 })).stdout);
        for (const p of pools) {
          const same = cfg.find((x) => x.name === p.name);
          if (same) applyZdbGuids(p, same);
        }
      } catch (e) {
        // A pool imported with cachefile=none is not in the cache file; its guids stay unknown.
        if (!(e instanceof ZfsCommandError)) throw e;
      }
    }
    return pools;
  }

  async create(spec: PoolCreateSpec, o?: CallOptions): Promise<void> {
    await this.c.zpool(poolCreateArgs(spec, this.c.dialect), { timeoutMs: 600_000, ...o });
  }

  async destroy(name: string, opts: { force?: boolean } = {}, o?: CallOptions): Promise<void> {
    checkPoolName('name', name);
    await this.c.retryBusy(() => this.c.zpool(['destroy', ...(opts.force ? ['-f'] : []), name], o), o?.signal);
  }

  async export(name: string, opts: { force?: boolean } = {}, o?: CallOptions): Promise<void> {
    checkPoolName('name', name);
    await this.c.retryBusy(() => this.c.zpool(['export', ...(opts.force ? ['-f'] : []), name], { timeoutMs: 600_000, ...o }), o?.signal);
  }

  /** Pools that could be imported (`zpool import` without a pool), found in `dirs` or ZFS's default places. */
  async importable(opts: { dirs?: string[]; destroyed?: boolean } = {}, o?: CallOptions): Promise<ImportablePool[]> {
    const args = ['import'];
    (opts.dirs ?? []).forEach((dir, i) => args.push('-d', checkAbsolutePath(`dirs.${i}`, dir)));
    if (opts.destroyed) args.push('-D');
    let out: string;
    try {
      out = (await this.c.zpool(args, { timeoutMs: 600_000, ...o })).stdout;
    } catch (e) {
      // Nothing to import: zfs-fuse exits 1 silently, OpenZFS says "no pools available to import".
      if (e instanceof ZfsCommandError && e.exitCode === 1 && (e.zfsMessage === '' || /no pools available/.test(e.zfsMessage))) return [];
      throw e;
    }
    return parseZpoolImport(out);
  }

  async import(opts: ImportOptions, o?: CallOptions): Promise<void> {
    if (typeof opts.pool !== 'string' || opts.pool === '') throw new ZfsInputError('pool', 'a pool name or guid is needed');
    const pool = /^\d+$/.test(opts.pool) ? checkGuid('pool', opts.pool) : checkPoolName('pool', opts.pool);
    const args = ['import'];
    (opts.dirs ?? []).forEach((dir, i) => args.push('-d', checkAbsolutePath(`dirs.${i}`, dir)));
    if (opts.destroyed) args.push('-D');
    if (opts.force) args.push('-f');
    for (const [k, v] of Object.entries(opts.properties ?? {})) {
      args.push('-o', `${checkPropertyName(`properties.${k}`, k)}=${checkPropertyValue(`properties.${k}`, v)}`);
    }
    if (opts.altroot !== undefined) args.push('-R', checkAbsolutePath('altroot', opts.altroot));
    args.push(pool);
    if (opts.newName !== undefined) args.push(checkPoolName('newName', opts.newName));
    await this.c.zpool(args, { timeoutMs: 600_000, ...o });
  }

  /** Starts, stops (cancels) or pauses a scrub. Pausing needs a ZFS that has `zpool scrub -p`. */
  async scrub(name: string, action: ScrubAction = 'start', o?: CallOptions): Promise<void> {
    checkPoolName('name', name);
    const flag = { start: [], stop: ['-s'], pause: ['-p'] }[action];
    if (flag === undefined) throw new ZfsInputError('action', 'must be start, stop or pause');
    if (action === 'pause' && !this.c.dialect.scrubPause) throw new ZfsUnsupportedError('pausing a scrub', `${this.c.dialect.flavor} has no zpool scrub -p`);
    await this.c.zpool(['scrub', ...flag, name], o);
  }
}
