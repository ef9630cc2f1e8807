// midclt jobs / job ID / abort ID / wait ID: the job history and one job.
import { Exit, err, failure, openSession, out, type GlobalOptions } from '../context.js';
import { formatDuration, formatResult, formatTime, pyJson, table } from '../format.js';
import { getJob, jobError, type Job } from '../jobs.js';
import type { ProgressStyle } from '../progress.js';
import { followWithUi, reconnectNotice } from './follow.js';
import { printResult, redundantTrace } from './call.js';

const STATES = ['WAITING', 'RUNNING', 'SUCCESS', 'FAILED', 'ABORTED'];

export function parseJobId(text: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(text)) throw new Exit(2, [`job id must be a positive integer, got '${text}'`]);
  return Number(text);
}

function durationOf(j: Job): string {
  const start = j.time_started?.$date;
  if (typeof start !== 'number') return '-';
  const end = j.time_finished?.$date ?? Date.now();
  return formatDuration(end - start);
}

function progressOf(j: Job): string {
  const p = j.progress?.percent;
  return typeof p === 'number' ? `${p}%` : '-';
}

export interface JobsOptions {
  state?: string[];
  method?: string;
  limit?: string;
  json?: boolean;
}

export async function runJobs(g: GlobalOptions, o: JobsOptions): Promise<number> {
  const filters: unknown[] = [];
  const states = (o.state ?? []).flatMap((s) => s.split(',')).map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
  for (const s of states) if (!STATES.includes(s)) throw new Exit(2, [`--state: unknown state ${s} (one of ${STATES.join(', ')})`]);
  if (states.length === 1) filters.push(['state', '=', states[0]]);
  else if (states.length > 1) filters.push(['state', 'in', states]);
  if (o.method) {
    // `pool.` or `pool.*` is a prefix; anything else an exact name.
    const m = o.method.replace(/\*$/, '');
    filters.push(o.method.endsWith('*') || o.method.endsWith('.') ? ['method', '^', m] : ['method', '=', m]);
  }
  const limit = o.limit === undefined ? 20 : Number(o.limit);
  if (!Number.isInteger(limit) || limit < 0 || limit > 10_000) throw new Exit(2, [`--limit: expected an integer 0-10000 (0: all), got '${o.limit}'`]);
  const session = await openSession(g);
  try {
    let jobs: Job[];
    try {
      jobs = await session.client.call<Job[]>('core.get_jobs', [filters, { order_by: ['-id'], limit }]);
    } catch (e) {
      throw failure(e, { json: o.json || g.json });
    }
    if (o.json || g.json) {
      out(JSON.stringify(jobs));
      return 0;
    }
    if (jobs.length === 0) {
      err('No jobs match.');
      return 0;
    }
    const rows = jobs.map((j) => [String(j.id), j.method, j.state, progressOf(j), formatTime(j.time_started?.$date), durationOf(j), j.progress?.description || j.description || '']);
    out(table(['ID', 'METHOD', 'STATE', 'PROGRESS', 'STARTED', 'DURATION', 'DESCRIPTION'], rows));
    return 0;
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** A job as `key: value` lines. */
export function jobDetail(j: Job): string[] {
  const lines: string[] = [];
  const add = (k: string, v: string | null | undefined) => {
    if (v === null || v === undefined || v === '') return;
    const [first, ...rest] = v.replace(/\n$/, '').split('\n');
    lines.push(`${`${k}:`.padEnd(14)}${first}`);
    for (const r of rest) lines.push(`${' '.repeat(14)}${r}`);
  };
  add('id', String(j.id));
  add('method', j.method);
  add('description', j.description);
  add('state', j.state);
  add('progress', `${progressOf(j)}${j.progress?.description ? ` ${j.progress.description}` : ''}`);
  add('arguments', pyJson(j.arguments));
  add('started', formatTime(j.time_started?.$date));
  add('finished', j.time_finished ? formatTime(j.time_finished.$date) : null);
  add('duration', durationOf(j));
  const user = j.credentials?.data?.username;
  add('owner', j.credentials ? `${typeof user === 'string' ? user : '?'} (${j.credentials.type})` : 'internal');
  add('abortable', j.abortable === undefined ? null : String(j.abortable));
  if (j.state === 'SUCCESS') add('result', formatResult(j.result));
  add('error', j.error);
  if (j.exception && !redundantTrace(j.exception, j.error)) add('exception', j.exception);
  add('logs', j.logs_path ? `midclt logs ${j.id}` : null);
  add('logs excerpt', j.logs_excerpt);
  return lines;
}

export async function runJob(g: GlobalOptions, idText: string, o: { json?: boolean }): Promise<number> {
  const id = parseJobId(idText);
  const json = o.json || g.json;
  const session = await openSession(g);
  try {
    let job: Job | null;
    try {
      job = await getJob(session.client, id);
    } catch (e) {
      throw failure(e, { json });
    }
    if (!job) throw new Exit(1, [json ? JSON.stringify({ error: { errno: 2, errname: 'ENOENT', reason: `Job ${id} does not exist` } }) : `[ENOENT] Job ${id} does not exist`]);
    if (json) out(JSON.stringify(job));
    else out(jobDetail(job).join('\n'));
    return 0;
  } finally {
    await session.close().catch(() => undefined);
  }
}

export async function runAbort(g: GlobalOptions, idText: string, o: { json?: boolean }): Promise<number> {
  const id = parseJobId(idText);
  const json = o.json || g.json;
  const session = await openSession(g);
  try {
    try {
      await session.client.call('core.job_abort', [id]);
    } catch (e) {
      throw failure(e, { json });
    }
    if (json) out(JSON.stringify({ id, abort_requested: true }));
    else err(`Abort requested for job ${id}`);
    return 0;
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** Exit codes of `wait`: the final state. */
export const WAIT_EXIT = { SUCCESS: 0, FAILED: 1, ABORTED: 2 } as const;

export async function runWait(g: GlobalOptions, idText: string, o: { json?: boolean; jobPrint?: ProgressStyle; quiet?: boolean }): Promise<number> {
  const id = parseJobId(idText);
  const json = o.json || g.json;
  const session = await openSession(g, { onReconnecting: reconnectNotice });
  try {
    const { job } = await followWithUi(session, id, { progress: o.jobPrint ?? 'progressbar', onInterrupt: 'detach' });
    if (json) {
      out(JSON.stringify(job));
      return WAIT_EXIT[job.state as keyof typeof WAIT_EXIT] ?? 1;
    }
    if (job.state === 'SUCCESS') {
      printResult(job.result, false);
      return 0;
    }
    if (job.state === 'ABORTED') {
      if (!o.quiet) err(`Job ${id} was aborted`);
      return WAIT_EXIT.ABORTED;
    }
    if (o.quiet) return 1;
    const e = failure(jobError(job));
    throw new Exit(1, job.error && job.exc_info?.type !== 'VALIDATION' ? [`Job ${id} FAILED: ${job.error}`] : [`Job ${id} FAILED`, ...e.lines]);
  } finally {
    await session.close().catch(() => undefined);
  }
}
