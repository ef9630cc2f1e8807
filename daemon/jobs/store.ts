// Durable job records (PROTOCOL.md 5; unlike the reference, jobs survive restarts here).
//
// Layout, all JSON-valued sublevels of the daemon's root db under one name (default 'jobs'):
//   rec         <12-digit id>                               -> JobRecord
//   by_method   <method>\x00<12-digit id>                   -> id
//   by_state    <state>\x00<12-digit id>                    -> id
//   by_started  <13-digit time_started>\x00<12-digit id>    -> id   (every job: time-range queries)
//   by_finished <13-digit time_finished>\x00<12-digit id>   -> id   (finished jobs: age purges, queries)
//   by_owner    <owner>\x00<12-digit id>                    -> id   (finished jobs: per-owner retention)
//   counts      <counter key>                               -> number (counters.ts)
//   meta        id_mark -> number, purged_max -> number, layout -> number
// A record, its index entries and its counters are always written in one atomic batch, so they
// never disagree after a crash.
//
// Ids are never handed out twice: they come from blocks of ID_BLOCK, and a block's end (id_mark)
// is durable before any id of it is used. At the next start ids continue from the mark, whatever
// happened to the newest records. A store whose newest job (or newest purged id) lies far below
// the mark lost records it once had: open() reports it.
//
// Every write goes through one promise chain: classic-level runs batches on a thread pool, so two
// batches issued back to back are not guaranteed to land in order, put() may read the old record
// to find which index entries to drop, and the counters are read, changed and written back.
import type { AbstractBatchOperation, AbstractSublevel } from 'abstract-level';
import type { ClassicLevel } from 'classic-level';
import { CallError, ERRNO } from '../errors.js';
import { Slots } from '../slots.js';
import { addTransition, countRanges, OWNER_COUNTER_PREFIX, type Counted, type CounterDeltas, type TimeRange } from './counters.js';
import { TERMINAL_STATES, interruptedRecord, jobTime, type JobRecord, type JobState } from './types.js';

type RootDb = ClassicLevel<string, unknown>;
type Sub<V> = AbstractSublevel<RootDb, string | Buffer | Uint8Array, string, V>;
type BatchOp = AbstractBatchOperation<RootDb, string, unknown>;

const ID_WIDTH = 12;
/** The largest id a 12-digit key can hold. */
const MAX_JOB_ID = 10 ** ID_WIDTH - 1;
/** Ids reserved per durable id_mark write. */
export const ID_BLOCK = 1000;
const SEP = '\x00';
/** Records read or deleted per step of purge()/recoverInterrupted(); the event loop runs between steps. */
const STORE_BATCH = 1000;
/** Ids fetched per getMany() while scanning. */
const SCAN_CHUNK = 100;
/** Puts per group-commit batch at most (a stop recording 50,000 jobs writes them in steps). */
const GROUP_MAX = 2000;
/** Counter values kept in memory (the counters of recent seconds and hours are touched again and again). */
const COUNT_CACHE_MAX = 20_000;
const LEGACY_NEXT_ID_KEY = 'next_id';
const ID_MARK_KEY = 'id_mark';
const PURGED_MAX_KEY = 'purged_max';
const LAYOUT_KEY = 'layout';
/** When the daemon last stopped with jobs running (they are recorded as interrupted then). */
const STOPPED_AT_KEY = 'stopped_at';
/** 2: whole-second times, by_started, by_owner, counters. */
const LAYOUT = 2;
const ACTIVE_STATES: JobState[] = ['WAITING', 'RUNNING'];
const FINISHED_STATES: JobState[] = [...TERMINAL_STATES];
const ALL_STATES: JobState[] = [...ACTIVE_STATES, ...FINISHED_STATES];

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
  /** Only jobs whose time_started or time_finished lies in this range (uses that time index). */
  range?: TimeRange;
}

export type CountOptions = Omit<ScanOptions, 'reverse'>;

