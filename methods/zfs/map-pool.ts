// Parsed `zpool list` + `zpool status` -> the TrueNAS pool entry (pool.query) and its vdev
// nodes. Pure functions: the caller brings the DB id, the mount path and, if it wants disk
// names for /dev/disk/by-* links, a resolver.
import type { PoolEntryT, PoolScanT, PoolTopologyT, VdevNodeT } from '../../schemas/pool.js';
import type { PoolListEntry, PoolStatus, PropertyTable, ScanStatus, Topology, VdevStatus } from './types.js';

/** Which device and whole disk a leaf path stands for ("/dev/sdb1" -> sdb1, sdb). */
export type DiskResolver = (path: string) => { device: string | null; disk: string | null };

/** "sdb1" -> "sdb", "nvme0n1p2" -> "nvme0n1", "loop3" -> "loop3". */
export function partitionParent(device: string): string {
  let m = /^((?:nvme\d+n\d+|mmcblk\d+|loop\d+|nbd\d+|zd\d+))p\d+$/.exec(device);
  if (m) return m[1]!;
  if (/^(?:nvme\d+n\d+|mmcblk\d+|loop\d+|nbd\d+|zd\d+|dm-\d+|md\d+)$/.test(device)) return device;
  m = /^((?:sd|vd|xvd|hd)[a-z]+)\d+$/.exec(device);
  return m ? m[1]! : device;
}

/** Without access to the system: /dev/<name> paths only (by-id style links stay unresolved). */
export const lexicalResolver: DiskResolver = (path) => {
  const m = /^\/dev\/([^/]+)$/.exec(path);
  if (!m) return { device: null, disk: null };
  return { device: m[1]!, disk: partitionParent(m[1]!) };
};

function vdevType(v: VdevStatus): VdevNodeT['type'] {
  switch (v.kind) {
    case 'mirror': return 'MIRROR';
    case 'raidz': return (`RAIDZ${v.parity ?? 1}`) as VdevNodeT['type'];
    case 'draid': return 'DRAID';
    case 'spare': return 'SPARE';
    case 'replacing': return 'REPLACING';
    case 'file': return 'FILE';
    case 'missing': return 'MISSING';
    case 'indirect': return 'INDIRECT';
    case 'hole': return 'HOLE';
    default: return 'DISK';
  }
}

/**
 * Vdev status as TrueNAS reports it: the vdev state; a hot spare's "AVAIL" or "INUSE" is a
 * healthy vdev there (ONLINE), like any other.
 */
function vdevStatus(v: VdevStatus): string {
  if (v.state === null) return 'UNKNOWN';
  if (v.state === 'AVAIL' || v.state === 'INUSE') return 'ONLINE';
  if (v.state === 'CANT_OPEN') return 'UNAVAIL';
  return v.state;
}

const ZEROS = [0, 0, 0, 0, 0, 0, 0];

/**
 * One vdev node. Statistics ZFS's text does not print (ops, bytes, ashift, fragmentation)
 * are 0, as TrueNAS itself fills missing ones; the error counters are the real ones.
 */
export function mapVdev(v: VdevStatus, resolve: DiskResolver = lexicalResolver): VdevNodeT {
  const leaf = v.children.length === 0;
  const path = leaf ? v.path : null;
  const { device, disk } = path !== null && v.kind === 'disk' ? resolve(path) : { device: null, disk: null };
  return {
    name: leaf && v.path !== null ? v.path : v.name,
    type: vdevType(v),
    guid: v.guid,
    status: vdevStatus(v),
    path,
    device,
    disk,
    unavail_disk: null,
    stats: {
      timestamp: 0,
      read_errors: v.errors?.read ?? 0,
      write_errors: v.errors?.write ?? 0,
      checksum_errors: v.errors?.checksum ?? 0,
      ops: [...ZEROS],
      bytes: [...ZEROS],
      size: v.size ?? 0,
      allocated: 0,
      fragmentation: 0,
      self_healed: 0,
      configured_ashift: 0,
      logical_ashift: 0,
      physical_ashift: 0,
    },
    children: v.children.map((c) => mapVdev(c, resolve)),
  };
}

export function mapTopology(t: Topology, resolve: DiskResolver = lexicalResolver): PoolTopologyT {
  const m = (list: VdevStatus[]) => list.map((v) => mapVdev(v, resolve));
  return { data: m(t.data), log: m(t.log), cache: m(t.cache), spare: m(t.spare), special: m(t.special), dedup: m(t.dedup) };
}

const date = (ms: number | null) => (ms === null ? null : { $date: Math.round(ms) });

/**
 * PoolScan. TrueNAS keeps py-libzfs's legacy mapping where `bytes_to_process` is the bytes
 * examined so far and `bytes_processed` the total to examine (plugins/pool_/pool.py swaps them
 * on purpose); this follows it. zfs-fuse prints no byte counts, only a percentage: there the
 * counts are the pool's allocated bytes times that fraction (ZFS's own "total" is the pool's
 * allocated space), or null when the allocation is unknown.
 */
