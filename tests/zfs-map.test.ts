// Parsed ZFS output -> the TrueNAS shapes of MODULES.md 5, checked field by field and against
// the TypeBox schemas (schemas/pool*.ts) with ajv.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { lexicalResolver, mapPoolEntry, mapScan, mapVdev, partitionParent, statusCode } from '../methods/zfs/map-pool.js';
import { mapDatasets, mapProperty } from '../methods/zfs/map-dataset.js';
import { mapSnapshot } from '../methods/zfs/map-snapshot.js';
import { parseZpoolStatus } from '../methods/zfs/parse-status.js';
import { parseGetTable } from '../methods/zfs/parse-tables.js';
import { PoolEntry, PoolScan } from '../schemas/pool.js';
import { DatasetEntry, type DatasetEntryT } from '../schemas/pool_dataset.js';
import { SnapshotEntry } from '../schemas/pool_snapshot.js';
import type { PoolListEntry, ScanStatus, VdevStatus } from '../methods/zfs/types.js';

const ajv = new Ajv({ allErrors: true, strict: false });
const validPool = ajv.compile(PoolEntry);
const validScan = ajv.compile(PoolScan);
const validDataset = ajv.compile(DatasetEntry);
const validSnapshot = ajv.compile(SnapshotEntry);

const STATUS = [
  '  pool: tank',
  ' state: DEGRADED',
  'status: One or more devices could not be opened.  Sufficient replicas exist for',
  '\tthe pool to continue functioning in a degraded state.',
  "action: Attach the missing device and online it using 'zpool online'.",
  '  scan: resilvered 1.00G in 00:01:00 with 0 errors on Sun Mar  1 10:01:00 2026',
  'config:',
  '',
  '\tNAME                          STATE     READ WRITE CKSUM',
  '\ttank                          DEGRADED     0     0     0',
  '\t  mirror-0                    DEGRADED     0     0     0',
  '\t    /dev/sda1                 ONLINE       0     0     0',
  '\t    9185736423746123          UNAVAIL      0     0     0  was /dev/sdb1',
  '\tcache',
  '\t  /dev/disk/by-id/nvme-X      ONLINE       0     0     0',
  '\tspares',
  '\t  /dev/sdc                    AVAIL   ',
  '',
  'errors: No known data errors',
].join('\n');

const LIST: PoolListEntry = {
  name: 'tank', guid: '15451357997522795478', health: 'DEGRADED', size: 10737418240, allocated: 1073741824, free: 9663676416,
  freeing: 0, fragmentation: 3, capacity: 10, dedupratio: '1.00x', altroot: '/mnt',
  raw: { name: 'tank', size: '10737418240', allocated: '1073741824', free: '9663676416', freeing: '0' }, exact: true,
};

