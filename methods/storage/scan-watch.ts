// Following a scrub or resilver: one poll of `zpool status <pool>` every scanIntervalMs (2 s, as
// TrueNAS's ScanWatch) per pool while it scans, shared by everyone who follows it. Each poll
// while SCANNING sends the `pool.scan` event ({name, scan} without an id; the first after one
// interval) and tells the followers (a pool.scrub.scrub job sets its progress from it); when the
// scan ends, one last event goes out and the pool's entry is sent as a pool.query CHANGED.
import type { PoolScanT } from '../../schemas/pool.js';
import { mapScan } from '../zfs/map-pool.js';
import type { ScanStatus } from '../zfs/types.js';
import type { StorageContext } from './context.js';

export const SCAN_EVENT = 'pool.scan';

type Follower = (scan: ScanStatus | null, wire: PoolScanT | null) => void;

interface Watch {
  followers: Set<Follower>;
  /** Settles with the last scan read when the scan is no longer running. */
  ended: Promise<ScanStatus | null>;
}

export class ScanWatcher {
  private readonly watches = new Map<string, Watch>();
  private readonly stopping = new AbortController();

  constructor(private readonly ctx: StorageContext, private readonly onEnded: (pool: string) => void) {}

  /**
   * Follows `pool`'s scan until it ends; `follower` hears every reading. `starting` is the
   * command that starts a new scan: until it returns, a reading of no running scan is the old
   * scan's (zfs-fuse's `zpool scrub` returns only when its scrub is done; OpenZFS's at once).
   */
  follow(pool: string, follower?: Follower, starting?: Promise<unknown>): { ended: Promise<ScanStatus | null>; unfollow(): void } {
    let w = this.watches.get(pool);
    if (w === undefined) {
      const followers = new Set<Follower>();
      w = { followers, ended: this.loop(pool, followers, starting) };
      this.watches.set(pool, w);
      const self = w;
      void w.ended.finally(() => { if (this.watches.get(pool) === self) this.watches.delete(pool); });
    }
    if (follower) w.followers.add(follower);
    const watch = w;
    return { ended: w.ended, unfollow: () => follower && watch.followers.delete(follower) };
  }

  watching(pool: string): boolean {
    return this.watches.has(pool);
  }

  stop(): void {
    this.stopping.abort();
  }

  /**
   * One reading. zfs-fuse prints only a percentage: byte counts are derived from the pool's
   * allocated space, read once per watch (`space`) since it barely moves during a scan and a
   * second command per poll would double what following costs.
   */
  private async read(pool: string, space: { allocated?: number | null }): Promise<{ scan: ScanStatus | null; wire: PoolScanT | null } | null> {
    const z = this.ctx.zfs;
    const [status] = await z.pools.status(pool, { guids: false });
    if (status === undefined) return null;
    if (status.scan === null) return { scan: null, wire: null };
    let allocated: number | null = null;
    if (!z.dialect.zpoolListParsable && status.scan.bytesToScan === null) {
      allocated = space.allocated ??= (await z.pools.list([pool]))[0]?.allocated ?? null;
    }
    return { scan: status.scan, wire: mapScan(status.scan, allocated) };
  }

  private async loop(pool: string, followers: Set<Follower>, starting?: Promise<unknown>): Promise<ScanStatus | null> {
    const signal = this.stopping.signal;
    let last: ScanStatus | null = null;
    let pending = starting !== undefined;
    let startFailed = false;
    const space: { allocated?: number | null } = {};
    starting?.then(() => { pending = false; }, () => { pending = false; startFailed = true; });
    try {
      for (let first = true; !signal.aborted; first = false) {
        if (!first) await sleep(this.ctx.scanIntervalMs, signal);
        if (signal.aborted || startFailed) break;
        // Read whether the start command is still running before the status, not after.
        const stillStarting = pending;
        const r = await this.read(pool, space);
        if (r === null) break; // the pool is gone
        const scanning = r.scan?.state === 'SCANNING';
        if (stillStarting && !scanning) continue; // the new scan has not shown yet
        last = r.scan;
        // The first reading is not sent: TrueNAS's first event comes one interval after the start.
        if (r.wire !== null && (!first || !scanning)) this.ctx.app.events.emit(SCAN_EVENT, 'changed', undefined, { name: pool, scan: r.wire });
        for (const f of followers) f(r.scan, r.wire);
        if (!scanning) break;
      }
    } catch (e) {
      if (!signal.aborted) this.ctx.log.warn({ err: e, pool }, 'following a scan failed');
    }
    if (!signal.aborted) this.onEnded(pool);
    return last;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
