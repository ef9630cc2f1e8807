// Typed errors of the client library. A server error keeps every field the wire carried
// (PROTOCOL.md 3.2) so callers and the CLI can print it the way midclt does.
import { ERRNO, RPC, errname } from '../daemon/errors.js';

export interface ErrorTrace {
  class?: string;
  formatted?: string;
  repr?: string;
}

export interface ErrorFields {
  /** JSON-RPC code (-32xxx); null for client-side errors and legacy-protocol errors. */
  code?: number | null;
  errno?: number;
  errname?: string;
  reason?: string;
  extra?: unknown;
  trace?: ErrorTrace | null;
}

/** A failed call: the server's error, or a client-side one (timeout, lost connection). */
export class ClientError extends Error {
  readonly code: number | null;
  readonly errno: number;
  readonly errname: string;
  readonly reason: string;
  readonly extra: unknown;
  readonly trace: ErrorTrace | null;

  constructor(message: string, f: ErrorFields = {}) {
    super(message);
    this.name = 'ClientError';
    this.code = f.code ?? null;
    this.errno = f.errno ?? ERRNO.EFAULT;
    this.errname = f.errname ?? errname(this.errno);
    this.reason = f.reason ?? message;
    this.extra = f.extra ?? null;
    this.trace = f.trace ?? null;
  }
}

export interface ValidationItem {
  attribute: string | null;
  message: string;
  errno: number;
}

/** One or more bad inputs (-32602, a job failed with exc_info.type VALIDATION, legacy VALIDATION). */
export class ValidationError extends ClientError {
  readonly errors: ValidationItem[];

  constructor(errors: ValidationItem[], f: ErrorFields = {}) {
    const lines = errors.map(validationLine);
    super(lines.join('\n'), { errno: ERRNO.EINVAL, ...f, reason: f.reason ?? lines.map((l) => `${l}\n`).join('') });
    this.name = 'ValidationError';
    this.errors = errors;
  }
}

/** `[ERRNAME] attribute: message`, with `ALL` for an empty or null attribute (as midclt prints it). */
export function validationLine(e: ValidationItem): string {
  return `[${errname(e.errno)}] ${e.attribute ? e.attribute : 'ALL'}: ${e.message}`;
}

/** The connection could not be made, or dropped; `retryable` when trying again may help. */
export class ConnectionError extends ClientError {
  constructor(message: string, readonly retryable: boolean, readonly underlying?: unknown) {
    super(message, { errno: ERRNO.ECONNABORTED });
    this.name = 'ConnectionError';
  }
}

/** No answer within the call timeout. */
export class CallTimeoutError extends ClientError {
  constructor(method: string, ms: number) {
    super(`Call timeout: ${method} did not answer within ${ms / 1000} s`, { errno: ERRNO.ETIMEDOUT });
    this.name = 'CallTimeoutError';
  }
}

/** A login was refused (AUTH_ERR, EXPIRED, DENIED, ...). */
export class LoginError extends ClientError {
  constructor(message: string) {
    super(message, { errno: ERRNO.EACCES });
    this.name = 'LoginError';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validation items from an `extra` list of [attribute, message, errno] triples, or null. */
export function validationItems(extra: unknown): ValidationItem[] | null {
  if (!Array.isArray(extra) || extra.length === 0) return null;
  const out: ValidationItem[] = [];
  for (const t of extra) {
    if (!Array.isArray(t) || t.length < 2) return null;
    const [attribute, message, errno] = t as unknown[];
    out.push({
      attribute: typeof attribute === 'string' ? attribute : null,
      message: String(message),
      errno: typeof errno === 'number' ? errno : ERRNO.EINVAL,
    });
  }
  return out;
}

/** A JSON-RPC error object (code, message, data) as a typed error. */
export function fromJsonRpcError(err: unknown): ClientError {
  if (!isRecord(err)) return new ClientError(`Malformed error from the server: ${JSON.stringify(err)}`);
  const code = typeof err.code === 'number' ? err.code : null;
  const message = typeof err.message === 'string' ? err.message : 'Unknown error';
  const data = isRecord(err.data) ? err.data : null;
  if (data === null) return new ClientError(message, { code, reason: message, errno: code === RPC.METHOD_NOT_FOUND ? ERRNO.ENOMETHOD : ERRNO.EFAULT, extra: null });
  return fromErrorData(data, code, message);
}

/** The error-data object (PROTOCOL.md 3.2) or a legacy error object (9.2). */
export function fromErrorData(data: Record<string, unknown>, code: number | null = null, message?: string, validationByExtra = false): ClientError {
  const errno = typeof data.error === 'number' ? data.error : ERRNO.EFAULT;
  const f: ErrorFields = {
    code,
    errno,
    errname: typeof data.errname === 'string' ? data.errname : errname(errno),
    reason: typeof data.reason === 'string' ? data.reason : (message ?? 'Unknown error'),
    extra: data.extra ?? null,
    trace: isRecord(data.trace) ? (data.trace as ErrorTrace) : null,
  };
  // notify_unsubscribed errors carry no code: there a list of triples in `extra` is the sign.
  const isValidation = code === RPC.INVALID_PARAMS || data.type === 'VALIDATION' || validationByExtra;
  const items = isValidation ? validationItems(data.extra) : null;
  if (items) return new ValidationError(items, f);
  return new ClientError(f.reason!.trimEnd(), f);
}