test('the pool entry: health, status code, sizes, topology with disks, legacy scan', () => {
  const [status] = parseZpoolStatus(STATUS, Date.UTC(2026, 2, 1, 11));
  const e = mapPoolEntry({ id: 4, path: '/mnt/tank', list: LIST, status: status! });
  assert.ok(validPool(e), JSON.stringify(validPool.errors));
  assert.equal([e.id, e.name, e.guid, e.status, e.path, e.healthy, e.warning, e.status_code], [4, 'tank', '15451357997522795478', 'DEGRADED', '/mnt/tank', false, true, 'MISSING_DEV_R']);
  assert.match(e.status_detail!, /^One or more devices could not be opened/);
  assert.equal([e.size, e.allocated, e.free, e.freeing, e.fragmentation, e.size_str], [10737418240, 1073741824, 9663676416, 0, '3', '10737418240']);
  assert.equal(e.autotrim, { parsed: 'off', rawvalue: 'off', value: 'off', source: 'DEFAULT' });
  const [m] = e.topology!.data;
  assert.equal([m!.type, m!.status, m!.name, m!.path, m!.disk], ['MIRROR', 'DEGRADED', 'mirror-0', null, null]);
  assert.equal(m!.children.map((c) => [c.type, c.status, c.name, c.path, c.device, c.disk]), [
    ['DISK', 'ONLINE', '/dev/sda1', '/dev/sda1', 'sda1', 'sda'],
    ['DISK', 'UNAVAIL', '/dev/sdb1', '/dev/sdb1', 'sdb1', 'sdb'],
  ]);
  // A by-id link is not resolved without the system (methods/disk resolves it): device and disk unknown.
  assert.equal(e.topology!.cache.map((c) => [c.path, c.device, c.disk]), [['/dev/disk/by-id/nvme-X', null, null]]);
  assert.equal(e.topology!.spare.map((c) => [c.type, c.status]), [['DISK', 'ONLINE']]);
  assert.equal(e.scan, {
    function: 'RESILVER', state: 'FINISHED', start_time: { $date: Date.UTC(2026, 2, 1, 10) }, end_time: { $date: Date.UTC(2026, 2, 1, 10, 1) },
    // Finished scans print no byte counts: they come from the pool's allocation (1 GiB).
    percentage: 100, bytes_to_process: 1073741824, bytes_processed: 1073741824, bytes_issued: 1073741824, pause: null, errors: 0, total_secs_left: null,
  });
  const withProps = mapPoolEntry({
    id: 4, path: '/mnt/tank', list: LIST, status: status!,
    properties: parseGetTable('tank\tautotrim\ton\tlocal\ntank\tdedup_table_size\t4096\t-\ntank\tdedup_table_quota\tauto\tdefault\n'),
    resolve: (p) => (p === '/dev/disk/by-id/nvme-X' ? { device: 'nvme0n1', disk: 'nvme0n1' } : lexicalResolver(p)),
  });
  assert.equal([withProps.autotrim, withProps.dedup_table_size, withProps.dedup_table_quota], [{ parsed: 'on', rawvalue: 'on', value: 'on', source: 'LOCAL' }, 4096, 'auto']);
  assert.is(withProps.topology!.cache[0]!.disk, 'nvme0n1');
  assert.ok(validPool(mapPoolEntry({ id: 1, path: '/x', list: { ...LIST, health: 'UNAVAIL' }, status: null })));
});

test('PoolScan keeps TrueNAS legacy byte fields: bytes_to_process is what was examined', () => {
  const base: ScanStatus = {
    function: 'SCRUB', state: 'SCANNING', paused: false, pausedAt: null, startTime: 1000, endTime: null, percentage: 25,
    bytesScanned: 400, bytesToScan: 1000, bytesIssued: 250, bytesToIssue: 1000, bytesProcessed: 0, errors: null, secondsLeft: 30, text: '',
  };
  const s = mapScan(base, null);
  assert.ok(validScan(s), JSON.stringify(validScan.errors));
  assert.equal([s.bytes_to_process, s.bytes_processed, s.bytes_issued, s.end_time, s.total_secs_left, s.errors], [400, 1000, 250, null, 30, 0]);
  // zfs-fuse prints only a percentage: the byte counts come from the pool's allocation.
  const fuse = mapScan({ ...base, bytesScanned: null, bytesToScan: null, bytesIssued: null, bytesToIssue: null }, 2000);
  assert.equal([fuse.bytes_to_process, fuse.bytes_processed, fuse.bytes_issued], [500, 2000, 500]);
  const paused = mapScan({ ...base, paused: true, pausedAt: 5000 }, null);
  assert.equal([paused.pause, paused.total_secs_left], [{ $date: 5000 }, null]);
  const canceled = mapScan({ ...base, state: 'CANCELED', percentage: null, endTime: 9000 }, null);
  assert.equal([canceled.state, canceled.percentage, canceled.end_time, canceled.pause], ['CANCELED', 0, { $date: 9000 }, null]);
});

test('status codes from the status paragraph', () => {
  assert.is(statusCode(null), 'OK');
  assert.is(statusCode('One or more devices has experienced an unrecoverable error. An attempt was made to correct the error. Applications are unaffected.'), 'FAILING_DEV');
  assert.is(statusCode('One or more devices has experienced an error resulting in data corruption. Applications may be affected.'), 'CORRUPT_DATA');
  assert.is(statusCode('The pool is formatted using an older on-disk format. The pool can still be used, but some features are unavailable.'), 'VERSION_OLDER');
  assert.is(statusCode('Some supported and requested features are not enabled on the pool.'), 'FEAT_DISABLED');
  assert.is(statusCode('An intent log record could not be read. Waiting for adminstrator intervention to fix the faulted pool.'), 'BAD_LOG');
  assert.is(statusCode('Something new.'), null);
});

