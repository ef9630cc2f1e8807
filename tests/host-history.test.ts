// The reporting history over a real classic-level database in a temp dir, driven by a clock the
// test controls: rows survive a reopen, 5 min rows hold the mean/min/max of their 10 s rows
// (also across a restart in mid-bucket and after a stop), expired rows and series are pruned,
// the series count is capped, and get_data / graphs answer with TrueNAS's shapes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Ajv } from 'ajv';
import { ReportingQueryError, UnknownGraphError } from '../methods/host/history/errors.js';
import { getData, listGraphs, MAX_POINTS, queryRange } from '../methods/host/history/query.js';
import { HistoryStore, type HistoryPoint } from '../methods/host/history/store.js';
import { GetDataResponse, GraphsItem } from '../schemas/host/reporting.js';

type Db = ClassicLevel<string, unknown>;

let dir = '';
let n = 0;
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'midship-history-'));
});
test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A clock in seconds the test moves by hand; the store reads it in milliseconds. */
function clock(start: number) {
  const c = { s: start, now: () => c.s * 1000 };
  return c;
}

async function open(path: string, now: () => number, options: { maxSeries?: number } = {}): Promise<{ db: Db; store: HistoryStore }> {
  const db = new ClassicLevel<string, unknown>(path, { valueEncoding: 'json' });
  await db.open();
  const store = new HistoryStore(db.sublevel<string, unknown>('reporting', { valueEncoding: 'json' }), { now, ...options });
  await store.open();
  return { db, store };
}

const T0 = 1_700_000_000 - (1_700_000_000 % 300); // on a 5 min boundary

function cpuPoint(v: number): HistoryPoint {
  return { graph: 'cpu', identifier: null, values: { cpu: v, cpu0: v * 2 } };
}

async function fill(store: HistoryStore, c: { s: number }, from: number, to: number, value: (t: number) => HistoryPoint[]): Promise<void> {
  for (let t = from; t < to; t += 10) {
    c.s = t;
    await store.append(t, value(t));
  }
}

async function countKeys(db: Db, level: 'fine' | 'coarse'): Promise<number> {
  return (await db.sublevel<string, unknown>(['reporting', level], { valueEncoding: 'json' }).keys().all()).length;
}

const validateResponse = new Ajv({ strict: false }).compile(GetDataResponse);
const validateGraph = new Ajv({ strict: false }).compile(GraphsItem);

test('rows survive a reopen; get_data answers the 10 s rows with legend, range and aggregations', async () => {
  const path = join(dir, `db${++n}`);
  const c = clock(T0);
  let { db, store } = await open(path, c.now);
  await fill(store, c, T0, T0 + 600, (t) => [cpuPoint((t - T0) / 10), { graph: 'interface', identifier: 'eth0', values: { received: 8, sent: 4 } }]);
  await store.flush();
  await db.close();
  ({ db, store } = await open(path, c.now));
  const [cpu] = await getData(store, [{ name: 'cpu' }], { start: T0, end: T0 + 590 }, c.s);
  assert.ok(validateResponse(cpu), JSON.stringify(validateResponse.errors));
  assert.equal(cpu!.legend, ['time', 'cpu', 'cpu0']);
  assert.is(cpu!.identifier, 'cpu');
  assert.is(cpu!.start, T0);
  assert.is(cpu!.end, T0 + 590);
  assert.is(cpu!.data.length, 60);
  assert.equal(cpu!.data[0], [T0, 0, 0]);
  assert.equal(cpu!.data[59], [T0 + 590, 59, 118]);
  assert.equal(cpu!.aggregations, { min: { cpu: 0, cpu0: 0 }, mean: { cpu: 29.5, cpu0: 59 }, max: { cpu: 59, cpu0: 118 } });
  const [eth0] = await getData(store, [{ name: 'interface', identifier: 'eth0' }], { start: T0, end: T0 + 590, aggregate: false }, c.s);
  assert.equal(eth0!.legend, ['time', 'received', 'sent']);
  assert.is(eth0!.identifier, 'eth0');
  assert.is(eth0!.aggregations, null);
  assert.equal(eth0!.data[3], [T0 + 30, 8, 4]);
  await db.close();
});

