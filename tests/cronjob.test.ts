// cronjob.* (issue 7) against a real daemon with real child processes: CRUD in the TrueNAS shape,
// redaction, validation paths, progress lines, streams, exit codes, timeout, abort, retries, the
// scheduler, history and restarts. No timed assertions: every wait is bounded polling.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { alive, callError, getJob, jobEnd, pidsIn, readLog, run, runToEnd, type CronEntry, type JobRecord } from './helpers/cronjob.js';
import { until } from './helpers/until.js';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { cronjobModule } from '../methods/cronjob.js';

const MODULES = [coreModule, jobsModule, cronjobModule];
let d: TestDaemon;
let c: Client;
let work: string;

test.before(async () => {
  d = await startDaemon({ modules: MODULES });
  c = await Client.connect(d.socketPath);
  work = await mkdtemp(join(tmpdir(), 'midship-cron-work-'));
});
test.after(async () => {
  await c.close();
  await d.cleanup();
  await rm(work, { recursive: true, force: true });
});

async function dir(): Promise<string> {
  return mkdtemp(join(work, 'd-'));
}

async function create(data: Record<string, unknown>): Promise<CronEntry> {
  return (await c.call('cronjob.create', { user: 'root', ...data })) as CronEntry;
}

function cronEvents(client: Client, id: number): Array<{ msg: string; fields?: CronEntry }> {
  return client.received
    .filter((m) => m.method === 'collection_update' && (m.params as { collection: string }).collection === 'cronjob.query' && (m.params as { id: number }).id === id)
    .map((m) => m.params as { msg: string; fields?: CronEntry });
}

const LOG_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(cronjob|stdout|stderr)\] /;

test('roles derive from SYSTEM_CRON: query/get_instance read, create/update/delete/run write; the event needs SYSTEM_CRON_READ', () => {
  const roles = (m: string) => d.daemon.registry.get(m)!.roles;
  assert.equal(roles('cronjob.query'), ['SYSTEM_CRON_READ']);
  assert.equal(roles('cronjob.get_instance'), ['SYSTEM_CRON_READ']);
  for (const m of ['cronjob.create', 'cronjob.update', 'cronjob.delete', 'cronjob.run']) assert.equal(roles(m), ['SYSTEM_CRON_WRITE'], m);
  assert.equal(d.daemon.registry.events.get('cronjob.query')!.roles, ['SYSTEM_CRON_READ']);
  const run = d.daemon.registry.get('cronjob.run')!.def;
  assert.is(run.job!.abortable, true);
  assert.is(run.job!.logs, true);
  assert.equal(run.args.map((a) => a.name), ['id', 'skip_disabled', 'origin']);
  assert.equal(d.daemon.registry.get('cronjob.create')!.def.args.map((a) => a.name), ['cron_job_create']);
  assert.equal(d.daemon.registry.get('cronjob.update')!.def.args.map((a) => a.name), ['id', 'cron_job_update']);
});

