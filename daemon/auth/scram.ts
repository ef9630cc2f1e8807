// SCRAM-SHA-512 for API keys (RFC 5802 mechanics, RFC 7677 style, with SHA-512 as TrueNAS does).
//
// The server keeps only "material" per key: salt, iteration count, StoredKey and ServerKey. The
// secret itself is never stored, and neither is SaltedPassword (whoever holds SaltedPassword can
// log in without knowing the secret).
//
//   SaltedPassword  = PBKDF2-HMAC-SHA512(secret, salt, iterations)
//   ClientKey       = HMAC(SaltedPassword, "Client Key")
//   StoredKey       = SHA512(ClientKey)
//   ServerKey       = HMAC(SaltedPassword, "Server Key")
//   AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
//   ClientSignature = HMAC(StoredKey, AuthMessage)
//   ClientProof     = ClientKey XOR ClientSignature
//   ServerSignature = HMAC(ServerKey, AuthMessage)
//
// The SCRAM "password" is the part of the API key after "<id>-", matching midclt. The username
// field carries "<username>:<key id>" so the server can pick one of a user's several keys.
// Usernames are compared as given: SASLprep is not applied (API-key secrets are ASCII
// alphanumerics, for which SASLprep is the identity).
//
// Channel binding is refused: Midship speaks plain ws:// and unix sockets, so there is no TLS
// channel to bind to.

import { createHash, createHmac, pbkdf2 as pbkdf2Cb, randomBytes, timingSafeEqual } from 'node:crypto';
import { CallError, ERRNO, ScramClientError, ValidationErrors } from '../errors.js';
import { SALT_BYTES, saltLengthOk } from './salt.js';

/** TrueNAS' own default for API keys. PBKDF2-HMAC-SHA512 at 500k rounds costs a few hundred
 * milliseconds per login on one core, which is tolerable for a key login and keeps offline
 * guessing of a leaked StoredKey expensive (OWASP's 2023 floor for PBKDF2-SHA512 is 210k). The
 * real secrets are 64 random alphanumerics, so this is defence in depth, not the main barrier. */
export const SCRAM_DEFAULT_ITERATIONS = 500_000;
/** RFC 5802 / RFC 7677 floor; tests use it to stay fast. Clients refuse anything lower. */
const SCRAM_MIN_ITERATIONS = 4096;
/** Upper bound for stored material and for what a client agrees to compute (same as TrueNAS),
 * so a corrupt record or a hostile server cannot make one login burn minutes of CPU. */
const SCRAM_MAX_ITERATIONS = 5_000_000;

/** Attribute named in validation errors about SCRAM messages. */
export const RFC_STR_ATTRIBUTE = 'login_data.rfc_str';

const KEY_BYTES = 64; // SHA-512 output
const NONCE_BYTES = 32;
const MAX_MESSAGE_CHARS = 4096;
const MAX_USERNAME_CHARS = 256;
const MAX_NONCE_CHARS = 256;

/** What the server stores per API key (all binary values base64). */
export interface ScramMaterial {
  iterations: number;
  salt: string;
  stored_key: string;
  server_key: string;
}

