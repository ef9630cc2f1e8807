// The host readers over fake /proc and /sys trees written here (exact values, missing files give
// null rather than a crash) and over the real host (plausible values, cross-checked with os.*).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, hostname, networkInterfaces } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { ArcReader, arcRates, hasFuseKstat, parseArcstats, type ArcCounters } from '../methods/host/arc.js';
import { CpuTemperatureReader } from '../methods/host/cpu-temperature.js';
import { cpuUsage, parseProcStat } from '../methods/host/cpu-usage.js';
import { parseCpuList } from '../methods/host/cpulist.js';
import { aggregateDisks, diskRates, listDisks, parseDiskstats } from '../methods/host/disk-stats.js';
import { HostFiles } from '../methods/host/files.js';
import { readMemory } from '../methods/host/memory.js';
import { ipv4Broadcast, ipv6Text, parseIfInet6, parseIpJson, type Ipv4Source } from '../methods/host/net-addresses.js';
import { isInternalInterface } from '../methods/host/net-internal.js';
import { readInterfaces, toInterfaceEntry } from '../methods/host/net-state.js';
import { readSystemFacts } from '../methods/host/system-facts.js';
import { timedeltaText } from '../methods/host/timedelta.js';
import { readCpuTopology } from '../methods/host/topology.js';
import { InterfaceEntry } from '../schemas/host/interface.js';
import { makeTree, procStat, removeTree, writeTree, type TreeSpec } from './host-tree.js';

const trees: string[] = [];
async function tree(spec: TreeSpec): Promise<string> {
  const root = await makeTree(spec);
  trees.push(root);
  return root;
}
test.after(async () => {
  for (const t of trees) await removeTree(t);
});

const MEMINFO = 'MemTotal:        8000000 kB\nMemFree:         1000000 kB\nMemAvailable:    5000000 kB\nBuffers:          200000 kB\nCached:          3000000 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n';

/** 4 logical CPUs on 2 physical cores (SMT), one package. */
function topology(): TreeSpec {
  const spec: TreeSpec = { '/sys/devices/system/cpu/online': '0-3\n' };
  const core = [0, 1, 0, 1];
  for (let cpu = 0; cpu < 4; cpu++) {
    const dir = `/sys/devices/system/cpu/cpu${cpu}/topology`;
    spec[`${dir}/core_cpus_list`] = core[cpu] === 0 ? '0,2\n' : '1,3\n';
    spec[`${dir}/physical_package_id`] = '0\n';
    spec[`${dir}/die_id`] = '0\n';
    spec[`${dir}/core_id`] = `${core[cpu]}\n`;
  }
  return spec;
}

// ---------------------------------------------------------------- small parsers

test('cpulist, timedelta text and IPv6 text follow the kernel and Python formats', () => {
  assert.equal(parseCpuList('0-3,8,10-11\n'), [0, 1, 2, 3, 8, 10, 11]);
  assert.equal(parseCpuList(''), []);
  assert.is(parseCpuList('a-b'), null);
  assert.is(parseCpuList('5-1'), null);
  assert.is(timedeltaText(0), '0:00:00');
  assert.is(timedeltaText(306), '0:05:06');
  assert.is(timedeltaText(86401), '1 day, 0:00:01');
  assert.is(timedeltaText(3 * 86400 + 4 * 3600 + 5 * 60 + 6.789), '3 days, 4:05:06.789000');
  assert.is(ipv6Text('fe8000000000000000fc00fffe000001'), 'fe80::fc:ff:fe00:1');
  assert.is(ipv6Text('00000000000000000000000000000001'), '::1');
  assert.is(ipv6Text('20010db8000000010000000000000001'), '2001:db8:0:1::1');
  assert.is(ipv6Text('20010db8000000000001000000000001'), '2001:db8::1:0:0:1');
  assert.is(ipv6Text('00000000000000000000ffffc0000280'), '::ffff:192.0.2.128');
  assert.is(ipv6Text('20010db8000100020003000400050006'), '2001:db8:1:2:3:4:5:6');
  assert.is(ipv4Broadcast('192.0.2.7', 24), '192.0.2.255');
  assert.is(ipv4Broadcast('10.1.2.3', 8), '10.255.255.255');
  assert.is(ipv4Broadcast('10.0.0.1', 31), null);
  assert.ok(isInternalInterface('veth12ab') && isInternalInterface('lo') && !isInternalInterface('eth0') && !isInternalInterface('br0'));
});

