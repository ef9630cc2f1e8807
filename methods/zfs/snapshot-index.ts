// Listing snapshots fast. `zfs list -t snapshot` costs the ZFS side per snapshot (zfs-fuse:
// about 0.3 ms of its daemon's CPU each, 3 s for 10,000; openzfs/zfs#8587), so the listing is
// kept per pool and per dataset, and only what provably changed is read again:
//  - OpenZFS 2.2+: every dataset's `snapshots_changed` (one cheap read of the datasets) says
//    which datasets to list again;
//  - otherwise: the pool's history (`zpool history -i`, which records every snapshot create,
//    destroy, rename, rollback and receive) is compared with the one seen last time; the new
//    lines name the datasets to list again (history-delta.ts), checked against the number of
//    snapshots ZFS says it created and destroyed. Anything unclear means a full re-read.
// Only fields that never change for a snapshot are kept (name, createtxg, creation, guid,
// referenced); mutable ones (used, userrefs, user properties) are read fresh by the caller.
import { createHash } from 'node:crypto';
import type { CallOptions, ZfsCommands } from './commands.js';
import { ZfsCommandError } from './errors.js';
import { historyDelta, type RefreshTarget } from './history-delta.js';
import { checkDatasetName } from './names.js';
import { parseGetTable, parseListTable } from './parse-tables.js';
import type { SnapshotRecord } from './types.js';
import { parseExactInteger } from './units.js';

const FIELDS = ['createtxg', 'creation', 'guid', 'referenced'] as const;

interface PoolCache {
  guid: string;
  /** dataset -> its snapshots, oldest first. */
  byDataset: Map<string, SnapshotRecord[]>;
  /** History path: how many lines were seen and the hash of exactly those lines. */
  historyLines: number;
  historyHash: string;
  /** snapshots_changed path: the stamp each dataset had when its snapshots were read. */
  stamps: Map<string, string>;
}

export interface SnapshotListOptions {
  /** Datasets whose snapshots to list; all pools when absent. */
  datasets?: readonly string[];
  /** With datasets: include their descendants' snapshots too (default true). */
  recursive?: boolean;
}

export function snapshotRecord(name: string, fields: Record<string, string | undefined>): SnapshotRecord | null {
  const at = name.indexOf('@');
  if (at < 0) return null;
  const dataset = name.slice(0, at);
  const creation = parseExactInteger(fields.creation ?? '');
  // Frozen: the index hands the same records to every caller.
  return Object.freeze({
    name,
    dataset,
    snapshot: name.slice(at + 1),
    pool: dataset.split('/')[0]!,
    createtxg: fields.createtxg ?? '',
    creation: creation === null ? 0 : creation * 1000,
    guid: fields.guid && /^\d+$/.test(fields.guid) ? fields.guid : null,
    referenced: parseExactInteger(fields.referenced ?? ''),
  });
}

function byTxg(a: SnapshotRecord, b: SnapshotRecord): number {
  const ta = BigInt(a.createtxg || '0');
  const tb = BigInt(b.createtxg || '0');
  return ta < tb ? -1 : ta > tb ? 1 : a.snapshot < b.snapshot ? -1 : 1;
}

function group(records: SnapshotRecord[]): Map<string, SnapshotRecord[]> {
  const m = new Map<string, SnapshotRecord[]>();
  for (const r of records) {
    const list = m.get(r.dataset);
    if (list) list.push(r);
    else m.set(r.dataset, [r]);
  }
  for (const list of m.values()) list.sort(byTxg);
  return m;
}

function sha(lines: readonly string[]): string {
  const h = createHash('sha256');
  for (const l of lines) h.update(l).update('\n');
  return h.digest('hex');
}

const within = (ds: string, t: RefreshTarget) => ds === t.dataset || (t.recursive && ds.startsWith(`${t.dataset}/`));

export class SnapshotIndex {
  private readonly pools = new Map<string, PoolCache>();
  private readonly inFlight = new Map<string, Promise<Map<string, SnapshotRecord[]>>>();
  /** How pool listings were answered (for the benchmark and tests). */
  readonly stats = { reused: 0, partial: 0, full: 0 };

  constructor(private readonly c: ZfsCommands) {}

