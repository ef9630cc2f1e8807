// Cron job schedules on the scheduling layer, through a real daemon whose cron module runs on a
// virtual clock: schedule.timezone (IANA, default the host's), schedule.jitter, several schedules
// per cron job, validation naming the field, DST days in New York (a 02:30 run on the
// spring-forward day runs once, at 03:00; a 01:30 run on the fall-back day runs once), and cron
// jobs stored before these fields existed. Every run is a real process.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { callError, endedRuns, originOf, runsOf, type CronEntry } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { coreModule } from '../methods/core.js';
import { makeCronjobModule } from '../methods/cronjob.js';
import { jobsModule } from '../methods/jobs.js';
import { VirtualClock } from '../methods/scheduling/index.js';

const Z = (iso: string) => Date.parse(iso);
const clock = new VirtualClock(Z('2030-03-09T12:00:00Z'));
const modules = [coreModule, jobsModule, makeCronjobModule({ clock })];
let d: TestDaemon;
let c: Client;

test.before(async () => {
  d = await startDaemon({ modules });
  c = await Client.connect(d.socketPath);
});
test.after(async () => {
  await c.close();
  await d.cleanup();
});

async function create(data: Record<string, unknown>): Promise<CronEntry> {
  return (await c.call('cronjob.create', { user: 'root', command: 'true', ...data })) as CronEntry;
}

async function attrs(method: string, ...params: unknown[]): Promise<string[]> {
  const e = await callError(c, method, ...params);
  assert.is(e.code, -32602, JSON.stringify(e));
  return (e.data.extra as Array<[string, string, number]>).map(([a]) => a);
}

const nextRun = async (id: number) => ((await c.call('cronjob.get_instance', id)) as CronEntry).next_run;

/**
 * Moves the clock from one announced next_run of cron job `id` to the next, each time waiting for
 * that run to end, until next_run passes `end`. Returns when the runs were scheduled for: the
 * times the scheduler chose, one at a time, so an extra or missing run shows.
 */
async function runThrough(id: number, end: string): Promise<string[]> {
  const times: string[] = [];
  for (let next = await nextRun(id); next !== null && next <= end; next = await nextRun(id)) {
    clock.advanceTo(Date.parse(next));
    const runs = await endedRuns(c, id, times.length + 1);
    assert.is(runs.length, times.length + 1, `one run at ${next}`);
    times.push(originOf(runs[times.length]!).scheduled_at!);
  }
  clock.advanceTo(Date.parse(end));
  return times;
}

