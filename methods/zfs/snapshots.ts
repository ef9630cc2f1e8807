// Snapshots: create, destroy, list (through the index), rollback, clone, hold, release, holds.
import type { CallOptions, ZfsCommands } from './commands.js';
import { propertyPairs } from './datasets.js';
import { ZfsCommandError, ZfsInputError } from './errors.js';
import { checkDatasetName, checkHoldTag, checkSnapshotName } from './names.js';
import { holdRecords, parseGetTable, parseHolds } from './parse-tables.js';
import { SnapshotIndex, type SnapshotListOptions } from './snapshot-index.js';
import type { HoldRecord, SnapshotRecord } from './types.js';

function checkSnapshots(field: string, names: readonly string[]): void {
  if (!Array.isArray(names) || names.length === 0) throw new ZfsInputError(field, 'at least one snapshot is needed');
  names.forEach((n, i) => checkSnapshotName(`${field}.${i}`, n));
}

export class Snapshots {
  readonly index: SnapshotIndex;

  constructor(private readonly c: ZfsCommands) {
    this.index = new SnapshotIndex(c);
  }

  /** `dataset@name`, of the dataset and (recursive) every descendant, atomically. */
  async create(name: string, opts: { recursive?: boolean; properties?: Record<string, string> } = {}, o?: CallOptions): Promise<void> {
    checkSnapshotName('name', name);
    const args = ['snapshot', ...(opts.recursive ? ['-r'] : [])];
    for (const p of propertyPairs('properties', opts.properties, this.c.dialect)) args.push('-o', p);
    await this.c.zfs([...args, name], o);
  }

  /** Destroys a snapshot (recursive: the same-named snapshot of every descendant; defer: once unheld). */
  async destroy(name: string, opts: { recursive?: boolean; defer?: boolean } = {}, o?: CallOptions): Promise<void> {
    checkSnapshotName('name', name);
    const args = ['destroy', ...(opts.recursive ? ['-r'] : []), ...(opts.defer ? ['-d'] : []), name];
    await this.c.retryBusy(() => this.c.zfs(args, o), o?.signal);
  }

  /** Fast listing (see snapshot-index.ts): immutable fields only. */
  list(opts: SnapshotListOptions = {}, o?: CallOptions): Promise<SnapshotRecord[]> {
    return this.index.list(opts, o);
  }

  /**
   * Rolls a dataset back to a snapshot. ZFS refuses when newer snapshots exist unless
   * destroyNewer (-r); destroyClones (-R) also destroys their clones; force (-f) unmounts.
   */
  async rollback(name: string, opts: { destroyNewer?: boolean; destroyClones?: boolean; force?: boolean } = {}, o?: CallOptions): Promise<void> {
    checkSnapshotName('name', name);
    const args = ['rollback', ...(opts.destroyNewer ? ['-r'] : []), ...(opts.destroyClones ? ['-R'] : []), ...(opts.force ? ['-f'] : []), name];
    await this.c.retryBusy(() => this.c.zfs(args, { timeoutMs: 600_000, ...o }), o?.signal);
  }

  async clone(snapshot: string, target: string, opts: { properties?: Record<string, string>; parents?: boolean } = {}, o?: CallOptions): Promise<void> {
    checkSnapshotName('snapshot', snapshot);
    checkDatasetName('target', target);
    const args = ['clone', ...(opts.parents ? ['-p'] : [])];
    for (const p of propertyPairs('properties', opts.properties, this.c.dialect)) args.push('-o', p);
    await this.c.zfs([...args, snapshot, target], o);
  }

  async hold(tag: string, snapshots: readonly string[], opts: { recursive?: boolean } = {}, o?: CallOptions): Promise<void> {
    checkHoldTag('tag', tag);
    checkSnapshots('snapshots', snapshots);
    await this.c.zfs(['hold', ...(opts.recursive ? ['-r'] : []), tag, ...snapshots], o);
  }

  async release(tag: string, snapshots: readonly string[], opts: { recursive?: boolean } = {}, o?: CallOptions): Promise<void> {
    checkHoldTag('tag', tag);
    checkSnapshots('snapshots', snapshots);
    await this.c.zfs(['release', ...(opts.recursive ? ['-r'] : []), tag, ...snapshots], o);
  }

  /**
   * Holds of each snapshot: the count (userrefs) always, the tags where ZFS can list them
   * (zfs-fuse's `zfs holds` needs a Python helper Debian does not ship: tags are null there).
   */
  async holds(snapshots: readonly string[], o?: CallOptions): Promise<HoldRecord[]> {
    checkSnapshots('snapshots', snapshots);
    const refs = parseGetTable((await this.c.zfs(['get', '-H', '-p', '-o', 'name,property,value,source', 'userrefs', ...snapshots], o)).stdout);
    const userrefs = new Map([...refs].map(([n, p]) => [n, Number(p.get('userrefs')?.raw ?? 0)]));
    let tags: Map<string, string[]> | null = null;
    if (this.c.dialect.holdsList) {
      const flags = this.c.dialect.holdsParsable ? ['-H', '-p'] : ['-H'];
      tags = parseHolds((await this.c.zfs(['holds', ...flags, ...snapshots], o)).stdout);
    }
    return holdRecords(snapshots, userrefs, tags);
  }

  /**
   * Whether a snapshot carries a hold with this tag. Where tags cannot be listed, ZFS is asked
   * to place the hold: "tag already exists" means yes; if it was placed, it is released again
   * at once (the snapshot was briefly held, which only delays a destroy).
   */
  async hasHold(snapshot: string, tag: string, o?: CallOptions): Promise<boolean> {
    checkSnapshotName('snapshot', snapshot);
    checkHoldTag('tag', tag);
    if (this.c.dialect.holdsList) {
      const [r] = await this.holds([snapshot], o);
      return r!.tags!.includes(tag);
    }
    const [r] = await this.holds([snapshot], o);
    if (r!.count === 0) return false;
    try {
      await this.c.zfs(['hold', tag, snapshot], o);
    } catch (e) {
      if (e instanceof ZfsCommandError && e.errno === 'EEXIST') return true;
      throw e;
    }
    await this.c.zfs(['release', tag, snapshot], o);
    return false;
  }
}
