// The reporting history: rows of host figures per graph and identifier, kept at 10 s resolution
// for 24 hours and at 5 min resolution (mean, min and max of the 10 s rows) for 30 days, in a
// level sublevel (layout in keys.ts), so it survives restarts.
//
// The 5 min rows are computed from the stored 10 s rows, not from memory: after a restart or a
// stop the buckets not yet rolled up are found by a persisted cursor and computed from the disk,
// so nothing is lost as long as the 10 s rows still exist (24 h). Pruning deletes key ranges
// per series; the number of series is capped, so a host that creates interfaces by the thousand
// (containers) cannot grow the history without bound.
import type { AbstractSublevel } from 'abstract-level';
import { rowKey, rowRange, rowTime, seriesId, seriesRange, SEP, validName } from './keys.js';

/** A sublevel of any database (e.g. the daemon's `app.sublevel('reporting')`): the store only uses its own nested sublevels. */
export type HistoryDb = AbstractSublevel<unknown, string | Buffer | Uint8Array, string, unknown>;

type Json = AbstractSublevel<HistoryDb, string | Buffer | Uint8Array, string, unknown>;

export interface Tier {
  /** Seconds between rows. */
  step: number;
  /** Seconds rows are kept. */
  keep: number;
}

export const FINE: Tier = { step: 10, keep: 24 * 3600 };
export const COARSE: Tier = { step: 300, keep: 30 * 24 * 3600 };

export interface HistoryPoint {
  graph: string;
  /** The disk, interface or pool; null for host-wide graphs. */
  identifier: string | null;
  /** Series name -> value. */
  values: Record<string, number | null>;
}

export interface SeriesMeta {
  graph: string;
  identifier: string | null;
  /** Column names, in row order. New names are appended, never reordered. */
  legend: string[];
  /** Seconds of the newest row. */
  lastSeen: number;
}

/** One row as read: for a 10 s row min and max equal the mean. */
export interface HistoryRow {
  time: number;
  mean: Array<number | null>;
  min: Array<number | null>;
  max: Array<number | null>;
}

export interface HistoryStoreOptions {
  /** Epoch milliseconds; tests drive the store with their own clock. */
  now?: () => number;
  /** Most series kept (graph × identifier); default 512. */
  maxSeries?: number;
  fine?: Tier;
  coarse?: Tier;
}

type Value = number | null;
type FineRow = Value[];
type CoarseRow = [Value[], Value[], Value[]];

const CURSOR = 'cursor';
/** Columns one series may have (one per CPU for `cpu`): a bound, not a limit any host reaches. */
const MAX_COLUMNS = 4096;
const SERIES = `series${SEP}`;

function round(n: number): number {
  // Averages need no more than this; shorter numbers make smaller rows on disk.
  return Math.abs(n) >= 1000 ? Math.round(n) : Math.round(n * 1000) / 1000;
}

export class HistoryStore {
  readonly fine: Tier;
  readonly coarse: Tier;
  private readonly db: HistoryDb;
  private readonly fineRows: Json;
  private readonly coarseRows: Json;
  private readonly meta: Json;
  private readonly now: () => number;
  private readonly maxSeries: number;
  private readonly series = new Map<string, SeriesMeta>();
  private cursor: number | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private opened = false;
  /** Points refused because the series cap was reached by series all still in use. */
  droppedPoints = 0;

  constructor(db: HistoryDb, options: HistoryStoreOptions = {}) {
    this.fine = options.fine ?? FINE;
    this.coarse = options.coarse ?? COARSE;
    if (this.coarse.step % this.fine.step !== 0) throw new Error('the coarse step must be a multiple of the fine step');
    this.now = options.now ?? Date.now;
    this.maxSeries = options.maxSeries ?? 512;
    this.db = db;
    const json = { valueEncoding: 'json' } as const;
    this.fineRows = db.sublevel<string, unknown>('fine', json) as Json;
    this.coarseRows = db.sublevel<string, unknown>('coarse', json) as Json;
    this.meta = db.sublevel<string, unknown>('meta', json) as Json;
  }

