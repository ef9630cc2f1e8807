// midclt bulk METHOD [-d DESCRIPTION]: one JSON array of arguments per stdin line, run as one
// core.bulk job; one output line per input, `ok<TAB>result` or `error<TAB>reason`.
import { InputError, parseBulkLines, readAll } from '../args.js';
import { callTimeoutMs, err, Exit, failure, openSession, out, type GlobalOptions } from '../context.js';
import { pyJson } from '../format.js';
import { jobError, startCall } from '../jobs.js';
import type { ProgressStyle } from '../progress.js';
import { followWithUi, reconnectNotice } from './follow.js';

interface BulkItem {
  job_id: number | null;
  result: unknown;
  error: string | null;
}

export async function runBulk(g: GlobalOptions, method: string, o: { description?: string; jobPrint?: ProgressStyle; json?: boolean }): Promise<number> {
  const json = o.json || g.json;
  let params: unknown[][];
  try {
    params = parseBulkLines(await readAll(process.stdin));
  } catch (e) {
    if (e instanceof InputError) throw new Exit(2, [`bulk: ${e.message}`]);
    throw e;
  }
  const session = await openSession(g, { onReconnecting: reconnectNotice });
  try {
    let started;
    try {
      started = await startCall(session.client, 'core.bulk', [method, params, o.description ?? null], { expectJob: true, timeoutMs: callTimeoutMs(g) });
    } catch (e) {
      throw failure(e, { json });
    }
    if (started.kind === 'result') throw new Exit(1, ['core.bulk did not start a job']);
    err(`Job ${started.id} started (core.bulk ${method}, ${params.length} calls); if interrupted: midclt wait ${started.id}`);
    const { job, abortedByUs } = await followWithUi(session, started.id, { initial: started.job, progress: o.jobPrint ?? 'progressbar', onInterrupt: 'abort' });
    if (abortedByUs) return 130;
    if (job.state !== 'SUCCESS') throw failure(jobError(job), { json });
    const items = (Array.isArray(job.result) ? job.result : []) as BulkItem[];
    if (json) out(JSON.stringify(items));
    else for (const it of items) out(it.error === null ? `ok\t${pyJson(it.result)}` : `error\t${it.error.replace(/\s*\n\s*/g, ' ').trim()}`);
    const failed = items.filter((it) => it.error !== null).length;
    if (failed > 0 && !json) err(`${failed} of ${items.length} calls failed`);
    return failed > 0 ? 1 : 0;
  } finally {
    await session.close().catch(() => undefined);
  }
}
