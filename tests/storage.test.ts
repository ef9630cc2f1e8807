// The storage module on real ZFS (zfs-fuse here) through a real daemon: disks from sysfs, a
// mirror pool and a second pool on loop devices, datasets with properties, files written into
// them, snapshots, full then incremental replication compared file by file with SHA-256,
// rollback and clone, export and import by guid, pool.create's validation errors with the
// attribute each names, a RAIDZ1 pool, a create zpool refuses (nothing is left), a pool with a
// log, a cache and a spare, and the disk.query events of a disk that comes, moves into a pool
// and out again, and goes. Every pool and loop device carries this run's prefix and is removed
// afterwards, whatever happened.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makedev } from '../methods/disk/sysfs.js';
import { Client } from './helpers/daemon.js';
import { hashTree } from './helpers/files.js';
import { callError, events, progressSeen, startStorage, validationOf, type TestDaemon } from './helpers/storage.js';
import { ZfsLab, zfsTest } from './helpers/zfs.js';

const ztest = zfsTest(test);
const MiB = 1024 * 1024;

let lab: ZfsLab;
let d: TestDaemon;
let c: Client;
let loops: string[] = [];
let A: string;
let B: string;
let idA: number;
let idB: number;
const mnt = () => join(lab.dir, 'mnt');

test.after(async () => {
  await c?.close().catch(() => {});
  await d?.cleanup().catch(() => {});
  lab?.cleanupSync();
});

type Pool = { id: number; name: string; guid: string; status: string; healthy: boolean; path: string; topology: { data: Array<{ type: string; children: Array<{ type: string; disk: string; stats: { checksum_errors: number } }> }> } | null; size: number | null };
type Dataset = Record<string, unknown> & { id: string; children: Dataset[]; user_properties: Record<string, { value: string }>; mountpoint: string | null };

ztest('disks: loop devices are listed as disks when configured; pool is filled with extra.pools', async () => {
  lab = new ZfsLab();
  for (const n of ['a1', 'a2', 'b1', 'x1', 'x2', 'x3']) loops.push((await lab.loopDevice(n, 160 * MiB)).device.slice('/dev/'.length));
  d = await startStorage(lab);
  c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  await c.call('core.subscribe', 'pool.query');
  await c.call('core.subscribe', 'core.get_jobs');
  await c.call('core.subscribe', 'pool.dataset.query');
  await c.call('core.subscribe', 'pool.snapshot.query');
  await c.call('core.subscribe', 'replication.query');
  const disks = (await c.call('disk.query', [['name', 'in', loops]], { order_by: ['name'] })) as Array<Record<string, unknown>>;
  assert.equal(disks.map((x) => x.name), [...loops].sort());
  const one = disks[0]!;
  assert.is(one.identifier, `{devicename}${one.name}`);
  assert.is(one.size, 160 * MiB);
  assert.is(one.pool, null);
  assert.equal(Object.keys(one).sort(), ['advpowermgmt', 'bus', 'description', 'devname', 'enclosure', 'expiretime', 'hddstandby', 'identifier', 'lunid', 'model', 'name', 'number', 'pool', 'rotationrate', 'sed', 'serial', 'size', 'subsystem', 'transfermode', 'type', 'zfs_guid']);
  const unused = (await c.call('disk.get_unused')) as Array<{ name: string }>;
  assert.ok(loops.every((l) => unused.some((u) => u.name === l)), 'every new loop device is unused');
  // The disk the root file system is on (when it is a whole disk here, as /dev/vda on a VM) is in use.
  const rootDev = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')).find((f) => f[4] === '/')?.[2];
  const all = (await c.call('disk.query')) as Array<{ name: string; number: number }>;
  const rootDisk = all.find((x) => rootDev !== undefined && x.number === makedev(...(rootDev.split(':').map(Number) as [number, number])));
  // (pool.create's refusal of it is tested on fake disks in disk-sysfs: never aim it at the real one.)
  if (rootDisk !== undefined) assert.ok(!unused.some((u) => u.name === rootDisk.name), `${rootDisk.name} holds / and is not unused`);
});