  /** Snapshots of `root` (its subtree, or only itself with depth 1), read from ZFS. */
  private async read(root: string, recursive: boolean, o?: CallOptions): Promise<SnapshotRecord[]> {
    const depth = recursive ? ['-r'] : ['-d', '1'];
    const records: SnapshotRecord[] = [];
    if (this.c.dialect.zfsListParsable) {
      const cols = ['name', ...FIELDS];
      const out = await this.c.zfs(['list', '-H', '-p', ...depth, '-t', 'snapshot', '-o', cols.join(','), root], { timeoutMs: 600_000, ...o });
      for (const row of parseListTable(out.stdout, cols)) {
        const r = snapshotRecord(row.name!, row);
        if (r) records.push(r);
      }
    } else {
      // zfs-fuse: `zfs list` has no -p (creation would be a minute-rounded date); `zfs get -p` does.
      const out = await this.c.zfs(['get', '-H', '-p', ...depth, '-o', 'name,property,value,source', FIELDS.join(','), root], { timeoutMs: 600_000, ...o });
      for (const [name, props] of parseGetTable(out.stdout)) {
        const r = snapshotRecord(name, Object.fromEntries([...props].map(([k, v]) => [k, v.raw])));
        if (r) records.push(r);
      }
    }
    return records.filter((r) => recursive || r.dataset === root);
  }

  private async guidOf(pool: string, o?: CallOptions): Promise<string> {
    return (await this.c.zpool(['list', '-H', '-o', 'guid', pool], o)).stdout.trim();
  }

  /** History path (zfs-fuse, OpenZFS before 2.2). */
  private async viaHistory(pool: string, o?: CallOptions): Promise<Map<string, SnapshotRecord[]>> {
    const guid = await this.guidOf(pool, o);
    // Blank lines (zpool prints one after the last record) are not records: leave them out, or
    // the old text would not be a prefix of the new one.
    const lines = (await this.c.zpool(['history', '-i', pool], { timeoutMs: 120_000, ...o })).stdout.split('\n').filter((l) => l.trim() !== '');
    const cached = this.pools.get(pool);
    if (cached && cached.guid === guid && lines.length >= cached.historyLines && sha(lines.slice(0, cached.historyLines)) === cached.historyHash) {
      const delta = historyDelta(pool, lines.slice(cached.historyLines));
      if (delta.kind === 'none') {
        this.stats.reused++;
        if (lines.length > cached.historyLines) {
          cached.historyLines = lines.length;
          cached.historyHash = sha(lines);
        }
        return cached.byDataset;
      }
      if (delta.kind === 'partial') {
        const updated = await this.refresh(cached.byDataset, delta.targets, delta.created - delta.destroyed, o);
        if (updated) {
          this.stats.partial++;
          this.pools.set(pool, { ...cached, byDataset: updated, historyLines: lines.length, historyHash: sha(lines) });
          return updated;
        }
      }
    }
    this.stats.full++;
    const byDataset = group(await this.read(pool, true, o));
    this.pools.set(pool, { guid, byDataset, historyLines: lines.length, historyHash: sha(lines), stamps: new Map() });
    return byDataset;
  }

  /**
   * Re-reads the targets into a copy of the index; null when the result does not add up
   * (the snapshot count changed by something else than ZFS's own records say) or a target
   * cannot be read, so the caller falls back to a full read.
   */
  private async refresh(current: Map<string, SnapshotRecord[]>, targets: RefreshTarget[], expectedChange: number, o?: CallOptions): Promise<Map<string, SnapshotRecord[]> | null> {
    const next = new Map(current);
    const seen: RefreshTarget[] = [];
    let before = 0;
    let after = 0;
    for (const t of targets) {
      if (seen.some((s) => within(t.dataset, s))) continue; // already re-read as part of a wider target
      seen.push(t);
      for (const [ds, list] of next) {
        if (within(ds, t)) {
          before += list.length;
          next.delete(ds);
        }
      }
      let fresh: SnapshotRecord[];
      try {
        fresh = await this.read(t.dataset, t.recursive, o);
      } catch (e) {
        if (e instanceof ZfsCommandError && e.errno !== 'ECANCELED') return null;
        throw e;
      }
      after += fresh.length;
      for (const [ds, list] of group(fresh)) next.set(ds, list);
    }
    return after - before === expectedChange ? next : null;
  }

