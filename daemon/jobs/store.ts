// Durable job records (PROTOCOL.md 5; unlike the reference, jobs survive restarts here).
//
// Layout, all JSON-valued sublevels of the daemon's root db under one name (default 'jobs'):
//   rec       <12-digit id>                 -> JobRecord
//   by_method <method>\x00<12-digit id>     -> id
//   by_state  <state>\x00<12-digit id>      -> id
//   by_finished <13-digit time_finished>\x00<12-digit id> -> id   (finished jobs: age purges)
//   meta      next_id                       -> number
// A record, its two index entries and next_id are always written in one atomic batch, so the
// indexes never disagree with the records after a crash and ids are never handed out twice,
// even when the newest jobs were purged before a restart.
//
// Every write goes through one promise chain: classic-level runs batches on a thread pool, so two
// batches issued back to back are not guaranteed to land in order, and put() may read the old
// record to find which index entries to drop.
import type { AbstractBatchOperation, AbstractSublevel } from 'abstract-level';
import type { ClassicLevel } from 'classic-level';
import { CallError, ERRNO } from '../errors.js';
import { TERMINAL_STATES, type JobRecord, type JobState } from './types.js';

type RootDb = ClassicLevel<string, unknown>;
type Sub<V> = AbstractSublevel<RootDb, string | Buffer | Uint8Array, string, V>;
type BatchOp = AbstractBatchOperation<RootDb, string, unknown>;

const ID_WIDTH = 12;
/** The largest id a 12-digit key can hold. */
export const MAX_JOB_ID = 10 ** ID_WIDTH - 1;
const SEP = '\x00';
/** Records read or deleted per step of purge()/recoverInterrupted(); the event loop runs between steps. */
export const STORE_BATCH = 1000;
/** Ids fetched per getMany() while scanning. */
const SCAN_CHUNK = 100;
const NEXT_ID_KEY = 'next_id';
const ACTIVE_STATES: JobState[] = ['WAITING', 'RUNNING'];
const FINISHED_STATES: JobState[] = [...TERMINAL_STATES];

export interface ScanOptions {
  /** Newest (highest id) first. */
  reverse?: boolean;
  /** Inclusive id bounds. */
  gte?: number;
  lte?: number;
  /** Only jobs of these methods (uses the method index). */
  methods?: string[];
  /** Only jobs in these states (uses the state index unless methods is also given). */
  states?: string[];
}

export type CountOptions = Omit<ScanOptions, 'reverse'>;

export interface PurgeOptions {
  /** Keep at most this many finished jobs (the highest ids). */
  maxFinished: number;
  /** Drop finished jobs whose time_finished is older than this (Infinity: no age limit). */
  maxAgeMs: number;
  now: number;
}

/** What purge() reports of a removed job: enough to delete its log file. */
export interface PurgedJob {
  id: number;
  logs_path: string | null;
}

function finishedKey(timeFinished: number, id: number): string {
  return String(Math.max(0, Math.trunc(timeFinished))).padStart(13, '0') + SEP + padId(id);
}

export function padId(id: number): string {
  return String(id).padStart(ID_WIDTH, '0');
}

function isValidId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 && id <= MAX_JOB_ID;
}

function idFromKey(key: string): number {
  return Number.parseInt(key.slice(key.lastIndexOf(SEP) + 1), 10);
}

function unique(values: string[] | undefined): string[] | undefined {
  return values === undefined ? undefined : [...new Set(values)];
}

/** The structural part of a level key iterator this file needs. */
interface KeySource {
  nextv(size: number): Promise<string[]>;
  close(): Promise<void>;
}

/** Reads ids from one key iterator in blocks; `head` is the next id, undefined when exhausted. */
class IdCursor {
  head: number | undefined;
  private buf: string[] = [];
  private pos = 0;
  private done = false;

  constructor(private readonly source: KeySource) {}

  async advance(): Promise<void> {
    if (this.pos >= this.buf.length && !this.done) {
      this.buf = await this.source.nextv(256);
      this.pos = 0;
      if (this.buf.length === 0) this.done = true;
    }
    this.head = this.done ? undefined : idFromKey(this.buf[this.pos++]!);
  }

  close(): Promise<void> {
    return this.source.close();
  }
}

