// What a job's end looks like to clients (issues 12 and 13): one end event with every field set,
// sent only once the end is stored; the same times in events and in queries, whole seconds as
// the reference sends them; counts over time ranges (the dashboard's summary) answered exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { testModule } from './helpers/test-module.js';

let d: TestDaemon;
let c: Client;

type Job = Record<string, unknown> & { id: number; state: string; time_started: { $date: number }; time_finished: { $date: number } | null; logs_excerpt: string | null };

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, jobsModule, testModule] });
  c = await Client.connect(d.socketPath);
  await c.call('core.subscribe', 'core.get_jobs');
});
test.after(async () => {
  await c.close();
  await d.cleanup();
});

const TERMINAL = ['SUCCESS', 'FAILED', 'ABORTED'];

function events(id: number): Array<{ msg: string; fields: Job }> {
  return c.received
    .filter((m) => m.method === 'collection_update' && (m.params as { collection: string; id: number }).collection === 'core.get_jobs' && (m.params as { id: number }).id === id)
    .map((m) => m.params as { msg: string; fields: Job });
}

async function endEvent(id: number): Promise<Job> {
  const m = await c.waitFor((m) => (m.params as { id?: number; fields?: Job } | undefined)?.id === id && TERMINAL.includes((m.params as { fields: Job }).fields.state));
  return (m.params as { fields: Job }).fields;
}

test('one end event per job, with every field set, its times identical to the query\'s and whole seconds', async () => {
  const ids = [
    (await c.call('test.job', { steps: 3, delay: 5 })) as number,
    (await c.call('test.job', { steps: 2, delay: 5, fail: 'call' })) as number,
    (await c.call('test.until_aborted')) as number,
  ];
  await c.call('core.job_abort', ids[2]);
  for (const id of ids) {
    const end = await endEvent(id);
    // Every end is stored before it is announced: the query answers the same thing at once.
    const queried = (await c.call('core.get_jobs', [['id', '=', id]], { get: true })) as Job;
    assert.equal(queried, end, `job ${id}: event and query agree`);
    assert.is(end.time_started.$date % 1000, 0, 'whole seconds');
    assert.is(end.time_finished!.$date % 1000, 0, 'whole seconds');
    const evs = events(id);
    assert.is(evs.filter((e) => TERMINAL.includes(e.fields.state)).length, 1, `job ${id}: exactly one end event`);
    for (const e of evs) assert.equal(e.fields.time_started, end.time_started, 'time_started never changes');
  }
  const logged = events(ids[0]!).find((e) => e.fields.state === 'SUCCESS')!.fields;
  assert.match(String(logged.logs_excerpt), /step 3 of 3/, 'the end event carries the excerpt');
});

test('counts of a state over a time range (the dashboard summary) match the jobs listed', async () => {
  // New-style calls: each has ended (and is stored) when it answers.
  const w = await Client.connect(d.socketPath);
  await w.call('core.set_options', { legacy_jobs: false });
  for (let i = 0; i < 30; i++) await w.request('test.job', [{ steps: 0, ...(i % 3 === 0 ? { fail: 'call' } : {}) }]);
  await w.close();
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const ranges: unknown[][][] = [
    [['time_finished.$date', '>=', iso(now - 24 * 3600_000)]],
    [['time_finished.$date', '>', iso(now - 60_000)], ['time_finished.$date', '<=', iso(now + 1000)]],
    [['time_started.$date', '>=', iso(now - 3600_000)]],
    [['time_started.$date', '<', iso(now - 3600_000)]],
  ];
  for (const range of ranges) {
    for (const state of [null, 'FAILED', 'SUCCESS', 'RUNNING']) {
      const filters = state === null ? range : [['state', '=', state], ...range];
      const listed = (await c.call('core.get_jobs', filters)) as Job[];
      assert.is(await c.call('core.get_jobs', filters, { count: true }), listed.length, JSON.stringify(filters));
    }
  }
  const failed = (await c.call('core.get_jobs', [['state', '=', 'FAILED'], ranges[0]![0]], { count: true })) as number;
  assert.ok(failed >= 10, `${failed} failed today`);
});

test.run();
