// Storage alerts, from what the storage module answers (pool.query, pool.scrub.query,
// pool.snapshot.query) through internal calls: pools not ONLINE, disks with read/write/checksum
// errors, pools filling up, scrubs overdue, datasets with too many snapshots. A daemon without the
// storage module has none of these methods, and the sources simply find nothing. The decisions
// are plain functions of TrueNAS-shaped entries (MODULES.md 5), tested on their own.
import { alertSource, Type, type AlertClassDef, type AlertDraft, type AlertSourceDef, type App } from '#midship/module-api';
import type { JobFailureRule } from './job-failures.js';

// ---- the parts of TrueNAS's entries read here ----

export interface VdevLike {
  name: string;
  type: string;
  status: string;
  disk?: string | null;
  stats?: { read_errors: number; write_errors: number; checksum_errors: number } | null;
  children?: VdevLike[];
}

export interface PoolLike {
  name: string;
  status: string;
  status_detail?: string | null;
  size?: number | null;
  allocated?: number | null;
  scan?: { function: string; state: string; end_time?: { $date: number } | null } | null;
  topology?: Record<string, VdevLike[] | undefined> | null;
}

export interface ScrubTaskLike {
  pool_name: string;
  threshold: number;
  enabled: boolean;
}

// ---- classes ----

const byVolume = (a: unknown) => (a as { volume: string }).volume;
export const VOLUME_STATUS: AlertClassDef = { name: 'VolumeStatus', category: 'STORAGE', level: 'CRITICAL', title: 'Pool Status Is Not Healthy', text: 'Pool %(volume)s state is %(state)s%(detail)s', key: byVolume };
export const DISK_ERRORS: AlertClassDef = {
  name: 'PoolDiskErrors', category: 'STORAGE', level: 'WARNING', title: 'Disk Errors',
  text: 'Disk %(disk)s of pool %(volume)s has %(read)d read, %(write)d write and %(checksum)d checksum errors',
  key: (a) => [(a as { volume: string }).volume, (a as { disk: string }).disk],
};
const usageText = 'Space usage for pool %(volume)s is %(percent)d%%, above %(threshold)d%%';
export const POOL_USAGE_WARNING: AlertClassDef = { name: 'PoolUsageWarning', category: 'STORAGE', level: 'WARNING', title: 'Pool Space Usage Is Above Warning Level', text: usageText, key: byVolume };
export const POOL_USAGE_CRITICAL: AlertClassDef = { name: 'PoolUsageCritical', category: 'STORAGE', level: 'CRITICAL', title: 'Pool Space Usage Is Above Critical Level', text: usageText, key: byVolume };
export const SCRUB_OVERDUE: AlertClassDef = {
  name: 'ScrubOverdue', category: 'STORAGE', level: 'WARNING', title: 'Scrub Overdue',
  text: 'Pool %(volume)s was last scrubbed %(days)d days ago, past its threshold of %(threshold)d days', key: byVolume,
};
export const SNAPSHOT_COUNT: AlertClassDef = {
  name: 'SnapshotCount', category: 'STORAGE', level: 'WARNING', title: 'Too Many Snapshots Exist For Dataset',
  text: 'Dataset %(dataset)s has more snapshots (%(count)d) than recommended (%(max)d). Performance or functionality might degrade.',
  key: (a) => (a as { dataset: string }).dataset,
};

const failed = (name: string, title: string, what: string): AlertClassDef => ({
  name, category: 'TASKS', level: 'ERROR', title, oneShot: true,
  text: `${what} %(id)s failed: %(error)s (job %(job_id)d, %(description)s)`,
  key: (a) => (a as { id: unknown }).id,
});
export const SCRUB_FAILED = failed('ScrubFailed', 'Scrub Failed', 'Scrub of pool');
export const SNAPSHOT_TASK_FAILED = failed('SnapshotTaskFailed', 'Periodic Snapshot Task Failed', 'Periodic snapshot task');
export const REPLICATION_FAILED = failed('ReplicationFailed', 'Replication Failed', 'Replication task');

/** Failed runs of the storage tasks (job-failures.ts): a scrub START of a pool, a snapshot task, a replication task. */
export const STORAGE_FAILURE_RULES: readonly JobFailureRule[] = [
  { method: 'pool.scrub.scrub', klass: SCRUB_FAILED, task: (args) => args[0], counts: (args) => (args[1] ?? 'START') === 'START' },
  { method: 'pool.snapshottask.run', klass: SNAPSHOT_TASK_FAILED, task: (args) => args[0] },
  { method: 'replication.run', klass: REPLICATION_FAILED, task: (args) => args[0] },
];

// ---- decisions ----

