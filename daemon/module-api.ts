// The one door into the engine for method modules: everything a module may use, and nothing
// more. Modules import it as `#midship/module-api` (package.json "imports"), never an engine file
// by path; tests/module-door.test.ts enforces that. docs/modules.md shows a whole module.
//
// A module is a factory: the daemon calls it once with the App below and registers the methods,
// services and events it returns, then calls start(); stop() runs when the daemon stops, before
// the database closes. The services are interfaces: what a module may ask of the engine, not
// the classes behind them.
import type { PassThrough } from 'node:stream';
import type { Credentials } from './auth/credentials.js';
import type { ApiKeyRecord, KeyChange } from './auth/apikeys.js';
import type { LoginResult } from './auth/service.js';
import type { SessionEntry } from './auth/sessions.js';
import type { NewUser, UserChange, UserRecord } from './auth/users.js';
import type { Config } from './config.js';
import type { EventMsg, Visibility } from './events.js';
import type { JobHandle } from './jobs/handle.js';
import type { JobRecord } from './jobs/types.js';
import type { Logger } from './log.js';
import type { CallContext, ConnectionInfo, RegisteredMethod, ServiceDef } from './registry.js';
import type { Sublevel } from './storage.js';
import type { QueryOptionsT } from '../schemas/query.js';

// ---- defining methods, services and events ----

export { method, mayCall } from './registry.js';
export type {
  CallContext, ConnectionInfo, ConnectionOptions, EventDef, JobOptions, MethodDef, ModuleDef, ModuleFactory,
  RegisteredMethod, ServiceDef, SourceContext,
} from './registry.js';
export { arg, type ArgSpec } from './schema.js';
/** Schemas are TypeBox objects: one declaration is both the JSON Schema ajv checks and the TypeScript type. */
export { Type, type Static, type TSchema } from '@sinclair/typebox';

// ---- errors (daemon/errors.ts maps them to the wire) ----

export { CallError, ERRNO, JobAborted, JobInterrupted, ValidationErrors, notFound, type ValidationEntry } from './errors.js';
/** The JSON-RPC error object a thrown value is answered with, for a module answering over another transport (the fleet). */
export { toJsonRpcError, type JsonRpcErrorObject } from './errors.js';

// ---- `*.query` methods and the query language (PROTOCOL.md 7) ----

export { applyQuery, compileFilters, queryMethod, type Filter } from './query/index.js';
export type { QueryFiltersT, QueryOptionsT } from '../schemas/query.js';

// ---- jobs, events, storage, concurrency ----

export type { JobEnd, JobHandle } from './jobs/handle.js';
export type { JobRecord, JobState } from './jobs/types.js';
export type { EventMsg, Visibility } from './events.js';
export type { Sublevel } from './storage.js';
export { Slots } from './slots.js';
export type { Logger } from './log.js';

// ---- credentials and accounts ----

export { hasAnyRole, isFullAdmin, type CredentialType, type Credentials } from './auth/credentials.js';
export { checkKnownRoles, checkMayGrant, checkMayManage, checkUserUpdate, isSelf, mayHandleKeysOf } from './auth/privilege.js';
export { expandRoles, hasWebUiAccess, roleGranted, ROLE_NAMES } from './auth/roles.js';
export { checkNoControlChars } from './auth/names.js';
export { HOST_USER_ID_BASE, publicUser, type NewUser, type PublicUser, type UserChange, type UserRecord } from './auth/users.js';
export { isExpired, publicKey, type ApiKeyRecord, type KeyChange, type PublicApiKey } from './auth/apikeys.js';
export { SESSIONS_EVENT, type SessionEntry } from './auth/sessions.js';
export type { LoginResult } from './auth/service.js';
export { REDACTED } from './redact.js';

// ---- the services a module is handed ----

/** What a module is made with. */
export interface App {
  readonly config: Readonly<Config>;
  /** This daemon start's id, as GET /api/boot_id answers it (a new one at every start). */
  readonly bootId: string;
  readonly log: Logger;
  readonly registry: MethodCatalog;
  readonly events: Events;
  readonly jobs: Jobs;
  readonly auth: Accounts;
  readonly downloads: Downloads;
  /** A JSON-valued sublevel of the daemon's database, e.g. `app.sublevel('cronjob')`: the module's own key space. */
  sublevel<V = unknown>(name: string): Sublevel<V>;
  /** Call a method from inside the daemon. Job methods resolve with the job's result. */
  call(name: string, args: unknown[], options?: InternalCallOptions): Promise<unknown>;
}