ztest('pool.create: every validation rule names its attribute', async () => {
  A = lab.pool('a');
  B = lab.pool('b');
  const [a1, a2, , x1, x2, x3] = loops as [string, string, string, string, string, string];
  const create = (data: Record<string, unknown>) => validationOf(c, 'pool.create', { name: A, ...data });
  const has = (errs: Array<[string, string, number]>, attr: string, msg: RegExp) => assert.ok(errs.some(([a, m]) => a === attr && msg.test(m)), `${attr} ${msg} in ${JSON.stringify(errs)}`);
  has(await create({ topology: { data: [{ type: 'MIRROR', disks: [a1] }] } }), 'pool_create.topology.data.0.disks', /^You need at least 2 disk\(s\) for this vdev type\.$/);
  has(await create({ topology: { data: [{ type: 'RAIDZ1', disks: [a1, a2] }] } }), 'pool_create.topology.data.0.disks', /^You need at least 3 disk\(s\) for this vdev type\.$/);
  has(await create({ topology: { data: [{ type: 'MIRROR', disks: [a1, a2] }, { type: 'STRIPE', disks: [x1] }] } }), 'pool_create.topology.data.1.type', /^You are not allowed to create a pool with different data vdev types \(MIRROR and STRIPE\)\.$/);
  has(await create({ topology: { data: [{ type: 'MIRROR', disks: [a1, a2] }, { type: 'MIRROR', disks: [x1, x2, x3] }] } }), 'pool_create.topology.data.1.disks', /different widths \(2 and 3 disks\)/);
  has(await create({ topology: { data: [{ type: 'STRIPE', disks: [a1] }], log: [{ type: 'STRIPE', disks: [x1] }, { type: 'STRIPE', disks: [x2] }] } }), 'pool_create.topology.log', /Only one row/);
  has(await create({ topology: { data: [{ type: 'STRIPE', disks: ['nosuchdisk0'] }] } }), 'pool_create.topology', /^The following disks were not found in system: nosuchdisk0\.$/);
  has(await create({ topology: { data: [{ type: 'MIRROR', disks: [a1, a1] }] } }), 'pool_create.topology.data.0.disks.1', /already used at pool_create\.topology\.data\.0\.disks\.0/);
  has(await create({ name: 'mirror-bad', topology: { data: [{ type: 'STRIPE', disks: [a1] }] } }), 'pool_create.name', /^Invalid pool name$/);
  has(await create({ name: '', topology: { data: [{ type: 'STRIPE', disks: [a1] }] } }), 'pool_create.name', /at least 1/);
  has(await create({ topology: { data: [] } }), 'pool_create.topology.data', /at least 1/);
  // What zfs-fuse cannot do is refused, naming the feature.
  has(await create({ encryption: true, topology: { data: [{ type: 'STRIPE', disks: [a1] }] } }), 'pool_create.encryption', /Encryption is not supported/);
  has(await create({ topology: { data: [{ type: 'DRAID1', disks: [a1, a2] }] } }), 'pool_create.topology.data.0.type', /dRAID is not supported by the installed ZFS/);
  has(await create({ topology: { data: [{ type: 'MIRROR', disks: [a1, a2] }], special: [{ type: 'MIRROR', disks: [x1, x2] }] } }), 'pool_create.topology.special', /Special vdevs are not supported/);
  has(await create({ checksum: 'SKEIN', topology: { data: [{ type: 'STRIPE', disks: [a1] }] } }), 'pool_create.checksum', /SKEIN checksum is not supported/);
  assert.equal(lab.livePools(), [], 'nothing was created');
});

ztest('pool.create: RAIDZ1; a pool zpool itself refuses (a disk under its 64 MiB minimum) fails the job in its words and leaves nothing', async () => {
  const [, , , x1, x2, x3] = loops as [string, string, string, string, string, string];
  const z = (await c.call('pool.create', { name: lab.pool('z'), topology: { data: [{ type: 'RAIDZ1', disks: [x1, x2, x3] }] } })) as Pool;
  assert.equal(z.topology!.data.map((v) => [v.type, v.children.map((x) => x.disk)]), [['RAIDZ1', [x1, x2, x3]]]);
  await c.call('pool.export', z.id, { destroy: true });

  const tiny = (await lab.loopDevice('tiny', 32 * MiB)).device.slice('/dev/'.length);
  const T = lab.pool('tiny');
  const e = await callError(c, 'pool.create', { name: T, topology: { data: [{ type: 'STRIPE', disks: [tiny] }] } });
  assert.match(e.data!.reason, /less than the minimum size/);
  const failed = (await c.call('core.get_jobs', [['method', '=', 'pool.create']], { order_by: ['-id'], get: true })) as { state: string; logs_excerpt: string };
  assert.is(failed.state, 'FAILED');
  assert.equal(failed.logs_excerpt.trim().split('\n'), ['Formatting disks (1/1)', 'Creating ZFS Pool']);
  assert.equal(lab.livePools(), []);
  assert.equal(await c.call('pool.query', [['name', '=', T]]), []);
  assert.ok(!events(c, 'pool.query').some((x) => x.msg === 'added' && (x.fields as { name?: string } | undefined)?.name === T));
  assert.ok(((await c.call('disk.get_unused')) as Array<{ name: string }>).some((d) => d.name === tiny), 'the disk is free again');
});

