// The job engine (issue 4): states, events, new-style and legacy calls, progress throttling,
// abort, locks, logs, queries, bulk, job_wait, downloads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { Client, startDaemon, type Message, type TestDaemon } from './helpers/daemon.js';
import { coreModule } from '../methods/core.js';
import { jobsModule } from '../methods/jobs.js';
import { testModule } from './helpers/test-module.js';

let d: TestDaemon;
let c: Client;

type Job = Record<string, unknown> & { id: number; state: string; progress: { percent: number; description: string; extra: unknown }; message_ids: unknown[] };

test.before(async () => {
  d = await startDaemon({ modules: [coreModule, jobsModule, testModule] });
  c = await Client.connect(d.socketPath);
  await c.call('core.subscribe', 'core.get_jobs');
});
test.after(async () => {
  await c.close();
  await d.cleanup();
});

function jobEvents(client: Client, id: number): Array<{ msg: string; fields: Job }> {
  return client.received
    .filter((m) => m.method === 'collection_update' && (m.params as { collection: string; id: number }).collection === 'core.get_jobs' && (m.params as { id: number }).id === id)
    .map((m) => m.params as { msg: string; fields: Job });
}

function ended(client: Client, id: number): Promise<Message> {
  return client.waitFor((m) => {
    const p = m.params as { collection?: string; id?: number; fields?: Job } | undefined;
    return p?.collection === 'core.get_jobs' && p.id === id && ['SUCCESS', 'FAILED', 'ABORTED'].includes(p.fields!.state) && p.fields!.time_finished !== null && (p.fields!.logs_path === null || p.fields!.logs_excerpt !== null);
  });
}

async function waitEnd(client: Client, id: number): Promise<Job> {
  return ((await ended(client, id)).params as { fields: Job }).fields;
}

const FIELDS = ['id', 'message_ids', 'method', 'arguments', 'transient', 'description', 'abortable', 'logs_path', 'logs_excerpt', 'progress', 'result', 'result_encoding_error', 'error', 'exception', 'exc_info', 'state', 'time_started', 'time_finished', 'credentials'];

test('legacy job: the id comes at once, added before the response, events in order, full job objects', async () => {
  const r = await c.request('test.job', [{ steps: 2, delay: 20, password: 'hunter2' }]);
  const id = r.result as number;
  assert.type(id, 'number');
  const addedIdx = c.received.findIndex((m) => (m.params as { msg?: string; id?: number } | undefined)?.msg === 'added' && (m.params as { id: number }).id === id);
  assert.ok(addedIdx !== -1 && addedIdx < c.received.indexOf(r), 'added precedes the response');
  const final = await waitEnd(c, id);
  const evs = jobEvents(c, id);
  assert.equal(evs.map((e) => e.msg)[0], 'added');
  assert.is(evs[0]!.fields.state, 'WAITING');
  assert.is(evs[1]!.fields.state, 'RUNNING');
  const states = evs.map((e) => e.fields.state);
  assert.ok(states.indexOf('SUCCESS') > states.lastIndexOf('RUNNING'), 'no state after a terminal one');
  for (const f of FIELDS) assert.ok(f in final, `field ${f}`);
  assert.is(final.state, 'SUCCESS');
  assert.equal(final.result, { steps: 2 });
  assert.is(final.progress.percent, 100);
  assert.is(final.progress.description, 'Step 2');
  assert.equal(final.arguments, [{ steps: 2, delay: 20, password: '********' }]);
  assert.is(final.description, 'Test job with 2 steps');
  assert.ok(typeof (final.time_started as { $date: number }).$date === 'number');
  assert.ok((final.time_finished as { $date: number }).$date >= (final.time_started as { $date: number }).$date);
  assert.is((final.credentials as { type: string }).type, 'UNIX_SOCKET');
  assert.is(final.logs_path, `${d.dataDir}/jobs/${id}.log`);
  assert.is(final.logs_excerpt, 'step 1 of 2\nstep 2 of 2\n');
  assert.is(await readFile(final.logs_path as string, 'utf8'), 'step 1 of 2\nstep 2 of 2\n');
});

