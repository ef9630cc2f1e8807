// Listing snapshots fast. `zfs list -t snapshot` costs the ZFS side per snapshot (zfs-fuse:
// about 0.3 ms of its daemon's CPU each, 3 s for 10,000; openzfs/zfs#8587), so the listing
// is kept per pool and reused while the pool provably has not changed:
//  - OpenZFS 2.2+: every dataset's `snapshots_changed` property is read (cheap: datasets only);
//  - otherwise: the pool's history (`zpool history -i`), which records every snapshot
//    create, destroy, rename, rollback and receive, is hashed.
// Only fields that never change for a snapshot are kept (name, createtxg, creation, guid,
// referenced); mutable ones (used, userrefs, user properties) are read fresh by the caller.
import { createHash } from 'node:crypto';
import type { CallOptions, ZfsCommands } from './commands.js';
import { ZfsCommandError } from './errors.js';
import { checkDatasetName } from './names.js';
import { parseGetTable, parseListTable } from './parse-tables.js';
import type { SnapshotRecord } from './types.js';
import { parseExactInteger } from './units.js';

interface PoolEntry {
  fingerprint: string;
  records: SnapshotRecord[];
}

const FIELDS = ['createtxg', 'creation', 'guid', 'referenced'] as const;

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
  return {
    name,
    dataset,
    snapshot: name.slice(at + 1),
    pool: dataset.split('/')[0]!,
    createtxg: fields.createtxg ?? '',
    creation: creation === null ? 0 : creation * 1000,
    guid: fields.guid && /^\d+$/.test(fields.guid) ? fields.guid : null,
    referenced: parseExactInteger(fields.referenced ?? ''),
  };
}

function byDatasetThenTxg(a: SnapshotRecord, b: SnapshotRecord): number {
  if (a.dataset !== b.dataset) return a.dataset < b.dataset ? -1 : 1;
  const ta = BigInt(a.createtxg || '0');
  const tb = BigInt(b.createtxg || '0');
  return ta < tb ? -1 : ta > tb ? 1 : a.snapshot < b.snapshot ? -1 : 1;
}

export class SnapshotIndex {
  private readonly pools = new Map<string, PoolEntry>();
  private readonly inFlight = new Map<string, Promise<SnapshotRecord[]>>();
  /** How many pool listings were answered from the index / re-read (for the benchmark and tests). */
  readonly stats = { reused: 0, reread: 0 };

  constructor(private readonly c: ZfsCommands) {}

  /** Something that changes whenever the pool's set of snapshots may have changed. */
  private async fingerprint(pool: string, o?: CallOptions): Promise<string | null> {
    try {
      const h = createHash('sha256');
      const guid = (await this.c.zpool(['list', '-H', '-o', 'guid', pool], o)).stdout;
      h.update(guid);
      if (this.c.dialect.snapshotsChanged) {
        h.update((await this.c.zfs(['get', '-H', '-p', '-r', '-t', 'filesystem,volume', '-o', 'name,value', 'snapshots_changed', pool], o)).stdout);
      } else {
        h.update((await this.c.zpool(['history', '-i', pool], { timeoutMs: 120_000, ...o })).stdout);
      }
      return h.digest('hex');
    } catch (e) {
      if (e instanceof ZfsCommandError && e.errno !== 'ECANCELED') return null;
      throw e;
    }
  }

  /** Every snapshot of a pool, read from ZFS. */
  private async read(pool: string, o?: CallOptions): Promise<SnapshotRecord[]> {
    const d = this.c.dialect;
    const records: SnapshotRecord[] = [];
    if (d.zfsListParsable) {
      const cols = ['name', ...FIELDS];
      const out = await this.c.zfs(['list', '-H', '-p', '-r', '-t', 'snapshot', '-o', cols.join(','), pool], { timeoutMs: 600_000, ...o });
      for (const row of parseListTable(out.stdout, cols)) {
        const r = snapshotRecord(row.name!, row);
        if (r) records.push(r);
      }
    } else {
      // zfs-fuse: `zfs list` has no -p (creation would be a minute-rounded date), `zfs get -p` does.
      const out = await this.c.zfs(['get', '-H', '-p', '-r', '-o', 'name,property,value,source', FIELDS.join(','), pool], { timeoutMs: 600_000, ...o });
      for (const [name, props] of parseGetTable(out.stdout)) {
        const r = snapshotRecord(name, Object.fromEntries([...props].map(([k, v]) => [k, v.raw])));
        if (r) records.push(r);
      }
    }
    return records.sort(byDatasetThenTxg);
  }

  private async poolSnapshots(pool: string, o?: CallOptions): Promise<SnapshotRecord[]> {
    const running = this.inFlight.get(pool);
    if (running) return running;
    const p = (async () => {
      const fp = await this.fingerprint(pool, o);
      const cached = this.pools.get(pool);
      if (fp !== null && cached && cached.fingerprint === fp) {
        this.stats.reused++;
        return cached.records;
      }
      const records = await this.read(pool, o);
      this.stats.reread++;
      if (fp !== null) this.pools.set(pool, { fingerprint: fp, records });
      else this.pools.delete(pool);
      return records;
    })();
    this.inFlight.set(pool, p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(pool);
    }
  }

  /** Snapshots of the given datasets (and their descendants unless recursive is false), or of every pool. */
  async list(opts: SnapshotListOptions = {}, o?: CallOptions): Promise<SnapshotRecord[]> {
    const roots = opts.datasets?.map((d, i) => checkDatasetName(`datasets.${i}`, d));
    let pools: string[];
    if (roots === undefined) {
      const out = await this.c.zpool(['list', '-H', '-o', 'name'], o).catch((e: unknown) => {
        if (e instanceof ZfsCommandError && /no pools available/.test(e.zfsMessage)) return { stdout: '' };
        throw e;
      });
      pools = out.stdout.split('\n').filter((l) => l !== '' && !/^no pools available/.test(l));
      for (const name of [...this.pools.keys()]) if (!pools.includes(name)) this.pools.delete(name);
    } else {
      pools = [...new Set(roots.map((r) => r.split('/')[0]!))];
    }
    const lists = await Promise.all(pools.map((p) => this.poolSnapshots(p, o)));
    const all = lists.flat();
    if (roots === undefined) return all;
    const recursive = opts.recursive !== false;
    return all.filter((s) => roots.some((r) => s.dataset === r || (recursive && s.dataset.startsWith(`${r}/`))));
  }

  /** Drops what is known about a pool (after it was destroyed or exported). */
  forget(pool: string): void {
    this.pools.delete(pool);
  }
}
