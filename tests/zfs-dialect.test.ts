// Dialect detection from the probes' texts: zfs-fuse's real output (captured on this machine
// into tests/fixtures/zfs-fuse-*.txt) and OpenZFS 2.3's (tests/fixtures/openzfs-*.txt, the
// usage strings extracted from cmd/zpool/zpool_main.c and cmd/zfs/zfs_main.c, the property
// tables and feature list written with their printf formats). The live detection on this
// machine's tools is checked in zfs-live.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { detectDialect, propertyTable, usageBlock, usageFlags, type DialectProbes } from '../methods/zfs/dialect.js';
import { poolCreateArgs } from '../methods/zfs/pool-spec.js';
import { sendArgs } from '../methods/zfs/streams.js';
import { ZfsInputError, ZfsUnsupportedError } from '../methods/zfs/errors.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../../tests/fixtures/${name}`, import.meta.url)), 'utf8');

const fuseProbes: DialectProbes = {
  zpoolUsage: fixture('zfs-fuse-zpool-usage.txt'),
  zfsUsage: fixture('zfs-fuse-zfs-usage.txt'),
  zfsGetHelp: fixture('zfs-fuse-zfs-get.txt'),
  zpoolGetHelp: fixture('zfs-fuse-zpool-get.txt'),
  zpoolUpgradeV: fixture('zfs-fuse-zpool-upgrade-v.txt'),
  zfsVersion: null,
  zfsHolds: fixture('zfs-fuse-zfs-holds.txt'),
  zfsFuseBinary: true,
};

const openzfsProbes: DialectProbes = {
  zpoolUsage: fixture('openzfs-zpool-usage.txt'),
  zfsUsage: fixture('openzfs-zfs-usage.txt'),
  zfsGetHelp: fixture('openzfs-zfs-get.txt'),
  zpoolGetHelp: fixture('openzfs-zpool-get.txt'),
  zpoolUpgradeV: fixture('openzfs-zpool-upgrade-v.txt'),
  zfsVersion: fixture('openzfs-zfs-version.txt'),
  zfsHolds: fixture('openzfs-zfs-holds.txt'),
  zfsFuseBinary: false,
};

test('zfs-fuse: pool version 23, none of the exact forms, no holds listing, no encryption or dRAID', () => {
  const d = detectDialect(fuseProbes);
  assert.equal(
    [d.flavor, d.version, d.poolVersion, d.features, d.zpoolListParsable, d.zpoolGetScripted, d.zpoolStatusParsable, d.zpoolStatusGuids, d.zpoolStatusFullPaths],
    ['zfs-fuse', null, 23, [], false, false, false, false, false],
  );
  assert.equal(
    [d.zfsListParsable, d.zfsGetTypes, d.zfsSetMany, d.zfsSnapshotMany, d.scrubPause, d.sendDryRun, d.holdsList, d.snapshotsChanged, d.encryption, d.draid, d.allocationClasses],
    [false, false, false, false, false, false, false, false, false, false, false],
  );
  assert.equal([d.zdbConfig, d.busyAfterUnmount], [true, true]);
  assert.is(d.receiveProperties, false, 'zfs-fuse receive has no -o / -x');
  assert.ok(['size', 'allocated', 'free', 'health', 'guid', 'altroot', 'failmode'].every((p) => d.poolProperties.includes(p)));
  assert.not.ok(d.poolProperties.includes('fragmentation'));
  assert.ok(['compression', 'quota', 'userrefs', 'mountpoint'].every((p) => d.datasetProperties.includes(p)));
  assert.not.ok(d.datasetProperties.includes('encryption'));
});