  /** The store's clock, in epoch seconds. */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Runs `fn` after every write queued before it: appends, roll-ups and prunes never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Loads the series list and the roll-up cursor, then catches up on roll-ups and pruning missed while stopped. */
  async open(): Promise<void> {
    if (this.opened) return;
    for await (const [key, value] of this.meta.iterator({ gte: SERIES, lt: `${SERIES}\uffff` })) {
      const m = value as SeriesMeta;
      if (m && typeof m.graph === 'string' && Array.isArray(m.legend)) this.series.set(key.slice(SERIES.length), m);
    }
    const cursor = await this.meta.get(CURSOR);
    this.cursor = typeof cursor === 'number' ? cursor : null;
    this.opened = true;
    await this.maintain();
  }

  /** A copy of the series list. */
  list(): SeriesMeta[] {
    return [...this.series.values()].map((m) => ({ ...m, legend: [...m.legend] }));
  }

  get rollupCursor(): number | null {
    return this.cursor;
  }

  /**
   * Stores one sample: `time` (epoch seconds) is put on the 10 s grid, and a second sample in the
   * same slot replaces the first. Samples are expected in time order; one older than the last
   * roll-up is kept at 10 s but not rolled up again.
   */
  append(time: number, points: HistoryPoint[]): Promise<void> {
    return this.serial(async () => {
      if (!this.opened) throw new Error('history store is not open');
      if (!Number.isFinite(time) || time < 0) throw new RangeError(`not a sample time: ${time}`);
      const ts = Math.floor(time / this.fine.step) * this.fine.step;
      const ops: Array<{ type: 'put'; sublevel: Json; key: string; value: unknown }> = [];
      const evicted: string[] = [];
      for (const p of points) {
        if (!validName(p.graph) || (p.identifier !== null && !validName(p.identifier))) continue;
        const sid = seriesId(p.graph, p.identifier);
        let meta = this.series.get(sid);
        if (!meta) {
          if (this.series.size >= this.maxSeries) {
            const victim = this.oldestSeries();
            if (victim === null || this.series.get(victim)!.lastSeen >= ts) {
              this.droppedPoints++;
              continue;
            }
            this.series.delete(victim);
            evicted.push(victim);
          }
          meta = { graph: p.graph, identifier: p.identifier, legend: [], lastSeen: ts };
          this.series.set(sid, meta);
        }
        const names = Object.keys(p.values);
        const added = names.filter((n) => !meta!.legend.includes(n)).slice(0, Math.max(0, MAX_COLUMNS - meta.legend.length));
        if (added.length > 0 || meta.legend.length === 0) {
          meta.legend.push(...added);
          ops.push({ type: 'put', sublevel: this.meta, key: SERIES + sid, value: meta });
        }
        meta.lastSeen = Math.max(meta.lastSeen, ts);
        const row: FineRow = meta.legend.map((n) => {
          const v = p.values[n];
          return typeof v === 'number' && Number.isFinite(v) ? v : null;
        });
        ops.push({ type: 'put', sublevel: this.fineRows, key: rowKey(sid, ts), value: row });
      }
      for (const sid of evicted) await this.dropSeries(sid);
      if (ops.length > 0) await this.db.batch(ops);
      const bucket = Math.floor(ts / this.coarse.step) * this.coarse.step;
      if (this.cursor === null) {
        this.cursor = bucket;
        await this.meta.put(CURSOR, bucket);
      } else if (bucket > this.cursor) {
        await this.rollUpAndPrune(bucket);
      }
    });
  }

  private oldestSeries(): string | null {
    let oldest: string | null = null;
    for (const [sid, m] of this.series) if (oldest === null || m.lastSeen < this.series.get(oldest)!.lastSeen) oldest = sid;
    return oldest;
  }

  private async dropSeries(sid: string): Promise<void> {
    await this.fineRows.clear(seriesRange(sid));
    await this.coarseRows.clear(seriesRange(sid));
    await this.meta.del(SERIES + sid);
  }

  /** Rolls up complete buckets and prunes expired rows and series. Runs by itself as samples arrive. */
  maintain(): Promise<void> {
    return this.serial(async () => {
      const bucket = Math.floor(this.nowSeconds() / this.coarse.step) * this.coarse.step;
      if (this.cursor !== null && bucket > this.cursor) await this.rollUpAndPrune(bucket);
      else await this.prune();
    });
  }

