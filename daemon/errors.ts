// Errors are values with a meaning. Handlers throw CallError or ValidationErrors; everything
// else is "unexpected". The mapping to the two wire shapes (JSON-RPC 2.0 and the legacy
// protocol) lives here and nowhere else.

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  EBADMSG: 74,
  EOPNOTSUPP: 95,
  ECONNABORTED: 103,
  ESHUTDOWN: 108,
  ETOOMANYREFS: 109,
  ETIMEDOUT: 110,
  ECANCELED: 125,
  ENOMETHOD: 201,
  ESERVICESTARTFAILURE: 202,
  EALERTCHECKERUNAVAILABLE: 203,
  EREMOTENODEERROR: 204,
  EDATASETISLOCKED: 205,
  EINVALIDRRDTIMESTAMP: 206,
  ENOTAUTHENTICATED: 207,
  ESSLCERTVERIFICATIONERROR: 208,
  EREBOOTREQUIRED: 209,
  EHAUNAVAILABLE: 210,
} as const;

const NAME_BY_ERRNO = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));

export function errname(errno: number): string {
  return NAME_BY_ERRNO.get(errno) ?? 'EUNKNOWN';
}

/** A failure with an errno, e.g. `new CallError('Job with id 9 does not exist', ERRNO.ENOENT)`. */
export class CallError extends Error {
  readonly errno: number;
  readonly extra: unknown;
  readonly errmsg: string;

  constructor(errmsg: string, errno: number = ERRNO.EFAULT, extra: unknown = null) {
    super(`[${errname(errno)}] ${errmsg}`);
    this.name = 'CallError';
    this.errno = errno;
    this.errmsg = errmsg;
    this.extra = extra;
  }
}

/** One bad input: attribute path (dotted; '' is the whole call; null for "not found" lookups). */
export type ValidationEntry = [attribute: string | null, message: string, errno: number];

export class ValidationErrors extends Error {
  readonly errors: ValidationEntry[];

  constructor(errors: ValidationEntry[] = []) {
    super('');
    this.name = 'ValidationErrors';
    this.errors = errors;
    this.message = this.reason();
  }

  add(attribute: string | null, message: string, errno: number = ERRNO.EINVAL): this {
    this.errors.push([attribute, message, errno]);
    this.message = this.reason();
    return this;
  }

  /** Prefix every attribute, e.g. when a nested validator is run on one argument. */
  prefixed(prefix: string): ValidationErrors {
    return new ValidationErrors(
      this.errors.map(([a, m, e]) => [a === null || a === '' ? prefix : `${prefix}.${a}`, m, e]),
    );
  }

  get length(): number {
    return this.errors.length;
  }

  throwIfAny(): void {
    if (this.errors.length > 0) throw this;
  }

  reason(): string {
    return this.errors.map(([a, m, e]) => `[${errname(e)}] ${a === null ? 'None' : a}: ${m}\n`).join('');
  }
}

/** "instance not found" lookups are single validation errors with errno ENOENT and attribute null. */
export function notFound(message: string): ValidationErrors {
  return new ValidationErrors([[null, message, ERRNO.ENOENT]]);
}

/** Thrown by a job handler (or core.job_wait) to end its job ABORTED rather than FAILED. */
export class JobAborted extends Error {
  constructor(message = 'Job aborted') {
    super(message);
    this.name = 'JobAborted';
  }
}

/** The abort reason of the jobs a stopping daemon ends: they are recorded as interrupted. */
export class DaemonStopping extends JobAborted {
  constructor() {
    super('The daemon is stopping');
    this.name = 'DaemonStopping';
  }
}

/**
 * Thrown by a job handler that gave up because the daemon stops (e.g. a cron run whose process it
 * terminated): the job is recorded FAILED as interrupted, like the jobs the stop itself ends.
 */
export class JobInterrupted extends CallError {
  constructor() {
    super('Interrupted: the daemon stopped while this job was running', ERRNO.EINTR);
  }
}

/** Raised by `get: true` when nothing matched; surfaces as -32001 / EINVAL with trace class `MatchNotFound`. */
export class MatchNotFound extends Error {
  constructor() {
    super('MatchNotFound()');
    this.name = 'MatchNotFound';
  }
}