test('vdev nodes: types, partitions to disks, unknown stats are zero', () => {
  assert.equal(['sda1', 'sdab12', 'nvme0n1p3', 'nvme0n1', 'vdb2', 'loop7', 'loop7p1', 'mmcblk0p1', 'xvda1', 'dm-0'].map(partitionParent), ['sda', 'sdab', 'nvme0n1', 'nvme0n1', 'vdb', 'loop7', 'loop7', 'mmcblk0', 'xvda', 'dm-0']);
  const leaf = (path: string, kind: VdevStatus['kind']): VdevStatus => ({ name: path, kind, parity: null, id: null, state: 'ONLINE', errors: { read: 1, write: 2, checksum: 3, exact: true }, note: null, path, guid: '9', size: null, children: [] });
  const rz: VdevStatus = { ...leaf('raidz3-0', 'raidz'), parity: 3, path: null, size: 1234, children: [leaf('/dev/sdb', 'disk'), leaf('/srv/f', 'file')] };
  const n = mapVdev(rz);
  assert.equal([n.type, n.name, n.stats.size, n.children.map((c) => [c.type, c.disk, c.stats.checksum_errors])], ['RAIDZ3', 'raidz3-0', 1234, [['DISK', 'sdb', 3], ['FILE', null, 3]]]);
  assert.equal([n.stats.ops, n.stats.bytes, n.unavail_disk], [[0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], null]);
});

const GET = [
  'tank\ttype\tfilesystem\t-',
  'tank\tcreation\t1772359200\t-',
  'tank\tused\t1536\t-',
  'tank\tavailable\t10737418240\t-',
  'tank\tcompression\tlz4\tlocal',
  'tank\tcompressratio\t1.50x\t-',
  'tank\tmountpoint\t/mnt/tank\tdefault',
  'tank\tquota\t0\tdefault',
  'tank\trefquota\t1073741824\tlocal',
  'tank\tatime\toff\tlocal',
  'tank\treadonly\ton\tlocal',
  'tank\trecordsize\t1048576\tlocal',
  'tank\tdedup\toff\tdefault',
  'tank\torigin\t-\t-',
  'tank\torg.freenas:description\tmain pool\tlocal',
  'tank\torg.example:owner\talice\tlocal',
  'tank/vol\ttype\tvolume\t-',
  'tank/vol\tvolsize\t1073741824\tlocal',
  'tank/vol\tvolblocksize\t16384\tdefault',
  'tank/vol\tcompression\tlz4\tinherited from tank',
  'tank/vol\torg.example:owner\talice\tinherited from tank',
  'tank/a\ttype\tfilesystem\t-',
  'tank/a\tmountpoint\t/mnt/tank/a\tinherited from tank',
  'tank/a/b\ttype\tfilesystem\t-',
  'tank/a/b@s1\ttype\tsnapshot\t-',
  '',
].join('\n');

