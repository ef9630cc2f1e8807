// Who a connection is, and how it becomes someone: password, API key (plain or SCRAM-SHA-512),
// or token logins; sessions that end when their key or account goes away; per-address slowdown
// of failed logins; the audit trail. Over the unix socket every peer is the local administrator
// (PROTOCOL.md section 0).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sublevel } from '../app.js';
import type { AuthConfig } from '../config.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { ConnectionInfo } from '../registry.js';
import { ApiKeyStore, isExpired, type ApiKeyRecord } from './apikeys.js';
import type { Credentials } from './credentials.js';
import { dummyVerify, verifyPassword } from './password.js';
import { ScramExchange, decoyMaterial, parseClientFirst, splitApiKey, verifyPlainSecret } from './scram.js';
import { UserStore, type UserRecord } from './users.js';

export type LoginResult =
  | { type: 'SUCCESS'; credentials: Credentials }
  | { type: 'AUTH_ERR' | 'EXPIRED' | 'DENIED' };

/** A token as stored: in memory and in level, keyed by the SHA-256 of the token, never the token. */
export interface TokenRecord {
  credentials: Credentials;
  expires: number;
  ttlMs: number;
  origin: string | null;
  singleUse: boolean;
  attrs: Record<string, unknown>;
  /** When the stored expiry was last written (refreshes are persisted at most once a minute). */
  storedAt: number;
}

function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

