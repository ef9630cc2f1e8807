// One job: its record, its state machine (PROTOCOL.md 5.2), its abort signal, its progress and
// its log. The manager decides when it runs; the job only knows how to change itself.
import type { PassThrough } from 'node:stream';
import type { Credentials } from '../auth/credentials.js';
import { CallError, ERRNO, ValidationErrors, errorData, errname, type JobInterrupted } from '../errors.js';
import type { RegisteredMethod } from '../registry.js';
import type { JobEnd, JobHandle } from './handle.js';
import { checkCounters, extraWithCounters, mergeCounters, type JobCountersT } from './job-counters.js';
import { JobLogWriter } from './logs.js';
import { addSample, type UsageSample } from './metrics.js';
import { encodingError } from './wire.js';
import { TERMINAL_STATES, interruptedRecord, jobTime, type JobRecord, type JobState } from './types.js';

const ALLOWED: Record<JobState, readonly JobState[]> = {
  WAITING: ['RUNNING', 'FAILED', 'ABORTED'],
  RUNNING: ['SUCCESS', 'FAILED', 'ABORTED'],
  SUCCESS: [],
  FAILED: [],
  ABORTED: [],
};

export type FinalState = 'SUCCESS' | 'FAILED' | 'ABORTED';

/** What a job tells its manager. */
export interface JobEvents {
  /** The job's visible state changed: `immediate` bypasses the progress throttle. */
  changed(job: Job, immediate: boolean): void;
  /** Store the job's record now (setInternal waits for it). */
  persist(job: Job): Promise<void>;
}

export class Job implements JobHandle {
  readonly record: JobRecord;
  /** Lock name, or null for jobs that start at once. */
  readonly lock: string | null;
  readonly output: PassThrough | null;
  /** Made on first use: most jobs are never aborted and many never look at their signal. */
  #controller: AbortController | null = null;
  #abortValue: unknown = undefined;
  /** The thrown value of a failed job, kept so new-style callers and job_wait get it unchanged. */
  #failure: unknown = null;
  /** The result as the handler returned it, when the record keeps a redacted copy (core.bulk). */
  #callerResult: { value: unknown } | null = null;
  #writer: JobLogWriter | null = null;
  #endListeners: Array<(end: JobEnd) => void> | null = null;
  /** The counters reported so far (null: none): kept apart so a later setProgress extra keeps them. */
  #counters: JobCountersT | null = null;
  readonly #settled: Promise<void>;
  #settle!: () => void;

  constructor(
    record: JobRecord,
    readonly registered: RegisteredMethod,
    readonly rawArgs: unknown[],
    readonly credentials: Credentials | null,
    lock: string | null,
    output: PassThrough | null,
    private readonly events: JobEvents,
  ) {
    this.record = record;
    this.lock = lock;
    this.output = output;
    this.#settled = new Promise((resolve) => (this.#settle = resolve));
  }

  get id(): number {
    return this.record.id;
  }

  get method(): string {
    return this.record.method;
  }

