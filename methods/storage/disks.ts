// disk.*: the block devices of /sys/block as TrueNAS's disk entries (MODULES.md 4), which pool
// uses each (extra.pools), the used/unused split of disk.details / get_used / get_unused, and
// the disk.query event: /sys/block is read every few seconds (sysfs has no change
// notification), and after every pool operation, since that moves disks between pools.
import { arg, method, Type, type ModuleDef } from '#midship/module-api';
import { DiskDetail, DiskDetailsOptions, DiskEntry, type DiskDetailT, type DiskEntryT } from '../../schemas/disk.js';
import type { BlockDevice } from '../disk/sysfs.js';
import type { StorageContext } from './context.js';
import { diskUsage, readDisks, type DiskUsage } from './disk-usage.js';
import type { Part } from './part.js';
import { asyncQueryMethod, getInstanceMethod } from './query.js';

const EVENT = 'disk.query';

export function diskEntry(d: BlockDevice, pool: string | null, zfsGuid: string | null): DiskEntryT {
  return {
    identifier: d.identifier,
    name: d.name,
    devname: d.devname,
    subsystem: d.subsystem.toUpperCase(),
    number: d.number,
    serial: d.serial ?? '',
    lunid: d.lunid,
    size: d.size,
    description: '',
    transfermode: 'Auto',
    hddstandby: 'ALWAYS ON',
    advpowermgmt: 'DISABLED',
    expiretime: null,
    model: d.model,
    rotationrate: d.rotationrate,
    type: d.type,
    zfs_guid: zfsGuid,
    bus: d.bus,
    enclosure: null,
    pool,
    sed: null,
  };
}

function detail(d: BlockDevice, u: DiskUsage, withPartitions: boolean): DiskDetailT {
  const same = (x: BlockDevice) => x.serial !== null && x.serial === d.serial && x.lunid === d.lunid && x.name !== d.name;
  return {
    identifier: d.identifier,
    name: d.name,
    devname: d.name,
    serial: d.serial ?? '',
    lunid: d.lunid,
    size: d.size,
    model: d.model,
    type: d.type,
    rotationrate: d.rotationrate,
    bus: d.bus,
    subsystem: d.subsystem.toUpperCase(),
    enclosure: {},
    partitions: withPartitions ? d.partitions.map((name) => ({ name })) : [],
    exported_zpool: u.exported.get(d.name) ?? null,
    imported_zpool: u.imported.get(d.name) ?? null,
    // Disks without a serial (loop devices, some virtual disks) have no identity to compare.
    duplicate_serial: u.disks.filter(same).map((x) => x.name),
    sed: null,
    sed_status: null,
  };
}

async function details(ctx: StorageContext, joinPartitions: boolean): Promise<{ used: DiskDetailT[]; unused: DiskDetailT[] }> {
  const u = await diskUsage(ctx, { exported: true });
  const all = u.disks.map((d) => detail(d, u, joinPartitions));
  // A disk the host uses (the root disk, swap) is used even though no pool has it.
  const inUse = (d: DiskDetailT) => d.imported_zpool !== null || d.exported_zpool !== null || u.host.has(d.name);
  return { used: all.filter(inUse), unused: all.filter((d) => !inUse(d)) };
}

/** While nobody listens, /sys/block is read this many times less often (only to know which disks exist). */
const IDLE_FACTOR = 5;

/**
 * Watches /sys/block for the disk.query event. While it has listeners every reading is diffed
 * against the last; while it has none, only which disks exist is kept (a cheap sysfs read, no
 * zpool command), so a disk that comes or goes right after someone subscribed is announced
 * too: the engine does not tell a module when a subscription starts.
 */
class DiskWatcher {
  /** Identifier -> entry; null: seen while nobody listened (its details were not read). */
  private known: Map<string, DiskEntryT | null> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private idleTicks = 0;