ztest('pool.create: a mirror on two loop devices, as a job with its progress steps; the pool.query event and entry', async () => {
  const [a1, a2, b1] = loops as [string, string, string];
  const created = (await c.call('pool.create', { name: A, topology: { data: [{ type: 'MIRROR', disks: [a1, a2] }] } })) as Pool;
  idA = created.id;
  assert.is(created.name, A);
  assert.is(created.status, 'ONLINE');
  assert.is(created.healthy, true);
  assert.is(created.path, join(mnt(), A));
  assert.equal(created.topology!.data.map((v) => [v.type, v.children.map((x) => [x.type, x.disk])]), [['MIRROR', [['DISK', a1], ['DISK', a2]]]]);
  const createJob = (await c.call('core.get_jobs', [['method', '=', 'pool.create']], { order_by: ['-id'], get: true })) as { id: number; state: string; logs_excerpt: string };
  assert.is(createJob.state, 'SUCCESS');
  // Every step is in the job's log (events coalesce quick steps), in TrueNAS's words and order.
  assert.equal(createJob.logs_excerpt.trim().split('\n'), ['Formatting disks (1/2)', 'Formatting disks (2/2)', 'Creating ZFS Pool', 'Setting pool options']);
  assert.is(progressSeen(c, createJob.id).pop(), 'Setting pool options');
  await c.waitFor((m) => m.method === 'collection_update' && (m.params as { collection: string; msg: string; id: number }).collection === 'pool.query' && (m.params as { msg: string }).msg === 'added' && (m.params as { id: number }).id === idA);
  const added = events(c, 'pool.query').find((e) => e.msg === 'added' && e.id === idA)!;
  assert.is((added.fields as Pool).guid, created.guid);

  const again = await validationOf(c, 'pool.create', { name: A, topology: { data: [{ type: 'STRIPE', disks: [b1] }] } });
  assert.equal(again.map(([a, m, e]) => [a, m, e]), [['pool_create.name', 'A pool with this name already exists.', 17]]);
  const inUse = await validationOf(c, 'pool.create', { name: B, topology: { data: [{ type: 'STRIPE', disks: [a1] }] } });
  assert.equal(inUse.map(([a, m]) => [a, m]), [['pool_create.topology', `The following disks are already in use: ${a1}.`]]);

  const withPool = (await c.call('disk.query', [['name', 'in', [a1, a2, b1]]], { extra: { pools: true }, order_by: ['name'] })) as Array<{ name: string; pool: string | null }>;
  assert.equal(withPool.map((x) => [x.name, x.pool]).sort(), [[a1, A], [a2, A], [b1, null]].sort());

  const B0 = (await c.call('pool.create', { name: B, topology: { data: [{ type: 'STRIPE', disks: [b1] }] } })) as Pool;
  idB = B0.id;
  const pools = (await c.call('pool.query', [['name', 'in', [A, B]]], { order_by: ['id'] })) as Pool[];
  assert.equal(pools.map((p) => [p.id, p.name, p.status]), [[idA, A, 'ONLINE'], [idB, B, 'ONLINE']]);
  assert.equal(await c.call('pool.get_instance', idB), pools[1]);
  const missing = await callError(c, 'pool.get_instance', 999999);
  assert.equal(missing.data?.extra, [[null, '999999 does not exist', 2]]);
});