test('OpenZFS 2.3: the exact forms everywhere, holds, snapshots_changed, encryption, dRAID, allocation classes', () => {
  const d = detectDialect(openzfsProbes);
  assert.equal([d.flavor, d.version, d.poolVersion], ['openzfs', '2.3.4', null]);
  assert.equal(d.features, ['async_destroy', 'lz4_compress', 'allocation_classes', 'encryption', 'draid', 'raidz_expansion']);
  assert.equal(
    [d.zpoolListParsable, d.zpoolGetScripted, d.zpoolStatusParsable, d.zpoolStatusGuids, d.zpoolStatusFullPaths, d.zfsListParsable, d.zfsGetTypes, d.zfsSetMany, d.zfsSnapshotMany, d.holdsParsable],
    [true, true, true, true, true, true, true, true, true, true],
  );
  assert.equal([d.scrubPause, d.sendDryRun, d.holdsList, d.snapshotsChanged, d.encryption, d.draid, d.allocationClasses], [true, true, true, true, true, true, true]);
  assert.equal([d.zdbConfig, d.busyAfterUnmount], [false, false]);
  assert.is(d.receiveProperties, true, 'zfs receive -o / -x');
  assert.ok(['fragmentation', 'freeing', 'autotrim', 'dedup_table_size'].every((p) => d.poolProperties.includes(p)));
});

test('a legacy pool version without zfs-fuse is "legacy"; feature flags without `zfs version` are OpenZFS', () => {
  assert.is(detectDialect({ ...fuseProbes, zfsFuseBinary: false }).flavor, 'legacy');
  assert.is(detectDialect({ ...openzfsProbes, zfsVersion: null }).flavor, 'openzfs');
});

test('usage blocks: continuation lines belong to their command; flags from bracket groups and alternatives', () => {
  const zpool = fixture('openzfs-zpool-usage.txt');
  assert.match(usageBlock(zpool, 'get'), /<pool> \.\.\./);
  assert.equal([...usageFlags(zpool, 'scrub')].sort(), ['C', 'E', 'S', 'a', 'e', 'p', 's', 't', 'w']);
  assert.equal([...usageFlags(fixture('zfs-fuse-zpool-usage.txt'), 'scrub')], ['s']);
  assert.equal([...usageFlags(fixture('zfs-fuse-zfs-usage.txt'), 'list')].sort(), ['H', 'S', 'd', 'o', 'r', 's', 't']);
  assert.equal(usageBlock(zpool, 'nosuch'), '');
  assert.ok(propertyTable(fixture('zfs-fuse-zfs-get.txt')).has('userused@...'));
});

