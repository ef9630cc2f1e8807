// Catch-up after an outage, through real daemons on one virtual clock: the daemon stops, the clock
// moves five hours, a new daemon starts on the same data dir. Runs missed within catch_up_window
// run at start, oldest first, one after another, marked caught_up; ONE runs once for all of them;
// the default window 0 (TrueNAS) runs nothing; the "last fired" cursor is durable, so a second
// restart catches up nothing again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callError, endedRuns, originOf, runsOf, type CronEntry } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { coreModule } from '../methods/core.js';
import { makeCronjobModule } from '../methods/cronjob.js';
import { jobsModule } from '../methods/jobs.js';
import { VirtualClock } from '../methods/scheduling/index.js';

const Z = (iso: string) => Date.parse(iso);
const clock = new VirtualClock(Z('2030-01-01T00:30:00Z'));
const modules = [coreModule, jobsModule, makeCronjobModule({ clock })];
let d: TestDaemon;
let c: Client;
let work: string;

test.before(async () => {
  d = await startDaemon({ modules });
  c = await Client.connect(d.socketPath);
  work = await mkdtemp(join(tmpdir(), 'midship-catchup-'));
});
test.after(async () => {
  await c.close();
  await d.cleanup();
  await rm(work, { recursive: true, force: true });
});

async function restart(): Promise<void> {
  await c.close();
  await d.stop();
  d = await startDaemon({ modules, dataDir: d.dataDir });
  c = await Client.connect(d.socketPath);
}

const hourly = { minute: '0', hour: '*', timezone: 'UTC' };
const ids: Record<string, number> = {};

test('catch_up_window and catch_up are validated, with defaults as TrueNAS behaves (nothing caught up)', async () => {
  const attrs = async (data: Record<string, unknown>) =>
    ((await callError(c, 'cronjob.create', { command: 'true', user: 'root', ...data })).data.extra as Array<[string]>).map(([a]) => a);
  assert.equal(await attrs({ catch_up_window: -1 }), ['cron_job_create.catch_up_window']);
  assert.equal(await attrs({ catch_up_window: 32 * 86_400 }), ['cron_job_create.catch_up_window']);
  assert.equal(await attrs({ catch_up: 'SOME' }), ['cron_job_create.catch_up']);
  const e = (await c.call('cronjob.create', { command: 'true', user: 'root', schedule: hourly })) as CronEntry;
  assert.is(e.catch_up_window, 0);
  assert.is(e.catch_up, 'ONE');
  ids.none = e.id;
});

test('an outage of five hours: ALL runs the three missed in a three-hour window, oldest first, one at a time; ONE runs once', async () => {
  const log = join(work, 'all.log');
  const cmd = `echo "start $MIDSHIP_JOB_ID" >> ${log}; sleep 0.2; echo "end $MIDSHIP_JOB_ID" >> ${log}`;
  ids.all = ((await c.call('cronjob.create', { command: cmd, user: 'root', schedule: hourly, catch_up_window: 3 * 3600, catch_up: 'ALL' })) as CronEntry).id;
  ids.one = ((await c.call('cronjob.create', { command: 'true', user: 'root', schedule: hourly, catch_up_window: 3 * 3600, catch_up: 'ONE' })) as CronEntry).id;
  ids.off = ((await c.call('cronjob.create', { command: 'true', user: 'root', schedule: hourly, catch_up_window: 3 * 3600, catch_up: 'ALL', enabled: false })) as CronEntry).id;
  await c.close();
  await d.stop();
  clock.advanceTo(Z('2030-01-01T05:30:00Z')); // missed 01:00 to 05:00; the window reaches back to 02:30
  d = await startDaemon({ modules, dataDir: d.dataDir });
  c = await Client.connect(d.socketPath);

  const all = await endedRuns(c, ids.all!, 3);
  assert.equal(all.map((j) => originOf(j).scheduled_at), ['2030-01-01T03:00:00.000Z', '2030-01-01T04:00:00.000Z', '2030-01-01T05:00:00.000Z']);
  assert.ok(all.every((j) => j.state === 'SUCCESS' && originOf(j).caught_up === true));
  assert.equal(all.map((j) => j.id), [...all.map((j) => j.id)].sort((a, b) => a - b), 'started oldest first');
  // One after another: each run ended before the next started.
  assert.equal((await readFile(log, 'utf8')).trim().split('\n'), all.flatMap((j) => [`start ${j.id}`, `end ${j.id}`]));

  const one = await endedRuns(c, ids.one!, 1);
  assert.equal(one.map((j) => originOf(j)), [{ scheduled_at: '2030-01-01T03:00:00.000Z', caught_up: true }], 'one run for all, standing for the oldest in the window');
  assert.equal(await runsOf(c, ids.none!), [], 'window 0: nothing caught up');
  assert.equal(await runsOf(c, ids.off!), [], 'disabled: nothing caught up');
  for (const id of Object.values(ids)) {
    const e = (await c.call('cronjob.get_instance', id)) as CronEntry;
    assert.is(e.next_run, id === ids.off ? null : '2030-01-01T06:00:00.000Z');
  }
});

test('the cursor is durable: a restart without downtime catches up nothing again, and the next hour runs once', async () => {
  const before = new Map<number, number>();
  for (const id of Object.values(ids)) before.set(id, (await runsOf(c, id)).length);
  await restart();
  clock.advanceTo(Z('2030-01-01T06:00:00Z'));
  for (const [name, id] of Object.entries(ids)) {
    if (name === 'off') continue;
    const runs = await endedRuns(c, id, before.get(id)! + 1);
    assert.is(runs.length, before.get(id)! + 1, `${name}: one more run`);
    assert.equal(originOf(runs.at(-1)!), { scheduled_at: '2030-01-01T06:00:00.000Z', caught_up: false }, name);
  }
});

test('a cron job enabled after the outage does not replay it', async () => {
  await c.close();
  await d.stop();
  clock.advanceTo(Z('2030-01-01T08:30:00Z'));
  d = await startDaemon({ modules, dataDir: d.dataDir });
  c = await Client.connect(d.socketPath);
  await endedRuns(c, ids.all!, 6); // 07:00 and 08:00 caught up
  const e = (await c.call('cronjob.update', ids.off!, { enabled: true })) as CronEntry;
  assert.is(e.next_run, '2030-01-01T09:00:00.000Z');
  clock.advanceTo(Z('2030-01-01T09:00:00Z'));
  const runs = await endedRuns(c, ids.off!, 1);
  assert.equal(runs.map((j) => originOf(j)), [{ scheduled_at: '2030-01-01T09:00:00.000Z', caught_up: false }]);
});

test('the daemon logged no errors along the way', () => {
  assert.equal(d.logs.filter((l) => (l.level as number) >= 50), []);
});

test.run();