// ---------------------------------------------------------------- system facts

test('system facts from a complete fake tree', async () => {
  const root = await tree({
    ...topology(),
    '/proc/sys/kernel/hostname': 'nas1\n',
    '/proc/meminfo': MEMINFO,
    '/proc/cpuinfo': 'processor\t: 0\nmodel name\t: Test CPU 9000\n\nprocessor\t: 1\nmodel name\t: Test CPU 9000\n',
    '/proc/loadavg': '0.50 0.25 0.10 1/100 1234\n',
    '/proc/uptime': '90061.50 1000.00\n',
    '/etc/timezone': 'Europe/Paris\n',
    '/sys/class/dmi/id/product_serial': '\n',
    '/sys/class/dmi/id/product_name': 'Box 1\n',
    '/sys/class/dmi/id/product_version': '1.0\n',
    '/sys/class/dmi/id/sys_vendor': 'Acme\n',
    '/sys/devices/system/edac/mc/mc0': { dir: true },
    '/proc/sys/kernel/random/boot_id': 'b0b0b0b0-0000-4000-8000-000000000001\n',
    '/etc/machine-id': '0123456789abcdef0123456789abcdef\n',
  });
  const now = 1_700_000_000_000;
  const f = await readSystemFacts(root, { now: () => now });
  assert.equal(f, {
    hostname: 'nas1',
    physmem: 8_000_000 * 1024,
    model: 'Test CPU 9000',
    cores: 4,
    physical_cores: 2,
    loadavg: [0.5, 0.25, 0.1],
    uptime_seconds: 90061.5,
    uptime: '1 day, 1:01:01.500000',
    boottime: now - 90_061_500,
    datetime: now,
    timezone: 'Europe/Paris',
    system_serial: null,
    system_product: 'Box 1',
    system_product_version: '1.0',
    system_manufacturer: 'Acme',
    ecc_memory: true,
    boot_id: 'b0b0b0b0-0000-4000-8000-000000000001',
    host_id: createHash('sha256').update('0123456789abcdef0123456789abcdef').digest('hex'),
  });
});

test('system facts from an empty tree: nulls and defaults, no exception', async () => {
  const root = await tree({});
  const f = await readSystemFacts(root, { now: () => 5000, fallbackHostId: 'generated-id' });
  assert.is(f.hostname, hostname());
  for (const k of ['physmem', 'model', 'cores', 'physical_cores', 'loadavg', 'uptime_seconds', 'uptime', 'boottime', 'system_serial', 'system_product', 'system_manufacturer', 'boot_id'] as const) {
    assert.is(f[k], null, k);
  }
  assert.is(f.timezone, 'UTC');
  assert.is(f.ecc_memory, false);
  assert.is(f.host_id, createHash('sha256').update('generated-id').digest('hex'));
  assert.is((await readSystemFacts(root)).host_id, null);
});

