// Watching a job from outside it: waiting for its end while mirroring its progress
// (core.job_wait), and following its log as it grows (core.job_logs).
import type { Credentials } from '../auth/credentials.js';
import { CallError, ERRNO, JobAborted, ValidationErrors } from '../errors.js';
import type { JobHandle } from './handle.js';
import { errorFromRecord, type Job } from './job.js';
import { followLog } from './logs.js';
import type { JobManager } from './manager.js';
import { TERMINAL_STATES, type JobRecord } from './types.js';

/** The outcome of a finished job: its result, or its error thrown again. */
function outcomeOf(jobs: JobManager, r: JobRecord): unknown {
  if (r.state === 'SUCCESS') return r.result;
  if (r.state === 'ABORTED') throw new JobAborted(`Job ${r.id} was aborted`);
  throw jobs.getLive(r.id)?.failure ?? errorFromRecord(r);
}

/** Mirrors job `id`'s progress on `waiter` until it ends; its outcome (result, or the same error). */
export async function waitForJob(jobs: JobManager, id: number, waiter: JobHandle, credentials: Credentials | null): Promise<unknown> {
  // Waiting for itself, or for a job it runs in (a core.bulk of core.job_wait), never ends.
  if (jobs.isAncestor(id, waiter.id)) throw new ValidationErrors([['id', `Job ${waiter.id} cannot wait for job ${id}: it runs inside it`, ERRNO.EINVAL]]);
  const record = await jobs.read(id, credentials);
  if (TERMINAL_STATES.has(record.state)) return outcomeOf(jobs, record);
  // Not finished, so it is live: mirror its progress until it ends (or the waiter is aborted).
  const target = jobs.getLive(id);
  if (!target) throw new CallError(`Job ${id} is not running`, ERRNO.ESRCH);
  const mirror = (t: Job) => waiter.setProgress(t.record.progress.percent, t.record.progress.description, t.record.progress.extra);
  mirror(target);
  // A watcher, not target.done(): an aborted waiter lets go of everything at once, not when
  // (if ever) its target ends, so thousands of aborted waiters leave nothing behind.
  const signal = waiter.signal;
  let stop = (): void => undefined;
  let onAbort = (): void => undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      stop = jobs.watch(id, (t) => (t.finished ? resolve() : mirror(t)));
      onAbort = () => reject(signal.reason instanceof JobAborted ? signal.reason : new JobAborted());
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
    });
  } finally {
    stop();
    signal.removeEventListener('abort', onAbort);
  }
  return outcomeOf(jobs, target.record);
}

/** Sends job `id`'s log to `onData`: what it holds, then each appended chunk until the job ends. */
export async function followJobLog(jobs: JobManager, id: number, credentials: Credentials | null, onData: (text: string) => void, signal: AbortSignal): Promise<void> {
  const r = await jobs.read(id, credentials);
  if (r.logs_path === null) throw new ValidationErrors([['id', `Job ${id} has no logs`, ERRNO.EINVAL]]);
  const live = jobs.getLive(id);
  if (live && live.state === 'WAITING') {
    // Its log starts when it runs.
    await new Promise<void>((resolve) => {
      const stop = jobs.watch(id, (j) => {
        if (j.state !== 'WAITING') {
          stop();
          resolve();
        }
      });
      signal.addEventListener('abort', () => (stop(), resolve()));
    });
  }
  const writer = live && !live.finished ? live.logWriter : null;
  await followLog(r.logs_path, writer, onData, signal);
}