test('zpool create arguments: vdev keywords, classes, properties; ZFS layout rules and refusals', () => {
  const fuse = detectDialect(fuseProbes);
  const ozfs = detectDialect(openzfsProbes);
  assert.equal(poolCreateArgs({
    name: 'tank', force: true, mountpoint: '/mnt/tank', altroot: '/mnt',
    poolProperties: { ashift: '12' }, datasetProperties: { compression: 'lz4' },
    data: [{ type: 'mirror', devices: ['/dev/sda', '/dev/sdb'] }, { type: 'raidz2', devices: ['/dev/sdc', '/dev/sdd', '/dev/sde'] }],
    log: [{ type: 'mirror', devices: ['/dev/sdf', '/dev/sdg'] }, { type: 'stripe', devices: ['/dev/sdh'] }],
    cache: ['/dev/sdi'], spares: ['/dev/sdj', '/dev/sdk'],
  }, fuse), [
    'create', '-f', '-o', 'ashift=12', '-O', 'compression=lz4', '-m', '/mnt/tank', '-R', '/mnt', 'tank',
    'mirror', '/dev/sda', '/dev/sdb', 'raidz2', '/dev/sdc', '/dev/sdd', '/dev/sde',
    'log', 'mirror', '/dev/sdf', '/dev/sdg', '/dev/sdh', 'cache', '/dev/sdi', 'spare', '/dev/sdj', '/dev/sdk',
  ]);
  assert.equal(poolCreateArgs({ name: 'p', data: [{ type: 'stripe', devices: ['/dev/a', '/dev/b'] }] }, fuse), ['create', 'p', '/dev/a', '/dev/b']);
  assert.equal(poolCreateArgs({
    name: 'p', data: [{ type: 'draid2', devices: ['/dev/a', '/dev/b', '/dev/c', '/dev/d'], draidDataDisks: 2, draidSpareDisks: 1 }],
    special: [{ type: 'mirror', devices: ['/dev/e', '/dev/f'] }], dedup: [{ type: 'stripe', devices: ['/dev/g'] }],
    datasetProperties: { encryption: 'on', keyformat: 'passphrase' },
  }, ozfs), ['create', '-O', 'encryption=on', '-O', 'keyformat=passphrase', 'p', 'draid2:2d:1s', '/dev/a', '/dev/b', '/dev/c', '/dev/d', 'special', 'mirror', '/dev/e', '/dev/f', 'dedup', '/dev/g']);

  const refused: Array<[() => unknown, string]> = [
    [() => poolCreateArgs({ name: 'p', data: [{ type: 'draid1', devices: ['/dev/a', '/dev/b'] }] }, fuse), 'dRAID'],
    [() => poolCreateArgs({ name: 'p', data: [{ type: 'stripe', devices: ['/dev/a'] }], datasetProperties: { encryption: 'on' } }, fuse), 'encryption'],
    [() => poolCreateArgs({ name: 'p', data: [{ type: 'stripe', devices: ['/dev/a'] }], special: [{ type: 'stripe', devices: ['/dev/b'] }] }, fuse), 'special vdevs'],
  ];
  for (const [f, feature] of refused) {
    assert.throws(f, (e: unknown) => e instanceof ZfsUnsupportedError && e.feature === feature);
  }
  const invalid: Array<[() => unknown, string]> = [
    [() => poolCreateArgs({ name: 'p', data: [] }, fuse), 'data'],
    [() => poolCreateArgs({ name: 'p', data: [{ type: 'raidz3', devices: ['/dev/a', '/dev/b', '/dev/c'] }] }, fuse), 'data.0.devices'],
    [() => poolCreateArgs({ name: 'p', data: [{ type: 'mirror', devices: ['/dev/a', '/dev/a'] }] }, fuse), 'data.0.devices.1'],
    [() => poolCreateArgs({ name: 'p', data: [{ type: 'stripe', devices: ['/dev/a'] }], spares: ['/dev/a'] }, fuse), 'spares.0'],
    [() => poolCreateArgs({ name: 'p', data: [{ type: 'stripe', devices: ['/dev/a'] }], log: [{ type: 'raidz1', devices: ['/dev/b', '/dev/c'] }] }, fuse), 'log.0.type'],
    [() => poolCreateArgs({ name: 'p', data: [{ type: 'stripe', devices: ['/dev/a'] }], mountpoint: 'relative' }, fuse), 'mountpoint'],
    [() => poolCreateArgs({ name: 'p', data: [{ type: 'stripe', devices: ['/dev/a'] }], poolProperties: { 'ash ift': '9' } }, fuse), 'poolProperties.ash ift'],
  ];
  for (const [f, field] of invalid) assert.throws(f, (e: unknown) => e instanceof ZfsInputError && e.field === field);
});

test('zfs send arguments: full, -i, -I, -R, -p; a short "@snap" source', () => {
  assert.equal(sendArgs({ snapshot: 'tank/a@s2' }), ['send', 'tank/a@s2']);
  assert.equal(sendArgs({ snapshot: 'tank/a@s2', from: 'tank/a@s1', properties: true }), ['send', '-p', '-i', 'tank/a@s1', 'tank/a@s2']);
  assert.equal(sendArgs({ snapshot: 'tank/a@s3', from: '@s1', intermediates: true, replicate: true }), ['send', '-R', '-I', '@s1', 'tank/a@s3']);
  assert.throws(() => sendArgs({ snapshot: 'tank/a' }), (e: unknown) => e instanceof ZfsInputError && e.field === 'snapshot');
  assert.throws(() => sendArgs({ snapshot: 'tank/a@s', intermediates: true }), (e: unknown) => e instanceof ZfsInputError && e.field === 'intermediates');
});

test.run();