test('create/query/get_instance/update/delete: TrueNAS shape and defaults, environment redacted everywhere, events', async () => {
  const l = await Client.connect(d.socketPath);
  await l.call('core.subscribe', 'cronjob.query');
  const e = await create({ command: 'echo hi', environment: { TOKEN: 's3cret' }, schedule: { minute: '30', hour: '2' }, description: 'nightly' });
  assert.type(e.id, 'number');
  const { id, next_run, ...rest } = e;
  assert.equal(rest, {
    enabled: true,
    description: 'nightly',
    command: 'echo hi',
    user: 'root',
    stdout: true,
    stderr: false,
    schedule: { minute: '30', hour: '2', dom: '*', month: '*', dow: '*' },
    timeout: 3600,
    retries: 0,
    retry_delay: 60,
    environment: { TOKEN: '******' },
    working_directory: null,
    tags: [],
    schedules: [],
    catch_up_window: 0,
    catch_up: 'ONE',
    overlap_policy: 'SKIP',
    max_concurrent: 1,
    retry_backoff: { type: 'FIXED', max_delay: 3600, jitter: 0 },
    on_success: [],
    on_failure: [],
    on_finish: [],
    last_run: null,
  });
  const next = new Date(next_run!);
  assert.ok(next.getTime() > Date.now() - 1000);
  assert.is(next.getHours(), 2);
  assert.is(next.getMinutes(), 30);
  assert.equal(await c.call('cronjob.get_instance', id), e);
  assert.equal(await c.call('cronjob.query', [['id', '=', id]]), [e]);
  assert.equal(await c.call('cronjob.query', [['description', '=', 'nightly']], { select: ['id', 'schedule.hour'] }), [{ id, schedule: { hour: '2' } }]);
  assert.is(await c.call('cronjob.query', [['id', '=', id]], { count: true }), 1);
  const added = await l.waitFor((m) => (m.params as { msg?: string; id?: number } | undefined)?.msg === 'added' && (m.params as { id: number }).id === id);
  assert.equal((added.params as { fields: CronEntry }).fields.environment, { TOKEN: '******' });

  // Sending the redacted value back keeps the stored secret; schedule fields merge.
  const u = (await c.call('cronjob.update', id, { environment: { TOKEN: '******', OTHER: 'x' }, schedule: { minute: '15' }, stdout: false, command: 'printf "%s/%s\\n" "$TOKEN" "$OTHER"', tags: ['a'] })) as CronEntry;
  assert.equal(u.schedule, { minute: '15', hour: '2', dom: '*', month: '*', dow: '*' });
  assert.equal(u.environment, { TOKEN: '******', OTHER: '******' });
  assert.equal(u.tags, ['a']);
  await l.waitFor((m) => (m.params as { msg?: string; id?: number } | undefined)?.msg === 'changed' && (m.params as { id: number }).id === id);
  const j = await runToEnd(c, id);
  assert.is(j.state, 'SUCCESS');
  assert.match(await readLog(j), /\[stdout\] s3cret\/x\n/);
  // The secret never left the daemon in any response or event.
  assert.equal(await c.call('cronjob.get_instance', id, { select: ['environment'] }), { environment: { TOKEN: '******', OTHER: '******' } });
  // (The job log holds it because the command printed it; cronjob responses and events never do.)
  const cronResponses = c.received.filter((m) => typeof m.id === 'string' && JSON.stringify(m).includes('"schedule"'));
  assert.ok(cronResponses.length >= 5);
  assert.not.ok(JSON.stringify(cronResponses).includes('s3cret'));
  assert.not.ok(JSON.stringify(l.received).includes('s3cret'));

  assert.is(await c.call('cronjob.delete', id), true);
  await l.waitFor((m) => (m.params as { msg?: string; id?: number } | undefined)?.msg === 'removed' && (m.params as { id: number }).id === id);
  assert.equal(cronEvents(l, id).map((ev) => ev.msg).filter((m) => m !== 'changed'), ['added', 'removed']);
  const err = await callError(c, 'cronjob.get_instance', id);
  assert.is(err.code, -32602);
  assert.equal(err.data.extra, [[null, `CronJob ${id} does not exist`, 2]]);
  assert.equal(await c.call('cronjob.query', [['id', '=', id]]), []);
  assert.is((await callError(c, 'cronjob.update', id, { enabled: false })).code, -32602);
  assert.is((await callError(c, 'cronjob.delete', id)).code, -32602);
  await l.close();
});

test('bad schedules, unknown users and bad fields are validation errors on their attribute paths', async () => {
  const before = await c.call('cronjob.query', [], { count: true });
  const attrs = async (method: string, ...params: unknown[]) => {
    const e = await callError(c, method, ...params);
    assert.is(e.code, -32602, JSON.stringify(e));
    return (e.data.extra as Array<[string, string, number]>).map(([a]) => a);
  };
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', schedule: { minute: '61' } }), ['cron_job_create.schedule.minute']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', schedule: { hour: '25', dow: 'funday' } }), ['cron_job_create.schedule.hour', 'cron_job_create.schedule.dow']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', schedule: { dom: '31', month: '2' } }), ['cron_job_create.schedule']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', schedule: { minute: '0 0' } }), ['cron_job_create.schedule.minute']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'no-such-user-midship' }), ['cron_job_create.user']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', environment: { '1BAD': 'x' } }), ['cron_job_create.environment.1BAD']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', working_directory: 'relative/dir' }), ['cron_job_create.working_directory']);
  assert.equal(await attrs('cronjob.create', { user: 'root' }), ['cron_job_create.command']);
  assert.equal(await attrs('cronjob.create', { command: 'true', user: 'root', timeout: 0 }), ['cron_job_create.timeout']);
  const e = await callError(c, 'cronjob.create', { command: 'true', user: 'root', schedule: { minute: '61' } });
  assert.match(e.data.reason, /cron_job_create\.schedule\.minute: Invalid minute \(0-59\) expression "61"/);
  assert.is(await c.call('cronjob.query', [], { count: true }), before, 'nothing was created');
  const ok = await create({ command: 'true' });
  assert.equal(await attrs('cronjob.update', ok.id, { schedule: { hour: '24' } }), ['cron_job_update.schedule.hour']);
  assert.equal(await attrs('cronjob.update', ok.id, { bogus: 1 }), ['cron_job_update.bogus']);
  assert.equal(((await c.call('cronjob.get_instance', ok.id)) as CronEntry).schedule.hour, '*', 'a refused update changes nothing');
  await c.call('cronjob.delete', ok.id);
});

