// What the parsers return: plain data, typed, the same for every ZFS flavour. Times are epoch
// milliseconds (UTC); sizes are bytes, with a flag when ZFS only gave a rounded human size.

export type VdevKind =
  | 'root' | 'mirror' | 'raidz' | 'draid' | 'spare' | 'replacing'
  | 'disk' | 'file' | 'indirect' | 'hole' | 'missing';

export interface VdevErrors {
  read: number;
  write: number;
  checksum: number;
  /** false when ZFS printed rounded counters ("1.2K") instead of exact ones (`-p`). */
  exact: boolean;
}

export interface VdevStatus {
  /** As ZFS prints it: "mirror-0", "sdb", "/tmp/disk1", or a guid for a missing device. */
  name: string;
  kind: VdevKind;
  /** raidz/draid parity, else null. */
  parity: number | null;
  /** Top-level vdev id from a "-N" suffix ("mirror-1" -> 1), else null. */
  id: number | null;
  /** ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED; AVAIL or INUSE for spares; null when not printed. */
  state: string | null;
  /** null where ZFS prints no counters (spares, import listings). */
  errors: VdevErrors | null;
  /** Text after the counters: "cannot open", "was /dev/sdb1", "1.50M repaired", "(resilvering)". */
  note: string | null;
  /** Absolute path of a leaf; null for interior vdevs. */
  path: string | null;
  /** Filled in from `zpool status -g` or `zdb -C` when known. */
  guid: string | null;
  /** Allocatable bytes of a top-level vdev, when known (zdb -C asize). */
  size: number | null;
  children: VdevStatus[];
}

export interface Topology {
  data: VdevStatus[];
  log: VdevStatus[];
  cache: VdevStatus[];
  spare: VdevStatus[];
  special: VdevStatus[];
  dedup: VdevStatus[];
}

export type ScanFunction = 'SCRUB' | 'RESILVER';
export type ScanState = 'SCANNING' | 'FINISHED' | 'CANCELED';

export interface ScanStatus {
  function: ScanFunction;
  state: ScanState;
  /** A scrub in progress that is paused (OpenZFS `zpool scrub -p`). */
  paused: boolean;
  pausedAt: number | null;
  /** Start of the scan; derived from the elapsed time where ZFS prints only that (zfs-fuse: minute precision). */
  startTime: number | null;
  endTime: number | null;
  percentage: number | null;
  /** Bytes examined so far / to examine (OpenZFS "scanned"); null where not printed (zfs-fuse). */
  bytesScanned: number | null;
  bytesToScan: number | null;
  /** Bytes issued / to issue (OpenZFS); null where not printed. */
  bytesIssued: number | null;
  bytesToIssue: number | null;
  /** Bytes repaired or resilvered. */
  bytesProcessed: number | null;
  errors: number | null;
  secondsLeft: number | null;
  /** The scan lines as printed. */
  text: string;
}

export interface PoolStatus {
  name: string;
  /** The pool's health: ONLINE, DEGRADED, FAULTED, OFFLINE, UNAVAIL, REMOVED, SUSPENDED. */
  state: string;
  /** ZFS's explanation when the pool is not fine ("status:" paragraph), else null. */
  status: string | null;
  action: string | null;
  see: string | null;
  scan: ScanStatus | null;
  /** The root line of the config table (the pool itself) with its counters. */
  root: VdevStatus | null;
  topology: Topology;
  /** "errors:" line: 0 for "No known data errors", N for "N data errors", null when absent. */
  dataErrors: number | null;
  errorsText: string | null;
}

export interface ImportablePool {
  name: string;
  guid: string;
  state: string;
  /** True for a pool that was destroyed (listed with `zpool import -D`). */
  destroyed: boolean;
  status: string | null;
  action: string | null;
  comment: string | null;
  root: VdevStatus | null;
  topology: Topology;
}

/** One row of `zpool list`. */
export interface PoolListEntry {
  name: string;
  guid: string;
  health: string;
  size: number | null;
  allocated: number | null;
  free: number | null;
  freeing: number | null;
  fragmentation: number | null;
  capacity: number | null;
  dedupratio: string | null;
  altroot: string | null;
  /** The values as ZFS printed them (human on zfs-fuse, exact digits with -p). */
  raw: Record<string, string>;
  /** false when sizes were parsed from rounded human text (zfs-fuse has no `zpool list -p`). */
  exact: boolean;
}

export type PropertySourceKind = 'NONE' | 'DEFAULT' | 'LOCAL' | 'TEMPORARY' | 'INHERITED' | 'RECEIVED';

export interface PropertyValue {
  /** The value `zfs get -p` printed (exact numbers, timestamps as epoch seconds). */
  raw: string;
  source: PropertySourceKind;
  /** The dataset a value is inherited from, else null. */
  from: string | null;
}

/** dataset or snapshot name -> property name -> value, in the order ZFS printed them. */
export type PropertyTable = Map<string, Map<string, PropertyValue>>;

/** A snapshot as the fast listing returns it: only fields that never change for a snapshot. */
export interface SnapshotRecord {
  name: string;
  dataset: string;
  snapshot: string;
  pool: string;
  createtxg: string;
  /** Creation time, epoch ms. */
  creation: number;
  guid: string | null;
  referenced: number | null;
}

export interface HoldRecord {
  snapshot: string;
  /** Hold tags; null when the installed ZFS cannot list them (zfs-fuse). */
  tags: string[] | null;
  /** The snapshot's userrefs property: how many holds it has. */
  count: number;
}

export interface SendSize {
  bytes: number;
  /** How it was found: `zfs send -nvP`, by counting a real stream, or from properties (approximate). */
  method: 'dry-run' | 'counted' | 'properties';
  exact: boolean;
}