ztest('pool.dataset: create with properties, the TrueNAS item shape, flat and nested, update, validation', async () => {
  const data = (await c.call('pool.dataset.create', {
    name: `${A}/data`, compression: 'GZIP', atime: 'OFF', recordsize: '64K', quota: 2 * 1024 ** 3, refquota: 1024 ** 3, reservation: 8 * MiB,
    copies: 2, comments: 'hello: world', user_properties: [{ key: 'org.example:owner', value: 'ops' }],
  })) as Dataset;
  assert.is(data.id, `${A}/data`);
  assert.is(data.name, `${A}/data`);
  assert.is(data.pool, A);
  assert.is(data.type, 'FILESYSTEM');
  assert.equal(data.compression, { parsed: 'gzip', rawvalue: 'gzip', value: 'GZIP', source: 'LOCAL', source_info: null });
  assert.equal(data.atime, { parsed: false, rawvalue: 'off', value: 'OFF', source: 'LOCAL', source_info: null });
  assert.equal(data.recordsize, { parsed: 65536, rawvalue: '65536', value: '64K', source: 'LOCAL', source_info: null });
  assert.equal(data.quota, { parsed: 2 * 1024 ** 3, rawvalue: String(2 * 1024 ** 3), value: '2 GiB', source: 'LOCAL', source_info: null });
  assert.equal((data.refquota as { parsed: number }).parsed, 1024 ** 3);
  assert.equal((data.reservation as { parsed: number }).parsed, 8 * MiB);
  assert.equal((data.copies as { parsed: number }).parsed, 2);
  assert.equal((data.comments as { value: string }).value, 'hello: world');
  assert.equal(data.user_properties['org.example:owner']!.value, 'ops');
  assert.is(data.mountpoint, join(mnt(), A, 'data'));
  assert.ok(typeof (data.used as { parsed: unknown }).parsed === 'number');
  await c.waitFor((m) => m.method === 'collection_update' && (m.params as { collection: string; id: string }).collection === 'pool.dataset.query' && (m.params as { id: string }).id === `${A}/data`);

  await c.call('pool.dataset.create', { name: `${A}/data/child`, readonly: 'ON' });
  await c.call('pool.dataset.create', { name: `${A}/other`, mountpoint: 'none' });
  const flat = (await c.call('pool.dataset.query', [['pool', '=', A]], { order_by: ['id'] })) as Dataset[];
  assert.equal(flat.map((x) => x.id), [A, `${A}/data`, `${A}/data/child`, `${A}/other`]);
  assert.equal(flat[0]!.children.map((x) => x.id), [`${A}/data`, `${A}/other`], 'flat items have their children nested too');
  const nested = (await c.call('pool.dataset.query', [['id', '=', A]], { extra: { flat: false } })) as Dataset[];
  assert.equal(nested.map((x) => x.id), [A]);
  assert.equal(nested[0]!.children[0]!.children.map((x) => x.id), [`${A}/data/child`]);
  const bare = (await c.call('pool.dataset.query', [['id', '=', `${A}/data`]], { extra: { retrieve_children: false, properties: ['used'] } })) as Dataset[];
  assert.equal(bare[0]!.children, []);
  assert.equal(Object.keys(bare[0]!).filter((k) => typeof bare[0]![k] === 'object' && bare[0]![k] !== null && 'rawvalue' in (bare[0]![k] as object)).sort(), ['comments', 'used'], 'user properties (comments is one) come unless retrieve_user_props is false');
  const child = (await c.call('pool.dataset.get_instance', `${A}/data/child`)) as Dataset;
  assert.equal((child.compression as { source: string; source_info: string }).source_info, `${A}/data`);
  assert.equal((child.readonly as { parsed: boolean }).parsed, true);

  const updated = (await c.call('pool.dataset.update', `${A}/data/child`, { readonly: 'INHERIT', compression: 'OFF', user_properties_update: [{ key: 'org.example:tier', value: 'gold' }] })) as Dataset;
  assert.equal((updated.readonly as { source: string }).source !== 'LOCAL', true);
  assert.equal((updated.compression as { rawvalue: string }).rawvalue, 'off');
  assert.equal(updated.user_properties['org.example:tier']!.value, 'gold');
  const removed = (await c.call('pool.dataset.update', `${A}/data/child`, { user_properties_update: [{ key: 'org.example:tier', remove: true }] })) as Dataset;
  assert.equal(removed.user_properties['org.example:tier'], undefined);
  assert.ok(events(c, 'pool.dataset.query').some((e) => e.msg === 'changed' && e.id === `${A}/data/child`));

  const has = (errs: Array<[string, string, number]>, attr: string, msg: RegExp) => assert.ok(errs.some(([a, m]) => a === attr && msg.test(m)), `${attr} ${msg} in ${JSON.stringify(errs)}`);
  has(await validationOf(c, 'pool.dataset.create', { name: 'nopool' }), 'pool_dataset_create.name', /You need a full name/);
  has(await validationOf(c, 'pool.dataset.create', { name: `${A}/data` }), 'pool_dataset_create.name', /already exists/);
  has(await validationOf(c, 'pool.dataset.create', { name: `${A}/nope/x` }), 'pool_dataset_create.name', /^Parent dataset \(.*\/nope\) does not exist\.$/);
  has(await validationOf(c, 'pool.dataset.create', { name: `${A}/v`, volsize: MiB }), 'pool_dataset_create.volsize', /not valid for FILESYSTEM/);
  has(await validationOf(c, 'pool.dataset.create', { name: `${A}/r`, recordsize: '3K' }), 'pool_dataset_create.recordsize', /'3K' is an invalid recordsize\./);
  has(await validationOf(c, 'pool.dataset.create', { name: `${A}/q`, quota: 5 }), 'data.quota', /./);
  has(await validationOf(c, 'pool.dataset.create', { name: `${A}/u`, user_properties: [{ key: 'org.freenas:description', value: 'x' }] }), 'pool_dataset_create.user_properties.0.key', /is managed by TrueNAS, use the 'comments' field/);
  has(await validationOf(c, 'pool.dataset.create', { name: `${A}/s`, sync: 'ALWAYS' }), 'pool_dataset_create.sync', /sync property is not supported/);
  has(await validationOf(c, 'pool.dataset.create', { name: `${A}/e`, encryption: true }), 'pool_dataset_create.encryption', /Encryption is not supported/);
  // zfs-fuse (pool version 23) has neither lz4 nor zstd: refused on the field, not by zfs.
  has(await validationOf(c, 'pool.dataset.create', { name: `${A}/z`, compression: 'LZ4' }), 'pool_dataset_create.compression', /^LZ4 compression is not supported by the installed ZFS \(zfs-fuse has no lz4_compress feature\)$/);
  has(await validationOf(c, 'pool.dataset.update', `${A}/data`, { compression: 'ZSTD' }), 'pool_dataset_update.compression', /ZSTD compression is not supported/);
  has(await validationOf(c, 'pool.dataset.update', `${A}/nope`, { atime: 'ON' }), 'id', /does not exist/);
});

