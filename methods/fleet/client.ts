// The fleet as a signer sees it (what `midclt --fleet URL --fleet-creds signer.key` will use):
// the presence table, signed calls to any host, the fleet's jobs from the history stream, and one
// job followed through it. A one-shot client: it connects once (failing fast when the server is
// not there) instead of waiting forever like a host does.
import { connect, errors, headers, RequestError, type NatsConnection } from '@nats-io/transport-node';
import type { JsMsg } from '@nats-io/jetstream';
import { jetstreamManager } from '@nats-io/jetstream';
import { AUTH_HEADER, signRequest } from './envelope.js';
import { FleetInputError } from './errors.js';
import { decodeRecord, type FleetJob } from './history-record.js';
import { loadSignerFile, type SignerFile, type SigningKey } from './keys.js';
import { hostPresence, parsePresence, type HostPresence } from './presence.js';
import type { FleetErrorObject } from './rpc-responder.js';
import { followStream, readStream } from './stream-reader.js';
import { DEFAULT_HISTORY_LIMITS, historyStreamConfig, presenceStreamConfig, provisionStream, type HistoryLimits } from './streams.js';
import {
  checkHostId, HISTORY_STREAM, HISTORY_SUBJECTS, historySubject, PRESENCE_BUCKET, PRESENCE_STREAM, rpcSubject, SIGNER_INBOX_PREFIX,
} from './subjects.js';
import { nkeyAuthenticator } from '@nats-io/transport-node';

export const TERMINAL_STATES: ReadonlySet<string> = new Set(['SUCCESS', 'FAILED', 'ABORTED']);

/** The host answered with an error object (PROTOCOL.md 3): the call ran there, or was refused. */
export class FleetCallError extends Error {
  constructor(readonly host: string, readonly error: FleetErrorObject) {
    const data = error.data as { reason?: unknown } | undefined;
    super(typeof data?.reason === 'string' ? data.reason : error.message);
    this.name = 'FleetCallError';
  }
}

/** No responder for the host: it is not connected (or does not exist). */
export class HostUnreachableError extends Error {
  constructor(readonly host: string) {
    super(`host ${host} is not connected to the fleet`);
    this.name = 'HostUnreachableError';
  }
}

export class FleetTimeoutError extends Error {
  constructor(readonly host: string, ms: number) {
    super(`host ${host} did not answer within ${ms} ms`);
    this.name = 'FleetTimeoutError';
  }
}

/** One job as the fleet knows it: its newest record in the history stream. */
export interface FleetJobEntry {
  host: string;
  instance: string;
  job: FleetJob;
  /** Stream sequence and server time (ms) of that record. */
  seq: number;
  at: number;
}

export interface FleetClientOptions {
  servers: string | string[];
  signer: SignerFile;
  name?: string;
  connectTimeoutMs?: number;
  /** Default timeout of call(). */
  callTimeoutMs?: number;
  now?: () => number;
}

export interface JobsQuery {
  host?: string;
  state?: string;
  /** Messages read at most (the stream can be large); `truncated` says when more were there. */
  maxMessages?: number;
}

export class FleetClient {
  private readonly encoder = new TextEncoder();
  private readonly now: () => number;

  private constructor(readonly nc: NatsConnection, private readonly key: SigningKey, private readonly o: FleetClientOptions) {
    this.now = o.now ?? Date.now;
  }

  static async connect(o: FleetClientOptions): Promise<FleetClient> {
    const nc = await connect({
      servers: o.servers,
      authenticator: nkeyAuthenticator(new TextEncoder().encode(o.signer.natsSeed)),
      inboxPrefix: SIGNER_INBOX_PREFIX,
      name: o.name ?? 'midship fleet client',
      timeout: o.connectTimeoutMs ?? 5000,
      maxReconnectAttempts: 3,
      noAsyncTraces: true,
    });
    return new FleetClient(nc, o.signer.signingKey, o);
  }

  /** Connects with the signer key file (mode 0600) midclt is given. */
  static async fromFile(servers: string | string[], signerKeyPath: string, extra: Partial<FleetClientOptions> = {}): Promise<FleetClient> {
    return FleetClient.connect({ ...extra, servers, signer: await loadSignerFile(signerKeyPath) });
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }

  /** Creates the fleet's streams, or updates their limits to `limits`. */
  async provision(limits: HistoryLimits = DEFAULT_HISTORY_LIMITS): Promise<void> {
    const jsm = await jetstreamManager(this.nc, { checkAPI: false });
    await provisionStream(jsm, presenceStreamConfig(limits.replicas));
    await provisionStream(jsm, historyStreamConfig(limits));
  }

