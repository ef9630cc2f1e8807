// ZFS's naming rules, checked before a name can reach a command line: each refusal names the
// field it was given and says what is wrong.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZfsInputError } from '../methods/zfs/errors.js';
import {
  checkAbsolutePath, checkDatasetName, checkDatasetOrSnapshotName, checkDevicePath, checkGuid, checkHoldTag,
  checkPoolName, checkPropertyName, checkPropertyValue, checkSnapshotName,
} from '../methods/zfs/names.js';

function refused(f: () => unknown, field: string, message: RegExp): void {
  assert.throws(f, (e: unknown) => {
    if (!(e instanceof ZfsInputError)) return false;
    assert.is(e.field, field);
    assert.match(e.message, message);
    assert.is(e.errno, 'EINVAL');
    return true;
  });
}

test('pool names: a letter first, ZFS characters only, reserved words, length', () => {
  for (const ok of ['tank', 'T', 'my pool', 'a-b_c.d:e', 'a'.repeat(239)]) assert.is(checkPoolName('name', ok), ok);
  refused(() => checkPoolName('name', ''), 'name', /non-empty/);
  refused(() => checkPoolName('name', 42), 'name', /non-empty string/);
  refused(() => checkPoolName('pool_create.name', '1tank'), 'pool_create.name', /begin with a letter/);
  refused(() => checkPoolName('name', '-o'), 'name', /begin with a letter/);
  refused(() => checkPoolName('name', 'tank/a'), 'name', /invalid character '\/'/);
  refused(() => checkPoolName('name', 'tank\n'), 'name', /control character U\+000a/);
  refused(() => checkPoolName('name', 'tänk'), 'name', /invalid character 'ä'/);
  for (const r of ['mirror', 'mirror2', 'raidz', 'raidz1x', 'draid', 'spare', 'spares', 'log']) refused(() => checkPoolName('name', r), 'name', /reserved/);
  assert.is(checkPoolName('name', 'logs'), 'logs');
  refused(() => checkPoolName('name', 'a'.repeat(240)), 'name', /too long/);
});

test('dataset and snapshot names', () => {
  for (const ok of ['tank', 'tank/a', 'tank/a b/-c', 'tank/x%y', 'tank/a.b:c']) assert.is(checkDatasetName('id', ok), ok);
  refused(() => checkDatasetName('id', 'tank/'), 'id', /end with a slash/);
  refused(() => checkDatasetName('id', '/tank'), 'id', /begin with a letter|begin with a slash/);
  refused(() => checkDatasetName('id', 'tank//a'), 'id', /empty component/);
  refused(() => checkDatasetName('id', 'tank/./a'), 'id', /cannot be '\.'/);
  refused(() => checkDatasetName('id', 'tank/..'), 'id', /cannot be '\.\.'/);
  refused(() => checkDatasetName('id', 'tank/a@s'), 'id', /cannot contain '@'/);
  refused(() => checkDatasetName('id', 'tank/a#b'), 'id', /cannot contain '#'/);
  refused(() => checkDatasetName('id', 'tank/a\tb'), 'id', /control character U\+0009/);
  refused(() => checkDatasetName('id', `tank/${'a'.repeat(260)}`), 'id', /too long/);
  refused(() => checkDatasetName('id', `tank${'/a'.repeat(51)}`), 'id', /nested too deeply/);
  assert.is(checkSnapshotName('snap', 'tank/a@auto-2026-03-01_10-00'), 'tank/a@auto-2026-03-01_10-00');
  assert.is(checkSnapshotName('snap', 'tank@with space'), 'tank@with space');
  refused(() => checkSnapshotName('snap', 'tank/a'), 'snap', /needs '@'/);
  refused(() => checkSnapshotName('snap', 'tank@a@b'), 'snap', /one '@'/);
  refused(() => checkSnapshotName('snap', 'tank@'), 'snap', /non-empty/);
  refused(() => checkSnapshotName('snap', 'tank@a/b'), 'snap', /invalid character '\/'/);
  refused(() => checkSnapshotName('snap', '@a'), 'snap', /non-empty|begin with a letter/);
  assert.is(checkDatasetOrSnapshotName('x', 'tank@s'), 'tank@s');
  refused(() => checkDatasetOrSnapshotName('x', 'tank@s;x'), 'x', /invalid character ';'/);
});

test('hold tags, property names and values, devices, paths, guids', () => {
  assert.is(checkHoldTag('tag', 'truenas'), 'truenas');
  assert.is(checkHoldTag('tag', 'keep me: 7 days'), 'keep me: 7 days');
  refused(() => checkHoldTag('tag', '-r'), 'tag', /begin with '-'/);
  refused(() => checkHoldTag('tag', 'a\nb'), 'tag', /control characters/);
  refused(() => checkHoldTag('tag', ''), 'tag', /non-empty/);
  for (const ok of ['compression', 'special_small_blocks', 'org.freenas:description', 'com.example:a-b.c_d']) assert.is(checkPropertyName('p', ok), ok);
  refused(() => checkPropertyName('p', 'Compression'), 'p', /invalid property name/);
  refused(() => checkPropertyName('p', 'org.example:Upper'), 'p', /lowercase/);
  refused(() => checkPropertyName('p', '-o:x'), 'p', /begin with '-'/);
  refused(() => checkPropertyName('p', 'a=b'), 'p', /invalid property name/);
  assert.is(checkPropertyValue('v', 'any text: "quoted", $(not run) ;'), 'any text: "quoted", $(not run) ;');
  refused(() => checkPropertyValue('v', 'a\nb'), 'v', /control characters/);
  refused(() => checkPropertyValue('v', 'x'.repeat(8192)), 'v', /longer than 8191/);
  refused(() => checkPropertyValue('v', 5), 'v', /must be a string/);
  assert.is(checkDevicePath('d', '/dev/disk/by-id/ata-X Y'), '/dev/disk/by-id/ata-X Y');
  refused(() => checkDevicePath('d', 'sda'), 'd', /absolute path/);
  refused(() => checkDevicePath('d', 'mirror'), 'd', /absolute path/);
  refused(() => checkDevicePath('d', '/dev/sda\0'), 'd', /control characters/);
  refused(() => checkAbsolutePath('altroot', 'mnt'), 'altroot', /absolute path/);
  assert.is(checkGuid('guid', '18446744073709551615'), '18446744073709551615');
  refused(() => checkGuid('guid', '18446744073709551616'), 'guid', /64 bits/);
  refused(() => checkGuid('guid', '0123'), 'guid', /decimal/);
  refused(() => checkGuid('guid', '-5'), 'guid', /decimal/);
});

test.run();
