// What every part of the storage module shares: the ZFS driver (opened at start; when this host
// has no ZFS every storage method says so instead of failing obscurely), the durable pool
// records, where pools are mounted, the clock the schedules run on, and the hooks one part
// calls when another must react (a pool went away: its tasks are disabled, its disks are free).
import { join } from 'node:path';
import { CallError, ERRNO, type App, type Logger } from '#midship/module-api';
import type { PoolSnapshotTaskEntryT } from '../../schemas/pool_snapshottask.js';
import { Calendar, SystemClock, type Clock } from '../scheduling/index.js';
import type { ZfsPrograms } from '../zfs/commands.js';
import { ZfsDriver } from '../zfs/driver.js';
import { ensureZfsDaemon, type ZfsDaemonHandle } from '../zfs/fuse-daemon.js';
import { DatasetCache } from './dataset-cache.js';
import { RecordTable } from './records.js';

export interface StorageOptions {
  /** Pools are mounted at <mountRoot>/<name> (TrueNAS: /mnt). */
  mountRoot?: string;
  /** disk.query lists loop devices; default: the daemon's --disks-include-loop. */
  includeLoop?: boolean;
  /** The clock scheduled scrubs, snapshot tasks and replications run on (tests pass a VirtualClock). */
  clock?: Clock;
  /** Where sysfs is (tests of disk.query may point it at a fake tree). */
  sysRoot?: string;
  /** How often a running scrub is read and pool.scan sent (TrueNAS: 2 s). */
  scanIntervalMs?: number;
  /** How often /sys/block is read while someone listens to disk.query. */
  diskPollMs?: number;
  programs?: Partial<ZfsPrograms>;
}

/** A pool this daemon manages (TrueNAS's storage.volume row). */
export interface PoolRecord {
  id: number;
  name: string;
  guid: string;
}

export interface StorageHooks {
  /** A pool record was added (created or imported). */
  poolAdded: Array<(pool: PoolRecord) => Promise<void> | void>;
  /** A pool record is about to go (export, destroy); `cascade` deletes what depends on it. */
  poolRemoving: Array<(pool: PoolRecord, cascade: boolean) => Promise<void> | void>;
  /** Disks changed hands (a pool was created, imported, exported or destroyed). */
  disksChanged: Array<() => void>;
  /** Datasets (and their descendants) were destroyed: tasks and listings forget them. */
  datasetsDestroyed: Array<(names: string[]) => void>;
}

/** How many tasks of a kind use a dataset (pool.dataset.details). */
export type TaskCounter = (dataset: string) => number;

/** A replication task that takes its snapshots from a periodic snapshot task. */
export interface SnapshotTaskBinding {
  id: number;
  name: string;
  enabled: boolean;
  /** The snapshot task is its only source of snapshots (no extra naming schemas). */
  onlySource: boolean;
  auto: boolean;
  scheduled: boolean;
}

export class StorageContext {
  readonly mountRoot: string;
  readonly includeLoop: boolean;
  readonly clock: Clock;
  readonly calendar = new Calendar();
  readonly sysRoot: string;
  readonly scanIntervalMs: number;
  readonly diskPollMs: number;
  readonly log: Logger;
  readonly pools: RecordTable<PoolRecord>;
  readonly hooks: StorageHooks = { poolAdded: [], poolRemoving: [], disksChanged: [], datasetsDestroyed: [] };
  readonly taskCounters: { snapshot: TaskCounter[]; replication: TaskCounter[] } = { snapshot: [], replication: [] };
  /** The replication tasks bound to periodic snapshot task `id` (set by the replication part). */
  replicationsBoundTo: (snapshotTaskId: number) => SnapshotTaskBinding[] = () => [];
  /** Periodic snapshot task entries (set by the snapshot task part), for replication entries and checks. */
  snapshotTaskEntries: () => PoolSnapshotTaskEntryT[] = () => [];
  /** A periodic snapshot task made its snapshots: replications bound to it may run now. */
  snapshotTaskRan: Array<(snapshotTaskId: number) => void> = [];
  #driver: ZfsDriver | null = null;
  #datasetCache: DatasetCache | null = null;
  #unavailable = 'the storage module has not started';
  #fuse: ZfsDaemonHandle | null = null;

