// What the fleet's history shows of a job: the job as clients see it (times in epoch ms, the
// arguments as stored, i.e. with secrets already replaced at submission), the result redacted by
// its method's schema whoever reads the stream, and without what only matters on this host (log
// path, internal data, owner) or could reveal it (the exception's trace; exc_info, which keeps
// the error's type, errno and validation entries, is enough for a caller to print it).
import type { JobRecord, MethodCatalog } from '#midship/module-api';
import type { FleetJob } from '../fleet/index.js';

export function fleetJobOf(r: JobRecord, registry: MethodCatalog): FleetJob {
  const m = registry.get(r.method);
  let result: unknown = null;
  if (r.result !== null && r.result !== undefined && m !== undefined) {
    try {
      result = m.redactResult(r.result);
    } catch {
      result = null;
    }
  }
  return {
    id: r.id,
    method: r.method,
    arguments: r.arguments,
    description: r.description,
    abortable: r.abortable,
    state: r.state,
    progress: r.progress,
    result,
    error: r.error,
    exc_info: r.exc_info,
    logs_excerpt: r.logs_excerpt,
    time_started: r.time_started,
    time_finished: r.time_finished,
    credentials: r.credentials,
    parent_id: r.parent_id ?? null,
  };
}