test('5 min rows hold mean, min and max, also when the daemon restarts mid-bucket or was stopped', async () => {
  const path = join(dir, `db${++n}`);
  const c = clock(T0);
  let { db, store } = await open(path, c.now);
  // First half of bucket 0, restart, second half, then bucket 1 starts.
  await fill(store, c, T0, T0 + 150, (t) => [cpuPoint((t - T0) / 10)]);
  await store.flush();
  await db.close();
  ({ db, store } = await open(path, c.now));
  await fill(store, c, T0 + 150, T0 + 310, (t) => [cpuPoint((t - T0) / 10)]);
  assert.is(store.rollupCursor, T0 + 300);
  const coarse = db.sublevel<string, unknown>(['reporting', 'coarse'], { valueEncoding: 'json' });
  const rows = await coarse.values().all();
  // Bucket 0 had values 0..29: mean 14.5, min 0, max 29 (cpu0 is twice that).
  assert.equal(rows, [[[14.5, 29], [0, 0], [29, 58]]]);
  // Stopped for two hours: on open the buckets left are rolled up from the 10 s rows on disk.
  await fill(store, c, T0 + 310, T0 + 600, () => [cpuPoint(7)]);
  await store.flush();
  await db.close();
  c.s = T0 + 600 + 7200;
  ({ db, store } = await open(path, c.now));
  assert.is(store.rollupCursor, T0 + 600 + 7200);
  const after = await db.sublevel<string, unknown>(['reporting', 'coarse'], { valueEncoding: 'json' }).values().all();
  assert.is(after.length, 2);
  // Bucket 1: one row of 30 (before the stop) and 29 rows of 7.
  const mean = Math.round(((30 + 7 * 29) / 30) * 1000) / 1000;
  const mean0 = Math.round(((60 + 14 * 29) / 30) * 1000) / 1000;
  assert.equal(after[1], [[mean, mean0], [7, 14], [30, 60]]);
  await db.close();
});

test('pruning: 10 s rows go after 24 h, 5 min rows after 30 days, unseen series after 30 days', async () => {
  const path = join(dir, `db${++n}`);
  const c = clock(T0);
  const { db, store } = await open(path, c.now);
  // 26 hours at 10 s of one series, plus a disk seen only in the first hour.
  await fill(store, c, T0, T0 + 26 * 3600, (t) => (t < T0 + 3600 ? [cpuPoint(1), { graph: 'disk', identifier: 'sdz', values: { reads: 1, writes: 2 } }] : [cpuPoint(1)]));
  const fine = await countKeys(db, 'fine');
  // cpu: the last 24 h (8640 rows, +1 for the bucket in progress at the boundary); sdz: none left.
  assert.ok(fine >= 8640 && fine <= 8640 + 31, `fine rows: ${fine}`);
  assert.is(await countKeys(db, 'coarse'), 26 * 12 - 1 + 12);
  // A day query answers from the 10 s rows, averaged down to at most 2999 points.
  const [day] = await getData(store, [{ name: 'cpu' }], { unit: 'DAY' }, c.s);
  assert.ok(day!.data.length <= MAX_POINTS && day!.data.length > 2800, `${day!.data.length} points`);
  assert.is(day!.data[1]![0]! - day!.data[0]![0]!, 30);
  // A two-day query reaches into the 5 min rows; sdz still has its first hour there.
  const [sdz] = await getData(store, [{ name: 'disk', identifier: 'sdz' }], { unit: 'DAY', page: 2 }, c.s);
  assert.is(sdz!.data.length, 12);
  assert.is(sdz!.data[1]![0]! - sdz!.data[0]![0]!, 300);
  assert.equal(listGraphs(store).find((g) => g.name === 'disk')!.identifiers, ['sdz']);
  // One cpu sample 30 days on, then a long silence: 30 days after the first fill ended, its
  // rows and the disk are gone; the lone sample's bucket was still rolled up before its 10 s
  // row expired.
  await fill(store, c, T0 + 30 * 86400, T0 + 30 * 86400 + 10, () => [cpuPoint(2)]);
  c.s = T0 + 30 * 86400 + 26 * 3600 + 600;
  await store.maintain();
  assert.equal(store.list().map((s) => s.graph), ['cpu']);
  assert.equal(listGraphs(store).find((g) => g.name === 'disk')!.identifiers, []);
  assert.is(await countKeys(db, 'coarse'), 1);
  assert.is(await countKeys(db, 'fine'), 0);
  const [last] = await getData(store, [{ name: 'cpu' }], { unit: 'MONTH' }, c.s);
  // 30 days of 5 min rows is 8640: averaged three by three into 15 min points.
  assert.equal(last!.data, [[Math.floor((T0 + 30 * 86400) / 900) * 900, 2, 4]]);
  await db.close();
});

test('get_data over 5 min rows takes min and max from them, marks holes with nulls, reaches the present', async () => {
  const path = join(dir, `db${++n}`);
  const c = clock(T0);
  const { db, store } = await open(path, c.now);
  // Hour 0: a spike to 100 once per bucket. Then a 3-hour hole. Then an hour of 5s, 25 h later.
  await fill(store, c, T0, T0 + 3600, (t) => [cpuPoint(t % 300 === 0 ? 100 : 10)]);
  await fill(store, c, T0 + 4 * 3600, T0 + 5 * 3600, () => [cpuPoint(5)]);
  c.s = T0 + 25 * 3600 + 30;
  await store.append(c.s, [cpuPoint(50)]);
  const [r] = await getData(store, [{ name: 'cpu' }], { start: T0, end: c.s }, c.s);
  assert.ok(validateResponse(r), JSON.stringify(validateResponse.errors));
  const times = r!.data.map((row) => row[0]!);
  assert.is(times[1]! - times[0]!, 300);
  // The hole after hour 0 is one row of nulls.
  const holes = r!.data.filter((row) => row[1] === null);
  assert.is(holes.length >= 1, true);
  assert.equal(holes[0], [T0 + 3600, null, null]);
  // Min and max are the 10 s extremes kept by the 5 min rows, not extremes of their means.
  assert.is(r!.aggregations!.max.cpu, 100);
  assert.is(r!.aggregations!.min.cpu, 5);
  // The newest 10 s row (after the last roll-up) is part of the answer.
  assert.is(r!.data[r!.data.length - 1]![0], Math.floor(c.s / 300) * 300);
  assert.is(r!.data[r!.data.length - 1]![1], 50);
  await db.close();
});

