// Chains through a real daemon with real commands: A -> B -> C where B fails, so B's on_failure and
// on_finish branches run and C does not; every started run is a child job of the one whose end
// started it (parent_id), so core.get_jobs shows the tree. Unknown targets, self-starts and cycles
// are refused at create/update naming the field; a cron job in another's chain cannot be deleted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { callError, endedRuns, runsOf, type CronEntry, type JobRecord } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { until } from './helpers/until.js';
import { coreModule } from '../methods/core.js';
import { cronjobModule } from '../methods/cronjob.js';
import { jobsModule } from '../methods/jobs.js';

let d: TestDaemon;
let c: Client;

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, jobsModule, cronjobModule] });
  c = await Client.connect(d.socketPath);
});
test.after(async () => {
  await c.close();
  await d.cleanup();
});

// Enabled (a disabled cron job is not started by a chain) but scheduled once a year: the runs here are the chains'.
const YEARLY = { minute: '0', hour: '0', dom: '1', month: '1' };

async function create(description: string, command: string, more: Record<string, unknown> = {}): Promise<CronEntry> {
  return (await c.call('cronjob.create', { user: 'root', description, command, schedule: YEARLY, ...more })) as CronEntry;
}

async function problems(method: string, ...params: unknown[]): Promise<Array<[string, string]>> {
  const e = await callError(c, method, ...params);
  return (e.data.extra as Array<[string, string]>).map(([a, m]) => [a, m]);
}

type Job = JobRecord & { parent_id: number | null };
const ids: Record<string, number> = {};

test('A -> B -> C with B failing: on_failure and on_finish of B run as children of B, C does not run; the tree shows in core.get_jobs', async () => {
  // Targets first: a chain names cron jobs that exist.
  for (const name of ['C', 'D', 'E']) ids[name] = (await create(name, 'true')).id;
  ids.B = (await create('B', 'echo broken; exit 2', { on_success: [ids.C], on_failure: [ids.D], on_finish: [ids.E] })).id;
  const a = await create('A', 'true', { on_success: [ids.B], on_failure: [ids.C] });
  ids.A = a.id;
  assert.equal([a.on_success, a.on_failure, a.on_finish], [[ids.B], [ids.C], []]);

  const top = (await c.call('cronjob.run', ids.A)) as number;
  const [dRun] = await endedRuns(c, ids.D!, 1);
  const [eRun] = await endedRuns(c, ids.E!, 1);
  const [aRun] = await endedRuns(c, ids.A!, 1);
  const [bRun] = await endedRuns(c, ids.B!, 1);
  assert.is(aRun!.id, top);
  assert.equal([aRun!.state, bRun!.state, dRun!.state, eRun!.state], ['SUCCESS', 'FAILED', 'SUCCESS', 'SUCCESS']);
  assert.is((aRun as Job).parent_id, null);
  assert.is((bRun as Job).parent_id, aRun!.id, 'B is a child of A\'s run');
  assert.is((dRun as Job).parent_id, bRun!.id, 'on_failure: D is a child of B\'s run');
  assert.is((eRun as Job).parent_id, bRun!.id, 'on_finish: E is a child of B\'s run');
  assert.equal(await runsOf(c, ids.C!), [], 'on_success of B (and on_failure of A) did not run');

  // The tree, one level at a time, as a client walks it.
  const children = async (id: number) => ((await c.call('core.get_jobs', [['parent_id', '=', id]], { order_by: ['id'], select: ['id', 'method', 'arguments'] })) as Job[]).map((j) => j.arguments[0]);
  assert.equal(await children(aRun!.id), [ids.B]);
  assert.equal((await children(bRun!.id)).sort(), [ids.D, ids.E].sort());
  assert.equal(await children(dRun!.id), []);
});

test('a child starts after its parent\'s run has ended, and a disabled target is not started', async () => {
  const [aRun] = await runsOf(c, ids.A!);
  const [bRun] = await runsOf(c, ids.B!);
  assert.ok(bRun!.id > aRun!.id);
  assert.ok((bRun!.time_started as unknown as { $date: number }).$date >= (aRun!.time_finished as unknown as { $date: number }).$date);
  const off = (await c.call('cronjob.create', { user: 'root', command: 'true', enabled: false })) as CronEntry;
  // A disabled cron job can be chained; it is not run while disabled.
  const starter = await create('starter', 'true', { on_finish: [off.id] });
  const run = (await c.call('cronjob.run', starter.id)) as number;
  await until(() => d.logs.some((l) => l.msg === 'chained cron job is disabled: not started' && l.cronjob === off.id && l.parent === run), 'the chain to pass over the disabled target');
  assert.equal(await runsOf(c, off.id), []);
});

test('chains are checked at create/update: unknown targets, self, cycles; the field is named', async () => {
  assert.equal(await problems('cronjob.create', { user: 'root', command: 'true', on_failure: [ids.C, 9999] }), [['cron_job_create.on_failure.1', 'Cron job 9999 does not exist']]);
  assert.equal(await problems('cronjob.update', ids.A, { on_finish: [ids.A] }), [['cron_job_update.on_finish.0', 'A cron job cannot start itself']]);
  // A -> B -> D; D -> A would close it.
  assert.equal(await problems('cronjob.update', ids.D, { on_success: [ids.A] }), [['cron_job_update.on_success.0', `Chains would form a cycle: ${ids.D} -> ${ids.A} -> ${ids.B} -> ${ids.D}`]]);
  assert.equal(await problems('cronjob.update', ids.C, { on_failure: [ids.E, ids.B] }), [['cron_job_update.on_failure.1', `Chains would form a cycle: ${ids.C} -> ${ids.B} -> ${ids.C}`]]);
  const attrs = (await callError(c, 'cronjob.create', { user: 'root', command: 'true', on_success: [1, 1] })).data.extra as Array<[string]>;
  assert.equal(attrs.map(([a]) => a), ['cron_job_create.on_success'], 'each target once');
  const unchanged = (await c.call('cronjob.get_instance', ids.D)) as CronEntry;
  assert.equal(unchanged.on_success, [], 'a refused update changes nothing');
});

test('a cron job in another\'s chain is not deleted; once out of it, it is', async () => {
  const e = await callError(c, 'cronjob.delete', ids.B);
  assert.is(e.data.error, 16);
  assert.match(e.data.reason, new RegExp(`Cron job ${ids.B} is started by the chains \\(on_success, on_failure, on_finish\\) of cron job ${ids.A}: take it out of them first`));
  await c.call('cronjob.update', ids.A, { on_success: [] });
  assert.is(await c.call('cronjob.delete', ids.B), true);
});

test('the daemon logged no errors along the way', () => {
  assert.equal(d.logs.filter((l) => (l.level as number) >= 50), []);
});

test.run();
