// Job trees (issue 19 items 5 and 8): the parent index answers core.get_jobs' parent_id filters
// (a job's children, the top-level jobs) exactly as a brute-force filter would, counts included;
// deleted jobs leave it; a store of the previous layout gets the index once at start.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { JobStore } from '../daemon/jobs/store.js';
import type { JobRecord } from '../daemon/jobs/types.js';
import { jobEnd } from './helpers/cronjob.js';
import { Client, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { modules } from './helpers/modules.js';

type Job = { id: number; parent_id: number | null; state: string; method: string };
let d: TestDaemon;
let c: Client;
let dir = '';

test.before(async () => {
  d = await startDaemon({ modules });
  c = await Client.connect(d.socketPath);
  dir = await mkdtemp(join(tmpdir(), 'midship-tree-'));
});
test.after(async () => {
  await c.close();
  await d.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const ids = (jobs: Job[]) => jobs.map((j) => j.id);

test('parent_id filters: children and top-level jobs, listed and counted, as a brute-force filter', async () => {
  const bulks: number[] = [];
  for (const n of [3, 2]) bulks.push((await jobEnd(c, (await c.call('core.bulk', 'test.noop', Array.from({ length: n }, () => []))) as number)).id);
  const nested = (await jobEnd(c, (await c.call('core.bulk', 'core.bulk', [['test.noop', [[], []]]])) as number)).id;
  await jobEnd(c, (await c.call('test.noop')) as number);
  const all = (await c.call('core.get_jobs', [], { order_by: ['id'] })) as Job[];
  const cases: unknown[][] = [
    [['parent_id', '=', bulks[0]]],
    [['parent_id', 'in', bulks]],
    [['parent_id', '=', null]],
    [['parent_id', '=', null], ['method', '=', 'core.bulk']],
    [['parent_id', '=', nested]],
    [['parent_id', 'in', [null, nested]]],
    [['parent_id', '=', 'x']],
    [['parent_id', '=', 0]],
    [['parent_id', '=', bulks[1]], ['state', '=', 'SUCCESS']],
  ];
  const brute = (filters: unknown[]) => all.filter((j) => filters.every((f) => {
    const [field, op, value] = f as [keyof Job, string, unknown];
    return op === '=' ? j[field] === value : (value as unknown[]).includes(j[field]);
  }));
  for (const filters of cases) {
    const expected = ids(brute(filters));
    assert.equal(ids((await c.call('core.get_jobs', filters, { order_by: ['id'] })) as Job[]), expected, JSON.stringify(filters));
    assert.equal(ids((await c.call('core.get_jobs', filters, { order_by: ['-id'], limit: 2 })) as Job[]), [...expected].reverse().slice(0, 2), `${JSON.stringify(filters)} newest first`);
    assert.is(await c.call('core.get_jobs', filters, { count: true }), expected.length, `${JSON.stringify(filters)} counted`);
  }
  assert.is(brute([['parent_id', '=', bulks[0]]]).length, 3);
  const grandchildren = brute([['parent_id', '=', brute([['parent_id', '=', nested]])[0]!.id]]);
  assert.is(grandchildren.length, 2, 'a nested bulk is a tree of three levels');

  assert.is(await c.call('core.job_delete', [['parent_id', '=', bulks[0]]]), 3);
  assert.equal((await c.call('core.get_jobs', [['parent_id', '=', bulks[0]]])) as Job[], []);
  assert.is(await c.call('core.get_jobs', [['parent_id', '=', bulks[0]]], { count: true }), 0, 'their index entries went with them');
});

test('a store of the previous layout gets its parent index once, at start', async () => {
  const path = join(dir, 'layout2');
  let db = new ClassicLevel<string, unknown>(path, { valueEncoding: 'json' });
  let store = new JobStore(db);
  await store.open();
  const rec = (id: number, parent: number | null): JobRecord => ({
    id, message_ids: [], method: 'x.run', arguments: [], transient: false, description: null, abortable: false, logs_path: null, logs_excerpt: null,
    progress: { percent: 0, description: '', extra: null }, result: null, result_encoding_error: null, error: null, exception: null, exc_info: null,
    state: 'SUCCESS', time_started: 1_000_000, time_finished: 1_000_000, credentials: null, parent_id: parent, owner: null,
  });
  for (const [id, parent] of [[1, null], [2, 1], [3, 1], [4, null], [5, 4]] as const) await store.put(rec(id, parent), null);
  // What the previous layout had: no parent index.
  await db.sublevel<string, unknown>(['jobs', 'by_parent'], { valueEncoding: 'json' }).clear();
  await db.sublevel<string, unknown>(['jobs', 'meta'], { valueEncoding: 'json' }).put('layout', 2);
  await db.close();
  db = new ClassicLevel<string, unknown>(path, { valueEncoding: 'json' });
  store = new JobStore(db);
  assert.is((await store.open()).migrated, 5);
  const children = async (parents: number[]) => {
    const out: number[] = [];
    for await (const r of store.scan({ parents })) out.push(r.id);
    return out;
  };
  assert.equal(await children([1]), [2, 3]);
  assert.equal(await children([0]), [1, 4]);
  assert.is(await store.count({ parents: [4] }), 1);
  await db.close();
  db = new ClassicLevel<string, unknown>(path, { valueEncoding: 'json' });
  store = new JobStore(db);
  assert.is((await store.open()).migrated, 0, 'only once');
  await db.close();
});

test.run();