  /** snapshots_changed path (OpenZFS 2.2+): only datasets whose stamp moved are listed again. */
  private async viaStamps(pool: string, o?: CallOptions): Promise<Map<string, SnapshotRecord[]>> {
    const guid = await this.guidOf(pool, o);
    const readAt = Math.floor(Date.now() / 1000);
    const out = await this.c.zfs(['get', '-H', '-p', '-r', '-t', 'filesystem,volume', '-o', 'name,property,value,source', 'snapshots_changed', pool], o);
    const stamps = new Map([...parseGetTable(out.stdout)].map(([ds, p]) => [ds, p.get('snapshots_changed')?.raw ?? '-']));
    const cached = this.pools.get(pool);
    if (!cached || cached.guid !== guid) {
      this.stats.full++;
      const byDataset = group(await this.read(pool, true, o));
      this.pools.set(pool, { guid, byDataset, historyLines: 0, historyHash: '', stamps: trusted(stamps, readAt) });
      return byDataset;
    }
    const next = new Map<string, SnapshotRecord[]>();
    let reread = 0;
    for (const [ds, stamp] of stamps) {
      const known = cached.stamps.get(ds);
      if (known !== undefined && known === stamp && cached.byDataset.has(ds)) {
        next.set(ds, cached.byDataset.get(ds)!);
      } else if (known !== undefined && known === stamp) {
        // A dataset without snapshots that has not changed still has none.
      } else {
        reread++;
        const fresh = await this.read(ds, false, o);
        if (fresh.length > 0) next.set(ds, fresh.sort(byTxg));
      }
    }
    if (reread === 0) this.stats.reused++;
    else this.stats.partial++;
    this.pools.set(pool, { ...cached, byDataset: next, stamps: trusted(stamps, readAt) });
    return next;
  }

  private async poolSnapshots(pool: string, o?: CallOptions): Promise<Map<string, SnapshotRecord[]>> {
    // Reads of one pool run one after the other: a read that began before a change must not
    // answer a caller who made that change. The later read is cheap (nothing changed since).
    const before = this.inFlight.get(pool);
    const p = (async () => {
      await before?.catch(() => {});
      return this.c.dialect.snapshotsChanged ? this.viaStamps(pool, o) : this.viaHistory(pool, o);
    })();
    this.inFlight.set(pool, p);
    try {
      return await p;
    } finally {
      if (this.inFlight.get(pool) === p) this.inFlight.delete(pool);
    }
  }

  /** Snapshots of the given datasets (and their descendants unless recursive is false), or of every pool; by dataset, oldest first. */
  async list(opts: SnapshotListOptions = {}, o?: CallOptions): Promise<SnapshotRecord[]> {
    const roots = opts.datasets?.map((d, i) => checkDatasetName(`datasets.${i}`, d));
    let pools: string[];
    if (roots === undefined) {
      const out = await this.c.zpool(['list', '-H', '-o', 'name'], o).catch((e: unknown) => {
        if (e instanceof ZfsCommandError && /no pools available/.test(e.zfsMessage)) return { stdout: '', stderr: '' };
        throw e;
      });
      pools = out.stdout.split('\n').filter((l) => l !== '' && !/^no pools available/.test(l));
      for (const name of [...this.pools.keys()]) if (!pools.includes(name)) this.pools.delete(name);
    } else {
      pools = [...new Set(roots.map((r) => r.split('/')[0]!))];
    }
    const maps = await Promise.all(pools.map((p) => this.poolSnapshots(p, o)));
    const recursive = opts.recursive !== false;
    const out: SnapshotRecord[] = [];
    for (const m of maps) {
      for (const ds of [...m.keys()].sort()) {
        if (roots !== undefined && !roots.some((r) => within(ds, { dataset: r, recursive }))) continue;
        out.push(...m.get(ds)!);
      }
    }
    return out;
  }

  /** Drops what is known about a pool. */
  forget(pool: string): void {
    this.pools.delete(pool);
  }
}

/**
 * snapshots_changed has one-second resolution: a stamp from the second the datasets were read
 * (or the one before) could still change without its value moving, so such datasets are not
 * trusted next time.
 */
function trusted(stamps: Map<string, string>, readAt: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const [ds, s] of stamps) {
    const n = Number(s);
    if (s === '-' || (Number.isFinite(n) && n < readAt - 1)) out.set(ds, s);
  }
  return out;
}
