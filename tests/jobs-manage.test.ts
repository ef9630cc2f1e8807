// Managing the job history (issue 19 item 8) against a real daemon: core.job_delete removes the
// finished jobs a filter matches and their log files and nothing else, core.job_abort_many aborts
// what may be aborted, core.job_update sets tags (and cron runs take their cron job's), all
// audited and limited to the caller's own jobs unless it is a full admin; calls stay answered
// while a large delete runs.
import { access } from 'node:fs/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_AUTH } from '../daemon/config.js';
import type { JobRecord as StoredJob } from '../daemon/jobs/types.js';
import { jobEnd, type JobRecord } from './helpers/cronjob.js';
import { Client, startDaemon, type Message, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';
import { until } from './helpers/until.js';

type Job = JobRecord & { method: string; tags: string[] };
const PW = 'manage-password-1';
let d: TestDaemon;
let root: Client;

test.before(async () => {
  d = await startDaemon({ modules, auth: { ...DEFAULT_AUTH, failDelayMs: 50 }, limits: { anonCallsPerMinute: 10_000 }, jobs: { purgeIntervalMs: 3_600_000 } });
  root = await Client.connect(d.socketPath);
});
test.after(async () => {
  await root.close();
  await d.cleanup();
});

async function login(username: string): Promise<Client> {
  await root.call('user.create', { username, password: PW, roles: ['TEST_WRITE'], full_name: username });
  const c = await Client.connect(d.url);
  const r = (await c.call('auth.login_ex', { mechanism: 'PASSWORD_PLAIN', username, password: PW })) as { response_type: string };
  assert.is(r.response_type, 'SUCCESS');
  return c;
}

const all = async (): Promise<Job[]> => (await root.call('core.get_jobs', [], { order_by: ['id'] })) as Job[];
const exists = (path: string) => access(path).then(() => true, () => false);
const started = async (c: Client, o: Record<string, unknown>): Promise<number> => (await c.call('test.job', o)) as number;
const finished = async (c: Client, o: Record<string, unknown>): Promise<Job> => (await jobEnd(root, await started(c, o))) as Job;
const errname = (m: Message) => m.error?.data?.errname;

test('core.job_delete: the finished jobs matching, with their log files, and nothing else; others only their own', async () => {
  const alice = await login('alice');
  const watcher = await Client.connect(d.socketPath);
  await watcher.call('core.subscribe', 'core.get_jobs');
  try {
    const ok = [await finished(root, { steps: 1, delay: 1 }), await finished(root, { steps: 2, delay: 1 })];
    const failed = [await finished(root, { steps: 1, delay: 1, fail: 'call' }), await finished(root, { steps: 1, delay: 1, fail: 'unexpected' })];
    const noop = (await jobEnd(root, (await root.call('test.noop')) as number)) as Job;
    const mine = [await finished(alice, { steps: 1, delay: 1 }), await finished(alice, { steps: 1, delay: 1, fail: 'call' })];
    const running = await started(root, { steps: 1000, delay: 50 });
    await until(async () => (await all()).find((j) => j.id === running && j.state === 'RUNNING'), 'the long job to run');
    for (const j of [...ok, ...failed, ...mine]) assert.ok(await exists(j.logs_path!), `log of ${j.id}`);
    const before = await all();

    assert.is(await root.call('core.job_delete', [['method', '=', 'test.job'], ['state', '=', 'FAILED']]), 3);
    const after = await all();
    assert.equal(after.map((j) => j.id), before.map((j) => j.id).filter((id) => !failed.some((f) => f.id === id) && id !== mine[1]!.id), 'the admin deleted every failed test.job, alice\'s too');
    for (const f of [...failed, mine[1]!]) assert.not.ok(await exists(f.logs_path!), `log of ${f.id} removed`);
    for (const j of [...ok, mine[0]!]) assert.ok(await exists(j.logs_path!), `log of ${j.id} kept`);

    // alice deletes "everything": only her own finished jobs go.
    assert.is(await alice.call('core.job_delete', [['id', '=', ok[0]!.id]]), 0, 'not hers');
    assert.is(await alice.call('core.job_delete', []), 1);
    assert.equal((await all()).map((j) => j.id), after.map((j) => j.id).filter((id) => id !== mine[0]!.id));
    assert.not.ok(await exists(mine[0]!.logs_path!));

    // A filter that matches the running job too: it stays, running.
    assert.is(await root.call('core.job_delete', [['method', '=', 'test.job']]), 2);
    const left = await all();
    assert.ok(left.some((j) => j.id === running && j.state === 'RUNNING'), 'the running job is untouched');
    assert.ok(left.some((j) => j.id === noop.id), 'another method is untouched');
    assert.is(await root.call('core.get_jobs', [['method', '=', 'test.job']], { count: true }), 1, 'the index count agrees');
    const since = new Date(Date.now() - 3600_000).toISOString();
    assert.is(await root.call('core.get_jobs', [['state', '=', 'FAILED'], ['time_finished.$date', '>=', since]], { count: true }), left.filter((j) => j.state === 'FAILED').length, 'the summary counters agree');

    const deleted = [...failed, ...mine, ...ok].map((j) => j.id);
    await until(() => deleted.every((id) => watcher.received.some((m) => (m.params as { msg?: string; id?: number } | undefined)?.msg === 'removed' && m.params!.id === id)), 'a removed event per deleted job');
    const audits = d.logs.filter((l) => l.audit === true && l.method === 'core.job_delete');
    assert.is(audits.length, 4, 'every call audited');
    assert.ok(audits.some((l) => l.user === 'alice'));

    const bad = await root.request('core.job_delete', [[['state', 'like', 'X']]]);
    assert.equal((bad.error?.data?.extra as unknown[][])[0]![0], 'filters');
    assert.is(errname(await root.request('core.job_delete', [])), 'EINVAL', 'filters are required: [] is an explicit "all"');
    await root.call('core.job_abort', running);
    await jobEnd(root, running);

    // Deleted is deleted after a restart.
    await watcher.close();
    await root.close();
    await d.stop();
    d = await startDaemon({ modules, dataDir: d.dataDir, auth: { ...DEFAULT_AUTH, failDelayMs: 50 } });
    root = await Client.connect(d.socketPath);
    assert.equal((await root.call('core.get_jobs', [['id', 'in', deleted]])) as Job[], []);
  } finally {
    await alice.close();
    await watcher.close();
  }
});

test('core.job_abort_many: the matching jobs the caller may abort; not abortable ones are listed and keep running', async () => {
  const bob = await login('bob');
  try {
    const mine = await Promise.all([1, 2, 3].map(() => root.call('test.until_aborted') as Promise<number>));
    const fixed = (await root.call('test.fixed', 60_000)) as number;
    const his = await Promise.all([1, 2].map(() => bob.call('test.until_aborted') as Promise<number>));
    await until(async () => (await root.call('core.get_jobs', [['state', '=', 'RUNNING']], { count: true })) === 6, 'six running jobs');

    assert.equal(await bob.call('core.job_abort_many', [['method', '=', 'test.until_aborted']]), { aborted: his, not_abortable: [] });
    for (const id of his) assert.is((await jobEnd(root, id)).state, 'ABORTED');
    assert.is(await root.call('core.get_jobs', [['id', 'in', mine], ['state', '=', 'RUNNING']], { count: true }), 3, "the admin's jobs still run");

    assert.equal(await root.call('core.job_abort_many', [['state', '=', 'RUNNING']]), { aborted: mine, not_abortable: [fixed] });
    for (const id of mine) assert.is((await jobEnd(root, id)).state, 'ABORTED');
    assert.is(((await root.call('core.get_jobs', [['id', '=', fixed]], { get: true })) as Job).state, 'RUNNING');
    assert.ok(d.logs.some((l) => l.audit === true && l.method === 'core.job_abort_many' && l.user === 'bob'));
    assert.equal(((await root.request('core.job_abort_many', [[['nope']]])).error?.data?.extra as unknown[][])[0]![0], 'filters');
  } finally {
    await bob.close();
  }
});

test('tags: core.job_update on finished and running jobs, kept through the end and a restart; cron runs take their cron job\'s tags', async () => {
  const carol = await login('carol');
  try {
    const done = await finished(root, { steps: 1, delay: 1 });
    const updated = (await root.call('core.job_update', done.id, { tags: ['nightly', 'db', 'nightly'] })) as Job;
    assert.equal(updated.tags, ['nightly', 'db'], 'each once');
    const running = await started(root, { steps: 1000, delay: 20 });
    await root.call('core.job_update', running, { tags: ['live'] });
    await root.call('core.job_abort', running);
    assert.equal(((await jobEnd(root, running)) as Job).tags, ['live'], 'the final record keeps them');
    assert.equal(((await root.call('core.get_jobs', [['tags', 'rin', 'nightly']], { select: ['id'] })) as Job[]).map((j) => j.id), [done.id]);

    const refused = await carol.request('core.job_update', [done.id, { tags: ['mine'] }]);
    assert.is(errname(refused), 'EPERM');
    const bad = await root.request('core.job_update', [done.id, { tags: ['ok', 'bad\nline'] }]);
    assert.equal((bad.error?.data?.extra as unknown[][]).map((e) => e[0]), ['data.tags.1']);
    assert.equal(((await root.request('core.job_update', [done.id, { tags: [''] }])).error?.data?.extra as unknown[][])[0]![0], 'data.tags.0');
    assert.ok(d.logs.some((l) => l.audit === true && l.method === 'core.job_update' && l.ok === false && l.user === 'carol'), 'refusals are audited too');

    const cron = (await root.call('cronjob.create', { user: 'root', command: 'true', tags: ['backup', 'offsite'], schedule: { minute: '0', hour: '0', dom: '1', month: '1' } })) as { id: number };
    const run = (await jobEnd(root, (await root.call('cronjob.run', cron.id)) as number)) as Job;
    assert.equal(run.tags, ['backup', 'offsite']);
    assert.equal(((await jobEnd(root, (await root.call('test.noop')) as number)) as Job).tags, [], 'no tags: an empty list');

    await carol.close();
    await root.close();
    await d.stop();
    d = await startDaemon({ modules, dataDir: d.dataDir });
    root = await Client.connect(d.socketPath);
    assert.equal(((await root.call('core.get_jobs', [['id', 'in', [done.id, running, run.id]]], { order_by: ['id'] })) as Job[]).map((j) => j.tags), [['nightly', 'db'], ['live'], ['backup', 'offsite']]);
  } finally {
    await carol.close();
  }
});

test('while a delete of 20,000 jobs runs, other calls are answered before it ends', async () => {
  const store = d.daemon.jobs.store;
  const now = Date.now() - (Date.now() % 1000);
  const ids: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    const id = await store.allocateId();
    ids.push(id);
    const r: StoredJob = {
      id, message_ids: [], method: 'test.noop', arguments: [], transient: false, description: null, abortable: false, logs_path: null, logs_excerpt: null,
      progress: { percent: 100, description: '', extra: null }, result: null, result_encoding_error: null, error: null, exception: null, exc_info: null,
      state: 'SUCCESS', time_started: now, time_finished: now, credentials: { type: 'UNIX_SOCKET', data: { username: 'root' } }, parent_id: null, owner: 'UNIX_SOCKET:root',
    };
    void store.put(r, null);
  }
  await until(async () => (await root.call('core.get_jobs', [['id', '=', ids[ids.length - 1]!]])) !== null && (await root.call('core.get_jobs', [['method', '=', 'test.noop']], { count: true })) as number >= 20_000, 'the seeded history');
  const pinger = await Client.connect(d.socketPath);
  try {
    const order: string[] = [];
    const deleting = root.call('core.job_delete', [['method', '=', 'test.noop']]).then((n) => (order.push('delete'), n));
    // Pings sent after the delete started, one after another: each answered while it still runs.
    for (let i = 0; i < 5; i++) {
      await pinger.call('core.ping');
      order.push('ping');
    }
    assert.ok((await deleting) as number >= 20_000);
    assert.equal(order.slice(0, 5), ['ping', 'ping', 'ping', 'ping', 'ping'], order.join(' '));
    assert.is(await root.call('core.get_jobs', [['method', '=', 'test.noop']], { count: true }), 0);
  } finally {
    await pinger.close();
  }
});

test.run();
