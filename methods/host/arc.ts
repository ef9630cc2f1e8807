// ZFS ARC counters and the per-second figures reporting.realtime sends under `zfs` and `memory`.
// OpenZFS exposes one file, /proc/spl/kstat/zfs/arcstats ("name type data" lines); zfs-fuse
// exposes a directory, /zfs-kstat/zfs/arcstats/<name>, one value per file. Counters a build does
// not have (zfs-fuse has no iohits and no memory_*_bytes) read as 0.
//
// Reading the ARC must never hold up a sample, the event loop or the daemon's exit. procfs
// answers at once; zfs-fuse's files are read by a child process (fuse-kstat.ts), and a sample
// waits at most READ_BUDGET_MS for them: past that it goes on without ARC figures (0 on the wire,
// no history point), and later samples do not wait again until the stalled read has answered.
import { withDeadline } from './deadline.js';
import { FuseKstatReader } from './fuse-kstat.js';
import { hostPath, toSource, type FileSource, type HostRoot } from './files.js';
import type { RealtimeZfsT } from '../../schemas/host/realtime.js';

export const ARC_KEYS = [
  'size', 'c_max', 'memory_free_bytes', 'memory_available_bytes',
  'demand_data_hits', 'demand_data_iohits', 'demand_data_misses',
  'demand_metadata_hits', 'demand_metadata_iohits', 'demand_metadata_misses',
  'l2_size', 'l2_hits', 'l2_misses', 'l2_read_bytes', 'l2_write_bytes',
] as const;
export type ArcKey = (typeof ARC_KEYS)[number];
export type ArcCounters = Record<ArcKey, number>;

const OPENZFS = '/proc/spl/kstat/zfs/arcstats';
const ZFS_FUSE_MOUNT = '/zfs-kstat';
const ZFS_FUSE = `${ZFS_FUSE_MOUNT}/zfs/arcstats`;
const MOUNTS = '/proc/self/mounts';

function empty(): ArcCounters {
  return Object.fromEntries(ARC_KEYS.map((k) => [k, 0])) as ArcCounters;
}

export function parseArcstats(text: string): ArcCounters | null {
  const out = empty();
  let found = false;
  const wanted = new Set<string>(ARC_KEYS);
  for (const line of text.split('\n')) {
    const [name, , data] = line.trim().split(/\s+/);
    if (name === undefined || data === undefined || !wanted.has(name)) continue;
    const n = Number(data);
    if (Number.isFinite(n)) {
      out[name as ArcKey] = n;
      found = true;
    }
  }
  return found ? out : null;
}

/** Counters from zfs-fuse's one-value files (name -> text). */
function fromValues(values: Map<string, string>): ArcCounters | null {
  const out = empty();
  let found = false;
  for (const k of ARC_KEYS) {
    const text = values.get(k);
    const n = text === undefined ? NaN : Number(text.trim());
    if (text !== undefined && text.trim() !== '' && Number.isFinite(n)) {
      out[k] = n;
      found = true;
    }
  }
  return found ? out : null;
}

/**
 * Whether zfs-fuse's kstat file system is mounted, told by /proc/self/mounts: looking at the
 * mount itself (a stat, a directory listing) would block on a stalled zfs-fuse.
 */
export function hasFuseKstat(mounts: string): boolean {
  return mounts.split('\n').some((line) => {
    const [, at, type] = line.split(' ');
    return at === ZFS_FUSE_MOUNT && type !== undefined && type.startsWith('fuse');
  });
}

type Source = { kind: 'openzfs' } | { kind: 'zfs-fuse'; reader: FuseKstatReader } | { kind: 'none'; checkedAt: number };

/** How long a host without ARC waits before looking again (the module may be loaded later). */
const RECHECK_MS = 60_000;
/** How long a sample waits for the ARC figures before going on without them. */
export const READ_BUDGET_MS = 1000;

export class ArcReader {
  private readonly files: FileSource;
  private source: Source | null = null;
  /** The read in progress, shared by every caller until it answers, and when it stops being waited for. */
  private reading: { promise: Promise<ArcCounters | null>; deadline: number } | null = null;
  private closed = false;

  constructor(root: HostRoot = '/', private readonly now: () => number = Date.now, private readonly budgetMs = READ_BUDGET_MS) {
    this.files = toSource(root);
  }

  /**
   * The counters now, or null when the host has no ZFS ARC or its figures did not come within the
   * budget. A read still unanswered past its budget is not waited for again: null at once.
   */
  read(): Promise<ArcCounters | null> {
    if (this.closed) return Promise.resolve(null);
    if (!this.reading) {
      const promise = this.readNow().finally(() => (this.reading = null));
      this.reading = { promise, deadline: performance.now() + this.budgetMs };
    }
    const left = this.reading.deadline - performance.now();
    if (left <= 0) return Promise.resolve(null);
    return withDeadline(this.reading.promise, left, () => null);
  }

