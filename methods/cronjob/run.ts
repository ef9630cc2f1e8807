// The body of a cronjob.run job: resolve the user and directory, then run attempts until one
// succeeds, the retries are used up, the job is aborted or the daemon stops.
//
// Job log format: one line per event, each prefixed with an ISO-8601 UTC timestamp and a tag:
//   2025-06-10T12:00:00.123Z [cronjob] attempt 1 of 3: /usr/local/bin/backup.sh
//   2025-06-10T12:00:00.456Z [stdout] copied 10 files
//   2025-06-10T12:00:00.457Z [stderr] warning: disk almost full
// Progress lines on stdout (see progress.ts) set the job's progress and are not logged.
import { isAbsolute } from 'node:path';
import { CallError, ERRNO, JobAborted, JobInterrupted, type JobHandle, type Logger } from '#midship/module-api';
import { parseProgressLine } from './progress.js';
import { startAttempt, type AttemptOutcome, type StreamName } from './runner.js';
import type { RunResultT } from '../../schemas/cronjob.js';
import { attemptText, retryDelay, type Clock, type RandomSource } from '../scheduling/index.js';
import type { CronRecord } from './store.js';
import type { UsageSampler } from './usage.js';
import { canEnter, currentUser, lookupUser, runAsPlan, type PasswdEntry } from './users.js';

/** Between SIGTERM and SIGKILL on timeout and abort. */
export const KILL_GRACE_MS = 5000;
/** Between SIGTERM and SIGKILL when the daemon stops (it must be gone within a few seconds). */
export const STOP_GRACE_MS = 1500;
/** Lines of output quoted in the error of a failed run. */
const TAIL_LINES = 10;
const TAIL_LINE_CHARS = 500;

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface RunOptions {
  job: JobHandle;
  record: CronRecord;
  /** Aborted when the daemon stops: the run ends FAILED as interrupted. */
  stopSignal: AbortSignal;
  bootId: string | null;
  log: Logger;
  /** Samples the CPU time and memory of the run's process groups (core.job_metrics). */
  usage?: UsageSampler;
  /** What retry delays are counted on (the module's clock: a VirtualClock in tests). */
  clock: Clock;
  /** The retry jitter's random source. */
  random: RandomSource;
  /** Told as each attempt starts (1 for the first). */
  onAttempt?(attempt: number): void;
}

function note(job: JobHandle, tag: 'cronjob' | StreamName, text: string): void {
  job.log(`${new Date().toISOString()} [${tag}] ${text}\n`);
}

function checkStop(job: JobHandle, stopSignal: AbortSignal): void {
  if (job.signal.aborted) throw new JobAborted();
  if (stopSignal.aborted) throw new JobInterrupted();
}

// Checked as the cron job's user (canEnter), so the answer tells nobody more than that user knows.
async function workingDirectory(r: CronRecord, user: PasswdEntry, plan: { uid?: number; gid?: number }): Promise<string> {
  if (r.working_directory !== null) {
    if (!isAbsolute(r.working_directory) || !(await canEnter(r.working_directory, plan))) {
      throw new CallError(`Working directory ${r.working_directory} does not exist or ${user.name} cannot enter it`, ERRNO.ENOENT);
    }
    return r.working_directory;
  }
  return (await canEnter(user.home, plan)) ? user.home : '/';
}

/**
 * A small cron-like environment (the daemon's own environment is not passed on: it is not the
 * command's business), the cron job's variables, then Midship's: MIDSHIP_JOB_ID,
 * MIDSHIP_CRONJOB_ID and MIDSHIP_ATTEMPT (1 for the first attempt).
 */
function commandEnvironment(r: CronRecord, user: PasswdEntry, jobId: number, attempt: number): Record<string, string> {
  const env: Record<string, string> = { PATH: BASE_PATH, HOME: user.home, USER: user.name, LOGNAME: user.name, SHELL: '/bin/sh' };
  for (const k of ['LANG', 'LC_ALL', 'TZ']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...r.environment, MIDSHIP_JOB_ID: String(jobId), MIDSHIP_CRONJOB_ID: String(r.id), MIDSHIP_ATTEMPT: String(attempt) };
}

/** How often the countdown of a waiting retry ("next in 40 s") is brought up to date. */
const COUNTDOWN_MS = 1000;

/**
 * Waits `ms` on `clock` before attempt `next`, its progress counting down ("attempt 2 of 4, next
 * in 40 s"); resolves early when either signal fires.
 */
function pause(o: RunOptions, next: number, ms: number, a: AbortSignal, b: AbortSignal): Promise<void> {
  const { clock, job, record } = o;
  const end = clock.now() + ms;
  return new Promise((resolve) => {
    let tick = clock.after(Math.min(COUNTDOWN_MS, ms), countdown);
    const wake = clock.at(end, done);
    function countdown(): void {
      const left = end - clock.now();
      if (left <= 0) return;
      job.setProgress(null, attemptText(next, record, left));
      tick = clock.after(Math.min(COUNTDOWN_MS, left), countdown);
    }
    function done(): void {
      tick.cancel();
      wake.cancel();
      a.removeEventListener('abort', done);
      b.removeEventListener('abort', done);
      resolve();
    }
    job.setProgress(null, attemptText(next, record, ms));
    a.addEventListener('abort', done);
    b.addEventListener('abort', done);
  });
}