export interface PoolSettings {
  usage_warning_percent: number;
  usage_critical_percent: number;
  /** Days past a pool's scrub threshold before its scrub is overdue (a weekly schedule needs up to 7). */
  scrub_grace_days: number;
  /** The threshold of a pool without a scrub task (TrueNAS's default task has 35). */
  scrub_threshold_days: number;
}

const DAY_MS = 86_400_000;

/** Every DISK (or FILE) leaf of a topology, spares and caches included. */
function leaves(nodes: readonly VdevLike[] | undefined, out: VdevLike[] = []): VdevLike[] {
  for (const n of nodes ?? []) {
    if (n.children && n.children.length > 0) leaves(n.children, out);
    else out.push(n);
  }
  return out;
}

export function poolAlerts(pools: readonly PoolLike[], scrubTasks: readonly ScrubTaskLike[], s: PoolSettings, now: number): AlertDraft[] {
  const out: AlertDraft[] = [];
  for (const p of pools) {
    if (p.status !== 'ONLINE') out.push({ klass: VOLUME_STATUS.name, args: { volume: p.name, state: p.status, detail: p.status_detail ? `: ${p.status_detail}` : '' } });

    for (const section of Object.values(p.topology ?? {})) {
      for (const leaf of leaves(section)) {
        const st = leaf.stats;
        if (!st || st.read_errors + st.write_errors + st.checksum_errors === 0) continue;
        out.push({ klass: DISK_ERRORS.name, args: { volume: p.name, disk: leaf.disk ?? leaf.name, read: st.read_errors, write: st.write_errors, checksum: st.checksum_errors } });
      }
    }

    if (p.size && p.allocated !== null && p.allocated !== undefined) {
      const percent = (p.allocated / p.size) * 100;
      if (percent >= s.usage_critical_percent) out.push({ klass: POOL_USAGE_CRITICAL.name, args: { volume: p.name, percent: Math.floor(percent), threshold: s.usage_critical_percent } });
      else if (percent >= s.usage_warning_percent) out.push({ klass: POOL_USAGE_WARNING.name, args: { volume: p.name, percent: Math.floor(percent), threshold: s.usage_warning_percent } });
    }

    // A scrub running now, a pool never scrubbed (or last scanned by a resilver: when it was
    // scrubbed is unknown) or one whose scrub task is disabled on purpose: nothing to say.
    const task = scrubTasks.find((t) => t.pool_name === p.name);
    const scan = p.scan;
    if (task?.enabled === false || !scan || scan.function !== 'SCRUB' || scan.state === 'SCANNING' || !scan.end_time) continue;
    const threshold = task?.threshold ?? s.scrub_threshold_days;
    const days = Math.floor((now - scan.end_time.$date) / DAY_MS);
    if (days > threshold + s.scrub_grace_days) out.push({ klass: SCRUB_OVERDUE.name, args: { volume: p.name, days, threshold } });
  }
  return out;
}

export function snapshotCountAlerts(snapshots: ReadonlyArray<{ dataset: string }>, max: number): AlertDraft[] {
  const counts = new Map<string, number>();
  for (const s of snapshots) counts.set(s.dataset, (counts.get(s.dataset) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > max).map(([dataset, count]) => ({ klass: SNAPSHOT_COUNT.name, args: { dataset, count, max } }));
}

// ---- sources ----

const has = (app: App, name: string) => app.registry.get(name) !== undefined;

export function storageSources(app: App): AlertSourceDef[] {
  const Percent = (def: number) => Type.Number({ minimum: 0, maximum: 100, default: def });
  return [
    alertSource({
      name: 'Pools',
      settings: Type.Object({
        usage_warning_percent: Percent(80),
        usage_critical_percent: Percent(90),
        scrub_grace_days: Type.Integer({ minimum: 0, maximum: 365, default: 7 }),
        scrub_threshold_days: Type.Integer({ minimum: 1, maximum: 3650, default: 35 }),
      }),
      async check({ settings, now }) {
        if (!has(app, 'pool.query')) return [];
        const pools = (await app.call('pool.query', [])) as PoolLike[];
        const tasks = has(app, 'pool.scrub.query') ? ((await app.call('pool.scrub.query', [])) as ScrubTaskLike[]) : [];
        return poolAlerts(pools, tasks, settings, now);
      },
    }),
    alertSource({
      name: 'SnapshotCount',
      // As TrueNAS: hourly. Counting every snapshot is not a job for every minute.
      interval: 3600,
      settings: Type.Object({ max: Type.Integer({ minimum: 1, default: 512, description: 'Snapshots per dataset before an alert' }) }),
      async check({ settings }) {
        if (!has(app, 'pool.snapshot.query')) return [];
        const snaps = (await app.call('pool.snapshot.query', [[], { select: ['dataset'] }])) as Array<{ dataset: string }>;
        return snapshotCountAlerts(snaps, settings.max);
      },
    }),
  ];
}