  private async discover(): Promise<Source> {
    if ((await this.files.read(OPENZFS)) !== null) return { kind: 'openzfs' };
    const mounts = await this.files.read(MOUNTS);
    if (mounts !== null && hasFuseKstat(mounts) && !this.closed) {
      return { kind: 'zfs-fuse', reader: new FuseKstatReader(hostPath(this.files.root, ZFS_FUSE), ARC_KEYS) };
    }
    return { kind: 'none', checkedAt: this.now() };
  }

  private async readNow(): Promise<ArcCounters | null> {
    if (this.source === null || (this.source.kind === 'none' && this.now() - this.source.checkedAt >= RECHECK_MS)) {
      this.source = await this.discover();
      if (this.closed) {
        this.close(); // closed while discovering: the reader just made must not start a shell
        return null;
      }
    }
    const source = this.source;
    if (source.kind === 'none') return null;
    if (source.kind === 'openzfs') {
      const text = await this.files.read(OPENZFS);
      if (text === null) this.source = null;
      return text === null ? null : parseArcstats(text);
    }
    const values = await source.reader.request();
    const counters = values === null ? null : fromValues(values);
    if (counters === null) {
      // The shell exited (no access to the mount, unmounted) or found no counter: look again later.
      source.reader.close();
      if (this.source === source) this.source = { kind: 'none', checkedAt: this.now() };
    }
    return counters;
  }

  /** Stops the zfs-fuse reader, a stuck one included, without waiting for it. */
  close(): void {
    this.closed = true;
    if (this.source?.kind === 'zfs-fuse') this.source.reader.close();
  }
}

const rate = (d: number, seconds: number) => Math.round((Math.max(0, d) / seconds) * 100) / 100;
const pct = (part: number, whole: number) => (whole > 0 ? Math.round((100 * part) / whole * 100) / 100 : 0);

/**
 * The `zfs` object of reporting.realtime: per-second rates and hit percentages between two
 * readings, computed as OpenZFS's arcstat does (and TrueNAS after it), rounded to integers.
 */
export function arcRates(prev: ArcCounters | null, cur: ArcCounters | null, seconds: number): RealtimeZfsT {
  const d = (k: ArcKey) => (prev && cur ? cur[k] - prev[k] : 0);
  const s = seconds > 0 ? seconds : 1;
  const ddhit = rate(d('demand_data_hits'), s);
  const ddioh = rate(d('demand_data_iohits'), s);
  const ddmis = rate(d('demand_data_misses'), s);
  const ddread = ddhit + ddioh + ddmis;
  const dmhit = rate(d('demand_metadata_hits'), s);
  const dmioh = rate(d('demand_metadata_iohits'), s);
  const dmmis = rate(d('demand_metadata_misses'), s);
  const dmread = dmhit + dmioh + dmmis;
  const ddh = pct(ddhit, ddread);
  const ddi = pct(ddioh, ddread);
  const dmh = pct(dmhit, dmread);
  const dmi = pct(dmioh, dmread);
  const l2 = (cur?.l2_size ?? 0) > 0;
  const l2hits = l2 ? rate(d('l2_hits'), s) : 0;
  const l2miss = l2 ? rate(d('l2_misses'), s) : 0;
  const l2read = l2hits + l2miss;
  const l2hit = pct(l2hits, l2read);
  const out: RealtimeZfsT = {
    demand_accesses_per_second: ddread + dmread,
    demand_data_accesses_per_second: ddread,
    demand_metadata_accesses_per_second: dmread,
    demand_data_hits_per_second: ddhit,
    demand_data_io_hits_per_second: ddioh,
    demand_data_misses_per_second: ddmis,
    demand_data_hit_percentage: ddh,
    demand_data_io_hit_percentage: ddi,
    demand_data_miss_percentage: ddread > 0 ? 100 - ddh - ddi : 0,
    demand_metadata_hits_per_second: dmhit,
    demand_metadata_io_hits_per_second: dmioh,
    demand_metadata_misses_per_second: dmmis,
    demand_metadata_hit_percentage: dmh,
    demand_metadata_io_hit_percentage: dmi,
    demand_metadata_miss_percentage: dmread > 0 ? 100 - dmh - dmi : 0,
    l2arc_hits_per_second: l2hits,
    l2arc_misses_per_second: l2miss,
    total_l2arc_accesses_per_second: l2read,
    l2arc_access_hit_percentage: l2hit,
    l2arc_miss_percentage: l2read > 0 ? 100 - l2hit : 0,
    bytes_read_per_second_from_the_l2arc: l2 ? rate(d('l2_read_bytes'), s) : 0,
    bytes_written_per_second_to_the_l2arc: l2 ? rate(d('l2_write_bytes'), s) : 0,
  };
  // The wire carries integers (TrueNAS's normalize_value rounds every value).
  for (const k of Object.keys(out) as Array<keyof RealtimeZfsT>) out[k] = Math.round(out[k]);
  return out;
}