test('progress lines set the job progress and stay out of the log; other lines are logged with timestamps', async () => {
  const w = await dir();
  const cmd = [
    'echo before',
    `echo '{"progress": 0.25, "description": "quarter"}'`,
    'while [ ! -e go ]; do sleep 0.05; done',
    `echo '{"percent": 75, "description": "three quarters"}'`,
    'echo after',
  ].join('; ');
  const e = await create({ command: cmd, working_directory: w, stdout: false, description: 'progress demo' });
  const jobId = await run(c, e.id);
  const mid = await until(async () => {
    const j = await getJob(c, jobId);
    return j.progress.percent === 25 ? j : null;
  }, 'progress 25');
  assert.is(mid.progress.description, 'quarter');
  assert.is(mid.state, 'RUNNING');
  assert.is(mid.description, 'Cron job: progress demo');
  assert.equal(mid.arguments, [e.id, false]);
  await writeFile(join(w, 'go'), '');
  const j = await jobEnd(c, jobId);
  assert.is(j.state, 'SUCCESS');
  const result = j.result as { exit_code: number; duration: number; attempts: number };
  assert.is(result.exit_code, 0);
  assert.is(result.attempts, 1);
  assert.type(result.duration, 'number');
  assert.ok(result.duration >= 0);
  assert.is(j.progress.description, 'three quarters');
  const log = await readLog(j);
  for (const line of log.trimEnd().split('\n')) assert.match(line, LOG_LINE);
  assert.match(log, /\[stdout\] before\n/);
  assert.match(log, /\[stdout\] after\n/);
  assert.not.match(log, /\[stdout\].*(progress|percent|quarter)/);
  assert.match(log, /\[cronjob\] attempt 1 of 1: /);
  await c.call('cronjob.delete', e.id);
});

test('stdout and stderr switches decide which streams reach the log', async () => {
  const e = await create({ command: 'echo out1; echo err1 >&2; echo out2; echo err2 >&2', stdout: false, stderr: false });
  const streams = async () => {
    const log = await readLog(await runToEnd(c, e.id));
    return log.split('\n').filter((l) => /\[(stdout|stderr)\]/.test(l)).map((l) => l.replace(/^\S+ /, ''));
  };
  const both = await streams();
  assert.equal(both.filter((l) => l.startsWith('[stdout]')), ['[stdout] out1', '[stdout] out2']);
  assert.equal(both.filter((l) => l.startsWith('[stderr]')), ['[stderr] err1', '[stderr] err2']);
  await c.call('cronjob.update', e.id, { stdout: true });
  assert.equal(await streams(), ['[stderr] err1', '[stderr] err2']);
  await c.call('cronjob.update', e.id, { stdout: false, stderr: true });
  assert.equal(await streams(), ['[stdout] out1', '[stdout] out2']);
  await c.call('cronjob.delete', e.id);
});

test('a non-zero exit fails the job with the exit code and the last lines of output', async () => {
  const e = await create({ command: 'for i in $(seq 1 15); do echo line$i; done; echo oops >&2; exit 3', stdout: false });
  const j = await runToEnd(c, e.id);
  assert.is(j.state, 'FAILED');
  assert.match(j.error!, /^\[EFAULT\] Command exited with status 3\nLast output:\n/);
  assert.match(j.error!, /line15\noops$/);
  assert.not.match(j.error!, /line6\n/, 'only the last 10 lines');
  assert.match(j.error!, /line7\n/);
  assert.is(j.exc_info!.errno, 14);
  assert.is((j.exc_info!.extra as { exit_code: number }).exit_code, 3);
  assert.is((j.exc_info!.extra as { attempts: number }).attempts, 1);
  assert.match(await readLog(j), /\[cronjob\] attempt 1 failed: Command exited with status 3\n/);
  await c.call('cronjob.delete', e.id);
});

