// The sampler and the realtime payload: exact rates over a fake tree whose counters the test
// moves (with the sampler's clock under its control), then the real host: the payload has the
// shape of MODULES.md §2 and CPU usage rises while a child process burns a core.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { link, open, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { ArcReader } from '../methods/host/arc.js';
import { HostSampler, type HostSample } from '../methods/host/sampler.js';
import { SampleTicker } from '../methods/host/ticker.js';
import { toRealtimePayload } from '../methods/host/realtime.js';
import { toHistoryPoints } from '../methods/host/history/points.js';
import { isInternalInterface } from '../methods/host/net-internal.js';
import { RealtimePayload, ZFS_KEYS } from '../schemas/host/realtime.js';
import { makeTree, procStat, removeTree, writeTree, type TreeSpec } from './host-tree.js';
import { until } from './helpers/until.js';

const validatePayload = new Ajv({ strict: false }).compile(RealtimePayload);

function counters(t: { cpu: number[]; cpu0: number[]; disk: number[]; eth0: [number, number]; arcHits: number }): TreeSpec {
  const [r, rs, w, ws, io] = t.disk;
  const dev = (name: string, rx: number, tx: number) => `${name.padStart(6)}: ${rx} 10 0 0 0 0 0 0 ${tx} 20 0 0 0 0 0 0`;
  return {
    '/proc/stat': procStat({ cpu: t.cpu, cpu0: t.cpu0 }),
    '/proc/diskstats': `   8       0 sda ${r} 0 ${rs} 0 ${w} 0 ${ws} 0 0 ${io} 0 0 0 0 0 0\n`,
    '/proc/net/dev': `Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n${dev('lo', 5, 5)}\n${dev('eth0', ...t.eth0)}\n${dev('veth1', 0, 0)}\n`,
    '/proc/spl/kstat/zfs/arcstats': `name type data\nsize 4 1048576\nmemory_free_bytes 4 2000\nmemory_available_bytes 3 -5\ndemand_data_hits 4 ${t.arcHits}\n`,
  };
}

test('samples over a fake tree: rates over the sampler clock, realtime payload and history points', async () => {
  const root = await makeTree({
    '/proc/meminfo': 'MemTotal: 1000 kB\nMemAvailable: 600 kB\n',
    '/proc/loadavg': '1.00 0.50 0.25 1/10 99\n',
    '/proc/uptime': '100.4 50\n',
    '/sys/devices/pci0/sda': { dir: true },
    '/sys/block/sda/device': { link: '../../devices/pci0/sda' },
    '/sys/class/net/eth0/operstate': 'up\n',
    '/sys/class/net/eth0/speed': '10000\n',
    '/sys/class/net/lo/operstate': 'unknown\n',
    '/sys/class/net/veth1/operstate': 'up\n',
    ...counters({ cpu: [100, 0, 0, 100, 0, 0, 0, 0], cpu0: [100, 0, 0, 100, 0, 0, 0, 0], disk: [0, 0, 0, 0, 0], eth0: [1000, 2000], arcHits: 0 }),
  });
  try {
    let mono = 0;
    const sampler = new HostSampler({ root, monotonic: () => mono, now: () => 1_700_000_000_000 + mono, includeInterface: (n) => !isInternalInterface(n) });
    const first = await sampler.sample();
    assert.is(first.seconds, 0);
    assert.is(first.cpu.get('cpu')!.usage, 0);
    mono += 2000;
    await writeTree(root, counters({ cpu: [250, 0, 0, 150, 0, 0, 0, 0], cpu0: [250, 0, 0, 150, 0, 0, 0, 0], disk: [10, 4096, 20, 8192, 1000], eth0: [1000 + 250_000, 2000 + 125_000], arcHits: 200 }));
    const s = await sampler.sample();
    assert.is(s.seconds, 2);
    assert.is(s.cpu.get('cpu')!.usage, 75);
    assert.equal(s.disks.get('sda'), { read_ops: 5, write_ops: 10, read_bytes: 1_048_576, write_bytes: 2_097_152, busy: 50 });
    assert.equal([...s.interfaces.keys()], ['eth0']);
    assert.equal(s.interfaces.get('eth0'), { link_state: 'LINK_STATE_UP', speed: 10000, received: 125_000, sent: 62_500 });
    assert.equal(s.loadavg, [1, 0.5, 0.25]);

    const payload = toRealtimePayload(s, { tank: { available: 10, used: 0, total: 10 }, empty: { used: 0 } });
    assert.ok(validatePayload(payload), JSON.stringify(validatePayload.errors));
    assert.equal(payload.cpu, { cpu: { usage: 75, temp: null }, cpu0: { usage: 75, temp: null } });
    assert.equal(payload.memory, { arc_size: 1_048_576, arc_free_memory: 2000, arc_available_memory: 0, physical_memory_total: 1_024_000, physical_memory_available: 614_400 });
    assert.is(payload.zfs.demand_data_hits_per_second, 100);
    assert.equal(payload.disks, { read_ops: 5, read_bytes: 1_048_576, write_ops: 10, write_bytes: 2_097_152, busy: 50 });
    assert.equal(payload.interfaces, { eth0: { link_state: 'LINK_STATE_UP', speed: 10000, received_bytes_rate: 125_000, sent_bytes_rate: 62_500 } });
    assert.equal(payload.pools, { tank: { available: 10, total: 10 } }, 'zero values and empty pools are left out');

    const points = toHistoryPoints(s, { tank: { available: 10, used: 0, total: 10 } });
    const byGraph = new Map(points.map((p) => [`${p.graph}/${p.identifier ?? ''}`, p.values]));
    assert.equal(byGraph.get('cpu/'), { cpu: 75, cpu0: 75 });
    assert.equal(byGraph.get('memory/'), { available: 614_400 });
    assert.equal(byGraph.get('load/'), { shortterm: 1, midterm: 0.5, longterm: 0.25 });
    assert.equal(byGraph.get('uptime/'), { uptime: 100 });
    assert.equal(byGraph.get('arcsize/'), { size: 1_048_576 });
    assert.equal(byGraph.get('interface/eth0'), { received: 1000, sent: 500 }, 'kilobits per second');
    assert.equal(byGraph.get('disk/sda'), { reads: 1024, writes: 2048 }, 'KiB per second');
    assert.equal(byGraph.get('pool/tank'), { available: 10, used: 0, total: 10 });
    assert.not.ok(byGraph.has('cputemp/'), 'no sensor, no temperature series');

    // A link that goes down reports the Bluefin-era zero keys, as TrueNAS does.
    await writeTree(root, { '/sys/class/net/eth0/operstate': 'down\n' });
    mono += 2000;
    const down = toRealtimePayload(await sampler.sample());
    assert.equal(down.interfaces.eth0, { link_state: 'LINK_STATE_DOWN', speed: 0, received_bytes: 0, sent_bytes: 0, received_bytes_rate: 0, sent_bytes_rate: 0 });
    await sampler.close();
  } finally {
    await removeTree(root);
  }
});

