// JobStore over a real classic-level db, and the job log helpers over real files.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ID_BLOCK, JobStore, padId, type ScanOptions } from '../daemon/jobs/store.js';
import { JobLogWriter, followLog, logsExcerpt, removeLog } from '../daemon/jobs/logs.js';
import type { JobRecord, JobState } from '../daemon/jobs/types.js';

type Db = ClassicLevel<string, unknown>;

let root = '';
let dbCounter = 0;

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'midship-job-store-'));
});

test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

function newDbPath(): string {
  return join(root, `db${++dbCounter}`);
}

async function openStore(path: string): Promise<{ db: Db; store: JobStore }> {
  const db = new ClassicLevel<string, unknown>(path, { valueEncoding: 'json' });
  await db.open();
  const store = new JobStore(db);
  await store.open();
  return { db, store };
}

function job(id: number, method: string, state: JobState, extra: Partial<JobRecord> = {}): JobRecord {
  const finished = state === 'SUCCESS' || state === 'FAILED' || state === 'ABORTED';
  return {
    id,
    message_ids: [],
    method,
    arguments: [id],
    transient: false,
    description: null,
    abortable: false,
    logs_path: null,
    logs_excerpt: null,
    progress: { percent: 0, description: '', extra: null },
    result: null,
    result_encoding_error: null,
    error: null,
    exception: null,
    exc_info: null,
    state,
    time_started: 1_000_000 + id,
    time_finished: finished ? 2_000_000 + id : null,
    credentials: null,
    ...extra,
  };
}

async function collect(store: JobStore, options: ScanOptions): Promise<number[]> {
  const ids: number[] = [];
  for await (const r of store.scan(options)) ids.push(r.id);
  return ids;
}

async function indexKeys(db: Db, part: string): Promise<string[]> {
  return db.sublevel<string, unknown>(['jobs', part], { valueEncoding: 'json' }).keys().all();
}

// ---------------------------------------------------------------- ids

test('ids increase across close/reopen and after purging the newest jobs', async () => {
  const path = newDbPath();
  let { db, store } = await openStore(path);
  const first = [await store.allocateId(), await store.allocateId(), await store.allocateId()];
  assert.equal(first, [1, 2, 3]);
  for (const id of first) await store.put(job(id, 'a.run', 'SUCCESS'));
  await db.close();

  // A restart continues past the block reserved before it (ids 4..1000 were never handed out).
  ({ db, store } = await openStore(path));
  const next = await store.allocateId();
  assert.is(next, ID_BLOCK + 1);
  await store.put(job(next, 'a.run', 'FAILED'));
  const removed = await store.purge({ maxFinished: 0, maxAgeMs: Infinity, now: 0 });
  assert.equal(removed.map((r) => r.id).sort((x, y) => x - y), [1, 2, 3, next]);
  assert.is(await store.count(), 0);
  await db.close();

  // No record is left, so only the durable id mark keeps the old ids from coming back.
  ({ db, store } = await openStore(path));
  const after = await store.allocateId();
  assert.ok(after > next, `${after} > ${next}`);
  assert.is(await store.allocateId(), after + 1);
  await db.close();
});

test('ids handed out are never reused even when their records never reached the store', async () => {
  const path = newDbPath();
  let { db, store } = await openStore(path);
  const ids: number[] = [];
  for (let i = 0; i < 5; i++) ids.push(await store.allocateId());
  await db.close(); // as after a crash: the ids were handed out, no record was written
  ({ db, store } = await openStore(path));
  assert.ok((await store.allocateId()) > Math.max(...ids));
  await db.close();
});

test('open() reports a store whose newest records are gone (ids far past the newest job)', async () => {
  const path = newDbPath();
  let { db, store } = await openStore(path);
  for (let i = 0; i < 3 * ID_BLOCK; i++) await store.put(job(await store.allocateId(), 'a.run', 'SUCCESS'));
  // Damage: the newest records vanish (what a dropped log tail or a restored backup does).
  const recs = db.sublevel<string, unknown>(['jobs', 'rec'], { valueEncoding: 'json' });
  await recs.clear({ gt: padId(10) });
  await db.close();
  db = new ClassicLevel<string, unknown>(path, { valueEncoding: 'json' });
  await db.open();
  store = new JobStore(db);
  const report = await store.open();
  assert.equal(report.lostIds, { newest: 10, mark: 3 * ID_BLOCK + 1 });
  assert.ok((await store.allocateId()) > 3 * ID_BLOCK);
  await db.close();
  // A store that only purged its newest jobs lost nothing.
  ({ db, store } = await openStore(newDbPath()));
  for (let i = 0; i < 3 * ID_BLOCK; i++) await store.put(job(await store.allocateId(), 'a.run', 'SUCCESS'));
  await store.purge({ maxFinished: 0, maxAgeMs: Infinity, now: 0 });
  await db.close();
});

