// The ZFS driver against the real ZFS of this machine (zfs-fuse here; OpenZFS elsewhere):
// pools on loop devices and sparse files, datasets with properties, snapshots and holds, full
// and incremental send/recv compared file by file, rollback, clone, export and import by guid,
// a scrub to its end, and hostile names. Every pool and loop device carries this run's prefix
// and is removed afterwards, whatever happened.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ZfsDriver } from '../methods/zfs/driver.js';
import { ZfsCommandError, ZfsInputError, ZfsUnsupportedError } from '../methods/zfs/errors.js';
import { mapDatasets } from '../methods/zfs/map-dataset.js';
import { mapPoolEntry } from '../methods/zfs/map-pool.js';
import { mapSnapshot } from '../methods/zfs/map-snapshot.js';
import { PoolEntry } from '../schemas/pool.js';
import { DatasetEntry, type DatasetEntryT } from '../schemas/pool_dataset.js';
import { SnapshotEntry } from '../schemas/pool_snapshot.js';
import type { PoolStatus } from '../methods/zfs/types.js';
import { hashTree } from './helpers/files.js';
import { ZfsLab, zfsTest } from './helpers/zfs.js';
import { until } from './helpers/until.js';

const ztest = zfsTest(test);
const ajv = new Ajv({ allErrors: true, strict: false });
const validPool = ajv.compile(PoolEntry);
const validDataset = ajv.compile(DatasetEntry);
const validSnapshot = ajv.compile(SnapshotEntry);

let lab: ZfsLab;
let z: ZfsDriver;
let A: string; // mirror pool on two loop devices
let B: string; // stripe pool on a sparse file (replication target)
let mnt: string;

test.after(() => lab?.cleanupSync());

async function expectError<T extends Error>(p: Promise<unknown>, type: new (...a: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, type);
    return e as T;
  }
  throw new Error(`expected a ${type.name}`);
}

async function statusOf(pool: string): Promise<PoolStatus> {
  const [s] = await z.pools.status(pool);
  assert.ok(s, `status of ${pool}`);
  return s!;
}

ztest('the dialect is detected from the installed tools', async () => {
  lab = new ZfsLab();
  mnt = join(lab.dir, 'mnt');
  await mkdir(mnt);
  z = await ZfsDriver.open();
  const d = z.dialect;
  if (d.flavor === 'zfs-fuse') {
    assert.is(d.poolVersion, 23);
    assert.is(d.zfsListParsable, false);
    assert.is(d.zpoolListParsable, false);
    assert.is(d.zpoolGetScripted, false);
    assert.is(d.encryption, false);
    assert.is(d.draid, false);
    assert.is(d.scrubPause, false);
    assert.is(d.sendDryRun, false);
  } else {
    assert.is(d.flavor, 'openzfs');
    assert.ok(d.zfsListParsable && d.zpoolListParsable && d.zpoolGetScripted);
  }
  assert.ok(d.poolProperties.includes('size') && d.poolProperties.includes('guid'));
  assert.ok(d.datasetProperties.includes('compression'));
});

ztest('a mirror pool on two loop devices: list, status tree with guids, the TrueNAS pool entry', async () => {
  A = lab.pool('a');
  const l1 = await lab.loopDevice('a1', 192 * 1024 * 1024);
  const l2 = await lab.loopDevice('a2', 192 * 1024 * 1024);
  await z.pools.create({ name: A, data: [{ type: 'mirror', devices: [l1.device, l2.device] }], mountpoint: join(mnt, 'a') });
  const [entry] = await z.pools.list([A]);
  assert.is(entry!.name, A);
  assert.ok(/^\d+$/.test(entry!.guid));
  assert.is(entry!.health, 'ONLINE');
  assert.ok(entry!.size! > 150 * 1024 * 1024 && entry!.size! < 200 * 1024 * 1024, `size ${entry!.size}`);
  const s = await statusOf(A);
  assert.is(s.state, 'ONLINE');
  assert.is(s.scan, null);
  assert.is(s.dataErrors, 0);
  assert.is(s.topology.data.length, 1);
  const mirror = s.topology.data[0]!;
  assert.is(mirror.kind, 'mirror');
  assert.equal(mirror.children.map((c) => c.path), [l1.device, l2.device]);
  assert.ok(mirror.children.every((c) => c.kind === 'disk' && c.state === 'ONLINE' && c.errors!.checksum === 0));
  assert.ok(/^\d+$/.test(mirror.guid ?? ''), 'mirror guid');
  assert.ok(mirror.children.every((c) => /^\d+$/.test(c.guid ?? '')), 'disk guids');
  assert.is(s.root!.guid, entry!.guid);
  const pe = mapPoolEntry({ id: 1, path: join(mnt, 'a'), list: entry!, status: s });
  assert.ok(validPool(pe), JSON.stringify(validPool.errors));
  assert.is(pe.healthy, true);
  assert.is(pe.status_code, 'OK');
  assert.equal(pe.topology!.data[0]!.children.map((c) => [c.type, c.disk]), [['DISK', l1.device.slice(5)], ['DISK', l2.device.slice(5)]]);
});