  constructor(private readonly ctx: StorageContext) {}

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.ctx.diskPollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads the disks and sends what changed (also called right after a pool operation). */
  async tick(): Promise<void> {
    if (this.busy) return;
    const events = this.ctx.app.events;
    const listening = events.hasListeners(EVENT);
    if (!listening && this.known !== null && this.idleTicks++ % IDLE_FACTOR !== 0) return;
    this.busy = true;
    try {
      if (!listening) {
        this.known = new Map((await readDisks(this.ctx)).map((d) => [d.identifier, null]));
        return;
      }
      this.idleTicks = 0;
      const u = await diskUsage(this.ctx, { exported: false });
      const now = new Map(u.disks.map((d) => [d.identifier, diskEntry(d, u.imported.get(d.name) ?? null, u.guids.get(d.name) ?? null)]));
      const before = this.known;
      this.known = now;
      if (before === null) return; // the very first reading is the baseline
      for (const [id, e] of now) {
        const old = before.get(id);
        if (old === undefined) events.emit(EVENT, 'added', id, e);
        else if (old !== null && JSON.stringify(old) !== JSON.stringify(e)) events.emit(EVENT, 'changed', id, e);
      }
      for (const id of before.keys()) if (!now.has(id)) events.emit(EVENT, 'removed', id);
    } catch (e) {
      this.ctx.log.warn({ err: e }, 'reading disks for the disk.query event failed');
    } finally {
      this.busy = false;
    }
  }
}

export function diskPart(ctx: StorageContext): Part {
  const watcher = new DiskWatcher(ctx);
  ctx.hooks.disksChanged.push(() => void watcher.tick());
  const read = async (_f: unknown, extra: Record<string, unknown>) => {
    if (extra.pools === true) {
      const u = await diskUsage(ctx, { exported: false });
      return u.disks.map((d) => diskEntry(d, u.imported.get(d.name) ?? null, u.guids.get(d.name) ?? null));
    }
    return (await readDisks(ctx)).map((d) => diskEntry(d, null, null));
  };
  const joinArg = arg('join_partitions', Type.Boolean({ description: 'List the partitions of each disk' }), { default: false });
  const methods: ModuleDef['methods'] = [
    asyncQueryMethod('disk.query', 'Disks of this host (TrueNAS disk entries); extra.pools fills in the pool using each disk.', read),
    getInstanceMethod('disk.get_instance', 'One disk by identifier.', Type.String(), DiskEntry, read),
    method('disk.details', {
      description: 'Disks in use (by an imported pool, an exported one whose labels are on them, or the host itself: mounted, swap) and unused disks.',
      args: [arg('data', DiskDetailsOptions, { default: { join_partitions: false, type: 'BOTH' } })],
      result: Type.Union([Type.Array(DiskDetail), Type.Object({ used: Type.Array(DiskDetail), unused: Type.Array(DiskDetail) })]),
      roles: ['DISK_READ'],
      handler: async (_ctx, data) => {
        const r = await details(ctx, data.join_partitions);
        return data.type === 'BOTH' ? r : data.type === 'USED' ? r.used : r.unused;
      },
    }),
    method('disk.get_used', {
      description: 'Disks in use by an imported pool, an exported one, or the host itself (mounted, swap, a device stacked on it).',
      args: [joinArg],
      result: Type.Array(DiskDetail),
      roles: ['DISK_READ'],
      handler: async (_ctx, join) => (await details(ctx, join)).used,
    }),
    method('disk.get_unused', {
      description: 'Disks no pool uses, imported or exported, and the host does not use: the ones pool.create takes.',
      args: [joinArg],
      result: Type.Array(DiskDetail),
      roles: ['DISK_READ'],
      handler: async (_ctx, join) => (await details(ctx, join)).unused,
    }),
  ];
  return {
    services: [{ name: 'disk', type: 'crud', rolePrefix: 'DISK' }],
    methods,
    events: [{ name: EVENT, description: 'Disks added, changed (e.g. moved into a pool) or removed; fields: the disk entry.', roles: ['DISK_READ'] }],
    start: () => watcher.start(),
    stop: () => watcher.stop(),
  };
}