export interface InternalCallOptions {
  /** Whose authority the call runs with; default: the daemon itself (full admin). */
  credentials?: Credentials | null;
  /** The job the call is made from (core.bulk's calls): its child jobs point to it. */
  parentJob?: JobHandle | null;
  /** Check roles as for a client call (core.bulk does, on behalf of its caller). */
  authorize?: boolean;
  /** Told the job id when the method is a job (core.bulk reports it). */
  onJob?: (jobId: number) => void;
  /** The client connection the call is made for (its calls are audited, as core.bulk's are). */
  connection?: ConnectionInfo | null;
}

/** The methods and services every module registered (core.get_methods, core.bulk). */
export interface MethodCatalog {
  get(name: string): RegisteredMethod | undefined;
  readonly methods: ReadonlyMap<string, RegisteredMethod>;
  readonly services: ReadonlyMap<string, ServiceDef>;
  /** Every role a registered method or event names, vocabulary or a module's own area. */
  readonly declaredRoles: ReadonlySet<string>;
  /** core.get_methods metadata for one method (PROTOCOL.md 6.10). */
  describe(m: RegisteredMethod): Record<string, unknown>;
}

/** Events to subscribers (PROTOCOL.md 4.3): a module declares its events in ModuleDef.events. */
export interface Events {
  /**
   * Send a plain event to its subscribers. `visible` narrows the audience by the receiver's
   * credentials; a `coalesceKey` lets a slow connection keep only the latest unsent frame of it.
   */
  emit(name: string, msg: EventMsg, id: unknown, fields?: unknown, options?: { extra?: Record<string, unknown>; visible?: Visibility; coalesceKey?: string | null }): void;
  /** Whether anyone would receive an event of this name (lets producers skip building it). */
  hasListeners(name: string): boolean;
  /** core.subscribe: subscribe a connection; returns the subscription id. */
  subscribe(connectionId: string, name: string): string;
  /** core.unsubscribe: end a subscription (unknown ids are ignored). */
  unsubscribe(connectionId: string, subscriptionId: string): void;
}

/** The job engine: the durable history, and the jobs running now. */
export interface Jobs {
  /** core.get_jobs: the query language over the whole history, as `credentials` may see it (`raw`: results unredacted). */
  query(filters: unknown[], options: QueryOptionsT, credentials: Credentials | null, raw: boolean): Promise<unknown>;
  /** Job `id` for `credentials` (its owner, a full admin or its method's read roles), else the error of PROTOCOL.md 5.9. */
  read(id: number, credentials: Credentials | null): Promise<JobRecord>;
  /** Job `id` whoever asks, or undefined. */
  getRecord(id: number): Promise<JobRecord | undefined>;
  /** core.job_abort on behalf of `credentials`. */
  abort(id: number, credentials: Credentials | null): Promise<void>;
  /** A user was deleted or locked: abort its waiting and running jobs; returns how many. */
  abortOwnedBy(user: { id: number; created_at: number }, reason: string): number;
  /** core.job_wait: mirror job `id`'s progress on `waiter` until it ends; resolves with its result or throws its error. */
  wait(id: number, waiter: JobHandle, credentials: Credentials | null): Promise<unknown>;
  /** core.job_logs: job `id`'s log so far, then each appended chunk, until it ends or `signal` aborts. */
  followLog(id: number, credentials: Credentials | null, onData: (text: string) => void, signal: AbortSignal): Promise<void>;
  /** Start a job of `m` with validated `args` (core.download, with its output pipe). */
  submit(m: RegisteredMethod, args: unknown[], ctx: CallContext, options?: { output?: PassThrough | null }): Promise<{ readonly id: number }>;
  /** The stable identity that owns the jobs `credentials` start (a user re-created under the same id is another owner). */
  ownerOf(credentials: Credentials | null): string | null;
  /** The job running under `lock`, else the first one waiting for it; null when the lock is free. */
  lockHolder(lock: string): number | null;
  /** Jobs the previous run left waiting or running, stored as FAILED (interrupted) at this start. */
  readonly interrupted: readonly JobRecord[];
  /** Stored jobs, oldest first (reverse: newest first), of the given methods and states. */
  history(options?: { methods?: string[]; states?: string[]; reverse?: boolean }): AsyncIterable<JobRecord>;
  /**
   * Writes that must be durable exactly when a job is: `fn`'s ops go into the batch that stores
   * each job as it is added and as it ends (jobs found interrupted at start included, so register
   * it in the module's factory, not in start()). It is called while the batch is built: it must
   * not wait or throw, and must not change the record. `committed` is called after each batch
   * holding some of its ops was written (cheaper than watching every write of the database).
   */
  addToJobBatch(fn: (job: JobRecord, change: 'added' | 'ended') => readonly JobBatchOp[], committed?: () => void): void;
}

