// Periodic snapshot tasks on real zfs-fuse, run by the scheduler on a virtual clock: every
// scheduled time takes the snapshots (recursive, minus the excluded child) as a
// pool.snapshottask.run job named from that time; retention destroys the task's snapshots past
// their lifetime, and only those: a held one, and one of the same name pattern made by hand,
// stay. Validation names its fields. A replication bound to a task runs after each of its runs,
// with CUSTOM retention on the target, and stops when disabled.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Client } from './helpers/daemon.js';
import { events, startStorage, validationOf, type TestDaemon } from './helpers/storage.js';
import { until } from './helpers/until.js';
import { ZfsLab, zfsTest } from './helpers/zfs.js';
import { Calendar, VirtualClock } from '../methods/scheduling/index.js';

const ztest = zfsTest(test);
const MiB = 1024 * 1024;
// Midnight (host time) of a day far ahead: the names say which scheduled time made them.
const wall0 = Date.UTC(2030, 0, 1);
const zone = new Calendar().rules(new Calendar().defaultTimeZone);
const clock = new VirtualClock(wall0 - zone.offsetAt(wall0));

let lab: ZfsLab;
let d: TestDaemon;
let c: Client;
let P: string;

test.after(async () => {
  await c?.close().catch(() => {});
  await d?.cleanup().catch(() => {});
  lab?.cleanupSync();
});

type Task = { id: number; state: { state: string; last_snapshot?: string }; schedule: Record<string, string>; naming_schema: string };

async function snapshotsOf(dataset: string): Promise<string[]> {
  return ((await c.call('pool.snapshot.query', [['dataset', '=', dataset]], { order_by: ['createtxg'] })) as Array<{ snapshot_name: string }>).map((x) => x.snapshot_name);
}

async function runs(): Promise<Array<{ state: string; error: string | null }>> {
  return (await c.call('core.get_jobs', [['method', '=', 'pool.snapshottask.run']], { order_by: ['id'] })) as Array<{ state: string; error: string | null }>;
}

ztest('validation: dataset, exclude, naming schema and schedule window name their fields', async () => {
  lab = new ZfsLab();
  const disk = await lab.loopDevice('p', 256 * MiB);
  d = await startStorage(lab, { clock });
  c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  await c.call('core.subscribe', 'pool.snapshottask.query');
  P = lab.pool('p');
  await c.call('pool.create', { name: P, topology: { data: [{ type: 'STRIPE', disks: [disk.device.slice(5)] }] } });
  for (const n of ['data', 'data/a', 'data/skip']) await c.call('pool.dataset.create', { name: `${P}/${n}` });
  const has = (errs: Array<[string, string, number]>, attr: string, msg: RegExp) => assert.ok(errs.some(([a, m]) => a === attr && msg.test(m)), `${attr} ${msg} in ${JSON.stringify(errs)}`);
  has(await validationOf(c, 'pool.snapshottask.create', { dataset: `${P}/nope` }), 'periodic_snapshot_create.dataset', /^Dataset not found$/);
  has(await validationOf(c, 'pool.snapshottask.create', { dataset: `${P}/data`, exclude: [`${P}/data/a`] }), 'periodic_snapshot_create.exclude', /not necessary for non-recursive/);
  has(await validationOf(c, 'pool.snapshottask.create', { dataset: `${P}/data`, recursive: true, exclude: [`${P}/other`] }), 'periodic_snapshot_create.exclude.0', /should be a child or other descendant/);
  has(await validationOf(c, 'pool.snapshottask.create', { dataset: `${P}/data`, naming_schema: 'auto-%Y-%m-%d' }), 'periodic_snapshot_create.naming_schema', /%H, %M must be present/);
  has(await validationOf(c, 'pool.snapshottask.create', { dataset: `${P}/data`, schedule: { hour: '3', begin: '05:00', end: '06:00' } }), 'periodic_snapshot_create.schedule', /does not match specified time interval/);
  has(await validationOf(c, 'pool.snapshottask.create', { dataset: `${P}/data`, schedule: { begin: '06:00', end: '05:00' } }), 'periodic_snapshot_create.schedule.begin', /Begin time should be less than or equal to end time/);
  has(await validationOf(c, 'pool.snapshottask.create', { dataset: `${P}/data`, lifetime_unit: 'DECADE' }), 'data.lifetime_unit', /./);
});