test('dataset items: TrueNAS conversions of every property kind, managed user properties, tree and flat', () => {
  const [tank] = mapDatasets(parseGetTable(GET));
  assert.ok(validDataset(tank), JSON.stringify(validDataset.errors));
  const t = tank as DatasetEntryT;
  assert.equal([t.id, t.name, t.pool, t.type, t.mountpoint, t.encrypted, t.locked], ['tank', 'tank', 'tank', 'FILESYSTEM', '/mnt/tank', false, false]);
  assert.equal(t.used, { parsed: 1536, rawvalue: '1536', value: '1.5 KiB', source: 'NONE', source_info: null });
  assert.equal(t.available, { parsed: 10737418240, rawvalue: '10737418240', value: '10 GiB', source: 'NONE', source_info: null });
  assert.equal(t.compressratio, { parsed: '1.50', rawvalue: '1.50', value: '1.50x', source: 'NONE', source_info: null });
  assert.equal(t.quota, { parsed: null, rawvalue: '0', value: null, source: 'DEFAULT', source_info: null });
  assert.equal(t.refquota, { parsed: 1073741824, rawvalue: '1073741824', value: '1 GiB', source: 'LOCAL', source_info: null });
  assert.equal([(t.atime as { parsed: unknown }).parsed, (t.readonly as { parsed: unknown }).parsed], [false, true]);
  assert.equal(t.recordsize, { parsed: 1048576, rawvalue: '1048576', value: '1M', source: 'LOCAL', source_info: null });
  assert.equal(t.deduplication, { parsed: 'off', rawvalue: 'off', value: 'OFF', source: 'DEFAULT', source_info: null });
  assert.equal(t.origin, { parsed: '', rawvalue: '', value: '', source: 'NONE', source_info: null });
  assert.equal((t.creation as { parsed: unknown }).parsed, { $date: 1772359200000 });
  assert.match((t.creation as { value: string }).value, /^[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} [ \d]\d:\d{2} \d{4}$/);
  assert.equal(t.comments, { parsed: 'main pool', rawvalue: 'main pool', value: 'main pool', source: 'LOCAL', source_info: null });
  assert.equal(Object.keys(t.user_properties), ['org.example:owner']);
  assert.equal(t.children.map((c) => (c as DatasetEntryT).id), ['tank/vol', 'tank/a']);
  const vol = t.children[0] as DatasetEntryT;
  assert.equal([vol.type, vol.mountpoint, (vol.volblocksize as { value: string }).value, (vol.volsize as { value: string }).value], ['VOLUME', null, '16K', '1 GiB']);
  assert.equal(vol.compression, { parsed: 'lz4', rawvalue: 'lz4', value: 'LZ4', source: 'INHERITED', source_info: 'tank' });
  assert.equal(vol.user_properties['org.example:owner']!.source, 'INHERITED');
  assert.equal(((t.children[1] as DatasetEntryT).children as DatasetEntryT[]).map((c) => c.id), ['tank/a/b']);
  const flat = mapDatasets(parseGetTable(GET), { flat: true, userProperties: false });
  assert.equal(flat.map((d) => [d.id, d.children.length, Object.keys(d.user_properties).length]), [['tank', 0, 0], ['tank/vol', 0, 0], ['tank/a', 0, 0], ['tank/a/b', 0, 0]]);
  for (const d of flat) assert.ok(validDataset(d), JSON.stringify(validDataset.errors));
  assert.equal(mapProperty('exec', { raw: 'maybe', source: 'LOCAL', from: null }).parsed, null);
});

test('snapshot items: identity fields, properties, holds only when asked', () => {
  const rec = { name: 'tank/a@s1', dataset: 'tank/a', snapshot: 's1', pool: 'tank', createtxg: '1234', creation: 1772359200000, guid: '99', referenced: 4096 };
  const plain = mapSnapshot(rec);
  assert.ok(validSnapshot(plain), JSON.stringify(validSnapshot.errors));
  assert.equal(plain, { id: 'tank/a@s1', name: 'tank/a@s1', pool: 'tank', type: 'SNAPSHOT', snapshot_name: 's1', dataset: 'tank/a', createtxg: '1234', properties: {} });
  const props = parseGetTable('tank/a@s1\tused\t0\t-\ntank/a@s1\treferenced\t4096\t-\ntank/a@s1\tuserrefs\t1\t-\n').get('tank/a@s1')!;
  const full = mapSnapshot(rec, { properties: props, holdTags: ['truenas', 'other'] });
  assert.ok(validSnapshot(full), JSON.stringify(validSnapshot.errors));
  assert.equal(full.properties.used, { value: '0 bytes', rawvalue: '0', source: 'NONE', parsed: 0 });
  assert.equal(full.properties.userrefs, { value: '1', rawvalue: '1', source: 'NONE', parsed: '1' });
  assert.equal(full.holds, { truenas: 1 });
  assert.equal(mapSnapshot(rec, { holdTags: ['other'] }).holds, {});
  assert.equal(mapSnapshot(rec, { holdTags: null }).holds, {});
});

test.run();