  get state(): JobState {
    return this.record.state;
  }

  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      if (this.#abortValue !== undefined) this.#controller.abort(this.#abortValue);
    }
    return this.#controller.signal;
  }

  get logsPath(): string | null {
    return this.record.logs_path;
  }

  /** Whether abort() was called (without creating the signal just to ask). */
  get aborted(): boolean {
    return this.#abortValue !== undefined;
  }

  /** Why abort() was called (undefined: it was not). */
  get abortReason(): unknown {
    return this.#abortValue;
  }

  abort(reason: unknown): void {
    if (this.#abortValue !== undefined) return;
    this.#abortValue = reason;
    this.#controller?.abort(reason);
  }

  get finished(): boolean {
    return TERMINAL_STATES.has(this.record.state);
  }

  /** What a failed job threw (null: it did not fail, or its error was read back from the store). */
  get failure(): unknown {
    return this.#failure;
  }

  /** The writer of its log once it started (null before, and for jobs without logs). */
  get logWriter(): JobLogWriter | null {
    return this.#writer;
  }

  /** Start writing its log file (jobs declared with `logs`), capped at `maxBytes`. */
  openLog(maxBytes: number): void {
    if (this.record.logs_path !== null) this.#writer = new JobLogWriter(this.record.logs_path, { maxBytes });
  }

  /** Resolves when the job's final record was written and announced (or it was dropped). */
  done(): Promise<void> {
    return this.#settled;
  }

  /** The job is over for the manager: its end is stored and announced, or it never existed. */
  settle(): void {
    this.#settle();
  }

  onEnd(fn: (end: JobEnd) => void): void {
    (this.#endListeners ??= []).push(fn);
  }

  /** Tell the onEnd listeners (the final record is stored). A listener's failure is its own. */
  notifyEnd(log: (err: unknown) => void): void {
    const listeners = this.#endListeners;
    this.#endListeners = null;
    if (listeners === null) return;
    const r = this.record;
    const end: JobEnd = { id: r.id, state: r.state as FinalState, time_finished: r.time_finished!, error: r.error };
    for (const fn of listeners) {
      try {
        fn(end);
      } catch (err) {
        log(err);
      }
    }
  }

  /** The new-style call outcome: result, the job's own error, or null when aborted. */
  async outcome(): Promise<unknown> {
    await this.#settled;
    if (this.record.state === 'SUCCESS') return this.#callerResult !== null ? this.#callerResult.value : this.record.result;
    if (this.record.state === 'ABORTED') return null;
    throw this.#failure ?? errorFromRecord(this.record);
  }

  transition(to: JobState): void {
    const from = this.record.state;
    if (!ALLOWED[from].includes(to)) throw new Error(`job ${this.id}: illegal transition ${from} -> ${to}`);
    this.record.state = to;
    if (TERMINAL_STATES.has(to)) this.record.time_finished = jobTime();
  }

  /**
   * The record this job ends with, built apart from the live one: the manager stores it first and
   * applies it (applyFinal) only once it is durable, so nothing announces an end the store lacks.
   * `stored` is the result as it is kept (redacted, e.g. by core.bulk); the caller still gets `result`.
   */
  finalRecord(state: FinalState, result: unknown, err: unknown, stored: (r: unknown) => unknown = (r) => r): JobRecord {
    const from = this.record.state;
    if (!ALLOWED[from].includes(state)) throw new Error(`job ${this.id}: illegal transition ${from} -> ${state}`);
    const final: JobRecord = { ...this.record, state, time_finished: jobTime() };
    if (state === 'SUCCESS') {
      const value = result === undefined ? null : result;
      const kept = stored(value);
      if (kept !== value) this.#callerResult = { value };
      const bad = encodingError(kept);
      final.result = bad === null ? kept : null;
      final.result_encoding_error = bad;
      if (final.progress.percent !== 100) final.progress = { ...final.progress, percent: 100 };
    } else if (state === 'FAILED') {
      this.#failure = err;
      Object.assign(final, failureFields(err));
    }
    return final;
  }

  /** The record a job ended by a stopping daemon is kept with; its callers get `error`. */
  interruptedRecord(error: JobInterrupted): JobRecord {
    this.#failure = error;
    return interruptedRecord(this.record, error.errmsg, jobTime());
  }

  /** Ended by a stopping daemon and left as stored: the stop's marker records it (manager.close). */
  leftInterrupted(error: JobInterrupted): void {
    this.#failure = error;
  }

  /** The final record was stored: the job is finished from now on. */
  applyFinal(final: JobRecord): void {
    Object.assign(this.record, final);
  }

  /** Another call coalesced into this waiting job (lock_queue_size). */
  addMessageId(messageId: string | number): void {
    this.record.message_ids = [...this.record.message_ids, messageId];
  }

  setProgress(percent?: number | null, description?: string | null, extra?: unknown): void {
    if (this.finished) return;
    const old = this.record.progress;
    let p = old.percent;
    if (typeof percent === 'number' && Number.isFinite(percent)) p = Math.max(0, Math.min(100, Math.trunc(percent)));
    const d = description ? description : old.description;
    const e = extra !== undefined && extra !== null ? extraWithCounters(extra, this.#counters) : old.extra;
    if (p === old.percent && d === old.description && e === old.extra) return;
    // Replaced, never mutated: a snapshot taken for the store stays what it was.
    this.record.progress = { percent: p, description: d, extra: e };
    this.events.changed(this, false);
  }

  setCounters(counters: JobCountersT): void {
    this.#updateCounters(counters, false);
  }

  addCounters(counters: JobCountersT): void {
    this.#updateCounters(counters, true);
  }

  #updateCounters(change: JobCountersT, add: boolean): void {
    checkCounters(change); // a handler's mistake is its caller's error, never a corrupt record
    if (this.finished) return;
    this.#counters = mergeCounters(this.#counters, change, add);
    const old = this.record.progress;
    this.record.progress = { ...old, extra: extraWithCounters(old.extra, this.#counters) };
    this.events.changed(this, false);
  }

  recordMetrics(sample: UsageSample): void {
    if (this.finished) return;
    // Replaced, never mutated (as progress): a snapshot taken for the store stays what it was.
    this.record.metrics = addSample(this.record.metrics, sample, Date.now());
  }

  setDescription(description: string): void {
    if (this.finished || description === this.record.description) return;
    this.record.description = description;
    this.events.changed(this, false);
  }

  log(text: string): void {
    if (this.#writer === null) {
      if (this.record.logs_path === null) throw new CallError(`Job ${this.id} (${this.record.method}) was not declared with logs`, ERRNO.EINVAL);
      return;
    }
    this.#writer.append(text);
  }

  setInternal(data: Record<string, unknown>): Promise<void> {
    this.record.internal = { ...this.record.internal, ...data };
    return this.events.persist(this);
  }
}

/** error, exception and exc_info of a job failed with a thrown value (PROTOCOL.md 5.1). */
function failureFields(err: unknown): Pick<JobRecord, 'error' | 'exception' | 'exc_info'> {
  const data = errorData(err);
  if (err instanceof ValidationErrors) {
    return {
      error: data.reason,
      exception: data.trace!.formatted,
      exc_info: { repr: data.trace!.repr, type: 'VALIDATION', errno: err.errors.length === 1 ? err.errors[0]![2] : null, extra: data.extra },
    };
  }
  return {
    error: err instanceof CallError ? err.message : `${data.trace!.class}: ${data.reason}`,
    exception: data.trace!.formatted,
    exc_info: { repr: data.trace!.repr, type: data.trace!.class, errno: err instanceof CallError ? err.errno : null, extra: data.extra },
  };
}

/** Rebuild the error of a failed job read back from the store (its thrown value is gone). */
export function errorFromRecord(r: JobRecord): Error {
  const info = r.exc_info;
  if (info?.type === 'VALIDATION' && Array.isArray(info.extra)) {
    return new ValidationErrors((info.extra as Array<[string | null, string, number]>).map(([a, m, e]) => [a, m, e]));
  }
  if (info && typeof info.errno === 'number') {
    const prefix = `[${errname(info.errno)}] `;
    const msg = r.error?.startsWith(prefix) ? r.error.slice(prefix.length) : (r.error ?? 'Job failed');
    return new CallError(msg, info.errno, info.extra ?? null);
  }
  return new CallError(r.error ?? `Job ${r.id} did not succeed (${r.state})`, ERRNO.EFAULT);
}
