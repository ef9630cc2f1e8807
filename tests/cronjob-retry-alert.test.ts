// Retries and alerts together, as a user has them: the alert module and the cron module in one real
// daemon, a command that keeps failing, retries waiting on a virtual clock. No CronJobFailed while
// attempts remain; exactly one once the last attempt failed (issue 19: alerts fire only for the
// final outcome); the next run that succeeds clears it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJob } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { until } from './helpers/until.js';
import { coreModule } from '../methods/core.js';
import { makeAlertModule } from '../methods/alert.js';
import { makeCronjobModule } from '../methods/cronjob.js';
import { jobsModule } from '../methods/jobs.js';
import { VirtualClock } from '../methods/scheduling/index.js';

type Alert = { uuid: string; klass: string; args: Record<string, unknown> };

const clock = new VirtualClock(Date.parse('2030-02-01T00:00:00Z'));
let d: TestDaemon;
let c: Client;
let work: string;

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, jobsModule, makeCronjobModule({ clock }), makeAlertModule()] });
  c = await Client.connect(d.socketPath);
  work = await mkdtemp(join(tmpdir(), 'midship-retry-alert-'));
});
test.after(async () => {
  await c.close();
  await d.cleanup();
  await rm(work, { recursive: true, force: true });
});

const cronAlerts = async (): Promise<Alert[]> => ((await c.call('alert.list')) as Alert[]).filter((a) => a.klass === 'CronJobFailed');

test('a run with retries raises CronJobFailed once, after its last attempt; a later success clears it', async () => {
  const flag = join(work, 'ok');
  const cron = (await c.call('cronjob.create', {
    user: 'root', enabled: false, stdout: false, description: 'flaky', command: `test -f ${flag}`,
    retries: 2, retry_delay: 30, retry_backoff: { type: 'FIXED', max_delay: 30, jitter: 0 },
  })) as { id: number };
  const jobId = (await c.call('cronjob.run', cron.id)) as number;

  for (const next of [2, 3]) {
    await until(async () => (await getJob(c, jobId)).progress.description.startsWith(`attempt ${next} of 3, next in`) || null, `the wait before attempt ${next}`);
    // The alert module has seen every change of the job so far: a failed attempt is not an alert.
    await c.call('alert.process_alerts', []);
    assert.equal(await cronAlerts(), [], `no alert while attempt ${next} of 3 is still to come`);
    clock.advance(30_000);
  }
  await until(async () => (await getJob(c, jobId)).state === 'FAILED' || null, 'the run to fail after its last attempt');
  const raised = await until(async () => { const a = await cronAlerts(); return a.length > 0 ? a : null; }, 'CronJobFailed');
  assert.is(raised.length, 1);
  assert.is(raised[0]!.args.id, cron.id);
  assert.is(raised[0]!.args.job_id, jobId);

  await writeFile(flag, '');
  await c.call('cronjob.run', cron.id);
  await until(async () => (await cronAlerts()).length === 0 || null, 'the success to clear the alert');
});

test.run();