test('timezone, jitter and several schedules are taken, stored canonical and shown; bad ones are refused naming the field', async () => {
  const e = await create({ schedule: { minute: '0', hour: '9', timezone: 'europe/berlin', jitter: 30 }, schedules: [{ minute: '30', hour: '18', timezone: 'Asia/Tokyo' }] });
  assert.equal(e.schedule, { minute: '0', hour: '9', dom: '*', month: '*', dow: '*', timezone: 'Europe/Berlin', jitter: 30 });
  assert.equal(e.schedules, [{ minute: '30', hour: '18', dom: '*', month: '*', dow: '*', timezone: 'Asia/Tokyo' }]);
  // 2030-03-09 12:00Z: 09:00 Berlin (08:00Z) and 18:30 Tokyo (09:30Z) have passed today; next is
  // Berlin's tomorrow, up to 30 s late (jitter).
  const late = Date.parse(e.next_run!) - Z('2030-03-10T08:00:00Z');
  assert.ok(late >= 0 && late <= 30_000, e.next_run!);

  const before = await c.call('cronjob.query', [], { count: true });
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', schedule: { timezone: 'Mars/Olympus' } }), ['cron_job_create.schedule.timezone']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', schedule: { timezone: '+02:00' } }), ['cron_job_create.schedule.timezone']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', schedule: { jitter: 3601 } }), ['cron_job_create.schedule.jitter']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', schedules: [{ minute: '5' }, { hour: '25', dow: 'funday' }] }), ['cron_job_create.schedules.1.hour', 'cron_job_create.schedules.1.dow']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', schedules: [{ dom: '30', month: '2' }] }), ['cron_job_create.schedules.0']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', schedules: [{ minute: '1', bogus: 1 }] }), ['cron_job_create.schedules.0.bogus']);
  const reason = (await callError(c, 'cronjob.create', { command: 'true', user: 'root', schedules: [{}, { timezone: 'Nowhere/Land' }] })).data.reason;
  assert.match(reason, /cron_job_create\.schedules\.1\.timezone: Unknown time zone "Nowhere\/Land"/);
  assert.is(await c.call('cronjob.query', [], { count: true }), before, 'nothing was created');

  assert.equal(await attrs('cronjob.update', e.id, { schedules: [{ minute: '61' }] }), ['cron_job_update.schedules.0.minute']);
  assert.equal(await attrs('cronjob.update', e.id, { schedule: { timezone: 'Atlantis/Capital' } }), ['cron_job_update.schedule.timezone']);
  assert.equal(await c.call('cronjob.get_instance', e.id), e, 'a refused update changes nothing');

  // The TrueNAS web UI sends the five fields back: the zone and jitter stay; schedules are replaced as a whole.
  const u = (await c.call('cronjob.update', e.id, { schedule: { minute: '15', hour: '9', dom: '*', month: '*', dow: '*' }, schedules: [] })) as CronEntry;
  assert.equal(u.schedule, { minute: '15', hour: '9', dom: '*', month: '*', dow: '*', timezone: 'Europe/Berlin', jitter: 30 });
  assert.equal(u.schedules, []);
  await c.call('cronjob.delete', e.id);
});

test('without a timezone a schedule is read in the host zone, and the entry keeps TrueNAS\'s five fields', async () => {
  const e = await create({ schedule: { minute: '30', hour: '2' } });
  assert.equal(e.schedule, { minute: '30', hour: '2', dom: '*', month: '*', dow: '*' });
  const local = new Date(clock.now());
  local.setHours(2, 30, 0, 0);
  if (local.getTime() <= clock.now()) local.setDate(local.getDate() + 1);
  assert.is(e.next_run, local.toISOString(), 'the next 02:30 of the host (Date reads local time)');
  await c.call('cronjob.delete', e.id);
});

test('DST in New York: 02:30 on the spring-forward day runs once, at 03:00 EDT', async () => {
  const e = await create({ schedule: { minute: '30', hour: '2', timezone: 'America/New_York' } });
  // 2030-03-10 02:30 does not exist (EST -> EDT at 02:00): one run at 03:00 EDT = 07:00Z, then 02:30 EDT the next day.
  assert.equal(await runThrough(e.id, '2030-03-11T12:00:00.000Z'), ['2030-03-10T07:00:00.000Z', '2030-03-11T06:30:00.000Z']);
  await c.call('cronjob.delete', e.id);
  assert.is((await runsOf(c, e.id)).length, 2);
});

test('DST in New York: 01:30 on the fall-back day runs once, at its first occurrence', async () => {
  clock.advanceTo(Z('2030-11-02T12:00:00Z'));
  const e = await create({ schedule: { minute: '30', hour: '1', timezone: 'America/New_York' } });
  // 01:00-02:00 comes twice on 2030-11-03 (EDT, then EST): 01:30 EDT = 05:30Z only, then 01:30 EST the next day.
  assert.equal(await runThrough(e.id, '2030-11-04T12:00:00.000Z'), ['2030-11-03T05:30:00.000Z', '2030-11-04T06:30:00.000Z']);
  const runs = await runsOf(c, e.id);
  assert.ok(runs.every((j) => j.state === 'SUCCESS' && originOf(j).caught_up === false));
  await c.call('cronjob.delete', e.id);
});

