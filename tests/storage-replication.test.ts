// Replication when things go wrong, on real zfs-fuse: a long stream aborted leaves the target
// at its last complete snapshot (and the target pool exports and imports cleanly); a daemon
// killed with SIGKILL in the middle of a stream comes back with the job FAILED "Interrupted",
// the task's state ERROR, no zfs send/recv left behind, and a new run that completes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnDaemon } from './helpers/child.js';
import { Client } from './helpers/daemon.js';
import { hashTree, writeRandom } from './helpers/files.js';
import { job, startStorage, type TestDaemon } from './helpers/storage.js';
import { until } from './helpers/until.js';
import { ZfsLab, zfsTest } from './helpers/zfs.js';

const ztest = zfsTest(test);
const MiB = 1024 * 1024;
const childModules = fileURLToPath(new URL('./helpers/storage-child-modules.js', import.meta.url));

let lab: ZfsLab;
let d: TestDaemon | null = null;
let c: Client;
let S: string;
let T: string;
let task: number;
let atS1: Record<string, string>;
const mnt = () => join(lab.dir, 'mnt');

test.after(async () => {
  await c?.close().catch(() => {});
  await d?.cleanup().catch(() => {});
  lab?.cleanupSync();
});

type Task = { id: number; state: { state: string; error?: string; last_snapshot?: string; progress?: { bytes_sent: number; snapshot: string } } };

async function targetSnapshots(client: Client): Promise<string[]> {
  // By name (they carry their times): createtxg is a string, as in TrueNAS, so it sorts as text
  // and a pool whose txg crosses a digit boundary (9 -> 10) lists a newer snapshot first.
  return ((await client.call('pool.snapshot.query', [['dataset', '=', `${T}/copy`]], { order_by: ['name'] })) as Array<{ snapshot_name: string }>).map((x) => x.snapshot_name);
}

/** zfs send / receive processes of this run still alive (read from /proc, never signalled). */
async function streamsLeft(): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (/^zfs\0(send|receive)\0/.test(cmd) && cmd.includes(lab.prefix)) out.push(cmd.replace(/\0/g, ' '));
  }
  return out;
}

ztest('a long replication aborted: the target stays at its last complete snapshot and imports cleanly', async () => {
  lab = new ZfsLab();
  const [s, t] = await Promise.all([lab.loopDevice('src', 1800 * MiB), lab.loopDevice('tgt', 1800 * MiB)]);
  d = await startStorage(lab);
  c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  S = lab.pool('s');
  T = lab.pool('t');
  await c.call('pool.create', { name: S, topology: { data: [{ type: 'STRIPE', disks: [s.device.slice(5)] }] } });
  await c.call('pool.create', { name: T, topology: { data: [{ type: 'STRIPE', disks: [t.device.slice(5)] }] } });
  await c.call('pool.dataset.create', { name: `${S}/big`, compression: 'OFF' });
  await writeRandom(join(mnt(), S, 'big', 'first.bin'), 8);
  await c.call('pool.snapshot.create', { dataset: `${S}/big`, name: 'snap-2026-01-01_00-01' });
  atS1 = await hashTree(join(mnt(), S, 'big'));
  task = ((await c.call('replication.create', {
    name: 'big', direction: 'PUSH', transport: 'LOCAL', source_datasets: [`${S}/big`], target_dataset: `${T}/copy`,
    recursive: false, auto: false, retention_policy: 'NONE', also_include_naming_schema: ['snap-%Y-%m-%d_%H-%M'],
  })) as Task).id;
  await c.call('replication.run', task);
  assert.equal(await targetSnapshots(c), ['snap-2026-01-01_00-01']);
  await writeRandom(join(mnt(), S, 'big', 'second.bin'), 700);
  await c.call('pool.snapshot.create', { dataset: `${S}/big`, name: 'snap-2026-01-01_00-02' });

  // The stream takes a second or two: run until the abort lands while it is on its way.
  let aborted: number | null = null;
  for (let attempt = 0; attempt < 5 && aborted === null; attempt++) {
    c.send({ jsonrpc: '2.0', id: `run-${attempt}`, method: 'replication.run', params: [task] });
    const running = await until(async () => {
      const t2 = (await c.call('replication.get_instance', task)) as Task;
      if (t2.state.state === 'RUNNING' && (t2.state.progress?.bytes_sent ?? 0) > 0) return t2;
      return c.received.some((m) => m.id === `run-${attempt}`) ? t2 : null;
    }, 'bytes on their way (or the run ending)', 60_000, 20);
    if (running.state.state !== 'RUNNING') {
      await c.call('pool.snapshot.delete', `${T}/copy@snap-2026-01-01_00-02`); // too quick: back to s1, again
      continue;
    }
    const jobId = ((await c.call('core.get_jobs', [['method', '=', 'replication.run'], ['state', '=', 'RUNNING']], { get: true })) as { id: number }).id;
    await c.call('core.job_abort', jobId);
    await c.waitFor((m) => m.id === `run-${attempt}`, 60_000);
    if ((await job(c, jobId)).state === 'SUCCESS') {
      await c.call('pool.snapshot.delete', `${T}/copy@snap-2026-01-01_00-02`);
      continue;
    }
    aborted = jobId;
  }
  assert.ok(aborted !== null, 'a replication was aborted on its way');
  assert.is((await job(c, aborted!)).state, 'ABORTED');
  const after = (await c.call('replication.get_instance', task)) as Task;
  assert.equal([after.state.state, after.state.error, after.state.last_snapshot], ['ERROR', 'Replication aborted', `${S}/big@snap-2026-01-01_00-01`]);
  await until(async () => (await streamsLeft()).length === 0, 'zfs send and receive to end');
  assert.equal(await targetSnapshots(c), ['snap-2026-01-01_00-01'], 'the partial stream was thrown away');
  // The target pool is sound: it exports, imports, and holds exactly s1's files.
  const tp = (await c.call('pool.query', [['name', '=', T]], { get: true })) as { id: number; guid: string };
  await c.call('pool.export', tp.id);
  await c.call('pool.import_pool', { guid: tp.guid });
  assert.equal(await hashTree(join(mnt(), T, 'copy')), atS1);
  assert.equal(await targetSnapshots(c), ['snap-2026-01-01_00-01']);
});

