// The storage alerts' decisions on TrueNAS-shaped entries (MODULES.md 5.1: pool.query with its
// legacy vdev nodes and PoolScan; 5.5: pool.scrub.query; 5.7: pool.snapshot.query), the failed
// task rules, and a daemon without the storage module, where the storage sources find nothing.
// The live test against the storage module's real pools is added when storage is merged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jobOutcome, type JobFailureRule } from '../methods/alert/builtin/job-failures.js';
import { poolAlerts, snapshotCountAlerts, STORAGE_FAILURE_RULES, type PoolLike, type VdevLike } from '../methods/alert/builtin/storage.js';
import { makeAlertModule } from '../methods/alert.js';
import { coreModule } from '../methods/core.js';
import { Client, startDaemon } from './helpers/daemon.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const settings = { usage_warning_percent: 80, usage_critical_percent: 90, scrub_grace_days: 7, scrub_threshold_days: 35 };

const stats = (read = 0, write = 0, checksum = 0) => ({
  timestamp: 0, read_errors: read, write_errors: write, checksum_errors: checksum, ops: [0, 0, 0, 0, 0, 0, 0], bytes: [0, 0, 0, 0, 0, 0, 0],
  size: 0, allocated: 0, fragmentation: 0, self_healed: 0, configured_ashift: 12, logical_ashift: 9, physical_ashift: 12,
});
const disk = (name: string, status = 'ONLINE', errors: [number, number, number] = [0, 0, 0]): VdevLike => ({
  name, type: 'DISK', guid: '1234', status, path: `/dev/${name}1`, device: `${name}1`, disk: name, unavail_disk: null, stats: stats(...errors), children: [],
} as VdevLike);

/** A pool.query entry as TrueNAS returns it (the fields this reads, and the rest around them). */
function pool(o: Partial<PoolLike> & { name: string } & Record<string, unknown>): PoolLike {
  return {
    id: 1, guid: '9876543210', all_sed: null, path: `/mnt/${o.name}`, expand: null, is_upgraded: true, healthy: true, warning: false,
    status: 'ONLINE', status_code: null, status_detail: null, size: 1000, allocated: 100, free: 900, freeing: 0,
    dedup_table_size: 0, dedup_table_quota: 'auto', fragmentation: '1', size_str: '1000', allocated_str: '100', free_str: '900', freeing_str: '0',
    autotrim: { parsed: 'off', rawvalue: 'off', value: 'off', source: 'DEFAULT' },
    scan: { function: 'SCRUB', state: 'FINISHED', start_time: { $date: NOW - 2 * DAY }, end_time: { $date: NOW - 2 * DAY }, percentage: 100, bytes_to_process: 0, bytes_processed: 0, bytes_issued: 0, pause: null, errors: 0, total_secs_left: null },
    topology: { data: [{ name: 'mirror-0', type: 'MIRROR', guid: '1', status: 'ONLINE', path: null, device: null, disk: null, unavail_disk: null, stats: stats(), children: [disk('sda'), disk('sdb')] } as VdevLike], log: [], cache: [], spare: [], special: [], dedup: [] },
    ...o,
  } as PoolLike;
}

test('a healthy pool raises nothing', () => {
  assert.equal(poolAlerts([pool({ name: 'tank' })], [{ pool_name: 'tank', threshold: 35, enabled: true }], settings, NOW), []);
});

test('a pool not ONLINE, and disks with errors (a degraded mirror, a faulted single-disk pool)', () => {
  const degraded = pool({
    name: 'tank', status: 'DEGRADED', status_detail: 'One or more devices has been removed by the administrator.', healthy: false,
    topology: { data: [{ name: 'mirror-0', type: 'MIRROR', status: 'DEGRADED', stats: stats(), children: [disk('sda', 'ONLINE', [0, 0, 3]), disk('sdb', 'REMOVED', [2, 1, 0])] }], log: [], cache: [], spare: [disk('sdc')], special: [], dedup: [] },
  });
  const faulted = pool({ name: 'solo', status: 'FAULTED', topology: { data: [disk('sdd', 'FAULTED', [5, 0, 0])] } });
  assert.equal(poolAlerts([degraded, faulted], [], settings, NOW), [
    { klass: 'VolumeStatus', args: { volume: 'tank', state: 'DEGRADED', detail: ': One or more devices has been removed by the administrator.' } },
    { klass: 'PoolDiskErrors', args: { volume: 'tank', disk: 'sda', read: 0, write: 0, checksum: 3 } },
    { klass: 'PoolDiskErrors', args: { volume: 'tank', disk: 'sdb', read: 2, write: 1, checksum: 0 } },
    { klass: 'VolumeStatus', args: { volume: 'solo', state: 'FAULTED', detail: '' } },
    { klass: 'PoolDiskErrors', args: { volume: 'solo', disk: 'sdd', read: 5, write: 0, checksum: 0 } },
  ]);
  // OFFLINE: in the database but not imported (no topology at all).
  assert.equal(poolAlerts([pool({ name: 'away', status: 'OFFLINE', topology: null, size: null, allocated: null, scan: null })], [], settings, NOW), [
    { klass: 'VolumeStatus', args: { volume: 'away', state: 'OFFLINE', detail: '' } },
  ]);
});

