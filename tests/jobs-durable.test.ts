// Durable job history (issue 4 point 7): restarts, kill -9 in the middle of 50 running jobs,
// increasing ids, retention purge with log files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, startDaemon } from './helpers/daemon.js';
import { spawnDaemon } from './helpers/child.js';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { testModule } from './helpers/test-module.js';
import { until } from './helpers/until.js';

type Job = { id: number; state: string; error: string | null; logs_path: string | null; logs_excerpt: string | null; result: unknown };

test('kill -9 with 50 running jobs: after a restart every job is there, interrupted ones FAILED', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-durable-'));
  try {
    const first = await spawnDaemon(dir);
    let c = await Client.connect(first.socketPath);
    const done: number[] = [];
    for (let i = 0; i < 5; i++) done.push((await c.call('test.job', { steps: 0, result: i })) as number);
    const running: number[] = [];
    for (let i = 0; i < 50; i++) running.push((await c.call('test.job', { steps: 1000, delay: 50 })) as number);
    const waiting = (await c.call('test.locked', 'w1', 100_000)) as number;
    const queued = (await c.call('test.locked', 'w2', 1)) as number;
    // Every job has been added (the id is only returned once stored); wait for the quick ones to end.
    // A job's end is announced only once its record is stored: SUCCESS here is on the disk.
    await until(async () => {
      const states = (await c.call('core.get_jobs', [['id', 'in', done]], { select: ['state'] })) as Job[];
      return states.every((s) => s.state === 'SUCCESS');
    }, 'the quick jobs to end', 20_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await spawnDaemon(dir);
    c = await Client.connect(second.socketPath);
    const all = (await c.call('core.get_jobs')) as Job[];
    assert.is(all.length, 57);
    for (const id of done) assert.is(all.find((j) => j.id === id)!.state, 'SUCCESS');
    for (const id of [...running, waiting, queued]) {
      const j = all.find((x) => x.id === id)!;
      assert.is(j.state, 'FAILED', `job ${id}`);
      assert.is(j.error, 'Interrupted: the daemon stopped while this job was running');
    }
    const withLog = all.find((j) => j.id === running[0])!;
    assert.match(String(withLog.logs_excerpt), /step 1 of 1000/);
    const next = (await c.call('test.job', { steps: 0 })) as number;
    assert.ok(next > Math.max(...all.map((j) => j.id)), 'ids keep increasing across restarts');
    second.child.kill('SIGTERM');
    assert.is(await second.exited, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('SIGTERM with hundreds of running and waiting jobs: exit 0, "midshipd stopped", each job it ended recorded with the same error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-durable-'));
  try {
    const first = await spawnDaemon(dir);
    let c = await Client.connect(first.socketPath);
    const ended: number[] = [];
    for (let i = 0; i < 300; i++) ended.push((await c.call('test.until_aborted')) as number); // end when aborted
    for (let i = 0; i < 3; i++) ended.push((await c.call('test.fixed', 60_000)) as number); // ignore it
    ended.push((await c.call('test.locked', 'holder', 60_000)) as number, (await c.call('test.locked', 'waiter', 1)) as number);
    const done = (await c.call('test.job', { steps: 0 })) as number;
    await c.close();
    first.child.kill('SIGTERM');
    assert.is(await first.exited, 0);
    assert.match(first.stderr(), /"msg":"midshipd stopped"/);
    const second = await spawnDaemon(dir);
    c = await Client.connect(second.socketPath);
    const all = (await c.call('core.get_jobs', [['id', 'in', ended]], { select: ['id', 'state', 'error', 'exc_info', 'time_finished'] })) as Array<Job & { exc_info: unknown; time_finished: { $date: number } }>;
    assert.is(all.length, ended.length);
    assert.is(new Set(all.map((j) => j.time_finished.$date)).size, 1, 'all finished at the stop');
    const shapes = new Set(all.map((j) => JSON.stringify([j.state, j.error, j.exc_info])));
    assert.equal([...shapes], [JSON.stringify(['FAILED', 'Interrupted: the daemon stopped while this job was running', { repr: 'Interrupted: the daemon stopped while this job was running', type: 'Interrupted', errno: 4, extra: null }])]);
    assert.is(((await c.call('core.get_jobs', [['id', '=', done]], { get: true })) as Job).state, 'SUCCESS', 'a job that had ended is untouched');
    await c.close();
    second.child.kill('SIGTERM');
    assert.is(await second.exited, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a clean restart keeps the history and its order; a running job is recorded as interrupted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'midship-durable-'));
  try {
    let d = await startDaemon({ dataDir: dir, modules: [coreModule, jobsModule, testModule] });
    let c = await Client.connect(d.socketPath);
    const a = (await c.call('test.job', { steps: 0, result: 'a' })) as number;
    const long = (await c.call('test.fixed', 3_000)) as number;
    await until(async () => ((await c.call('core.get_jobs', [['id', '=', long]], { get: true })) as Job).state === 'RUNNING', 'the long job to run');
    await d.stop();
    d = await startDaemon({ dataDir: dir, modules: [coreModule, jobsModule, testModule] });
    c = await Client.connect(d.socketPath);
    const jobs = (await c.call('core.get_jobs', [], { order_by: ['-id'] })) as Job[];
    assert.equal(jobs.map((j) => j.id), [long, a]);
    assert.is(jobs[1]!.result, 'a');
    assert.is(jobs[0]!.state, 'FAILED');
    assert.is(jobs[0]!.error, 'Interrupted: the daemon stopped while this job was running');
    await c.close();
    await d.cleanup();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('retention: only the newest N finished jobs stay; purged jobs lose their log files', async () => {
  const d = await startDaemon({ modules: [coreModule, jobsModule, testModule], jobs: { retentionMaxFinished: 5, memoryWindow: 2, purgeIntervalMs: 3_600_000 } });
  const c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  const ids: number[] = [];
  for (let i = 0; i < 12; i++) {
    await c.call('test.job', { steps: 1, delay: 0 });
    ids.push(((await c.call('core.get_jobs', [], { order_by: ['-id'], get: true })) as Job).id);
  }
  const oldLog = join(d.dataDir, 'jobs', `${ids[0]}.log`);
  assert.ok((await stat(oldLog)).isFile());
  const purged = await d.daemon.jobs.purge();
  assert.is(purged, 7);
  const left = (await c.call('core.get_jobs')) as Job[];
  assert.equal(left.map((j) => j.id), ids.slice(7));
  await assert.not.ok(await stat(oldLog).then(() => true, () => false), 'log file removed');
  assert.is(await c.call('core.get_jobs', [], { count: true }), 5);
  await c.close();
  await d.cleanup();
});

test.run();
