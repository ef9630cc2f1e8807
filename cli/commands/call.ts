// midclt call [-q] [-j] [-jp progressbar|description] METHOD [ARG...]
import { parseArgs } from '../args.js';
import { callTimeoutMs, err, Exit, failure, openSession, out, type GlobalOptions } from '../context.js';
import { formatResult } from '../format.js';
import { jobError, startCall } from '../jobs.js';
import type { ProgressStyle } from '../progress.js';
import { followWithUi, reconnectNotice } from './follow.js';

export interface CallOptions {
  quiet?: boolean;
  job?: boolean;
  jobPrint?: ProgressStyle;
  json?: boolean;
}

/** A traceback that only repeats the error (`Class: error`) adds nothing worth printing. */
export function redundantTrace(exception: string, error: string | null): boolean {
  const t = exception.trim();
  const e = (error ?? '').trim();
  return t === e || (!t.includes('\n') && t.endsWith(`: ${e}`));
}

export function printResult(value: unknown, json: boolean): void {
  out(json ? JSON.stringify(value ?? null) : formatResult(value));
}

export async function runCall(g: GlobalOptions, o: CallOptions, method: string, rawArgs: string[]): Promise<number> {
  const json = o.json === true || g.json === true;
  const params = await parseArgs(rawArgs);
  const session = await openSession(g, { onReconnecting: reconnectNotice });
  try {
    let started;
    try {
      started = await startCall(session.client, method, params, { expectJob: o.job === true, timeoutMs: callTimeoutMs(g) });
    } catch (e) {
      throw failure(e, { quiet: o.quiet, json });
    }
    if (started.kind === 'result') {
      printResult(started.value, json);
      return 0;
    }
    if (!o.job) {
      // As midclt: without -j a job call prints the job id; the job keeps running.
      printResult(started.id, json);
      return 0;
    }
    err(`Job ${started.id} started (${method}); if interrupted, follow it again with: midclt wait ${started.id}`);
    const { job, abortedByUs } = await followWithUi(session, started.id, { initial: started.job, progress: o.jobPrint ?? 'progressbar', onInterrupt: 'abort' });
    if (job.state === 'SUCCESS') {
      if (typeof job.result_encoding_error === 'string') err(`The result could not be encoded: ${job.result_encoding_error}`);
      printResult(job.result, json);
      return 0;
    }
    if (abortedByUs) {
      err(`Job ${job.id} aborted`);
      return 130;
    }
    const e = jobError(job)!;
    if (json) throw failure(e, { quiet: o.quiet, json });
    if (o.quiet) return 1;
    // As midclt: the job's error, then its traceback text.
    const lines = [job.error ?? e.message];
    if (job.exception && !redundantTrace(job.exception, job.error)) lines.push(job.exception.trimEnd());
    if (job.exc_info?.type === 'VALIDATION') throw failure(e);
    if (job.state === 'ABORTED' && !job.error) lines[0] = `Job ${job.id} was aborted`;
    throw new Exit(1, lines);
  } finally {
    await session.close().catch(() => undefined);
  }
}
