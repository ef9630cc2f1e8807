// JobStore's time indexes, counters and per-owner retention over a real classic-level db: every
// answer is checked against a brute-force count of the same records.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TimeRange } from '../daemon/jobs/counters.js';
import { JobStore, fairShares, padId } from '../daemon/jobs/store.js';
import { TERMINAL_STATES, type JobRecord, type JobState } from '../daemon/jobs/types.js';

type Db = ClassicLevel<string, unknown>;
let root = '';
let n = 0;

test.before(async () => {
  root = await mkdtemp(join(tmpdir(), 'midship-job-counts-'));
});
test.after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function openStore(path = join(root, `db${++n}`)): Promise<{ db: Db; store: JobStore; path: string }> {
  const db = new ClassicLevel<string, unknown>(path, { valueEncoding: 'json' });
  await db.open();
  const store = new JobStore(db);
  await store.open();
  return { db, store, path };
}

const HOUR = 3600_000;
const T0 = Date.UTC(2025, 5, 10, 0, 0, 0);
const STATES: JobState[] = ['WAITING', 'RUNNING', 'SUCCESS', 'FAILED', 'ABORTED'];

/** A deterministic pseudo-random sequence (the test must be the same every run). */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function record(id: number, state: JobState, started: number, finished: number | null, owner: string | null = null): JobRecord {
  return {
    id, message_ids: [], method: id % 2 ? 'a.run' : 'b.run', arguments: [], transient: false, description: null, abortable: false,
    logs_path: null, logs_excerpt: null, progress: { percent: 0, description: '', extra: null }, result: null, result_encoding_error: null,
    error: null, exception: null, exc_info: null, state, time_started: started, time_finished: finished, credentials: null, parent_id: null, owner,
  };
}

function brute(all: JobRecord[], range: TimeRange, states?: string[]): JobRecord[] {
  return all.filter((r) => {
    const t = r[range.field];
    return t !== null && t >= range.gte && t < range.lt && (states === undefined || states.includes(r.state));
  });
}

test('counts by state and time range match a brute-force count, at hour and second edges', async () => {
  const { db, store } = await openStore();
  const next = rng(7);
  const all: JobRecord[] = [];
  // Three days of whole-second times, with clusters right at hour boundaries.
  for (let i = 0; i < 3000; i++) {
    const id = await store.allocateId();
    const state = STATES[Math.floor(next() * 5)]!;
    const base = i % 10 === 0 ? T0 + Math.floor(next() * 72) * HOUR + (next() < 0.5 ? 0 : -1000) : T0 + Math.floor(next() * 72 * 3600) * 1000;
    const finished = TERMINAL_STATES.has(state) ? base + Math.floor(next() * 7200) * 1000 : null;
    const r = record(id, state, base, finished);
    all.push(r);
    await store.put(r, null);
  }
  // Some jobs go through their states as the manager writes them (WAITING, then the end).
  for (const r of all.slice(0, 300)) {
    if (r.state !== 'WAITING') continue;
    const done = { ...r, state: 'SUCCESS' as const, time_finished: r.time_started + 5000 };
    await store.put(done, 'WAITING');
    all[all.indexOf(r)] = done;
  }
  const ranges: TimeRange[] = [];
  for (const field of ['time_started', 'time_finished'] as const) {
    ranges.push({ field, gte: T0 + 24 * HOUR, lt: T0 + 48 * HOUR }); // whole hours
    ranges.push({ field, gte: T0 + 5 * HOUR - 1000, lt: T0 + 7 * HOUR + 1 }); // one second past the edges
    ranges.push({ field, gte: T0 + 5 * HOUR + 1, lt: T0 + 5 * HOUR + 1000 }); // inside one second: none
    ranges.push({ field, gte: T0 + 30 * 60_000, lt: T0 + 90 * 60_000 }); // under two hours
    ranges.push({ field, gte: 0, lt: Infinity });
    for (let i = 0; i < 20; i++) {
      const a = T0 + Math.floor(next() * 80 * HOUR) + Math.floor(next() * 1000);
      ranges.push({ field, gte: a, lt: a + Math.floor(next() * 30 * HOUR) });
    }
  }
  for (const range of ranges) {
    for (const states of [undefined, ['FAILED'], ['SUCCESS', 'ABORTED'], ['RUNNING']]) {
      const want = brute(all, range, states);
      assert.is(await store.count({ range, ...(states ? { states } : {}) }), want.length, `count ${JSON.stringify({ range, states })}`);
    }
    const ids: number[] = [];
    for await (const r of store.scan({ range, reverse: true })) ids.push(r.id);
    assert.equal(ids, brute(all, range).map((r) => r.id).sort((a, b) => b - a), `scan ${JSON.stringify(range)}`);
  }
  // Interrupted jobs and purged jobs leave the counters right.
  const recovered = await store.recoverInterrupted(T0 + 80 * HOUR, 'stopped');
  for (const r of recovered) all[all.findIndex((x) => x.id === r.id)] = r;
  await store.purge({ maxFinished: 1000, maxAgeMs: Infinity, now: 0 });
  const left: JobRecord[] = [];
  for await (const r of store.scan({})) left.push(r);
  assert.is(left.filter((r) => TERMINAL_STATES.has(r.state)).length, 1000);
  for (const range of ranges.slice(0, 8)) {
    assert.is(await store.count({ range, states: ['FAILED'] }), brute(left, range, ['FAILED']).length, `after purge ${JSON.stringify(range)}`);
  }
  await db.close();
});