test('timezone from the /etc/localtime link; /etc/hostid wins over machine-id; cpuinfo-only topology', async () => {
  const root = await tree({
    '/etc/localtime': { link: '/usr/share/zoneinfo/America/New_York' },
    '/etc/hostid': '\x01\x02\x03\x04',
    '/etc/machine-id': 'ffff\n',
    // No sysfs topology: 2 packages x 2 cores, no SMT, from the cpuinfo ids.
    '/proc/cpuinfo': [0, 1, 2, 3].map((p) => `processor\t: ${p}\nphysical id\t: ${p >> 1}\ncore id\t\t: ${p & 1}\n`).join('\n'),
  });
  const f = await readSystemFacts(root);
  assert.is(f.timezone, 'America/New_York');
  assert.is(f.host_id, createHash('sha256').update(Buffer.from([1, 2, 3, 4])).digest('hex'));
  assert.is(f.cores, 4);
  assert.is(f.physical_cores, 4);
  const smt = await tree({ '/proc/cpuinfo': [0, 1].map((p) => `processor\t: ${p}\nphysical id\t: 0\ncore id\t\t: 0\n`).join('\n') });
  assert.is((await readSystemFacts(smt)).physical_cores, 1);
});

test('system facts of the real host are plausible', async () => {
  const f = await readSystemFacts();
  assert.is(f.cores, cpus().length);
  const memTotal = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
  assert.is(f.physmem, memTotal);
  assert.is(f.hostname, hostname());
  assert.ok(f.physical_cores !== null && f.physical_cores >= 1 && f.physical_cores <= f.cores!);
  assert.ok(f.loadavg !== null && f.loadavg.every((n) => n >= 0));
  assert.ok(f.uptime_seconds !== null && f.uptime_seconds > 0);
  assert.match(f.uptime!, /^(\d+ days?, )?\d+:\d\d:\d\d(\.\d{6})?$/);
  assert.ok(f.boottime! < f.datetime && f.boottime! > f.datetime - 366 * 86400_000 * 50);
  assert.is(f.boot_id, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
  assert.ok(typeof f.model === 'string' && f.model.length > 0);
  assert.ok(f.timezone.length > 0);
  assert.ok(f.host_id === null || /^[0-9a-f]{64}$/.test(f.host_id));
});

// ---------------------------------------------------------------- cpu

test('cpu usage from two /proc/stat readings excludes idle and iowait; negative steps count as zero', () => {
  const a = parseProcStat(procStat({ cpu: [100, 0, 50, 800, 50, 0, 0, 0], cpu0: [50, 0, 25, 400, 25, 0, 0, 0], cpu1: [50, 0, 25, 400, 25, 0, 0, 0] }));
  const b = parseProcStat(procStat({ cpu: [200, 0, 100, 850, 50, 0, 0, 0], cpu0: [150, 0, 75, 400, 25, 0, 0, 0], cpu1: [50, 0, 25, 450, 20, 0, 0, 0] }));
  const u = cpuUsage(a, b);
  assert.equal([...u.keys()], ['cpu', 'cpu0', 'cpu1']);
  // cpu: +100 user +50 system +50 idle = 200 ticks, 150 busy.
  assert.is(u.get('cpu')!.usage, 75);
  assert.is(u.get('cpu')!.user, 50);
  assert.is(u.get('cpu')!.idle, 25);
  assert.is(u.get('cpu0')!.usage, 100);
  // cpu1's iowait went back by 5: counted as 0, so 50 idle ticks and nothing else.
  assert.is(u.get('cpu1')!.usage, 0);
  assert.is(u.get('cpu1')!.iowait, 0);
  // The same reading twice: no ticks, no usage.
  assert.is(cpuUsage(b, b).get('cpu')!.usage, 0);
});

test('cpu temperatures: coretemp per core, k10temp package-wide, thermal zone fallback, none -> null', async () => {
  const coretemp = await tree({
    ...topology(),
    '/sys/class/hwmon/hwmon0/name': 'acpitz\n',
    '/sys/class/hwmon/hwmon0/temp1_input': '99000\n',
    '/sys/class/hwmon/hwmon1/name': 'coretemp\n',
    '/sys/class/hwmon/hwmon1/temp1_label': 'Package id 0\n',
    '/sys/class/hwmon/hwmon1/temp1_input': '50000\n',
    '/sys/class/hwmon/hwmon1/temp2_label': 'Core 0\n',
    '/sys/class/hwmon/hwmon1/temp2_input': '40000\n',
    '/sys/class/hwmon/hwmon1/temp3_label': 'Core 1\n',
    '/sys/class/hwmon/hwmon1/temp3_input': '45500\n',
  });
  assert.equal(await new CpuTemperatureReader(coretemp).read(), { cpu0: 40, cpu1: 45.5, cpu2: 40, cpu3: 45.5, cpu: 42.75 });
  const k10 = await tree({
    ...topology(),
    '/sys/class/hwmon/hwmon2/name': 'k10temp\n',
    '/sys/class/hwmon/hwmon2/temp1_label': 'Tctl\n',
    '/sys/class/hwmon/hwmon2/temp1_input': '61250\n',
  });
  assert.equal(await new CpuTemperatureReader(k10).read(), { cpu0: 61.25, cpu1: 61.25, cpu2: 61.25, cpu3: 61.25, cpu: 61.25 });
  const zone = await tree({
    ...topology(),
    '/sys/class/thermal/thermal_zone0/type': 'acpitz\n',
    '/sys/class/thermal/thermal_zone0/temp': '20000\n',
    '/sys/class/thermal/thermal_zone1/type': 'x86_pkg_temp\n',
    '/sys/class/thermal/thermal_zone1/temp': '55000\n',
  });
  assert.equal(await new CpuTemperatureReader(zone).read(), { cpu0: 55, cpu1: 55, cpu2: 55, cpu3: 55, cpu: 55 });
  assert.is(await new CpuTemperatureReader(await tree(topology())).read(), null);
  assert.is(await new CpuTemperatureReader(await tree({})).read(), null);
  // A sensor that stops answering: null, then found again once it is back.
  const reader = new CpuTemperatureReader(coretemp);
  await writeTree(coretemp, { '/sys/class/hwmon/hwmon1/temp2_input': 'garbage', '/sys/class/hwmon/hwmon1/temp3_input': 'x', '/sys/class/hwmon/hwmon1/temp1_input': '' });
  assert.is(await reader.read(), null);
  await writeTree(coretemp, { '/sys/class/hwmon/hwmon1/temp2_input': '30000\n', '/sys/class/hwmon/hwmon1/temp3_input': '30000\n' });
  assert.is((await reader.read())?.cpu, 30);
});

test('cpu topology of the real host matches os.cpus()', async () => {
  const t = await readCpuTopology();
  assert.ok(t);
  assert.is(t.logical.length, cpus().length);
  assert.is(t.physical.flatMap((c) => c.cpus).length, t.logical.length);
});

// ---------------------------------------------------------------- memory and ARC

test('memory from meminfo in bytes; MemAvailable missing falls back to free + buffers + cache', async () => {
  assert.equal(await readMemory(await tree({ '/proc/meminfo': MEMINFO })), {
    total: 8_000_000 * 1024, available: 5_000_000 * 1024, free: 1_000_000 * 1024, cached: 3_000_000 * 1024, buffers: 200_000 * 1024, swap_total: 0, swap_free: 0,
  });
  const old = await readMemory(await tree({ '/proc/meminfo': 'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 20 kB\n' }));
  assert.is(old!.available, 130 * 1024);
  assert.is(await readMemory(await tree({ '/proc/meminfo': 'garbage\n' })), null);
  assert.is(await readMemory(await tree({})), null);
});

test('ARC counters from OpenZFS procfs and from a zfs-fuse directory; none -> null', async () => {
  const openzfs = await tree({
    '/proc/spl/kstat/zfs/arcstats': '13 1 0x01 123 33456 1 2\nname                            type data\nhits                            4    100\nsize                            4    5000\nmemory_available_bytes          3    -42\ndemand_data_hits                4    10\n',
  });
  const a = await new ArcReader(openzfs).read();
  assert.is(a!.size, 5000);
  assert.is(a!.memory_available_bytes, -42);
  assert.is(a!.demand_data_hits, 10);
  assert.is(a!.demand_data_iohits, 0);
  const fuseFiles = { '/zfs-kstat/zfs/arcstats/size': '777\n', '/zfs-kstat/zfs/arcstats/demand_data_hits': '5\n', '/zfs-kstat/zfs/arcstats/unrelated': '1\n' };
  const fuse = await tree({ ...fuseFiles, '/proc/self/mounts': 'proc /proc proc rw 0 0\nkstat /zfs-kstat fuse rw,nosuid 0 0\n' });
  const files = new HostFiles(fuse);
  const reader = new ArcReader(files);
  const first = await reader.read();
  assert.is(first!.size, 777);
  assert.is(first!.demand_data_hits, 5);
  assert.is(first!.demand_data_iohits, 0, 'a counter zfs-fuse does not have');
  await writeTree(fuse, { '/zfs-kstat/zfs/arcstats/size': '888\n' });
  assert.is((await reader.read())!.size, 888, 'every read reads the files again');
  reader.close();
  assert.is(await reader.read(), null, 'closed');
  await files.close();
  // The files without the mount: nothing looks at them (a stalled mount would block the look).
  assert.is(await new ArcReader(await tree(fuseFiles)).read(), null);
  // Mounted but unreadable (the daemon is not root, the directory is gone): null, no error.
  const gone = new ArcReader(await tree({ '/proc/self/mounts': 'kstat /zfs-kstat fuse rw 0 0\n' }));
  assert.is(await gone.read(), null);
  assert.is(await gone.read(), null);
  gone.close();
  assert.ok(hasFuseKstat('kstat /zfs-kstat fuse rw 0 0'));
  assert.not.ok(hasFuseKstat('tank /zfs-kstat zfs rw 0 0\nkstat /mnt/zfs-kstat fuse rw 0 0'));
  let now = 0;
  const none = await tree({});
  const noArc = new ArcReader(none, () => now);
  assert.is(await noArc.read(), null);
  // ZFS loaded after start: looked for again after a minute, not on every read.
  await writeTree(none, { '/proc/spl/kstat/zfs/arcstats': 'name type data\nsize 4 9\n' });
  assert.is(await noArc.read(), null);
  now = 60_000;
  assert.is((await noArc.read())!.size, 9);
  assert.is(parseArcstats('nothing here'), null);
});

test('ARC rates and hit percentages as arcstat computes them', () => {
  const zero = parseArcstats('size 4 0')!;
  const at = (v: Partial<ArcCounters>): ArcCounters => ({ ...zero, ...v });
  const prev = at({ demand_data_hits: 100, demand_data_misses: 0, demand_metadata_hits: 0, l2_size: 1, l2_hits: 0, l2_misses: 0, l2_read_bytes: 0 });
  const cur = at({ demand_data_hits: 400, demand_data_misses: 100, demand_metadata_hits: 50, l2_size: 1, l2_hits: 30, l2_misses: 10, l2_read_bytes: 2000 });
  const z = arcRates(prev, cur, 2);
  assert.is(z.demand_data_hits_per_second, 150);
  assert.is(z.demand_data_misses_per_second, 50);
  assert.is(z.demand_data_accesses_per_second, 200);
  assert.is(z.demand_data_hit_percentage, 75);
  assert.is(z.demand_data_miss_percentage, 25);
  assert.is(z.demand_metadata_hit_percentage, 100);
  assert.is(z.demand_accesses_per_second, 225);
  assert.is(z.l2arc_hits_per_second, 15);
  assert.is(z.total_l2arc_accesses_per_second, 20);
  assert.is(z.l2arc_access_hit_percentage, 75);
  assert.is(z.l2arc_miss_percentage, 25);
  assert.is(z.bytes_read_per_second_from_the_l2arc, 1000);
  assert.ok(Object.values(arcRates(null, null, 2)).every((v) => v === 0));
  assert.ok(Object.values(z).every(Number.isInteger));
});

// ---------------------------------------------------------------- disks

test('disk rates: only device-backed whole disks, bytes from 512-byte sectors, busy from io_ticks', async () => {
  const root = await tree({
    '/sys/devices/pci0/sda': { dir: true },
    '/sys/block/sda/device': { link: '../../devices/pci0/sda' },
    '/sys/block/loop0': { dir: true },
    '/sys/block/zram0': { dir: true },
  });
  assert.equal(await listDisks(root), ['sda']);
  const line = (name: string, r: number, rs: number, w: number, ws: number, io: number) => `   8       0 ${name} ${r} 0 ${rs} 0 ${w} 0 ${ws} 0 0 ${io} 0 0 0 0 0 0`;
  const a = parseDiskstats([line('sda', 100, 1000, 50, 2000, 1000), line('sda1', 100, 1000, 50, 2000, 1000), line('loop0', 1, 1, 1, 1, 1)].join('\n'));
  const b = parseDiskstats([line('sda', 300, 5000, 70, 2400, 1500), line('sda1', 300, 5000, 70, 2400, 1500), line('loop0', 9, 9, 9, 9, 9)].join('\n'));
  const rates = diskRates(a, b, ['sda'], 2);
  assert.equal([...rates.keys()], ['sda']);
  assert.equal(rates.get('sda'), { read_ops: 100, write_ops: 10, read_bytes: 1024 * 1000, write_bytes: 100 * 1024, busy: 25 });
  assert.equal(aggregateDisks(rates), { read_ops: 100, read_bytes: 1024000, write_ops: 10, write_bytes: 102400, busy: 25 });
  assert.equal(aggregateDisks(new Map()), { read_ops: 0, read_bytes: 0, write_ops: 0, write_bytes: 0, busy: 0 });
  // Counters that went back (device replaced) are no traffic, not negative traffic.
  assert.is(diskRates(b, a, ['sda'], 2).get('sda')!.read_bytes, 0);
});

// ---------------------------------------------------------------- interfaces

function iface(name: string, o: { flags: string; operstate: string; mtu?: number; address?: string; type?: number; extra?: TreeSpec; carrier?: string }): TreeSpec {
  const dir = `/sys/class/net/${name}`;
  return {
    [`${dir}/uevent`]: `INTERFACE=${name}\nIFINDEX=${name.length}\n`,
    [`${dir}/ifindex`]: `${Object.keys(IFINDEX).indexOf(name) + 1}\n`,
    [`${dir}/type`]: `${o.type ?? 1}\n`,
    [`${dir}/flags`]: `${o.flags}\n`,
    [`${dir}/operstate`]: `${o.operstate}\n`,
    [`${dir}/mtu`]: `${o.mtu ?? 1500}\n`,
    [`${dir}/address`]: `${o.address ?? '00:11:22:33:44:55'}\n`,
    [`${dir}/carrier`]: o.carrier ?? '1\n',
    [`${dir}/queues/rx-0`]: { dir: true },
    [`${dir}/queues/tx-0`]: { dir: true },
    [`${dir}/queues/tx-1`]: { dir: true },
    ...(o.extra ?? {}),
  };
}
const IFINDEX = { lo: 1, eth0: 2, br0: 3, bond0: 4, vlan10: 5, dummy0: 6 };

test('interfaces from a fake sysfs: kinds, types, flags, link state, bond and VLAN details, aliases', async () => {
  const root = await tree({
    ...iface('lo', { flags: '0x9', operstate: 'unknown', type: 772, mtu: 65536, address: '00:00:00:00:00:00' }),
    ...iface('eth0', { flags: '0x1003', operstate: 'up', extra: { '/sys/class/net/eth0/device': { link: '../../../devices/pci0' }, '/sys/class/net/eth0/speed': '1000\n' } }),
    ...iface('br0', { flags: '0x1003', operstate: 'down', carrier: '0\n', extra: { '/sys/class/net/br0/bridge/stp_state': '0\n' } }),
    ...iface('bond0', { flags: '0x1403', operstate: 'up', extra: {
      '/sys/class/net/bond0/bonding/mode': '802.3ad 4\n',
      '/sys/class/net/bond0/bonding/slaves': 'eth1 eth2\n',
      '/sys/class/net/bond0/bonding/xmit_hash_policy': 'layer2+3 2\n',
      '/sys/class/net/bond0/bonding/lacp_rate': 'fast 1\n',
    } }),
    ...iface('vlan10', { flags: '0x1003', operstate: 'lowerlayerdown', extra: { '/proc/net/vlan/vlan10': 'vlan10  VID: 10\t REORDER_HDR: 1  dev->priv_flags: 1021\nDevice: eth0\n' } }),
    '/proc/net/if_inet6': 'fe800000000000000211223344556677 02 40 20 80     eth0\n00000000000000000000000000000001 01 80 10 80       lo\n',
  });
  const ipv4: Ipv4Source = async (links) => {
    assert.equal(links.filter((l) => !l.running).map((l) => l.name).sort(), ['br0', 'vlan10']);
    return new Map([['eth0', [{ type: 'INET' as const, address: '192.0.2.10', netmask: 24, broadcast: '192.0.2.255' }]], ['br0', [{ type: 'INET' as const, address: '10.0.0.1', netmask: 8 }]]]);
  };
  const list = await readInterfaces(root, { ipv4 });
  assert.equal(list.map((s) => [s.name, s.kind, s.type, s.internal]), [
    ['lo', 'loopback', 'UNKNOWN', true], ['eth0', 'physical', 'PHYSICAL', false], ['br0', 'bridge', 'BRIDGE', false],
    ['bond0', 'bond', 'LINK_AGGREGATION', false], ['vlan10', 'vlan', 'VLAN', false],
  ]);
  const by = new Map(list.map((s) => [s.name, s]));
  const eth0 = by.get('eth0')!;
  assert.equal(eth0.state.flags, ['UP', 'BROADCAST', 'RUNNING', 'MULTICAST', 'LOWER_UP']);
  assert.is(eth0.state.link_state, 'LINK_STATE_UP');
  assert.is(eth0.state.cloned, false);
  assert.is(eth0.speed, 1000);
  assert.is(eth0.state.rx_queues, 1);
  assert.is(eth0.state.tx_queues, 2);
  assert.is(eth0.state.fec_mode, null);
  assert.equal(eth0.state.aliases, [
    { type: 'INET', address: '192.0.2.10', netmask: 24, broadcast: '192.0.2.255' },
    { type: 'INET6', address: 'fe80::211:2233:4455:6677', netmask: 64 },
  ]);
  assert.equal(by.get('br0')!.state.flags, ['UP', 'BROADCAST', 'MULTICAST']);
  assert.is(by.get('br0')!.state.link_state, 'LINK_STATE_DOWN');
  assert.is(by.get('br0')!.speed, null);
  assert.is(by.get('lo')!.state.link_state, 'LINK_STATE_UNKNOWN');
  assert.ok(by.get('lo')!.state.flags.includes('RUNNING'));
  const bond = by.get('bond0')!.state;
  assert.equal([bond.protocol, bond.ports, bond.xmit_hash_policy, bond.lacpdu_rate], ['LACP', [{ name: 'eth1', flags: [] }, { name: 'eth2', flags: [] }], 'layer2+3', 'fast']);
  const vlan = by.get('vlan10')!.state;
  assert.equal([vlan.parent, vlan.tag, vlan.pcp, vlan.link_state], ['eth0', 10, null, 'LINK_STATE_LOWERLAYERDOWN']);
  const validate = new Ajv({ strict: false }).compile(InterfaceEntry);
  for (const s of list) assert.ok(validate(toInterfaceEntry(s)), `${s.name}: ${JSON.stringify(validate.errors)}`);
});

test('interfaces: files missing or vanishing give partial facts or nothing, never an exception', async () => {
  const root = await tree({
    '/sys/class/net/half/operstate': 'up\n',
    '/sys/class/net/empty': { dir: true },
    '/proc/net/if_inet6': 'not a line\n',
  });
  const list = await readInterfaces(root);
  assert.equal(list.map((s) => s.name), ['half']);
  assert.equal(list[0]!.state.aliases, []);
  assert.is(list[0]!.state.mtu, 0);
  assert.equal(await readInterfaces(await tree({})), []);
});

test('address parsers: if_inet6 and ip -j output', () => {
  const v6 = parseIfInet6('20010db8000000000000000000000001 03 30 00 80  eth1\ngarbage\n');
  assert.equal(v6.get('eth1'), [{ type: 'INET6', address: '2001:db8::1', netmask: 48 }]);
  const v4 = parseIpJson(JSON.stringify([{ ifname: 'd0', addr_info: [{ family: 'inet', local: '10.9.8.7', prefixlen: 24, broadcast: '10.9.8.255' }, { family: 'inet6', local: '::1', prefixlen: 128 }] }]));
  assert.equal(v4.get('d0'), [{ type: 'INET', address: '10.9.8.7', netmask: 24, broadcast: '10.9.8.255' }]);
  assert.is(parseIpJson('not json').size, 0);
  assert.is(parseIpJson('{"a":1}').size, 0);
});

test('interfaces of the real host match /sys/class/net and os.networkInterfaces()', async () => {
  const list = await readInterfaces();
  const sysNames = readdirSync('/sys/class/net').filter((n) => n !== 'bonding_masters').sort();
  assert.equal(list.map((s) => s.name).sort(), sysNames);
  const validate = new Ajv({ strict: false }).compile(InterfaceEntry);
  for (const s of list) {
    assert.ok(validate(toInterfaceEntry(s)), `${s.name}: ${JSON.stringify(validate.errors)}`);
    assert.is(s.state.mtu, Number(readFileSync(`/sys/class/net/${s.name}/mtu`, 'utf8')));
    assert.is(s.state.link_address, readFileSync(`/sys/class/net/${s.name}/address`, 'utf8').trim());
  }
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    const s = list.find((x) => x.name === name);
    assert.ok(s, name);
    for (const a of addrs ?? []) {
      if (a.family !== 'IPv4') continue;
      assert.ok(s.state.aliases.some((x) => x.type === 'INET' && x.address === a.address && x.netmask === Number(a.cidr!.split('/')[1])), `${name} ${a.address}`);
    }
  }
});