ztest('raidz1 with a mirrored log, a cache device and a spare: every section parsed live', async () => {
  const C = lab.pool('c');
  const files = await Promise.all(['c1', 'c2', 'c3', 'l1', 'l2', 's1'].map((n) => lab.sparseFile(n, 96 * 1024 * 1024)));
  const cache = await lab.loopDevice('cache', 96 * 1024 * 1024); // zfs-fuse takes only block devices as cache
  await z.pools.create({
    name: C, mountpoint: 'none',
    data: [{ type: 'raidz1', devices: files.slice(0, 3) }],
    log: [{ type: 'mirror', devices: files.slice(3, 5) }],
    cache: [cache.device],
    spares: [files[5]!],
  });
  const s = await statusOf(C);
  assert.is(s.topology.data[0]!.kind, 'raidz');
  assert.is(s.topology.data[0]!.parity, 1);
  assert.equal(s.topology.data[0]!.children.map((c) => [c.kind, c.path]), files.slice(0, 3).map((f) => ['file', f]));
  assert.is(s.topology.log[0]!.kind, 'mirror');
  assert.equal(s.topology.log[0]!.children.map((c) => c.path), files.slice(3, 5));
  assert.equal(s.topology.cache.map((c) => c.path), [cache.device]);
  assert.equal(s.topology.spare.map((c) => [c.path, c.state]), [[files[5], 'AVAIL']]);
  const pe = mapPoolEntry({ id: 3, path: '/none', list: (await z.pools.list([C]))[0]!, status: s });
  assert.ok(validPool(pe), JSON.stringify(validPool.errors));
  assert.equal(pe.topology!.data[0]!.type, 'RAIDZ1');
  assert.equal(pe.topology!.spare[0]!.status, 'ONLINE');
  await z.pools.destroy(C);
  assert.equal(await z.pools.list().then((l) => l.filter((p) => p.name === C)), []);
});

ztest('what this ZFS cannot do is refused before anything runs, naming the feature', async () => {
  const d = z.dialect;
  if (!d.encryption) {
    const e = await expectError(z.datasets.create(`${A}/enc`, { properties: { encryption: 'on' } }), ZfsUnsupportedError);
    assert.is(e.feature, 'encryption');
  }
  if (!d.draid) {
    const e = await expectError(z.pools.create({ name: lab.pool('d'), data: [{ type: 'draid1', devices: ['/dev/null1', '/dev/null2'] }] }), ZfsUnsupportedError);
    assert.is(e.feature, 'dRAID');
  }
  if (!d.scrubPause) {
    const e = await expectError(z.pools.scrub(A, 'pause'), ZfsUnsupportedError);
    assert.match(e.message, /pausing a scrub/);
  }
  assert.equal(lab.livePools().filter((p) => p === lab.pool('d')), []);
});

