// The daemon's own alerts against a real daemon: a cron run that fails raises CronJobFailed and
// the next success clears it; cron runs missed while the daemon was down; the data dir's free
// space, stuck WAITING jobs, the daemon's memory, API keys near expiry and repeated failed logins,
// each driven by a threshold the test sets through alertclasses.update.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import { makeAlertModule } from '../methods/alert.js';
import { apiKeyModule } from '../methods/api_key.js';
import { authModule } from '../methods/auth.js';
import { coreModule } from '../methods/core.js';
import { cronjobModule } from '../methods/cronjob.js';
import { ManualClock } from '../methods/delivery/clock.js';
import { jobsModule } from '../methods/jobs.js';
import { userModule } from '../methods/user.js';
import { alertTestModule } from './helpers/alert-test-module.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { until } from './helpers/until.js';

type Alert = { uuid: string; klass: string; level: string; formatted: string; args: Record<string, unknown> };

const base = [coreModule, jobsModule, authModule, userModule, apiKeyModule, cronjobModule, alertTestModule];
const modulesWith = (clock?: ManualClock) => [...base, makeAlertModule(clock ? { clock } : {})];

async function open(o: { clock?: ManualClock; dataDir?: string; fastFailures?: boolean } = {}): Promise<{ d: TestDaemon; c: Client }> {
  const d = await startDaemon({
    modules: modulesWith(o.clock),
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    ...(o.fastFailures ? { auth: { ...DEFAULT_AUTH, failDelayMs: 1 } } : {}),
  });
  const c = await Client.connect(d.socketPath);
  await c.call('core.set_options', { legacy_jobs: false });
  return { d, c };
}

const alerts = async (c: Client, klass: string) => ((await c.call('alert.list')) as Alert[]).filter((a) => a.klass === klass);
const check = (c: Client, source: string) => c.call('alert.process_alerts', [source]);
const setSource = (c: Client, source: string, values: Record<string, unknown>) => c.call('alertclasses.update', { sources: { [source]: values } });