test('new-style jobs: message_ids reach the caller first, the response carries the outcome', async () => {
  const n = await Client.connect(d.socketPath);
  assert.equal(await n.call('core.set_options', { legacy_jobs: false }), { legacy_jobs: false, private_methods: false, py_exceptions: false });
  await n.call('core.subscribe', 'core.get_jobs');
  n.send({ jsonrpc: '2.0', id: 'c3', method: 'test.job', params: [{ steps: 1, delay: 5, result: { files: 12 } }] });
  const added = await n.waitFor((m) => (m.params as { msg?: string } | undefined)?.msg === 'added');
  assert.equal((added.params as { fields: Job }).fields.message_ids, ['c3']);
  const resp = await n.waitFor((m) => m.id === 'c3');
  assert.equal(resp.result, { files: 12 });
  const id = (added.params as { id: number }).id;
  const terminal = n.received.findIndex((m) => (m.params as { id?: number; fields?: Job } | undefined)?.id === id && (m.params as { fields: Job }).fields.state === 'SUCCESS');
  assert.ok(terminal !== -1 && terminal < n.received.indexOf(resp), 'terminal event before the response');
  const failed = await n.request('test.job', [{ steps: 0, fail: 'call' }]);
  assert.is(failed.error?.code, -32001);
  assert.is(failed.error?.data?.reason, '[ENOENT] Target nightly does not exist');
  const invalid = await n.request('test.job', [{ steps: 0, fail: 'validation' }]);
  assert.is(invalid.error?.code, -32602);
  assert.equal(invalid.error?.data?.extra, [['o.steps', 'too few steps', 22]]);
  await n.close();
});

test('failed jobs carry error, exception and exc_info', async () => {
  const id = (await c.call('test.job', { steps: 0, fail: 'call' })) as number;
  const j = await waitEnd(c, id);
  assert.is(j.state, 'FAILED');
  assert.is(j.error, '[ENOENT] Target nightly does not exist');
  assert.match(String(j.exception), /CallError/);
  assert.equal(j.exc_info, { repr: "CallError(\"Target nightly does not exist\", 2, None)", type: 'CallError', errno: 2, extra: null });
  assert.is(j.result, null);
  const v = await waitEnd(c, (await c.call('test.job', { steps: 0, fail: 'validation' })) as number);
  assert.is((v.exc_info as { type: string }).type, 'VALIDATION');
  assert.equal((v.exc_info as { extra: unknown }).extra, [['o.steps', 'too few steps', 22]]);
  const u = await waitEnd(c, (await c.call('test.job', { steps: 0, fail: 'unexpected' })) as number);
  assert.is(u.error, 'RangeError: unexpected failure');
  assert.ok(d.logs.some((l) => l.msg === 'job raised an unexpected error' && l.job === u.id));
});

test('progress: integer percent, sent only on change, throttled; the last value arrives', async () => {
  const id = (await c.call('test.flood', 100_000)) as number;
  const j = await waitEnd(c, id);
  assert.is(j.state, 'SUCCESS');
  assert.is(j.progress.percent, 100);
  assert.is(j.progress.description, 'item 99999');
  const changes = jobEvents(c, id).length;
  assert.ok(changes < 200, `${changes} events for 100,000 progress calls`);
  const seen = jobEvents(c, id).map((e) => e.fields.progress.percent);
  assert.ok(seen.every((p) => Number.isInteger(p)));
});

test('abort: WAITING at once, RUNNING through the signal, ignoring handlers still ABORTED, non-abortable refused', async () => {
  const running = (await c.call('test.locked', 'first', 300)) as number;
  const waiting = (await c.call('test.locked', 'second', 10)) as number;
  assert.is(await c.call('core.job_abort', waiting), null);
  const w = await waitEnd(c, waiting);
  assert.is(w.state, 'ABORTED');
  assert.is(w.error, null);
  assert.not.ok(jobEvents(c, waiting).some((e) => e.fields.state === 'RUNNING'));
  assert.is((await waitEnd(c, running)).state, 'SUCCESS');
  const long = (await c.call('test.job', { steps: 100, delay: 20 })) as number;
  await c.waitFor((m) => (m.params as { id?: number; fields?: Job } | undefined)?.id === long && (m.params as { fields: Job }).fields.state === 'RUNNING');
  await c.call('core.job_abort', long);
  const l = await waitEnd(c, long);
  assert.is(l.state, 'ABORTED');
  assert.is(l.exc_info, null);
  const stubborn = (await c.call('test.stubborn', 100)) as number;
  await c.call('core.job_abort', stubborn);
  assert.is((await waitEnd(c, stubborn)).state, 'ABORTED');
  const fixed = (await c.call('test.fixed', 50)) as number;
  const refused = await c.request('core.job_abort', [fixed]);
  assert.is(refused.error?.data?.errname, 'EOPNOTSUPP');
  const unknown = await c.request('core.job_abort', [999_999]);
  assert.equal(unknown.error?.data?.extra, [[null, 'Job with id 999999 does not exist', 2]]);
  await waitEnd(c, fixed);
});

