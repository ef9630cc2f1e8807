// Every property of every dataset of a pool, kept between queries. `zfs get all` costs the ZFS
// side per dataset and property (zfs-fuse: 2.7 s for 1,000 datasets; a pool.dataset.query must
// answer in 300 ms), so the table is read once and then kept up to date the way the snapshot
// index is (methods/zfs/snapshot-index.ts):
//  - what administrators change (set, inherit, create, destroy, snapshot, receive, ...) is in the
//    pool's history (`zpool history -i`, 10 ms): the datasets its new lines name are read again,
//    with their ancestors (whose `used` moves with them); a line it cannot follow means a full read;
//  - space figures also move with file writes, which history does not record: they are read again
//    for the whole pool (one `zfs get` of seven properties) when the table's are older than
//    SPACE_FRESH_MS, in the background while they are younger than SPACE_MAX_AGE_MS, before
//    answering otherwise. A query never sees usage older than SPACE_MAX_AGE_MS. A background
//    read is also not started sooner than SPACE_DUTY times its last duration after the last one:
//    on a big pool it takes seconds, and zfs-fuse answers one command at a time, so reading it
//    every 2 s while a dashboard polls would keep ZFS busy for everyone.
// A table handed out is never changed: every change makes a new one, so what a caller derives
// from a table (the mapped items, see derived()) stays true for as long as the table is current.
import { createHash } from 'node:crypto';
import type { ZfsDriver } from '../zfs/driver.js';
import { ZfsCommandError } from '../zfs/errors.js';
import { parseGetTable } from '../zfs/parse-tables.js';
import type { PropertyTable } from '../zfs/types.js';

export const SPACE_FRESH_MS = 2_000;
export const SPACE_MAX_AGE_MS = 30_000;
const SPACE_DUTY = 5;
const SPACE = ['used', 'available', 'referenced', 'usedbysnapshots', 'usedbydataset', 'usedbychildren', 'usedbyrefreservation', 'compressratio'];

interface PoolTable {
  guid: string;
  table: PropertyTable;
  historyLines: number;
  historyHash: string;
  spaceAt: number;
  /** How long the last space read took. */
  spaceCostMs: number;
  spaceRefresh: Promise<void> | null;
}

function sha(lines: readonly string[]): string {
  const h = createHash('sha256');
  for (const l of lines) h.update(l).update('\n');
  return h.digest('hex');
}

const HARMLESS_ZPOOL = new Set(['scrub', 'clear', 'history', 'online', 'offline', 'set', 'upgrade']);

/** Datasets the new history lines touch, or null when a line needs a full read. */
export function touchedDatasets(pool: string, lines: readonly string[]): { touched: Set<string>; destroyed: Set<string> } | null {
  const touched = new Set<string>();
  const destroyed = new Set<string>();
  for (const line of lines) {
    const m = /^\d{4}-\d{2}-\d{2}\.\d{2}:\d{2}:\d{2} (.*)$/.exec(line);
    if (!m) return null;
    const text = m[1]!;
    if (text.startsWith('[internal ')) continue; // each follows the command that caused it
    const tokens = text.split(' ');
    const [prog, sub] = tokens;
    if (prog === 'zpool' && HARMLESS_ZPOOL.has(sub ?? '')) continue;
    // Two names (rename, clone) or a change elsewhere in the tree (promote): read everything again.
    if (prog !== 'zfs' || sub === 'rename' || sub === 'promote' || sub === 'clone') return null;
    // The operand: from the first word naming this pool to the end (names may hold spaces).
    const at = tokens.findIndex((t, i) => i >= 2 && (t === pool || t.startsWith(`${pool}/`) || t.startsWith(`${pool}@`)));
    if (at < 0) return null;
    const flags = tokens.slice(2, at).join(' ');
    const name = tokens.slice(at).join(' ');
    const ds = name.split('@')[0]!;
    if (sub === 'destroy' && !name.includes('@')) {
      if (/-\w*R/.test(flags)) return null; // clones elsewhere went too
      destroyed.add(ds);
    } else {
      touched.add(ds);
    }
  }
  return { touched, destroyed };
}

const within = (name: string, root: string) => name === root || name.startsWith(`${root}/`);

function ancestors(name: string): string[] {
  const out: string[] = [];
  for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/', i - 1)) out.push(name.slice(0, i));
  return out;
}

export class DatasetCache {
  private readonly pools = new Map<string, PoolTable>();
  /** One read of a pool at a time: a read that started before a change must not answer a caller who made it. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** How tables were answered (benchmark and tests). */
  readonly stats = { reused: 0, partial: 0, full: 0, spaceRefreshes: 0 };
  private readonly derivedFrom = new WeakMap<PropertyTable, Map<string, unknown>>();

  constructor(private readonly z: ZfsDriver, private readonly now: () => number = Date.now) {}

