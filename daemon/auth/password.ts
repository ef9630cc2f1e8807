// Password hashing for local accounts: scrypt (node:crypto, run on the libuv thread pool so the
// event loop never blocks), a random 16-byte salt per hash, and every parameter stored in the
// result so old hashes keep verifying after the defaults change:
//
//   scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>
//
// verifyPassword() compares with crypto.timingSafeEqual. dummyVerify() does the same work against
// a fixed hash so that "no such user" costs as much time as "wrong password".

import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { SALT_BYTES, saltLengthOk } from './salt.js';

export interface ScryptParams {
  /** CPU/memory cost, a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
  /** Length of the derived hash in bytes. */
  keylen: number;
}

/** N=2^15, r=8, p=3 is one of OWASP's equivalent minimum scrypt settings (32 MiB, a few hundred
 * milliseconds on one core; node runs the p lanes one after another on a thread-pool thread).
 * Stored hashes carry their own parameters, so raising these later only affects new hashes. */
const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 1 << 15, r: 8, p: 3, keylen: 64 });

const PREFIX = 'scrypt';

// Bounds applied to parameters read back from a stored string, so a corrupted or hostile value
// cannot make a login allocate gigabytes or spin for minutes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEM_BYTES = 256 * 1024 * 1024;
const MIN_KEYLEN = 16;
const MAX_KEYLEN = 128;

function scryptAsync(password: Buffer, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    // scrypt needs about 128 * N * r bytes; node's default limit (32 MiB) is exactly 2^15 x 8, so
    // allow twice that plus headroom.
    maxmem: Math.min(MAX_MEM_BYTES, 2 * 128 * params.N * params.r + 1024 * 1024),
  };
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, params.keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 1 && (n & (n - 1)) === 0;
}

function validParams(params: ScryptParams): boolean {
  return (
    isPowerOfTwo(params.N) && params.N <= MAX_N &&
    Number.isSafeInteger(params.r) && params.r >= 1 && params.r <= MAX_R &&
    // OpenSSL also requires N < 2^(16 r); without this check r=1 with N >= 2^16 passes here but
    // makes scrypt() fail at verification time.
    (16 * params.r >= 53 || params.N < 2 ** (16 * params.r)) &&
    Number.isSafeInteger(params.p) && params.p >= 1 && params.p <= MAX_P &&
    2 * 128 * params.N * params.r + 1024 * 1024 <= MAX_MEM_BYTES &&
    Number.isSafeInteger(params.keylen) && params.keylen >= MIN_KEYLEN && params.keylen <= MAX_KEYLEN
  );
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INT_RE = /^[1-9][0-9]{0,9}$/;

function decodeB64(s: string): Buffer | null {
  if (s.length === 0 || !B64_RE.test(s)) return null;
  return Buffer.from(s, 'base64');
}

interface ParsedHash { params: ScryptParams; salt: Buffer; hash: Buffer }

/** Parse `scrypt$N$r$p$salt$hash`; null when malformed or outside the accepted bounds. */
function parseStored(stored: string): ParsedHash | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return null;
  const [, nS, rS, pS, saltS, hashS] = parts as [string, string, string, string, string, string];
  if (!INT_RE.test(nS) || !INT_RE.test(rS) || !INT_RE.test(pS)) return null;
  const salt = decodeB64(saltS);
  const hash = decodeB64(hashS);
  if (!salt || !hash) return null;
  if (!saltLengthOk(salt)) return null;
  const params: ScryptParams = { N: Number(nS), r: Number(rS), p: Number(pS), keylen: hash.length };
  if (!validParams(params)) return null;
  return { params, salt, hash };
}

/** True when `stored` is a well-formed hash produced by hashPassword(). */
export function isPasswordHash(stored: string): boolean {
  return parseStored(stored) !== null;
}

/**
 * Hash a password. `params` exists for tests and future tuning; production callers use the
 * defaults. The password is hashed as its UTF-8 bytes, without normalization.
 */
export async function hashPassword(password: string, params: Partial<ScryptParams> = {}): Promise<string> {
  const full: ScryptParams = { ...DEFAULT_SCRYPT_PARAMS, ...params };
  if (!validParams(full)) throw new RangeError('invalid scrypt parameters');
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(Buffer.from(password, 'utf8'), salt, full);
  return [PREFIX, full.N, full.r, full.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/**
 * Check `password` against a string produced by hashPassword(). A malformed or out-of-bounds
 * stored string never matches (and still costs a dummy verification, so it is not observable).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  // The typeof checks guard against a null/undefined reaching here from an untyped record.
  const parsed = typeof stored === 'string' ? parseStored(stored) : null;
  if (!parsed || typeof password !== 'string') {
    await dummyVerify();
    return false;
  }
  let candidate: Buffer;
  try {
    candidate = await scryptAsync(Buffer.from(password, 'utf8'), parsed.salt, parsed.params);
  } catch {
    // Parameters passed our bounds but the library still refused them (e.g. out of memory):
    // a stored string we cannot verify never matches, and a login must not turn into an error.
    return false;
  }
  // Lengths are equal by construction (keylen is taken from the stored hash).
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

let dummyHash: Promise<ParsedHash> | null = null;

function getDummyHash(): Promise<ParsedHash> {
  if (!dummyHash) {
    dummyHash = hashPassword(randomBytes(24).toString('base64')).then((s) => {
      const parsed = parseStored(s);
      if (!parsed) throw new Error('internal: dummy hash did not parse');
      return parsed;
    });
    // Do not keep a rejected promise around forever.
    dummyHash.catch(() => { dummyHash = null; });
  }
  return dummyHash;
}

/**
 * Spend the same effort as verifyPassword() with the default parameters, against a fixed hash
 * (made once per process from a random secret), and discard the outcome. Call it when the user
 * does not exist so that an unknown user and a wrong password take the same time. Call it once at
 * start-up to pay for making the fixed hash before the first login.
 */
export async function dummyVerify(): Promise<void> {
  const parsed = await getDummyHash();
  const candidate = await scryptAsync(randomBytes(16), parsed.salt, parsed.params);
  timingSafeEqual(candidate, parsed.hash);
}
