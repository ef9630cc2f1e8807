// One history message: JSON {v: 1, host, instance, job}, published to `midship.<host>.hist.job`
// with the message id `<host>:<instance>:<id>:<state>`. `job` is the job object as clients see it
// (the daemon redacts arguments before handing it over). Readers treat every message as untrusted
// input: a host can publish anything on its own subject, so the host is taken from the subject,
// and a message whose id, payload and subject disagree is ignored.
import { FleetInputError } from './errors.js';
import { historyMsgId, hostOfHistorySubject, parseHistoryMsgId } from './subjects.js';

/** What the outbox needs of a job; the rest of the object travels as it is. */
export interface FleetJob {
  id: number;
  state: string;
  method?: string;
  [field: string]: unknown;
}

export interface HistoryRecord {
  v: 1;
  host: string;
  instance: string;
  job: FleetJob;
}

/** Fields dropped, largest first, from a job too large for one message. */
const TRIMMABLE = ['result', 'arguments', 'logs_excerpt', 'exception', 'exc_info', 'progress', 'error', 'description'] as const;

export function checkJob(job: FleetJob): void {
  if (job === null || typeof job !== 'object') throw new FleetInputError('job', 'must be an object');
  if (!Number.isSafeInteger(job.id) || job.id < 0) throw new FleetInputError('job.id', 'must be a non-negative integer');
  if (typeof job.state !== 'string' || !/^[A-Z_]{1,32}$/.test(job.state)) throw new FleetInputError('job.state', 'must be a state name such as RUNNING');
}

/**
 * The message body of `job`, at most `maxBytes` long: a job larger than that loses its bulkiest
 * fields (marked `truncated: true`) rather than its place in the history. Null when even the
 * trimmed job does not fit.
 */
export function encodeRecord(host: string, instance: string, job: FleetJob, maxBytes: number): { msgId: string; body: string } | null {
  checkJob(job);
  const msgId = historyMsgId(host, instance, job.id, job.state);
  let copy: FleetJob = job;
  let body = JSON.stringify({ v: 1, host, instance, job: copy });
  for (const field of TRIMMABLE) {
    if (Buffer.byteLength(body) <= maxBytes) break;
    if (!(field in copy)) continue;
    copy = { ...copy, [field]: null, truncated: true };
    body = JSON.stringify({ v: 1, host, instance, job: copy });
  }
  return Buffer.byteLength(body) <= maxBytes ? { msgId, body } : null;
}

/** A stored history message checked against its subject and id; null when they disagree. */
export function decodeRecord(subject: string, msgId: string | undefined, data: Uint8Array): HistoryRecord | null {
  const host = hostOfHistorySubject(subject);
  const id = msgId === undefined ? null : parseHistoryMsgId(msgId);
  if (host === null || id === null || id.host !== host) return null;
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  const r = v as Record<string, unknown>;
  const job = r.job as FleetJob | undefined;
  if (r.v !== 1 || r.host !== host || r.instance !== id.instance || job === null || typeof job !== 'object' || Array.isArray(job)) return null;
  if (job.id !== id.jobId || job.state !== id.state) return null;
  return { v: 1, host, instance: id.instance, job };
}