ztest('scheduled runs take snapshots named from their time and prune the expired ones the task made', async () => {
  const task = (await c.call('pool.snapshottask.create', {
    dataset: `${P}/data`, recursive: true, exclude: [`${P}/data/skip`], naming_schema: 'auto-%Y-%m-%d_%H-%M',
    lifetime_value: 1, lifetime_unit: 'HOUR', schedule: { minute: '*/20', hour: '*', begin: '00:00', end: '23:59' },
  })) as Task;
  assert.equal(task.schedule, { minute: '*/20', hour: '*', dom: '*', month: '*', dow: '*', begin: '00:00', end: '23:59' });
  assert.equal(task.state, { state: 'PENDING' });
  // Not the task's: same name pattern, made by hand; it must survive retention.
  await c.call('pool.snapshot.create', { dataset: `${P}/data`, name: 'auto-2029-12-31_23-00' });

  for (let step = 1; step <= 6; step++) {
    const before = (await runs()).length;
    clock.advance(20 * 60_000);
    await until(async () => {
      const r = await runs();
      return r.length > before && r.every((x) => x.state === 'SUCCESS' || x.state === 'FAILED') ? r : null;
    }, `scheduled run ${step}`, 60_000, 20);
    if (step === 1) await c.call('pool.snapshot.hold', `${P}/data@auto-2030-01-01_00-20`);
  }
  const all = await runs();
  assert.equal(all.map((r) => [r.state, r.error]), Array(6).fill(['SUCCESS', null]));
  // 00:20 .. 02:00 were taken; at 02:00 the ones older than 01:00 were past their hour, except the held one.
  assert.equal(await snapshotsOf(`${P}/data`), ['auto-2029-12-31_23-00', 'auto-2030-01-01_00-20', 'auto-2030-01-01_01-00', 'auto-2030-01-01_01-20', 'auto-2030-01-01_01-40', 'auto-2030-01-01_02-00']);
  assert.equal(await snapshotsOf(`${P}/data/a`), ['auto-2030-01-01_01-00', 'auto-2030-01-01_01-20', 'auto-2030-01-01_01-40', 'auto-2030-01-01_02-00'], 'recursive');
  assert.equal(await snapshotsOf(`${P}/data/skip`), [], 'excluded');
  const after = (await c.call('pool.snapshottask.get_instance', task.id)) as Task;
  assert.equal([after.state.state, after.state.last_snapshot], ['FINISHED', `${P}/data@auto-2030-01-01_02-00`]);
  assert.ok(events(c, 'pool.snapshottask.query').some((e) => e.id === task.id && JSON.stringify(Object.keys(e.fields ?? {})) === '["state"]'), 'partial state events');

  // Released, the held one goes at the next run; a disabled task takes nothing.
  await c.call('pool.snapshot.release', `${P}/data@auto-2030-01-01_00-20`);
  const before = (await runs()).length;
  clock.advance(20 * 60_000);
  await until(async () => ((await runs()).length > before && (await runs()).every((x) => x.state === 'SUCCESS') ? true : null), 'the next run', 60_000, 20);
  assert.equal(await snapshotsOf(`${P}/data`), ['auto-2029-12-31_23-00', 'auto-2030-01-01_01-20', 'auto-2030-01-01_01-40', 'auto-2030-01-01_02-00', 'auto-2030-01-01_02-20']);
  await c.call('pool.snapshottask.update', task.id, { enabled: false });
  const e = await c.request('pool.snapshottask.run', [task.id]);
  assert.match(JSON.stringify(e.error), /Task is not enabled/);
  assert.is(await c.call('pool.snapshottask.delete', task.id), true);
  assert.equal(await c.call('pool.snapshottask.query'), []);
});

ztest('a replication bound to the task runs after each of its runs; CUSTOM retention on the target; disabled it stays still', async () => {
  const tdisk = await lab.loopDevice('t', 256 * MiB);
  const T = lab.pool('t');
  await c.call('pool.create', { name: T, topology: { data: [{ type: 'STRIPE', disks: [tdisk.device.slice(5)] }] } });
  await c.call('pool.dataset.create', { name: `${P}/src` });
  const st = (await c.call('pool.snapshottask.create', {
    dataset: `${P}/src`, naming_schema: 'rep-%Y-%m-%d_%H-%M', lifetime_value: 1, lifetime_unit: 'WEEK',
    schedule: { minute: '*/20', hour: '*', begin: '00:00', end: '23:59' },
  })) as Task;
  const rep = (await c.call('replication.create', {
    name: 'bound', direction: 'PUSH', transport: 'LOCAL', source_datasets: [`${P}/src`], target_dataset: `${T}/copy`,
    recursive: false, auto: true, periodic_snapshot_tasks: [st.id], retention_policy: 'CUSTOM', lifetime_value: 1, lifetime_unit: 'HOUR',
  })) as Task;
  const replications = async () => (await c.call('core.get_jobs', [['method', '=', 'replication.run']], { order_by: ['id'] })) as Array<{ state: string; error: string | null }>;
  const taken: string[] = [];
  for (let step = 1; step <= 5; step++) {
    clock.advance(20 * 60_000);
    await until(async () => {
      const r = await replications();
      return r.length === step && r.every((x) => x.state === 'SUCCESS' || x.state === 'FAILED') ? r : null;
    }, `the replication after snapshot run ${step}`, 60_000, 20);
    taken.push((await snapshotsOf(`${P}/src`)).sort().at(-1)!);
  }
  assert.equal((await replications()).map((r) => [r.state, r.error]), Array(5).fill(['SUCCESS', null]));
  assert.equal((await snapshotsOf(`${P}/src`)).sort(), taken, 'the source keeps its week');
  // The run at the fifth time kept what is at most an hour old by the names' times. (Sorted by
  // name: createtxg is a string, and received snapshots may cross a digit boundary.)
  assert.equal((await snapshotsOf(`${T}/copy`)).sort(), taken.slice(1));
  const after = (await c.call('replication.get_instance', rep.id)) as Task;
  assert.equal([after.state.state, after.state.last_snapshot], ['FINISHED', `${P}/src@${taken.at(-1)}`]);

  // Disabled: the snapshot task goes on, the replication does not; deleted, it is gone.
  await c.call('replication.update', rep.id, { enabled: false });
  const runsBefore = (await runs()).length;
  clock.advance(20 * 60_000);
  await until(async () => {
    const r = await runs();
    return r.length > runsBefore && r.at(-1)!.state === 'SUCCESS' ? true : null;
  }, 'the snapshot run', 60_000, 20);
  assert.is((await replications()).length, 5);
  assert.equal((await snapshotsOf(`${T}/copy`)).sort(), taken.slice(1));
  assert.is(await c.call('replication.delete', rep.id), true);
  assert.equal(await c.call('replication.query'), []);
});

test.run();