ztest('datasets with properties: one zfs get for many, TrueNAS property shapes, set and inherit', async () => {
  await z.datasets.create(`${A}/data`, { properties: { compression: 'on', atime: 'off', recordsize: '65536', quota: '52428800', 'org.freenas:description': 'hello world: a b' } });
  await z.datasets.create(`${A}/data/child`);
  await z.datasets.create(`${A}/data/child/leaf`, { properties: { readonly: 'on', mountpoint: 'none', 'org.example:note': 'x' } });
  const table = await z.datasets.get([A], { properties: 'all', recursive: true, types: ['filesystem', 'volume'] });
  assert.equal([...table.keys()], [A, `${A}/data`, `${A}/data/child`, `${A}/data/child/leaf`]);
  const [root] = mapDatasets(table);
  assert.ok(validDataset(root), JSON.stringify(validDataset.errors));
  const data = root!.children[0] as DatasetEntryT;
  assert.is(data.id, `${A}/data`);
  assert.equal(data.compression, { parsed: 'on', rawvalue: 'on', value: 'ON', source: 'LOCAL', source_info: null });
  assert.equal(data.atime, { parsed: false, rawvalue: 'off', value: 'OFF', source: 'LOCAL', source_info: null });
  assert.equal(data.recordsize, { parsed: 65536, rawvalue: '65536', value: '64K', source: 'LOCAL', source_info: null });
  assert.equal(data.quota, { parsed: 52428800, rawvalue: '52428800', value: '50 MiB', source: 'LOCAL', source_info: null });
  assert.equal((data.comments as { value: string }).value, 'hello world: a b');
  assert.equal(data.user_properties, {});
  assert.is(data.mountpoint, join(mnt, 'a', 'data'));
  const child = data.children[0] as DatasetEntryT;
  assert.equal(child.compression, { parsed: 'on', rawvalue: 'on', value: 'ON', source: 'INHERITED', source_info: `${A}/data` });
  assert.equal((child.quota as { parsed: unknown }).parsed, null);
  const leaf = child.children[0] as DatasetEntryT;
  // (Unmounted: zfs-fuse reports a mounted dataset's readonly as its FUSE mount's "off", source
  // TEMPORARY, even when the dataset is read-only.)
  assert.equal(leaf.readonly, { parsed: true, rawvalue: 'on', value: 'ON', source: 'LOCAL', source_info: null });
  assert.is(leaf.mountpoint, 'none');
  assert.equal(Object.keys(leaf.user_properties), ['org.example:note']);
  assert.ok(typeof (leaf.used as { parsed: unknown }).parsed === 'number');

  await z.datasets.set(`${A}/data/child`, { compression: 'off', copies: '2' });
  await z.datasets.inherit(`${A}/data/child`, 'compression');
  const after = await z.datasets.get([`${A}/data/child`], { properties: ['compression', 'copies'] });
  assert.equal(after.get(`${A}/data/child`)!.get('compression'), { raw: 'on', source: 'INHERITED', from: `${A}/data` });
  assert.equal(after.get(`${A}/data/child`)!.get('copies'), { raw: '2', source: 'LOCAL', from: null });
  const missing = await expectError(z.datasets.get([`${A}/nope`], { properties: ['used'] }), ZfsCommandError);
  assert.is(missing.errno, 'ENOENT');
  assert.match(missing.zfsMessage, /does not exist/);
});

