// The seam between a replication and where its two ends are. A run talks to two ZfsSides, the
// source and the target, and pipes one's `zfs send` into the other's `zfs recv` itself, so the
// bytes are counted in the daemon whatever the transport. LOCAL (both ends in this host's
// pools) is the one built; SSH and SSH+NETCAT would add a side that runs the same commands on
// another host (through ssh, with its stdin/stdout as the stream) and a transportFor() case,
// without touching the planning, piping, retention or the module.
import type { Readable, Writable } from 'node:stream';
import type { ReplicationData } from '../../schemas/replication.js';
import type { ZfsDriver } from '../zfs/driver.js';
import type { ReceiveOptions, SendOptions } from '../zfs/streams.js';
import type { PropertyTable, SnapshotRecord } from '../zfs/types.js';

export interface RunningCommand {
  /** Settles when the command ended: resolves on success, rejects with why it failed. */
  done: Promise<void>;
  /** Ends the command now (abort, or the other end failed). */
  kill(): void;
}

/** One end of a replication: the zfs commands a run needs, wherever they execute. */
export interface ZfsSide {
  /** For messages: "local" or "user@host". */
  readonly where: string;
  /** `root` and its descendants (recursive) that are filesystems or volumes; [] when root does not exist. */
  datasets(root: string, recursive: boolean): Promise<string[]>;
  /** Snapshots of exactly these datasets, each dataset's oldest first. */
  snapshots(datasets: readonly string[]): Promise<SnapshotRecord[]>;
  properties(names: readonly string[], properties: readonly string[]): Promise<PropertyTable>;
  setProperties(dataset: string, properties: Record<string, string>): Promise<void>;
  inheritProperty(dataset: string, property: string): Promise<void>;
  createDataset(name: string, parents: boolean): Promise<void>;
  destroySnapshot(name: string): Promise<void>;
  /** Rolls a dataset back to its newest snapshot `name` (drops changes made since, destroys nothing). */
  rollback(name: string): Promise<void>;
  /** How many bytes a send will be (an estimate where the ZFS cannot say exactly). */
  sendSize(opts: SendOptions): Promise<number>;
  send(opts: SendOptions): RunningCommand & { stream: Readable };
  receive(target: string, opts: ReceiveOptions): RunningCommand & { input: Writable };
}

export interface Transport {
  source: ZfsSide;
  target: ZfsSide;
}

/** Both ends in this host's pools, through the storage module's driver. */
export class LocalSide implements ZfsSide {
  readonly where = 'local';

  constructor(private readonly z: ZfsDriver) {}

  async datasets(root: string, recursive: boolean): Promise<string[]> {
    const t = await this.z.datasets.get([root], { properties: ['type'], recursive, types: ['filesystem', 'volume'] }).catch((e: unknown) => {
      if ((e as { errno?: string }).errno === 'ENOENT') return new Map() as PropertyTable;
      throw e;
    });
    return [...t.keys()];
  }

  snapshots(datasets: readonly string[]): Promise<SnapshotRecord[]> {
    return datasets.length === 0 ? Promise.resolve([]) : this.z.snapshots.list({ datasets, recursive: false });
  }

  properties(names: readonly string[], properties: readonly string[]): Promise<PropertyTable> {
    return this.z.datasets.get(names, { properties });
  }

  setProperties(dataset: string, properties: Record<string, string>): Promise<void> {
    return this.z.datasets.set(dataset, properties);
  }

  inheritProperty(dataset: string, property: string): Promise<void> {
    return this.z.datasets.inherit(dataset, property);
  }

  createDataset(name: string, parents: boolean): Promise<void> {
    return this.z.datasets.create(name, { parents });
  }

  destroySnapshot(name: string): Promise<void> {
    return this.z.snapshots.destroy(name);
  }

  rollback(name: string): Promise<void> {
    return this.z.snapshots.rollback(name);
  }

  async sendSize(opts: SendOptions): Promise<number> {
    // Counting a stream would read the data twice: where ZFS has no dry run, the snapshots'
    // referenced sizes say roughly how big it will be.
    return (await this.z.streams.size(opts, { allowCounting: false })).bytes;
  }

  send(opts: SendOptions): RunningCommand & { stream: Readable } {
    const ac = new AbortController();
    const s = this.z.streams.send(opts, ac.signal);
    return { stream: s.stream, done: s.done, kill: () => ac.abort() };
  }

  receive(target: string, opts: ReceiveOptions): RunningCommand & { input: Writable } {
    const ac = new AbortController();
    const r = this.z.streams.receive(target, opts, ac.signal);
    return { input: r.input, done: r.done, kill: () => ac.abort() };
  }
}

export class TransportUnavailable extends Error {}

/** The two ends of a task's replication. */
export function transportFor(task: Pick<ReplicationData, 'transport'>, z: ZfsDriver): Transport {
  if (task.transport === 'LOCAL') {
    const local = new LocalSide(z);
    return { source: local, target: local };
  }
  throw new TransportUnavailable(`${task.transport} transport is not available yet: only LOCAL replication (pool to pool on this host) is built`);
}