/** A `~` filter pattern that cannot be run (query/regex.ts); reported as a filters validation error. */
export class RegexError extends Error {}

/** A refusal to start: what is wrong with the data dir or its database, and what the operator can do about it. */
export class DataDirError extends Error {
  constructor(readonly problem: string, readonly hint: string) {
    super(`${problem}\n  ${hint}`);
    this.name = 'DataDirError';
  }
}

/** A bad flag or environment variable of midshipd (its message is the whole answer, usage included). */
export class ConfigError extends Error {}

/** What a SCRAM client sees when the server misbehaves (never sent on the wire). */
export class ScramClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramClientError';
  }
}

/** Protocol-level failures that carry their own JSON-RPC code and no `data`. */
export class ProtocolError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export const RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  TOO_MANY_CONCURRENT_CALLS: -32000,
  CALL_ERROR: -32001,
} as const;

export interface ErrorTrace {
  class: string;
  formatted: string;
  repr: string;
}

export interface ErrorData {
  error: number;
  errname: string;
  reason: string;
  trace: ErrorTrace | null;
  extra: unknown;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: ErrorData;
}

function traceOf(cls: string, reason: string, repr: string): ErrorTrace {
  // The client prints `formatted` after the reason. Server-side stacks stay in the daemon log:
  // they mean nothing to a caller and may reveal paths.
  return { class: cls, formatted: `${cls}: ${reason.trimEnd()}\n`, repr };
}

function jsonString(s: string): string {
  return JSON.stringify(s);
}

/** The error-data object of PROTOCOL.md 3.2 for any thrown value. */
export function errorData(err: unknown): ErrorData {
  if (err instanceof ValidationErrors) {
    const reason = err.reason();
    return {
      error: ERRNO.EINVAL,
      errname: 'EINVAL',
      reason,
      trace: traceOf('ValidationErrors', reason, `ValidationErrors(${jsonString(reason)})`),
      extra: err.errors.map(([a, m, e]) => [a, m, e]),
    };
  }
  if (err instanceof CallError) {
    return {
      error: err.errno,
      errname: errname(err.errno),
      reason: err.message,
      trace: traceOf('CallError', err.message, `CallError(${jsonString(err.errmsg)}, ${err.errno}, None)`),
      extra: err.extra ?? null,
    };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  const reason = e.message || e.name || String(err);
  const cls = e.constructor?.name || 'Error';
  return {
    error: ERRNO.EINVAL,
    errname: 'EINVAL',
    reason,
    trace: traceOf(cls, reason, `${cls}(${jsonString(reason)})`),
    extra: null,
  };
}

/** Map any thrown value to the JSON-RPC 2.0 error member (PROTOCOL.md section 3). */
export function toJsonRpcError(err: unknown): JsonRpcErrorObject {
  if (err instanceof ProtocolError) return { code: err.code, message: err.message };
  if (err instanceof ValidationErrors) {
    return { code: RPC.INVALID_PARAMS, message: 'Invalid params', data: errorData(err) };
  }
  return { code: RPC.CALL_ERROR, message: 'Method call error', data: errorData(err) };
}

export interface LegacyErrorObject extends ErrorData {
  type: 'VALIDATION' | null;
}

/** The legacy `/websocket` error object (PROTOCOL.md 9.2). */
export function toLegacyError(err: unknown): LegacyErrorObject {
  if (err instanceof ProtocolError) {
    const errno = err.code === RPC.TOO_MANY_CONCURRENT_CALLS ? ERRNO.ETOOMANYREFS : ERRNO.EINVAL;
    return { error: errno, errname: errname(errno), type: null, reason: err.message, trace: null, extra: null };
  }
  const data = errorData(err);
  if (err instanceof ValidationErrors) {
    // A collection uses EAGAIN; a single error keeps its own errno (the client only looks at type).
    const errno = err.errors.length === 1 ? err.errors[0]![2] : ERRNO.EAGAIN;
    return { ...data, error: errno, errname: errname(errno), type: 'VALIDATION' };
  }
  return { ...data, type: null };
}

/** True for errors a handler raised on purpose (no stack needed in the log). */
export function isExpected(err: unknown): boolean {
  return err instanceof CallError || err instanceof ValidationErrors || err instanceof ProtocolError;
}