/** A write added to a job's batch: a put or del in a sublevel of the daemon's database (App.sublevel or a child of one). */
export type JobBatchOp =
  | { type: 'put'; sublevel: Sublevel<string>; key: string; value: string }
  | { type: 'put'; sublevel: Sublevel; key: string; value: unknown }
  | { type: 'del'; sublevel: Sublevel<string> | Sublevel; key: string };

/** Local accounts (user.*), their API keys (api_key.*), logins and sessions (auth.*). */
export interface Accounts {
  readonly users: Users;
  readonly keys: ApiKeys;
  loginPassword(conn: ConnectionInfo, username: string, password: string): Promise<LoginResult>;
  /** API_KEY_PLAIN; `username` null: taken from the key. */
  loginApiKey(conn: ConnectionInfo, username: string | null, apiKey: string): Promise<LoginResult>;
  loginToken(conn: ConnectionInfo, token: string): Promise<LoginResult>;
  /** SCRAM step 1: the server-first message. */
  scramStart(conn: ConnectionInfo, rfcStr: string): string;
  /** SCRAM step 2: the server-final message on success. */
  scramFinish(conn: ConnectionInfo, rfcStr: string): Promise<{ result: LoginResult; serverFinal: string | null }>;
  /** Forget a half-done SCRAM exchange (another mechanism was started). */
  abandonScram(conn: ConnectionInfo): void;
  generateToken(conn: ConnectionInfo | null, credentials: Credentials, ttlSeconds: number, attrs: Record<string, unknown>, matchOrigin: boolean, singleUse: boolean): Promise<string>;
  /** auth.logout: the session ends but the socket stays; its tokens are revoked. */
  logout(conn: ConnectionInfo): Promise<void>;
  /** auth.sessions: the caller's own sessions, or every one for AUTH_SESSIONS_READ. */
  listSessions(caller: Credentials, currentId: string | null): SessionEntry[];
  terminateSession(caller: Credentials, id: string): Promise<boolean>;
  terminateOtherSessions(caller: Credentials, currentId: string | null): Promise<number>;
  /** Close every session whose credentials match (a revoked key, a deleted or locked user); returns how many. */
  endSessions(match: (c: Credentials) => boolean, reason: string): number;
  /** New roles of a user apply to its open sessions. */
  refreshRoles(user: UserRecord): void;
  /** A key's expiry changed: its sessions end when it does. */
  refreshKeyExpiry(keyId: number): void;
  /** A user was deleted or its password changed: its tokens stop working. */
  revokeUserTokens(userId: number): Promise<void>;
  /** An API key was deleted or reset: the tokens its sessions made stop working. */
  revokeKeyTokens(keyId: number): Promise<void>;
}

/** Local users, written through to the database (password hashes never leave it but to verify a login). */
export interface Users {
  get(id: number): UserRecord | undefined;
  byName(username: string): UserRecord | undefined;
  all(): UserRecord[];
  /** Checks the name (pattern, reserved, taken); `attr` prefixes the attributes of its errors. */
  create(data: NewUser, attr: string): Promise<UserRecord>;
  update(id: number, data: UserChange, attr?: string): Promise<UserRecord>;
  delete(id: number): Promise<UserRecord>;
}

/** API keys: only SCRAM material derived from the secret is stored. */
export interface ApiKeys {
  get(id: number): ApiKeyRecord | undefined;
  all(): ApiKeyRecord[];
  /** The record and the key string ("<id>-<secret>"), which is shown once and never stored. */
  create(name: string, username: string, expiresAt: number | null): Promise<{ record: ApiKeyRecord; key: string }>;
  /** `key` is the new key string after a reset, else null. */
  update(id: number, change: KeyChange): Promise<{ record: ApiKeyRecord; key: string | null }>;
  delete(id: number): Promise<ApiKeyRecord>;
  deleteForUser(username: string): Promise<ApiKeyRecord[]>;
}

/** Single-use download URLs for a job's output (core.download) or log (core.job_download_logs). */
export interface Downloads {
  /**
   * The pipe a downloadable job writes into, to hand to Jobs.submit; attach() it to the job's id.
   * Unbuffered: it feeds the download itself; buffered: it is spooled to a file first.
   */
  createOutput(buffered: boolean): { stream: PassThrough; attach(jobId: number): void };
  /** A single-use token for job `jobId`'s output or log; returns the URL path. */
  issue(jobId: number, filename: string, origin: string | null, kind: 'output' | 'logs'): string;
  /** A token for a log file; buffered: a copy taken now is what the download returns. */
  issueLogs(jobId: number, logsPath: string, filename: string, origin: string | null, buffered: boolean): Promise<string>;
}