test('a cron run that fails raises CronJobFailed; the next success clears it', async () => {
  const { d, c } = await open();
  const dir = await mkdtemp(join(tmpdir(), 'midship-alert-cron-'));
  const flag = join(dir, 'ok');
  try {
    const cron = (await c.call('cronjob.create', { command: `test -f ${flag}`, user: 'root', description: 'needs the flag', schedule: { minute: '0', hour: '0', dom: '1', month: '1' } })) as { id: number };
    const failed = await c.request('cronjob.run', [cron.id]);
    assert.ok(failed.error, 'the run fails');
    const [raised] = await until(async () => { const a = await alerts(c, 'CronJobFailed'); return a.length > 0 ? a : null; }, 'CronJobFailed');
    assert.is(raised!.level, 'WARNING');
    assert.is(raised!.args.id, cron.id);
    assert.ok(new RegExp(`^Cron job ${cron.id} failed: \\[EFAULT\\] Command exited with status 1 \\(job \\d+, Cron job: needs the flag\\)$`).test(raised!.formatted), raised!.formatted);

    // A second failure is the same alert (one per cron job).
    await c.request('cronjob.run', [cron.id]);
    await until(async () => ((await alerts(c, 'CronJobFailed'))[0]?.args.job_id !== raised!.args.job_id), 'the alert to name the newer run');
    assert.equal((await alerts(c, 'CronJobFailed')).map((a) => a.uuid), [raised!.uuid]);

    await writeFile(flag, '');
    await c.call('cronjob.run', cron.id);
    await until(async () => (await alerts(c, 'CronJobFailed')).length === 0, 'the success to clear CronJobFailed');
  } finally {
    await c.close();
    await d.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
});

test('cron runs missed while the daemon was down raise CronJobMissed once it is back; the next run clears it', async () => {
  // The alert module's clock says when the daemon was last up and when it came back: a day of
  // January 2025 went by down. The cron job runs every hour of January 10 only (never in real time).
  const down = Date.UTC(2025, 0, 10);
  let { d, c } = await open({ clock: new ManualClock(down) });
  try {
    const cron = (await c.call('cronjob.create', { command: 'true', user: 'root', description: 'hourly on the 10th', schedule: { minute: '0', hour: '*', dom: '10', month: '1' } })) as { id: number };
    const disabled = (await c.call('cronjob.create', { command: 'true', user: 'root', enabled: false, schedule: { minute: '0', hour: '*', dom: '10', month: '1' } })) as { id: number };
    assert.equal(await alerts(c, 'CronJobMissed'), []);
    await c.close();
    await d.stop();

    const back = down + 86_400_000;
    ({ d, c } = await open({ clock: new ManualClock(back), dataDir: d.dataDir }));
    // Counted here without the scheduling layer: local hours of January 10 at minute 0 in (down, back].
    const expected: number[] = [];
    for (let t = down + 60_000; t <= back; t += 60_000) {
      const l = new Date(t);
      if (l.getMonth() === 0 && l.getDate() === 10 && l.getMinutes() === 0) expected.push(t);
    }
    const [missed] = await until(async () => { const a = await alerts(c, 'CronJobMissed'); return a.length > 0 ? a : null; }, 'CronJobMissed');
    assert.equal(missed!.args, { id: cron.id, description: 'hourly on the 10th', missed: expected.length, first: new Date(expected[0]!).toISOString() });
    assert.is(missed!.formatted, `Cron job ${cron.id} (hourly on the 10th) missed ${expected.length} scheduled run(s) while the daemon was down, the first at ${new Date(expected[0]!).toISOString()}`);
    assert.not.ok((await alerts(c, 'CronJobMissed')).some((a) => a.args.id === disabled.id), 'a disabled cron job misses nothing');

    await c.call('cronjob.run', cron.id);
    await until(async () => (await alerts(c, 'CronJobMissed')).length === 0, 'the run to clear CronJobMissed');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('data dir free space: below the warning threshold a warning, below the critical one critical, above both nothing', async () => {
  const { d, c } = await open({ clock: new ManualClock() });
  try {
    await check(c, 'DataDirSpace');
    assert.equal(await alerts(c, 'DataDirSpaceLow'), [], 'the defaults (20 % / 10 %) leave this disk alone (it has room)');
    await setSource(c, 'DataDirSpace', { warning_percent: 100 });
    await check(c, 'DataDirSpace');
    const [low] = await alerts(c, 'DataDirSpaceLow');
    assert.ok(low, 'below 100 % free: a warning');
    assert.is(low!.args.path, d.dataDir);
    assert.match(low!.formatted, new RegExp(`^The data directory ${d.dataDir} has \\d+% free space left \\([0-9.]+ GiB\\), below 100%$`));
    await setSource(c, 'DataDirSpace', { critical_percent: 100 });
    await check(c, 'DataDirSpace');
    assert.equal(await alerts(c, 'DataDirSpaceLow'), []);
    assert.is((await alerts(c, 'DataDirSpaceCritical'))[0]?.level, 'CRITICAL');
    await setSource(c, 'DataDirSpace', { warning_percent: 0, critical_percent: 0 });
    await check(c, 'DataDirSpace');
    assert.equal(await alerts(c, 'DataDirSpaceCritical'), []);
    const bad = await c.request('alertclasses.update', [{ sources: { DataDirSpace: { warning_percent: 120 } } }]);
    assert.equal((bad.error?.data as { extra: unknown[] }).extra, [['alertclasses_update.sources.DataDirSpace.warning_percent', 'Expected number to be less or equal to 100', 22]]);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('jobs WAITING longer than the threshold raise JobsWaiting; it clears when the queue moves', async () => {
  const { d, c } = await open();
  try {
    c.send({ jsonrpc: '2.0', id: 'h1', method: 'alerttest.hold', params: [] });
    c.send({ jsonrpc: '2.0', id: 'h2', method: 'alerttest.hold', params: [] });
    const [, second] = await until(async () => {
      const jobs = (await c.call('core.get_jobs', [['method', '=', 'alerttest.hold']], { order_by: ['id'] })) as Array<{ id: number; state: string }>;
      return jobs.length === 2 && jobs[0]!.state === 'RUNNING' && jobs[1]!.state === 'WAITING' ? jobs : null;
    }, 'one hold job running, one waiting');
    await setSource(c, 'JobsWaiting', { seconds: 1 });
    const [waiting] = await until(async () => { await check(c, 'JobsWaiting'); const a = await alerts(c, 'JobsWaiting'); return a.length > 0 ? a : null; }, 'JobsWaiting after a second');
    assert.equal(waiting!.args, { count: 1, seconds: 1, oldest_id: second!.id, method: 'alerttest.hold' });
    for (const j of (await c.call('core.get_jobs', [['method', '=', 'alerttest.hold']])) as Array<{ id: number }>) await c.call('core.job_abort', j.id);
    await until(async () => { await check(c, 'JobsWaiting'); return (await alerts(c, 'JobsWaiting')).length === 0; }, 'JobsWaiting to clear');
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('daemon memory above the limit, and API keys that expire soon or have expired', async () => {
  const clock = new ManualClock(Date.now());
  const { d, c } = await open({ clock });
  try {
    await check(c, 'DaemonMemory');
    assert.equal(await alerts(c, 'DaemonMemoryHigh'), []);
    await setSource(c, 'DaemonMemory', { limit_mib: 1 });
    await check(c, 'DaemonMemory');
    const [mem] = await alerts(c, 'DaemonMemoryHigh');
    assert.is(mem!.args.limit_mib, 1);
    assert.ok((mem!.args.rss_mib as number) % 64 === 0 && (mem!.args.rss_mib as number) >= 64, JSON.stringify(mem!.args));

    const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString();
    const soon = (await c.call('api_key.create', { name: 'backup script', username: 'admin', expires_at: inHours(2) })) as { id: number };
    await c.call('api_key.create', { name: 'later', username: 'admin', expires_at: inHours(24 * 30) });
    await c.call('api_key.create', { name: 'forever', username: 'admin' });
    await check(c, 'ApiKeyExpiry');
    const [expiring] = await alerts(c, 'ApiKeyExpiring');
    assert.equal(expiring!.args.name, 'backup script');
    assert.match(expiring!.formatted, new RegExp(`^API key "backup script" \\(id ${soon.id}, user admin\\) expires at `));
    assert.is((await alerts(c, 'ApiKeyExpiring')).length, 1, 'only the key inside the 7 days');
    clock.advance(3 * 3_600_000); // the key's time has come
    await check(c, 'ApiKeyExpiry');
    assert.equal((await alerts(c, 'ApiKeyExpired')).map((a) => a.args.id), [soon.id]);
    assert.equal(await alerts(c, 'ApiKeyExpiring'), []);
    await c.call('api_key.delete', soon.id);
    await check(c, 'ApiKeyExpiry');
    assert.equal(await alerts(c, 'ApiKeyExpired'), []);
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test('repeated failed logins from one address raise RepeatedFailedLogins; the unix socket does not count', async () => {
  const { d, c } = await open({ fastFailures: true });
  try {
    await setSource(c, 'FailedLogins', { failures: 3, minutes: 10 });
    const tcp = await Client.connect(d.url);
    for (let i = 0; i < 2; i++) assert.is(((await tcp.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'admin', password: `guess${i}` })) as { response_type: string }).response_type, 'AUTH_ERR');
    // Failures over the unix socket (the local administrator) are not counted.
    const local = await Client.connect(d.socketPath);
    for (let i = 0; i < 3; i++) await local.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'admin', password: 'nope' });
    await local.close();
    await check(c, 'FailedLogins');
    assert.equal(await alerts(c, 'RepeatedFailedLogins'), [], 'two failures are below the threshold');
    await tcp.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username: 'mallory', password: 'x' });
    await check(c, 'FailedLogins');
    const [a] = await alerts(c, 'RepeatedFailedLogins');
    assert.equal(a!.args, { address: '127.0.0.1', failures: 3, minutes: 10, username: 'mallory' });
    assert.is(a!.formatted, '3 failed logins from 127.0.0.1 in the last 10 minutes (last user name tried: mallory)');
    await tcp.close();
  } finally {
    await c.close();
    await d.cleanup();
  }
});

test.run();
