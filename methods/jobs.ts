// core.* job methods and events (PROTOCOL.md 6.1-6.6, issue 4): get_jobs over the durable
// history, job_abort, job_wait, bulk, download, job_download_logs, and the live log source
// core.job_logs:{"id": N}.
import { arg, CallError, ERRNO, isExpired, isFullAdmin, JobAborted, mayCall, method, REDACTED, ValidationErrors, type App, type CallContext, type Credentials, type ModuleDef } from '#midship/module-api';
import {
  BulkDescription,
  BulkParams,
  BulkResult,
  Buffered,
  DownloadLogsResult,
  DownloadMethodArgs,
  DownloadResult,
  Filename,
  GetJobsResult,
  JobAbortManyResult,
  JobAbortResult,
  JobDeleteResult,
  JobId,
  JobLogsSourceArgs,
  JobMetricsResult,
  JobUpdate,
  JobWaitResult,
  MethodName,
} from '../schemas/jobs.js';
import { QueryFilters, QueryOptions } from '../schemas/query.js';
import { pyFormat } from './pyformat.js';

interface BulkEntry {
  job_id: number | null;
  result: unknown;
  error: string | null;
}

function originOf(ctx: CallContext): string | null {
  return ctx.connection === null || ctx.connection.transport === 'unix' ? null : ctx.connection.remoteAddress;
}

/**
 * The credentials a long-running job (core.bulk) acts with now: its account must still exist and be
 * unlocked, its API key unrevoked and unexpired, and its roles are the account's current ones.
 * `owner` is the job owner they had at the start: a user deleted and re-created under the same
 * id is not the same owner.
 */
function currentCredentials(app: App, c: Credentials | null, owner: string | null): Credentials | null {
  if (c === null || c.type === 'INTERNAL' || c.type === 'UNIX_SOCKET') return c;
  const base = c.type === 'TOKEN' && c.parent ? c.parent : c;
  if (base.apiKey) {
    const key = app.auth.keys.get(base.apiKey.id);
    if (!key || key.revoked || isExpired(key)) throw new CallError('The API key this job runs with was revoked or has expired', ERRNO.EPERM);
  }
  if (base.userId === null) return c;
  const user = app.auth.users.get(base.userId);
  if (!user || user.locked || app.jobs.ownerOf(c) !== owner) throw new CallError('The account this job runs for was deleted or locked', ERRNO.EPERM);
  return { ...c, roles: [...user.roles] };
}

