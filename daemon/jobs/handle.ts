// What a job handler sees of its job. The manager's Job implements it.
import type { Writable } from 'node:stream';
import type { Credentials } from '../auth/credentials.js';

export interface JobHandle {
  readonly id: number;
  readonly method: string;
  /** Aborted when core.job_abort is called (or the daemon stops). Handlers must honour it. */
  readonly signal: AbortSignal;
  readonly logsPath: string | null;
  readonly credentials: Credentials | null;
  /** percent 0-100 (fractions truncated); empty description/extra keep the previous value. */
  setProgress(percent?: number | null, description?: string | null, extra?: unknown): void;
  setDescription(description: string): void;
  /** Append text to the job's log (jobs declared with `logs`). */
  log(text: string): void;
  /** Keep module data with the job record (e.g. a child's process group) and wait until it is stored. */
  setInternal(data: Record<string, unknown>): Promise<void>;
  /** The output pipe of a downloadable job started through core.download, else null. */
  readonly output: Writable | null;
}