test('a sampler over an empty tree answers zeros and nulls', async () => {
  const root = await makeTree({});
  try {
    const sampler = new HostSampler({ root });
    await sampler.sample();
    const s = await sampler.sample();
    const payload = toRealtimePayload(s);
    assert.ok(validatePayload(payload), JSON.stringify(validatePayload.errors));
    assert.equal(payload.cpu, {});
    assert.equal(payload.interfaces, {});
    assert.is(payload.memory.physical_memory_total, 0);
    assert.equal(toHistoryPoints(s), []);
    await sampler.close();
  } finally {
    await removeTree(root);
  }
});

test('the real host: payload shape, one cpu entry per logical CPU, memory from /proc/meminfo', async () => {
  const sampler = new HostSampler({ includeInterface: (n) => !isInternalInterface(n) });
  await sampler.sample();
  const payload = toRealtimePayload(await sampler.sample());
  await sampler.close();
  assert.ok(validatePayload(payload), JSON.stringify(validatePayload.errors));
  assert.equal(Object.keys(payload.cpu), ['cpu', ...cpus().map((_, i) => `cpu${i}`)]);
  for (const c of Object.values(payload.cpu)) assert.ok(c.usage >= 0 && c.usage <= 100);
  const memTotal = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
  assert.is(payload.memory.physical_memory_total, memTotal);
  assert.ok(payload.memory.physical_memory_available > 0 && payload.memory.physical_memory_available <= memTotal);
  assert.equal(Object.keys(payload.zfs), [...ZFS_KEYS]);
  const expected = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter((n) => n && !isInternalInterface(n));
  assert.equal(Object.keys(payload.interfaces).sort(), expected.sort());
});

function burner(): ChildProcess {
  // Bounded: the child stops itself after 60 s even if this test dies without killing it.
  return spawn(process.execPath, ['-e', 'const end = Date.now() + 60000; while (Date.now() < end) {}'], { stdio: 'ignore' });
}