/** Yields ids from several cursors each sorted in `reverse` order, merged, without repeats. */
async function* mergeIds(cursors: IdCursor[], reverse: boolean): AsyncGenerator<number> {
  await Promise.all(cursors.map((c) => c.advance()));
  let last: number | undefined;
  for (;;) {
    let best: IdCursor | undefined;
    for (const c of cursors) {
      if (c.head === undefined) continue;
      if (best === undefined || (reverse ? c.head > best.head! : c.head < best.head!)) best = c;
    }
    if (best === undefined) return;
    const id = best.head!;
    await best.advance();
    if (id !== last) yield id;
    last = id;
  }
}

/** Inclusive integer id bounds from optional (possibly fractional) limits; NaN means no limit. */
function idBounds(o: { gte?: number; lte?: number }): [number, number] {
  const lo = o.gte === undefined || Number.isNaN(o.gte) ? 0 : Math.max(0, Math.ceil(o.gte));
  const hi = o.lte === undefined || Number.isNaN(o.lte) ? MAX_JOB_ID : Math.min(MAX_JOB_ID, Math.floor(o.lte));
  return [lo, hi];
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class JobStore {
  private readonly db: RootDb;
  private readonly records: Sub<JobRecord>;
  private readonly byMethod: Sub<number>;
  private readonly byState: Sub<number>;
  private readonly byFinished: Sub<number>;
  private readonly meta: Sub<number>;
  private nextId = 0; // 0: open() has not run
  private writes: Promise<unknown> = Promise.resolve();

  constructor(db: RootDb, name = 'jobs') {
    this.db = db;
    const sub = <V>(part: string): Sub<V> =>
      db.sublevel<string, V>([name, part], { valueEncoding: 'json' }) as Sub<V>;
    this.records = sub<JobRecord>('rec');
    this.byMethod = sub<number>('by_method');
    this.byState = sub<number>('by_state');
    this.byFinished = sub<number>('by_finished');
    this.meta = sub<number>('meta');
  }

  /** Loads the id counter: past both the stored next_id and the highest stored record. */
  async open(): Promise<void> {
    let next = 1;
    const stored = await this.meta.get(NEXT_ID_KEY);
    if (typeof stored === 'number' && Number.isSafeInteger(stored)) next = Math.max(next, stored);
    const last = await this.records.keys({ reverse: true, limit: 1 }).all();
    if (last.length > 0) next = Math.max(next, idFromKey(last[0]!) + 1);
    this.nextId = Math.max(this.nextId, next);
  }

  /** A fresh id, higher than every id handed out or stored before. Persisted by the next put(). */
  allocateId(): number {
    if (this.nextId === 0) throw new Error('JobStore.allocateId() called before open()');
    if (this.nextId > MAX_JOB_ID) throw new CallError('Job ids exhausted', ERRNO.ERANGE);
    return this.nextId++;
  }

  /**
   * Writes a record and its index entries. `previousState` is the state the stored copy had (saves
   * reading it back); when omitted, the stored copy is read to find stale index entries. The method
   * of a job never changes, so only a state change needs an index entry removed.
   */
  put(job: JobRecord, previousState?: JobState | null): Promise<void> {
    if (!isValidId(job.id)) {
      return Promise.reject(new CallError(`Invalid job id ${String(job.id)}`, ERRNO.EINVAL));
    }
    if (job.id >= this.nextId) this.nextId = job.id + 1;
    if (previousState !== undefined) {
      // The caller knows the stored state (null: no stored copy): group-commit with other puts.
      // Snapshot the record now; the caller keeps mutating its copy.
      return this.grouped(this.recordOps({ ...job }, previousState ?? undefined, job.method));
    }
    return this.serial(async () => {
      let oldState: string | undefined;
      let oldMethod = job.method;
      const old = await this.records.get(padId(job.id));
      if (old !== undefined) {
        oldState = old.state;
        oldMethod = old.method;
      }
      const ops = this.recordOps(job, oldState, oldMethod);
      ops.push({ type: 'put', sublevel: this.meta, key: NEXT_ID_KEY, value: this.nextId });
      await this.db.batch(ops);
    });
  }

  private pendingOps: BatchOp[] = [];
  private pendingWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];

  /**
   * Group commit: puts issued while a batch is being written go out together in the next batch,
   * in call order, so thousands of jobs a second cost a few hundred level batches.
   */
  private grouped(ops: BatchOp[]): Promise<void> {
    const first = this.pendingOps.length === 0 && this.pendingWaiters.length === 0;
    for (const op of ops) this.pendingOps.push(op);
    const done = new Promise<void>((resolve, reject) => this.pendingWaiters.push({ resolve, reject }));
    if (first) {
      void this.serial(async () => {
        const batch = this.pendingOps;
        const waiters = this.pendingWaiters;
        this.pendingOps = [];
        this.pendingWaiters = [];
        batch.push({ type: 'put', sublevel: this.meta, key: NEXT_ID_KEY, value: this.nextId });
        try {
          await this.db.batch(batch);
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
      });
    }
    return done;
  }

  async get(id: number): Promise<JobRecord | undefined> {
    if (!isValidId(id)) return undefined;
    return this.records.get(padId(id));
  }

  async getMany(ids: number[]): Promise<Array<JobRecord | undefined>> {
    const valid = ids.map(isValidId);
    const found = await this.records.getMany(ids.filter((_, i) => valid[i]).map(padId));
    let j = 0;
    return ids.map((_, i) => (valid[i] ? found[j++] : undefined));
  }

  /**
   * Records matching every given filter, ordered by id (descending with `reverse`). Uses the method
   * index when methods are given, else the state index, else the record range; each record read
   * back is checked against all filters, so a record never appears under a filter it fails.
   */
  async *scan(options: ScanOptions = {}): AsyncGenerator<JobRecord> {
    const methods = unique(options.methods);
    const states = unique(options.states);
    const [lo, hi] = idBounds(options);
    if (lo > hi || methods?.length === 0 || states?.length === 0) return;
    const reverse = options.reverse === true;
    const cursors = this.cursors(methods, states, lo, hi, reverse);
    try {
      let chunk: number[] = [];
      for await (const id of mergeIds(cursors, reverse)) {
        chunk.push(id);
        if (chunk.length >= SCAN_CHUNK) {
          yield* await this.fetchMatching(chunk, methods, states);
          chunk = [];
        }
      }
      if (chunk.length > 0) yield* await this.fetchMatching(chunk, methods, states);
    } finally {
      await Promise.all(cursors.map((c) => c.close()));
    }
  }

  /** Number of records matching the filters (index keys only, unless both methods and states are given). */
  async count(options: CountOptions = {}): Promise<number> {
    const methods = unique(options.methods);
    const states = unique(options.states);
    let n = 0;
    if (methods !== undefined && states !== undefined) {
      for await (const _ of this.scan(options)) n++;
      return n;
    }
    const [lo, hi] = idBounds(options);
    if (lo > hi || methods?.length === 0 || states?.length === 0) return 0;
    const cursors = this.cursors(methods, states, lo, hi, false);
    try {
      for await (const _ of mergeIds(cursors, false)) n++;
    } finally {
      await Promise.all(cursors.map((c) => c.close()));
    }
    return n;
  }

  /**
   * After a restart no job is running any more: every WAITING/RUNNING record becomes FAILED with
   * `error`. Returns the updated records (the caller may build their logs excerpts).
   */
  async recoverInterrupted(now: number, error: string): Promise<JobRecord[]> {
    const stale: JobRecord[] = [];
    for await (const r of this.scan({ states: ACTIVE_STATES })) stale.push(r);
    const updated = stale.map((r): JobRecord => ({
      ...r,
      state: 'FAILED',
      result: null,
      error,
      exception: null,
      exc_info: { repr: error, type: 'Interrupted', errno: null, extra: null },
      time_finished: now,
    }));
    for (let i = 0; i < updated.length; i += STORE_BATCH) {
      const part = updated.slice(i, i + STORE_BATCH);
      await this.serial(() => this.db.batch(part.flatMap((r, k) => this.recordOps(r, stale[i + k]!.state, r.method))));
      await yieldToEventLoop();
    }
    return updated;
  }

  /**
   * Deletes finished jobs beyond the newest `maxFinished` finished ones (by id) or finished more
   * than `maxAgeMs` before `now`. WAITING/RUNNING jobs are never touched. Works in steps of
   * STORE_BATCH records, letting the event loop run between steps. Returns the removed records
   * (the caller removes their log files).
   */
  /**
   * Retention. By count: walk the finished ids newest first reading keys only, and delete what lies
   * beyond the newest `maxFinished`. By age: range-scan the time_finished index below the cutoff.
   * Records are read only when they are deleted, in bounded steps; memory stays flat however long
   * the history is.
   */
  async purge(o: PurgeOptions): Promise<PurgedJob[]> {
    const maxFinished = Math.max(0, o.maxFinished);
    const removed: PurgedJob[] = [];
    const cursors = this.cursors(undefined, FINISHED_STATES, 0, MAX_JOB_ID, true);
    try {
      const ids = mergeIds(cursors, true);
      let rank = 0;
      let chunk: number[] = [];
      for await (const id of ids) {
        if (rank++ < maxFinished) continue;
        chunk.push(id);
        if (chunk.length >= STORE_BATCH) {
          await this.deleteFinished(chunk, removed);
          chunk = [];
        }
      }
      if (chunk.length > 0) await this.deleteFinished(chunk, removed);
    } finally {
      await Promise.all(cursors.map((c) => c.close()));
    }
    if (Number.isFinite(o.maxAgeMs)) {
      const cutoff = o.now - o.maxAgeMs;
      if (cutoff > 0) {
        for (;;) {
          const keys = await this.byFinished.keys({ lt: finishedKey(cutoff, 0), limit: STORE_BATCH }).all();
          if (keys.length === 0) break;
          const before = removed.length;
          await this.deleteFinished(keys.map(idFromKey), removed);
          // Drop index entries whose record is gone or changed (nothing else would remove them).
          await this.serial(() => this.db.batch(keys.map((key) => ({ type: 'del' as const, sublevel: this.byFinished, key }))));
          if (keys.length < STORE_BATCH && removed.length === before) break;
        }
      }
    }
    return removed;
  }

  private async deleteFinished(ids: number[], removed: PurgedJob[]): Promise<void> {
    const recs = await this.records.getMany(ids.map(padId));
    // Index entries are read from a snapshot; skip anything that is no longer a finished job.
    const doomed = recs.filter((r): r is JobRecord => r !== undefined && TERMINAL_STATES.has(r.state));
    if (doomed.length > 0) {
      await this.serial(() => this.db.batch(doomed.flatMap((r) => this.deleteOps(r))));
      for (const r of doomed) removed.push({ id: r.id, logs_path: r.logs_path });
    }
    await yieldToEventLoop();
  }


  private async fetchMatching(ids: number[], methods: string[] | undefined, states: string[] | undefined): Promise<JobRecord[]> {
    const recs = await this.records.getMany(ids.map(padId));
    return recs.filter((r): r is JobRecord =>
      r !== undefined &&
      (methods === undefined || methods.includes(r.method)) &&
      (states === undefined || states.includes(r.state)));
  }

  private recordOps(job: JobRecord, oldState: string | undefined, oldMethod: string): BatchOp[] {
    const key = padId(job.id);
    const ops: BatchOp[] = [];
    if (oldState !== undefined && oldState !== job.state) {
      ops.push({ type: 'del', sublevel: this.byState, key: oldState + SEP + key });
    }
    if (oldMethod !== job.method) {
      ops.push({ type: 'del', sublevel: this.byMethod, key: oldMethod + SEP + key });
    }
    ops.push(
      { type: 'put', sublevel: this.records, key, value: job },
      { type: 'put', sublevel: this.byMethod, key: job.method + SEP + key, value: job.id },
      { type: 'put', sublevel: this.byState, key: job.state + SEP + key, value: job.id },
    );
    if (job.time_finished !== null && TERMINAL_STATES.has(job.state)) {
      ops.push({ type: 'put', sublevel: this.byFinished, key: finishedKey(job.time_finished, job.id), value: job.id });
    }
    return ops;
  }

  private deleteOps(job: JobRecord): BatchOp[] {
    const key = padId(job.id);
    return [
      { type: 'del', sublevel: this.records, key },
      { type: 'del', sublevel: this.byMethod, key: job.method + SEP + key },
      { type: 'del', sublevel: this.byState, key: job.state + SEP + key },
      ...(job.time_finished !== null ? [{ type: 'del' as const, sublevel: this.byFinished, key: finishedKey(job.time_finished, job.id) }] : []),
    ];
  }

  /** One id cursor per index value (methods win over states), or one over the records. */
  private cursors(methods: string[] | undefined, states: string[] | undefined, lo: number, hi: number, reverse: boolean): IdCursor[] {
    const range = (prefix: string) => ({ gte: prefix + padId(lo), lte: prefix + padId(hi), reverse });
    if (methods !== undefined) return methods.map((m) => new IdCursor(this.byMethod.keys(range(m + SEP))));
    if (states !== undefined) return states.map((s) => new IdCursor(this.byState.keys(range(s + SEP))));
    return [new IdCursor(this.records.keys(range('')))];
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writes.then(fn);
    this.writes = run.catch(() => undefined);
    return run;
  }
}
