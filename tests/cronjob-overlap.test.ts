// Overlap policies and caps on running jobs, with real processes that run until the test releases
// them. A virtual clock fires one scheduled minute at a time: SKIP drops a run while one is active,
// QUEUE_ONE keeps one waiting, CANCEL_PREVIOUS aborts the old run (its process group dies),
// ALLOW runs up to max_concurrent at once. Then a daemon with MIDSHIP_MAX_RUNNING_JOBS and a
// per-method cap: 200 submitted runs never exceed the caps (as their processes record), waiting
// jobs say why, and another method passes the cron cap while the global one allows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, endedRuns, getJob, jobEnd, pidsIn, runsOf, type CronEntry, type JobRecord } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { testModule } from './helpers/test-module.js';
import { until } from './helpers/until.js';
import { loadConfig } from '../daemon/config.js';
import { ConfigError } from '../daemon/errors.js';
import { coreModule } from '../methods/core.js';
import { cronjobModule, makeCronjobModule } from '../methods/cronjob.js';
import { jobsModule } from '../methods/jobs.js';
import { VirtualClock } from '../methods/scheduling/index.js';

const clock = new VirtualClock(Date.parse('2030-06-01T00:00:30Z'));
let d: TestDaemon;
let c: Client;
let work: string;

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, jobsModule, makeCronjobModule({ clock })] });
  c = await Client.connect(d.socketPath);
  work = await mkdtemp(join(tmpdir(), 'midship-overlap-'));
});
test.after(async () => {
  await c.close();
  await d.cleanup();
  await rm(work, { recursive: true, force: true });
});

/** A cron job firing every minute whose runs record their pid and wait for `release` in `dir`. */
async function waiter(policy: Record<string, unknown>): Promise<{ e: CronEntry; dir: string }> {
  const dir = await mkdtemp(join(work, 'd-'));
  const command = 'echo $$ >> pids; while [ ! -e release ]; do sleep 0.05; done';
  const e = (await c.call('cronjob.create', { user: 'root', command, working_directory: dir, schedule: { minute: '*', timezone: 'UTC' }, ...policy })) as CronEntry;
  return { e, dir };
}

/** The next scheduled minute comes. */
function tick(): void {
  clock.advance(60_000);
}

const states = async (id: number) => (await runsOf(c, id)).map((j) => j.state);
const logged = (msg: string, id: number, n = 1) => until(() => d.logs.filter((l) => l.msg === msg && l.cronjob === id).length >= n, `${n} × "${msg}" for cron job ${id}`);

test('SKIP (the default): a scheduled run is dropped while the last one runs', async () => {
  const { e, dir } = await waiter({});
  assert.is(e.overlap_policy, 'SKIP');
  assert.is(e.max_concurrent, 1);
  tick();
  await until(async () => (await states(e.id)).join() === 'RUNNING', 'the first run');
  tick();
  await logged('cron job still running: scheduled run skipped', e.id);
  assert.match(d.logs.find((l) => l.cronjob === e.id && l.reason !== undefined)!.reason as string, /^skipped: an earlier run has not ended: job \d+ \(RUNNING\)$/);
  await writeFile(join(dir, 'release'), '');
  assert.equal((await endedRuns(c, e.id, 1)).map((j) => j.state), ['SUCCESS']);
  assert.is((await runsOf(c, e.id)).length, 1);
  await c.call('cronjob.delete', e.id);
});

test('QUEUE_ONE: one run waits behind the running one, a third is dropped; the queued one runs after', async () => {
  const { e, dir } = await waiter({ overlap_policy: 'QUEUE_ONE' });
  tick();
  await until(async () => (await states(e.id)).join() === 'RUNNING', 'the first run');
  tick();
  await logged('cron job still running: scheduled run queued', e.id);
  await until(async () => (await states(e.id)).join() === 'RUNNING,WAITING', 'the second run waiting');
  tick();
  await logged('cron job still running: scheduled run skipped', e.id);
  assert.equal(await states(e.id), ['RUNNING', 'WAITING']);
  await writeFile(join(dir, 'release'), '');
  const runs = await endedRuns(c, e.id, 2);
  assert.equal(runs.map((j) => j.state), ['SUCCESS', 'SUCCESS']);
  assert.equal(runs.map((j) => (j.arguments[2] as { scheduled_at: string }).scheduled_at), ['2030-06-01T00:03:00.000Z', '2030-06-01T00:04:00.000Z']);
  await c.call('cronjob.delete', e.id);
});