test('open() also starts past the highest stored record', async () => {
  const path = newDbPath();
  let { db, store } = await openStore(path);
  await store.put(job(41, 'a.run', 'SUCCESS'));
  await db.close();
  ({ db, store } = await openStore(path));
  assert.is(await store.allocateId(), 42);
  await db.close();
});

// ---------------------------------------------------------------- put / get

test('put then get and getMany return the stored record', async () => {
  const { db, store } = await openStore(newDbPath());
  const rec = job((await store.allocateId()), 'pool.scrub', 'WAITING', {
    arguments: [{ name: 'tank', nested: [1, 'two', null] }],
    credentials: { type: 'UNIX_SOCKET', data: { username: 'root' } },
    internal: { pgid: 1234 },
  });
  await store.put(rec);
  assert.equal(await store.get(rec.id), rec);
  assert.is(await store.get(999), undefined);
  assert.is(await store.get(-1), undefined);
  assert.equal(await store.getMany([999, rec.id, 1.5]), [undefined, rec, undefined]);
  await db.close();
});

test('indexes follow state changes, with and without previousState', async () => {
  const { db, store } = await openStore(newDbPath());
  const rec = job((await store.allocateId()), 'disk.wipe', 'WAITING');
  await store.put(rec);
  await store.put({ ...rec, state: 'RUNNING' }, 'WAITING');
  // Not awaited in between: the store must apply these in call order.
  const p1 = store.put({ ...rec, state: 'RUNNING', progress: { percent: 50, description: 'x', extra: null } }, 'RUNNING');
  const p2 = store.put({ ...rec, state: 'SUCCESS', time_finished: 5 }); // previousState read back
  await Promise.all([p1, p2]);

  assert.equal(await indexKeys(db, 'by_state'), [`SUCCESS\x00${'1'.padStart(12, '0')}`]);
  assert.equal(await indexKeys(db, 'by_method'), [`disk.wipe\x00${'1'.padStart(12, '0')}`]);
  assert.is((await store.get(rec.id))?.state, 'SUCCESS');
  assert.is(await store.count({ states: ['WAITING'] }), 0);
  assert.is(await store.count({ states: ['RUNNING'] }), 0);
  assert.is(await store.count({ states: ['SUCCESS'] }), 1);
  await db.close();
});

test('puts issued without waiting land in call order', async () => {
  const { db, store } = await openStore(newDbPath());
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < 200; i++) {
    const rec = job((await store.allocateId()), METHODS[i % 3]!, 'WAITING');
    // No previousState: each put must see the record the previous call wrote.
    pending.push(store.put(rec), store.put({ ...rec, state: 'RUNNING' }), store.put({ ...rec, state: 'FAILED' }));
  }
  await Promise.all(pending);
  assert.is(await store.count({ states: ['FAILED'] }), 200);
  assert.is(await store.count({ states: ['WAITING', 'RUNNING'] }), 0);
  assert.is((await indexKeys(db, 'by_state')).length, 200);
  await db.close();
});

// ---------------------------------------------------------------- scan / count

const METHODS = ['a.one', 'b.two', 'c.three'];
const STATES: JobState[] = ['WAITING', 'RUNNING', 'SUCCESS', 'FAILED', 'ABORTED'];

async function seed(store: JobStore, n: number): Promise<JobRecord[]> {
  const all: JobRecord[] = [];
  for (let i = 0; i < n; i++) {
    const id = (await store.allocateId());
    // Different periods so method and state vary independently.
    const rec = job(id, METHODS[id % 3]!, STATES[(id * 7) % 5]!);
    all.push(rec);
    await store.put(rec);
  }
  return all;
}