ztest('pool.snapshot: name or naming schema, recursive with exclude, holds and properties, delete refused while held', async () => {
  const dir = join(mnt(), A, 'data');
  await writeFile(join(dir, 'one.bin'), randomBytes(3 * MiB));
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'two.txt'), 'two\n');
  const s1 = (await c.call('pool.snapshot.create', { dataset: `${A}/data`, name: 'rep-2026-01-01_00-00', recursive: true })) as Record<string, unknown>;
  assert.equal([s1.id, s1.name, s1.dataset, s1.snapshot_name, s1.pool, s1.type], [`${A}/data@rep-2026-01-01_00-00`, `${A}/data@rep-2026-01-01_00-00`, `${A}/data`, 'rep-2026-01-01_00-00', A, 'SNAPSHOT']);
  assert.is('holds' in s1, false);
  const schema = (await c.call('pool.snapshot.create', { dataset: `${A}/data`, naming_schema: 'manual-%Y%m%d-%H%M', recursive: true, exclude: [`${A}/data/child`] })) as { snapshot_name: string };
  assert.match(schema.snapshot_name, /^manual-\d{8}-\d{4}$/);
  const list = (await c.call('pool.snapshot.query', [['pool', '=', A]], { order_by: ['name'] })) as Array<{ name: string; holds: object; properties: object }>;
  assert.equal(list.map((x) => x.name), [
    `${A}/data/child@rep-2026-01-01_00-00`, `${A}/data@${schema.snapshot_name}`, `${A}/data@rep-2026-01-01_00-00`,
  ].sort());
  assert.ok(list.every((x) => JSON.stringify(x.holds) === '{}' && JSON.stringify(x.properties) === '{}'));
  const added = events(c, 'pool.snapshot.query').filter((e) => e.msg === 'added').map((e) => e.id);
  assert.ok(added.includes(`${A}/data@${schema.snapshot_name}`));
  const dup = await validationOf(c, 'pool.snapshot.create', { dataset: `${A}/data`, name: 'rep-2026-01-01_00-00' });
  assert.equal(dup, [['snapshot_create.name', `${A}/data@rep-2026-01-01_00-00 already exists.`, 17]]);
  assert.equal((await validationOf(c, 'pool.snapshot.create', { dataset: `${A}/data`, naming_schema: 'no-date' }))[0]![0], 'snapshot_create.naming_schema');

  const held = `${A}/data@${schema.snapshot_name}`;
  await c.call('pool.snapshot.hold', held);
  const withHolds = (await c.call('pool.snapshot.query', [['dataset', '=', `${A}/data`]], { extra: { holds: true, properties: ['used', 'creation', 'userrefs'] }, order_by: ['name'] })) as Array<{ name: string; holds: { truenas?: number }; properties: Record<string, { parsed: unknown; source: string }> }>;
  assert.equal(withHolds.map((x) => [x.name, x.holds]), [[held, { truenas: 1 }], [`${A}/data@rep-2026-01-01_00-00`, {}]]);
  assert.equal(withHolds[0]!.properties.userrefs!.parsed, '1');
  assert.ok(typeof withHolds[0]!.properties.used!.parsed === 'number');
  const busy = await callError(c, 'pool.snapshot.delete', held);
  assert.is(busy.data?.errname, 'EBUSY');
  await c.call('pool.snapshot.release', held);
  assert.is(await c.call('pool.snapshot.delete', held), true);
  const gone = events(c, 'pool.snapshot.query').find((e) => e.msg === 'removed' && e.id === held);
  assert.equal(gone?.extra, { recursive: false });
  assert.equal(await c.call('pool.snapshot.query', [['id', '=', held]]), []);
});

