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
import type { App } from '../app.js';
import { isFullAdmin, jobCredentials, roleGranted, type Credentials } from '../auth/credentials.js';
import type { JobsConfig } from '../config.js';
import { CallError, ERRNO, isExpected, notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { CallContext, RegisteredMethod } from '../registry.js';
import type { GuardedLevel } from '../storage.js';
import { DaemonStopping, Job, JobAborted, type FinalState } from './job.js';
import { JobLogWriter, jobLogPath, logsExcerpt, removeLog } from './logs.js';
import { jobOwner, userOwner, type UserLookup } from './owner.js';
import { JobStore } from './store.js';
import { jobTime, type JobRecord } from './types.js';
import { jobToWire } from './wire.js';

/** Progress events per job are sent at most this often (the last value always goes out). */
export const PROGRESS_INTERVAL_MS = 100;
export const INTERRUPTED_ERROR = 'Interrupted: the daemon stopped while this job was running';
export const JOB_EVENT = 'core.get_jobs';
const FIRST_PURGE_DELAY_MS = 10_000;
/** How long a stopping daemon lets its aborted jobs end by themselves (cleaning up) before it closes. */
const STOP_GRACE_MS = 2000;

export interface SubmitOptions {
  /** Output pipe for core.download. */
  output?: PassThrough | null;
}

interface LockState {
  running: Job | null;
  queue: Job[];
  /** Submissions whose record is being written: they will queue here. */
  pending: number;
}

interface Throttle {
  last: number;
  timer: NodeJS.Timeout | null;
}

type Watcher = (job: Job) => void;

/** The one way a job ended by a stopping daemon is recorded, whichever way it ended. */
function interruptedRecord(r: JobRecord): JobRecord {
  return {
    ...r,
    state: 'FAILED',
    result: null,
    error: INTERRUPTED_ERROR,
    exception: null,
    exc_info: { repr: INTERRUPTED_ERROR, type: 'Interrupted', errno: ERRNO.EINTR, extra: null },
    time_finished: jobTime(),
  };
}

/** The error new-style callers of interrupted jobs get (they are gone by then; one is enough). */
const INTERRUPTED = new CallError(INTERRUPTED_ERROR, ERRNO.EINTR);

/** A handler that gave up because the daemon stops (e.g. a cron run it terminated). */
function isInterruption(err: unknown): boolean {
  return err instanceof DaemonStopping || (err instanceof CallError && err.errno === ERRNO.EINTR && err.errmsg === INTERRUPTED_ERROR);
}

export class JobManager {
  readonly store: JobStore;
  readonly logsDir: string;
  /** WAITING and RUNNING jobs. */
  readonly active = new Map<number, Job>();
  /** The most recently finished jobs, oldest first. */
  private readonly recent = new Map<number, Job>();
  private readonly locks = new Map<string, LockState>();
  private readonly throttles = new Map<number, Throttle>();
  private readonly watchers = new Map<number, Set<Watcher>>();
  /** Active (and being submitted) top-level jobs per owner, for maxActivePerOwner. */
  private readonly activeByOwner = new Map<string, number>();
  /** Jobs that ended but whose final record could not be written yet (storage fault). */
  private readonly unrecorded = new Map<Job, JobRecord>();
  /** Final-record writes in flight (a stop waits for them before the database closes). */
  private readonly recording = new Set<Promise<void>>();
  /** Jobs found WAITING/RUNNING at start and marked failed (modules may clean up after them). */
  interrupted: JobRecord[] = [];
  /**
   * Problems found in the store at start (e.g. ids handed out past the newest record: records
   * were lost). Logged loudly; kept here for the alert module to raise once it exists.
   */
  readonly storeWarnings: string[] = [];
  private purgeTimer: NodeJS.Timeout | null = null;
  private purging: Promise<void> | null = null;
  private readonly purgeStop = new AbortController();
  private app: App | null = null;
  private closing = false;

  constructor(
    private readonly db: GuardedLevel,
    dataDir: string,
    private readonly config: JobsConfig,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {
    this.store = new JobStore(db);
    this.logsDir = join(dataDir, 'jobs');
    db.onRecovered(() => this.recordUnrecorded());
  }

  bind(app: App): void {
    this.app = app;
  }

  private readonly users: UserLookup = (id) => this.app?.auth.users.get(id);

  /** The stable identity that owns jobs started with `c` (owner.ts). */
  ownerOf(c: Credentials | null): string | null {
    return jobOwner(c, this.users);
  }

  async open(): Promise<void> {
    await mkdir(this.logsDir, { recursive: true });
    const report = await this.store.open();
    if (report.migrated > 0) this.log.info({ records: report.migrated }, 'job history rewritten to the current layout');
    if (report.lostIds !== null) {
      const { newest, mark } = report.lostIds;
      const text = `The job store's newest job is ${newest} but ids up to ${mark - 1} were handed out: job records were lost (a damaged or restored database?)`;
      this.storeWarnings.push(text);
      this.log.error({ newest, idMark: mark }, `JOB HISTORY LOST: ${text}`);
    }
    this.interrupted = await this.store.recoverInterrupted(Date.now(), INTERRUPTED_ERROR);
    for (const r of this.interrupted) {
      if (r.logs_path === null) continue;
      r.logs_excerpt = await logsExcerpt(r.logs_path);
      await this.store.put(r, r.state);
    }
    if (this.interrupted.length > 0) this.log.warn({ jobs: this.interrupted.map((r) => r.id) }, 'jobs interrupted by the previous stop marked FAILED');
    // The first purge runs shortly after start-up rather than during it: walking a long history
    // would compete with loading the modules and delay the moment the daemon listens.
    this.schedulePurge(Math.min(this.config.purgeIntervalMs, FIRST_PURGE_DELAY_MS));
  }

  // ---- submission and scheduling ----

  async submit(m: RegisteredMethod, args: unknown[], ctx: CallContext, options: SubmitOptions = {}): Promise<Job> {
    if (this.closing) throw new CallError('The daemon is shutting down', ERRNO.ESHUTDOWN);
    const def = m.def.job!;
    const transient = def.transient ?? false;
    if (!transient && this.db.failed !== null) throw this.db.failed;
    const lock = typeof def.lock === 'function' ? def.lock(args) : (def.lock ?? null);
    const owner = this.ownerOf(ctx.credentials);
    if (lock !== null) {
      const holder = this.locks.get(lock)?.running;
      if (holder && ctx.parentJob !== null && this.isAncestor(holder.id, ctx.parentJob.id)) {
        throw new CallError(`Job ${holder.id} holds the lock ${lock} and waits for this call: it would never run`, ERRNO.EBUSY);
      }
      const coalesced = this.applyQueueLimit(m, lock, ctx, owner);
      if (coalesced) return coalesced;
    }
    // Jobs a job starts (core.bulk's calls, one at a time) are bounded by their parent; full
    // admins (the unix-socket root, scripts running as admin) could stop the daemon anyway.
    const capped = owner !== null && ctx.parentJob === null && !isFullAdmin(ctx.credentials) ? owner : null;
    if (capped !== null) this.reserveActive(capped, ctx.credentials);
    const l = lock === null ? null : this.lockState(lock);
    if (l !== null) l.pending++;
    let id: number;
    try {
      id = await this.store.allocateId();
    } catch (err) {
      if (capped !== null) this.releaseActive(capped);
      if (l !== null) {
        l.pending--;
        this.dropIdleLock(lock!);
      }
      throw err;
    }
    const record: JobRecord = {
      id,
      message_ids: ctx.messageId === null || ctx.messageId === undefined ? [] : [ctx.messageId],
      method: m.def.name,
      arguments: (def.redactArgs ? def.redactArgs(args) : m.redactArgs(args)) as unknown[],
      transient,
      description: def.description?.(args) ?? null,
      abortable: def.abortable ?? false,
      logs_path: def.logs ? jobLogPath(this.logsDir, id) : null,
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
    const job = new Job(record, m, args, ctx.credentials, lock, {
      changed: (j, immediate) => this.changed(j, immediate),
      setInternal: (j) => this.persist(j),
    });
    job.cappedOwner = capped;
    job.output = options.output ?? null;
    // The job may start while its added record is being written (group commit keeps throughput),
    // but nothing of it is visible until that record is durable: no event, no query, no id.
    const stored = { ...record };
    job.added = this.persist(job).then(
      () => this.announce(job, stored),
      (err: unknown) => {
        this.discard(job, lock);
        throw err;
      },
    );
    this.active.set(id, job);
    if (l === null) this.start(job, ctx);
    else {
      l.pending--;
      l.queue.push(job);
      jobContexts.set(job, ctx);
      if (l.running === null) this.startNext(lock!);
    }
    await job.added;
    return job;
  }

  /** The added record is durable: the job exists for clients from now on. */
  private announce(job: Job, stored: JobRecord): void {
    job.announced = true;
    if (job.record.transient || !this.events.hasListeners(JOB_EVENT)) return;
    // "added" is the job as stored (WAITING); a job that started meanwhile follows at once.
    this.emitRecord(job, 'added', stored);
    const r = job.record;
    if (r.state !== stored.state || r.progress !== stored.progress || r.message_ids !== stored.message_ids) this.emit(job, 'changed');
  }

  /** The added record could not be stored: the job never existed. Stop it and forget it. */
  private discard(job: Job, lock: string | null): void {
    job.discarded = true;
    job.abort(new JobAborted('The job could not be stored'));
    this.active.delete(job.id);
    if (job.cappedOwner !== null) this.releaseActive(job.cappedOwner);
    job.cappedOwner = null;
    const t = this.throttles.get(job.id);
    if (t?.timer) clearTimeout(t.timer);
    this.throttles.delete(job.id);
    if (lock !== null) {
      // A queued one leaves its queue; a running one keeps the lock until its handler returns.
      const l = this.locks.get(lock);
      if (l) l.queue = l.queue.filter((j) => j !== job);
      jobContexts.delete(job);
    }
    job.markSettled();
  }

  /** Whether job `id` is `descendant` or one of the jobs it runs in (its parent, their parent...). */
  isAncestor(id: number, descendant: number): boolean {
    for (let cur: number | null | undefined = descendant, n = 0; cur != null && n < 1000; n++) {
      if (cur === id) return true;
      cur = this.active.get(cur)?.record.parent_id;
    }
    return false;
  }

  /** Counts a new active job of `owner`, or refuses it past maxActivePerOwner. */
  private reserveActive(owner: string, c: Credentials | null): void {
    const n = this.activeByOwner.get(owner) ?? 0;
    const max = this.config.maxActivePerOwner;
    if (n >= max) {
      throw new CallError(`Too many active jobs: ${c?.username ?? owner} already has ${n} waiting or running jobs (the limit is ${max} per user, MIDSHIP_JOBS_MAX_ACTIVE)`, ERRNO.EBUSY);
    }
    this.activeByOwner.set(owner, n + 1);
  }

  private releaseActive(owner: string): void {
    const n = (this.activeByOwner.get(owner) ?? 1) - 1;
    if (n <= 0) this.activeByOwner.delete(owner);
    else this.activeByOwner.set(owner, n);
  }

  private lockState(lock: string): LockState {
    let l = this.locks.get(lock);
    if (!l) this.locks.set(lock, (l = { running: null, queue: [], pending: 0 }));
    return l;
  }

  private dropIdleLock(lock: string): void {
    const l = this.locks.get(lock);
    if (l && l.running === null && l.queue.length === 0 && l.pending === 0) this.locks.delete(lock);
  }

  /** lock_queue_size (PROTOCOL.md 5.6): refuse, coalesce into a waiting job, or let it queue. */
  private applyQueueLimit(m: RegisteredMethod, lock: string, ctx: CallContext, owner: string | null): Job | null {
    const l = this.locks.get(lock);
    if (!l) return null;
    const size = m.def.job!.lockQueueSize === undefined ? 5 : m.def.job!.lockQueueSize;
    if (size === null) return null;
    if (size === 0) {
      if (l.running !== null || l.pending > 0) throw new CallError('This job is already being performed', ERRNO.EBUSY);
      return null;
    }
    if (l.queue.length + l.pending < size) return null;
    const anyone = ctx.credentials === null || isFullAdmin(ctx.credentials);
    for (let i = l.queue.length - 1; i >= 0; i--) {
      const job = l.queue[i]!;
      if (anyone || (owner !== null && job.record.owner === owner)) {
        if (ctx.messageId !== null && ctx.messageId !== undefined) job.record.message_ids = [...job.record.message_ids, ctx.messageId];
        this.changed(job, true);
        return job;
      }
    }
    throw new CallError('This job is already being performed by another user', ERRNO.EBUSY);
  }

  private startNext(lock: string): void {
    const l = this.locks.get(lock);
    if (!l) return;
    l.running = null;
    const next = l.queue.shift();
    if (!next) {
      this.dropIdleLock(lock);
      return;
    }
    l.running = next;
    const ctx = jobContexts.get(next)!;
    jobContexts.delete(next);
    this.start(next, ctx);
  }

  private start(job: Job, ctx: CallContext): void {
    job.transition('RUNNING');
    if (job.record.logs_path !== null) {
      job.writer = new JobLogWriter(job.record.logs_path, { maxBytes: this.config.logMaxBytes });
    }
    this.changed(job, true);
    const handlerCtx: CallContext = { ...ctx, parentJob: ctx.parentJob };
    const handler = job.registered.def.handler as (c: CallContext, j: Job, ...a: unknown[]) => unknown;
    Promise.resolve()
      .then(() => handler(handlerCtx, job, ...job.rawArgs))
      .then(
        (result) => this.finish(job, job.aborted ? 'ABORTED' : 'SUCCESS', result, null),
        (err: unknown) => {
          const aborted = job.aborted || err instanceof JobAborted;
          if (!aborted && !isExpected(err)) this.log.error({ err, job: job.id, method: job.record.method }, 'job raised an unexpected error');
          return this.finish(job, aborted ? 'ABORTED' : 'FAILED', null, err);
        },
      )
      .catch((err: unknown) => this.log.error({ err, job: job.id }, 'finishing a job failed'));
  }

  private async finish(job: Job, state: FinalState, result: unknown, err: unknown): Promise<void> {
    if (job.ending) return; // already recorded (e.g. as interrupted by a stop that could not wait)
    job.ending = true;
    if (job.writer !== null) await job.writer.close();
    const stopped = isInterruption(job.abortReason) || (state === 'FAILED' && isInterruption(err));
    if (stopped && this.closing) {
      // Left as stored (WAITING/RUNNING): the stop's one marker records it as interrupted (close()).
      job.failure = INTERRUPTED;
      this.active.delete(job.id);
      job.markSettled();
      return;
    }
    let final: JobRecord;
    if (stopped) {
      job.failure = INTERRUPTED;
      final = interruptedRecord(job.record);
    } else {
      const redact = job.registered.def.job?.redactResult;
      final = job.finalRecord(state, result, err, redact ? (r) => redact(r, job.rawArgs) : undefined);
    }
    if (job.writer !== null) final.logs_excerpt = await logsExcerpt(job.writer.path);
    await this.record(job, final);
  }

  /** Store a job's final record; once it is durable, announce the end. */
  private record(job: Job, final: JobRecord): Promise<void> {
    const p = this.recordNow(job, final);
    this.recording.add(p);
    return p.finally(() => this.recording.delete(p));
  }

  private async recordNow(job: Job, final: JobRecord): Promise<void> {
    if (job.discarded) return this.freeLock(job);
    try {
      if (!job.record.transient) await this.store.put(final, job.persistedState);
      // Its added record is in the same batch or an earlier one: announced before it ends.
      await job.added;
    } catch (err) {
      if (job.discarded) return this.freeLock(job); // never existed: nothing to record
      // Not announced: the job stays RUNNING (as stored) until the store recovers.
      this.unrecorded.set(job, final);
      this.log.error({ err, job: job.id }, 'the end of a job could not be stored: it is announced once the store is writable again');
      return;
    }
    this.unrecorded.delete(job);
    job.persistedState = final.state;
    job.applyFinal(final);
    job.output?.end();
    this.retire(job);
  }

  /** The store is writable again: store (and announce) the ends that could not be stored. */
  private recordUnrecorded(): void {
    for (const [job, final] of [...this.unrecorded]) void this.record(job, final);
  }

  /** Move a finished job out of the active set, send its one end event, free its lock, wake its waiters. */
  private retire(job: Job): void {
    this.active.delete(job.id);
    if (job.cappedOwner !== null) this.releaseActive(job.cappedOwner);
    const t = this.throttles.get(job.id);
    if (t?.timer) clearTimeout(t.timer);
    this.throttles.delete(job.id);
    this.emit(job, 'changed');
    if (!job.record.transient) {
      this.recent.set(job.id, job);
      if (this.recent.size > this.config.memoryWindow) this.recent.delete(this.recent.keys().next().value!);
    }
    const watchers = this.watchers.get(job.id);
    this.watchers.delete(job.id);
    job.markSettled();
    if (watchers) for (const w of watchers) w(job);
    this.freeLock(job);
  }

  private freeLock(job: Job): void {
    if (job.lock !== null && this.locks.get(job.lock)?.running === job) this.startNext(job.lock);
  }

  // ---- events ----

  private changed(job: Job, immediate: boolean): void {
    let t = this.throttles.get(job.id);
    if (!t) this.throttles.set(job.id, (t = { last: 0, timer: null }));
    const now = performance.now();
    if (immediate) {
      if (t.timer) clearTimeout(t.timer);
      t.timer = null;
      t.last = now;
      this.flushChange(job);
      return;
    }
    if (t.timer) return; // a trailing event is due and will carry the latest state
    const wait = PROGRESS_INTERVAL_MS - (now - t.last);
    if (wait <= 0) {
      t.last = now;
      this.flushChange(job);
      return;
    }
    const th = t;
    th.timer = setTimeout(() => {
      th.timer = null;
      th.last = performance.now();
      if (!job.finished) this.flushChange(job);
    }, wait);
  }

  private flushChange(job: Job): void {
    this.emit(job, 'changed');
    const watchers = this.watchers.get(job.id);
    if (watchers) for (const w of watchers) w(job);
  }

  private emit(job: Job, msg: 'added' | 'changed'): void {
    if (!job.announced || job.record.transient || !this.events.hasListeners(JOB_EVENT)) return;
    this.emitRecord(job, msg, job.record);
  }

  private emitRecord(job: Job, msg: 'added' | 'changed', record: JobRecord): void {
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
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(fn);
    const s = set;
    return () => {
      s.delete(fn);
      if (s.size === 0 && this.watchers.get(id) === s) this.watchers.delete(id);
    };
  }

  private persist(job: Job): Promise<void> {
    if (job.record.transient) return Promise.resolve();
    const previous = job.persistedState;
    const p = this.store.put(job.record, previous);
    job.persistedState = job.record.state;
    return p.catch((err: unknown) => {
      // Not stored after all: the next write of this record must not assume it was.
      if (job.persistedState === job.record.state) job.persistedState = previous;
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
    const job = this.active.get(id) ?? this.recent.get(id);
    return job?.announced ? job : undefined;
  }

  /** Records not yet stored in their current state (the store's copy is stale or missing). */
  unflushed(): Job[] {
    const out = [...this.active.values()].filter((j) => j.announced);
    for (const j of this.recent.values()) if (j.persistedState !== j.record.state) out.push(j);
    return out;
  }

  /** PROTOCOL.md 5.9: who may read a job: full admins, its owner, holders of its read roles. */
  mayRead(c: Credentials | null, r: JobRecord, readRoles?: readonly string[]): boolean {
    if (c === null) return false;
    if (isFullAdmin(c)) return true;
    if (r.credentials === null) return false;
    if (r.owner != null && r.owner === this.ownerOf(c)) return true;
    return readRoles !== undefined && readRoles.some((role) => roleGranted(c.roles, role));
  }

  /** The record of job `id` for `credentials`, or the access error of PROTOCOL.md 5.9. */
  async accessible(id: number, credentials: Credentials | null, forWrite: boolean): Promise<JobRecord> {
    const r = await this.getRecord(id);
    if (!r) throw notFound(`Job with id ${id} does not exist`);
    if (credentials === null) throw new CallError('Not authenticated', ERRNO.ENOTAUTHENTICATED);
    const readRoles = forWrite ? undefined : this.app?.registry.get(r.method)?.def.job?.readRoles;
    if (this.mayRead(credentials, r, readRoles)) return r;
    if (r.credentials === null) throw new CallError('Only users with full administrative privileges can access internally ran jobs', ERRNO.EPERM);
    throw new CallError('Job is not owned by current session', ERRNO.EPERM);
  }

  async abort(id: number, credentials: Credentials | null): Promise<void> {
    const r = await this.accessible(id, credentials, true);
    const job = this.active.get(id);
    if (!job || job.finished) return;
    if (!r.abortable) throw new CallError(`Job ${id} (${r.method}) is not abortable`, ERRNO.EOPNOTSUPP);
    await this.abortJob(job, new JobAborted());
  }

  /** Signal a job; one still WAITING leaves its queue now and ends ABORTED (once that is stored). */
  private async abortJob(job: Job, reason: JobAborted): Promise<void> {
    job.abort(reason);
    if (job.state !== 'WAITING' || job.ending) return;
    job.ending = true;
    if (job.lock !== null) {
      const l = this.locks.get(job.lock);
      if (l) l.queue = l.queue.filter((j) => j !== job);
      jobContexts.delete(job);
    }
    await this.record(job, job.finalRecord('ABORTED', null, null));
    if (this.unrecorded.has(job)) throw this.db.failed ?? new CallError(`Job ${job.id} was aborted but that could not be stored yet`, ERRNO.EIO);
  }

  /**
   * A user was deleted or locked: abort every job it owns that is waiting or running, and the jobs
   * those started. Returns how many were signalled.
   */
  abortOwnedBy(user: { id: number; created_at: number }, reason: string): number {
    const owner = userOwner(user);
    const doomed = [...this.active.values()].filter((j) => j.record.owner === owner && !j.ending);
    for (const job of doomed) {
      this.abortJob(job, new JobAborted(reason)).catch((err: unknown) => this.log.error({ err, job: job.id }, 'aborting a job of a removed user failed'));
    }
    if (doomed.length > 0) this.log.info({ user: user.id, jobs: doomed.map((j) => j.id), reason }, 'aborted the jobs of a user');
    return doomed.length;
  }

  // ---- retention ----

  private schedulePurge(delay: number): void {
    if (this.closing) return;
    this.purgeTimer = setTimeout(() => {
      this.purging = this.purge()
        .then(() => undefined)
        .catch((err: unknown) => {
          if (!this.closing) this.log.error({ err }, 'job purge failed');
        })
        .finally(() => {
          this.purging = null;
          this.schedulePurge(this.config.purgeIntervalMs);
        });
    }, delay);
    this.purgeTimer.unref();
  }

  /** Apply retention now: drop old finished jobs and their log files. Returns how many went. */
  async purge(): Promise<number> {
    const removed = await this.store.purge({
      maxFinished: this.config.retentionMaxFinished,
      maxAgeMs: this.config.retentionMaxAgeMs,
      now: Date.now(),
      signal: this.purgeStop.signal,
    });
    for (const r of removed) {
      this.recent.delete(r.id);
      if (r.logs_path !== null) await removeLog(r.logs_path);
    }
    if (removed.length > 0) this.log.info({ count: removed.length }, 'purged old jobs');
    return removed.length;
  }

  /**
   * Stop: abort every job and give them STOP_GRACE_MS to end. Every job the stop ends stays as it
   * is stored and one durable marker (the stop's time) makes the next start record all of them
   * FAILED with INTERRUPTED_ERROR and that time: one write, however many jobs were running, where
   * writing each would not fit in a stop that must be over within seconds. Jobs that end by
   * themselves meanwhile are recorded as usual.
   */
  async close(): Promise<void> {
    this.closing = true;
    if (this.purgeTimer) clearTimeout(this.purgeTimer);
    this.purgeStop.abort();
    await this.purging;
    const running = [...this.active.values()];
    if (running.length > 0) {
      // One reason for all: tens of thousands of jobs must not cost as many stack traces.
      const reason = new DaemonStopping();
      for (const job of running) job.abort(reason);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(running.map((j) => j.done())), new Promise((r) => (timer = setTimeout(r, STOP_GRACE_MS)))]);
      clearTimeout(timer);
    }
    for (const job of this.active.values()) job.ending = true; // too late: the marker covers them
    await Promise.all([...this.recording]);
    if (running.length > 0) {
      await this.store.markStopped(Date.now()).catch((err: unknown) => this.log.error({ err }, 'cannot record the stop: its jobs will read as interrupted at the next start'));
    }
  }
}

/** Contexts of queued jobs, kept until they start (not part of the record). */
const jobContexts = new WeakMap<Job, CallContext>();