function expected(all: JobRecord[], o: ScanOptions): number[] {
  const ids = all
    .filter((r) => (o.gte === undefined || r.id >= o.gte) && (o.lte === undefined || r.id <= o.lte))
    .filter((r) => o.methods === undefined || o.methods.includes(r.method))
    .filter((r) => o.states === undefined || o.states.includes(r.state))
    .map((r) => r.id)
    .sort((x, y) => x - y);
  return o.reverse === true ? ids.reverse() : ids;
}

test('scan and count with methods, states, ranges and reverse', async () => {
  const { db, store } = await openStore(newDbPath());
  // More than one getMany chunk (100) so chunking is exercised.
  const all = await seed(store, 260);
  const cases: ScanOptions[] = [
    {},
    { reverse: true },
    { gte: 17, lte: 133 },
    { gte: 17, lte: 133, reverse: true },
    { gte: 250 },
    { lte: 3 },
    { gte: 10, lte: 9 },
    { methods: ['b.two'] },
    { methods: ['a.one', 'c.three'] },
    { methods: ['a.one', 'c.three'], reverse: true },
    { methods: ['c.three', 'a.one', 'a.one'], gte: 30, lte: 90, reverse: true },
    { methods: ['nope'] },
    { methods: [] },
    { states: ['SUCCESS'] },
    { states: ['SUCCESS', 'FAILED', 'ABORTED'] },
    { states: ['WAITING', 'RUNNING'], reverse: true },
    { states: ['FAILED', 'WAITING'], gte: 100, lte: 200 },
    { methods: ['b.two', 'c.three'], states: ['RUNNING', 'ABORTED'] },
    { methods: ['b.two', 'c.three'], states: ['RUNNING', 'ABORTED'], reverse: true, gte: 50 },
  ];
  for (const o of cases) {
    const want = expected(all, o);
    assert.equal(await collect(store, o), want, `scan ${JSON.stringify(o)}`);
    const { reverse: _r, ...countOptions } = o;
    assert.is(await store.count(countOptions), want.length, `count ${JSON.stringify(o)}`);
  }
  await db.close();
});

test('scan stops early without leaking iterators', async () => {
  const { db, store } = await openStore(newDbPath());
  await seed(store, 30);
  const got: number[] = [];
  for await (const r of store.scan({ methods: ['a.one', 'b.two'], reverse: true })) {
    got.push(r.id);
    if (got.length === 3) break;
  }
  assert.equal(got, [30, 28, 27]); // ids with id % 3 in {0, 1}
  await db.close(); // would fail or hang on open iterators in a broken implementation
});

// ---------------------------------------------------------------- recovery

test('recoverInterrupted fails WAITING and RUNNING jobs and leaves the rest', async () => {
  const { db, store } = await openStore(newDbPath());
  const all = await seed(store, 40);
  const active = all.filter((r) => r.state === 'WAITING' || r.state === 'RUNNING').map((r) => r.id);
  assert.ok(active.length > 0);
  const recovered = await store.recoverInterrupted(7_777, 'Interrupted by daemon restart');
  assert.equal(recovered.map((r) => r.id), active);
  for (const r of recovered) {
    const stored = await store.get(r.id);
    assert.equal(stored, r);
    assert.is(r.state, 'FAILED');
    assert.is(r.error, 'Interrupted by daemon restart');
    assert.is(r.time_finished, 7_000, 'whole seconds');
    assert.equal(r.exc_info, { repr: 'Interrupted by daemon restart', type: 'Interrupted', errno: 4, extra: null });
  }
  assert.is(await store.count({ states: ['WAITING', 'RUNNING'] }), 0);
  const untouched = all.filter((r) => !active.includes(r.id));
  for (const r of untouched) assert.equal(await store.get(r.id), r);
  assert.is(await store.count({ states: ['FAILED'] }), all.filter((r) => r.state === 'FAILED').length + active.length);
  assert.is((await indexKeys(db, 'by_state')).length, all.length);
  await db.close();
});

// ---------------------------------------------------------------- purge

