// What a job handler sees of its job. The manager's Job implements it.
import type { Writable } from 'node:stream';
import type { Credentials } from '../auth/credentials.js';
import type { JobCountersT } from './job-counters.js';
import type { UsageSample } from './metrics.js';

/** How a job ended, as its onEnd listeners learn it. */
export interface JobEnd {
  id: number;
  state: 'SUCCESS' | 'FAILED' | 'ABORTED';
  /** Epoch ms (whole seconds, as in the job record). */
  time_finished: number;
  /** The error text of a FAILED job (as core.get_jobs shows it), else null. */
  error: string | null;
}

export interface JobHandle {
  readonly id: number;
  readonly method: string;
  /** Aborted when core.job_abort is called (or the daemon stops). Handlers must honour it. */
  readonly signal: AbortSignal;
  readonly logsPath: string | null;
  readonly credentials: Credentials | null;
  /** percent 0-100 (fractions truncated); empty description/extra keep the previous value. */
  setProgress(percent?: number | null, description?: string | null, extra?: unknown): void;
  /**
   * Counters of processed records, kept in progress.extra.counters (filterable with core.get_jobs):
   * setCounters sets the given ones, addCounters adds to them. Whole numbers 0 or more; a wrong
   * name or value throws ValidationErrors naming it.
   */
  setCounters(counters: JobCountersT): void;
  addCounters(counters: JobCountersT): void;
  /**
   * One sample of the resources the job's processes use: CPU seconds so far (across all of them,
   * never decreasing) and resident bytes now. Kept as a bounded series with peak and total
   * (core.job_metrics); a module that runs processes samples them every few seconds.
   */
  recordMetrics(sample: UsageSample): void;
  setDescription(description: string): void;
  /** Append text to the job's log (jobs declared with `logs`). */
  log(text: string): void;
  /** Keep module data with the job record (e.g. a child's process group) and wait until it is stored. */
  setInternal(data: Record<string, unknown>): Promise<void>;
  /** The output pipe of a downloadable job started through core.download, else null. */
  readonly output: Writable | null;
  /**
   * `fn` learns how the job ended, once its final record is stored (after the handler returned):
   * the one way a module follows its own jobs. Not called for a job the daemon's stop ends (the
   * next start records it as interrupted) nor for one whose first record could not be stored.
   */
  onEnd(fn: (end: JobEnd) => void): void;
}