ztest('snapshots: create, list through the index, hold and release, a held snapshot cannot go', async () => {
  const dir = join(mnt, 'a', 'data');
  await writeFile(join(dir, 'one.bin'), randomBytes(3 * 1024 * 1024));
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'two.txt'), 'two\n');
  await z.snapshots.create(`${A}/data@s1`, { recursive: true });
  const list = await z.snapshots.list({ datasets: [`${A}/data`] });
  assert.equal(list.map((s) => s.name), [`${A}/data@s1`, `${A}/data/child@s1`, `${A}/data/child/leaf@s1`]);
  assert.ok(list.every((s) => /^\d+$/.test(s.createtxg) && s.creation > Date.now() - 3600_000 && /^\d+$/.test(s.guid ?? '')));
  assert.equal((await z.snapshots.list({ datasets: [`${A}/data`], recursive: false })).map((s) => s.name), [`${A}/data@s1`]);
  // Listed again without a change: answered from the index, the same records.
  const before = z.snapshots.index.stats.reused;
  assert.equal(await z.snapshots.list({ datasets: [`${A}/data`] }), list);
  assert.is(z.snapshots.index.stats.reused, before + 1);
  const entry = mapSnapshot(list[0]!, { holdTags: [] });
  assert.ok(validSnapshot(entry), JSON.stringify(validSnapshot.errors));
  assert.equal(entry.holds, {});

  await z.snapshots.create(`${A}/data@held`);
  await z.snapshots.hold('keep me', [`${A}/data@held`]);
  const [h] = await z.snapshots.holds([`${A}/data@held`]);
  assert.is(h!.count, 1);
  if (z.dialect.holdsList) assert.equal(h!.tags, ['keep me']);
  else assert.is(h!.tags, null);
  assert.is(await z.snapshots.hasHold(`${A}/data@held`, 'keep me'), true);
  assert.is(await z.snapshots.hasHold(`${A}/data@held`, 'other'), false);
  assert.is((await z.snapshots.holds([`${A}/data@held`]))[0]!.count, 1, 'the probe left no hold behind');
  const busy = await expectError(z.snapshots.destroy(`${A}/data@held`), ZfsCommandError);
  assert.is(busy.errno, 'EBUSY');
  await z.snapshots.release('keep me', [`${A}/data@held`]);
  // A snapshot made behind the driver's back is seen too; the index re-reads only that dataset.
  const { execFileSync } = await import('node:child_process');
  execFileSync('zfs', ['snapshot', `${A}/data/child@outside`]);
  const partial = z.snapshots.index.stats.partial + z.snapshots.index.stats.reused;
  const full = z.snapshots.index.stats.full;
  assert.ok((await z.snapshots.list({ datasets: [`${A}/data`] })).some((s) => s.name === `${A}/data/child@outside`));
  assert.is(z.snapshots.index.stats.full, full, 'no full re-read for one new snapshot');
  assert.is(z.snapshots.index.stats.partial + z.snapshots.index.stats.reused, partial + 1);
  await z.snapshots.destroy(`${A}/data/child@outside`);
  await z.snapshots.destroy(`${A}/data@held`);
  const names = (await z.snapshots.list({ datasets: [`${A}/data`], recursive: false })).map((s) => s.name);
  assert.equal(names, [`${A}/data@s1`], 'the index saw the destroy');
});

ztest('send full then incremental into a second pool: every file matches by SHA-256', async () => {
  B = lab.pool('b');
  await z.pools.create({ name: B, data: [{ type: 'stripe', devices: [await lab.sparseFile('b1', 256 * 1024 * 1024)] }], mountpoint: join(mnt, 'b') });
  let seen = 0;
  const full = await z.streams.transfer({ snapshot: `${A}/data@s1` }, `${B}/copy`, {}, { onBytes: (n) => { seen = n; } });
  assert.ok(full.bytes > 3 * 1024 * 1024, `full stream ${full.bytes} bytes`);
  assert.is(seen, full.bytes);
  // Children are datasets of their own (not in a non-recursive stream) and hold no files.
  assert.equal(await hashTree(join(mnt, 'b', 'copy')), await hashTree(join(mnt, 'a', 'data')));

  await writeFile(join(mnt, 'a', 'data', 'three.bin'), randomBytes(2 * 1024 * 1024));
  await writeFile(join(mnt, 'a', 'data', 'sub', 'two.txt'), 'two, changed\n');
  await z.snapshots.create(`${A}/data@s2`, { recursive: true });
  const estimate = await z.streams.size({ snapshot: `${A}/data@s2`, from: `${A}/data@s1` });
  const inc = await z.streams.transfer({ snapshot: `${A}/data@s2`, from: `${A}/data@s1` }, `${B}/copy`, { force: true });
  if (estimate.method === 'counted') assert.is(estimate.bytes, inc.bytes);
  else assert.ok(Math.abs(estimate.bytes - inc.bytes) < inc.bytes, `${estimate.method} estimate ${estimate.bytes} vs ${inc.bytes}`);
  assert.ok(inc.bytes > 2 * 1024 * 1024 && inc.bytes < full.bytes + 2 * 1024 * 1024);
  const src = await hashTree(join(mnt, 'a', 'data'));
  const dst = await hashTree(join(mnt, 'b', 'copy'));
  for (const f of ['one.bin', 'three.bin', 'sub/two.txt']) assert.is(dst[f], src[f], f);
  assert.equal((await z.snapshots.list({ datasets: [`${B}/copy`] })).map((s) => s.snapshot), ['s1', 's2']);

  // -R: the dataset with its descendants and their snapshots.
  await z.streams.transfer({ snapshot: `${A}/data@s2`, replicate: true }, `${B}/tree`);
  assert.equal((await z.datasets.list(`${B}/tree`)).map((d) => d.name), [`${B}/tree`, `${B}/tree/child`, `${B}/tree/child/leaf`]);
  assert.equal((await z.snapshots.list({ datasets: [`${B}/tree`] })).map((s) => s.name).sort(), [
    `${B}/tree/child/leaf@s1`, `${B}/tree/child/leaf@s2`, `${B}/tree/child@s1`, `${B}/tree/child@s2`, `${B}/tree@s1`, `${B}/tree@s2`,
  ].sort());
  // Aborted mid-stream: both commands end, the partial receive leaves nothing behind.
  const ac = new AbortController();
  const aborted = await expectError(z.streams.transfer({ snapshot: `${A}/data@s2` }, `${B}/aborted`, {}, { signal: ac.signal, onBytes: () => ac.abort() }), ZfsCommandError);
  assert.is(aborted.errno, 'ECANCELED');
  assert.equal((await z.datasets.list(B)).map((d) => d.name).filter((n) => n.startsWith(`${B}/aborted`)), []);
  assert.equal((await z.snapshots.list({ datasets: [`${B}/copy`] })).map((s) => s.snapshot), ['s1', 's2']);
  // A failing receive (the target exists, no -F) fails the transfer with recv's message, and the send is stopped.
  const e = await expectError(z.streams.transfer({ snapshot: `${A}/data@s1` }, `${B}/copy`), ZfsCommandError);
  assert.match(e.zfsMessage, /exists/);
  assert.equal(e.args.slice(0, 1), ['receive']);
});