  private async readAll(names: readonly string[], recursive: boolean): Promise<PropertyTable> {
    if (names.length === 0) return new Map();
    return this.z.datasets.get(names, { properties: 'all', recursive, types: ['filesystem', 'volume'] });
  }

  private async history(pool: string): Promise<string[]> {
    const out = await this.z.commands.zpool(['history', '-i', pool], { timeoutMs: 120_000 });
    return out.stdout.split('\n').filter((l) => l.trim() !== '');
  }

  private async full(pool: string, guid: string, lines: string[]): Promise<PoolTable> {
    this.stats.full++;
    const t: PoolTable = { guid, table: await this.readAll([pool], true), historyLines: lines.length, historyHash: sha(lines), spaceAt: this.now(), spaceCostMs: 0, spaceRefresh: null };
    this.pools.set(pool, t);
    return t;
  }

  private async load(pool: string, guid: string): Promise<PropertyTable> {
    const lines = await this.history(pool);
    const t = this.pools.get(pool);
    if (!t || t.guid !== guid || lines.length < t.historyLines || sha(lines.slice(0, t.historyLines)) !== t.historyHash) return (await this.full(pool, guid, lines)).table;
    if (lines.length > t.historyLines) {
      const delta = touchedDatasets(pool, lines.slice(t.historyLines));
      if (delta === null) return (await this.full(pool, guid, lines)).table;
      const roots = [...delta.touched].filter((d, _i, all) => !all.some((o) => o !== d && within(d, o)));
      const above = new Set([...delta.touched, ...delta.destroyed].flatMap(ancestors));
      const read: PropertyTable = new Map();
      try {
        for (const [n, p] of await this.readAll(roots, true)) read.set(n, p);
        for (const [n, p] of await this.readAll([...above].filter((a) => !roots.some((r) => within(a, r))), false)) read.set(n, p);
      } catch (e) {
        // A dataset named in the history may be gone again (created and destroyed since).
        if (e instanceof ZfsCommandError && e.errno === 'ENOENT') return (await this.full(pool, guid, lines)).table;
        throw e;
      }
      // Onto the table as it is now: a space read may have replaced it while these ran.
      const next: PropertyTable = new Map(t.table);
      for (const d of delta.destroyed) for (const n of [...next.keys()]) if (within(n, d)) next.delete(n);
      for (const [n, p] of read) next.set(n, p);
      // Keep ZFS's order: parents before children, as a fresh read lists them.
      t.table = new Map([...next].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      t.historyLines = lines.length;
      t.historyHash = sha(lines);
      this.stats.partial++;
    } else {
      this.stats.reused++;
    }
    const age = this.now() - t.spaceAt;
    if (age >= SPACE_MAX_AGE_MS) await this.refreshSpace(pool, t);
    else if (age >= Math.max(SPACE_FRESH_MS, SPACE_DUTY * t.spaceCostMs)) void this.refreshSpace(pool, t).catch(() => {});
    return t.table;
  }

  private refreshSpace(pool: string, t: PoolTable): Promise<void> {
    t.spaceRefresh ??= (async () => {
      try {
        const started = this.now();
        const fresh = parseGetTable((await this.z.commands.zfs(['get', '-H', '-p', '-r', '-o', 'name,property,value,source', SPACE.join(','), pool], { timeoutMs: 120_000 })).stdout);
        const next: PropertyTable = new Map();
        for (const [n, row] of t.table) {
          const f = fresh.get(n);
          next.set(n, f === undefined ? row : new Map([...row, ...f]));
        }
        t.table = next;
        t.spaceAt = started;
        t.spaceCostMs = this.now() - started;
        this.stats.spaceRefreshes++;
      } finally {
        t.spaceRefresh = null;
      }
    })();
    return t.spaceRefresh;
  }

  /**
   * Every property of every filesystem and volume of `pool`, up to date as described above.
   * `guid`: the pool's, as `zpool list` gave it just now (a pool made again under the same name
   * is read afresh).
   */
  async table(pool: string, guid: string): Promise<PropertyTable> {
    const p = (this.queues.get(pool) ?? Promise.resolve()).catch(() => {}).then(() => this.load(pool, guid));
    this.queues.set(pool, p);
    try {
      return await p;
    } finally {
      if (this.queues.get(pool) === p) this.queues.delete(pool);
    }
  }

  /** What `make` derives from `table` (under `key`), made once per table: tables never change in place. */
  derived<T>(table: PropertyTable, key: string, make: () => T): T {
    let byKey = this.derivedFrom.get(table);
    if (byKey === undefined) this.derivedFrom.set(table, (byKey = new Map()));
    if (!byKey.has(key)) byKey.set(key, make());
    return byKey.get(key) as T;
  }

  /** Drops what is known about a pool (exported, destroyed). */
  forget(pool: string): void {
    this.pools.delete(pool);
  }
}
