// The counters a job reports (issue 19): records processed with success, with an error, ignored.
// They live in progress.extra.counters, so every client that shows a job's progress has them and
// core.get_jobs filters on them like on any field ([["progress.extra.counters.error", ">", 0]]).
import { Value } from '@sinclair/typebox/value';
import type { Static } from '@sinclair/typebox';
import { ERRNO, ValidationErrors } from '../errors.js';
import { JobCounters } from '../../schemas/jobs.js';

export type JobCountersT = Static<typeof JobCounters>;

const NAMES = ['success', 'error', 'ignore'] as const;

/** Throws ValidationErrors naming the bad counter (`counters.<name>`) unless `v` is a valid set. */
export function checkCounters(v: unknown): asserts v is JobCountersT {
  if (Value.Check(JobCounters, v)) return;
  const errors = [...Value.Errors(JobCounters, v)].map((e): [string, string, number] => [`counters${e.path.replaceAll('/', '.')}`, e.message, ERRNO.EINVAL]);
  throw new ValidationErrors(errors.length > 0 ? errors : [['counters', 'Invalid counters', ERRNO.EINVAL]]);
}

/** `base` with the counters of `change` set (`add`: added to what `base` has). */
export function mergeCounters(base: JobCountersT | null, change: JobCountersT, add: boolean): JobCountersT {
  const out: JobCountersT = { ...base };
  for (const name of NAMES) {
    const v = change[name];
    if (v !== undefined) out[name] = Math.min(Number.MAX_SAFE_INTEGER, add ? (out[name] ?? 0) + v : v);
  }
  return out;
}

/**
 * A progress `extra` carrying `counters`: an object extra keeps its own keys beside them; any
 * other extra (a string, a list) cannot hold them and is replaced.
 */
export function extraWithCounters(extra: unknown, counters: JobCountersT | null): unknown {
  if (counters === null) return extra;
  const base = typeof extra === 'object' && extra !== null && !Array.isArray(extra) ? extra : {};
  return { ...base, counters };
}