test('locks: one at a time in submission order; queue size N coalesces; size 0 refuses with EBUSY', async () => {
  const ids: number[] = [];
  ids.push((await c.call('test.locked', 'a', 80)) as number);
  ids.push((await c.call('test.locked', 'b', 10)) as number);
  ids.push((await c.call('test.locked', 'c', 10)) as number);
  const r = await c.request('test.locked', ['d', 10]);
  assert.is(r.result, ids[2], 'the third waiting call folds into the last queued job');
  const folded = jobEvents(c, ids[2]!).at(-1)!.fields.message_ids;
  assert.is(folded.length, 2);
  const ends = await Promise.all(ids.map((id) => waitEnd(c, id)));
  const finishedAt = ends.map((e) => (e.time_finished as { $date: number }).$date);
  assert.ok(finishedAt[0]! <= finishedAt[1]! && finishedAt[1]! <= finishedAt[2]!);
  assert.equal(ends.map((e) => e.result), ['a', 'b', 'c']);
  const x = (await c.call('test.exclusive', 200)) as number;
  await c.waitFor((m) => (m.params as { id?: number; fields?: Job } | undefined)?.id === x && (m.params as { fields: Job }).fields.state === 'RUNNING');
  const busy = await c.request('test.exclusive', [1]);
  assert.is(busy.error?.data?.reason, '[EBUSY] This job is already being performed');
  await waitEnd(c, x);
});

test('core.get_jobs: filters, order, limit, count, get, select, redacted arguments', async () => {
  const all = (await c.call('core.get_jobs')) as Job[];
  assert.ok(all.length > 10);
  assert.ok(all.every((j, i) => i === 0 || j.id > all[i - 1]!.id), 'ascending ids by default');
  const newest = (await c.call('core.get_jobs', [], { order_by: ['-id'], limit: 3 })) as Job[];
  assert.equal(newest.map((j) => j.id), all.slice(-3).map((j) => j.id).reverse());
  const failed = (await c.call('core.get_jobs', [['state', '=', 'FAILED']], { order_by: ['-id'] })) as Job[];
  assert.ok(failed.length >= 3 && failed.every((j) => j.state === 'FAILED'));
  assert.is(await c.call('core.get_jobs', [['state', '=', 'FAILED']], { count: true }), failed.length);
  assert.is(await c.call('core.get_jobs', [['state', 'in', ['FAILED', 'ABORTED']], ['method', '^', 'test.']], { count: true }), all.filter((j) => ['FAILED', 'ABORTED'].includes(j.state)).length);
  const one = (await c.call('core.get_jobs', [['method', '=', 'test.flood']], { get: true, select: ['id', 'progress.percent', ['method', 'm']] })) as Record<string, unknown>;
  assert.equal(Object.keys(one).sort(), ['id', 'm', 'progress']);
  assert.equal(one.progress, { percent: 100 });
  const byPath = (await c.call('core.get_jobs', [['arguments.0.password', '=', '********']])) as Job[];
  assert.is(byPath.length, 1);
  const orAndNested = (await c.call('core.get_jobs', [['OR', [['result', '=', 'a'], [['method', '=', 'test.locked'], ['result', '=', 'c']]]]], { order_by: ['result'] })) as Job[];
  assert.equal(orAndNested.map((j) => j.result), ['a', 'c']);
  const byId = (await c.call('core.get_jobs', [['id', 'in', [all[1]!.id, all[0]!.id, 999_999]]])) as Job[];
  assert.equal(byId.map((j) => j.id), [all[0]!.id, all[1]!.id], 'id lookups read the records directly');
  assert.is(((await c.call('core.get_jobs', [['id', '=', all[2]!.id]], { get: true })) as Job).id, all[2]!.id);
  assert.is(await c.call('core.get_jobs', [['id', '=', all[2]!.id], ['state', '=', 'RUNNING']], { count: true }), 0);
  const bad = await c.request('core.get_jobs', [[['state', 'like', 'x']]]);
  assert.is(bad.error?.code, -32602);
  assert.is((bad.error?.data?.extra as unknown[][])[0]![0], 'filters');
  const badOpt = await c.request('core.get_jobs', [[], { limit: -1 }]);
  assert.is((badOpt.error?.data?.extra as unknown[][])[0]![0], 'options.limit');
  const none = await c.request('core.get_jobs', [[['id', '=', -5]], { get: true }]);
  assert.is(none.error?.data?.reason, 'MatchNotFound()');
});

test('a result JSON cannot encode gives result_encoding_error; the listing still works', async () => {
  const id = (await c.call('test.bad_result')) as number;
  const j = await waitEnd(c, id);
  assert.is(j.state, 'SUCCESS');
  assert.is(j.result, null);
  assert.match(String(j.result_encoding_error), /BigInt/);
  const list = (await c.call('core.get_jobs')) as Job[];
  assert.ok(list.some((x) => x.id === id));
});