/** CPU time (clock ticks) the process used so far, from /proc/<pid>/stat. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

async function usageOver(sampler: HostSampler, ms: number): Promise<number> {
  await sampler.sample();
  await new Promise((r) => setTimeout(r, ms));
  return (await sampler.sample()).cpu.get('cpu')!.usage;
}

test('cpu usage rises while a child process burns a core', async () => {
  const sampler = new HostSampler({ includeInterface: () => false });
  const deadline = Date.now() + 60_000;
  let idle = 0;
  let busy = 0;
  // The machine is shared: other work can fill a window. Compare fresh pairs until the burning
  // window reads higher than the quiet one, within the deadline.
  do {
    idle = await usageOver(sampler, 1000);
    const child = burner();
    try {
      // Measured once it burns (node's own start-up is not the point).
      await until(() => cpuTicks(child.pid!) >= 10, 'the child to burn CPU', 20_000, 10);
      busy = await usageOver(sampler, 1000);
    } finally {
      child.kill('SIGKILL');
    }
  } while (busy <= idle && Date.now() < deadline);
  await sampler.close();
  assert.ok(busy > idle, `busy ${busy}% vs idle ${idle}%`);
});

test('a ticker delivers samples on its interval and none after stop', async () => {
  const got: HostSample[] = [];
  const ticker = new SampleTicker({ intervalMs: 100, sampler: { includeInterface: () => false }, onSample: (s) => got.push(s) });
  await ticker.start();
  await until(() => got.length >= 3, 'three samples', 20_000);
  await ticker.stop();
  assert.ok(got.length >= 3, `only ${got.length} samples`);
  assert.ok(got.every((s) => s.seconds > 0), 'every delivered sample has rates');
  // One sample per slot of the grid: a timer firing a hair early must not tick twice (the rates
  // then cover about 0 s). Late ticks only make the gap longer.
  assert.ok(got.every((s) => s.seconds >= 0.05), `a sample covered only ${Math.min(...got.map((s) => s.seconds))} s`);
  // Stopped: nothing more, though a running ticker with the same interval delivers meanwhile.
  const count = got.length;
  let witnessed = 0;
  const witness = new SampleTicker({ intervalMs: 100, sampler: { includeInterface: () => false }, onSample: () => witnessed++ });
  await witness.start();
  await until(() => witnessed >= 3, 'a running ticker to deliver three samples', 20_000);
  await witness.stop();
  assert.is(got.length, count);
  assert.throws(() => new SampleTicker({ intervalMs: 0, onSample: () => {} }), /intervalMs/);
});

test('a stalled zfs-fuse holds up neither the samples nor stop nor the exit of the process', async () => {
  // A FIFO where a zfs-fuse kstat file should be: opening it blocks until a writer comes, as a
  // read of a stalled FUSE file does. The reading shell blocks on it; the daemon must not.
  const root = await makeTree({
    '/proc/stat': procStat({ cpu: [100, 0, 0, 100, 0, 0, 0, 0] }),
    '/proc/self/mounts': 'kstat /zfs-kstat fuse rw 0 0\n',
    '/zfs-kstat/zfs/arcstats/demand_data_hits': '5\n',
  });
  const size = join(root, 'zfs-kstat/zfs/arcstats/size');
  const fifo = join(root, 'stalled');
  await new Promise<void>((resolve, reject) => spawn('mkfifo', [fifo]).once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo: ${code}`)))));
  await link(fifo, size);
  try {
    const arc = new ArcReader(root, Date.now, 100);
    assert.is(await arc.read(), null, 'no figures within the budget');
    let delivered = 0;
    const ticker = new SampleTicker({ intervalMs: 100, sampler: { root, arc }, onSample: (s) => {
      if (s.arc === null && s.zfs.demand_data_hits_per_second === 0 && s.cpu.has('cpu')) delivered++;
    } });
    await ticker.start();
    await until(() => delivered >= 3, 'three samples without ARC figures while the read hangs', 20_000);
    await ticker.stop();

    // The stalled read answers at last: a regular file takes the FIFO's place, then a writer
    // comes. The reader has the figures again.
    await writeFile(`${size}.new`, '777\n');
    await rename(`${size}.new`, size);
    await (await open(fifo, 'w')).close();
    const back = await until(() => arc.read(), 'the ARC figures once the stalled read answered', 20_000);
    assert.is(back.size, 777);
    assert.is(back.demand_data_hits, 5);
    arc.close();

    // Stalled again, then closed while its shell is still blocked: this test file must still exit
    // (the runner fails it otherwise). A blocked thread of Node's own would keep it alive for good.
    await rename(size, `${size}.old`);
    await link(fifo, size);
    const stuck = new ArcReader(root, Date.now, 100);
    assert.is(await stuck.read(), null);
    stuck.close();
  } finally {
    await removeTree(root);
  }
});

test.run();
