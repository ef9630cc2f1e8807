// The job object of PROTOCOL.md 5.1, as stored and as sent. Times are epoch milliseconds in
// memory and in level; the wire encoding ({"$date": ms}) is applied when a job is serialised.
// They are whole seconds (jobTime): the reference encoder sends whole seconds, and the reference
// client re-encodes every date it prints that way, so a millisecond value would read differently
// in an event seen raw and in a query printed by midclt. Whole seconds are the same everywhere,
// and they make the per-second summary counters exact (counters.ts).

import { ERRNO } from '../errors.js';
import type { JobMetrics } from './metrics.js';

export type JobState = 'WAITING' | 'RUNNING' | 'SUCCESS' | 'FAILED' | 'ABORTED';

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['SUCCESS', 'FAILED', 'ABORTED']);

/** A job timestamp: epoch ms truncated to the whole second. */
export function jobTime(ms: number = Date.now()): number {
  return ms - (ms % 1000);
}

export interface JobProgress {
  percent: number;
  description: string;
  extra: unknown;
}

export interface JobExcInfo {
  repr: string;
  type: string;
  errno: number | null;
  extra: unknown;
}

export interface JobCredentials {
  type: string;
  data: Record<string, unknown>;
}

/** A job as kept in memory and in the store (times in epoch ms). */
export interface JobRecord {
  id: number;
  message_ids: Array<string | number | null>;
  method: string;
  /** Arguments as given (unredacted); redaction happens when a job leaves the daemon. */
  arguments: unknown[];
  transient: boolean;
  description: string | null;
  abortable: boolean;
  logs_path: string | null;
  logs_excerpt: string | null;
  progress: JobProgress;
  result: unknown;
  result_encoding_error: string | null;
  error: string | null;
  exception: string | null;
  exc_info: JobExcInfo | null;
  state: JobState;
  time_started: number;
  time_finished: number | null;
  credentials: JobCredentials | null;
  /** Midship extras (not in the reference object, harmless to its clients). */
  parent_id?: number | null;
  /** Labels for finding jobs: core.job_update, or set by the method from its arguments (a cron job's tags). */
  tags?: string[];
  /** Resources its processes used (metrics.ts), sent by core.job_metrics only. */
  metrics?: JobMetrics;
  /** Module-owned data kept with the job, e.g. the process group a cron run started. */
  internal?: Record<string, unknown>;
  /**
   * Who the job belongs to, as a stable identity (owner.ts): `user:<id>` or `<credential type>:<name>`
   * for principals without a user id; null for internal jobs. Never sent to clients.
   */
  owner?: string | null;
}

/**
 * The one way a job the daemon's stop ended is recorded, whether at the stop or at the next start:
 * FAILED with `error` (errno EINTR), finished at `finishedAt`.
 */
export function interruptedRecord(r: JobRecord, error: string, finishedAt: number): JobRecord {
  return {
    ...r,
    state: 'FAILED',
    result: null,
    error,
    exception: null,
    exc_info: { repr: error, type: 'Interrupted', errno: ERRNO.EINTR, extra: null },
    time_finished: finishedAt,
  };
}