test('purge by count keeps the newest finished jobs and every active job', async () => {
  const { db, store } = await openStore(newDbPath());
  // 2,500 finished jobs (several purge steps), with active jobs among them.
  const activeIds = new Set([5, 1200, 2499, 2503]);
  for (let i = 0; i < 2504; i++) {
    const id = (await store.allocateId());
    await store.put(job(id, METHODS[id % 3]!, activeIds.has(id) ? 'RUNNING' : STATES[2 + (id % 3)]!));
  }
  const removed = await store.purge({ maxFinished: 100, maxAgeMs: Infinity, now: 0 });
  const finishedIds = Array.from({ length: 2504 }, (_, i) => i + 1).filter((id) => !activeIds.has(id));
  const kept = finishedIds.slice(-100);
  assert.equal(removed.map((r) => r.id).sort((x, y) => x - y), finishedIds.slice(0, -100));
  assert.equal(await collect(store, {}), [...activeIds, ...kept].sort((x, y) => x - y));
  assert.is(await store.count({ states: ['RUNNING'] }), 4);
  assert.is((await indexKeys(db, 'by_state')).length, 104);
  assert.is((await indexKeys(db, 'by_method')).length, 104);
  // Purging again with the same limits removes nothing.
  assert.equal(await store.purge({ maxFinished: 100, maxAgeMs: Infinity, now: 0 }), []);
  await db.close();
});

test('purge by age removes old finished jobs only', async () => {
  const { db, store } = await openStore(newDbPath());
  const recs = [
    job(1, 'x', 'SUCCESS', { time_finished: 100 }),
    job(2, 'x', 'RUNNING', { time_started: 1 }),
    job(3, 'x', 'FAILED', { time_finished: 500 }),
    // A job that ran long: created early, finished late; age counts from time_finished.
    job(4, 'x', 'ABORTED', { time_started: 2, time_finished: 950 }),
    job(5, 'x', 'WAITING', { time_started: 3 }),
    job(6, 'x', 'SUCCESS', { time_finished: 300 }),
  ];
  for (const r of recs) await store.put(r);
  const removed = await store.purge({ maxFinished: 1000, maxAgeMs: 600, now: 1000 }); // cutoff 400
  assert.equal(removed.map((r) => r.id).sort(), [1, 6]);
  assert.equal(await collect(store, {}), [2, 3, 4, 5]);
  await db.close();
});

// ---------------------------------------------------------------- log writer

test('JobLogWriter keeps order under 10,000 rapid appends and coalesces writes', async () => {
  const path = join(root, 'order.log');
  const w = new JobLogWriter(path);
  const chunks: Array<[string, number]> = [];
  w.onChunk((chunk, offset) => chunks.push([chunk, offset]));
  let endCalls = 0;
  w.onEnd(() => endCalls++);
  let want = '';
  for (let i = 0; i < 10_000; i++) {
    const line = `line ${i} ${i % 7 === 0 ? 'é✓' : ''}\n`;
    want += line;
    w.append(line);
  }
  assert.not.ok(w.closed);
  await w.close();
  assert.ok(w.closed);
  assert.ok(w.ended);
  assert.is(endCalls, 1);
  assert.is(w.error, null);
  assert.is(await readFile(path, 'utf8'), want);
  assert.is(w.bytesWritten, Buffer.byteLength(want));
  assert.ok(chunks.length < 10_000, `${chunks.length} writes`);
  let offset = 0;
  for (const [chunk, at] of chunks) {
    assert.is(at, offset);
    offset += Buffer.byteLength(chunk);
  }
  assert.is(chunks.map(([c]) => c).join(''), want);
  w.append('after close\n'); // ignored
  await w.close();
  assert.is(await readFile(path, 'utf8'), want);
});

test('JobLogWriter drops text beyond its backlog limit and says so', async () => {
  const path = join(root, 'bounded.log');
  const w = new JobLogWriter(path, { maxPending: 100 });
  const firstChunk = new Promise<void>((resolve) => w.onChunk(() => resolve()));
  // The file is not even open yet, so all of this waits in memory.
  for (let i = 0; i < 1000; i++) w.append('x'.repeat(10));
  await firstChunk;
  w.append('tail\n');
  await w.close();
  assert.is(await readFile(path, 'utf8'), `${'x'.repeat(100)}\n[... 9900 characters of log output dropped ...]\ntail\n`);
});

test('JobLogWriter creates an empty file when closed without output', async () => {
  const path = join(root, 'empty.log');
  await new JobLogWriter(path).close();
  assert.is(await readFile(path, 'utf8'), '');
  assert.is(await logsExcerpt(path), '');
});