ztest('rollback and clone', async () => {
  const dir = join(mnt, 'a', 'data');
  const s2 = await hashTree(dir);
  await writeFile(join(dir, 'one.bin'), 'overwritten');
  await writeFile(join(dir, 'four.txt'), 'new');
  await z.snapshots.rollback(`${A}/data@s2`);
  assert.equal(await hashTree(dir), s2);
  const refused = await expectError(z.snapshots.rollback(`${A}/data@s1`), ZfsCommandError);
  assert.match(refused.zfsMessage, /more recent snapshots/);
  await z.snapshots.rollback(`${A}/data@s1`, { destroyNewer: true });
  assert.equal(Object.keys(await hashTree(dir)).sort(), ['one.bin', 'sub/two.txt']);
  assert.equal((await z.snapshots.list({ datasets: [`${A}/data`], recursive: false })).map((s) => s.snapshot), ['s1']);

  await z.snapshots.clone(`${A}/data@s1`, `${A}/clone`, { properties: { 'org.example:from': 'data' } });
  const t = await z.datasets.get([`${A}/clone`], { properties: ['origin', 'org.example:from'] });
  assert.is(t.get(`${A}/clone`)!.get('origin')!.raw, `${A}/data@s1`);
  assert.equal(await hashTree(join(mnt, 'a', 'clone')), await hashTree(dir));
});

ztest('export, list importable pools, import by guid', async () => {
  const before = await hashTree(join(mnt, 'b', 'copy'));
  const guid = (await z.pools.list([B]))[0]!.guid;
  await z.pools.export(B);
  assert.equal((await z.pools.list()).filter((p) => p.name === B), []);
  const found = await z.pools.importable({ dirs: [lab.dir] });
  const mine = found.find((p) => p.guid === guid);
  assert.ok(mine, `importable: ${JSON.stringify(found.map((p) => [p.name, p.guid]))}`);
  assert.is(mine!.name, B);
  assert.is(mine!.state, 'ONLINE');
  assert.equal(mine!.topology.data.map((v) => v.path), [join(lab.dir, 'b1')]);
  await z.pools.import({ pool: guid, dirs: [lab.dir] });
  assert.is((await z.pools.list([B]))[0]!.health, 'ONLINE');
  assert.equal(await hashTree(join(mnt, 'b', 'copy')), before);
  const e = await expectError(z.pools.import({ pool: '123456789', dirs: [lab.dir] }), ZfsCommandError);
  assert.is(e.errno, 'ENOENT');
  // By name, under a new name, and back.
  await z.pools.export(B);
  await z.pools.import({ pool: B, newName: `${B}r`, dirs: [lab.dir] });
  assert.equal((await z.pools.list([`${B}r`])).map((p) => [p.guid, p.health]), [[guid, 'ONLINE']]);
  await z.pools.export(`${B}r`);
  await z.pools.import({ pool: `${B}r`, newName: B, dirs: [lab.dir] });
  assert.equal(await hashTree(join(mnt, 'b', 'copy')), before);
});

