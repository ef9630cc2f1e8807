// A mirror with one side silently corrupted: the labels (first and last 512 KiB of each
// device) are left alone, everything between is overwritten while the pool is exported. A
// scrub then finds checksum errors on that side only, repairs them from the other side, and
// the data reads back intact. Seen through the parsed status and the TrueNAS pool entry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZfsDriver } from '../methods/zfs/driver.js';
import { mapPoolEntry } from '../methods/zfs/map-pool.js';
import type { PoolStatus } from '../methods/zfs/types.js';
import { corruptBetweenLabels } from './helpers/files.js';
import { ZfsLab, zfsTest } from './helpers/zfs.js';
import { until } from './helpers/until.js';

const ztest = zfsTest(test);
let lab: ZfsLab;

test.after(() => lab?.cleanupSync());

const MiB = 1024 * 1024;

ztest('corrupt one side of a mirror, scrub: checksum errors on that disk, data intact', async () => {
  lab = new ZfsLab();
  const z = await ZfsDriver.open();
  const name = lab.pool('m');
  const size = 160 * MiB;
  const [left, right] = await Promise.all([lab.sparseFile('left', size), lab.sparseFile('right', size)]);
  const mnt = join(lab.dir, 'mnt');
  await z.pools.create({ name, data: [{ type: 'mirror', devices: [left, right] }], mountpoint: mnt });
  const data = randomBytes(48 * MiB);
  await writeFile(join(mnt, 'data.bin'), data);
  const sum = createHash('sha256').update(data).digest('hex');
  const guid = (await z.pools.list([name]))[0]!.guid;

  await z.pools.export(name);
  await corruptBetweenLabels(right, size);
  await z.pools.import({ pool: guid, dirs: [lab.dir] });

  await z.pools.scrub(name);
  const s = await until(async () => {
    const [now] = (await z.pools.status(name)) as [PoolStatus];
    return now.scan?.state === 'FINISHED' ? now : null;
  }, 'the scrub to finish', 180_000, 250);
  const [l, r] = s.topology.data[0]!.children;
  assert.is(l!.path, left);
  assert.is(r!.path, right);
  assert.is(l!.errors!.checksum, 0, 'the untouched side has no errors');
  assert.ok(r!.errors!.checksum > 0, `checksum errors on the corrupted side: ${JSON.stringify(r)}`);
  assert.match(r!.note ?? '', /repaired/);
  assert.is(s.dataErrors, 0, 'nothing was lost');
  assert.is(s.scan!.errors, 0);
  assert.match(s.status ?? '', /unrecoverable error/);

  const pe = mapPoolEntry({ id: 7, path: mnt, list: (await z.pools.list([name]))[0]!, status: s });
  const disks = pe.topology!.data[0]!.children;
  assert.equal(disks.map((d) => d.stats.checksum_errors > 0), [false, true]);
  assert.is(pe.status_code, 'FAILING_DEV');
  assert.is(pe.warning, true);
  assert.is(pe.healthy, true);
  assert.equal([pe.scan!.state, pe.scan!.errors], ['FINISHED', 0]);

  // Read back from disk, not from a cache: export and import first.
  await z.pools.export(name);
  await z.pools.import({ pool: guid, dirs: [lab.dir] });
  assert.is(createHash('sha256').update(await readFile(join(mnt, 'data.bin'))).digest('hex'), sum);
  await z.pools.destroy(name);
  assert.equal(lab.livePools(), []);
});

test.run();