interface Failure {
  summary: string;
  errno: number;
  exitCode: number | null;
}

function failureOf(o: AttemptOutcome, r: CronRecord): Failure {
  switch (o.kind) {
    case 'exited':
      return { summary: `Command exited with status ${o.code}`, errno: ERRNO.EFAULT, exitCode: o.code };
    case 'signaled':
      return { summary: `Command was killed by ${o.signal}`, errno: ERRNO.EFAULT, exitCode: null };
    case 'spawn_failed':
      return { summary: `Cannot start /bin/sh: ${o.error.message}`, errno: ERRNO.EFAULT, exitCode: null };
    case 'stopped':
      return { summary: `Cron job timed out after ${r.timeout} s`, errno: ERRNO.ETIMEDOUT, exitCode: o.code };
  }
}

export async function runCronJob(o: RunOptions): Promise<RunResultT> {
  const { job, record: r, stopSignal } = o;
  const user = await lookupUser(r.user);
  if (user === null) throw new CallError(`User "${r.user}" does not exist`, ERRNO.ENOENT);
  const credentials = runAsPlan(user, currentUser());
  const cwd = await workingDirectory(r, user, credentials);
  const started = performance.now();
  const total = r.retries + 1;
  for (let attempt = 1; ; attempt++) {
    checkStop(job, stopSignal);
    note(job, 'cronjob', `attempt ${attempt} of ${total}: ${r.command}`);
    if (total > 1) job.setProgress(null, `attempt ${attempt} of ${total}`);
    o.onAttempt?.(attempt);
    const tail: string[] = [];
    const a = startAttempt({
      command: r.command,
      cwd,
      env: commandEnvironment(r, user, job.id, attempt),
      ...credentials,
      timeoutMs: r.timeout * 1000,
      killGraceMs: KILL_GRACE_MS,
      // One log write with one timestamp per read of the pipe, never per line: a command printing
      // millions of lines costs a few thousand appends, and the daemon keeps answering.
      onLines: (stream, lines) => {
        const kept = !(stream === 'stdout' ? r.stdout : r.stderr); // true in the record: not kept
        const prefix = `${new Date().toISOString()} [${stream}] `;
        let text = '';
        for (const line of lines) {
          if (stream === 'stdout' && line.includes('{')) {
            const p = parseProgressLine(line);
            if (p !== null) {
              if (p.counters) job.setCounters(p.counters);
              job.setProgress(p.percent, p.description, p.extra);
              continue;
            }
          }
          if (!kept) continue;
          text += `${prefix}${line}\n`;
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
        }
        if (text.length > 0) job.log(text);
      },
      onSignal: (signal, reason) => note(job, 'cronjob', `${reason === 'timeout' ? `timed out after ${r.timeout} s` : reason}: sent ${signal} to process group ${a.pid!}`),
    });
    const onAbort = () => a.stop('aborted', KILL_GRACE_MS);
    const onStop = () => a.stop('interrupted', STOP_GRACE_MS);
    job.signal.addEventListener('abort', onAbort);
    stopSignal.addEventListener('abort', onStop);
    if (job.signal.aborted) onAbort();
    if (stopSignal.aborted) onStop();
    if (a.pid !== undefined) {
      // Stored with the job before we wait, so a restart after a crash can find the group.
      await job
        .setInternal({ pgid: a.pid, pid: a.pid, starttime: a.starttime, boot_id: o.bootId })
        .then(() => note(job, 'cronjob', `started process group ${a.pid!}`))
        .catch((err: unknown) => o.log.warn({ err, job: job.id }, 'cannot record the process group of a cron job run'));
    }
    const unwatch = a.pid === undefined ? undefined : o.usage?.watch(job, a.pid);
    let outcome: AttemptOutcome;
    try {
      outcome = await a.done;
    } finally {
      unwatch?.();
      job.signal.removeEventListener('abort', onAbort);
      stopSignal.removeEventListener('abort', onStop);
    }
    const duration = Math.round(performance.now() - started) / 1000;
    if (outcome.kind === 'exited' && outcome.code === 0) {
      note(job, 'cronjob', `attempt ${attempt} succeeded`);
      return { exit_code: 0, duration, attempts: attempt };
    }
    if (outcome.kind === 'stopped' && outcome.reason === 'aborted') {
      note(job, 'cronjob', 'aborted: the process group was terminated');
      throw new JobAborted();
    }
    if (outcome.kind === 'stopped' && outcome.reason === 'interrupted') {
      note(job, 'cronjob', 'the daemon is stopping: the process group was terminated');
      throw new JobInterrupted();
    }
    const f = failureOf(outcome, r);
    note(job, 'cronjob', `attempt ${attempt} failed: ${f.summary}`);
    if (attempt >= total) {
      const after = attempt > 1 ? ` (after ${attempt} attempts)` : '';
      const quoted = tail.length > 0 ? `\nLast output:\n${tail.map((l) => (l.length > TAIL_LINE_CHARS ? `${l.slice(0, TAIL_LINE_CHARS)}...` : l)).join('\n')}` : '';
      throw new CallError(`${f.summary}${after}${quoted}`, f.errno, { exit_code: f.exitCode, attempts: attempt, duration });
    }
    const delay = retryDelay(attempt, r, o.random);
    note(job, 'cronjob', `retrying in ${delay / 1000} s`);
    await pause(o, attempt + 1, delay, job.signal, stopSignal);
  }
}
