// Errors of the fleet layer as values with a meaning. This folder does not import the engine, so
// the daemon integration maps them to CallError/ValidationErrors (the field names are the
// attribute paths the caller used; the refusal reasons are stable strings for logs and audits).

/** Bad input handed to a fleet function: names the offending field. */
export class FleetInputError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'FleetInputError';
    this.field = field;
  }
}

export type RefusalReason = 'malformed' | 'unknown_signer' | 'stale' | 'tampered' | 'replayed' | 'busy';

/** A signed request the host will not run. `reason` says which check refused it. */
export abstract class RequestRefusedError extends Error {
  abstract readonly reason: RefusalReason;
}

/** The envelope is missing, not parseable, or a field has the wrong shape. */
export class MalformedRequestError extends RequestRefusedError {
  readonly reason = 'malformed';
  constructor(detail: string) {
    super(`malformed fleet request: ${detail}`);
    this.name = 'MalformedRequestError';
  }
}

/** Signed by a key this host does not trust. */
export class UnknownSignerError extends RequestRefusedError {
  readonly reason = 'unknown_signer';
  constructor(readonly signer: string) {
    super(`fleet request signed by an untrusted key (${signer.slice(0, 12)}…)`);
    this.name = 'UnknownSignerError';
  }
}

/** The timestamp is outside the validity window (either way: a clock far ahead is refused too). */
export class StaleRequestError extends RequestRefusedError {
  readonly reason = 'stale';
  constructor(readonly skewMs: number, windowMs: number) {
    super(`fleet request timestamp is ${Math.round(skewMs / 1000)} s from this host's clock (window ${windowMs / 1000} s)`);
    this.name = 'StaleRequestError';
  }
}

/** The signature does not cover what arrived: body, subject, user, roles or time were changed. */
export class TamperedRequestError extends RequestRefusedError {
  readonly reason = 'tampered';
  constructor(detail: string) {
    super(`fleet request does not match its signature: ${detail}`);
    this.name = 'TamperedRequestError';
  }
}

/** The nonce was seen inside the validity window. */
export class ReplayedRequestError extends RequestRefusedError {
  readonly reason = 'replayed';
  constructor() {
    super('fleet request nonce was already used (replay refused)');
    this.name = 'ReplayedRequestError';
  }
}

/**
 * The replay cache is full of nonces that are all still inside the window. Refusing is the safe
 * choice: forgetting a live nonce would let that request be replayed.
 */
export class ReplayCacheFullError extends RequestRefusedError {
  readonly reason = 'busy';
  constructor(capacity: number) {
    super(`too many fleet requests inside the validity window (replay cache holds ${capacity}); retry shortly`);
    this.name = 'ReplayCacheFullError';
  }
}
