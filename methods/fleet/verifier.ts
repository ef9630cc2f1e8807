// Checks a signed fleet request against the keys this host trusts. The order is chosen so that
// nothing an outsider sends changes state: shape, signer, time window and signature come first,
// and only a request that passed them all may spend its nonce in the replay cache (otherwise
// anyone could burn a signer's future nonces or fill the cache).
import { timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { StaleRequestError, TamperedRequestError, UnknownSignerError } from './errors.js';
import { bodyHash, canonicalBytes, parseEnvelope } from './envelope.js';
import { ReplayCache } from './replay-cache.js';

export const DEFAULT_WINDOW_MS = 60_000;

export interface VerifiedRequest {
  /** The signer's public key id. */
  signer: string;
  user: string;
  roles: string[];
  ts: number;
  nonce: string;
}

export interface VerifierOptions {
  /** Trusted signers by key id (parseTrustedKeys). */
  trusted: ReadonlyMap<string, KeyObject>;
  /** How far a timestamp may be from this host's clock, either way. */
  windowMs?: number;
  replayCapacity?: number;
  now?: () => number;
}

export class RequestVerifier {
  readonly windowMs: number;
  private readonly trusted: ReadonlyMap<string, KeyObject>;
  private readonly replay: ReplayCache;
  private readonly now: () => number;

  constructor(o: VerifierOptions) {
    if (o.trusted.size === 0) throw new RangeError('a verifier needs at least one trusted signer key');
    this.trusted = o.trusted;
    this.windowMs = o.windowMs ?? DEFAULT_WINDOW_MS;
    this.replay = new ReplayCache(o.replayCapacity);
    this.now = o.now ?? Date.now;
  }

  /** Nonces currently remembered. */
  get remembered(): number {
    return this.replay.size;
  }

  /**
   * Verifies the request that arrived on `subject` with `body` and the `Midship-Auth` header
   * value; throws a RequestRefusedError subclass saying why it is refused.
   */
  verify(subject: string, body: Uint8Array, header: string | undefined | null): VerifiedRequest {
    const e = parseEnvelope(header);
    const key = this.trusted.get(e.kid);
    if (key === undefined) throw new UnknownSignerError(e.kid);
    const now = this.now();
    if (Math.abs(now - e.ts) > this.windowMs) throw new StaleRequestError(now - e.ts, this.windowMs);
    const signed = canonicalBytes(subject, e.body_sha256, e.user, e.roles, e.ts, e.nonce);
    if (!verify(null, signed, key, Buffer.from(e.sig, 'base64url'))) {
      throw new TamperedRequestError('the signature does not cover this subject, user, roles, time or nonce');
    }
    if (!timingSafeEqual(Buffer.from(bodyHash(body), 'hex'), Buffer.from(e.body_sha256, 'hex'))) {
      throw new TamperedRequestError('the body does not match its signed hash');
    }
    // Scoped by signer: two signers may pick the same nonce without refusing each other.
    this.replay.use(`${e.kid}:${e.nonce}`, e.ts + this.windowMs, now);
    return { signer: e.kid, user: e.user, roles: e.roles, ts: e.ts, nonce: e.nonce };
  }
}
