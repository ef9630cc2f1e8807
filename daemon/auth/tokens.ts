// Auth tokens (auth.generate_token): kept in memory and in level under the SHA-256 of the token,
// never the token itself, so they survive restarts but a copy of the database logs no one in.
//
// Indexed three ways so that no call scans every token: by hash (login), by owner (the per-user
// cap) and by the session that generated it (revoked when that session is logged out or
// terminated). Each user may hold `perUser` live tokens with at most `attrsBytes` of attributes:
// a user cannot fill the daemon's memory, or its database and restart time, with tokens.
import { createHash } from 'node:crypto';
import type { Sublevel } from '../storage.js';
import { CallError, ERRNO } from '../errors.js';
import type { Logger } from '../log.js';
import { Slots } from '../slots.js';
import type { Credentials } from './credentials.js';

export interface TokenRecord {
  credentials: Credentials;
  expires: number;
  ttlMs: number;
  origin: string | null;
  singleUse: boolean;
  attrs: Record<string, unknown>;
  /** When the stored expiry was last written (refreshes are persisted at most once a minute). */
  storedAt: number;
  /** The session (connection id) that generated it; null for internal callers. */
  sessionId?: string | null;
}

export interface TokenLimits {
  perUser: number;
  attrsBytes: number;
}

export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Whose token it is: a local user by id, else the credential type and name (root on the unix socket). */
function tokenOwner(c: Credentials): string {
  return c.userId !== null ? `user:${c.userId}` : `${c.type}:${c.username}`;
}

const REFRESH_STORE_MS = 60_000;

function addTo(index: Map<string, Set<string>>, k: string, v: string): void {
  let s = index.get(k);
  if (!s) index.set(k, (s = new Set()));
  s.add(v);
}

function removeFrom(index: Map<string, Set<string>>, k: string, v: string): void {
  const s = index.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) index.delete(k);
}

export class TokenStore {
  readonly #byKey = new Map<string, TokenRecord>();
  /** Owner -> keys, including tokens being stored (so concurrent creates respect the cap). */
  readonly #byOwner = new Map<string, Set<string>>();
  readonly #bySession = new Map<string, Set<string>>();
  // Writes land in the order they were issued (level does not promise that for separate calls),
  // so a refresh racing a revocation cannot bring a revoked token back after a restart.
  readonly #writes = new Slots(1);

  constructor(
    private readonly db: Sublevel<TokenRecord>,
    private readonly limits: TokenLimits,
    private readonly log: Logger,
  ) {}

  /** Load live tokens; drop the dead. */
  async open(): Promise<void> {
    const now = Date.now();
    for await (const [key, t] of this.db.iterator()) {
      if (t.expires < now) await this.db.del(key);
      else this.index(key, t);
    }
  }

  get size(): number {
    return this.#byKey.size;
  }

  private index(key: string, t: TokenRecord): void {
    this.#byKey.set(key, t);
    addTo(this.#byOwner, tokenOwner(t.credentials), key);
    if (t.sessionId) addTo(this.#bySession, t.sessionId, key);
  }

  private unindex(key: string, t: TokenRecord): void {
    this.#byKey.delete(key);
    removeFrom(this.#byOwner, tokenOwner(t.credentials), key);
    if (t.sessionId) removeFrom(this.#bySession, t.sessionId, key);
  }

  /** A live token by its hash (an expired one is dropped). */
  get(key: string): TokenRecord | undefined {
    const t = this.#byKey.get(key);
    if (t && t.expires < Date.now()) {
      this.forget([key]);
      return undefined;
    }
    return t;
  }

  /** Store a new token; EBUSY when its owner already holds the most it may. */
  async add(key: string, t: TokenRecord): Promise<void> {
    const owner = tokenOwner(t.credentials);
    if ((this.#byOwner.get(owner)?.size ?? 0) >= this.limits.perUser) this.forget(this.expiredOf(owner));
    if ((this.#byOwner.get(owner)?.size ?? 0) >= this.limits.perUser) {
      throw new CallError(`${t.credentials.username} already holds ${this.limits.perUser} live tokens, the most a user may hold: let some expire, or end the sessions that made them (auth.terminate_session)`, ERRNO.EBUSY);
    }
    // The slot is taken before the write so concurrent calls cannot pass the cap together; the
    // token itself is usable only once it is stored.
    addTo(this.#byOwner, owner, key);
    try {
      await this.write(() => this.db.put(key, t));
    } catch (err) {
      removeFrom(this.#byOwner, owner, key);
      throw err;
    }
    this.index(key, t);
  }

  /**
   * Revoke tokens: they stop working at once (before this returns); the promise settles when the
   * database has forgotten them too, so a restart cannot bring them back.
   */
  revoke(keys: Iterable<string>): Promise<void> {
    const gone: string[] = [];
    for (const k of keys) {
      const t = this.#byKey.get(k);
      if (!t) continue;
      this.unindex(k, t);
      gone.push(k);
    }
    if (gone.length === 0) return Promise.resolve();
    return this.write(() => this.db.batch(gone.map((key) => ({ type: 'del' as const, key }))));
  }

  private forget(keys: string[]): void {
    this.revoke(keys).catch((err: unknown) => this.log.error({ err }, 'deleting expired tokens failed'));
  }

  /** Keys of the tokens a session generated. */
  ofSession(sessionId: string): string[] {
    return [...(this.#bySession.get(sessionId) ?? [])];
  }

  /** Keys of an owner's tokens. */
  ofOwner(owner: string): string[] {
    return [...(this.#byOwner.get(owner) ?? [])].filter((k) => this.#byKey.has(k));
  }

  /** Keys of tokens whose credentials match (a scan: for rare events such as a deleted API key). */
  where(match: (c: Credentials) => boolean): string[] {
    return [...this.#byKey].filter(([, t]) => match(t.credentials)).map(([k]) => k);
  }

  /** A token session's activity keeps its token alive (stored at most once a minute). */
  touch(key: string): void {
    const t = this.#byKey.get(key);
    if (!t) return;
    const now = Date.now();
    t.expires = Math.max(t.expires, now + t.ttlMs);
    if (now - t.storedAt > REFRESH_STORE_MS) {
      t.storedAt = now;
      this.write(() => this.db.put(key, t)).catch((err: unknown) => this.log.error({ err }, 'storing a token refresh failed'));
    }
  }

  private write(fn: () => Promise<void>): Promise<void> {
    return this.#writes.run(fn);
  }

  private expiredOf(owner: string): string[] {
    const now = Date.now();
    return this.ofOwner(owner).filter((k) => this.#byKey.get(k)!.expires < now);
  }

  /** Forget expired tokens (run now and then). */
  sweep(): Promise<void> {
    const now = Date.now();
    return this.revoke([...this.#byKey].filter(([, t]) => t.expires < now).map(([k]) => k));
  }
}