  /** Every host that ever beat, with online / offline / stopped as of now, sorted by id. */
  async hosts(): Promise<HostPresence[]> {
    const out: HostPresence[] = [];
    const now = this.now();
    const prefix = `$KV.${PRESENCE_BUCKET}.`;
    await readStream(this.nc, { stream: PRESENCE_STREAM, filter: `${prefix}>`, start: { lastPerSubject: true }, max: 100_000 }, (m) => {
      if (m.headers?.get('KV-Operation')) return; // a delete or purge marker
      const host = m.subject.slice(prefix.length);
      let raw: unknown;
      try {
        raw = m.json();
      } catch {
        return;
      }
      const value = parsePresence(host, raw);
      if (value) out.push(hostPresence(value, Math.floor(m.info.timestampNanos / 1e6), now));
    });
    return out.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  }

  /**
   * Calls `method` on `host` as `user` with `roles` (the host caps them by its own policy).
   * Resolves with the result; rejects with FleetCallError (the host's error object),
   * HostUnreachableError or FleetTimeoutError.
   */
  async call(host: string, method: string, params: unknown[], user: string, roles: readonly string[], opts: { timeoutMs?: number } = {}): Promise<unknown> {
    if (!Array.isArray(params)) throw new FleetInputError('params', 'must be a list');
    const subject = rpcSubject(host, method);
    const body = this.encoder.encode(JSON.stringify(params));
    const h = headers();
    h.set(AUTH_HEADER, signRequest({ key: this.key, subject, body, user, roles, now: this.now() }));
    const timeout = opts.timeoutMs ?? this.o.callTimeoutMs ?? 30_000;
    let reply;
    try {
      reply = await this.nc.request(subject, body, { headers: h, timeout });
    } catch (e) {
      if (e instanceof errors.NoRespondersError || (e instanceof RequestError && e.isNoResponders())) throw new HostUnreachableError(host);
      if (e instanceof errors.TimeoutError || (e instanceof RequestError && e.cause instanceof errors.TimeoutError)) throw new FleetTimeoutError(host, timeout);
      throw e;
    }
    const r = reply.json<{ result?: unknown; error?: FleetErrorObject }>();
    if (r !== null && typeof r === 'object' && r.error !== undefined) throw new FleetCallError(host, r.error);
    if (r === null || typeof r !== 'object' || !('result' in r)) throw new Error(`host ${host} sent a reply that is neither a result nor an error`);
    return r.result;
  }

  /**
   * The fleet's jobs from the history stream: each message counted once (by message id), each
   * job once with its newest state, optionally only `host`'s and only in `state`.
   */
  async jobs(q: JobsQuery = {}): Promise<{ jobs: FleetJobEntry[]; truncated: boolean }> {
    if (q.host !== undefined) checkHostId(q.host, 'host');
    const seen = new Set<string>();
    const latest = new Map<string, FleetJobEntry>();
    const filter = q.host === undefined ? HISTORY_SUBJECTS : historySubject(q.host);
    const { truncated } = await readStream(this.nc, { stream: HISTORY_STREAM, filter, start: { all: true }, max: q.maxMessages ?? 500_000 }, (m) => {
      const entry = this.entryOf(m);
      if (entry === null) return;
      const msgId = m.headers?.get('Nats-Msg-Id') ?? '';
      if (seen.has(msgId)) return;
      seen.add(msgId);
      latest.set(`${entry.host}:${entry.instance}:${entry.job.id}`, entry);
    });
    let jobs = [...latest.values()];
    if (q.state !== undefined) jobs = jobs.filter((e) => e.job.state === q.state);
    return { jobs: jobs.sort((a, b) => a.seq - b.seq), truncated };
  }

  /**
   * Follows job `jobId` of `host` through the history from `since` (default: a minute ago), calling
   * `each` with every new state, until it ends (resolves with its last record) or `signal` aborts
   * (resolves null).
   */
  async follow(host: string, jobId: number, opts: { since?: Date; signal?: AbortSignal; each?: (e: FleetJobEntry) => void } = {}): Promise<FleetJobEntry | null> {
    checkHostId(host, 'host');
    const since = opts.since ?? new Date(this.now() - 60_000);
    let last: FleetJobEntry | null = null;
    const states = new Set<string>();
    await followStream(this.nc, { stream: HISTORY_STREAM, filter: historySubject(host), start: { time: since } }, (m) => {
      const entry = this.entryOf(m);
      if (entry === null || entry.job.id !== jobId || states.has(entry.job.state)) return false;
      states.add(entry.job.state);
      last = entry;
      opts.each?.(entry);
      return TERMINAL_STATES.has(entry.job.state);
    }, opts.signal);
    return last !== null && TERMINAL_STATES.has((last as FleetJobEntry).job.state) ? last : null;
  }

  private entryOf(m: JsMsg): FleetJobEntry | null {
    const rec = decodeRecord(m.subject, m.headers?.get('Nats-Msg-Id'), m.data);
    if (rec === null) return null;
    return { host: rec.host, instance: rec.instance, job: rec.job, seq: m.seq, at: Math.floor(m.info.timestampNanos / 1e6) };
  }
}