interface DecodedMaterial {
  iterations: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

// ---------------------------------------------------------------------------------------------
// Primitives

function pbkdf2Async(secret: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2Cb(Buffer.from(secret, 'utf8'), salt, iterations, KEY_BYTES, 'sha512', (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function hmac(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha512', key).update(data).digest();
}

function sha512(data: Buffer): Buffer {
  return createHash('sha512').update(data).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (node's decoder silently skips junk, which would hide tampering). */
function decodeB64(s: string): Buffer | null {
  if (s.length === 0 || !B64_RE.test(s)) return null;
  return Buffer.from(s, 'base64');
}

function validIterations(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= SCRAM_MIN_ITERATIONS && n <= SCRAM_MAX_ITERATIONS;
}

function decodeMaterial(m: unknown): DecodedMaterial | null {
  if (typeof m !== 'object' || m === null) return null;
  const r = m as Record<string, unknown>;
  if (!validIterations(r.iterations)) return null;
  if (typeof r.salt !== 'string' || typeof r.stored_key !== 'string' || typeof r.server_key !== 'string') return null;
  const salt = decodeB64(r.salt);
  const storedKey = decodeB64(r.stored_key);
  const serverKey = decodeB64(r.server_key);
  if (!salt || !storedKey || !serverKey) return null;
  if (!saltLengthOk(salt)) return null;
  if (storedKey.length !== KEY_BYTES || serverKey.length !== KEY_BYTES) return null;
  return { iterations: r.iterations, salt, storedKey, serverKey };
}

/** True when `m` is well-formed material within the accepted bounds. */
export function isScramMaterial(m: unknown): m is ScramMaterial {
  return decodeMaterial(m) !== null;
}

// ---------------------------------------------------------------------------------------------
// Material

/**
 * Derive the stored material for an API-key secret. `salt` exists for known-answer tests only;
 * production callers let it default to 16 random bytes.
 */
export async function deriveScramMaterial(
  secret: string,
  iterations: number = SCRAM_DEFAULT_ITERATIONS,
  salt: Buffer = randomBytes(SALT_BYTES),
): Promise<ScramMaterial> {
  if (typeof secret !== 'string' || secret.length === 0) throw new RangeError('SCRAM secret must be a non-empty string');
  if (!validIterations(iterations)) {
    throw new RangeError(`SCRAM iterations must be an integer in [${SCRAM_MIN_ITERATIONS}, ${SCRAM_MAX_ITERATIONS}]`);
  }
  if (!saltLengthOk(salt)) throw new RangeError('SCRAM salt length out of range');
  const salted = await pbkdf2Async(secret, salt, iterations);
  return {
    iterations,
    salt: salt.toString('base64'),
    stored_key: sha512(hmac(salted, 'Client Key')).toString('base64'),
    server_key: hmac(salted, 'Server Key').toString('base64'),
  };
}

// Per-process key for decoy salts: stable within a run, so probing the same unknown user twice
// shows the same salt (as a real key would), but unrelated to anything stored.
const DECOY_KEY = randomBytes(32);

/**
 * Plausible material for a user/key that does not exist (or whose record is corrupt), so a SCRAM
 * exchange or a plain check runs to the end, costs the same and fails without revealing which
 * part was wrong (RFC 5802 section 9). StoredKey/ServerKey are random: no proof can match.
 */
export function decoyMaterial(username: string, keyId: number, iterations: number = SCRAM_DEFAULT_ITERATIONS): ScramMaterial {
  const salt = hmac(DECOY_KEY, `salt\0${username}\0${keyId}`).subarray(0, SALT_BYTES);
  return {
    iterations: validIterations(iterations) ? iterations : SCRAM_DEFAULT_ITERATIONS,
    salt: salt.toString('base64'),
    stored_key: randomBytes(KEY_BYTES).toString('base64'),
    server_key: randomBytes(KEY_BYTES).toString('base64'),
  };
}

/**
 * API_KEY_PLAIN check: recompute StoredKey from `secret` and compare timing-safe. Malformed or
 * out-of-bounds material never matches and never throws; it still costs one default derivation so
 * it is not distinguishable by time. For "no such key", pass decoyMaterial().
 */
export async function verifyPlainSecret(secret: string, material: ScramMaterial): Promise<boolean> {
  const m = decodeMaterial(material);
  if (!m || typeof secret !== 'string') {
    await pbkdf2Async(randomBytes(16).toString('hex'), randomBytes(SALT_BYTES), SCRAM_DEFAULT_ITERATIONS);
    return false;
  }
  const salted = await pbkdf2Async(secret, m.salt, m.iterations);
  return timingSafeEqual(sha512(hmac(salted, 'Client Key')), m.storedKey);
}

/** Split `"<id>-<secret>"` (PROTOCOL.md 8.4); null when it is not shaped like an API key. */
export function splitApiKey(apiKey: string): { keyId: number; secret: string } | null {
  const match = typeof apiKey === 'string' ? /^([0-9]{1,10})-([A-Za-z0-9]+)$/.exec(apiKey) : null;
  if (!match) return null;
  const keyId = Number(match[1]);
  return Number.isSafeInteger(keyId) ? { keyId, secret: match[2]! } : null;
}

// ---------------------------------------------------------------------------------------------
// Message parsing

/** The parts of a client-first message the server needs. */
export interface ClientFirst {
  username: string;
  keyId: number;
  clientNonce: string;
  /** client-first-message-bare, verbatim: part of AuthMessage. */
  clientFirstBare: string;
  /** "n,," or "y,,", verbatim: echoed base64-encoded in the client-final `c=`. */
  gs2Header: string;
}

function invalid(attribute: string, message: string, errno: number = ERRNO.EINVAL): never {
  throw new ValidationErrors().add(attribute, message, errno);
}

// printable ASCII except ',' (RFC 5802 "printable")
const NONCE_RE = /^[\x21-\x2b\x2d-\x7e]+$/;

function checkMessage(rfcStr: unknown, attribute: string): string {
  if (typeof rfcStr !== 'string') invalid(attribute, 'SCRAM message must be a string');
  if (rfcStr.length === 0) invalid(attribute, 'SCRAM message is empty');
  if (rfcStr.length > MAX_MESSAGE_CHARS) invalid(attribute, `SCRAM message longer than ${MAX_MESSAGE_CHARS} characters`);
  return rfcStr;
}

function channelBindingRefused(attribute: string): never {
  invalid(
    attribute,
    'SCRAM channel binding (p=...) is not supported: this server is reached over plain ws:// or a unix ' +
      'socket, so there is no TLS channel to bind to; retry without channel binding ("n,," header)',
    ERRNO.EOPNOTSUPP,
  );
}

/** RFC 5802 saslname: "=2C" is ',', "=3D" is '='; any other '=' is malformed. */
function unescapeSaslName(s: string, attribute: string): string {
  if (/=(?!2C|3D)/.test(s)) invalid(attribute, 'SCRAM username contains an invalid "=" escape');
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function escapeSaslName(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/**
 * Parse a CLIENT_FIRST_MESSAGE `rfc_str` such as `n,,n=admin:7,r=<nonce>`. Throws ValidationErrors
 * naming `attribute` when it is malformed or asks for something this server does not do.
 */
export function parseClientFirst(rfcStr: string, attribute: string = RFC_STR_ATTRIBUTE): ClientFirst {
  const msg = checkMessage(rfcStr, attribute);
  const first = msg.indexOf(',');
  const second = first < 0 ? -1 : msg.indexOf(',', first + 1);
  if (second < 0) invalid(attribute, 'SCRAM client-first message lacks the GS2 header (expected "n,,n=<user>:<key id>,r=<nonce>")');
  const cbFlag = msg.slice(0, first);
  const authzid = msg.slice(first + 1, second);
  if (cbFlag.startsWith('p=')) channelBindingRefused(attribute);
  // "y" means "client supports channel binding but thinks the server does not": correct here.
  if (cbFlag !== 'n' && cbFlag !== 'y') invalid(attribute, `SCRAM GS2 channel-binding flag must be "n" or "y", not ${JSON.stringify(cbFlag)}`);
  if (authzid !== '') invalid(attribute, 'SCRAM authorization identity (a=...) is not supported');

  const gs2Header = msg.slice(0, second + 1);
  const bare = msg.slice(second + 1);
  const attrs = bare.split(',');
  if (attrs[0]?.startsWith('m=')) invalid(attribute, 'SCRAM mandatory extensions (m=...) are not supported');
  const nAttr = attrs[0] ?? '';
  const rAttr = attrs[1] ?? '';
  if (!nAttr.startsWith('n=')) invalid(attribute, 'SCRAM client-first message must continue with n=<user>:<key id>');
  if (!rAttr.startsWith('r=')) invalid(attribute, 'SCRAM client-first message must have r=<nonce> after the username');
  // Further attributes are optional extensions; they stay in clientFirstBare and are ignored.

  const saslName = nAttr.slice(2);
  const colon = saslName.lastIndexOf(':');
  if (colon < 0) invalid(attribute, 'SCRAM username must be "<username>:<api key id>"');
  const keyIdStr = saslName.slice(colon + 1);
  if (!/^[0-9]{1,10}$/.test(keyIdStr)) invalid(attribute, 'SCRAM API key id must be a decimal number');
  const username = unescapeSaslName(saslName.slice(0, colon), attribute);
  if (username.length === 0) invalid(attribute, 'SCRAM username is empty');
  if (username.length > MAX_USERNAME_CHARS) invalid(attribute, `SCRAM username longer than ${MAX_USERNAME_CHARS} characters`);

  const clientNonce = rAttr.slice(2);
  if (!NONCE_RE.test(clientNonce)) invalid(attribute, 'SCRAM client nonce must be non-empty printable ASCII without ","');
  if (clientNonce.length > MAX_NONCE_CHARS) invalid(attribute, `SCRAM client nonce longer than ${MAX_NONCE_CHARS} characters`);

  return { username, keyId: Number(keyIdStr), clientNonce, clientFirstBare: bare, gs2Header };
}

// ---------------------------------------------------------------------------------------------
// Server side

/** The bytes of a TrueNAS-style nonce (base64 of exactly NONCE_BYTES bytes), else null. */
function truenasNonceBytes(nonce: string): Buffer | null {
  const bytes = decodeB64(nonce);
  return bytes !== null && bytes.length === NONCE_BYTES && bytes.toString('base64') === nonce ? bytes : null;
}

/**
 * The real TrueNAS client sends 32 random bytes in base64 and reads the combined nonce as base64
 * of its bytes followed by the server's (it re-encodes what it decoded, so a string concatenation
 * with padding in the middle comes back different). Other clients get RFC 5802's concatenation.
 */
function combineNonces(clientNonce: string, serverNonce: string): string {
  const client = truenasNonceBytes(clientNonce);
  const server = client === null ? null : truenasNonceBytes(serverNonce);
  return client !== null && server !== null ? Buffer.concat([client, server]).toString('base64') : clientNonce + serverNonce;
}

/** Whether the server's nonce extends ours, either way combineNonces() may have built it. */
function extendsNonce(nonce: string, clientNonce: string): boolean {
  if (nonce.startsWith(clientNonce) && nonce.length > clientNonce.length) return true;
  const client = truenasNonceBytes(clientNonce);
  const combined = client === null ? null : decodeB64(nonce);
  return client !== null && combined !== null && combined.length > client.length && combined.subarray(0, client.length).equals(client);
}

/**
 * One server-side exchange. Construct it from the parsed client-first message and the key's
 * material (or decoyMaterial() for an unknown user/key), send `serverFirst`, then call finish()
 * exactly once with the client-final message.
 */
export class ScramExchange {
  readonly serverFirst: string;
  readonly combinedNonce: string;
  private readonly clientFirst: ClientFirst;
  private readonly material: DecodedMaterial;
  private finished = false;

  /** `serverNonce` exists for known-answer tests; production lets it default to 32 random bytes. */
  constructor(clientFirst: ClientFirst, material: ScramMaterial, serverNonce?: string) {
    this.clientFirst = clientFirst;
    // Corrupt material behaves like an unknown key: the exchange proceeds and fails at finish().
    this.material =
      decodeMaterial(material) ?? (decodeMaterial(decoyMaterial(clientFirst.username, clientFirst.keyId)) as DecodedMaterial);
    const nonce = serverNonce ?? randomBytes(NONCE_BYTES).toString('base64');
    if (!NONCE_RE.test(nonce)) throw new RangeError('SCRAM server nonce must be printable ASCII without ","');
    this.combinedNonce = combineNonces(clientFirst.clientNonce, nonce);
    this.serverFirst = `r=${this.combinedNonce},s=${this.material.salt.toString('base64')},i=${this.material.iterations}`;
  }

  /**
   * Check the client-final message. Returns the server-final message (`v=<signature>`) when the
   * proof is right and null when it is wrong; throws ValidationErrors naming `attribute` when the
   * message is malformed, does not echo the GS2 header, or carries another nonce. An exchange can
   * be finished once: a second attempt is a CallError (no retrying proofs on one nonce).
   */
  finish(clientFinal: string, attribute: string = RFC_STR_ATTRIBUTE): string | null {
    if (this.finished) throw new CallError('SCRAM exchange already completed; start a new one', ERRNO.EINVAL);
    this.finished = true;
    const msg = checkMessage(clientFinal, attribute);

    const proofAt = msg.lastIndexOf(',p=');
    if (proofAt < 0) invalid(attribute, 'SCRAM client-final message lacks the proof (p=...)');
    const withoutProof = msg.slice(0, proofAt);
    const proof = decodeB64(msg.slice(proofAt + 3));
    if (!proof || proof.length !== KEY_BYTES) invalid(attribute, `SCRAM proof must be base64 of ${KEY_BYTES} bytes`);

    const attrs = withoutProof.split(',');
    const cAttr = attrs[0] ?? '';
    const rAttr = attrs[1] ?? '';
    if (!cAttr.startsWith('c=')) invalid(attribute, 'SCRAM client-final message must start with c=<channel binding>');
    if (!rAttr.startsWith('r=')) invalid(attribute, 'SCRAM client-final message must have r=<nonce> after c=');
    const cb = decodeB64(cAttr.slice(2));
    if (!cb) invalid(attribute, 'SCRAM channel-binding attribute c= is not valid base64');
    if (cb.toString('latin1').startsWith('p=')) channelBindingRefused(attribute);
    if (!cb.equals(Buffer.from(this.clientFirst.gs2Header, 'utf8'))) {
      invalid(attribute, 'SCRAM channel-binding attribute c= does not match the GS2 header of the first message');
    }
    if (rAttr.slice(2) !== this.combinedNonce) invalid(attribute, 'SCRAM nonce does not match the one of this exchange');

    const authMessage = `${this.clientFirst.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientKey = xor(proof, hmac(this.material.storedKey, authMessage));
    if (!timingSafeEqual(sha512(clientKey), this.material.storedKey)) return null;
    return `v=${hmac(this.material.serverKey, authMessage).toString('base64')}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Client side (Midship's CLI and the tests)

export interface ScramClientOptions {
  /** Fixed client nonce, for known-answer tests; defaults to 32 random bytes, base64. */
  clientNonce?: string;
  /** Refuse servers asking for more PBKDF2 rounds than this (default SCRAM_MAX_ITERATIONS). */
  maxIterations?: number;
}

export interface ScramClient {
  /** The CLIENT_FIRST_MESSAGE rfc_str. */
  readonly clientFirst: string;
  /** Given the SERVER_FIRST_RESPONSE rfc_str, the CLIENT_FINAL_MESSAGE rfc_str. */
  clientFinal(serverFirst: string): Promise<string>;
  /** True when the SERVER_FINAL_RESPONSE proves the server holds this key's ServerKey. */
  verifyServerFinal(serverFinal: string): boolean;
}


/**
 * Client side of the exchange for `<username>:<keyId>` with `secret` (the API key without its
 * "<id>-" prefix). Never uses channel binding.
 */
export function scramClient(username: string, keyId: number, secret: string, options: ScramClientOptions = {}): ScramClient {
  if (!Number.isSafeInteger(keyId) || keyId < 0) throw new RangeError('API key id must be a non-negative integer');
  const maxIterations = options.maxIterations ?? SCRAM_MAX_ITERATIONS;
  const clientNonce = options.clientNonce ?? randomBytes(NONCE_BYTES).toString('base64');
  if (!NONCE_RE.test(clientNonce)) throw new RangeError('SCRAM client nonce must be printable ASCII without ","');
  const gs2Header = 'n,,';
  const clientFirstBare = `n=${escapeSaslName(username)}:${keyId},r=${clientNonce}`;
  let expectedServerSignature: Buffer | null = null;

  return {
    clientFirst: gs2Header + clientFirstBare,

    async clientFinal(serverFirst: string): Promise<string> {
      if (typeof serverFirst !== 'string' || serverFirst.length > MAX_MESSAGE_CHARS) {
        throw new ScramClientError('SCRAM server-first message is not a reasonable string');
      }
      if (serverFirst.startsWith('e=')) throw new ScramClientError(`SCRAM server error: ${serverFirst.slice(2)}`);
      const attrs = serverFirst.split(',');
      const [rAttr = '', sAttr = '', iAttr = ''] = attrs;
      if (!rAttr.startsWith('r=') || !sAttr.startsWith('s=') || !iAttr.startsWith('i=')) {
        throw new ScramClientError('SCRAM server-first message must be r=...,s=...,i=...');
      }
      const nonce = rAttr.slice(2);
      // The server must extend our nonce, not replace it (else it could replay an old exchange).
      if (!extendsNonce(nonce, clientNonce) || !NONCE_RE.test(nonce)) {
        throw new ScramClientError('SCRAM server nonce does not extend the client nonce');
      }
      const salt = decodeB64(sAttr.slice(2));
      if (!salt) throw new ScramClientError('SCRAM server salt is not valid base64');
      const iterStr = iAttr.slice(2);
      const iterations = /^[0-9]{1,10}$/.test(iterStr) ? Number(iterStr) : NaN;
      if (!(iterations >= SCRAM_MIN_ITERATIONS && iterations <= maxIterations)) {
        throw new ScramClientError(`SCRAM server asked for ${iterStr} iterations, outside [${SCRAM_MIN_ITERATIONS}, ${maxIterations}]`);
      }

      const salted = await pbkdf2Async(secret, salt, iterations);
      const clientKey = hmac(salted, 'Client Key');
      const storedKey = sha512(clientKey);
      const withoutProof = `c=${Buffer.from(gs2Header, 'utf8').toString('base64')},r=${nonce}`;
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
      const proof = xor(clientKey, hmac(storedKey, authMessage));
      expectedServerSignature = hmac(hmac(salted, 'Server Key'), authMessage);
      return `${withoutProof},p=${proof.toString('base64')}`;
    },

    verifyServerFinal(serverFinal: string): boolean {
      if (!expectedServerSignature) throw new ScramClientError('SCRAM server-final checked before the client-final was made');
      if (typeof serverFinal !== 'string') return false;
      if (serverFinal.startsWith('e=')) throw new ScramClientError(`SCRAM server error: ${serverFinal.slice(2)}`);
      const sig = serverFinal.startsWith('v=') ? decodeB64(serverFinal.slice(2)) : null;
      return sig !== null && sig.length === expectedServerSignature.length && timingSafeEqual(sig, expectedServerSignature);
    },
  };
}