// ---------------------------------------------------------------- the open-file cache

test('HostFiles keeps files open across reads, closes the unused ones on sweep, and survives vanished files', async () => {
  const root = await tree({ '/proc/a': 'one\n', '/proc/b': 'two\n' });
  const files = new HostFiles(root, { maxOpen: 2 });
  assert.equal(await Promise.all([files.read('/proc/a'), files.read('/proc/a'), files.read('/proc/b')]), ['one\n', 'one\n', 'two\n']);
  assert.is(files.openCount, 2);
  await writeTree(root, { '/proc/a': 'three and longer\n' });
  assert.is(await files.read('/proc/a'), 'three and longer\n');
  // Past maxOpen a file is read without being kept.
  await writeTree(root, { '/proc/c': 'c\n' });
  assert.is(await files.read('/proc/c'), 'c\n');
  assert.is(files.openCount, 2);
  files.sweep();
  await files.read('/proc/a');
  files.sweep();
  assert.is(files.openCount, 1, 'b was not read since the last sweep');
  // A file bigger than the first buffer is read whole.
  const big = 'x'.repeat(20_000);
  await writeTree(root, { '/proc/a': big });
  assert.is(await files.read('/proc/a'), big);
  assert.is(await files.read('/proc/missing'), null);
  assert.is(await files.list('/proc/missing'), null);
  await files.close();
  assert.is(files.openCount, 0);
  assert.is(await files.read('/proc/b'), 'two\n', 'reads still work after close, without caching');
});

test.run();
