// The storage module (issue 16): disk.*, pool.*, pool.scrub.*, pool.dataset.*, pool.snapshot.*,
// pool.snapshottask.* and replication.* on the host's ZFS, through the driver in methods/zfs
// and sysfs in methods/disk. One module, so its parts share one driver, one set of pool records
// and one clock; makeStorageModule() takes options (a test's mount root and virtual clock).
import type { App, ModuleDef, ModuleFactory } from '#midship/module-api';
import { replicationPart } from '../replication/index.js';
import { StorageContext, type StorageOptions } from './context.js';
import { datasetPart } from './datasets.js';
import { diskPart } from './disks.js';
import type { Part } from './part.js';
import { poolPart } from './pools.js';
import { scrubPart } from './scrub.js';
import { snapshotTaskPart } from './snapshot-tasks.js';
import { snapshotPart } from './snapshots.js';

export type { StorageOptions } from './context.js';

export function makeStorageModule(options: StorageOptions = {}): ModuleFactory {
  return (app: App): ModuleDef => {
    const ctx = new StorageContext(app, options);
    const parts: Part[] = [diskPart, poolPart, scrubPart, datasetPart, snapshotPart, snapshotTaskPart, replicationPart].map((make) => make(ctx));
    return {
      services: parts.flatMap((p) => p.services),
      methods: parts.flatMap((p) => p.methods),
      events: parts.flatMap((p) => p.events ?? []),
      async start() {
        await ctx.open();
        for (const p of parts) await p.start?.();
      },
      async stop() {
        for (const p of [...parts].reverse()) await p.stop?.();
        await ctx.close();
      },
    };
  };
}

/** The storage module as midshipd loads it: pools under /mnt, the daemon's own settings. */
export const storageModule: ModuleFactory = makeStorageModule();