  constructor(readonly app: App, private readonly options: StorageOptions) {
    this.mountRoot = options.mountRoot ?? '/mnt';
    this.includeLoop = options.includeLoop ?? app.config.disksIncludeLoop;
    this.clock = options.clock ?? new SystemClock();
    this.sysRoot = options.sysRoot ?? '/sys';
    this.scanIntervalMs = options.scanIntervalMs ?? 2000;
    this.diskPollMs = options.diskPollMs ?? 2000;
    this.log = app.log.child({ module: 'storage' });
    this.pools = new RecordTable<PoolRecord>(app.sublevel('pool'));
  }

  /**
   * Finds the installed ZFS: starts zfs-fuse's daemon if that is the ZFS here and it is not
   * running (and remembers that it did), then asks the tools what they support. A host without
   * ZFS still starts; its storage methods answer why they cannot work.
   */
  async open(): Promise<void> {
    await this.pools.load();
    const zpool = this.options.programs?.zpool ?? 'zpool';
    try {
      this.#fuse = await ensureZfsDaemon({ zpool });
      if (this.#fuse.startedByUs) this.log.info({ pid: this.#fuse.pid }, 'started zfs-fuse (it is stopped again with the daemon)');
      this.#driver = await ZfsDriver.open({ programs: this.options.programs ?? {} });
      this.log.info({ flavor: this.#driver.dialect.flavor, version: this.#driver.dialect.version ?? this.#driver.dialect.poolVersion }, 'ZFS found');
    } catch (e) {
      this.#unavailable = (e as Error).message;
      this.log.warn({ err: this.#unavailable }, 'no usable ZFS on this host: storage methods will refuse');
    }
  }

  /** Stops zfs-fuse if (and only if) open() started it. */
  async close(): Promise<void> {
    await this.#fuse?.stop();
    this.#fuse = null;
  }

  get available(): boolean {
    return this.#driver !== null;
  }

  /** The driver; a CallError saying why when this host has no usable ZFS. */
  get zfs(): ZfsDriver {
    if (this.#driver === null) throw new CallError(`ZFS is not available on this host: ${this.#unavailable}`, ERRNO.ENOSYS);
    return this.#driver;
  }

  /** The host's wall-clock time now (ms read with UTC getters): what snapshot names are made of. */
  wallNow(): number {
    return this.calendar.rules(this.calendar.defaultTimeZone).wallAt(this.clock.now());
  }

  /** Every dataset property of the managed pools, kept between queries (dataset-cache.ts). */
  get datasetCache(): DatasetCache {
    const z = this.zfs; // says why when there is no ZFS
    return (this.#datasetCache ??= new DatasetCache(z));
  }

  poolPath(name: string): string {
    return join(this.mountRoot, name);
  }

  poolByName(name: string): PoolRecord | undefined {
    return this.pools.find((p) => p.name === name);
  }

  /** The managed pools that are imported now, with the guid ZFS gives each. */
  async imported(): Promise<Array<{ name: string; guid: string }>> {
    if (!this.available || this.pools.all().length === 0) return [];
    const live = new Map((await this.zfs.pools.list()).map((p) => [p.name, p.guid]));
    return this.pools.all().flatMap((p) => {
      const guid = live.get(p.name);
      return guid === undefined ? [] : [{ name: p.name, guid }];
    });
  }

  /** Names of the managed pools that are imported now. */
  async importedPools(): Promise<string[]> {
    return (await this.imported()).map((p) => p.name);
  }

  /** The managed, imported pool a dataset or snapshot name belongs to, else null. */
  async poolOf(name: string): Promise<string | null> {
    const pool = name.split(/[/@]/)[0]!;
    if (this.poolByName(pool) === undefined) return null;
    return (await this.importedPools()).includes(pool) ? pool : null;
  }

  /** Runs the hooks of one kind, in order, logging (not throwing) their failures. */
  async runHooks<K extends keyof StorageHooks>(kind: K, ...args: Parameters<StorageHooks[K][number]>): Promise<void> {
    for (const fn of this.hooks[kind] as Array<(...a: unknown[]) => unknown>) {
      try {
        await fn(...args);
      } catch (e) {
        this.log.error({ err: e, hook: kind }, 'storage hook failed');
      }
    }
  }
}