interface PendingScram {
  exchange: ScramExchange;
  key: ApiKeyRecord | null;
  user: UserRecord | null;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class AuthService {
  readonly users: UserStore;
  readonly keys: ApiKeyStore;
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly sessions = new Map<string, ConnectionInfo>();
  private readonly scram = new Map<string, PendingScram>();
  private readonly failures = new Map<string, { start: number; count: number }>();
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    usersDb: Sublevel<UserRecord>,
    keysDb: Sublevel<ApiKeyRecord>,
    private readonly tokensDb: Sublevel<TokenRecord>,
    private readonly config: AuthConfig,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {
    this.users = new UserStore(usersDb);
    this.keys = new ApiKeyStore(keysDb, config.scramIterations);
  }

  /** Load accounts; on first start create `admin` (FULL_ADMIN). */
  async open(dataDir: string, adminPassword: string | null): Promise<void> {
    await this.users.open();
    await this.keys.open();
    // Tokens survive restarts (a dashboard reconnecting after one stays logged in); drop the dead.
    const now = Date.now();
    for await (const [key, t] of this.tokensDb.iterator()) {
      if (t.expires < now) await this.tokensDb.del(key);
      else this.tokens.set(key, t);
    }
    if (this.users.size > 0) return;
    let password = adminPassword;
    if (password === null) {
      password = randomBytes(18).toString('base64url');
      const file = join(dataDir, 'admin-password');
      await writeFile(file, `${password}\n`, { mode: 0o600 });
      this.log.warn({ file }, 'first start: created user admin; its password was written to this file');
    } else this.log.info('first start: created user admin with the password from MIDSHIP_ADMIN_PASSWORD');
    await this.users.create({ username: 'admin', full_name: 'Administrator', password, roles: ['FULL_ADMIN'] }, 'user');
  }

  close(): void {
    for (const t of this.expiryTimers.values()) clearTimeout(t);
    this.expiryTimers.clear();
  }

  // ---- sessions ----

  initialCredentials(conn: ConnectionInfo): Credentials | null {
    if (conn.transport !== 'unix') return null;
    return { type: 'UNIX_SOCKET', username: 'root', userId: null, roles: ['FULL_ADMIN'], loginId: randomUUID(), loginAt: Date.now() };
  }

  connected(conn: ConnectionInfo): void {
    this.sessions.set(conn.id, conn);
  }

  disconnected(connId: string): void {
    this.sessions.delete(connId);
    this.scram.delete(connId);
    const t = this.expiryTimers.get(connId);
    if (t) clearTimeout(t);
    this.expiryTimers.delete(connId);
  }

  /** Replace a connection's credentials; subscriptions it may no longer have are dropped. */
  setCredentials(conn: ConnectionInfo, credentials: Credentials | null): void {
    if (credentials === null) this.events.endSources(conn.id);
    conn.credentials = credentials;
    this.events.recheck(conn.id);
    const t = this.expiryTimers.get(conn.id);
    if (t) clearTimeout(t);
    this.expiryTimers.delete(conn.id);
    const key = credentials?.apiKey ? this.keys.get(credentials.apiKey.id) : undefined;
    if (key?.expires_at != null) {
      // The session ends when its key expires.
      const timer = setTimeout(() => this.endSessions((c) => c.apiKey?.id === key.id, 'API key expired'), Math.min(MAX_TIMER_MS, Math.max(0, key.expires_at - Date.now())));
      timer.unref();
      this.expiryTimers.set(conn.id, timer);
    }
  }

  /** Close every connection whose credentials match (revoked key, deleted or locked user). */
  endSessions(match: (c: Credentials) => boolean, reason: string): number {
    let n = 0;
    for (const conn of this.sessions.values()) {
      const c = conn.credentials;
      if (c === null || !(match(c) || (c.parent !== undefined && match(c.parent)))) continue;
      this.log.info({ conn: conn.id, user: c.username, reason }, 'ending session');
      conn.close(1008, reason);
      n++;
    }
    return n;
  }

  /** A key's expiry changed: re-arm the expiry timers of the sessions that use it. */
  refreshKeyExpiry(keyId: number): void {
    for (const conn of this.sessions.values()) if (conn.credentials?.apiKey?.id === keyId) this.setCredentials(conn, conn.credentials);
  }

  /** Recompute the roles of live sessions of a user whose roles changed. */
  refreshRoles(user: UserRecord): void {
    for (const conn of this.sessions.values()) {
      const c = conn.credentials;
      if (c === null || c.userId !== user.id) continue;
      this.setCredentials(conn, { ...c, roles: [...user.roles] });
    }
  }

  // ---- failed logins ----

  /** Slow an address down after repeated failures (unix-socket peers are exempt). */
  private async throttle(conn: ConnectionInfo): Promise<void> {
    if (conn.transport === 'unix') return;
    const f = this.failures.get(conn.remoteAddress);
    if (!f || Date.now() - f.start > 60_000) return;
    const excess = f.count - this.config.failuresBeforeSlowdown;
    if (excess > 0) await sleep(Math.min(10_000, excess * this.config.failDelayMs));
  }

  private async failed<T extends LoginResult>(conn: ConnectionInfo, started: number, result: T, why: string, username: string | null): Promise<T> {
    this.log.info({ conn: conn.id, remote: conn.remoteAddress, user: username, why }, 'login failed');
    if (conn.transport !== 'unix') {
      const now = Date.now();
      let f = this.failures.get(conn.remoteAddress);
      if (!f || now - f.start > 60_000) this.failures.set(conn.remoteAddress, (f = { start: now, count: 0 }));
      f.count++;
      if (this.failures.size > 10_000) for (const [k, v] of this.failures) if (now - v.start > 60_000) this.failures.delete(k);
    }
    // Answer every failure at the same moment after it arrived, whatever went wrong.
    await sleep(Math.max(0, started + this.config.failDelayMs - Date.now()));
    return result;
  }

  private succeeded(conn: ConnectionInfo, credentials: Credentials): LoginResult {
    this.setCredentials(conn, credentials);
    this.log.info({ conn: conn.id, remote: conn.remoteAddress, user: credentials.username, cred: credentials.type, key: credentials.apiKey?.id }, 'login');
    return { type: 'SUCCESS', credentials };
  }

  private userCredentials(type: Credentials['type'], u: UserRecord, apiKey?: ApiKeyRecord): Credentials {
    const c: Credentials = { type, username: u.username, userId: u.id, roles: [...u.roles], loginId: randomUUID(), loginAt: Date.now() };
    if (apiKey) c.apiKey = { id: apiKey.id, name: apiKey.name };
    return c;
  }

  // ---- logins ----

  async loginPassword(conn: ConnectionInfo, username: string, password: string): Promise<LoginResult> {
    const started = Date.now();
    await this.throttle(conn);
    const u = this.users.byName(username);
    if (!u || u.password_hash === null) {
      await dummyVerify();
      return this.failed(conn, started, { type: 'AUTH_ERR' }, 'no such user or no password', username);
    }
    if (!(await verifyPassword(password, u.password_hash))) return this.failed(conn, started, { type: 'AUTH_ERR' }, 'wrong password', username);
    if (u.locked) return this.failed(conn, started, { type: 'AUTH_ERR' }, 'account locked', username);
    return this.succeeded(conn, this.userCredentials('LOGIN_PASSWORD', u));
  }

  /** API_KEY_PLAIN and auth.login_with_api_key (username null: taken from the key). */
  async loginApiKey(conn: ConnectionInfo, username: string | null, apiKey: string): Promise<LoginResult> {
    const started = Date.now();
    await this.throttle(conn);
    const parts = splitApiKey(apiKey);
    const key = parts ? this.keys.get(parts.keyId) : undefined;
    if (!parts || !key || (username !== null && key.username !== username)) {
      await verifyPlainSecret(parts?.secret ?? apiKey, decoyMaterial(username ?? '', parts?.keyId ?? 0, this.config.scramIterations));
      return this.failed(conn, started, { type: 'AUTH_ERR' }, 'unknown key', username);
    }
    if (!(await verifyPlainSecret(parts.secret, key.material))) return this.failed(conn, started, { type: 'AUTH_ERR' }, 'wrong key', username);
    return this.acceptKey(conn, started, key, username);
  }

  private async acceptKey(conn: ConnectionInfo, started: number, key: ApiKeyRecord, username: string | null): Promise<LoginResult> {
    const u = this.users.byName(key.username);
    if (key.revoked || !u) return this.failed(conn, started, { type: 'AUTH_ERR' }, 'revoked key or deleted user', username);
    if (isExpired(key)) return this.failed(conn, started, { type: 'EXPIRED' }, 'expired key', username);
    if (u.locked) return this.failed(conn, started, { type: 'AUTH_ERR' }, 'account locked', username);
    return this.succeeded(conn, this.userCredentials('API_KEY', u, key));
  }

  /** SCRAM step 1: returns the server-first message. */
  scramStart(conn: ConnectionInfo, rfcStr: string): string {
    const first = parseClientFirst(rfcStr);
    const key = this.keys.get(first.keyId) ?? null;
    const user = key && key.username === first.username ? (this.users.byName(first.username) ?? null) : null;
    // Unknown user or key: run the exchange on decoy material so it fails only at the proof.
    const material = key && user ? key.material : decoyMaterial(first.username, first.keyId, this.config.scramIterations);
    const exchange = new ScramExchange(first, material);
    this.scram.set(conn.id, { exchange, key: user ? key : null, user });
    return exchange.serverFirst;
  }

  /** SCRAM step 2: the server-final message on success. */
  async scramFinish(conn: ConnectionInfo, rfcStr: string): Promise<{ result: LoginResult; serverFinal: string | null }> {
    const started = Date.now();
    await this.throttle(conn);
    const pending = this.scram.get(conn.id);
    this.scram.delete(conn.id);
    if (!pending) return { result: await this.failed(conn, started, { type: 'AUTH_ERR' }, 'no SCRAM exchange in progress', null), serverFinal: null };
    const serverFinal = pending.exchange.finish(rfcStr);
    if (serverFinal === null || pending.key === null) return { result: await this.failed(conn, started, { type: 'AUTH_ERR' }, 'wrong SCRAM proof', pending.user?.username ?? null), serverFinal: null };
    const result = await this.acceptKey(conn, started, pending.key, pending.key.username);
    return { result, serverFinal: result.type === 'SUCCESS' ? serverFinal : null };
  }

  /** Forget a half-done SCRAM exchange (another mechanism was started). */
  abandonScram(conn: ConnectionInfo): void {
    this.scram.delete(conn.id);
  }

  async loginToken(conn: ConnectionInfo, token: string): Promise<LoginResult> {
    const started = Date.now();
    await this.throttle(conn);
    const key = tokenKey(token);
    const t = this.tokens.get(key);
    if (!t || t.expires < Date.now() || (t.origin !== null && t.origin !== conn.origin)) {
      return this.failed(conn, started, { type: 'AUTH_ERR' }, 'unknown, expired or foreign token', null);
    }
    if (t.singleUse) {
      this.tokens.delete(key);
      await this.tokensDb.del(key);
    }
    const user = t.credentials.userId === null ? undefined : this.users.get(t.credentials.userId);
    if (t.credentials.userId !== null && (!user || user.locked)) return this.failed(conn, started, { type: 'AUTH_ERR' }, 'user deleted or locked', t.credentials.username);
    // The account's roles now, not when the token was made.
    const parent: Credentials = user ? { ...t.credentials, roles: [...user.roles] } : t.credentials;
    if (parent.apiKey) {
      const key = this.keys.get(parent.apiKey.id);
      if (!key || key.revoked || isExpired(key)) return this.failed(conn, started, { type: 'AUTH_ERR' }, 'the key behind the token is gone', parent.username);
    }
    const c: Credentials = { type: 'TOKEN', username: parent.username, userId: parent.userId, roles: parent.roles, loginId: randomUUID(), loginAt: Date.now(), parent };
    if (parent.apiKey) c.apiKey = parent.apiKey;
    return this.succeeded(conn, c);
  }

  async generateToken(conn: ConnectionInfo | null, credentials: Credentials, ttlSeconds: number, attrs: Record<string, unknown>, matchOrigin: boolean, singleUse: boolean): Promise<string> {
    const now = Date.now();
    for (const [k, t] of this.tokens) {
      if (t.expires >= now) continue;
      this.tokens.delete(k);
      await this.tokensDb.del(k);
    }
    const token = randomBytes(48).toString('base64url');
    const origin = matchOrigin && conn !== null && conn.transport !== 'unix' ? conn.origin : null;
    // Tokens made from token sessions carry the original credentials.
    const base = credentials.type === 'TOKEN' && credentials.parent ? credentials.parent : credentials;
    const record: TokenRecord = { credentials: base, expires: now + ttlSeconds * 1000, ttlMs: ttlSeconds * 1000, origin, singleUse, attrs, storedAt: now };
    const key = tokenKey(token);
    await this.tokensDb.put(key, record);
    this.tokens.set(key, record);
    return token;
  }

  /** A token session's message refreshes its token's lifetime (stored at most once a minute). */
  touch(credentials: Credentials): void {
    if (credentials.type !== 'TOKEN' || !credentials.parent) return;
    const now = Date.now();
    for (const [key, t] of this.tokens) {
      if (t.credentials.loginId !== credentials.parent.loginId) continue;
      t.expires = Math.max(t.expires, now + t.ttlMs);
      if (now - t.storedAt > 60_000) {
        t.storedAt = now;
        this.tokensDb.put(key, t).catch((err: unknown) => this.log.error({ err }, 'storing a token refresh failed'));
      }
    }
  }

  logout(conn: ConnectionInfo): void {
    this.log.info({ conn: conn.id, user: conn.credentials?.username }, 'logout');
    this.scram.delete(conn.id);
    this.setCredentials(conn, null);
  }

  /** One audit line per state-changing call (arguments already redacted). */
  audit(credentials: Credentials, connection: ConnectionInfo, method: string, args: unknown[], ok: boolean): void {
    this.log.info({ audit: true, user: credentials.username, cred: credentials.type, conn: connection.id, remote: connection.remoteAddress, method, args, ok }, 'audit');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
