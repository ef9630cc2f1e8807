// The job engine: creates jobs, runs them under their locks, throttles their progress events,
// aborts them, writes every job to the durable store when it is added and when it ends, and
// keeps only active jobs and a small recent window in memory.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { PassThrough } from 'node:stream';
import type { ClassicLevel } from 'classic-level';
import type { App } from '../app.js';
import { isFullAdmin, jobCredentials, roleGranted, type Credentials } from '../auth/credentials.js';
import type { JobsConfig } from '../config.js';
import { CallError, ERRNO, isExpected, notFound } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { CallContext, RegisteredMethod } from '../registry.js';
import { Job, JobAborted } from './job.js';
import { JobLogWriter, jobLogPath, logsExcerpt, removeLog } from './logs.js';
import { JobStore } from './store.js';
import type { JobRecord } from './types.js';
import { encodingError, jobToWire } from './wire.js';

/** Progress events per job are sent at most this often (the last value always goes out). */
export const PROGRESS_INTERVAL_MS = 100;
export const INTERRUPTED_ERROR = 'Interrupted: the daemon stopped while this job was running';
export const JOB_EVENT = 'core.get_jobs';
const FIRST_PURGE_DELAY_MS = 10_000;

export interface SubmittedJob {
  readonly id: number;
  outcome(): Promise<unknown>;
}

export interface SubmitOptions {
  /** Output pipe for core.download. */
  output?: PassThrough | null;
}

interface LockState {
  running: Job | null;
  queue: Job[];
}

interface Throttle {
  last: number;
  timer: NodeJS.Timeout | null;
}