export interface PurgeOptions {
  /**
   * Keep at most this many finished jobs in all, shared fairly between owners: an owner keeps all
   * its jobs while it has no more than an equal share of what is left, so one owner's volume only
   * ever pushes out its own history.
   */
  maxFinished: number;
  /** Drop finished jobs whose time_finished is older than this (Infinity: no age limit). */
  maxAgeMs: number;
  now: number;
  /** Stops the purge between steps (the daemon is stopping). */
  signal?: AbortSignal;
}

/** What purge() reports of a removed job: enough to delete its log file. */
export interface PurgedJob {
  id: number;
  logs_path: string | null;
}

/** What open() found. `lostIds` is set when the newest job lies far below the ids handed out. */
export interface StoreOpenReport {
  newestId: number;
  idMark: number;
  lostIds: { newest: number; mark: number } | null;
  /** Records rewritten to the current layout (0 when none needed it). */
  migrated: number;
}

function timeKey(ms: number, id: number): string {
  return String(Math.max(0, Math.trunc(ms))).padStart(13, '0') + SEP + padId(id);
}

function ownerKey(owner: string | null | undefined, id: number): string {
  return (owner ?? '') + SEP + padId(id);
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

/** The counted fields of a record as stored before a put that knows only the old state. */
function storedBefore(job: JobRecord, previousState: JobState): Counted {
  const finished = TERMINAL_STATES.has(previousState);
  return { state: previousState, time_started: job.time_started, time_finished: finished ? job.time_finished : null, owner: job.owner ?? null };
}

/** Owner of a record written before owners existed: only the unix-socket root is unambiguous. */
function legacyOwner(r: JobRecord): string | null {
  return r.credentials?.type === 'UNIX_SOCKET' ? 'UNIX_SOCKET:root' : null;
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


/** Jobs each owner keeps when `max` finished jobs are shared fairly (counts in owner order). */
export function fairShares(counts: number[], max: number): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= max) return counts;
  const order = counts.map((_, i) => i).sort((a, b) => counts[a]! - counts[b]!);
  let left = max;
  for (let k = 0; k < order.length; k++) {
    const share = Math.floor(left / (order.length - k));
    const n = counts[order[k]!]!;
    if (n <= share) {
      left -= n;
      continue;
    }
    // This owner and every larger one keep an equal share of what is left.
    return counts.map((c) => Math.min(c, share));
  }
  return counts;
}

type Stored = Pick<JobRecord, 'state' | 'method' | 'time_started' | 'time_finished' | 'owner'>;

/** When a job's record is written with extra ops: as it is added, and as it ends. */
export type JobChange = 'added' | 'ended';
/**
 * Writes another part of the daemon (the fleet's history outbox) puts into the very batch that
 * stores a job when it is added and when it ends, so they are durable exactly when the job is.
 * Called while the batch is built: it must not wait or throw.
 */
export type JobBatchHook = (job: JobRecord, change: JobChange) => readonly unknown[];

export class JobStore {
  private readonly db: RootDb;
  private readonly records: Sub<JobRecord>;
  private readonly byMethod: Sub<number>;
  private readonly byState: Sub<number>;
  private readonly byStarted: Sub<number>;
  private readonly byFinished: Sub<number>;
  private readonly byOwner: Sub<number>;
  private readonly counts: Sub<number>;
  private readonly meta: Sub<number>;
  private nextId = 0; // 0: open() has not run
  /** Ids below this are reserved by a durable id_mark. */
  private idMark = 0;
  private reserving: Promise<void> | null = null;
  private purgedMax = 0;
  /** Batches land in the order they were issued (level does not promise that for separate calls). */
  readonly #writes = new Slots(1);
  /** Counter values as stored (a cache: entries may be dropped, never ahead of the store). */
  private readonly countCache = new Map<string, number>();
  readonly #batchHooks: Array<{ hook: JobBatchHook; committed: (() => void) | null }> = [];
  /** Puts waiting for the next group commit, in call order. */
  private pending: Array<{ ops: BatchOp[]; deltas: CounterDeltas; hooked: boolean; resolve: () => void; reject: (e: unknown) => void }> = [];