test('timeout: the process group is terminated, the job fails "timed out after N s", every process is gone', async () => {
  const w = await dir();
  const e = await create({
    command: "echo $$ > pids; sleep 1000 & echo $! >> pids; sh -c 'sleep 1000' & echo $! >> pids; wait",
    working_directory: w,
    timeout: 1,
    stdout: false,
  });
  const jobId = await run(c, e.id);
  const pids = await pidsIn(join(w, 'pids'), 3);
  const j = await jobEnd(c, jobId);
  assert.is(j.state, 'FAILED');
  assert.match(j.error!, /^\[ETIMEDOUT\] Cron job timed out after 1 s/);
  assert.is(j.exc_info!.errno, 110);
  for (const pid of pids) assert.not.ok(await alive(pid), `pid ${pid} is gone`);
  assert.match(await readLog(j), /\[cronjob\] timed out after 1 s: sent SIGTERM to process group \d+\n/);
  await c.call('cronjob.delete', e.id);
});

test('abort mid-run: SIGTERM to the group, SIGKILL when it is ignored, job ABORTED, processes gone', async () => {
  const w = await dir();
  // The shell and its child ignore SIGTERM: only the SIGKILL after the grace period ends them.
  const e = await create({ command: "trap '' TERM; echo $$ > pids; sleep 1000 & echo $! >> pids; wait; wait; echo survived", working_directory: w, stdout: false });
  const jobId = await run(c, e.id);
  const pids = await pidsIn(join(w, 'pids'), 2);
  for (const pid of pids) assert.ok(await alive(pid));
  assert.is(await c.call('core.job_abort', jobId), null);
  const j = await jobEnd(c, jobId);
  assert.is(j.state, 'ABORTED');
  assert.is(j.error, null);
  for (const pid of pids) assert.not.ok(await alive(pid), `pid ${pid} is gone`);
  const log = await readLog(j);
  assert.match(log, /\[cronjob\] aborted: sent SIGTERM to process group \d+\n/);
  assert.match(log, /\[cronjob\] aborted: sent SIGKILL to process group \d+\n/);
  assert.not.match(log, /\[stdout\] survived/);
  await c.call('cronjob.delete', e.id);
});

test('retries: fails twice then succeeds inside one job, each attempt marked in the log', async () => {
  const w = await dir();
  const e = await create({
    command: 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo "try $n env $MIDSHIP_ATTEMPT"; [ "$n" -ge 3 ]',
    working_directory: w,
    retries: 4,
    retry_delay: 0,
    stdout: false,
  });
  const j = await runToEnd(c, e.id);
  assert.is(j.state, 'SUCCESS');
  assert.equal({ ...(j.result as Record<string, unknown>), duration: 0 }, { exit_code: 0, duration: 0, attempts: 3 });
  const log = await readLog(j);
  for (const n of [1, 2, 3]) {
    assert.match(log, new RegExp(`\\[cronjob\\] attempt ${n} of 5: `));
    assert.match(log, new RegExp(`\\[stdout\\] try ${n} env ${n}\\n`));
  }
  assert.match(log, /\[cronjob\] attempt 2 failed: Command exited with status 1\n/);
  assert.match(log, /\[cronjob\] retrying in 0 s\n/);
  assert.not.match(log, /attempt 4 of 5/);

  const failing = await create({ command: 'echo nope; exit 4', retries: 1, retry_delay: 0, stdout: false });
  const f = await runToEnd(c, failing.id);
  assert.is(f.state, 'FAILED');
  assert.match(f.error!, /^\[EFAULT\] Command exited with status 4 \(after 2 attempts\)\nLast output:\nnope$/);
  assert.is((f.exc_info!.extra as { attempts: number }).attempts, 2);
  await c.call('cronjob.delete', e.id);
  await c.call('cronjob.delete', failing.id);
});