ztest('replication: validation as MODULES.md 5.8 says, each error on its field', async () => {
  const base = { name: 'r1', direction: 'PUSH', transport: 'LOCAL', source_datasets: [`${A}/data`], target_dataset: `${B}/copy`, recursive: false, auto: false, retention_policy: 'SOURCE' };
  const has = (errs: Array<[string, string, number]>, attr: string, msg: RegExp) => assert.ok(errs.some(([a, m]) => a === attr && msg.test(m)), `${attr} ${msg} in ${JSON.stringify(errs)}`);
  has(await validationOf(c, 'replication.create', base), 'replication_create.periodic_snapshot_tasks', /You must at least either bind a periodic snapshot task/);
  has(await validationOf(c, 'replication.create', { ...base, also_include_naming_schema: ['rep-%Y-%m-%d_%H-%M'], auto: true }), 'replication_create.auto', /Push replication that runs automatically must be either bound/);
  has(await validationOf(c, 'replication.create', { ...base, direction: 'PULL' }), 'replication_create.naming_schema', /Naming schema or Name regex are required for pull replication/);
  has(await validationOf(c, 'replication.create', { ...base, also_include_naming_schema: ['x-%Y'], retention_policy: 'CUSTOM' }), 'replication_create.lifetime_value', /This field is required for custom retention policy/);
  has(await validationOf(c, 'replication.create', { ...base, also_include_naming_schema: ['rep-%Y-%m-%d_%H-%M'], lifetime_value: 2 }), 'replication_create.lifetime_value', /This field has no sense for specified retention policy/);
  has(await validationOf(c, 'replication.create', { ...base, name_regex: 'rep-.*', retention_policy: 'CUSTOM', lifetime_value: 1, lifetime_unit: 'DAY' }), 'replication_create.retention_policy', /Only `Same as Source` and `None` retention policies can be used with Naming regex/);
  has(await validationOf(c, 'replication.create', { ...base, name_regex: 'rep-.*', ssh_credentials: 3 }), 'replication_create.ssh_credentials', /Remote credentials have no sense for local replication/);
  has(await validationOf(c, 'replication.create', { ...base, name_regex: 'rep-.*', compression: 'LZ4' }), 'replication_create.compression', /Compression has no sense for local replication/);
  has(await validationOf(c, 'replication.create', { ...base, name_regex: 'rep-.*', transport: 'SSH' }), 'replication_create.ssh_credentials', /SSH Credentials are required for non-local replication/);
  has(await validationOf(c, 'replication.create', { ...base, name_regex: 'rep-.*', exclude: [`${A}/data/child`] }), 'replication_create.exclude', /only supported for recursive replication/);
  has(await validationOf(c, 'replication.create', { ...base, name_regex: 'rep-.*', periodic_snapshot_tasks: [999] }), 'replication_create.periodic_snapshot_tasks.0', /This snapshot task does not exist/);
  has(await validationOf(c, 'replication.create', { ...base, name_regex: '(' }), 'replication_create.name_regex', /Invalid regex/);
  has(await validationOf(c, 'replication.create', { ...base, name_regex: 'rep-.*', schedule: { minute: '*/5' } }), 'replication_create.schedule', /You can't have schedule for replication that does not run automatically/);
  has(await validationOf(c, 'replication.create', { ...base, name_regex: 'rep-.*', auto: true, schedule: { minute: '61' } }), 'replication_create.schedule.minute', /./);
  has(await validationOf(c, 'replication.create', { ...base, name_regex: 'rep-.*', properties_exclude: ['mountpoint'] }), 'replication_create.properties_exclude', /not supported by the installed ZFS/);
  has(await validationOf(c, 'replication.create', { ...base }), 'replication_create.periodic_snapshot_tasks', /./);
  has(await validationOf(c, 'replication.create', { name: 'r' }), 'replication_create.direction', /Field required/);
});

ztest('replication LOCAL: full then incremental through the daemon, bytes counted, every file matches by SHA-256, state and events', async () => {
  const task = (await c.call('replication.create', {
    name: 'data to B', direction: 'PUSH', transport: 'LOCAL', source_datasets: [`${A}/data`], target_dataset: `${B}/copy`,
    recursive: false, auto: false, retention_policy: 'SOURCE', also_include_naming_schema: ['rep-%Y-%m-%d_%H-%M'],
  })) as { id: number; state: { state: string }; ssh_credentials: unknown; periodic_snapshot_tasks: unknown[]; job: unknown };
  assert.equal([task.state, task.ssh_credentials, task.periodic_snapshot_tasks, task.job], [{ state: 'PENDING' }, null, [], null]);
  await c.call('pool.snapshot.create', { dataset: `${A}/data`, name: 'rep-2026-01-01_00-01' });
  assert.is(await c.call('replication.run', task.id), null);
  const first = (await c.call('core.get_jobs', [['method', '=', 'replication.run']], { order_by: ['-id'], get: true })) as { id: number; state: string; logs_excerpt: string };
  assert.is(first.state, 'SUCCESS');
  assert.match(first.logs_excerpt, new RegExp(`sent ${A}/data@rep-2026-01-01_00-00 to ${B}/copy \\(full\\): \\d+ bytes`));
  assert.match(first.logs_excerpt, /\(incremental from @rep-2026-01-01_00-00\)/);
  const src = await hashTree(join(mnt(), A, 'data'));
  assert.equal(await hashTree(join(mnt(), B, 'copy')), src);
  const after = (await c.call('replication.get_instance', task.id)) as { state: { state: string; last_snapshot: string } };
  assert.equal([after.state.state, after.state.last_snapshot], ['FINISHED', `${A}/data@rep-2026-01-01_00-01`]);
  const partial = events(c, 'replication.query').filter((e) => e.id === task.id && e.msg === 'changed');
  assert.ok(partial.some((e) => JSON.stringify(Object.keys(e.fields!)) === '["state"]' && (e.fields!.state as { state: string }).state === 'RUNNING'), 'partial RUNNING events');
  assert.ok(partial.some((e) => (e.fields!.state as { state: string }).state === 'FINISHED'));
  const target = (await c.call('pool.dataset.get_instance', `${B}/copy`)) as Dataset;
  assert.equal((target.readonly as { parsed: boolean }).parsed, true, 'readonly SET on the target');

  // Incremental: new data, a new snapshot; the one the source destroyed goes from the target too (SOURCE retention).
  await writeFile(join(mnt(), A, 'data', 'three.bin'), randomBytes(2 * MiB));
  await writeFile(join(mnt(), A, 'data', 'sub', 'two.txt'), 'two, changed\n');
  await c.call('pool.snapshot.create', { dataset: `${A}/data`, name: 'rep-2026-01-01_00-02' });
  await c.call('pool.snapshot.delete', `${A}/data@rep-2026-01-01_00-00`);
  await c.call('replication.run', task.id);
  const second = (await c.call('core.get_jobs', [['method', '=', 'replication.run']], { order_by: ['-id'], get: true })) as { state: string; logs_excerpt: string; progress: { description: string } };
  assert.is(second.state, 'SUCCESS');
  assert.match(second.logs_excerpt, /\(incremental from @rep-2026-01-01_00-01\)/);
  assert.match(second.logs_excerpt, /retention \(SOURCE\): destroyed .*@rep-2026-01-01_00-00/, second.logs_excerpt);
  assert.not.match(second.logs_excerpt, /\(full\)/);
  assert.equal(await hashTree(join(mnt(), B, 'copy')), await hashTree(join(mnt(), A, 'data')));
  // By name (they carry their times): createtxg is a string, as in TrueNAS, so it sorts as text
  // and a pool whose txg crosses a digit boundary (9 -> 10) lists a newer snapshot first.
  const onTarget = ((await c.call('pool.snapshot.query', [['dataset', '=', `${B}/copy`]], { order_by: ['name'] })) as Array<{ snapshot_name: string }>).map((x) => x.snapshot_name);
  assert.equal(onTarget, ['rep-2026-01-01_00-01', 'rep-2026-01-01_00-02']);
  const descriptions = progressSeen(c, (await c.call('core.get_jobs', [['method', '=', 'replication.run']], { order_by: ['-id'], get: true }) as { id: number }).id);
  assert.ok(descriptions.some((t) => /^Sending 1 of 1: .*@rep-2026-01-01_00-02/.test(t)), descriptions.join(' | '));
});

ztest('rollback and clone', async () => {
  const dir = join(mnt(), A, 'data');
  const at2 = await hashTree(dir);
  await writeFile(join(dir, 'one.bin'), 'overwritten');
  await writeFile(join(dir, 'four.txt'), 'new');
  assert.is(await c.call('pool.snapshot.rollback', `${A}/data@rep-2026-01-01_00-02`), null);
  assert.equal(await hashTree(dir), at2);
  const refused = await callError(c, 'pool.snapshot.rollback', `${A}/data@rep-2026-01-01_00-01`);
  assert.match(refused.data!.reason, /more recent snapshots/);
  await c.call('pool.snapshot.rollback', `${A}/data@rep-2026-01-01_00-01`, { recursive: true });
  assert.equal(Object.keys(await hashTree(dir)).sort(), ['one.bin', 'sub/two.txt']);
  assert.is(await c.call('pool.snapshot.clone', { snapshot: `${A}/data@rep-2026-01-01_00-01`, dataset_dst: `${A}/clone` }), true);
  const clone = (await c.call('pool.dataset.get_instance', `${A}/clone`)) as Dataset;
  assert.equal((clone.origin as { parsed: string }).parsed, `${A}/data@rep-2026-01-01_00-01`);
  assert.equal(await hashTree(join(mnt(), A, 'clone')), await hashTree(dir));
});

ztest('pool.dataset.delete: children refused without recursive; recursive takes them; REMOVED events', async () => {
  await c.call('pool.dataset.create', { name: `${A}/tree` });
  await c.call('pool.dataset.create', { name: `${A}/tree/leaf` });
  const e = await callError(c, 'pool.dataset.delete', `${A}/tree`);
  assert.is(e.data?.errname, 'ENOTEMPTY');
  assert.match(e.data!.reason, /filesystem has children/);
  assert.is(await c.call('pool.dataset.delete', `${A}/tree`, { recursive: true }), true);
  assert.equal(await c.call('pool.dataset.query', [['id', '^', `${A}/tree`]]), []);
  const removed = events(c, 'pool.dataset.query').filter((x) => x.msg === 'removed').map((x) => x.id);
  assert.ok(removed.includes(`${A}/tree`) && removed.includes(`${A}/tree/leaf`));
  assert.equal((await validationOf(c, 'pool.dataset.delete', `${A}/nope`))[0]![0], 'id');
});

ztest('export, import_find, import by guid: same data, the record back, events', async () => {
  const before = await hashTree(join(mnt(), B, 'copy'));
  const [pb] = (await c.call('pool.query', [['id', '=', idB]])) as Pool[];
  assert.is(await c.call('pool.export', idB), null);
  const exportJob = (await c.call('core.get_jobs', [['method', '=', 'pool.export']], { order_by: ['-id'], get: true })) as { logs_excerpt: string };
  assert.equal(exportJob.logs_excerpt.trim().split('\n'), ['Disabling pool attachments', 'Running pre-export actions', 'Exporting pool', 'Cleaning up after export']);
  assert.ok(events(c, 'pool.query').some((e) => e.msg === 'removed' && e.id === idB));
  assert.equal(await c.call('pool.query', [['id', '=', idB]]), []);
  assert.equal(lab.livePools().filter((p) => p === B), []);
  const task = ((await c.call('replication.query')) as Array<{ enabled: boolean }>)[0]!;
  assert.is(task.enabled, false, 'the replication into the exported pool was disabled');
  const found = (await c.call('pool.import_find')) as Array<{ name: string; guid: string; status: string }>;
  const mine = found.find((p) => p.guid === pb!.guid);
  assert.ok(mine, JSON.stringify(found));
  assert.equal([mine!.name, mine!.status], [B, 'ONLINE']);
  assert.is(await c.call('pool.import_pool', { guid: pb!.guid }), true);
  const back = (await c.call('pool.query', [['name', '=', B]])) as Pool[];
  assert.equal(back.map((p) => [p.guid, p.status]), [[pb!.guid, 'ONLINE']]);
  assert.ok(back[0]!.id > idB, 'a new record');
  idB = back[0]!.id;
  assert.equal(await hashTree(join(mnt(), B, 'copy')), before);
  assert.is(((await c.call('replication.query')) as Array<{ enabled: boolean }>)[0]!.enabled, true, 'enabled again at import');
  const again = await callError(c, 'pool.import_pool', { guid: pb!.guid });
  assert.equal([again.data?.errname, again.data?.reason], ['EEXIST', `[EEXIST] Pool with guid: "${pb!.guid}" already imported`]);
  const scrubs = (await c.call('pool.scrub.query', [['pool', '=', idB]])) as Array<{ threshold: number; pool_name: string }>;
  assert.equal(scrubs.map((x) => [x.threshold, x.pool_name]), [[35, B]], 'a default scrub task came with the import');
});

ztest('export with destroy: the pool is gone, its disks are clean and unused', async () => {
  const bDisk = loops[2]!;
  assert.is(await c.call('pool.export', idB, { destroy: true }), null);
  assert.equal(lab.livePools().filter((p) => p === B), []);
  const unused = (await c.call('disk.get_unused')) as Array<{ name: string }>;
  assert.ok(unused.some((u) => u.name === bDisk), `${bDisk} is unused again`);
  const found = (await c.call('pool.import_find')) as Array<{ name: string }>;
  assert.ok(!found.some((p) => p.name === B), 'no label left to import');
  await c.call('pool.export', idA, { destroy: true });
  assert.equal(lab.livePools(), []);
  assert.equal(await c.call('pool.query'), []);
});

ztest('disk.query events and a pool with a log, a cache and a spare: a disk comes, moves into the pool, leaves it, goes', async () => {
  const [a1, , , x1, x2, x3] = loops as [string, string, string, string, string, string];
  await c.call('core.subscribe', 'disk.query');
  const diskEvent = (msg: string, id: string, pool?: string | null) => c.waitFor((m) => {
    const p = m.params as { collection?: string; msg?: string; id?: string; fields?: { pool: string | null } };
    return m.method === 'collection_update' && p.collection === 'disk.query' && p.msg === msg && p.id === id && (pool === undefined || p.fields?.pool === pool);
  }, 30_000);
  const n1 = (await lab.loopDevice('n1', 160 * MiB)).device.slice('/dev/'.length);
  const id = `{devicename}${n1}`;
  const added = await diskEvent('added', id);
  assert.equal([(added.params as { fields: { name: string; size: number } }).fields.name, (added.params as { fields: { size: number } }).fields.size], [n1, 160 * MiB]);

  const C = lab.pool('c');
  const created = (await c.call('pool.create', { name: C, topology: { data: [{ type: 'MIRROR', disks: [x1, x2] }], log: [{ type: 'STRIPE', disks: [n1] }], cache: [{ type: 'STRIPE', disks: [a1] }], spares: [x3] } })) as Pool & { topology: Record<string, Array<{ type: string; disk: string | null; status: string }>> };
  const t = created.topology;
  assert.equal([t.log!.map((v) => [v.type, v.disk]), t.cache!.map((v) => [v.type, v.disk]), t.spare!.map((v) => [v.type, v.disk, v.status])], [[['DISK', n1]], [['DISK', a1]], [['DISK', x3, 'ONLINE']]]); // a free spare (AVAIL) is ONLINE, as TrueNAS shows it
  await diskEvent('changed', id, C);
  const withPool = (await c.call('disk.query', [['name', 'in', [n1, a1, x3]]], { extra: { pools: true }, order_by: ['name'] })) as Array<{ name: string; pool: string | null }>;
  assert.equal(withPool.map((x) => x.pool), [C, C, C]);

  await c.call('pool.export', created.id, { destroy: true });
  await diskEvent('changed', id, null);
  const r = spawnSync('losetup', ['-d', `/dev/${n1}`], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  await diskEvent('removed', id);
});

test.run();
