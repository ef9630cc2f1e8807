// Job helpers: start a call that may turn out to be a job (midclt's new-style binding through
// message_ids, PROTOCOL.md 4.3), follow a job by id through core.get_jobs events plus a lookup,
// and survive dropped connections by reconnecting and following the same id again.
import { DEFAULT_TIMEOUT_MS, type Client, type CollectionUpdate } from './client.js';
import { ClientError, ConnectionError, CallTimeoutError, ValidationError, validationItems } from './errors.js';
import { ERRNO } from '../daemon/errors.js';
import type { Session } from './session.js';

export type JobState = 'WAITING' | 'RUNNING' | 'SUCCESS' | 'FAILED' | 'ABORTED';

export interface Job {
  id: number;
  method: string;
  arguments: unknown[];
  message_ids: unknown[];
  description: string | null;
  state: JobState;
  progress: { percent: number | null; description: string | null; extra: unknown };
  result: unknown;
  error: string | null;
  exception: string | null;
  exc_info: { repr?: string; type?: string; errno?: number | null; extra?: unknown } | null;
  logs_path: string | null;
  logs_excerpt: string | null;
  time_started: { $date: number } | null;
  time_finished: { $date: number } | null;
  abortable?: boolean;
  credentials?: { type: string; data?: Record<string, unknown> } | null;
  [k: string]: unknown;
}

export const TERMINAL: ReadonlySet<string> = new Set(['SUCCESS', 'FAILED', 'ABORTED']);

export const JOB_EVENT = 'core.get_jobs';

/** The error a finished, unsuccessful job stands for (PROTOCOL.md 5.1); null on SUCCESS. */
export function jobError(job: Job): ClientError | null {
  if (job.state === 'SUCCESS') return null;
  const info = job.exc_info;
  if (info) {
    if (info.type === 'VALIDATION') {
      const items = validationItems(info.extra);
      if (items) return new ValidationError(items, { reason: job.error ?? undefined });
    }
    const errno = typeof info.errno === 'number' ? info.errno : ERRNO.EFAULT;
    return new ClientError(job.error ?? `Job ${job.id} failed`, {
      errno,
      reason: job.error ?? undefined,
      trace: job.exception ? { class: info.type, formatted: job.exception, repr: info.repr } : null,
      extra: info.extra ?? null,
    });
  }
  if (job.state === 'ABORTED') return new ClientError(job.error ?? `Job ${job.id} was aborted`, { errno: ERRNO.ECANCELED });
  return new ClientError(job.error ?? `Job ${job.id} did not succeed`);
}

const subscribed = new WeakMap<Client, Promise<boolean>>();

/**
 * Make sure `c` receives job events (one core.get_jobs subscription per connection). Resolves
 * false when the connection is not logged in (ENOTAUTHENTICATED is not an error here, as in
 * midclt; the next call tries again).
 */
export function ensureJobEvents(c: Client): Promise<boolean> {
  let p = subscribed.get(c);
  if (!p) {
    p = c.subscribe(JOB_EVENT, () => undefined).then(
      () => true,
      (err: unknown) => {
        subscribed.delete(c);
        if (err instanceof ClientError && err.errno === ERRNO.ENOTAUTHENTICATED) return false;
        throw err;
      },
    );
    subscribed.set(c, p);
  }
  return p;
}

/** One job by id (unredacted result for full admins), or null. */
export async function getJob(c: Client, id: number): Promise<Job | null> {
  const r = await c.call<Job[]>('core.get_jobs', [[['id', '=', id]], { extra: { raw_result: true } }]);
  return Array.isArray(r) && r.length > 0 ? r[0]! : null;
}

export type Started =
  | { kind: 'result'; value: unknown }
  | { kind: 'job'; id: number; job: Job | null };

function jobEventFor(ev: CollectionUpdate, requestId: string): Job | null {
  if (ev.collection !== JOB_EVENT || (ev.msg !== 'added' && ev.msg !== 'changed')) return null;
  const f = ev.fields as Job | undefined;
  return f && Array.isArray(f.message_ids) && f.message_ids.includes(requestId) ? f : null;
}

/**
 * Call `method`. A plain method gives its result. A job method gives its job id as soon as the
 * job exists (new-style: the first core.get_jobs event naming this call; legacy-style: the call's
 * result, when `expectJob`). A call that fails before a job exists rejects.
 */