type Watcher = (job: Job) => void;

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
  /** Jobs found WAITING/RUNNING at start and marked failed (modules may clean up after them). */
  interrupted: JobRecord[] = [];
  private purgeTimer: NodeJS.Timeout | null = null;
  private purging: Promise<void> | null = null;
  private app: App | null = null;
  private closing = false;

  constructor(
    db: ClassicLevel<string, unknown>,
    dataDir: string,
    private readonly config: JobsConfig,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {
    this.store = new JobStore(db);
    this.logsDir = join(dataDir, 'jobs');
  }

  bind(app: App): void {
    this.app = app;
  }

  async open(): Promise<void> {
    await mkdir(this.logsDir, { recursive: true });
    await this.store.open();
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
    const lock = typeof def.lock === 'function' ? def.lock(args) : (def.lock ?? null);
    if (lock !== null) {
      const coalesced = this.applyQueueLimit(m, lock, ctx);
      if (coalesced) return coalesced;
    }
    const id = this.store.allocateId();
    const record: JobRecord = {
      id,
      message_ids: ctx.messageId === null || ctx.messageId === undefined ? [] : [ctx.messageId],
      method: m.def.name,
      arguments: m.redactArgs(args) as unknown[],
      transient: def.transient ?? false,
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
      time_started: Date.now(),
      time_finished: null,
      credentials: jobCredentials(ctx.credentials),
      parent_id: ctx.parentJob?.id ?? null,
    };
    const job = new Job(record, m, args, ctx.credentials, lock, {
      changed: (j, immediate) => this.changed(j, immediate),
      setInternal: (j) => this.persist(j),
    });
    job.output = options.output ?? null;
    this.active.set(id, job);
    const added = this.persist(job);
    this.emit(job, 'added');
    if (lock === null) this.start(job, ctx);
    else {
      let l = this.locks.get(lock);
      if (!l) this.locks.set(lock, (l = { running: null, queue: [] }));
      l.queue.push(job);
      jobContexts.set(job, ctx);
      if (l.running === null) this.startNext(lock);
    }
    // The caller gets the id once the job is durable.
    await added;
    return job;
  }

  /** lock_queue_size (PROTOCOL.md 5.6): refuse, coalesce into a waiting job, or let it queue. */
  private applyQueueLimit(m: RegisteredMethod, lock: string, ctx: CallContext): Job | null {
    const l = this.locks.get(lock);
    if (!l) return null;
    const size = m.def.job!.lockQueueSize === undefined ? 5 : m.def.job!.lockQueueSize;
    if (size === null) return null;
    if (size === 0) {
      if (l.running !== null) throw new CallError('This job is already being performed', ERRNO.EBUSY);
      return null;
    }
    if (l.queue.length < size) return null;
    const anyone = ctx.credentials === null || isFullAdmin(ctx.credentials);
    for (let i = l.queue.length - 1; i >= 0; i--) {
      const job = l.queue[i]!;
      if (anyone || ownerOf(job.record) === ctx.credentials?.username) {
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
      this.locks.delete(lock);
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
      job.writer = new JobLogWriter(job.record.logs_path);
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

  private async finish(job: Job, state: 'SUCCESS' | 'FAILED' | 'ABORTED', result: unknown, err: unknown): Promise<void> {
    const r = job.record;
    if (state === 'SUCCESS') {
      const bad = encodingError(result);
      r.result = bad === null ? (result === undefined ? null : result) : null;
      r.result_encoding_error = bad;
      job.transition('SUCCESS');
      if (r.progress.percent !== 100) {
        r.progress = { ...r.progress, percent: 100 };
        this.changed(job, true);
      }
    } else {
      if (state === 'FAILED') job.fail(err);
      job.transition(state);
    }
    if (job.writer !== null) {
      await job.writer.close();
      r.logs_excerpt = await logsExcerpt(job.writer.path);
    }
    job.output?.end();
    this.changed(job, true);
    await this.persist(job).catch((e: unknown) => this.log.error({ err: e, job: job.id }, 'storing a finished job failed'));
    this.retire(job);
  }

  /** Move a terminal job out of the active set, free its lock, wake its waiters. */
  private retire(job: Job): void {
    this.active.delete(job.id);
    const t = this.throttles.get(job.id);
    if (t?.timer) clearTimeout(t.timer);
    this.throttles.delete(job.id);
    if (!job.record.transient) {
      this.recent.set(job.id, job);
      if (this.recent.size > this.config.memoryWindow) this.recent.delete(this.recent.keys().next().value!);
    }
    const watchers = this.watchers.get(job.id);
    this.watchers.delete(job.id);
    job.markSettled();
    if (watchers) for (const w of watchers) w(job);
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
    if (job.record.transient || !this.events.hasListeners(JOB_EVENT)) return;
    const record = job.record;
    const readRoles = job.registered.def.job?.readRoles;
    this.events.emit(JOB_EVENT, msg, job.id, jobToWire(record), {
      visible: (c) => mayRead(c, record, readRoles),
      coalesceKey: msg === 'changed' ? `job:${job.id}` : null,
    });
  }

  /** Called with the job on every (throttled) change and once when it ends; returns the unsubscriber. */
  watch(id: number, fn: Watcher): () => void {
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  private persist(job: Job): Promise<void> {
    if (job.record.transient) return Promise.resolve();
    const previous = job.persistedState;
    job.persistedState = job.record.state;
    const p = this.store.put(job.record, previous);
    job.writing = p;
    return p;
  }

  // ---- lookups and control ----

  /** A job's record: from memory when active or recent, else from the store. */
  async getRecord(id: number): Promise<JobRecord | undefined> {
    return (this.active.get(id) ?? this.recent.get(id))?.record ?? (await this.store.get(id));
  }

  getLive(id: number): Job | undefined {
    return this.active.get(id) ?? this.recent.get(id);
  }

  /** Records not yet stored in their current state (the store's copy is stale or missing). */
  unflushed(): Job[] {
    const out = [...this.active.values()];
    for (const j of this.recent.values()) if (j.persistedState !== j.record.state) out.push(j);
    return out;
  }

  /** The record of job `id` for `credentials`, or the access error of PROTOCOL.md 5.9. */
  async accessible(id: number, credentials: Credentials | null, forWrite: boolean): Promise<JobRecord> {
    const r = await this.getRecord(id);
    if (!r) throw notFound(`Job with id ${id} does not exist`);
    checkAccess(credentials, r, forWrite ? undefined : this.app?.registry.get(r.method)?.def.job?.readRoles);
    return r;
  }

  async abort(id: number, credentials: Credentials | null): Promise<void> {
    const r = await this.accessible(id, credentials, true);
    const job = this.active.get(id);
    if (!job || job.finished) return;
    if (!r.abortable) throw new CallError(`Job ${id} (${r.method}) is not abortable`, ERRNO.EOPNOTSUPP);
    job.abort(new JobAborted());
    if (job.state !== 'WAITING') return;
    // Aborted before it ran: leave the queue now rather than when its lock frees up.
    if (job.lock !== null) {
      const l = this.locks.get(job.lock);
      if (l) l.queue = l.queue.filter((j) => j !== job);
      jobContexts.delete(job);
    }
    job.transition('ABORTED');
    this.changed(job, true);
    await this.persist(job).catch((e: unknown) => this.log.error({ err: e, job: id }, 'storing an aborted job failed'));
    this.retire(job);
  }

  // ---- retention ----

  private schedulePurge(delay: number): void {
    if (this.closing) return;
    this.purgeTimer = setTimeout(() => {
      this.purging = this.purge()
        .then(() => undefined)
        .catch((err: unknown) => this.log.error({ err }, 'job purge failed'))
        .finally(() => {
          this.purging = null;
          this.schedulePurge(this.config.purgeIntervalMs);
        });
    }, delay);
    this.purgeTimer.unref();
  }

  /** Apply retention now: drop old finished jobs and their log files. Returns how many went. */
  async purge(): Promise<number> {
    const removed = await this.store.purge({ maxFinished: this.config.retentionMaxFinished, maxAgeMs: this.config.retentionMaxAgeMs, now: Date.now() });
    for (const r of removed) {
      this.recent.delete(r.id);
      if (r.logs_path !== null) await removeLog(r.logs_path);
    }
    if (removed.length > 0) this.log.info({ count: removed.length }, 'purged old jobs');
    return removed.length;
  }

  /** Abort running jobs, give them 2 s, record the rest as interrupted, flush the store. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.purgeTimer) clearTimeout(this.purgeTimer);
    await this.purging;
    const running = [...this.active.values()];
    if (running.length === 0) return;
    for (const job of running) job.abort(new JobAborted('The daemon is stopping'));
    await Promise.race([Promise.all(running.map((j) => j.done())), new Promise((r) => setTimeout(r, 2000))]);
    for (const job of [...this.active.values()]) {
      job.failure = new CallError(INTERRUPTED_ERROR, ERRNO.EINTR);
      job.record.error = INTERRUPTED_ERROR;
      job.record.exc_info = { repr: INTERRUPTED_ERROR, type: 'Interrupted', errno: null, extra: null };
      job.record.state = 'FAILED';
      job.record.time_finished = Date.now();
      await job.writer?.close();
      await this.persist(job).catch(() => undefined);
      this.retire(job);
    }
  }
}

/** Contexts of queued jobs, kept until they start (not part of the record). */
const jobContexts = new WeakMap<Job, CallContext>();

function ownerOf(r: JobRecord): string | null {
  const data = r.credentials?.data;
  return typeof data?.username === 'string' ? data.username : null;
}

/** PROTOCOL.md 5.9: who may read a job. */
export function mayRead(c: Credentials | null, r: JobRecord, readRoles?: readonly string[]): boolean {
  if (c === null) return false;
  if (isFullAdmin(c)) return true;
  if (r.credentials === null) return false;
  if (ownerOf(r) === c.username) return true;
  return readRoles !== undefined && readRoles.some((role) => roleGranted(c.roles, role));
}

function checkAccess(c: Credentials | null, r: JobRecord, readRoles: readonly string[] | undefined): void {
  if (c === null) throw new CallError('Not authenticated', ERRNO.ENOTAUTHENTICATED);
  if (isFullAdmin(c)) return;
  if (r.credentials === null) throw new CallError('Only users with full administrative privileges can access internally ran jobs', ERRNO.EPERM);
  if (ownerOf(r) === c.username) return;
  if (readRoles !== undefined && readRoles.some((role) => roleGranted(c.roles, role))) return;
  throw new CallError('Job is not owned by current session', ERRNO.EPERM);
}