test('CANCEL_PREVIOUS: the running run is aborted (its process gone) and the new one runs', async () => {
  const { e, dir } = await waiter({ overlap_policy: 'CANCEL_PREVIOUS' });
  tick();
  const [pid1] = await pidsIn(join(dir, 'pids'), 1);
  tick();
  await logged('cron job still running: earlier runs aborted for the scheduled one', e.id);
  const [, pid2] = await pidsIn(join(dir, 'pids'), 2);
  const [first] = await runsOf(c, e.id);
  assert.is((await jobEnd(c, first!.id)).state, 'ABORTED');
  assert.is(await alive(pid1!), false, 'the aborted run\'s process is gone');
  assert.ok(pid2 !== pid1 && (await alive(pid2!)));
  await writeFile(join(dir, 'release'), '');
  assert.equal((await endedRuns(c, e.id, 2)).map((j) => j.state), ['ABORTED', 'SUCCESS']);
  await c.call('cronjob.delete', e.id);
});

test('ALLOW: up to max_concurrent runs at once, then dropped', async () => {
  const { e, dir } = await waiter({ overlap_policy: 'ALLOW', max_concurrent: 2 });
  tick();
  await until(async () => (await states(e.id)).join() === 'RUNNING', 'the first run');
  tick();
  await until(async () => (await states(e.id)).join() === 'RUNNING,RUNNING', 'two runs at once');
  await pidsIn(join(dir, 'pids'), 2);
  tick();
  await logged('cron job still running: scheduled run skipped', e.id);
  assert.match(d.logs.filter((l) => l.cronjob === e.id && l.reason !== undefined).at(-1)!.reason as string, /max_concurrent \(2\)/);
  await writeFile(join(dir, 'release'), '');
  assert.equal((await endedRuns(c, e.id, 2)).map((j) => j.state), ['SUCCESS', 'SUCCESS']);
  assert.is((await runsOf(c, e.id)).length, 2);
  await c.call('cronjob.delete', e.id);
});

test('overlap_policy and max_concurrent are validated on their paths', async () => {
  const attrs = async (data: Record<string, unknown>) => {
    const r = await c.request('cronjob.create', [{ command: 'true', user: 'root', ...data }]);
    return (r.error!.data!.extra as Array<[string]>).map(([a]) => a);
  };
  assert.equal(await attrs({ overlap_policy: 'WAIT' }), ['cron_job_create.overlap_policy']);
  assert.equal(await attrs({ max_concurrent: 0 }), ['cron_job_create.max_concurrent']);
  assert.equal(await attrs({ max_concurrent: 101 }), ['cron_job_create.max_concurrent']);
});

