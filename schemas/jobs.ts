// Argument and result schemas of the core.* job methods and of the core.job_logs event source
// (PROTOCOL.md 6.1-6.6). core.get_jobs takes the shared query arguments of query.ts.
import { Type } from '@sinclair/typebox';
import { WireDate } from './util.js';

export const JobId = Type.Integer({ minimum: 1 });

/** core.get_jobs: job records, a count or one record, depending on the query options. */
export const GetJobsResult = Type.Unknown();

export const JobAbortResult = Type.Null();

/** core.job_wait: whatever the awaited job returned. */
export const JobWaitResult = Type.Unknown();

/** The method that core.bulk / core.download calls. */
export const MethodName = Type.String({ minLength: 1 });

/** core.bulk: one argument list per call. */
export const BulkParams = Type.Array(Type.Array(Type.Unknown()));

/** core.bulk: progress text per call, with {0}-style placeholders filled from its arguments; null: "i / n". */
export const BulkDescription = Type.Union([Type.String(), Type.Null()]);

/** One entry per call of core.bulk, in order: the call's job id (null for plain methods), result or error text. */
export const BulkResult = Type.Array(Type.Object({ job_id: Type.Union([Type.Integer(), Type.Null()]), result: Type.Unknown(), error: Type.Union([Type.String(), Type.Null()]) }));

/** core.download: the argument list of the job method. */
export const DownloadMethodArgs = Type.Array(Type.Unknown());

/** The file name the download is served under. */
export const Filename = Type.String({ minLength: 1 });

/**
 * true: the output (or, for core.job_download_logs, a copy of the log taken now) is spooled to a
 * file under the data dir, so the download may start after the job ended; false: it is streamed,
 * the job waiting for the download.
 */
export const Buffered = Type.Boolean({ description: 'true: spool to a file under the data dir so the download may start later; false: stream it, the job waiting for the download' });

/** core.download: [job id, download url]. */
export const DownloadResult = Type.Tuple([Type.Integer(), Type.String()]);

/** core.job_download_logs: the download url. */
export const DownloadLogsResult = Type.String();

/** Arguments of the core.job_logs event source: core.job_logs:{"id": N}. */
export const JobLogsSourceArgs = Type.Object({ id: JobId }, { additionalProperties: false });

/** One counter of a job: a whole number of records, 0 or more. */
const CounterValue = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/**
 * Counters a job reports, Celigo-style: records processed with success, with an error, ignored.
 * Kept in the job's progress.extra.counters (filterable: [["progress.extra.counters.error", ">", 0]]).
 */
export const JobCounters = Type.Object(
  { success: Type.Optional(CounterValue), error: Type.Optional(CounterValue), ignore: Type.Optional(CounterValue) },
  { additionalProperties: false },
);

/**
 * core.job_metrics: the resources the job's processes used, sampled every few seconds while it
 * ran. `points` is a series of at most 120 (older samples merged pairwise as it grows: each point
 * keeps the larger RSS); `cpu_seconds` is the total and `peak_rss_bytes` the peak (null: never
 * sampled, e.g. a job that runs no process).
 */
export const JobMetricsResult = Type.Object({
  id: Type.Integer(),
  state: Type.String(),
  samples_per_point: Type.Integer({ minimum: 1 }),
  points: Type.Array(Type.Object({ time: WireDate({ integer: true }), cpu_seconds: Type.Number({ minimum: 0 }), rss_bytes: Type.Number({ minimum: 0 }) })),
  cpu_seconds: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
  peak_rss_bytes: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
});

/** Tags of a job: short labels, each once (repeats are dropped), no control characters. */
export const JobTags = Type.Array(Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]*$' }), { maxItems: 100 });

/** core.job_update: what may change. */
export const JobUpdate = Type.Object({ tags: JobTags }, { additionalProperties: false });

/** core.job_delete: how many finished jobs were deleted. */
export const JobDeleteResult = Type.Integer({ minimum: 0 });

/** core.job_abort_many: the jobs signalled, and the matching ones that cannot be aborted. */
export const JobAbortManyResult = Type.Object({ aborted: Type.Array(Type.Integer()), not_abortable: Type.Array(Type.Integer()) });