test('queries: TrueNAS ranges, errors naming the field, unknown graphs, identifiers expanded, graphs list', async () => {
  const path = join(dir, `db${++n}`);
  const c = clock(T0);
  const { db, store } = await open(path, c.now);
  await fill(store, c, T0, T0 + 60, (): HistoryPoint[] => [
    { graph: 'interface', identifier: 'eth1', values: { received: 1, sent: 2 } },
    { graph: 'interface', identifier: 'eth0', values: { received: 3, sent: 4 } },
    { graph: 'cputemp', identifier: null, values: { cpu0: 0, cpu: 40 } },
  ]);
  assert.equal(queryRange({}, 10_000), { start: 10_000 - 3600, end: 10_000 });
  assert.equal(queryRange({ unit: 'WEEK', page: 2 }, 10_000_000), { start: 10_000_000 - 14 * 86400, end: 10_000_000 });
  assert.equal(queryRange({ start: 5, end: 9 }, 100), { start: 5, end: 9 });
  assert.equal(queryRange({ start: 5 }, 100), { start: 5, end: 100 });
  try {
    queryRange({ unit: 'HOUR', start: 5 }, 100);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ReportingQueryError);
    assert.is((err as ReportingQueryError).attribute, 'reporting_query.start');
  }
  assert.throws(() => queryRange({ start: 50, end: 10 }, 100), (e: unknown) => e instanceof ReportingQueryError && e.attribute === 'reporting_query.start');
  await getData(store, [{ name: 'cpu' }, { name: 'nope' }], {}, c.s).then(() => assert.unreachable(), (err: unknown) => {
    assert.instance(err, UnknownGraphError);
    assert.is((err as Error).message, "'nope' is not a valid graph plugin.");
  });
  const all = await getData(store, [{ name: 'interface', identifier: null }], { start: T0, end: T0 + 60 }, c.s);
  assert.equal(all.map((r) => r.identifier), ['eth0', 'eth1']);
  const [missing] = await getData(store, [{ name: 'interface', identifier: 'eth9' }], { start: T0, end: T0 + 60 }, c.s);
  assert.equal([missing!.identifier, missing!.legend, missing!.data, missing!.aggregations], ['eth9', ['time', 'received', 'sent'], [], { min: {}, mean: {}, max: {} }]);
  const [temp] = await getData(store, [{ name: 'cputemp' }], { start: T0, end: T0 + 60 }, c.s);
  assert.equal(temp!.aggregations!.mean, { cpu0: 0, cpu: 40 }, 'zero temperatures are no reading');
  const graphs = listGraphs(store);
  for (const g of graphs) assert.ok(validateGraph(g), JSON.stringify(validateGraph.errors));
  assert.equal(graphs.find((g) => g.name === 'interface'), { name: 'interface', title: 'Interface Traffic ({identifier})', vertical_label: 'Kilobits/s', identifiers: ['eth0', 'eth1'] });
  assert.is(graphs.find((g) => g.name === 'cpu')!.identifiers, null);
  await db.close();
});

test('the series count is capped: stale series make room, live ones are not evicted', async () => {
  const path = join(dir, `db${++n}`);
  const c = clock(T0);
  const { db, store } = await open(path, c.now, { maxSeries: 2 });
  const p = (id: string): HistoryPoint => ({ graph: 'interface', identifier: id, values: { received: 1, sent: 1 } });
  await store.append(T0, [p('a'), p('b')]);
  c.s = T0 + 10;
  await store.append(c.s, [p('a'), p('b'), p('c')]);
  assert.is(store.droppedPoints, 1, 'c is dropped: a and b are both live');
  assert.equal(store.list().map((s) => s.identifier).sort(), ['a', 'b']);
  c.s = T0 + 20;
  await store.append(c.s, [p('b'), p('c')]);
  assert.equal(store.list().map((s) => s.identifier).sort(), ['b', 'c'], 'a was the stalest and made room');
  const [a] = await getData(store, [{ name: 'interface', identifier: 'a' }], { start: T0, end: c.s }, c.s);
  assert.equal(a!.data, [], "an evicted series' rows are gone");
  await store.append(NaN, [p('b')]).then(() => assert.unreachable(), (err: unknown) => assert.instance(err, RangeError));
  // Names that cannot be keys are refused, not stored.
  await store.append(c.s, [{ graph: 'interface', identifier: 'bad\x1fname', values: { received: 1 } }, { graph: '', identifier: null, values: { x: 1 } }]);
  assert.equal(store.list().map((s) => s.identifier).sort(), ['b', 'c']);
  await db.close();
});

test.run();
