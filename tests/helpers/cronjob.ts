// Helpers shared by the cronjob suites: job lookups, process checks.
import { readFile } from 'node:fs/promises';
import type { Client } from './daemon.js';
import { until } from './until.js';

export type JobRecord = Record<string, unknown> & {
  id: number;
  state: string;
  arguments: unknown[];
  progress: { percent: number; description: string; extra: unknown };
  result: unknown;
  error: string | null;
  exc_info: { type: string; errno: number | null; extra: unknown } | null;
  logs_path: string | null;
  logs_excerpt: string | null;
  description: string | null;
  credentials: unknown;
};

export type CronEntry = Record<string, unknown> & {
  id: number;
  schedule: Record<string, string>;
  environment: Record<string, string>;
  next_run: string | null;
  last_run: { job_id: number; state: string; time_finished: string | null } | null;
};

export async function getJob(c: Client, id: number): Promise<JobRecord> {
  return (await c.call('core.get_jobs', [['id', '=', id]], { get: true })) as JobRecord;
}

const TERMINAL = new Set(['SUCCESS', 'FAILED', 'ABORTED']);

/** Wait until job `id` ended and its log excerpt is in place. */
export function jobEnd(c: Client, id: number, ms = 30_000): Promise<JobRecord> {
  return until(async () => {
    const j = await getJob(c, id);
    return TERMINAL.has(j.state) && (j.logs_path === null || j.logs_excerpt !== null) ? j : null;
  }, `job ${id} to end`, ms);
}

/** Start cronjob.run on a legacy-jobs connection (the call answers with the job id). */
export async function run(c: Client, cronId: number, skipDisabled = false): Promise<number> {
  return (await c.call('cronjob.run', cronId, skipDisabled)) as number;
}

export async function runToEnd(c: Client, cronId: number): Promise<JobRecord> {
  return jobEnd(c, await run(c, cronId));
}

export async function readLog(j: JobRecord): Promise<string> {
  return readFile(j.logs_path!, 'utf8');
}

/** A live process (zombies waiting to be reaped are gone for this purpose). */
export async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The pids a test command wrote to `file`, one per line, once it has written `n` of them. */
export async function pidsIn(file: string, n: number): Promise<number[]> {
  return until(async () => {
    const text = await readFile(file, 'utf8').catch(() => '');
    const pids = text.split('\n').filter(Boolean).map(Number);
    return pids.length >= n ? pids : null;
  }, `${n} pids in ${file}`);
}

/** The message of a failed call (throws when it succeeded). */
export async function callError(c: Client, method: string, ...params: unknown[]): Promise<{ code: number; data: { error: number; extra: unknown; reason: string } }> {
  const r = await c.request(method, params);
  if (!r.error) throw new Error(`${method} succeeded: ${JSON.stringify(r.result)}`);
  return r.error as unknown as { code: number; data: { error: number; extra: unknown; reason: string } };
}

/** The history of cron job `cronId`'s runs, oldest first. */
export async function runsOf(c: Client, cronId: number): Promise<JobRecord[]> {
  return (await c.call('core.get_jobs', [['method', '=', 'cronjob.run'], ['arguments.0', '=', cronId]], { order_by: ['id'] })) as JobRecord[];
}

/** What the scheduler put in a run's third argument. */
export function originOf(j: JobRecord): { scheduled_at?: string; caught_up?: boolean } {
  return (j.arguments[2] ?? {}) as { scheduled_at?: string; caught_up?: boolean };
}

/** Wait until cron job `cronId` has `n` runs, all ended; returns them oldest first. */
export function endedRuns(c: Client, cronId: number, n: number, ms = 30_000): Promise<JobRecord[]> {
  return until(async () => {
    const r = await runsOf(c, cronId);
    return r.length >= n && r.every((j) => TERMINAL.has(j.state)) ? r : null;
  }, `${n} ended runs of cron job ${cronId}`, ms);
}