ztest('a scrub followed to its end', async () => {
  await z.pools.scrub(A);
  const s = await until(async () => {
    const now = await statusOf(A);
    return now.scan?.state === 'FINISHED' ? now : null;
  }, 'the scrub to finish', 120_000, 200);
  assert.is(s.scan!.function, 'SCRUB');
  assert.is(s.scan!.errors, 0);
  assert.ok(s.scan!.endTime! > Date.now() - 600_000 && s.scan!.endTime! <= Date.now() + 1000);
  const pe = mapPoolEntry({ id: 1, path: join(mnt, 'a'), list: (await z.pools.list([A]))[0]!, status: s });
  assert.ok(validPool(pe), JSON.stringify(validPool.errors));
  assert.equal([pe.scan!.state, pe.scan!.function, pe.scan!.percentage, pe.scan!.errors], ['FINISHED', 'SCRUB', 100, 0]);
});

ztest('hostile names never reach a command: the bad field is named', async () => {
  const cases: Array<[() => Promise<unknown>, string, RegExp]> = [
    [() => z.datasets.create(`${A}/x\nzfs destroy ${A}`), 'name', /control character/],
    [() => z.datasets.create(`${A}/x;rm -rf`), 'name', /invalid character ';'/],
    [() => z.datasets.create(`-o${A}`), 'name', /begin with a letter/],
    [() => z.snapshots.create(`${A}/data@a@b`), 'name', /one '@'/],
    [() => z.snapshots.hold('-r', [`${A}/data@s1`]), 'tag', /begin with '-'/],
    [() => z.snapshots.hold('ok', [`${A}/data@s1`, `${A}/data@s1\n`]), 'snapshots.1', /control character/],
    [() => z.datasets.set(`${A}/data`, { 'org.x:y': 'a\tb' }), 'properties.org.x:y', /control characters/],
    [() => z.datasets.set(`${A}/data`, { 'Bad Name': 'x' }), 'properties.Bad Name', /invalid property name/],
    [() => z.pools.create({ name: lab.pool('h'), data: [{ type: 'mirror', devices: ['/dev/null', 'log'] }] }), 'data.0.devices.1', /absolute path/],
    [() => z.pools.create({ name: lab.pool('h'), data: [{ type: 'mirror', devices: ['/dev/x'] }] }), 'data.0.devices', /at least 2/],
    [() => z.pools.create({ name: 'mirror1', data: [{ type: 'stripe', devices: ['/dev/x'] }] }), 'name', /reserved/],
    [() => z.pools.import({ pool: '18446744073709551616' }), 'pool', /64 bits/],
    [() => z.streams.transfer({ snapshot: `${A}/data@s1`, from: '@-x y\n' }, `${B}/t`), 'from', /control character/],
  ];
  for (const [p, field, msg] of cases) {
    const e = await expectError(p(), ZfsInputError);
    assert.is(e.field, field, e.message);
    assert.match(e.message, msg);
  }
  // Legal but odd names (a space, a leading dash in a component) work end to end as one argument.
  for (const name of [`${A}/with space`, `${A}/-dash`]) {
    await z.datasets.create(name, { properties: { mountpoint: 'none' } });
    assert.equal((await z.datasets.list(name)).map((d) => d.name), [name]);
    await z.snapshots.create(`${name}@s p`);
    assert.equal((await z.snapshots.list({ datasets: [name] })).map((s) => s.snapshot), ['s p']);
    await z.datasets.destroy(name, { recursive: true });
  }
  assert.equal(lab.livePools().filter((p) => p === lab.pool('h')), []);
});

ztest('destroying the pools leaves nothing of this run behind', async () => {
  await z.pools.destroy(A);
  await z.pools.destroy(B);
  assert.equal(lab.livePools(), []);
  lab.cleanupSync();
  const { spawnSync } = await import('node:child_process');
  assert.not.match(spawnSync('losetup', ['-a'], { encoding: 'utf8' }).stdout, lab.dir);
});

test.run();