export async function startCall(c: Client, method: string, params: unknown[], o: { expectJob?: boolean; timeoutMs?: number | null } = {}): Promise<Started> {
  if (!c.newStyleJobs) {
    const value = await c.call(method, params, { timeoutMs: o.timeoutMs });
    if (o.expectJob && typeof value === 'number' && Number.isInteger(value)) return { kind: 'job', id: value, job: null };
    return { kind: 'result', value };
  }
  await ensureJobEvents(c);
  return new Promise<Started>((resolve, reject) => {
    let requestId = '';
    let timer: NodeJS.Timeout | null = null;
    const done = (fn: () => void) => {
      off();
      if (timer) clearTimeout(timer);
      fn();
    };
    const off = c.onEvent((ev) => {
      const job = jobEventFor(ev, requestId);
      if (job) done(() => resolve({ kind: 'job', id: job.id, job }));
    });
    // The response of a new-style job call only comes when the job ends, so the call timeout
    // covers the wait for the job to exist, not its run.
    const sent = c.send(method, params, { timeoutMs: null });
    requestId = sent.id;
    const ms = o.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : o.timeoutMs;
    if (ms !== null) timer = setTimeout(() => done(() => reject(new CallTimeoutError(method, ms))), ms);
    sent.result.then(
      (value) => done(() => resolve({ kind: 'result', value })),
      (err: unknown) => done(() => reject(err)),
    );
  });
}

export interface FollowOptions {
  /** The job as already known (e.g. from startCall). */
  initial?: Job | null;
  /** Every update of the job, starting with what is known at once. */
  onUpdate?: (job: Job) => void;
  /** When it fires, ask the daemon to abort the job (again after a reconnect). */
  abortSignal?: AbortSignal;
  /** The connection dropped; reconnecting starts. */
  onDisconnect?: (err: ConnectionError) => void;
  /** Re-read the job this often while following, in case an event was missed (default 5 s). */
  recheckMs?: number;
  /** When it fires, stop following (no reconnecting once the caller has given up). */
  stopSignal?: AbortSignal;
}

/** Follow one connection until the job ends, or reject when the connection drops. */
function followOnce(c: Client, id: number, o: FollowOptions, state: { job: Job | null }): Promise<Job> {
  return new Promise<Job>((resolve, reject) => {
    let settled = false;
    const cleanups: Array<() => void> = [];
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      for (const f of cleanups) f();
      fn();
    };
    const apply = (job: Job, final: boolean) => {
      state.job = job;
      o.onUpdate?.(job);
      if (final && TERMINAL.has(job.state)) finish(() => resolve(job));
    };
    cleanups.push(c.onEvent((ev) => {
      if (ev.collection !== JOB_EVENT || ev.id !== id || (ev.msg !== 'added' && ev.msg !== 'changed')) return;
      // Only a `changed` event ends the wait (an `added` with a terminal state does not, 10.5).
      apply(ev.fields as Job, ev.msg === 'changed');
    }));
    cleanups.push(c.onClose((err) => finish(() => reject(err))));
    const lookup = async () => {
      const job = await getJob(c, id);
      if (settled) return;
      if (!job) throw new ClientError(`[ENOENT] Job ${id} does not exist`, { errno: ERRNO.ENOENT });
      apply(job, true);
    };
    const abort = () => {
      if (!settled) c.call('core.job_abort', [id]).catch((err: unknown) => finish(() => reject(err)));
    };
    void (async () => {
      // Subscribe first, then look up: an end between the two cannot be missed.
      await ensureJobEvents(c);
      await lookup();
      if (settled) return;
      if (o.abortSignal) {
        if (o.abortSignal.aborted) abort();
        else {
          o.abortSignal.addEventListener('abort', abort, { once: true });
          cleanups.push(() => o.abortSignal!.removeEventListener('abort', abort));
        }
      }
      const t = setInterval(() => lookup().catch((err: unknown) => finish(() => reject(err))), o.recheckMs ?? 5_000);
      cleanups.push(() => clearInterval(t));
    })().catch((err: unknown) => finish(() => reject(err)));
  });
}

/**
 * Follow job `id` to its end and return the finished job. If the connection drops, reconnect
 * through `session` (backoff, login) and follow the same id again; rejects only when the job
 * cannot be read or reconnecting gave up.
 */
export async function followJob(session: Session, id: number, o: FollowOptions = {}): Promise<Job> {
  const state = { job: o.initial ?? null };
  if (state.job) o.onUpdate?.(state.job);
  for (;;) {
    if (o.stopSignal?.aborted) throw new ConnectionError(`Stopped following job ${id}`, false);
    try {
      return await followOnce(session.client, id, o, state);
    } catch (err) {
      if (!(err instanceof ConnectionError) || !err.retryable || o.stopSignal?.aborted) throw err;
      o.onDisconnect?.(err);
      await session.reconnect();
    }
  }
}
