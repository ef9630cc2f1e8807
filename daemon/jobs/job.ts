// One job: its record, its state machine (PROTOCOL.md 5.2), its abort signal, its progress and
// its log. The manager decides when it runs; the job only knows how to change itself.
import type { PassThrough } from 'node:stream';
import type { Credentials } from '../auth/credentials.js';
import { CallError, ERRNO, ValidationErrors, errorData, errname } from '../errors.js';
import type { RegisteredMethod } from '../registry.js';
import type { JobHandle } from './handle.js';
import type { JobLogWriter } from './logs.js';
import { encodingError } from './wire.js';
import { TERMINAL_STATES, jobTime, type JobRecord, type JobState } from './types.js';

const ALLOWED: Record<JobState, readonly JobState[]> = {
  WAITING: ['RUNNING', 'FAILED', 'ABORTED'],
  RUNNING: ['SUCCESS', 'FAILED', 'ABORTED'],
  SUCCESS: [],
  FAILED: [],
  ABORTED: [],
};

/** Thrown by a handler (or core.job_wait) to end its job ABORTED rather than FAILED. */
export class JobAborted extends Error {
  constructor(message = 'Job aborted') {
    super(message);
    this.name = 'JobAborted';
  }
}

/** The abort reason of the jobs a stopping daemon ends: they are recorded as interrupted. */
export class DaemonStopping extends JobAborted {
  constructor() {
    super('The daemon is stopping');
    this.name = 'DaemonStopping';
  }
}

export type FinalState = 'SUCCESS' | 'FAILED' | 'ABORTED';

export interface JobEvents {
  /** The job's visible state changed: `immediate` bypasses the progress throttle. */
  changed(job: Job, immediate: boolean): void;
  setInternal(job: Job): Promise<void>;
}

export class Job implements JobHandle {
  readonly record: JobRecord;
  /** Made on first use: most jobs are never aborted and many never look at their signal. */
  private controller: AbortController | null = null;
  private abortValue: unknown = undefined;
  /** Lock name, or null for jobs that start at once. */
  readonly lock: string | null;
  /** The thrown value of a failed job, kept so new-style callers and job_wait get it unchanged. */
  failure: unknown = null;
  /** The result as the handler returned it, when the record keeps a redacted copy (core.bulk). */
  private callerResult: { value: unknown } | null = null;
  writer: JobLogWriter | null = null;
  output: PassThrough | null = null;
  /** Stored state as of the last completed put (null: nothing stored yet). */
  persistedState: JobState | null = null;
  /** Set once the manager started recording this job's end: later ends are ignored. */
  ending = false;
  /** Resolves once the added record is durable (rejects: the job never existed). */
  added: Promise<void> = Promise.resolve();
  /** True once the added record is durable: from then on clients may see the job. */
  announced = false;
  /** The added record could not be stored: the job is stopped and forgotten. */
  discarded = false;
  /** The owner whose active-job count this job holds (null: not counted). */
  cappedOwner: string | null = null;
  private readonly settled: Promise<void>;
  private settle!: () => void;

  constructor(
    record: JobRecord,
    readonly registered: RegisteredMethod,
    readonly rawArgs: unknown[],
    readonly credentials: Credentials | null,
    lock: string | null,
    private readonly events: JobEvents,
  ) {
    this.record = record;
    this.lock = lock;
    this.settled = new Promise((resolve) => (this.settle = resolve));
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
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.abortValue !== undefined) this.controller.abort(this.abortValue);
    }
    return this.controller.signal;
  }

  get logsPath(): string | null {
    return this.record.logs_path;
  }

  /** Whether abort() was called (without creating the signal just to ask). */
  get aborted(): boolean {
    return this.abortValue !== undefined;
  }

  /** Why abort() was called (undefined: it was not). */
  get abortReason(): unknown {
    return this.abortValue;
  }

  abort(reason: unknown): void {
    if (this.abortValue !== undefined) return;
    this.abortValue = reason;
    this.controller?.abort(reason);
  }

  get finished(): boolean {
    return TERMINAL_STATES.has(this.record.state);
  }

  /** Resolves when the job's final record was written and announced. */
  done(): Promise<void> {
    return this.settled;
  }

  markSettled(): void {
    this.settle();
  }

  /** The new-style call outcome: result, the job's own error, or null when aborted. */
  async outcome(): Promise<unknown> {
    await this.settled;
    if (this.record.state === 'SUCCESS') return this.callerResult !== null ? this.callerResult.value : this.record.result;
    if (this.record.state === 'ABORTED') return null;
    throw this.failure ?? errorFromRecord(this.record);
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
      if (kept !== value) this.callerResult = { value };
      const bad = encodingError(kept);
      final.result = bad === null ? kept : null;
      final.result_encoding_error = bad;
      if (final.progress.percent !== 100) final.progress = { ...final.progress, percent: 100 };
    } else if (state === 'FAILED') {
      this.failure = err;
      Object.assign(final, failureFields(err));
    }
    return final;
  }

  /** The final record was stored: the job is finished from now on. */
  applyFinal(final: JobRecord): void {
    Object.assign(this.record, final);
  }

  setProgress(percent?: number | null, description?: string | null, extra?: unknown): void {
    if (this.finished) return;
    const old = this.record.progress;
    let p = old.percent;
    if (typeof percent === 'number' && Number.isFinite(percent)) p = Math.max(0, Math.min(100, Math.trunc(percent)));
    const d = description ? description : old.description;
    const e = extra !== undefined && extra !== null ? extra : old.extra;
    if (p === old.percent && d === old.description && e === old.extra) return;
    // Replaced, never mutated: a snapshot taken for the store stays what it was.
    this.record.progress = { percent: p, description: d, extra: e };
    this.events.changed(this, false);
  }

  setDescription(description: string): void {
    if (this.finished || description === this.record.description) return;
    this.record.description = description;
    this.events.changed(this, false);
  }

  log(text: string): void {
    if (this.writer === null) {
      if (this.record.logs_path === null) throw new CallError(`Job ${this.id} (${this.record.method}) was not declared with logs`, ERRNO.EINVAL);
      return;
    }
    this.writer.append(text);
  }

  setInternal(data: Record<string, unknown>): Promise<void> {
    this.record.internal = { ...this.record.internal, ...data };
    return this.events.setInternal(this);
  }
}

/** error, exception and exc_info of a job failed with a thrown value (PROTOCOL.md 5.1). */
export function failureFields(err: unknown): Pick<JobRecord, 'error' | 'exception' | 'exc_info'> {
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