test('fairShares: owners under an equal share keep everything, the rest share what is left', () => {
  assert.equal(fairShares([10, 20], 100), [10, 20]);
  assert.equal(fairShares([10, 8000, 50], 300), [10, 240, 50]);
  assert.equal(fairShares([500, 500, 500], 300), [100, 100, 100]);
  assert.equal(fairShares([0, 7, 1000], 10), [0, 5, 5]);
  assert.equal(fairShares([], 10), []);
});

test('retention by count takes from the owner with the most jobs, oldest first', async () => {
  const { db, store } = await openStore();
  const owned = new Map<string, number[]>([['user:1:5', []], ['user:2:6', []], ['UNIX_SOCKET:root', []]]);
  for (let i = 0; i < 990; i++) {
    // Interleaved: the flood is not simply the newest ids.
    const owner = i % 11 === 0 ? 'user:1:5' : i % 23 === 0 ? 'UNIX_SOCKET:root' : 'user:2:6';
    const id = await store.allocateId();
    owned.get(owner)!.push(id);
    await store.put(record(id, 'SUCCESS', T0, T0 + 1000, owner), null);
  }
  const small = owned.get('user:1:5')!.length + owned.get('UNIX_SOCKET:root')!.length;
  assert.ok(small < 200 && owned.get('user:1:5')!.length < 100 && owned.get('UNIX_SOCKET:root')!.length < 100, `${small} jobs of the small owners`);
  const removed = await store.purge({ maxFinished: 300, maxAgeMs: Infinity, now: 0 });
  const kept = new Set<number>();
  for await (const r of store.scan({})) kept.add(r.id);
  assert.is(kept.size, 300);
  for (const o of ['user:1:5', 'UNIX_SOCKET:root']) assert.ok(owned.get(o)!.every((id) => kept.has(id)), `${o} keeps everything`);
  const flood = owned.get('user:2:6')!;
  assert.equal(flood.filter((id) => kept.has(id)), flood.slice(-(300 - small)), 'the flood keeps its newest');
  assert.is(removed.length, 990 - 300);
  await db.close();
});

test('a store written by the previous layout is rewritten once: whole seconds, owners, indexes, counters', async () => {
  const path = join(root, 'legacy');
  const db = new ClassicLevel<string, unknown>(path, { valueEncoding: 'json' });
  await db.open();
  // What the previous JobStore left: records with millisecond times and no owner, next_id.
  const rec = db.sublevel<string, unknown>(['jobs', 'rec'], { valueEncoding: 'json' });
  const old = [
    { ...record(1, 'SUCCESS', T0 + 1500, T0 + 2700), credentials: { type: 'UNIX_SOCKET', data: { username: 'root' } } },
    { ...record(2, 'FAILED', T0 + 3_000, T0 + 9_999), credentials: { type: 'LOGIN_PASSWORD', data: { username: 'bob' } } },
    record(3, 'RUNNING', T0 + 4_321, null),
  ].map(({ owner: _, ...r }) => r);
  for (const r of old) await rec.put(padId(r.id), r);
  await db.sublevel<string, unknown>(['jobs', 'meta'], { valueEncoding: 'json' }).put('next_id', 4);
  await db.close();
  const { db: db2, store } = await openStore(path);
  const got = await store.getMany([1, 2, 3]);
  assert.equal(got.map((r) => [r!.time_started, r!.time_finished]), [[T0 + 1000, T0 + 2000], [T0 + 3000, T0 + 9000], [T0 + 4000, null]]);
  assert.equal(got.map((r) => r!.owner), ['UNIX_SOCKET:root', null, null], 'a name is not an owner: only the unix socket root is unambiguous');
  assert.is(await store.count({ range: { field: 'time_finished', gte: T0, lt: T0 + 10_000 }, states: ['FAILED', 'SUCCESS'] }), 2);
  assert.is(await store.count({ range: { field: 'time_started', gte: T0 + 4000, lt: T0 + 4001 } }), 1);
  assert.ok((await store.allocateId()) >= 4);
  await db2.close();
  const again = await openStore(path);
  assert.is((await again.store.open()).migrated, 0, 'only once');
  await again.db.close();
});

test.run();