  constructor(db: RootDb, name = 'jobs') {
    this.db = db;
    const sub = <V>(part: string): Sub<V> =>
      db.sublevel<string, V>([name, part], { valueEncoding: 'json' }) as Sub<V>;
    this.records = sub<JobRecord>('rec');
    this.byMethod = sub<number>('by_method');
    this.byState = sub<number>('by_state');
    this.byStarted = sub<number>('by_started');
    this.byFinished = sub<number>('by_finished');
    this.byOwner = sub<number>('by_owner');
    this.counts = sub<number>('counts');
    this.meta = sub<number>('meta');
  }

  /** Brings an older layout up to date, then loads the id counter (past the mark and every record). */
  async open(): Promise<StoreOpenReport> {
    const migrated = await this.migrate();
    const [mark0, legacyNext, purged] = await this.meta.getMany([ID_MARK_KEY, LEGACY_NEXT_ID_KEY, PURGED_MAX_KEY]);
    const num = (v: unknown): number => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 0);
    const mark = Math.max(num(mark0), num(legacyNext), 1);
    this.purgedMax = num(purged);
    const last = await this.records.keys({ reverse: true, limit: 1 }).all();
    const newest = Math.max(last.length > 0 ? idFromKey(last[0]!) : 0, this.purgedMax);
    this.nextId = Math.max(this.nextId, mark, newest + 1);
    this.idMark = this.nextId; // the first allocateId() reserves a fresh block
    // A block may be reserved with no record in it yet, and up to a block of jobs may have been in
    // flight when the daemon stopped; anything further below the mark is records that are gone.
    const lostIds = mark - 1 - newest > 2 * ID_BLOCK ? { newest, mark } : null;
    return { newestId: newest, idMark: mark, lostIds, migrated };
  }

  /** A fresh id, higher than every id handed out or stored before; its block's mark is durable first. */
  async allocateId(): Promise<number> {
    if (this.nextId === 0) throw new Error('JobStore.allocateId() called before open()');
    while (this.nextId >= this.idMark) {
      if (this.nextId > MAX_JOB_ID) throw new CallError('Job ids exhausted', ERRNO.ERANGE);
      this.reserving ??= this.reserve().finally(() => (this.reserving = null));
      await this.reserving;
    }
    return this.nextId++;
  }

  private async reserve(): Promise<void> {
    const mark = Math.min(MAX_JOB_ID + 1, this.nextId + ID_BLOCK);
    await this.serial(() => this.db.batch([{ type: 'put', sublevel: this.meta, key: ID_MARK_KEY, value: mark }]));
    this.idMark = Math.max(this.idMark, mark);
  }

  /**
   * Writes a record with its index entries and counters. `previousState` is the state the stored
   * copy had (null: none; saves reading it back, and lets the write join a group commit); when
   * omitted, the stored copy is read. A job's method, owner and time_started never change.
   */
  put(job: JobRecord, previousState?: JobState | null): Promise<void> {
    if (!isValidId(job.id)) {
      return Promise.reject(new CallError(`Invalid job id ${String(job.id)}`, ERRNO.EINVAL));
    }
    if (job.id >= this.nextId) this.nextId = job.id + 1;
    if (previousState !== undefined) {
      // Snapshot the record now; the caller keeps mutating its copy.
      const snapshot = { ...job };
      const before = previousState === null ? null : { ...storedBefore(snapshot, previousState), method: snapshot.method };
      const deltas: CounterDeltas = new Map();
      addTransition(deltas, before, snapshot);
      const hooked = this.hookOps(snapshot, previousState);
      return this.grouped([...this.recordOps(snapshot, before ?? undefined), ...this.markOps(snapshot.id), ...hooked], deltas, hooked.length > 0);
    }
    return this.serial(async () => {
      const old = await this.records.get(padId(job.id));
      const deltas: CounterDeltas = new Map();
      addTransition(deltas, old === undefined ? null : { ...old, owner: old.owner ?? null }, job);
      const hooked = this.hookOps(job, old?.state ?? null);
      await this.commit([...this.recordOps(job, old), ...this.markOps(job.id), ...hooked], deltas);
      if (hooked.length > 0) this.hooksCommitted();
    });
  }

  /**
   * Adds `hook`'s ops to every batch that stores a job as added or ended (JobBatchHook);
   * `committed` is called after each batch holding some of them is written.
   */
  addBatchHook(hook: JobBatchHook, committed: (() => void) | null = null): void {
    this.#batchHooks.push({ hook, committed });
  }

  /** A batch holding hook ops was written: tell the hooks (e.g. the outbox publishes it now). */
  private hooksCommitted(): void {
    for (const h of this.#batchHooks) h.committed?.();
  }

  /** The hooks' ops for writing `job` over its stored state (null: none stored). */
  private hookOps(job: JobRecord, before: JobState | null): BatchOp[] {
    if (this.#batchHooks.length === 0) return [];
    const change: JobChange | null = before === null ? 'added' : TERMINAL_STATES.has(job.state) && !TERMINAL_STATES.has(before) ? 'ended' : null;
    if (change === null) return [];
    // The hooks' ops name sublevels of this same database (the module API types them so).
    return this.#batchHooks.flatMap((h) => h.hook(job, change) as BatchOp[]);
  }

  /** A record stored with an id at or past the mark (not from allocateId) moves the mark past it. */
  private markOps(id: number): BatchOp[] {
    if (id < this.idMark) return [];
    this.idMark = id + 1;
    return [{ type: 'put', sublevel: this.meta, key: ID_MARK_KEY, value: this.idMark }];
  }

  /**
   * Group commit: puts issued while a batch is being written go out together in the next batch,
   * in call order, so thousands of jobs a second cost a few hundred level batches (and, with
   * fsync, a few hundred syncs).
   */
  private grouped(ops: BatchOp[], deltas: CounterDeltas, hooked: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ops, deltas, hooked, resolve, reject });
      if (this.pending.length === 1) void this.serial(() => this.flushGroup());
    });
  }

  /** Writes up to GROUP_MAX waiting puts in one batch; the rest follow in the next ones. */
  private async flushGroup(): Promise<void> {
    const group = this.pending.splice(0, GROUP_MAX);
    if (group.length === 0) return;
    // More waiting: they go next, behind this batch in the write chain.
    if (this.pending.length > 0) void this.serial(() => this.flushGroup());
    const ops: BatchOp[] = [];
    const deltas: CounterDeltas = new Map();
    for (const p of group) {
      for (const op of p.ops) ops.push(op);
      for (const [k, v] of p.deltas) deltas.set(k, (deltas.get(k) ?? 0) + v);
    }
    try {
      await this.commit(ops, deltas);
      for (const p of group) p.resolve();
      if (group.some((p) => p.hooked)) this.hooksCommitted();
    } catch (err) {
      // Puts issued after these may depend on them (a job's end on its added record): none of
      // the waiting ones is written after a failed batch.
      for (const p of [...group, ...this.pending.splice(0)]) p.reject(err);
    }
  }

  /** Writes `ops` plus the counters changed by `deltas` in one batch. Runs inside serial(). */
  private async commit(ops: BatchOp[], deltas: CounterDeltas): Promise<void> {
    const keys = [...deltas.keys()].filter((k) => deltas.get(k) !== 0);
    const missing = keys.filter((k) => !this.countCache.has(k));
    if (missing.length > 0) {
      const stored = await this.counts.getMany(missing);
      missing.forEach((k, i) => this.countCache.set(k, typeof stored[i] === 'number' ? stored[i] : 0));
    }
    const next = new Map<string, number>();
    for (const k of keys) {
      const v = this.countCache.get(k)! + deltas.get(k)!;
      next.set(k, v);
      ops.push(v > 0 ? { type: 'put', sublevel: this.counts, key: k, value: v } : { type: 'del', sublevel: this.counts, key: k });
    }
    try {
      await this.db.batch(ops);
    } catch (err) {
      for (const k of keys) this.countCache.delete(k);
      throw err;
    }
    if (this.countCache.size + next.size > COUNT_CACHE_MAX) this.countCache.clear();
    for (const [k, v] of next) this.countCache.set(k, Math.max(0, v));
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
   * Records matching every given filter, ordered by id (descending with `reverse`). Uses the time
   * index when a range is given, else the method index when methods are given, else the state
   * index, else the record range; each record read back is checked against all filters, so a
   * record never appears under a filter it fails.
   */
  async *scan(options: ScanOptions = {}): AsyncGenerator<JobRecord> {
    const methods = unique(options.methods);
    const states = unique(options.states);
    const [lo, hi] = idBounds(options);
    if (lo > hi || methods?.length === 0 || states?.length === 0) return;
    const reverse = options.reverse === true;
    const check = (ids: number[]) => this.fetchMatching(ids, methods, states, options.range);
    if (options.range !== undefined) {
      // The range's ids come in time order: collect them (bounded by the range) and sort.
      const ids = await this.idsInRange(options.range, lo, hi);
      ids.sort((a, b) => (reverse ? b - a : a - b));
      for (let i = 0; i < ids.length; i += SCAN_CHUNK) yield* await check(ids.slice(i, i + SCAN_CHUNK));
      return;
    }
    const cursors = this.cursors(methods, states, lo, hi, reverse);
    try {
      let chunk: number[] = [];
      for await (const id of mergeIds(cursors, reverse)) {
        chunk.push(id);
        if (chunk.length >= SCAN_CHUNK) {
          yield* await check(chunk);
          chunk = [];
        }
      }
      if (chunk.length > 0) yield* await check(chunk);
    } finally {
      await Promise.all(cursors.map((c) => c.close()));
    }
  }

  /**
   * Number of records matching the filters. A time range with optional states (the summary
   * counts) reads the counters; otherwise index keys are counted, and records are read only when
   * both methods and states, or a range with methods or id bounds, are given.
   */
  async count(options: CountOptions = {}): Promise<number> {
    const methods = unique(options.methods);
    const states = unique(options.states);
    const [lo, hi] = idBounds(options);
    if (lo > hi || methods?.length === 0 || states?.length === 0) return 0;
    const range = options.range;
    if (range !== undefined && methods === undefined && lo === 0 && hi === MAX_JOB_ID) return this.countByCounters(range, states);
    let n = 0;
    if (range !== undefined || (methods !== undefined && states !== undefined)) {
      for await (const _ of this.scan(options)) n++;
      return n;
    }
    const cursors = this.cursors(methods, states, lo, hi, false);
    try {
      for await (const _ of mergeIds(cursors, false)) n++;
    } finally {
      await Promise.all(cursors.map((c) => c.close()));
    }
    return n;
  }

  private async countByCounters(range: TimeRange, states: string[] | undefined): Promise<number> {
    const candidates = range.field === 'time_finished' ? FINISHED_STATES : ALL_STATES;
    let n = 0;
    for (const state of candidates) {
      if (states !== undefined && !states.includes(state)) continue;
      for (const keys of countRanges(state, range)) {
        const it = this.counts.values(keys);
        try {
          for (let vs = await it.nextv(1000); vs.length > 0; vs = await it.nextv(1000)) for (const v of vs) n += typeof v === 'number' ? v : 0;
        } finally {
          await it.close();
        }
      }
    }
    return n;
  }

  /** A stop with jobs running: the next start records them as interrupted at `at` (recoverInterrupted). */
  markStopped(at: number): Promise<void> {
    return this.serial(() => this.db.batch([{ type: 'put', sublevel: this.meta, key: STOPPED_AT_KEY, value: jobTime(at) }]));
  }

  /**
   * After a restart no job is running any more: every WAITING/RUNNING record becomes FAILED with
   * `error`, finished when the daemon stopped (markStopped) or, after a crash, `now`. Returns the
   * updated records (the caller may build their logs excerpts).
   */
  async recoverInterrupted(now: number, error: string): Promise<JobRecord[]> {
    const stoppedAt = await this.meta.get(STOPPED_AT_KEY);
    const stale: JobRecord[] = [];
    for await (const r of this.scan({ states: ACTIVE_STATES })) stale.push(r);
    // A job started after the last clean stop was running at a crash: all we know is now.
    const updated = stale.map((r) => interruptedRecord(r, error, typeof stoppedAt === 'number' && stoppedAt >= r.time_started ? stoppedAt : jobTime(now)));
    for (let i = 0; i < updated.length; i += STORE_BATCH) {
      const ops: BatchOp[] = [];
      const deltas: CounterDeltas = new Map();
      let hooked = false;
      for (let k = i; k < Math.min(updated.length, i + STORE_BATCH); k++) {
        const before = { ...stale[k]!, owner: stale[k]!.owner ?? null };
        const extra = this.hookOps(updated[k]!, before.state);
        hooked ||= extra.length > 0;
        ops.push(...this.recordOps(updated[k]!, before), ...extra);
        addTransition(deltas, before, updated[k]!);
      }
      await this.serial(() => this.commit(ops, deltas));
      if (hooked) this.hooksCommitted();
      await yieldToEventLoop();
    }
    if (stoppedAt !== undefined) await this.serial(() => this.db.batch([{ type: 'del', sublevel: this.meta, key: STOPPED_AT_KEY }]));
    return updated;
  }

  /**
   * Retention: drops finished jobs older than `maxAgeMs`, then, beyond `maxFinished` in all, the
   * oldest jobs of the owners holding more than their fair share (fairShares). WAITING/RUNNING
   * jobs are never touched. Works in steps of STORE_BATCH records, letting the event loop run in
   * between; memory stays flat however long the history is. Returns the removed jobs (the caller
   * removes their log files).
   */
  async purge(o: PurgeOptions): Promise<PurgedJob[]> {
    const removed: PurgedJob[] = [];
    if (Number.isFinite(o.maxAgeMs)) {
      const cutoff = o.now - o.maxAgeMs;
      if (cutoff > 0) await this.deleteIndexed(this.byFinished, { lt: timeKey(cutoff, 0) }, Infinity, removed, o.signal);
    }
    const owners = await this.counts.iterator({ gte: OWNER_COUNTER_PREFIX, lt: OWNER_COUNTER_PREFIX.slice(0, -1) + '\x01' }).all();
    const counts = owners.map(([, n]) => (typeof n === 'number' ? n : 0));
    const keep = fairShares(counts, Math.max(0, o.maxFinished));
    for (let i = 0; i < owners.length; i++) {
      const excess = counts[i]! - keep[i]!;
      if (excess <= 0) continue;
      const owner = owners[i]![0].slice(OWNER_COUNTER_PREFIX.length);
      await this.deleteIndexed(this.byOwner, { gte: owner + SEP, lt: owner + '\x01' }, excess, removed, o.signal);
    }
    return removed;
  }

  /** Deletes up to `limit` finished jobs found (in key order) in `range` of an index of finished jobs. */
  private async deleteIndexed(index: Sub<number>, range: { gte?: string; lt: string }, limit: number, removed: PurgedJob[], signal: AbortSignal | undefined): Promise<void> {
    for (let left = limit; left > 0 && signal?.aborted !== true; ) {
      const keys = await index.keys({ ...range, limit: Math.min(STORE_BATCH, left) }).all();
      if (keys.length === 0) return;
      const before = removed.length;
      await this.deleteFinished(keys.map(idFromKey), removed);
      left -= removed.length - before;
      // Drop entries whose record is gone or not finished (nothing else would remove them).
      await this.serial(() => this.db.batch(keys.map((key) => ({ type: 'del' as const, sublevel: index, key }))));
      if (keys.length < STORE_BATCH && removed.length === before) return;
    }
  }

  private async deleteFinished(ids: number[], removed: PurgedJob[]): Promise<void> {
    const recs = await this.records.getMany(ids.map(padId));
    // Index entries are read from a snapshot; skip anything that is no longer a finished job.
    const doomed = recs.filter((r): r is JobRecord => r !== undefined && TERMINAL_STATES.has(r.state));
    if (doomed.length > 0) {
      const ops = doomed.flatMap((r) => this.deleteOps(r));
      const deltas: CounterDeltas = new Map();
      for (const r of doomed) addTransition(deltas, { ...r, owner: r.owner ?? null }, null);
      const highest = Math.max(...doomed.map((r) => r.id));
      if (highest > this.purgedMax) ops.push({ type: 'put', sublevel: this.meta, key: PURGED_MAX_KEY, value: highest });
      await this.serial(() => this.commit(ops, deltas));
      this.purgedMax = Math.max(this.purgedMax, highest);
      for (const r of doomed) removed.push({ id: r.id, logs_path: r.logs_path });
    }
    await yieldToEventLoop();
  }

  /**
   * Rewrites records stored by an older layout: whole-second times, owners, the time and owner
   * indexes and the counters are rebuilt from the records. Safe to interrupt: it starts over.
   */
  private async migrate(): Promise<number> {
    if ((await this.meta.get(LAYOUT_KEY)) === LAYOUT) return 0;
    const setLayout = () => this.serial(() => this.db.batch([{ type: 'put', sublevel: this.meta, key: LAYOUT_KEY, value: LAYOUT }]));
    if ((await this.records.keys({ limit: 1 }).all()).length === 0) {
      await setLayout();
      return 0;
    }
    for (const index of [this.byStarted, this.byFinished, this.byOwner, this.counts]) await index.clear();
    this.countCache.clear();
    let n = 0;
    let after: string | null = null;
    for (;;) {
      const entries: Array<[string, JobRecord]> = await this.records.iterator({ ...(after === null ? {} : { gt: after }), limit: STORE_BATCH }).all();
      if (entries.length === 0) break;
      const ops: BatchOp[] = [];
      const deltas: CounterDeltas = new Map();
      for (const [, old] of entries) {
        const r: JobRecord = {
          ...old,
          time_started: jobTime(old.time_started),
          time_finished: old.time_finished === null ? null : jobTime(old.time_finished),
          owner: old.owner !== undefined ? old.owner : legacyOwner(old),
        };
        ops.push(...this.recordOps(r, undefined));
        addTransition(deltas, null, r);
      }
      await this.serial(() => this.commit(ops, deltas));
      n += entries.length;
      after = entries[entries.length - 1]![0];
      await yieldToEventLoop();
    }
    await setLayout();
    return n;
  }

  private async fetchMatching(ids: number[], methods: string[] | undefined, states: string[] | undefined, range: TimeRange | undefined): Promise<JobRecord[]> {
    const recs = await this.records.getMany(ids.map(padId));
    return recs.filter((r): r is JobRecord => {
      if (r === undefined) return false;
      if (methods !== undefined && !methods.includes(r.method)) return false;
      if (states !== undefined && !states.includes(r.state)) return false;
      if (range === undefined) return true;
      const t = r[range.field];
      return t !== null && t >= range.gte && t < range.lt;
    });
  }

  /** Ids of the jobs whose `range.field` lies in the range, within id bounds [lo, hi], unsorted. */
  private async idsInRange(range: TimeRange, lo: number, hi: number): Promise<number[]> {
    const index = range.field === 'time_started' ? this.byStarted : this.byFinished;
    const bounds = { gte: timeKey(range.gte, 0), ...(Number.isFinite(range.lt) ? { lt: timeKey(range.lt, 0) } : {}) };
    const it = index.keys(bounds);
    const ids: number[] = [];
    try {
      for (let keys = await it.nextv(1000); keys.length > 0; keys = await it.nextv(1000)) {
        for (const key of keys) {
          const id = idFromKey(key);
          if (id >= lo && id <= hi) ids.push(id);
        }
      }
    } finally {
      await it.close();
    }
    return ids;
  }

  /** The ops writing `job` over its stored version `old` (undefined: none). */
  private recordOps(job: JobRecord, old: Stored | undefined): BatchOp[] {
    const key = padId(job.id);
    const ops: BatchOp[] = [];
    if (old !== undefined) {
      if (old.state !== job.state) ops.push({ type: 'del', sublevel: this.byState, key: old.state + SEP + key });
      if (old.method !== job.method) ops.push({ type: 'del', sublevel: this.byMethod, key: old.method + SEP + key });
      if (old.time_started !== job.time_started) ops.push({ type: 'del', sublevel: this.byStarted, key: timeKey(old.time_started, job.id) });
      if (old.time_finished !== null && TERMINAL_STATES.has(old.state) && old.time_finished !== job.time_finished) {
        ops.push({ type: 'del', sublevel: this.byFinished, key: timeKey(old.time_finished, job.id) });
      }
    }
    ops.push({ type: 'put', sublevel: this.records, key, value: job });
    // Entries the stored version already has are not written again (fewer ops per batch).
    if (old === undefined || old.method !== job.method) ops.push({ type: 'put', sublevel: this.byMethod, key: job.method + SEP + key, value: job.id });
    if (old === undefined || old.state !== job.state) ops.push({ type: 'put', sublevel: this.byState, key: job.state + SEP + key, value: job.id });
    if (old === undefined || old.time_started !== job.time_started) ops.push({ type: 'put', sublevel: this.byStarted, key: timeKey(job.time_started, job.id), value: job.id });
    const finished = (r: Stored) => r.time_finished !== null && TERMINAL_STATES.has(r.state);
    if (finished(job) && (old === undefined || !finished(old) || old.time_finished !== job.time_finished || old.owner !== job.owner)) {
      ops.push(
        { type: 'put', sublevel: this.byFinished, key: timeKey(job.time_finished!, job.id), value: job.id },
        { type: 'put', sublevel: this.byOwner, key: ownerKey(job.owner, job.id), value: job.id },
      );
    }
    return ops;
  }

  private deleteOps(job: JobRecord): BatchOp[] {
    const key = padId(job.id);
    const ops: BatchOp[] = [
      { type: 'del', sublevel: this.records, key },
      { type: 'del', sublevel: this.byMethod, key: job.method + SEP + key },
      { type: 'del', sublevel: this.byState, key: job.state + SEP + key },
      { type: 'del', sublevel: this.byStarted, key: timeKey(job.time_started, job.id) },
      { type: 'del', sublevel: this.byOwner, key: ownerKey(job.owner, job.id) },
    ];
    if (job.time_finished !== null) ops.push({ type: 'del', sublevel: this.byFinished, key: timeKey(job.time_finished, job.id) });
    return ops;
  }

  /** One id cursor per index value (methods win over states), or one over the records. */
  private cursors(methods: string[] | undefined, states: string[] | undefined, lo: number, hi: number, reverse: boolean): IdCursor[] {
    const range = (prefix: string) => ({ gte: prefix + padId(lo), lte: prefix + padId(hi), reverse });
    if (methods !== undefined) return methods.map((m) => new IdCursor(this.byMethod.keys(range(m + SEP))));
    if (states !== undefined) return states.map((s) => new IdCursor(this.byState.keys(range(s + SEP))));
    return [new IdCursor(this.records.keys(range('')))];
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    return this.#writes.run(fn);
  }
}