test('pool usage: 80 % warns, 90 % is critical, with the thresholds set', () => {
  const at = (allocated: number) => poolAlerts([pool({ name: 'tank', size: 1000, allocated })], [], settings, NOW);
  assert.equal(at(799), []);
  assert.equal(at(800), [{ klass: 'PoolUsageWarning', args: { volume: 'tank', percent: 80, threshold: 80 } }]);
  assert.equal(at(899), [{ klass: 'PoolUsageWarning', args: { volume: 'tank', percent: 89, threshold: 80 } }]);
  assert.equal(at(955), [{ klass: 'PoolUsageCritical', args: { volume: 'tank', percent: 95, threshold: 90 } }]);
  assert.equal(poolAlerts([pool({ name: 'tank', allocated: 500 })], [], { ...settings, usage_warning_percent: 50 }, NOW).map((d) => d.klass), ['PoolUsageWarning']);
});

test('scrub overdue: past the task threshold plus the grace days; not while scrubbing, never scrubbed, or with the task disabled', () => {
  const scrubbed = (daysAgo: number, extra: Partial<NonNullable<PoolLike['scan']>> = {}) =>
    pool({ name: 'tank', scan: { function: 'SCRUB', state: 'FINISHED', end_time: { $date: NOW - daysAgo * DAY }, ...extra } });
  const task = { pool_name: 'tank', threshold: 35, enabled: true };
  assert.equal(poolAlerts([scrubbed(42)], [task], settings, NOW), [], '35 + 7 days: still within');
  assert.equal(poolAlerts([scrubbed(43)], [task], settings, NOW), [{ klass: 'ScrubOverdue', args: { volume: 'tank', days: 43, threshold: 35 } }]);
  assert.equal(poolAlerts([scrubbed(20)], [{ ...task, threshold: 10 }], settings, NOW), [{ klass: 'ScrubOverdue', args: { volume: 'tank', days: 20, threshold: 10 } }], "the pool's own threshold");
  assert.equal(poolAlerts([scrubbed(50)], [], settings, NOW).map((d) => d.klass), ['ScrubOverdue'], 'no task: the default threshold');
  assert.equal(poolAlerts([scrubbed(50, { state: 'SCANNING', end_time: null })], [task], settings, NOW), [], 'scrubbing now');
  assert.equal(poolAlerts([scrubbed(50, { function: 'RESILVER' })], [task], settings, NOW), [], 'last scan a resilver: unknown');
  assert.equal(poolAlerts([pool({ name: 'tank', scan: null })], [task], settings, NOW), [], 'never scanned');
  assert.equal(poolAlerts([scrubbed(50)], [{ ...task, enabled: false }], settings, NOW), [], 'scrubs turned off on purpose');
});

test('too many snapshots per dataset (pool.snapshot.query entries)', () => {
  const snaps = [
    ...Array.from({ length: 4 }, (_, i) => ({ id: `tank/a@s${i}`, name: `tank/a@s${i}`, snapshot_name: `s${i}`, dataset: 'tank/a', pool: 'tank', type: 'SNAPSHOT' })),
    ...Array.from({ length: 3 }, (_, i) => ({ id: `tank/b@s${i}`, name: `tank/b@s${i}`, snapshot_name: `s${i}`, dataset: 'tank/b', pool: 'tank', type: 'SNAPSHOT' })),
  ];
  assert.equal(snapshotCountAlerts(snaps, 3), [{ klass: 'SnapshotCount', args: { dataset: 'tank/a', count: 4, max: 3 } }]);
  assert.equal(snapshotCountAlerts(snaps, 512), []);
});

test('failed storage tasks: a failed scrub START, snapshot task or replication raises; success clears; a failed scrub STOP or an ABORTED run does nothing', () => {
  const rules = new Map<string, JobFailureRule>(STORAGE_FAILURE_RULES.map((r) => [r.method, r]));
  const job = (method: string, args: unknown[], state: string, internal?: Record<string, unknown>) => ({ method, arguments: args, state, ...(internal ? { internal } : {}) }) as never;
  const verdict = (j: never) => { const o = jobOutcome(rules, j); return o === null ? null : [o.rule.klass.name, o.raise]; };
  assert.equal(verdict(job('pool.scrub.scrub', ['tank'], 'FAILED')), ['ScrubFailed', true]);
  assert.equal(verdict(job('pool.scrub.scrub', ['tank', 'START'], 'SUCCESS')), ['ScrubFailed', false]);
  assert.equal(verdict(job('pool.scrub.scrub', ['tank', 'STOP'], 'FAILED')), null);
  assert.equal(verdict(job('pool.snapshottask.run', [3], 'FAILED')), ['SnapshotTaskFailed', true]);
  assert.equal(verdict(job('replication.run', [2], 'FAILED')), ['ReplicationFailed', true]);
  assert.equal(verdict(job('replication.run', [2], 'ABORTED')), null);
  assert.equal(verdict(job('replication.run', [2], 'FAILED', { final: false })), null, 'an attempt another will follow');
  assert.equal(verdict(job('pool.query', [], 'FAILED')), null);
  assert.equal(STORAGE_FAILURE_RULES.map((r) => r.task(r.method === 'pool.scrub.scrub' ? ['tank', 'START'] : [7])), ['tank', 7, 7], 'the key: the pool or the task id');
});

test('without the storage module the storage sources find nothing, and fail nothing', async () => {
  const d = await startDaemon({ modules: [coreModule, makeAlertModule()] });
  const c = await Client.connect(d.socketPath);
  try {
    assert.equal(await c.call('alert.process_alerts', ['Pools', 'SnapshotCount']), [
      { source: 'Pools', alerts: 0, error: null },
      { source: 'SnapshotCount', alerts: 0, error: null },
    ]);
    assert.equal((await c.call('alertclasses.config') as { sources: Record<string, unknown> }).sources.Pools, settings);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test.run();
