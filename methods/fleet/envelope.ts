// The signed envelope of a fleet request. The body of the NATS message is the call's params as
// JSON, untouched; the envelope travels in the `Midship-Auth` header as base64url JSON:
//   {v: 1, kid, user, roles, ts, nonce, body_sha256, sig}
// `sig` is Ed25519 by the signer `kid` over the canonical bytes
//   JSON.stringify(["midship-fleet-rpc", 1, subject, body_sha256, user, roles, ts, nonce])
// so a request cannot be moved to another host or method (subject), given another body, user or
// roles, or replayed later (ts, nonce) without the signer's key. JSON.stringify of strings,
// numbers and arrays is deterministic, and the leading tag keeps these bytes from meaning anything
// else that this key might sign.
import { createHash, randomBytes, sign } from 'node:crypto';
import { FleetInputError, MalformedRequestError } from './errors.js';
import type { SigningKey } from './keys.js';

export const AUTH_HEADER = 'Midship-Auth';
export const ENVELOPE_VERSION = 1;
const TAG = 'midship-fleet-rpc';

export const USER_MAX = 128;
export const ROLES_MAX = 64;
export const ROLE_RE = /^[A-Z0-9_]{1,64}$/;
export const NONCE_RE = /^[A-Za-z0-9_-]{16,64}$/;
const KID_RE = /^[A-Za-z0-9_-]{43}$/;
const SIG_RE = /^[A-Za-z0-9_-]{86}$/;
const HASH_RE = /^[0-9a-f]{64}$/;
/** An envelope is a few hundred bytes; anything far larger is not one. */
const HEADER_MAX = 8192;

export interface Envelope {
  v: number;
  /** Signer's public key (base64url, 32 bytes). */
  kid: string;
  user: string;
  roles: string[];
  /** Signing time, epoch ms. */
  ts: number;
  nonce: string;
  body_sha256: string;
  /** base64url Ed25519 signature (64 bytes). */
  sig: string;
}

export function bodyHash(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export function canonicalBytes(subject: string, hash: string, user: string, roles: readonly string[], ts: number, nonce: string): Buffer {
  return Buffer.from(JSON.stringify([TAG, ENVELOPE_VERSION, subject, hash, user, roles, ts, nonce]), 'utf8');
}

/** What is wrong with a user and roles, or null. The same checks run when signing and on receipt. */
export function identityProblem(user: unknown, roles: unknown): { field: 'user' | 'roles'; message: string } | null {
  if (typeof user !== 'string' || user.length === 0 || user.length > USER_MAX || /[\x00-\x1f\x7f]/.test(user)) {
    return { field: 'user', message: `must be 1-${USER_MAX} printable characters` };
  }
  if (!Array.isArray(roles) || roles.length > ROLES_MAX || !roles.every((r) => typeof r === 'string' && ROLE_RE.test(r))) {
    return { field: 'roles', message: `must be a list of at most ${ROLES_MAX} role names (A-Z, 0-9, _)` };
  }
  return null;
}

export interface SignRequestInput {
  key: SigningKey;
  subject: string;
  body: Uint8Array;
  user: string;
  roles: readonly string[];
  /** Epoch ms; the signer's clock. */
  now: number;
  /** For tests only; a fresh random nonce otherwise. */
  nonce?: string;
}

/** The `Midship-Auth` header value for a request. */
export function signRequest(input: SignRequestInput): string {
  const problem = identityProblem(input.user, input.roles);
  if (problem) throw new FleetInputError(problem.field, problem.message);
  const { user } = input;
  const roles = [...input.roles];
  const nonce = input.nonce ?? randomBytes(16).toString('base64url');
  const ts = Math.floor(input.now);
  const hash = bodyHash(input.body);
  const sig = sign(null, canonicalBytes(input.subject, hash, user, roles, ts, nonce), input.key.privateKey).toString('base64url');
  const envelope: Envelope = { v: ENVELOPE_VERSION, kid: input.key.keyId, user, roles, ts, nonce, body_sha256: hash, sig };
  return Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url');
}

/** Decodes and shape-checks a header value; throws MalformedRequestError naming what is wrong. */
export function parseEnvelope(header: string | undefined | null): Envelope {
  if (!header) throw new MalformedRequestError(`no ${AUTH_HEADER} header`);
  if (header.length > HEADER_MAX || !/^[A-Za-z0-9_-]+$/.test(header)) throw new MalformedRequestError(`${AUTH_HEADER} is not base64url`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
  } catch {
    throw new MalformedRequestError(`${AUTH_HEADER} is not base64url JSON`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new MalformedRequestError('envelope is not an object');
  const e = v as Record<string, unknown>;
  if (e.v !== ENVELOPE_VERSION) throw new MalformedRequestError(`envelope version must be ${ENVELOPE_VERSION}`);
  if (typeof e.kid !== 'string' || !KID_RE.test(e.kid)) throw new MalformedRequestError('kid must be an Ed25519 public key (43 base64url characters)');
  const problem = identityProblem(e.user, e.roles);
  if (problem) throw new MalformedRequestError(`${problem.field} ${problem.message}`);
  const user = e.user as string;
  const roles = e.roles as string[];
  if (typeof e.ts !== 'number' || !Number.isSafeInteger(e.ts) || e.ts < 0) throw new MalformedRequestError('ts must be epoch milliseconds');
  if (typeof e.nonce !== 'string' || !NONCE_RE.test(e.nonce)) throw new MalformedRequestError('nonce must be 16-64 base64url characters');
  if (typeof e.body_sha256 !== 'string' || !HASH_RE.test(e.body_sha256)) throw new MalformedRequestError('body_sha256 must be 64 lowercase hex digits');
  if (typeof e.sig !== 'string' || !SIG_RE.test(e.sig)) throw new MalformedRequestError('sig must be an Ed25519 signature (86 base64url characters)');
  return { v: e.v, kid: e.kid, user, roles, ts: e.ts, nonce: e.nonce, body_sha256: e.body_sha256, sig: e.sig };
}
