// The job engine: creates jobs, runs them under their locks, throttles their progress events,
// aborts them, and keeps only active jobs and a small recent window in memory.
//
// Persist before announce: a job exists for clients (its id is answered, its "added" event goes
// out, queries show it) only once its added record is durable, and it ends (its end event, its
// watchers, the new-style response, core.job_wait, core.bulk) only once its final record is
// durable too. It may start running while the added record is written, so a trivial job's two
// records can share one group commit; a job whose added record fails is stopped and forgotten.
// The final record is built apart from the live one and applied after the write, so memory is
// never ahead of the store; when that write fails (a storage fault) the job stays RUNNING until
// the store recovers and the write is retried, or is recorded as interrupted at the next start.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PassThrough } from 'node:stream';
import { isFullAdmin, jobCredentials, type Credentials } from '../auth/credentials.js';
import { roleGranted } from '../auth/roles.js';
import type { JobsConfig } from '../config.js';
import { CallError, DaemonStopping, ERRNO, JobAborted, JobInterrupted, isExpected, notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { Jobs } from '../module-api.js';
import { compileFilters } from '../query/index.js';
import { DEFAULT_LOCK_QUEUE_SIZE, type CallContext, type RegisteredMethod } from '../registry.js';
import { Slots } from '../slots.js';
import type { GuardedLevel } from '../storage.js';
import type { QueryOptionsT } from '../../schemas/query.js';
import { Admission } from './admission.js';
import { followJobLog, waitForJob } from './follow.js';
import type { JobHandle } from './handle.js';
import { Job, type FinalState } from './job.js';
import { jobLogPath, logsExcerpt, removeLog } from './logs.js';
import { jobOwner, userOwner, type UserLookup } from './owner.js';
import { queryJobs, scanHints } from './query.js';
import { JobStore, type JobBatchHook, type ScanOptions } from './store.js';
import { jobTime, TERMINAL_STATES, type JobRecord, type JobState } from './types.js';
import { jobToWire } from './wire.js';

/** Progress events per job are sent at most this often (the last value always goes out). */
const PROGRESS_INTERVAL_MS = 100;
export const JOB_EVENT = 'core.get_jobs';
const FIRST_PURGE_DELAY_MS = 10_000;
/** How long a stopping daemon lets its aborted jobs end by themselves (cleaning up) before it closes. */
const STOP_GRACE_MS = 2000;
/**
 * Jobs deleted per store batch by core.job_delete (the event loop runs between batches). Small on
 * purpose: level encodes a batch's operations on the main thread, and 500 jobs (3,000 operations)
 * held it for about 15 ms, which showed as core.ping p99 above 40 ms during a large delete.
 */
const DELETE_BATCH = 100;

export interface SubmitOptions {
  /** Output pipe for core.download. */
  output?: PassThrough | null;
}

/** What the manager needs to know of the rest of the daemon, handed over when it is made. */
export interface JobManagerDeps {
  /** The registered method of a name (read roles and redaction of stored jobs). */
  method(name: string): RegisteredMethod | undefined;
  /** The user store's answer for a user id (job owners are stable identities, owner.ts). */
  user: UserLookup;
  /** Told of every job whose end was stored (metrics). */
  jobEnded?(method: string, state: FinalState, seconds: number): void;
}

/** A job in memory whose stored copy may be behind (queries correct for it). */
export interface LiveRecord {
  readonly record: JobRecord;
  /** The state as of the last completed put (null: nothing stored yet). */
  readonly stored: JobState | null;
}

/** The manager's books on one job, kept beside the job (which is what its handler sees). */
interface Tracked extends LiveRecord {
  readonly job: Job;
  stored: JobState | null;
  /** The context of a queued job, until it starts. */
  ctx: CallContext | null;
  /** Set once its end is being recorded: later ends are ignored. */
  ending: boolean;
  /** Resolves once the added record is durable (rejects: the job never existed). */
  added: Promise<void>;
  /** True once the added record is durable: from then on clients may see the job. */
  announced: boolean;
  /** The added record could not be stored: the job is stopped and forgotten. */
  discarded: boolean;
  /** The owner whose active-job count this job holds (null: not counted). */
  cappedOwner: string | null;
  /** performance.now() when it started running (null: it never ran). */
  startedAt?: number;
  /** It holds a running slot of the caps (admission.ts). */
  slot: boolean;
}

interface LockState {
  running: Tracked | null;
  queue: Tracked[];
  /** Submissions whose record is being written: they will queue here. */
  pending: number;
}

interface Throttle {
  last: number;
  timer: NodeJS.Timeout | null;
}

type Watcher = (job: Job) => void;

/** A module following jobs (Jobs.observe): the record as stored or changed, arguments redacted. */
export type JobObserver = (record: Readonly<JobRecord>, msg: 'added' | 'changed') => void;

/** The error callers of interrupted jobs get (they are gone by then; one is enough). */
const INTERRUPTED = new JobInterrupted();

/** A handler that gave up because the daemon stops (e.g. a cron run it terminated). */
function isInterruption(err: unknown): boolean {
  return err instanceof DaemonStopping || err instanceof JobInterrupted;
}

export class JobManager implements Jobs {
  readonly store: JobStore;
  readonly #logsDir: string;
  /** WAITING and RUNNING jobs. */
  readonly #active = new Map<number, Tracked>();
  /** The most recently finished jobs, oldest first. */
  readonly #recent = new Map<number, Tracked>();
  readonly #locks = new Map<string, LockState>();
  readonly #throttles = new Map<number, Throttle>();
  readonly #watchers = new Map<number, Set<Watcher>>();
  /** Modules following every job (webhooks, alerts): told what clients are told, as it is sent. */
  readonly #observers = new Set<JobObserver>();
  /** Active (and being submitted) top-level jobs per owner, for maxActivePerOwner. */
  readonly #activeByOwner = new Map<string, number>();
  /** Jobs that ended but whose final record could not be written yet (storage fault). */
  readonly #unrecorded = new Map<Tracked, JobRecord>();
  /** Final-record writes in flight (a stop waits for them before the database closes). */
  readonly #recording = new Set<Promise<void>>();
  /** Jobs found WAITING/RUNNING at start and marked failed (modules may clean up after them). */
  #interrupted: readonly JobRecord[] = [];
  /** Problems found in the store at start (e.g. ids handed out past the newest record). */
  readonly #storeWarnings: string[] = [];
  #purgeTimer: NodeJS.Timeout | null = null;
  #purging: Promise<void> | null = null;
  readonly #purgeStop = new AbortController();
  #closing = false;
  /** Tag updates one at a time: each reads a record and writes it back. */
  readonly #tagging = new Slots(1);
  /** MIDSHIP_MAX_RUNNING_JOBS and per-method caps. */
  readonly #admission: Admission;

  constructor(
    private readonly db: GuardedLevel,
    dataDir: string,
    private readonly config: JobsConfig,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly deps: JobManagerDeps,
  ) {
    this.store = new JobStore(db);
    this.#logsDir = join(dataDir, 'jobs');
    this.#admission = new Admission({ global: config.maxRunning, perMethod: config.maxRunningPerMethod });
    db.onRecovered(() => this.#recordUnrecorded());
  }

  /** The stable identity that owns jobs started with `c` (owner.ts). */
  ownerOf(c: Credentials | null): string | null {
    return jobOwner(c, this.deps.user);
  }

  /** Jobs the previous run left WAITING or RUNNING, now stored as FAILED (interrupted). */
  get interrupted(): readonly JobRecord[] {
    return this.#interrupted;
  }

  /**
   * Problems found in the store at start (e.g. ids handed out past the newest record: records
   * were lost). Logged loudly; kept for the alert module to raise once it exists.
   */
  get storeWarnings(): readonly string[] {
    return this.#storeWarnings;
  }

  async open(): Promise<void> {
    await mkdir(this.#logsDir, { recursive: true });
    const report = await this.store.open();
    if (report.migrated > 0) this.log.info({ records: report.migrated }, 'job history rewritten to the current layout');
    if (report.lostIds !== null) {
      const { newest, mark } = report.lostIds;
      const text = `The job store's newest job is ${newest} but ids up to ${mark - 1} were handed out: job records were lost (a damaged or restored database?)`;
      this.#storeWarnings.push(text);
      this.log.error({ newest, idMark: mark }, `JOB HISTORY LOST: ${text}`);
    }
    const interrupted = await this.store.recoverInterrupted(Date.now(), INTERRUPTED.errmsg);
    for (const r of interrupted) {
      if (r.logs_path === null) continue;
      r.logs_excerpt = await logsExcerpt(r.logs_path);
      await this.store.put(r, r.state);
    }
    this.#interrupted = interrupted;
    if (interrupted.length > 0) this.log.warn({ jobs: interrupted.map((r) => r.id) }, 'jobs interrupted by the previous stop marked FAILED');
    // The first purge runs shortly after start-up rather than during it: walking a long history
    // would compete with loading the modules and delay the moment the daemon listens.
    this.#schedulePurge(Math.min(this.config.purgeIntervalMs, FIRST_PURGE_DELAY_MS));
  }

  // ---- submission and scheduling ----

  async submit(m: RegisteredMethod, args: unknown[], ctx: CallContext, options: SubmitOptions = {}): Promise<Job> {
    if (this.#closing) throw new CallError('The daemon is shutting down', ERRNO.ESHUTDOWN);
    const def = m.def.job!;
    const transient = def.transient ?? false;
    if (!transient && this.db.failed !== null) throw this.db.failed;
    const lock = typeof def.lock === 'function' ? def.lock(args) : (def.lock ?? null);
    const owner = this.ownerOf(ctx.credentials);
    if (lock !== null) {
      const holder = this.#locks.get(lock)?.running;
      if (holder && ctx.parentJob !== null && this.isAncestor(holder.job.id, ctx.parentJob.id)) {
        throw new CallError(`Job ${holder.job.id} holds the lock ${lock} and waits for this call: it would never run`, ERRNO.EBUSY);
      }
      const coalesced = this.#applyQueueLimit(m, lock, ctx, owner);
      if (coalesced) return coalesced;
    }
    // Jobs a job starts (core.bulk's calls, one at a time) are bounded by their parent; full
    // admins (the unix-socket root, scripts running as admin) could stop the daemon anyway.
    const capped = owner !== null && ctx.parentJob === null && !isFullAdmin(ctx.credentials) ? owner : null;
    if (capped !== null) this.#reserveActive(capped, ctx.credentials);
    const l = lock === null ? null : this.#lockState(lock);
    if (l !== null) l.pending++;
    let id: number;
    try {
      id = await this.store.allocateId();
    } catch (err) {
      if (capped !== null) this.#releaseActive(capped);
      if (l !== null) {
        l.pending--;
        this.#dropIdleLock(lock!);
      }
      throw err;
    }
    const record: JobRecord = {
      id,
      message_ids: ctx.messageId === null || ctx.messageId === undefined ? [] : [ctx.messageId],
      method: m.def.name,
      arguments: (def.redactArgs ? def.redactArgs(args) : m.redactArgs(args)) as unknown[],
      transient,
      ...(def.tags ? { tags: uniqueTags(def.tags(args)) } : {}),
      description: def.description?.(args) ?? null,
      abortable: def.abortable ?? false,
      logs_path: def.logs ? jobLogPath(this.#logsDir, id) : null,
      logs_excerpt: null,
      progress: { percent: 0, description: '', extra: null },
      result: null,
      result_encoding_error: null,
      error: null,
      exception: null,
      exc_info: null,
      state: 'WAITING',
      time_started: jobTime(),
      time_finished: null,
      credentials: jobCredentials(ctx.credentials),
      parent_id: ctx.parentJob?.id ?? null,
      owner,
    };
    const job = new Job(record, m, args, ctx.credentials, lock, options.output ?? null, {
      changed: (j, immediate) => this.#changed(j, immediate),
      persist: () => this.#persist(t),
    });
    const t: Tracked = { job, record, stored: null, ctx: null, ending: false, added: Promise.resolve(), announced: false, discarded: false, cappedOwner: capped, slot: false };
    // The job may start while its added record is being written (group commit keeps throughput),
    // but nothing of it is visible until that record is durable: no event, no query, no id.
    const stored = { ...record };
    t.added = this.#persist(t).then(
      () => this.#announce(t, stored),
      (err: unknown) => {
        this.#discard(t);
        throw err;
      },
    );
    this.#active.set(id, t);
    if (l === null) this.#start(t, ctx);
    else {
      l.pending--;
      t.ctx = ctx;
      l.queue.push(t);
      if (l.running === null) this.#startNext(lock!);
    }
    await t.added;
    return job;
  }

  /** The added record is durable: the job exists for clients from now on. */
  #announce(t: Tracked, stored: JobRecord): void {
    t.announced = true;
    if (t.record.transient) return;
    // "added" is the job as stored (WAITING); a job that started meanwhile follows at once.
    this.#observe(stored, 'added');
    if (this.events.hasListeners(JOB_EVENT)) this.#emitRecord(t.job, 'added', stored);
    const r = t.record;
    if (r.state !== stored.state || r.progress !== stored.progress || r.message_ids !== stored.message_ids) this.#emit(t, 'changed');
  }

  /** The added record could not be stored: the job never existed. Stop it and forget it. */
  #discard(t: Tracked): void {
    const job = t.job;
    t.discarded = true;
    job.abort(new JobAborted('The job could not be stored'));
    this.#active.delete(job.id);
    if (t.cappedOwner !== null) this.#releaseActive(t.cappedOwner);
    t.cappedOwner = null;
    this.#releaseSlot(t);
    this.#clearThrottle(job.id);
    if (job.lock !== null) {
      // A queued one leaves its queue; a running one keeps the lock until its handler returns.
      const l = this.#locks.get(job.lock);
      if (l) l.queue = l.queue.filter((q) => q !== t);
      t.ctx = null;
    }
    job.settle();
  }

  /** Whether job `id` is `descendant` or one of the jobs it runs in (its parent, their parent...). */
  isAncestor(id: number, descendant: number): boolean {
    for (let cur: number | null | undefined = descendant, n = 0; cur != null && n < 1000; n++) {
      if (cur === id) return true;
      cur = this.#active.get(cur)?.record.parent_id;
    }
    return false;
  }

  /** The job running under `lock`, else the first one waiting for it; null when the lock is free. */
  lockHolder(lock: string): number | null {
    const l = this.#locks.get(lock);
    return (l?.running ?? l?.queue[0])?.job.id ?? null;
  }

  /** Counts a new active job of `owner`, or refuses it past maxActivePerOwner. */
  #reserveActive(owner: string, c: Credentials | null): void {
    const n = this.#activeByOwner.get(owner) ?? 0;
    const max = this.config.maxActivePerOwner;
    if (n >= max) {
      throw new CallError(`Too many active jobs: ${c?.username ?? owner} already has ${n} waiting or running jobs (the limit is ${max} per user, MIDSHIP_JOBS_MAX_ACTIVE)`, ERRNO.EBUSY);
    }
    this.#activeByOwner.set(owner, n + 1);
  }

  #releaseActive(owner: string): void {
    const n = (this.#activeByOwner.get(owner) ?? 1) - 1;
    if (n <= 0) this.#activeByOwner.delete(owner);
    else this.#activeByOwner.set(owner, n);
  }

  #lockState(lock: string): LockState {
    let l = this.#locks.get(lock);
    if (!l) this.#locks.set(lock, (l = { running: null, queue: [], pending: 0 }));
    return l;
  }

  #dropIdleLock(lock: string): void {
    const l = this.#locks.get(lock);
    if (l && l.running === null && l.queue.length === 0 && l.pending === 0) this.#locks.delete(lock);
  }

  /** lock_queue_size (PROTOCOL.md 5.6): refuse, coalesce into a waiting job, or let it queue. */
  #applyQueueLimit(m: RegisteredMethod, lock: string, ctx: CallContext, owner: string | null): Job | null {
    const l = this.#locks.get(lock);
    if (!l) return null;
    const size = m.def.job!.lockQueueSize === undefined ? DEFAULT_LOCK_QUEUE_SIZE : m.def.job!.lockQueueSize;
    if (size === null) return null;
    if (size === 0) {
      if (l.running !== null || l.pending > 0) throw new CallError('This job is already being performed', ERRNO.EBUSY);
      return null;
    }
    if (l.queue.length + l.pending < size) return null;
    const anyone = ctx.credentials === null || isFullAdmin(ctx.credentials);
    for (let i = l.queue.length - 1; i >= 0; i--) {
      const t = l.queue[i]!;
      if (anyone || (owner !== null && t.record.owner === owner)) {
        if (ctx.messageId !== null && ctx.messageId !== undefined) t.job.addMessageId(ctx.messageId);
        this.#changed(t.job, true);
        return t.job;
      }
    }
    throw new CallError('This job is already being performed by another user', ERRNO.EBUSY);
  }

  #startNext(lock: string): void {
    const l = this.#locks.get(lock);
    if (!l) return;
    l.running = null;
    const next = l.queue.shift();
    if (!next) {
      this.#dropIdleLock(lock);
      return;
    }
    l.running = next;
    const ctx = next.ctx!;
    next.ctx = null;
    this.#start(next, ctx);
  }

  /** Its turn has come (its lock is free): it runs once the caps allow (admission.ts). */
  #start(t: Tracked, ctx: CallContext): void {
    const exempt = ctx.parentJob !== null && this.#active.has(ctx.parentJob.id);
    const waiter = {
      id: t.job.id,
      method: t.record.method,
      start: () => {
        const held = t.ctx!;
        t.ctx = null;
        t.slot = true;
        this.#run(t, held);
      },
      describe: (reason: string) => {
        // Replaced, never mutated: a snapshot taken for the store stays what it was.
        t.record.progress = { ...t.record.progress, description: reason };
        this.#changed(t.job, false);
      },
    };
    if (!this.#admission.admit(waiter, exempt)) {
      t.ctx = ctx;
      return;
    }
    t.slot = true;
    this.#run(t, ctx);
  }

  /** A counted job ended (or never ran): its slot goes to the next in line. */
  #releaseSlot(t: Tracked): void {
    if (t.slot) {
      t.slot = false;
      this.#admission.release(t.record.method);
    } else this.#admission.remove(t.job.id);
  }

  #run(t: Tracked, ctx: CallContext): void {
    const job = t.job;
    t.startedAt = performance.now();
    job.transition('RUNNING');
    job.openLog(this.config.logMaxBytes);
    this.#changed(job, true);
    const handler = job.registered.def.handler as (c: CallContext, j: JobHandle, ...a: unknown[]) => unknown;
    Promise.resolve()
      .then(() => handler(ctx, job, ...job.rawArgs))
      .then(
        (result) => this.#finish(t, job.aborted ? 'ABORTED' : 'SUCCESS', result, null),
        (err: unknown) => {
          const aborted = job.aborted || err instanceof JobAborted;
          if (!aborted && !isExpected(err)) this.log.error({ err, job: job.id, method: job.record.method }, 'job raised an unexpected error');
          return this.#finish(t, aborted ? 'ABORTED' : 'FAILED', null, err);
        },
      )
      .catch((err: unknown) => this.log.error({ err, job: job.id }, 'finishing a job failed'));
  }

  async #finish(t: Tracked, state: FinalState, result: unknown, err: unknown): Promise<void> {
    if (t.ending) return; // already recorded (e.g. as interrupted by a stop that could not wait)
    t.ending = true;
    const job = t.job;
    const writer = job.logWriter;
    if (writer !== null) await writer.close();
    const stopped = isInterruption(job.abortReason) || (state === 'FAILED' && isInterruption(err));
    if (stopped && this.#closing) {
      // Left as stored (WAITING/RUNNING): the stop's one marker records it as interrupted (close()).
      job.leftInterrupted(INTERRUPTED);
      this.#active.delete(job.id);
      job.settle();
      return;
    }
    let final: JobRecord;
    if (stopped) final = job.interruptedRecord(INTERRUPTED);
    else {
      const redact = job.registered.def.job?.redactResult;
      final = job.finalRecord(state, result, err, redact ? (r) => redact(r, job.rawArgs) : undefined);
    }
    if (writer !== null) final.logs_excerpt = await logsExcerpt(writer.path);
    await this.#record(t, final);
  }

  /** Store a job's final record; once it is durable, announce the end. */
  #record(t: Tracked, final: JobRecord): Promise<void> {
    const p = this.#recordNow(t, final);
    this.#recording.add(p);
    return p.finally(() => this.#recording.delete(p));
  }

  async #recordNow(t: Tracked, final: JobRecord): Promise<void> {
    if (t.discarded) return this.#freeLock(t);
    try {
      if (!t.record.transient) await this.store.put(final, t.stored);
      // Its added record is in the same batch or an earlier one: announced before it ends.
      await t.added;
    } catch (err) {
      if (t.discarded) return this.#freeLock(t); // never existed: nothing to record
      // Not announced: the job stays RUNNING (as stored) until the store recovers.
      this.#unrecorded.set(t, final);
      this.log.error({ err, job: t.job.id }, 'the end of a job could not be stored: it is announced once the store is writable again');
      return;
    }
    this.#unrecorded.delete(t);
    t.stored = final.state;
    t.job.applyFinal(final);
    t.job.output?.end();
    this.#retire(t);
  }

  /** The store is writable again: store (and announce) the ends that could not be stored. */
  #recordUnrecorded(): void {
    for (const [t, final] of [...this.#unrecorded]) void this.#record(t, final);
  }

  /** Move a finished job out of the active set, send its one end event, free its lock, wake its watchers. */
  #retire(t: Tracked): void {
    const job = t.job;
    this.#active.delete(job.id);
    if (t.cappedOwner !== null) this.#releaseActive(t.cappedOwner);
    this.#releaseSlot(t);
    this.#clearThrottle(job.id);
    this.#emit(t, 'changed');
    const state = t.record.state;
    if (state === 'SUCCESS' || state === 'FAILED' || state === 'ABORTED') {
      this.deps.jobEnded?.(t.record.method, state, t.startedAt === undefined ? 0 : (performance.now() - t.startedAt) / 1000);
    }
    if (!t.record.transient) {
      this.#recent.set(job.id, t);
      if (this.#recent.size > this.config.memoryWindow) this.#recent.delete(this.#recent.keys().next().value!);
    }
    const watchers = this.#watchers.get(job.id);
    this.#watchers.delete(job.id);
    job.settle();
    job.notifyEnd((err) => this.log.error({ err, job: job.id }, 'a job end listener failed'));
    if (watchers) for (const w of watchers) w(job);
    this.#freeLock(t);
  }

  #freeLock(t: Tracked): void {
    const lock = t.job.lock;
    if (lock !== null && this.#locks.get(lock)?.running === t) this.#startNext(lock);
  }

  // ---- events ----

  #clearThrottle(id: number): void {
    const th = this.#throttles.get(id);
    if (th?.timer) clearTimeout(th.timer);
    this.#throttles.delete(id);
  }

  #changed(job: Job, immediate: boolean): void {
    let th = this.#throttles.get(job.id);
    if (!th) this.#throttles.set(job.id, (th = { last: 0, timer: null }));
    const now = performance.now();
    if (immediate) {
      if (th.timer) clearTimeout(th.timer);
      th.timer = null;
      th.last = now;
      this.#flushChange(job);
      return;
    }
    if (th.timer) return; // a trailing event is due and will carry the latest state
    const wait = PROGRESS_INTERVAL_MS - (now - th.last);
    if (wait <= 0) {
      th.last = now;
      this.#flushChange(job);
      return;
    }
    const pending = th;
    pending.timer = setTimeout(() => {
      pending.timer = null;
      pending.last = performance.now();
      if (!job.finished) this.#flushChange(job);
    }, wait);
  }

  #flushChange(job: Job): void {
    const t = this.#active.get(job.id);
    if (t !== undefined) this.#emit(t, 'changed');
    const watchers = this.#watchers.get(job.id);
    if (watchers) for (const w of watchers) w(job);
  }

  #emit(t: Tracked, msg: 'added' | 'changed'): void {
    if (!t.announced || t.record.transient) return;
    this.#observe(t.record, msg);
    if (!this.events.hasListeners(JOB_EVENT)) return;
    this.#emitRecord(t.job, msg, t.record);
  }

  #observe(record: JobRecord, msg: 'added' | 'changed'): void {
    for (const o of this.#observers) {
      try {
        o(record, msg);
      } catch (err) {
        this.log.error({ err, job: record.id }, 'a job observer failed');
      }
    }
  }

  /**
   * `fn` sees every job that is not transient as its events do: added once stored, then each
   * (throttled) change and its end. Called synchronously: it must be cheap. Returns the remover.
   */
  observe(fn: JobObserver): () => void {
    this.#observers.add(fn);
    return () => this.#observers.delete(fn);
  }

  #emitRecord(job: Job, msg: 'added' | 'changed', record: JobRecord): void {
    const readRoles = job.registered.def.job?.readRoles;
    this.events.emit(JOB_EVENT, msg, job.id, jobToWire(record), {
      visible: (c) => this.mayRead(c, record, readRoles),
      coalesceKey: msg === 'changed' ? `job:${job.id}` : null,
    });
  }

  /**
   * `fn` is called with the job on every (throttled) change and once when it has ended (its final
   * record stored); returns the unsubscriber, which forgets `fn` at once.
   */
  watch(id: number, fn: Watcher): () => void {
    let set = this.#watchers.get(id);
    if (!set) this.#watchers.set(id, (set = new Set()));
    set.add(fn);
    const s = set;
    return () => {
      s.delete(fn);
      if (s.size === 0 && this.#watchers.get(id) === s) this.#watchers.delete(id);
    };
  }

  #persist(t: Tracked): Promise<void> {
    if (t.record.transient) return Promise.resolve();
    const previous = t.stored;
    const p = this.store.put(t.record, previous);
    t.stored = t.record.state;
    return p.catch((err: unknown) => {
      // Not stored after all: the next write of this record must not assume it was.
      if (t.stored === t.record.state) t.stored = previous;
      throw err;
    });
  }

  // ---- lookups and control ----

  /** A job's record: from memory when active or recent, else from the store. */
  async getRecord(id: number): Promise<JobRecord | undefined> {
    return this.getLive(id)?.record ?? (await this.store.get(id));
  }

  /** The job in memory, if it is active or recent (and exists for clients: its record is stored). */
  getLive(id: number): Job | undefined {
    const t = this.#active.get(id) ?? this.#recent.get(id);
    return t?.announced ? t.job : undefined;
  }

  /** Records not yet stored in their current state (the store's copy is stale or missing). */
  unflushed(): LiveRecord[] {
    const out: LiveRecord[] = [];
    for (const t of this.#active.values()) if (t.announced) out.push(t);
    for (const t of this.#recent.values()) if (t.stored !== t.record.state) out.push(t);
    return out;
  }

  /** Module API: `hook`'s ops go into the batch storing each job as it is added and as it ends. */
  addToJobBatch(hook: JobBatchHook, committed?: () => void): void {
    this.store.addBatchHook(hook, committed ?? null);
  }

  /** Stored records, oldest first (or newest first), through the method and state indexes. */
  activeCounts(): Array<{ method: string; state: 'WAITING' | 'RUNNING'; count: number }> {
    const counts = new Map<string, { method: string; state: 'WAITING' | 'RUNNING'; count: number }>();
    for (const t of this.#active.values()) {
      const state = t.record.state;
      if (state !== 'WAITING' && state !== 'RUNNING') continue;
      const k = `${state}\0${t.record.method}`;
      const c = counts.get(k);
      if (c) c.count++;
      else counts.set(k, { method: t.record.method, state, count: 1 });
    }
    return [...counts.values()];
  }

  history(options: Pick<ScanOptions, 'methods' | 'states' | 'reverse'> = {}): AsyncIterable<JobRecord> {
    return this.store.scan(options);
  }

  /** PROTOCOL.md 5.9: who may read a job: full admins, its owner, holders of its read roles. */
  mayRead(c: Credentials | null, r: JobRecord, readRoles?: readonly string[]): boolean {
    if (c === null) return false;
    if (isFullAdmin(c)) return true;
    if (r.credentials === null) return false;
    if (r.owner != null && r.owner === this.ownerOf(c)) return true;
    return readRoles !== undefined && readRoles.some((role) => roleGranted(c.roles, role));
  }

  /** Who may change job `r` (abort, delete, tag it): full admins, and its owner unless it is internal. */
  mayManage(c: Credentials | null, r: JobRecord): boolean {
    return this.mayRead(c, r);
  }

  /**
   * core.job_delete: deletes the finished jobs matching `filters` that `credentials` may manage,
   * and their log files; nothing else (waiting and running jobs are never touched, and a job is
   * re-checked as finished in the batch that deletes it). Works in batches of DELETE_BATCH with
   * the event loop running in between, so calls stay answered. Returns how many were deleted.
   */
  async deleteMatching(filters: unknown[], credentials: Credentials | null): Promise<number> {
    const filter = compileFilters(filters);
    const hints = scanHints(filter);
    const states = (hints.states ?? [...TERMINAL_STATES]).filter((s) => TERMINAL_STATES.has(s as JobState));
    let deleted = 0;
    let batch: JobRecord[] = [];
    for await (const r of this.store.scan({ ...hints, states })) {
      if (this.#closing) break;
      if (!TERMINAL_STATES.has(r.state) || !this.mayManage(credentials, r) || !filter.match(r)) continue;
      batch.push(r);
      if (batch.length < DELETE_BATCH) continue;
      deleted += await this.#deleteBatch(batch);
      batch = [];
    }
    if (batch.length > 0) deleted += await this.#deleteBatch(batch);
    return deleted;
  }

  async #deleteBatch(records: JobRecord[]): Promise<number> {
    const removed = await this.store.deleteJobs(records.map((r) => r.id));
    const byId = new Map(records.map((r) => [r.id, r]));
    const announce = this.events.hasListeners(JOB_EVENT);
    for (const { id } of removed) {
      this.#recent.delete(id);
      const r = byId.get(id)!;
      if (announce) {
        const readRoles = this.deps.method(r.method)?.def.job?.readRoles;
        this.events.emit(JOB_EVENT, 'removed', id, undefined, { visible: (c) => this.mayRead(c, r, readRoles) });
      }
    }
    await Promise.all(removed.map(({ id, logs_path }) => (logs_path === null ? null : removeLog(logs_path).catch((err: unknown) => this.log.warn({ err, job: id }, 'cannot remove the log file of a deleted job')))));
    return removed.length;
  }

  /**
   * core.job_abort_many: aborts the waiting and running jobs matching `filters` that
   * `credentials` may manage; the ones that are not abortable are left running and listed.
   */
  async abortMatching(filters: unknown[], credentials: Credentials | null): Promise<{ aborted: number[]; not_abortable: number[] }> {
    const filter = compileFilters(filters);
    const found = [...this.#active.values()].filter((t) => t.announced && !t.ending && this.mayManage(credentials, t.record) && filter.match(t.record));
    const abortable = found.filter((t) => t.record.abortable);
    await Promise.all(abortable.map((t) => this.#abortJob(t, new JobAborted())));
    const ids = (ts: Tracked[]) => ts.map((t) => t.job.id).sort((a, b) => a - b);
    return { aborted: ids(abortable), not_abortable: ids(found.filter((t) => !t.record.abortable)) };
  }

  /** core.job_update: replace job `id`'s tags (its owner or a full admin), wherever it is now. */
  updateTags(id: number, tags: string[], credentials: Credentials | null): Promise<void> {
    return this.#tagging.run(async () => {
      await this.#accessible(id, credentials, true);
      const kept = uniqueTags(tags);
      const t = this.#active.get(id);
      if (t?.announced && !t.ending) {
        // Its final record is built from the live one: the tags go with it.
        t.record.tags = kept;
        await this.#persist(t);
        this.#changed(t.job, true);
        return;
      }
      if (t?.announced) await t.job.done(); // ending now: tag what it ends with
      const live = this.#recent.get(id);
      const r = live?.record ?? (await this.store.get(id));
      if (r === undefined) throw notFound(`Job with id ${id} does not exist`);
      if (!r.transient) await this.store.put({ ...r, tags: kept }, r.state);
      if (live) live.record.tags = kept;
      if (this.events.hasListeners(JOB_EVENT)) {
        const readRoles = this.deps.method(r.method)?.def.job?.readRoles;
        const updated = { ...r, tags: kept };
        this.events.emit(JOB_EVENT, 'changed', id, jobToWire(updated), { visible: (c) => this.mayRead(c, updated, readRoles), coalesceKey: `job:${id}` });
      }
    });
  }

  /** core.get_jobs: the query language over the whole history, as `credentials` may see it. */
  query(filters: unknown[], options: QueryOptionsT, credentials: Credentials | null, raw: boolean): Promise<unknown> {
    return queryJobs(this, filters, options, {
      credentials,
      resultRedactor: (name) => (raw ? null : (this.deps.method(name)?.redactResult ?? null)),
      readRoles: (name) => this.deps.method(name)?.def.job?.readRoles,
    });
  }

  /** The record of job `id` for `credentials` (readers: owner, full admin, its read roles). */
  read(id: number, credentials: Credentials | null): Promise<JobRecord> {
    return this.#accessible(id, credentials, false);
  }

  /** The record of job `id` for `credentials`, or the access error of PROTOCOL.md 5.9. */
  async #accessible(id: number, credentials: Credentials | null, forWrite: boolean): Promise<JobRecord> {
    const r = await this.getRecord(id);
    if (!r) throw notFound(`Job with id ${id} does not exist`);
    if (credentials === null) throw new CallError('Not authenticated', ERRNO.ENOTAUTHENTICATED);
    const readRoles = forWrite ? undefined : this.deps.method(r.method)?.def.job?.readRoles;
    if (this.mayRead(credentials, r, readRoles)) return r;
    if (r.credentials === null) throw new CallError('Only users with full administrative privileges can access internally ran jobs', ERRNO.EPERM);
    throw new CallError('Job is not owned by current session', ERRNO.EPERM);
  }

  /** core.job_wait: mirror job `id`'s progress on `waiter` until it ends; its outcome. */
  wait(id: number, waiter: JobHandle, credentials: Credentials | null): Promise<unknown> {
    return waitForJob(this, id, waiter, credentials);
  }

  /** core.job_logs: job `id`'s log so far, then each appended chunk, until it ends or `signal` aborts. */
  followLog(id: number, credentials: Credentials | null, onData: (text: string) => void, signal: AbortSignal): Promise<void> {
    return followJobLog(this, id, credentials, onData, signal);
  }

  async abort(id: number, credentials: Credentials | null): Promise<void> {
    const r = await this.#accessible(id, credentials, true);
    const t = this.#active.get(id);
    if (!t || t.job.finished) return;
    if (!r.abortable) throw new CallError(`Job ${id} (${r.method}) is not abortable`, ERRNO.EOPNOTSUPP);
    await this.#abortJob(t, new JobAborted());
  }

  /** Signal a job; one still WAITING leaves its queue now and ends ABORTED (once that is stored). */
  async #abortJob(t: Tracked, reason: JobAborted): Promise<void> {
    const job = t.job;
    job.abort(reason);
    if (job.state !== 'WAITING' || t.ending) return;
    t.ending = true;
    if (job.lock !== null) {
      const l = this.#locks.get(job.lock);
      if (l) l.queue = l.queue.filter((q) => q !== t);
    }
    // Held back by the caps: it leaves that line too.
    this.#admission.remove(job.id);
    t.ctx = null;
    await this.#record(t, job.finalRecord('ABORTED', null, null));
    if (this.#unrecorded.has(t)) throw this.db.failed ?? new CallError(`Job ${job.id} was aborted but that could not be stored yet`, ERRNO.EIO);
  }

  /**
   * A user was deleted or locked: abort every job it owns that is waiting or running, and the jobs
   * those started. Returns how many were signalled.
   */
  abortOwnedBy(user: { id: number; created_at: number }, reason: string): number {
    const owner = userOwner(user);
    const doomed = [...this.#active.values()].filter((t) => t.record.owner === owner && !t.ending);
    for (const t of doomed) {
      this.#abortJob(t, new JobAborted(reason)).catch((err: unknown) => this.log.error({ err, job: t.job.id }, 'aborting a job of a removed user failed'));
    }
    if (doomed.length > 0) this.log.info({ user: user.id, jobs: doomed.map((t) => t.job.id), reason }, 'aborted the jobs of a user');
    return doomed.length;
  }

  // ---- retention ----

  #schedulePurge(delay: number): void {
    if (this.#closing) return;
    this.#purgeTimer = setTimeout(() => {
      this.#purging = this.purge()
        .then(() => undefined)
        .catch((err: unknown) => {
          if (!this.#closing) this.log.error({ err }, 'job purge failed');
        })
        .finally(() => {
          this.#purging = null;
          this.#schedulePurge(this.config.purgeIntervalMs);
        });
    }, delay);
    this.#purgeTimer.unref();
  }

  /** Apply retention now: drop old finished jobs and their log files. Returns how many went. */
  async purge(): Promise<number> {
    const removed = await this.store.purge({
      maxFinished: this.config.retentionMaxFinished,
      maxAgeMs: this.config.retentionMaxAgeMs,
      now: Date.now(),
      signal: this.#purgeStop.signal,
    });
    for (const r of removed) {
      this.#recent.delete(r.id);
      if (r.logs_path !== null) await removeLog(r.logs_path);
    }
    if (removed.length > 0) this.log.info({ count: removed.length }, 'purged old jobs');
    return removed.length;
  }

  /**
   * Stop: abort every job and give them STOP_GRACE_MS to end. Every job the stop ends stays as it
   * is stored and one durable marker (the stop's time) makes the next start record all of them
   * FAILED as interrupted and that time: one write, however many jobs were running, where
   * writing each would not fit in a stop that must be over within seconds. Jobs that end by
   * themselves meanwhile are recorded as usual.
   */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#purgeTimer) clearTimeout(this.#purgeTimer);
    this.#purgeStop.abort();
    await this.#purging;
    const running = [...this.#active.values()];
    if (running.length > 0) {
      // One reason for all: tens of thousands of jobs must not cost as many stack traces.
      const reason = new DaemonStopping();
      for (const t of running) t.job.abort(reason);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(running.map((t) => t.job.done())), new Promise((r) => (timer = setTimeout(r, STOP_GRACE_MS)))]);
      clearTimeout(timer);
    }
    for (const t of this.#active.values()) t.ending = true; // too late: the marker covers them
    await Promise.all([...this.#recording]);
    if (running.length > 0) {
      await this.store.markStopped(Date.now()).catch((err: unknown) => this.log.error({ err }, 'cannot record the stop: its jobs will read as interrupted at the next start'));
    }
  }
}

/** Tags as kept: each once, in the order first given. */
function uniqueTags(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}
