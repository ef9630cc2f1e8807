// A job as clients see it (PROTOCOL.md 5.1): times as {"$date": ms}, internal fields left out,
// the result redacted when asked.
import type { Redactor } from '../redact.js';
import type { JobRecord } from './types.js';

export type WireJob = Record<string, unknown> & { id: number };

export function jobToWire(r: JobRecord, redactResult: Redactor | null = null): WireJob {
  let result = r.result;
  let resultEncodingError = r.result_encoding_error;
  if (redactResult !== null && result !== null && result !== undefined) {
    try {
      result = redactResult(result);
    } catch (err) {
      result = null;
      resultEncodingError = `Failed to redact the result: ${(err as Error).message}`;
    }
  }
  return {
    id: r.id,
    message_ids: r.message_ids,
    method: r.method,
    arguments: r.arguments,
    transient: r.transient,
    description: r.description,
    abortable: r.abortable,
    logs_path: r.logs_path,
    logs_excerpt: r.logs_excerpt,
    progress: r.progress,
    result: result === undefined ? null : result,
    result_encoding_error: resultEncodingError,
    error: r.error,
    exception: r.exception,
    exc_info: r.exc_info,
    state: r.state,
    time_started: { $date: r.time_started },
    time_finished: r.time_finished === null ? null : { $date: r.time_finished },
    credentials: r.credentials,
    parent_id: r.parent_id ?? null,
    tags: r.tags ?? [],
  };
}

/** Whether a value survives JSON encoding; returns the reason when it does not. */
export function encodingError(value: unknown): string | null {
  try {
    JSON.stringify(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