test('several schedules in different zones: the cron job runs at the times of each, in order', async () => {
  const e = await create({
    schedule: { minute: '0', hour: '9', timezone: 'Europe/Berlin' },
    schedules: [{ minute: '0', hour: '9', timezone: 'Asia/Tokyo' }, { minute: '15', hour: '9', timezone: 'Europe/Berlin' }, { minute: '0', hour: '9', timezone: 'Europe/Paris' }],
  });
  // Tokyo 09:00 = 00:00Z; Berlin 09:00 CET = 08:00Z, Paris the same instant (one run); Berlin 09:15 = 08:15Z.
  assert.equal(await runThrough(e.id, '2030-11-05T12:00:00.000Z'), ['2030-11-05T00:00:00.000Z', '2030-11-05T08:00:00.000Z', '2030-11-05T08:15:00.000Z']);
  await c.call('cronjob.delete', e.id);
});

test('jitter: each run starts up to `jitter` seconds after its scheduled time, at the time next_run announced', async () => {
  const e = await create({ schedule: { minute: '*/10', hour: '*', timezone: 'UTC', jitter: 300 } });
  const offsets: number[] = [];
  let nominal = Z('2030-11-05T12:10:00Z');
  for (let i = 1; i <= 12; i++, nominal += 600_000) {
    const due = Date.parse(((await c.call('cronjob.get_instance', e.id)) as CronEntry).next_run!);
    const offset = due - nominal;
    assert.ok(offset >= 0 && offset <= 300_000, `run ${i}: ${offset} ms after its scheduled time`);
    offsets.push(offset);
    if (due > clock.now() + 1) {
      clock.advanceTo(due - 1);
      const still = ((await c.call('cronjob.get_instance', e.id)) as CronEntry).next_run;
      assert.is(Date.parse(still!), due, 'not fired a millisecond early');
    }
    clock.advanceTo(due);
    const runs = await endedRuns(c, e.id, i);
    assert.is(originOf(runs[i - 1]!).scheduled_at, new Date(nominal).toISOString());
  }
  assert.ok(new Set(offsets).size > 1, `the delays vary: ${offsets.join(', ')}`);
  await c.call('cronjob.delete', e.id);
});

test('a cron job stored before the scheduling fields existed loads with their defaults and runs', async () => {
  const old = {
    id: 500, enabled: true, description: 'old', command: 'true', user: 'root', stdout: true, stderr: false,
    schedule: { minute: '0', hour: '*', dom: '*', month: '*', dow: '*' }, timeout: 3600, retries: 0, retry_delay: 60,
    environment: {}, working_directory: null, tags: [], author: { type: 'UNIX_SOCKET', username: 'root', user_id: null, full_admin: true },
  };
  await c.close();
  const db = d.daemon.sublevel('cronjob');
  await db.put('rec:0000000500', old);
  await db.put('meta:next_id', 501);
  await d.stop();
  d = await startDaemon({ modules, dataDir: d.dataDir });
  c = await Client.connect(d.socketPath);
  const e = (await c.call('cronjob.get_instance', 500)) as CronEntry;
  assert.equal(e.schedule, old.schedule);
  const { schedules, catch_up_window, catch_up, overlap_policy, max_concurrent, retry_backoff, on_success, on_failure, on_finish } = e as CronEntry & Record<string, unknown>;
  assert.equal({ schedules, catch_up_window, catch_up, overlap_policy, max_concurrent, retry_backoff, on_success, on_failure, on_finish }, {
    schedules: [], catch_up_window: 0, catch_up: 'ONE', overlap_policy: 'SKIP', max_concurrent: 1, retry_backoff: { type: 'FIXED', max_delay: 3600, jitter: 0 },
    on_success: [], on_failure: [], on_finish: [],
  }, 'what it did before these fields existed');
  const hour = new Date(clock.now());
  hour.setMinutes(60, 0, 0); // the next minute 00 of the host's zone
  assert.is(e.next_run, hour.toISOString());
  clock.advanceTo(Date.parse(e.next_run!));
  const [run] = await endedRuns(c, 500, 1);
  assert.is(run!.state, 'SUCCESS');
  assert.is(((await create({})) as CronEntry).id, 501, 'ids go on from the stored next id');
});

test('the daemon logged no errors along the way', () => {
  assert.equal(d.logs.filter((l) => (l.level as number) >= 50), []);
});

test.run();