test('core.job_logs:{"id":N} follows a log live and ends with notify_unsubscribed', async () => {
  const f = await Client.connect(d.socketPath);
  const id = (await f.call('test.job', { steps: 5, delay: 30 })) as number;
  const name = `core.job_logs:{"id": ${id}}`;
  await f.call('core.subscribe', name);
  const end = await f.waitFor((m) => m.method === 'notify_unsubscribed' && (m.params as { collection: string }).collection === name);
  assert.is((end.params as { error: unknown }).error, null);
  const text = f.received.filter((m) => (m.params as { collection?: string } | undefined)?.collection === name && m.method === 'collection_update').map((m) => ((m.params as { fields: { data: string } }).fields.data)).join('');
  assert.is(text, [1, 2, 3, 4, 5].map((i) => `step ${i} of 5\n`).join(''));
  await f.call('core.subscribe', `core.job_logs:{"id": ${id}}`);
  await f.waitFor((m) => m.method === 'notify_unsubscribed' && f.received.filter((x) => x.method === 'notify_unsubscribed').length === 2);
  await f.close();
});

function httpGet(path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request({ socketPath: d.socketPath, path }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => (body += b.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    }).on('error', reject).end();
  });
}

test('downloads: job logs and job output through single-use tokens', async () => {
  const id = (await c.call('test.job', { steps: 2, delay: 1 })) as number;
  await waitEnd(c, id);
  const url = (await c.call('core.job_download_logs', id, '../../etc/passwd"x.log')) as string;
  assert.match(url, new RegExp(`^/_download/${id}\\?auth_token=`));
  const got = await httpGet(url);
  assert.is(got.status, 200);
  assert.is(got.body, 'step 1 of 2\nstep 2 of 2\n');
  assert.is(got.headers['content-disposition'], 'attachment; filename="passwd_x.log"');
  assert.is((await httpGet(url)).status, 401, 'a used token is refused');
  assert.is((await httpGet(`/_download/${id}?auth_token=wrong`)).status, 401);
  assert.is((await httpGet('/_download/abc?auth_token=x')).status, 404);
  const [jobId, out] = (await c.call('core.download', 'test.export', [3], 'export.txt')) as [number, string];
  const dl = await httpGet(out);
  assert.is(dl.status, 200);
  assert.is(dl.body, 'line 0\nline 1\nline 2\n');
  assert.is((await waitEnd(c, jobId)).result, 3);
  const noLogs = await c.request('core.job_download_logs', [jobId, 'x']);
  assert.is(noLogs.error?.data?.reason, '[EFAULT] This job has no logs');
});

test('core.bulk: sequential calls, per-call results, a failure never stops the batch', async () => {
  const id = (await c.call('core.bulk', 'test.job', [[{ steps: 0, result: 1 }], [{ steps: 0, fail: 'call' }], [{ steps: 0, result: 3 }]], 'Job {0[steps]}')) as number;
  const j = await waitEnd(c, id);
  assert.is(j.state, 'SUCCESS');
  const res = j.result as Array<{ job_id: number; result: unknown; error: string | null }>;
  assert.is(res.length, 3);
  assert.equal(res.map((x) => x.result), [1, null, 3]);
  assert.is(res[1]!.error, '[ENOENT] Target nightly does not exist');
  assert.ok(res.every((x) => typeof x.job_id === 'number'));
  const descs = jobEvents(c, id).map((e) => e.fields.progress.description);
  assert.ok(descs.includes('0 / 3: Job 0') || descs.includes('1 / 3: Job 0') || descs.includes('2 / 3: Job 0'), JSON.stringify(descs));
  const plain = (await c.call('core.bulk', 'core.ping', [[], [1]])) as number;
  const p = await waitEnd(c, plain);
  assert.equal((p.result as Array<{ result: unknown }>).map((x) => x.result), ['pong', null]);
  assert.is((p.result as Array<{ job_id: unknown }>)[0]!.job_id, null);
  assert.equal(await c.call('core.bulk', 'core.ping', []), (await c.call('core.get_jobs', [], { order_by: ['-id'], limit: 1 }) as Job[])[0]!.id);
});

test('core.job_wait mirrors the target and ends with its outcome', async () => {
  const n = await Client.connect(d.socketPath);
  await n.call('core.set_options', { legacy_jobs: false });
  const target = (await c.call('test.job', { steps: 3, delay: 30, result: 'done' })) as number;
  assert.is(await n.call('core.job_wait', target), 'done');
  const bad = (await c.call('test.job', { steps: 1, delay: 10, fail: 'call' })) as number;
  const r = await n.request('core.job_wait', [bad]);
  assert.is(r.error?.data?.reason, '[ENOENT] Target nightly does not exist');
  assert.is(await n.call('core.job_wait', target), 'done', 'an already finished job');
  await n.close();
});

test.run();