test('abort during the retry delay stops the retrying', async () => {
  const e = await create({ command: 'exit 1', retries: 3, retry_delay: 600 });
  const jobId = await run(c, e.id);
  const logsPath = (await getJob(c, jobId)).logs_path!;
  await until(async () => (await readFile(logsPath, 'utf8').catch(() => '')).includes('retrying in 600 s'), 'the retry delay');
  await c.call('core.job_abort', jobId);
  const j = await jobEnd(c, jobId);
  assert.is(j.state, 'ABORTED');
  const log = await readLog(j);
  assert.match(log, /attempt 1 of 4/);
  assert.not.match(log, /attempt 2 of 4/);
  await c.call('cronjob.delete', e.id);
});

test('cronjob.run(id, true) refuses a disabled cron job; run(id) runs it anyway', async () => {
  const e = await create({ command: 'true', enabled: false });
  assert.is(e.next_run, null);
  const refused = await jobEnd(c, await run(c, e.id, true));
  assert.is(refused.state, 'FAILED');
  assert.match(refused.error!, /Cron job is disabled/);
  assert.is((await runToEnd(c, e.id)).state, 'SUCCESS');
  await c.call('cronjob.delete', e.id);
});

test('the scheduler fires a seconds schedule, skips a tick while a run is active, pauses on disable', async () => {
  const w = await dir();
  const e = await create({ command: 'touch "ran-$MIDSHIP_JOB_ID"; while [ ! -e release ]; do sleep 0.05; done', working_directory: w, schedule: { second: '*', minute: '*' } });
  assert.equal(e.schedule, { minute: '*', hour: '*', dom: '*', month: '*', dow: '*', second: '*' });
  assert.type(e.next_run, 'string');
  const history = () => c.call('core.get_jobs', [['method', '=', 'cronjob.run'], ['arguments.0', '=', e.id]], { order_by: ['-id'] }) as Promise<JobRecord[]>;
  const first = (await until(async () => (await history())[0], 'a scheduled run'))!;
  assert.equal(first.arguments.slice(0, 2), [e.id, true]);
  assert.equal(Object.keys(first.arguments[2] as object), ['scheduled_at', 'caught_up'], 'a scheduled run says when it was due');
  assert.is(first.credentials, null, 'started by the daemon itself');
  await until(() => d.logs.some((l) => l.msg === 'cron job still running: scheduled run skipped' && l.cronjob === e.id), 'a skipped tick');
  assert.is((await history()).length, 1, 'no second run while the first is running');
  const paused = (await c.call('cronjob.update', e.id, { enabled: false })) as CronEntry;
  assert.is(paused.next_run, null);
  await writeFile(join(w, 'release'), '');
  assert.is((await jobEnd(c, first.id)).state, 'SUCCESS');
  const done = (await c.call('cronjob.get_instance', e.id)) as CronEntry;
  assert.equal(done.last_run!.job_id, first.id);
  assert.is(done.last_run!.state, 'SUCCESS');
  assert.type(done.last_run!.time_finished, 'string');
  const resumed = (await c.call('cronjob.update', e.id, { enabled: true })) as CronEntry;
  assert.type(resumed.next_run, 'string');
  const second = await until(async () => (await history()).find((j) => j.id > first.id), 'a run after resuming');
  await jobEnd(c, second.id);
  await c.call('cronjob.update', e.id, { enabled: false });
  await c.call('cronjob.delete', e.id);
});

test('history is the job history: core.get_jobs lists a cron job\'s runs newest first; last_run follows', async () => {
  const e = await create({ command: 'true' });
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) ids.push((await runToEnd(c, e.id)).id);
  const h = (await c.call('core.get_jobs', [['method', '=', 'cronjob.run'], ['arguments.0', '=', e.id]], { order_by: ['-id'] })) as JobRecord[];
  assert.equal(h.map((j) => j.id), [...ids].reverse());
  const last = ((await c.call('cronjob.get_instance', e.id)) as CronEntry).last_run!;
  assert.is(last.job_id, ids[2]);
  assert.is(last.state, 'SUCCESS');
  await c.call('cronjob.delete', e.id);
});

