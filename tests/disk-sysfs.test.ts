// Block devices from sysfs: a fake tree built like the kernel's (symlinked /sys/block entries,
// device/ attributes, partitions, loop devices bound and unbound), the real /sys compared with
// lsblk, which disks the host itself uses (mounted, swap, stacked on), and which pool uses which
// disk, on a fake topology and on a real pool on a loop device.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { diskOfPath, poolsByDisk, topologyPaths } from '../methods/disk/pool-disks.js';
import { hostUse } from '../methods/disk/host-use.js';
import { validateDisks } from '../methods/storage/pool-validate.js';
import type { PoolCreateT } from '../schemas/pool.js';
import { lunidFromWwid, makedev, readBlockDevices, serialFromVpd80, WHOLE_DISK } from '../methods/disk/sysfs.js';
import { ZfsDriver } from '../methods/zfs/driver.js';
import { parseConfigTable } from '../methods/zfs/parse-config.js';
import { ZfsLab, zfsTest } from './helpers/zfs.js';

let root: string;
const cleanups: Array<() => unknown> = [];
test.after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function put(path: string, content: string | Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

/** One device the way the kernel lays it out: /sys/block/<name> -> ../devices/<parent>/block/<name>. */
async function device(name: string, parent: string | null, files: Record<string, string | Buffer>, partitions: string[] = []): Promise<void> {
  const real = join(root, 'devices', parent ?? 'virtual', 'block', name);
  for (const [f, c] of Object.entries(files)) await put(join(real, f), c);
  for (const p of partitions) await put(join(real, p, 'partition'), '1\n');
  if (parent !== null) {
    await mkdir(join(root, 'bus', parent.split('/')[0]!), { recursive: true });
    await mkdir(join(real, 'device'), { recursive: true });
    await symlink(join(root, 'bus', parent.split('/')[0]!), join(real, 'device', 'subsystem'));
  }
  await mkdir(join(root, 'block'), { recursive: true });
  await symlink(real, join(root, 'block', name));
}

test('a fake sysfs tree: which devices are disks, and everything read about them', async () => {
  root = await mkdtemp(join(tmpdir(), 'midship-sysfs-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const vpd = Buffer.concat([Buffer.from([0x00, 0x80, 0x00, 0x0c]), Buffer.from('  ZA1B2C3D"\\\x01')]);
  await device('sda', 'scsi/0:0:0:0', {
    size: '7814037168\n', dev: '8:0\n', ro: '0\n', 'queue/rotational': '1\n',
    'device/model': 'ST4000VN008-2DR1\n', 'device/vendor': 'ATA     \n', 'device/wwid': 'naa.5000c500a1b2c3d4e5f60718\n', 'device/vpd_pg80': vpd,
  }, ['sda1', 'sda2']);
  await device('nvme0n1', 'nvme/nvme0', {
    size: '1953525168\n', dev: '259:0\n', ro: '0\n', 'queue/rotational': '0\n', wwid: 'eui.0025388b91b4c3d2\n',
    'device/serial': 'S4EWNX0R123456      \n', 'device/model': 'Samsung SSD 970 EVO Plus 1TB\n',
  }, ['nvme0n1p1']);
  await device('vda', 'virtio/virtio1', { size: '536870912\n', dev: '254:0\n', 'queue/rotational': '1\n', serial: 'overlayblk\n', 'device/vendor': '0x1af4\n' });
  await device('sdc', 'scsi/1:0:0:0', { size: '2048\n', dev: '8:32\n', 'queue/rotational': '0\n' });
  await device('sdb', 'scsi/2:0:0:0', { size: '0\n', dev: '8:16\n', 'queue/rotational': '1\n' }); // no medium
  await device('loop0', null, { size: '262144\n', dev: '7:0\n', 'queue/rotational': '1\n', 'loop/backing_file': '/srv/images/a b.img\n' });
  await device('loop1', null, { size: '0\n', dev: '7:1\n', 'queue/rotational': '1\n' });
  await device('sr0', 'scsi/3:0:0:0', { size: '2097152\n', dev: '11:0\n' });
  await device('zram0', null, { size: '8388608\n', dev: '253:0\n' });
  await device('dm-0', null, { size: '8388608\n', dev: '252:0\n' });

  const disks = await readBlockDevices(root);
  assert.equal(disks.map((d) => d.name), ['nvme0n1', 'sda', 'sdc', 'vda']);
  const sda = disks.find((d) => d.name === 'sda')!;
  assert.equal(sda, {
    identifier: '{serial_lunid}ZA1B2C3D_5000c500a1b2c3d4', name: 'sda', devname: 'sda', subsystem: 'scsi', number: makedev(8, 0),
    serial: 'ZA1B2C3D', lunid: '5000c500a1b2c3d4', size: 7814037168 * 512, model: 'ST4000VN008-2DR1', vendor: 'ATA', description: 'ST4000VN008-2DR1',
    rotationrate: null, type: 'HDD', bus: 'UNKNOWN', partitions: ['sda1', 'sda2'], backingFile: null, readOnly: false,
  });
  const nvme = disks.find((d) => d.name === 'nvme0n1')!;
  assert.equal([nvme.identifier, nvme.type, nvme.bus, nvme.subsystem, nvme.lunid, nvme.partitions, nvme.number], [
    '{serial_lunid}S4EWNX0R123456_0025388b91b4c3d2', 'SSD', 'NVME', 'nvme', '0025388b91b4c3d2', ['nvme0n1p1'], makedev(259, 0),
  ]);
  const vda = disks.find((d) => d.name === 'vda')!;
  assert.equal([vda.identifier, vda.subsystem, vda.model, vda.description], ['{serial}overlayblk', 'virtio', null, '']);
  assert.is(disks.find((d) => d.name === 'sdc')!.identifier, '{devicename}sdc');

  const withLoops = await readBlockDevices(root, { includeLoop: true });
  assert.equal(withLoops.map((d) => d.name), ['loop0', 'nvme0n1', 'sda', 'sdc', 'vda']);
  const loop = withLoops[0]!;
  assert.equal([loop.identifier, loop.backingFile, loop.size, loop.subsystem, loop.number], ['{devicename}loop0', '/srv/images/a b.img', 262144 * 512, '', makedev(7, 0)]);
  assert.equal(await readBlockDevices(join(root, 'nowhere')), []);
});

test('disks the host uses: a mounted partition, swap, a device stacked on a partition; free disks are free', async () => {
  const firstTree = root; // the tests after this one read the first tree again
  root = await mkdtemp(join(tmpdir(), 'midship-sysfs-'));
  const mine = root;
  cleanups.push(() => rm(mine, { recursive: true, force: true }));
  const proc = join(root, 'proc');
  await device('sda', 'scsi/0:0:0:0', { size: '2048\n', dev: '8:0\n' }, ['sda1', 'sda2']);
  await put(join(root, 'devices/scsi/0:0:0:0/block/sda/sda2/dev'), '8:2\n');
  await device('sdb', 'scsi/1:0:0:0', { size: '2048\n', dev: '8:16\n' }, ['sdb1']);
  await put(join(root, 'devices/scsi/1:0:0:0/block/sdb/sdb1/dev'), '8:17\n');
  await device('sdc', 'scsi/2:0:0:0', { size: '2048\n', dev: '8:32\n' }, ['sdc1']);
  await put(join(root, 'devices/scsi/2:0:0:0/block/sdc/sdc1/dev'), '8:33\n');
  await mkdir(join(root, 'devices/scsi/2:0:0:0/block/sdc/sdc1/holders/dm-0'), { recursive: true });
  await device('sdd', 'scsi/3:0:0:0', { size: '2048\n', dev: '8:48\n' });
  await device('vda', 'virtio/virtio1', { size: '2048\n', dev: '254:0\n' });
  await put(join(proc, 'self/mountinfo'), [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '30 27 8:2 / /boot rw,relatime - ext4 /dev/sda2 rw',
    '31 27 0:25 / /proc rw - proc proc rw',
    '40 27 0:52 / /mnt/tank rw - fuse.zfs tank rw',
  ].join('\n'));
  await put(join(proc, 'swaps'), 'Filename\tType\tSize\tUsed\tPriority\n/dev/sdb1  partition\t1048572\t0\t-2\n/swapfile  file\t1048572\t0\t-3\n');
  const disks = await readBlockDevices(root);
  assert.equal(Object.fromEntries(await hostUse(disks, { sysRoot: root, procRoot: proc })), {
    sda: 'sda2 is mounted', sdb: 'sdb1 is swap', sdc: 'sdc1 holds dm-0', vda: 'vda is mounted',
  });
  // Without readable /proc files nothing is claimed from them (sysfs holders still count).
  assert.equal([...(await hostUse(disks, { sysRoot: root, procRoot: join(root, 'nowhere') })).keys()], ['sdc']);
  // pool.create refuses them as it refuses a pool's disks.
  const usage = { disks, imported: new Map(), exported: new Map(), guids: new Map(), host: await hostUse(disks, { sysRoot: root, procRoot: proc }) };
  const topology = { data: [{ type: 'STRIPE', disks: ['vda', 'sdb', 'sdd'] }], log: [], cache: [], spares: [], special: [], dedup: [] };
  const errors = validateDisks({ name: 'tank', topology, allow_duplicate_serials: false } as unknown as PoolCreateT, usage);
  assert.equal(errors.errors.map(([attribute, message]) => [attribute, message]), [['pool_create.topology', 'The following disks are already in use: vda,sdb.']]);
  root = firstTree;
});

test('serials, WWNs and device numbers as TrueNAS forms them', () => {
  assert.is(serialFromVpd80(Buffer.from([0, 0x80, 0, 4, 0x41, 0x42, 0x43, 0x44])), 'ABCD');
  assert.is(serialFromVpd80(Buffer.from([0, 0x80, 0, 200, 0x41])), 'A', 'a length beyond the buffer is cut');
  assert.is(serialFromVpd80(Buffer.from([0, 0x80])), null);
  assert.equal(['naa.5000c500a1b2c3d4e5f6', '0x5000C500A1B2C3D4', 'eui.0025388b91b4c3d2aabbccddeeff0011', 't10.ATA     X', 'naa.', null].map(lunidFromWwid), [
    '5000c500a1b2c3d4', '5000c500a1b2c3d4', '0025388b91b4c3d2aabbccddeeff0011', null, null, null,
  ]);
  // glibc: ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12) | ((major & ~0xfff) << 32)
  assert.equal([makedev(8, 0), makedev(8, 17), makedev(259, 0), makedev(7, 300), makedev(4096, 0)], [2048, 2065, 66304, 1792 + 44 + 1048576, 2 ** 44]);
});

test('the real /sys agrees with lsblk on names, sizes and rotation', async () => {
  const disks = await readBlockDevices('/sys');
  assert.ok(disks.every((d) => WHOLE_DISK.test(d.name) && d.size > 0));
  const r = spawnSync('lsblk', ['-b', '-d', '-n', '-o', 'NAME,SIZE,ROTA'], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log('lsblk not available: only the shape of the real /sys was checked');
    return;
  }
  const fromLsblk = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((c) => c.length === 3 && WHOLE_DISK.test(c[0]!) && Number(c[1]) > 0);
  assert.equal(disks.map((d) => [d.name, d.size, d.type]), fromLsblk.map(([n, s, rota]) => [n, Number(s), rota === '1' ? 'HDD' : 'SSD']));
});

test('pool topology paths to disks: partitions, links resolved, files belong to no disk', async () => {
  const disks = await readBlockDevices(root);
  const t = parseConfigTable([
    '\tNAME                          STATE     READ WRITE CKSUM',
    '\ttank                          ONLINE       0     0     0',
    '\t  mirror-0                    ONLINE       0     0     0',
    '\t    /dev/sda2                 ONLINE       0     0     0',
    '\t    /dev/disk/by-id/nvme-X    ONLINE       0     0     0',
    '\t  /srv/file.img               ONLINE       0     0     0',
    '\tcache',
    '\t  vda                         ONLINE       0     0     0',
  ], true).topology;
  assert.equal(topologyPaths(t), ['/dev/sda2', '/dev/disk/by-id/nvme-X', '/srv/file.img', '/dev/vda']);
  assert.is(diskOfPath('/dev/nvme0n1p1', disks), 'nvme0n1');
  assert.is(diskOfPath('/srv/file.img', disks), null);
  const map = await poolsByDisk([{ name: 'tank', topology: t }], disks, async (p) => (p === '/dev/disk/by-id/nvme-X' ? '/dev/nvme0n1p1' : p));
  assert.equal([...map].sort(), [['nvme0n1', 'tank'], ['sda', 'tank'], ['vda', 'tank']]);
});

const ztest = zfsTest(test);

ztest('a real pool on a loop device: the loop device is a disk (when asked) and reports the pool', async () => {
  const lab = new ZfsLab();
  cleanups.push(() => lab.cleanupSync());
  const z = await ZfsDriver.open();
  const l = await lab.loopDevice('disk', 96 * 1024 * 1024);
  const name = lab.pool('disk');
  await z.pools.create({ name, data: [{ type: 'stripe', devices: [l.device] }], mountpoint: 'none' });
  const disks = await readBlockDevices('/sys', { includeLoop: true });
  const me = disks.find((d) => `/dev/${d.name}` === l.device);
  assert.ok(me, `${l.device} among ${disks.map((d) => d.name).join(', ')}`);
  assert.equal([me!.backingFile, me!.size], [l.file, 96 * 1024 * 1024]);
  assert.not.ok((await readBlockDevices('/sys')).some((d) => d.name === me!.name), 'loop devices only when asked');
  const [s] = await z.pools.status(name);
  const map = await poolsByDisk([{ name, topology: s!.topology }], disks);
  assert.is(map.get(me!.name), name);
  await z.pools.destroy(name);
});

test.run();