export function jobsModule(app: App): ModuleDef {
  const jobs = app.jobs;

  return {
    services: [],
    methods: [
      method('core.get_jobs', {
        description: 'Query the job history (durable across restarts) with the query language: filters, order_by, limit, offset, count, get, select. Secrets in results are redacted unless options.extra.raw_result is set by a full admin.',
        args: [arg('filters', QueryFilters, { default: [] }), arg('options', QueryOptions, { default: {} as never })],
        result: GetJobsResult,
        authOnly: true,
        filterable: true,
        handler: (ctx, filters, options) => jobs.query(filters, options, ctx.credentials, options.extra.raw_result === true && isFullAdmin(ctx.credentials)),
      }),

      method('core.job_abort', {
        description: 'Abort a job: a WAITING job ends ABORTED at once, a RUNNING one is signalled and ends ABORTED when its handler returns.',
        args: [arg('id', JobId)],
        result: JobAbortResult,
        authOnly: true,
        handler: async (ctx, id) => {
          await jobs.abort(id, ctx.credentials);
          return null;
        },
      }),

      method('core.job_abort_many', {
        description: 'Abort every waiting or running job matching `filters` (query filters, as core.get_jobs) that the caller may abort: its own, or any for a full admin. Returns {aborted, not_abortable}: the ids signalled, and those matching but not abortable.',
        args: [arg('filters', QueryFilters)],
        result: JobAbortManyResult,
        authOnly: true,
        audit: true,
        handler: (ctx, filters) => jobs.abortMatching(filters, ctx.credentials),
      }),

      method('core.job_delete', {
        description: 'Delete the finished jobs (SUCCESS, FAILED, ABORTED) matching `filters` (query filters, as core.get_jobs) that the caller may delete: its own, or any for a full admin; their log files go too. Waiting and running jobs are never deleted. [] matches every finished job. Returns how many were deleted.',
        args: [arg('filters', QueryFilters)],
        result: JobDeleteResult,
        authOnly: true,
        audit: true,
        handler: async (ctx, filters) => {
          const n = await jobs.deleteMatching(filters, ctx.credentials);
          app.log.info({ user: ctx.credentials?.username, filters, deleted: n }, 'jobs deleted');
          return n;
        },
      }),

      method('core.job_update', {
        description: "Change job `id`: {tags: [...]} replaces its tags (labels to find jobs by: core.get_jobs [[\"tags\", \"rin\", \"nightly\"]]). The job's owner or a full admin. Returns the job.",
        args: [arg('id', JobId), arg('data', JobUpdate)],
        result: GetJobsResult,
        authOnly: true,
        audit: true,
        handler: async (ctx, id, data) => {
          await jobs.updateTags(id, data.tags, ctx.credentials);
          return jobs.query([['id', '=', id]], { get: true } as never, ctx.credentials, false);
        },
      }),

      method('core.job_wait', {
        description: "Wait for job `id`: mirrors its progress and ends with its outcome (result, or the same error).",
        args: [arg('id', JobId)],
        result: JobWaitResult,
        authOnly: true,
        job: { abortable: true, description: (args) => `Waiting for job ${String(args[0])}` },
        handler: (ctx, job, id) => jobs.wait(id, job, ctx.credentials),
      }),

      method('core.bulk', {
        description: 'Call `method` once per element of `params` (each the argument list of one call), one after another, in one job. Result: [{job_id, result, error}] per call; a failed call never stops the batch.',
        args: [arg('method', MethodName), arg('params', BulkParams), arg('description', BulkDescription, { default: null })],
        result: BulkResult,
        authOnly: true,
        job: {
          lock: (args) => `bulk:${args[0]}`,
          abortable: true,
          description: (args) => `Bulk ${args[0]} (${args[1].length} calls)`,
          // Inner arguments and results are kept as the inner method's schema says: a secret in
          // them is no more visible through core.bulk than through the method itself.
          redactArgs: ([name, params, description]) => {
            const m = app.registry.get(name);
            return [name, params.map((a) => (m ? m.redactArgs(a) : REDACTED)), description];
          },
          redactResult: (result, [name]) => {
            const m = app.registry.get(name);
            if (!Array.isArray(result)) return result;
            return (result as BulkEntry[]).map((e) => (e.result === null ? e : { ...e, result: m ? m.redactResult(e.result) : REDACTED }));
          },
        },
        handler: async (ctx, job, name, params, description) => {
          const m = app.registry.get(name);
          if (!m || m.def.private) throw new ValidationErrors([['method', `Method ${name} does not exist`, ERRNO.ENOENT]]);
          if (!mayCall(ctx.credentials, m)) throw new CallError('Not authorized', ERRNO.EPERM);
          const owner = jobs.ownerOf(ctx.credentials);
          const out: BulkEntry[] = [];
          const n = params.length;
          for (let i = 0; i < n; i++) {
            if (job.signal.aborted) throw new JobAborted();
            // Each call runs with the caller's account, key and roles as they are now.
            const credentials = currentCredentials(app, ctx.credentials, owner);
            const args = params[i]!;
            const shown = m.redactArgs(args) as unknown[];
            job.setProgress(Math.floor((100 * i) / n), description === null ? `${i} / ${n}` : `${i} / ${n}: ${pyFormat(description, shown)}`);
            let jobId: number | null = null;
            try {
              const result = await app.call(name, args, { credentials, connection: ctx.connection, parentJob: job, authorize: true, onJob: (jid) => (jobId = jid) });
              out.push({ job_id: jobId, result: result === undefined ? null : result, error: null });
            } catch (err) {
              const rec = jobId === null ? undefined : await jobs.getRecord(jobId);
              out.push({ job_id: jobId, result: null, error: rec?.error ?? (err as Error).message.trimEnd() });
            }
          }
          return out;
        },
      }),

      method('core.download', {
        description: 'Start job method `method` with `args`, its output going to a download: returns [job_id, url]. GET the url (single-use token, valid 5 minutes) to stream the output.',
        args: [arg('method', MethodName), arg('args', DownloadMethodArgs), arg('filename', Filename), arg('buffered', Buffered, { default: false })],
        result: DownloadResult,
        authOnly: true,
        handler: async (ctx, name, args, filename, buffered) => {
          const m = app.registry.get(name);
          if (!m || m.def.private) throw new ValidationErrors([['method', `Method ${name} does not exist`, ERRNO.ENOENT]]);
          if (!m.def.job?.downloadable) throw new ValidationErrors([['method', `Method ${name} does not produce a download`, ERRNO.EINVAL]]);
          if (!mayCall(ctx.credentials, m)) throw new CallError('Not authorized', ERRNO.EACCES);
          const validArgs = (() => {
            try {
              return m.validateArgs(args);
            } catch (err) {
              throw err instanceof ValidationErrors ? err.prefixed('args') : err;
            }
          })();
          const output = app.downloads.createOutput(buffered);
          const job = await jobs.submit(m, validArgs, ctx, { output: output.stream });
          output.attach(job.id);
          return [job.id, app.downloads.issue(job.id, filename, originOf(ctx), 'output')] as [number, string];
        },
      }),

      method('core.job_metrics', {
        description: "CPU time and resident memory of job `id`'s processes, sampled every few seconds while it ran: a series of at most 120 points, the total CPU seconds and the peak RSS. Readable by whoever may read the job (as core.job_logs).",
        args: [arg('id', JobId)],
        result: JobMetricsResult,
        authOnly: true,
        handler: async (ctx, id) => {
          const r = await jobs.read(id, ctx.credentials);
          const m = r.metrics;
          return {
            id: r.id,
            state: r.state,
            samples_per_point: m?.step ?? 1,
            points: (m?.points ?? []).map((p) => ({ time: { $date: p.time }, cpu_seconds: p.cpu_seconds, rss_bytes: p.rss_bytes })),
            cpu_seconds: m?.cpu_seconds ?? null,
            peak_rss_bytes: m?.peak_rss_bytes ?? null,
          };
        },
      }),

      method('core.job_download_logs', {
        description: "A URL that downloads job `id`'s log file (single-use token, valid 5 minutes).",
        args: [arg('id', JobId), arg('filename', Filename), arg('buffered', Buffered, { default: false })],
        result: DownloadLogsResult,
        authOnly: true,
        handler: async (ctx, id, filename, buffered) => {
          const r = await jobs.read(id, ctx.credentials);
          if (r.logs_path === null) throw new CallError('This job has no logs', ERRNO.EFAULT);
          return app.downloads.issueLogs(id, r.logs_path, filename, originOf(ctx), buffered);
        },
      }),
    ],
    events: [
      {
        name: 'core.get_jobs',
        description: 'Job changes: added when a job is queued, changed on every state or progress change, each with the complete job.',
        authOnly: true,
      },
      {
        name: 'core.job_logs',
        description: 'Live log of a job: subscribe as core.job_logs:{"id": N}. Sends the log so far, then each appended chunk, as "added" events with fields {"data": text}; ends with notify_unsubscribed when the job ends.',
        authOnly: true,
        source: {
          args: JobLogsSourceArgs,
          run: (ctx, raw) => {
            const { id } = raw as { id: number };
            return jobs.followLog(id, ctx.credentials, (data) => ctx.emit('added', id, { data }), ctx.signal);
          },
        },
      },
    ],
  };
}