test('runs as the cron job user (daemon is root) with its environment and working directory', async () => {
  if (process.getuid?.() !== 0) return; // needs root to switch users; the refusal is unit-tested
  const w = await dir();
  const e = await create({ user: 'nobody', command: 'id -u; pwd; echo "$GREETING $USER"', working_directory: '/', environment: { GREETING: 'hello' }, stdout: false });
  const j = await runToEnd(c, e.id);
  assert.is(j.state, 'SUCCESS', j.error ?? '');
  const log = await readLog(j);
  assert.match(log, /\[stdout\] 65534\n/);
  assert.match(log, /\[stdout\] \/\n/);
  assert.match(log, /\[stdout\] hello nobody\n/);
  await c.call('cronjob.update', e.id, { user: 'root', working_directory: w, command: 'pwd' });
  assert.match(await readLog(await runToEnd(c, e.id)), new RegExp(`\\[stdout\\] ${w}\\n`));
  await c.call('cronjob.update', e.id, { working_directory: join(w, 'missing') });
  const missing = await runToEnd(c, e.id);
  assert.is(missing.state, 'FAILED');
  assert.match(missing.error!, /Working directory .*missing does not exist/);
  await c.call('cronjob.delete', e.id);
});

test('a restart keeps cron jobs, schedules, ids and last_run; the schedule fires in the new daemon', async () => {
  const data = await mkdtemp(join(tmpdir(), 'midship-cron-restart-'));
  const w = await dir();
  try {
    let a: TestDaemon | null = await startDaemon({ modules: MODULES, dataDir: data });
    let ac = await Client.connect(a.socketPath);
    const mk = async (o: Record<string, unknown>) => (await ac.call('cronjob.create', { user: 'root', ...o })) as CronEntry;
    const off = await mk({ command: 'true', enabled: false, schedule: { minute: '5', hour: '4' }, environment: { K: 'v' } });
    const ran = await mk({ command: 'true', enabled: false, description: 'ran once' });
    const firstRun = await runToEnd(ac, ran.id);
    const doomed = await mk({ command: 'true', enabled: false });
    await ac.call('cronjob.delete', doomed.id);
    const ticking = await mk({ command: 'touch "tick-$MIDSHIP_JOB_ID"', working_directory: w, schedule: { second: '*/1', minute: '*' }, enabled: false });
    const before = (await ac.call('cronjob.query')) as CronEntry[];
    await ac.close();
    await a.stop();
    a = null;

    const b = await startDaemon({ modules: MODULES, dataDir: data });
    const bc = await Client.connect(b.socketPath);
    try {
      const after = (await bc.call('cronjob.query')) as CronEntry[];
      assert.equal(after, before);
      assert.is(after.find((x) => x.id === off.id)!.next_run, null);
      assert.equal(after.find((x) => x.id === ran.id)!.last_run, { job_id: firstRun.id, state: 'SUCCESS', time_finished: new Date((firstRun.time_finished as { $date: number }).$date).toISOString() });
      const fresh = (await bc.call('cronjob.create', { user: 'root', command: 'true', enabled: false })) as CronEntry;
      assert.ok(fresh.id > doomed.id, 'ids are never reused');
      await bc.call('cronjob.update', ticking.id, { enabled: true });
      const fired = await until(async () => ((await bc.call('core.get_jobs', [['method', '=', 'cronjob.run'], ['arguments.0', '=', ticking.id]])) as JobRecord[])[0], 'a scheduled run after the restart');
      assert.ok(fired.id > firstRun.id);
      await jobEnd(bc, fired.id);
      await bc.call('cronjob.update', ticking.id, { enabled: false });
    } finally {
      await bc.close();
      await b.stop();
    }
    // A schedule enabled before a stop comes back enabled and fires without any call.
    const c2 = await startDaemon({ modules: MODULES, dataDir: data });
    const cc = await Client.connect(c2.socketPath);
    try {
      await cc.call('cronjob.update', ticking.id, { enabled: true });
      await cc.close();
      await c2.stop();
      const d3 = await startDaemon({ modules: MODULES, dataDir: data });
      const dc = await Client.connect(d3.socketPath);
      try {
        const seen = ((await dc.call('core.get_jobs', [['method', '=', 'cronjob.run']], { count: true })) as number);
        assert.type(((await dc.call('cronjob.get_instance', ticking.id)) as CronEntry).next_run, 'string');
        await until(async () => ((await dc.call('core.get_jobs', [['method', '=', 'cronjob.run']], { count: true })) as number) > seen, 'the restored schedule to fire');
        await dc.call('cronjob.update', ticking.id, { enabled: false });
      } finally {
        await dc.close();
        await d3.stop();
      }
    } finally {
      await c2.stop();
    }
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});

test('the daemon logged no errors along the way', () => {
  const errors = d.logs.filter((l) => (l.level as number) >= 50);
  assert.equal(errors, []);
});

test.run();