test('the caps hold under 200 submitted runs: at most 3 cron runs and 4 jobs at once; waiting jobs say why', async () => {
  const capped = await startDaemon({ modules: [coreModule, jobsModule, cronjobModule, testModule], jobs: { maxRunning: 4, maxRunningPerMethod: { 'cronjob.run': 3 } } });
  const cc = await Client.connect(capped.socketPath);
  try {
    const dir = await mkdtemp(join(work, 'caps-'));
    // ALLOW: the runs share no lock, so only the caps keep them apart. Each records its start and end.
    const e = (await cc.call('cronjob.create', { user: 'root', command: 'echo + >> marks; sleep 0.1; echo - >> marks', working_directory: dir, overlap_policy: 'ALLOW', enabled: false })) as CronEntry;
    const ids: number[] = [];
    for (let i = 0; i < 200; i++) ids.push((await cc.call('cronjob.run', e.id)) as number);
    // Meanwhile: at most 3 running, the others waiting with the reason.
    const snapshot = (await cc.call('core.get_jobs', [['method', '=', 'cronjob.run']])) as JobRecord[];
    const running = snapshot.filter((j) => j.state === 'RUNNING');
    const waiting = snapshot.filter((j) => j.state === 'WAITING');
    assert.ok(running.length <= 3, `${running.length} running`);
    assert.ok(waiting.length > 0, 'some wait');
    for (const j of waiting) assert.match(j.progress.description, /^Waiting: the limit of 3 running cronjob\.run jobs is reached \(3 running\); (next|\d+(st|nd|rd|th) in line|more than 100 in line)$/);
    // Another method passes the cron cap (the global cap of 4 has a slot for it).
    const other = (await cc.call('test.job', { steps: 1, delay: 1 })) as number;
    assert.is((await jobEnd(cc, other)).state, 'SUCCESS');
    const cronEnded = ((await cc.call('core.get_jobs', [['method', '=', 'cronjob.run'], ['state', '=', 'SUCCESS']], { count: true })) as number);
    assert.ok(cronEnded < 200, `test.job ended while cron runs still waited (${cronEnded} of 200 done)`);

    for (const id of ids) assert.is((await jobEnd(cc, id, 120_000)).state, 'SUCCESS');
    const marks = (await readFile(join(dir, 'marks'), 'utf8')).trim().split('\n');
    assert.is(marks.length, 400);
    let now = 0;
    let peak = 0;
    for (const m of marks) peak = Math.max(peak, (now += m === '+' ? 1 : -1));
    assert.ok(peak >= 1 && peak <= 3, `at most 3 processes at once (peak ${peak})`);
    const described = await getJob(cc, ids.at(-1)!);
    assert.is(described.progress.description, '', 'a job that waited loses the reason once it runs');
  } finally {
    await cc.close();
    await capped.cleanup();
  }
});

test('the caps come from MIDSHIP_MAX_RUNNING_JOBS and MIDSHIP_MAX_RUNNING_PER_METHOD; bad values stop the start naming the variable', () => {
  assert.equal(loadConfig([], {}).jobs.maxRunning, null);
  assert.equal(loadConfig([], {}).jobs.maxRunningPerMethod, {});
  const c2 = loadConfig([], { MIDSHIP_MAX_RUNNING_JOBS: '8', MIDSHIP_MAX_RUNNING_PER_METHOD: 'cronjob.run=4, pool.scrub=1' });
  assert.is(c2.jobs.maxRunning, 8);
  assert.equal(c2.jobs.maxRunningPerMethod, { 'cronjob.run': 4, 'pool.scrub': 1 });
  const refused = (env: Record<string, string>, msg: RegExp) => assert.throws(() => loadConfig([], env), (e: unknown) => e instanceof ConfigError && msg.test(e.message), JSON.stringify(env));
  refused({ MIDSHIP_MAX_RUNNING_JOBS: '0' }, /^MIDSHIP_MAX_RUNNING_JOBS: expected a whole number of jobs from 1, got '0'$/);
  refused({ MIDSHIP_MAX_RUNNING_JOBS: '2.5' }, /MIDSHIP_MAX_RUNNING_JOBS/);
  refused({ MIDSHIP_MAX_RUNNING_PER_METHOD: 'cronjob.run' }, /'cronjob.run' is not method=count/);
  refused({ MIDSHIP_MAX_RUNNING_PER_METHOD: 'cronjob.run=' }, /'cronjob.run=' has no count/);
  refused({ MIDSHIP_MAX_RUNNING_PER_METHOD: 'cronjob.run=-1' }, /MIDSHIP_MAX_RUNNING_PER_METHOD \(cronjob.run\)/);
});

test('the daemon logged no errors along the way', () => {
  assert.equal(d.logs.filter((l) => (l.level as number) >= 50), []);
});

test.run();