// ---------------------------------------------------------------- followLog

test('followLog delivers the full log exactly once to followers joining at any time', async () => {
  const path = join(root, 'follow.log');
  const w = new JobLogWriter(path);
  const followers: Array<{ text: string; done: Promise<void> }> = [];
  const addFollower = (): void => {
    const f = { text: '', done: Promise.resolve() };
    f.done = followLog(path, w, (t) => (f.text += t), new AbortController().signal);
    followers.push(f);
  };
  addFollower(); // before anything was written (the file does not exist yet)
  let want = '';
  for (let i = 0; i < 3000; i++) {
    const line = `${i}: ${'ü'.repeat(i % 13)}🙂\n`;
    want += line;
    w.append(line);
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    if (i % 400 === 7) addFollower(); // mid-stream, often while a write is in flight
  }
  addFollower();
  const closing = w.close();
  addFollower(); // while closing
  await closing;
  addFollower(); // after the end: file content only
  await Promise.all(followers.map((f) => f.done));
  assert.is(await readFile(path, 'utf8'), want);
  followers.forEach((f, i) => assert.is(f.text.length, want.length, `follower ${i}`));
  followers.forEach((f, i) => assert.ok(f.text === want, `follower ${i} content`));
});

test('followLog without a writer sends the file and resolves; a missing file is empty', async () => {
  const path = join(root, 'finished.log');
  await writeFile(path, 'a\nb\n');
  let got = '';
  await followLog(path, null, (t) => (got += t), new AbortController().signal);
  assert.is(got, 'a\nb\n');
  got = '';
  await followLog(join(root, 'nope.log'), null, (t) => (got += t), new AbortController().signal);
  assert.is(got, '');
});

test('followLog resolves when its signal aborts', async () => {
  const path = join(root, 'abort.log');
  const w = new JobLogWriter(path);
  w.append('first\n');
  const ac = new AbortController();
  let got = '';
  const following = followLog(path, w, (t) => {
    got += t;
    if (got.includes('second')) ac.abort();
  }, ac.signal);
  await new Promise((resolve) => setImmediate(resolve));
  w.append('second\n');
  await following; // the writer is still open: only the abort ends this
  assert.ok(got.startsWith('first\nsecond\n'));
  w.append('third\n');
  await w.close();
  assert.not.ok(got.includes('third'));
});

// ---------------------------------------------------------------- excerpt / remove

function lines(n: number, trailingNewline = true): string {
  const body = Array.from({ length: n }, (_, i) => `line ${i + 1}`).join('\n');
  return trailingNewline && n > 0 ? `${body}\n` : body;
}

test('logsExcerpt: up to 20 lines are returned whole', async () => {
  const path = join(root, 'short.log');
  await writeFile(path, lines(20));
  assert.is(await logsExcerpt(path), lines(20));
  await writeFile(path, lines(3, false));
  assert.is(await logsExcerpt(path), 'line 1\nline 2\nline 3');
});

test('logsExcerpt: more than 20 lines give head, count and tail', async () => {
  const path = join(root, 'long.log');
  await writeFile(path, lines(21));
  const head = Array.from({ length: 10 }, (_, i) => `line ${i + 1}\n`).join('');
  const tail21 = Array.from({ length: 10 }, (_, i) => `line ${i + 12}\n`).join('');
  assert.is(await logsExcerpt(path), `${head}... 1 more lines ...\n${tail21}`);

  // Large enough to span many read chunks; the last line has no newline.
  await writeFile(path, lines(200_000, false));
  const tailBig = Array.from({ length: 10 }, (_, i) => `line ${199_991 + i}`).join('\n');
  assert.is(await logsExcerpt(path), `${head}... 199980 more lines ...\n${tailBig}`);
});

test('logsExcerpt: missing file', async () => {
  assert.is(await logsExcerpt(join(root, 'missing.log')), 'Log file was removed');
});

test('removeLog deletes the file and ignores a missing one', async () => {
  const path = join(root, 'gone.log');
  await writeFile(path, 'x');
  await removeLog(path);
  assert.is(await logsExcerpt(path), 'Log file was removed');
  await removeLog(path);
});

test.run();