  /** Computes the 5 min rows of every complete bucket before `upTo`, then prunes. */
  private async rollUpAndPrune(upTo: number): Promise<void> {
    const c = this.coarse.step;
    // Pruning comes after this, so every 10 s row still on disk is rolled up, however long the
    // daemon was stopped; the key ranges of buckets with no rows cost one seek each.
    const from = this.cursor ?? upTo;
    const ops: Array<{ type: 'put'; sublevel: Json; key: string; value: unknown }> = [];
    if (from < upTo) {
      for (const [sid, meta] of this.series) {
        const buckets = new Map<number, { sum: number[]; count: number[]; min: Value[]; max: Value[] }>();
        for await (const [key, value] of this.fineRows.iterator(rowRange(sid, from, upTo - 1))) {
          const row = value as FineRow;
          const b = Math.floor(rowTime(key) / c) * c;
          let acc = buckets.get(b);
          if (!acc) {
            const n = meta.legend.length;
            acc = { sum: new Array<number>(n).fill(0), count: new Array<number>(n).fill(0), min: new Array<Value>(n).fill(null), max: new Array<Value>(n).fill(null) };
            buckets.set(b, acc);
          }
          for (let i = 0; i < acc.sum.length; i++) {
            const v = row[i];
            if (typeof v !== 'number') continue;
            acc.sum[i]! += v;
            acc.count[i]!++;
            acc.min[i] = acc.min[i] === null ? v : Math.min(acc.min[i]!, v);
            acc.max[i] = acc.max[i] === null ? v : Math.max(acc.max[i]!, v);
          }
        }
        for (const [b, acc] of buckets) {
          const mean = acc.sum.map((s, i) => (acc.count[i]! > 0 ? round(s / acc.count[i]!) : null));
          const value: CoarseRow = [mean, acc.min, acc.max];
          ops.push({ type: 'put', sublevel: this.coarseRows, key: rowKey(sid, b), value });
        }
        // lastSeen moves every sample but is written here only, once per bucket.
        ops.push({ type: 'put', sublevel: this.meta, key: SERIES + sid, value: meta });
      }
    }
    ops.push({ type: 'put', sublevel: this.meta, key: CURSOR, value: upTo });
    await this.db.batch(ops);
    this.cursor = upTo;
    await this.prune();
  }

  private async prune(): Promise<void> {
    const now = this.nowSeconds();
    for (const [sid, meta] of [...this.series]) {
      if (meta.lastSeen < now - this.coarse.keep) {
        this.series.delete(sid);
        await this.dropSeries(sid);
        continue;
      }
      await this.fineRows.clear({ gte: `${sid}${SEP}`, lt: rowKey(sid, now - this.fine.keep) });
      await this.coarseRows.clear({ gte: `${sid}${SEP}`, lt: rowKey(sid, now - this.coarse.keep) });
    }
  }

  /**
   * Rows of one series from `start` to `end` (seconds, both included). A range reaching past
   * the 10 s retention is answered from the 5 min rows, with the 10 s rows after the last
   * roll-up appended so the answer reaches the present. `step` is the resolution used.
   */
  async read(graph: string, identifier: string | null, start: number, end: number): Promise<{ legend: string[]; rows: HistoryRow[]; step: number }> {
    const meta = this.series.get(seriesId(graph, identifier));
    if (!meta || end < start) return { legend: meta ? [...meta.legend] : [], rows: [], step: this.fine.step };
    const sid = seriesId(graph, identifier);
    const width = meta.legend.length;
    const pad = (row: Value[]) => (row.length >= width ? row.slice(0, width) : [...row, ...new Array<Value>(width - row.length).fill(null)]);
    const rows: HistoryRow[] = [];
    const useCoarse = start < this.nowSeconds() - this.fine.keep && this.cursor !== null;
    let fineFrom = start;
    if (useCoarse) {
      const coarseEnd = Math.min(end, this.cursor! - 1);
      for await (const [key, value] of this.coarseRows.iterator(rowRange(sid, start, coarseEnd))) {
        const [mean, min, max] = value as CoarseRow;
        rows.push({ time: rowTime(key), mean: pad(mean), min: pad(min), max: pad(max) });
      }
      fineFrom = Math.max(start, this.cursor!);
    }
    for await (const [key, value] of this.fineRows.iterator(rowRange(sid, fineFrom, end))) {
      const row = pad(value as FineRow);
      rows.push({ time: rowTime(key), mean: row, min: row, max: row });
    }
    return { legend: [...meta.legend], rows, step: useCoarse ? this.coarse.step : this.fine.step };
  }

  /** Waits for queued writes; the caller closes the database. */
  async flush(): Promise<void> {
    await this.serial(async () => undefined);
  }
}
