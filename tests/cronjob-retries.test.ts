// Retries with backoff on a virtual clock, through a real daemon and real failing commands: each
// delay lies within the bounds of retry_backoff (EXPONENTIAL doubling up to max_delay, FIXED, less
// the jitter's share), the job counts down "attempt k of n, next in N s" while it waits, and the
// outcome hook (the seam for alerts and webhooks) hears of a run once, after its last attempt.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJob, jobEnd, type CronEntry } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { until } from './helpers/until.js';
import { coreModule } from '../methods/core.js';
import { makeCronjobModule, type CronRunOutcome } from '../methods/cronjob.js';
import { jobsModule } from '../methods/jobs.js';
import { durationText, VirtualClock } from '../methods/scheduling/index.js';

const clock = new VirtualClock(Date.parse('2030-02-01T00:00:00Z'));
const outcomes: CronRunOutcome[] = [];
let d: TestDaemon;
let c: Client;
let work: string;

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, jobsModule, makeCronjobModule({ clock, onOutcome: (o) => outcomes.push(o) })] });
  c = await Client.connect(d.socketPath);
  work = await mkdtemp(join(tmpdir(), 'midship-retries-'));
});
test.after(async () => {
  await c.close();
  await d.cleanup();
  await rm(work, { recursive: true, force: true });
});

async function create(data: Record<string, unknown>): Promise<CronEntry> {
  // Disabled: only the runs the test starts; the clock moves only the retry delays.
  return (await c.call('cronjob.create', { user: 'root', enabled: false, stdout: false, ...data })) as CronEntry;
}

/**
 * Job `jobId` waits after failed attempt `k`: returns the delay it logged (ms), once its progress
 * counts down to attempt k + 1.
 */
async function waitingDelay(jobId: number, k: number, total: number): Promise<number> {
  const j = await until(async () => {
    const job = await getJob(c, jobId);
    return job.progress.description.startsWith(`attempt ${k + 1} of ${total}, next in`) ? job : null;
  }, `the wait after attempt ${k}`);
  const log = await until(async () => {
    const text = await readFile(j.logs_path!, 'utf8').catch(() => '');
    return [...text.matchAll(/\[cronjob\] retrying in ([\d.]+) s\n/g)].length >= k ? text : null;
  }, `the delay after attempt ${k} in the log`);
  const ms = Math.round(Number([...log.matchAll(/\[cronjob\] retrying in ([\d.]+) s\n/g)][k - 1]![1]) * 1000);
  assert.is(j.progress.description, `attempt ${k + 1} of ${total}, next in ${durationText(ms)}`);
  return ms;
}

async function attemptStarted(jobId: number, n: number, total: number): Promise<void> {
  const path = (await getJob(c, jobId)).logs_path!;
  await until(async () => (await readFile(path, 'utf8').catch(() => '')).includes(`[cronjob] attempt ${n} of ${total}: `), `attempt ${n}`);
}

test('EXPONENTIAL with jitter: delays double up to max_delay, each within [max*(1-jitter), max]; one outcome after the last failure', async () => {
  const e = await create({ command: 'echo nope; exit 3', retries: 3, retry_delay: 10, retry_backoff: { type: 'EXPONENTIAL', max_delay: 25, jitter: 0.5 } });
  assert.equal(e.retry_backoff, { type: 'EXPONENTIAL', max_delay: 25, jitter: 0.5 });
  const jobId = (await c.call('cronjob.run', e.id)) as number;
  const bounds = [[5_000, 10_000], [10_000, 20_000], [12_500, 25_000]];
  for (let k = 1; k <= 3; k++) {
    const ms = await waitingDelay(jobId, k, 4);
    const [lo, hi] = bounds[k - 1]!;
    assert.ok(ms >= lo! && ms <= hi!, `delay after attempt ${k}: ${ms} ms, not within [${lo}, ${hi}]`);
    assert.equal(outcomes, [], 'nothing reported while attempts remain');
    // The countdown follows the clock.
    clock.advance(1000);
    await until(async () => (await getJob(c, jobId)).progress.description === `attempt ${k + 1} of 4, next in ${Math.ceil((ms - 1000) / 1000)} s`, 'the countdown');
    clock.advance(ms - 1000);
    await attemptStarted(jobId, k + 1, 4);
  }
  const j = await jobEnd(c, jobId);
  assert.is(j.state, 'FAILED');
  assert.match(j.error!, /^\[EFAULT\] Command exited with status 3 \(after 4 attempts\)/);
  await until(() => outcomes.length === 1, 'the outcome');
  assert.equal(outcomes, [{ cronjob: e.id, description: 'echo nope; exit 3', job_id: jobId, state: 'FAILED', error: j.error, attempts: 4, scheduled_at: null, caught_up: false }]);
  assert.is(((await c.call('core.get_jobs', [['method', '=', 'cronjob.run'], ['arguments.0', '=', e.id]], { count: true })) as number), 1, 'the retries are one job');
  outcomes.length = 0;
});

test('FIXED with jitter: every delay within [retry_delay*(1-jitter), retry_delay]; a success on attempt 3 is reported once', async () => {
  const dir = await mkdtemp(join(work, 'f-'));
  const e = await create({
    command: 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ "$n" -ge 3 ]',
    working_directory: dir, retries: 5, retry_delay: 100, retry_backoff: { type: 'FIXED', jitter: 0.2 },
  });
  assert.equal(e.retry_backoff, { type: 'FIXED', max_delay: 3600, jitter: 0.2 });
  const jobId = (await c.call('cronjob.run', e.id)) as number;
  for (let k = 1; k <= 2; k++) {
    const ms = await waitingDelay(jobId, k, 6);
    assert.ok(ms >= 80_000 && ms <= 100_000, `delay ${ms} ms`);
    clock.advance(ms);
  }
  const j = await jobEnd(c, jobId);
  assert.is(j.state, 'SUCCESS');
  assert.is((j.result as { attempts: number }).attempts, 3);
  await until(() => outcomes.length === 1, 'the outcome');
  assert.equal([outcomes[0]!.state, outcomes[0]!.attempts, outcomes[0]!.error], ['SUCCESS', 3, null]);
  outcomes.length = 0;
});

test('retry_backoff is validated on its paths and merges field by field on update', async () => {
  const attrs = async (data: Record<string, unknown>) => {
    const r = await c.request('cronjob.create', [{ command: 'true', user: 'root', ...data }]);
    return (r.error!.data!.extra as Array<[string]>).map(([a]) => a);
  };
  assert.equal(await attrs({ retry_backoff: { type: 'LINEAR' } }), ['cron_job_create.retry_backoff.type']);
  assert.equal(await attrs({ retry_backoff: { jitter: 1.5 } }), ['cron_job_create.retry_backoff.jitter']);
  assert.equal(await attrs({ retry_backoff: { max_delay: 0 } }), ['cron_job_create.retry_backoff.max_delay']);
  assert.equal(await attrs({ retry_backoff: { bogus: 1 } }), ['cron_job_create.retry_backoff.bogus']);
  const e = await create({ command: 'true' });
  assert.equal(e.retry_backoff, { type: 'FIXED', max_delay: 3600, jitter: 0 }, 'the default: retry_delay every time, as before');
  const u = (await c.call('cronjob.update', e.id, { retry_backoff: { type: 'EXPONENTIAL' } })) as CronEntry;
  assert.equal(u.retry_backoff, { type: 'EXPONENTIAL', max_delay: 3600, jitter: 0 });
});

test('the daemon logged no errors along the way', () => {
  assert.equal(d.logs.filter((l) => (l.level as number) >= 50), []);
});

test.run();