export function mapScan(s: ScanStatus, allocated: number | null): PoolScanT {
  const scanning = s.state === 'SCANNING';
  const percentage = s.percentage ?? (s.state === 'FINISHED' ? 100 : 0);
  let examined = s.bytesScanned;
  let total = s.bytesToScan;
  if (total === null && allocated !== null) {
    total = allocated;
    examined = Math.round(allocated * Math.min(percentage, 100) / 100);
  }
  return {
    function: s.function,
    state: s.state,
    start_time: date(s.startTime),
    end_time: scanning ? null : date(s.endTime),
    percentage,
    bytes_to_process: examined,
    bytes_processed: total,
    bytes_issued: s.bytesIssued ?? examined,
    pause: scanning && s.paused ? date(s.pausedAt) : null,
    errors: s.errors ?? 0,
    total_secs_left: scanning && !s.paused ? s.secondsLeft : null,
  };
}

// What ZFS's "status:" paragraph means, as the ZPOOL_STATUS_* code TrueNAS reports. The
// phrases are printed by zfs-fuse and OpenZFS alike (OpenZFS adds a few).
const STATUS_CODES: Array<[RegExp, string]> = [
  [/could not be opened\.\s+Sufficient replicas/i, 'MISSING_DEV_R'],
  [/could not be opened\.\s+There are insufficient/i, 'MISSING_DEV_NR'],
  [/are missing from the system/i, 'MISSING_DEV_NR'],
  [/label is missing[\s\S]*Sufficient replicas/i, 'CORRUPT_LABEL_R'],
  [/label is missing/i, 'CORRUPT_LABEL_NR'],
  [/unrecoverable error\.\s+An attempt was made to correct/i, 'FAILING_DEV'],
  [/taken offline by the administrator|are offlined/i, 'OFFLINE_DEV'],
  [/removed by the administrator/i, 'REMOVED_DEV'],
  [/currently being resilvered/i, 'RESILVERING'],
  [/error resulting in data\s+corruption|pool data is corrupted/i, 'CORRUPT_DATA'],
  [/metadata is corrupted/i, 'CORRUPT_POOL'],
  [/older on-disk (?:format|version)/i, 'VERSION_OLDER'],
  [/features are not enabled/i, 'FEAT_DISABLED'],
  [/newer, incompatible on-disk version|incompatible version/i, 'VERSION_NEWER'],
  [/persistent errors\.\s+Sufficient replicas/i, 'FAULTED_DEV_R'],
  [/persistent errors\.\s+There are insufficient/i, 'FAULTED_DEV_NR'],
  [/faulted in response to IO failures/i, 'IO_FAILURE_WAIT'],
  [/intent log record (?:could not|cannot) be read/i, 'BAD_LOG'],
];

const RECOVERABLE = new Set(['MISSING_DEV_R', 'CORRUPT_LABEL_R', 'FAILING_DEV', 'OFFLINE_DEV', 'REMOVED_DEV', 'RESILVERING', 'VERSION_OLDER', 'FEAT_DISABLED', 'FAULTED_DEV_R']);

export function statusCode(status: string | null): string | null {
  if (status === null) return 'OK';
  return STATUS_CODES.find(([re]) => re.test(status))?.[1] ?? null;
}

export interface PoolEntryInput {
  /** The storage module's DB id of the pool. */
  id: number;
  /** Where the pool's root dataset is mounted (TrueNAS: /mnt/<name>). */
  path: string;
  list: PoolListEntry;
  status: PoolStatus | null;
  /** Pool properties (autotrim, dedup_table_size, dedup_table_quota) when read. */
  properties?: PropertyTable;
  allSed?: boolean | null;
  isUpgraded?: boolean;
  resolve?: DiskResolver;
}

export function mapPoolEntry(i: PoolEntryInput): PoolEntryT {
  const s = i.status;
  const code = s === null ? null : statusCode(s.status);
  const props = i.properties?.get(i.list.name);
  const raw = (k: string) => props?.get(k)?.raw ?? null;
  const autotrim = props?.get('autotrim');
  const state = s?.state ?? i.list.health;
  const str = (k: string) => {
    const v = i.list.raw[k];
    return v === undefined || v === '-' ? null : v;
  };
  const dts = raw('dedup_table_size');
  return {
    id: i.id,
    name: i.list.name,
    guid: i.list.guid,
    all_sed: i.allSed ?? false,
    status: state,
    path: i.path,
    scan: s?.scan ? mapScan(s.scan, i.list.allocated) : null,
    expand: null,
    is_upgraded: i.isUpgraded ?? false,
    healthy: state === 'ONLINE' && (code === 'OK' || (code !== null && RECOVERABLE.has(code))),
    warning: code !== null && RECOVERABLE.has(code),
    status_code: code,
    status_detail: s?.status ?? null,
    size: i.list.size,
    allocated: i.list.allocated,
    free: i.list.free,
    freeing: i.list.freeing,
    dedup_table_size: dts !== null && /^\d+$/.test(dts) ? Number(dts) : null,
    dedup_table_quota: raw('dedup_table_quota'),
    fragmentation: i.list.fragmentation === null ? null : String(i.list.fragmentation),
    size_str: str('size'),
    allocated_str: str('allocated'),
    free_str: str('free'),
    freeing_str: str('freeing'),
    // A ZFS without the autotrim property never trims automatically: "off", by default.
    autotrim: autotrim
      ? { parsed: autotrim.raw, rawvalue: autotrim.raw, value: autotrim.raw, source: autotrim.source }
      : { parsed: 'off', rawvalue: 'off', value: 'off', source: 'DEFAULT' },
    topology: s === null ? null : mapTopology(s.topology, i.resolve),
  };
}