ztest('kill -9 during a replication: the job is FAILED "Interrupted", no stream is left, a new run completes', async () => {
  const dataDir = d!.dataDir;
  await c.close();
  await d!.stop();
  d = null;
  const child = await spawnDaemon(dataDir, { MIDSHIP_MODULES: childModules, MIDSHIP_TEST_MOUNT_ROOT: mnt() }, false);
  const cc = await Client.connect(child.socketPath);
  await cc.call('core.set_options', { legacy_jobs: false });
  cc.send({ jsonrpc: '2.0', id: 'doomed', method: 'replication.run', params: [task] });
  const running = await until(async () => {
    const t2 = (await cc.call('replication.get_instance', task)) as Task;
    return t2.state.state === 'RUNNING' && (t2.state.progress?.bytes_sent ?? 0) > 0 ? t2 : cc.received.some((m) => m.id === 'doomed') ? t2 : null;
  }, 'the replication to be on its way', 60_000, 20);
  assert.is(running.state.state, 'RUNNING', 'caught the stream in flight');
  const jobId = ((await cc.call('core.get_jobs', [['method', '=', 'replication.run'], ['state', '=', 'RUNNING']], { get: true })) as { id: number }).id;
  child.child.kill('SIGKILL');
  await child.exited;
  await cc.close().catch(() => {});
  // Its zfs send lost its reader and its zfs recv its writer: both end by themselves.
  await until(async () => (await streamsLeft()).length === 0, 'zfs send and receive of the killed daemon to end', 60_000, 100);
  d = await startStorage(lab, { dataDir });
  c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  assert.equal(await targetSnapshots(c), ['snap-2026-01-01_00-01'], 'the target is at its last complete snapshot');
  const failed = await job(c, jobId);
  assert.is(failed.state, 'FAILED');
  assert.match(failed.error ?? '', /^Interrupted/);
  const t3 = (await c.call('replication.get_instance', task)) as Task;
  assert.equal([t3.state.state, t3.state.last_snapshot], ['ERROR', `${S}/big@snap-2026-01-01_00-01`]);
  assert.match(t3.state.error ?? '', /^Interrupted/);
  assert.is(await c.call('replication.run', task), null);
  assert.equal(await targetSnapshots(c), ['snap-2026-01-01_00-01', 'snap-2026-01-01_00-02']);
  assert.equal(await hashTree(join(mnt(), T, 'copy')), await hashTree(join(mnt(), S, 'big')));
  assert.is(((await c.call('replication.get_instance', task)) as Task).state.state, 'FINISHED');
});

test.run();
