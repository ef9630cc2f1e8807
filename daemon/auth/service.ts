// Who a connection is, and how it becomes someone: password, API key (plain or SCRAM-SHA-512),
// or token logins; sessions that can be listed and ended, and that end when their key or account
// goes away; tokens that die with the session that made them; login throttling per account and
// address (throttle.ts); the audit trail. Over the unix socket every peer is the local
// administrator (PROTOCOL.md section 0).
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sublevel } from '../storage.js';
import type { AuthConfig } from '../config.js';
import { CallError, ERRNO, ValidationErrors } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Logger } from '../log.js';
import type { Accounts } from '../module-api.js';
import type { ConnectionInfo } from '../registry.js';
import { ApiKeyStore, isExpired, type ApiKeyRecord } from './apikeys.js';
import type { Credentials } from './credentials.js';
import { isReservedUsername } from './names.js';
import { RENAMED_ROLES } from './roles.js';
import { dummyVerify, verifyPassword } from './password.js';
import { ScramExchange, decoyMaterial, parseClientFirst, splitApiKey, verifyPlainSecret } from './scram.js';
import { SESSIONS_WRITE, SessionTable, maySessionAct, type SessionEntry, type SessionState } from './sessions.js';
import { LoginThrottle, sleep } from './throttle.js';
import { TokenStore, tokenKey, type TokenRecord } from './tokens.js';
import { UserStore, type UserRecord } from './users.js';

export type { TokenRecord } from './tokens.js';

export type LoginResult =
  | { type: 'SUCCESS'; credentials: Credentials }
  | { type: 'AUTH_ERR' | 'EXPIRED' | 'DENIED' };

interface PendingScram {
  exchange: ScramExchange;
  key: ApiKeyRecord | null;
  user: UserRecord | null;
  /** The throttle's account name for this key. */
  account: string;
}

/** A failed login as observers see it: where from, and the user name tried (null: unknown or none given). */
export interface FailedLogin {
  address: string;
  transport: 'tcp' | 'unix';
  username: string | null;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const TOKEN_SWEEP_MS = 60_000;

export class AuthService implements Accounts {
  readonly users: UserStore;
  readonly keys: ApiKeyStore;
  readonly tokens: TokenStore;
  readonly #sessions: SessionTable;
  readonly #scram = new Map<string, PendingScram>();
  readonly #throttle: LoginThrottle;
  readonly #expiryTimers = new Map<string, NodeJS.Timeout>();
  readonly #failedLoginObservers = new Set<(f: FailedLogin) => void>();
  #sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    usersDb: Sublevel<UserRecord>,
    keysDb: Sublevel<ApiKeyRecord>,
    tokensDb: Sublevel<TokenRecord>,
    private readonly config: AuthConfig,
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {
    this.users = new UserStore(usersDb);
    this.keys = new ApiKeyStore(keysDb, config.scramIterations);
    this.tokens = new TokenStore(tokensDb, { perUser: config.tokensPerUser, attrsBytes: config.tokenAttrsBytes }, log);
    this.#sessions = new SessionTable(events);
    this.#throttle = new LoginThrottle(config, (account, remote, wait) => log.info({ account, remote, wait }, 'login attempt throttled'));
  }

  /** Load accounts; on first start create `admin` (FULL_ADMIN). */
  async open(dataDir: string, adminPassword: string | null): Promise<void> {
    await this.users.open();
    await this.keys.open();
    // Tokens survive restarts (a dashboard reconnecting after one stays logged in); the dead are dropped.
    await this.tokens.open();
    this.#sweepTimer = setInterval(() => this.tokens.sweep().catch((err: unknown) => this.log.error({ err }, 'dropping expired tokens failed')), TOKEN_SWEEP_MS);
    this.#sweepTimer.unref();
    await this.renameOldRoles();
    for (const u of this.users.all()) {
      if (isReservedUsername(u.username)) this.log.warn({ user: u.username, id: u.id }, 'a local user has a name reserved for the system (made before names were checked): delete it and create it under another name');
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

  /**
   * Accounts stored with Midship's old role names (CRONJOB_WRITE) get TrueNAS's (SYSTEM_CRON_WRITE),
   * which is all the daemon checks now. API keys and tokens take their roles from their account.
   */
  private async renameOldRoles(): Promise<void> {
    for (const u of this.users.all()) {
      const renamed = u.roles.map((r) => RENAMED_ROLES[r] ?? r);
      if (renamed.every((r, i) => r === u.roles[i])) continue;
      await this.users.update(u.id, { roles: renamed });
      this.log.warn({ user: u.username, id: u.id, from: u.roles, to: renamed }, "a user's roles were renamed to TrueNAS's role names");
    }
  }

  close(): void {
    for (const t of this.#expiryTimers.values()) clearTimeout(t);
    this.#expiryTimers.clear();
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = null;
  }

  // ---- sessions ----

  initialCredentials(conn: ConnectionInfo): Credentials | null {
    if (conn.transport !== 'unix') return null;
    return { type: 'UNIX_SOCKET', username: 'root', userId: null, roles: ['FULL_ADMIN'], loginId: randomUUID(), loginAt: Date.now() };
  }

  /** A connection opened; `origin` is how auth.sessions shows it ("address:port"). */
  connected(conn: ConnectionInfo, origin: string = conn.origin): void {
    this.#sessions.add(conn, conn.transport === 'unix' ? 'UNIX socket' : origin);
  }

  disconnected(connId: string): void {
    this.#sessions.remove(connId);
    this.#scram.delete(connId);
    const t = this.#expiryTimers.get(connId);
    if (t) clearTimeout(t);
    this.#expiryTimers.delete(connId);
  }

  /**
   * Replace a connection's credentials; subscriptions it may no longer have are dropped.
   * `loginToken`: the hash of the token it logged in with (undefined: unchanged).
   */
  setCredentials(conn: ConnectionInfo, credentials: Credentials | null, loginToken?: string | null): void {
    const previous = conn.credentials;
    if (credentials === null) this.events.endSources(conn.id);
    conn.credentials = credentials;
    this.events.recheck(conn.id);
    const state = this.#sessions.get(conn.id);
    if (state) this.#sessions.update(state, previous, credentials === null ? null : loginToken);
    const t = this.#expiryTimers.get(conn.id);
    if (t) clearTimeout(t);
    this.#expiryTimers.delete(conn.id);
    const key = credentials?.apiKey ? this.keys.get(credentials.apiKey.id) : undefined;
    if (key?.expires_at != null) {
      // The session ends when its key expires.
      const timer = setTimeout(() => this.endSessions((c) => c.apiKey?.id === key.id, 'API key expired'), Math.min(MAX_TIMER_MS, Math.max(0, key.expires_at - Date.now())));
      timer.unref();
      this.#expiryTimers.set(conn.id, timer);
    }
  }

  /** auth.sessions: the caller's own sessions, or all of them for AUTH_SESSIONS_READ. */
  listSessions(caller: Credentials, currentId: string | null): SessionEntry[] {
    return this.#sessions.entries(caller, currentId);
  }

  /** auth.terminate_session: false when there is no such session the caller may end. */
  async terminateSession(caller: Credentials, id: string): Promise<boolean> {
    const s = this.#sessions.get(id);
    const c = s?.conn.credentials ?? null;
    if (!s || c === null || s.since === null || !maySessionAct(caller, c, SESSIONS_WRITE)) return false;
    this.log.info({ conn: id, user: c.username, by: caller.username }, 'session terminated');
    await this.end([s], 'Session terminated');
    return true;
  }

  /** auth.terminate_other_sessions: every session the caller may end but its own and internal ones. */
  async terminateOtherSessions(caller: Credentials, currentId: string | null): Promise<number> {
    const ends = [...this.#sessions.values()].filter((s) => {
      const c = s.conn.credentials;
      return s.conn.id !== currentId && s.conn.transport !== 'unix' && c !== null && s.since !== null && maySessionAct(caller, c, SESSIONS_WRITE);
    });
    this.log.info({ by: caller.username, sessions: ends.length }, 'other sessions terminated');
    await this.end(ends, 'Session terminated');
    return ends.length;
  }

  /**
   * End sessions: each connection closes at once (1008); the token it logged in with and every
   * token it generated are revoked, and so, in turn, are the sessions that logged in with those.
   * `keep` stays open (auth.logout ends its own session without closing the socket).
   */
  private end(first: SessionState[], reason: string, keep: string | null = null): Promise<void> {
    const queue = [...first];
    const seen = new Set<string>();
    const revoked: string[] = [];
    for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
      if (seen.has(s.conn.id)) continue;
      seen.add(s.conn.id);
      const keys = new Set(this.tokens.ofSession(s.conn.id));
      if (s.loginToken !== null) keys.add(s.loginToken);
      revoked.push(...keys);
      if (s.conn.id !== keep) {
        this.log.info({ conn: s.conn.id, user: s.conn.credentials?.username, reason }, 'ending session');
        s.conn.close(1008, reason);
        // Gone from auth.sessions now, not when the close handshake ends.
        this.disconnected(s.conn.id);
      }
      queue.push(...this.#sessions.ridingOn(keys));
    }
    return this.tokens.revoke(revoked);
  }

  /**
   * Close every connection whose credentials match (revoked key, deleted or locked user). Tokens
   * are left to the caller: revokeUserTokens / revokeKeyTokens, or the login checks (a locked
   * account's tokens work again once it is unlocked).
   */
  endSessions(match: (c: Credentials) => boolean, reason: string): number {
    let n = 0;
    for (const s of [...this.#sessions.values()]) {
      const c = s.conn.credentials;
      if (c === null || !(match(c) || (c.parent !== undefined && match(c.parent)))) continue;
      this.log.info({ conn: s.conn.id, user: c.username, reason }, 'ending session');
      s.conn.close(1008, reason);
      this.disconnected(s.conn.id);
      n++;
    }
    return n;
  }

  /** A key's expiry changed: re-arm the expiry timers of the sessions that use it. */
  refreshKeyExpiry(keyId: number): void {
    for (const s of this.#sessions.values()) if (s.conn.credentials?.apiKey?.id === keyId) this.setCredentials(s.conn, s.conn.credentials);
  }

  /** Recompute the roles of live sessions of a user whose roles changed. */
  refreshRoles(user: UserRecord): void {
    for (const s of this.#sessions.values()) {
      const c = s.conn.credentials;
      if (c === null || c.userId !== user.id) continue;
      this.setCredentials(s.conn, { ...c, roles: [...user.roles] });
    }
  }

  /** A user was deleted or its password changed: its tokens go too (user ids can come back; tokens must not). */
  revokeUserTokens(userId: number): Promise<void> {
    return this.tokens.revoke(this.tokens.where((c) => c.userId === userId));
  }

  /** An API key was deleted or reset: tokens made by its sessions go too. */
  revokeKeyTokens(keyId: number): Promise<void> {
    return this.tokens.revoke(this.tokens.where((c) => c.apiKey?.id === keyId));
  }

  // ---- failed logins ----

  /** Wait for the throttle's leave to check an attempt at `account` (unix-socket peers are exempt). */
  private admit(conn: ConnectionInfo, account: string): Promise<void> {
    return conn.transport === 'unix' ? Promise.resolve() : this.#throttle.admit(account, conn.remoteAddress);
  }

  /** Run a password or key verification under the per-address bound. */
  private verifying<T>(conn: ConnectionInfo, fn: () => Promise<T>): Promise<T> {
    return conn.transport === 'unix' ? fn() : this.#throttle.verify(conn.remoteAddress, fn);
  }

  private async failed<T extends LoginResult>(conn: ConnectionInfo, account: string, started: number, result: T, why: string, username: string | null): Promise<T> {
    this.log.info({ conn: conn.id, remote: conn.remoteAddress, user: username, why }, 'login failed');
    for (const fn of this.#failedLoginObservers) {
      try {
        fn({ address: conn.remoteAddress, transport: conn.transport, username });
      } catch (err) {
        this.log.error({ err }, 'a failed-login observer failed');
      }
    }
    if (conn.transport !== 'unix') this.#throttle.failed(account, conn.remoteAddress);
    // Answer every failure at the same moment after it arrived, whatever went wrong.
    await sleep(Math.max(0, started + this.config.failDelayMs - Date.now()));
    return result;
  }

  /** `fn` is told of every failed login (the alert module counts them per address); returns the remover. */
  onLoginFailed(fn: (f: FailedLogin) => void): () => void {
    this.#failedLoginObservers.add(fn);
    return () => this.#failedLoginObservers.delete(fn);
  }

  private succeeded(conn: ConnectionInfo, credentials: Credentials, loginToken: string | null = null): LoginResult {
    this.setCredentials(conn, credentials, loginToken);
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
    const account = `user:${username}`;
    await this.admit(conn, account);
    // The constant answer delay counts from here, so throttled attempts wait for both.
    const started = Date.now();
    const u = this.users.byName(username);
    if (!u || u.password_hash === null) {
      await this.verifying(conn, dummyVerify);
      return this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'no such user or no password', username);
    }
    const hash = u.password_hash;
    if (!(await this.verifying(conn, () => verifyPassword(password, hash)))) return this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'wrong password', username);
    if (u.locked) return this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'account locked', username);
    return this.succeeded(conn, this.userCredentials('LOGIN_PASSWORD', u));
  }

  /** API_KEY_PLAIN and auth.login_with_api_key (username null: taken from the key). */
  async loginApiKey(conn: ConnectionInfo, username: string | null, apiKey: string): Promise<LoginResult> {
    const parts = splitApiKey(apiKey);
    const account = `key:${parts?.keyId ?? 0}`;
    await this.admit(conn, account);
    const started = Date.now();
    const key = parts ? this.keys.get(parts.keyId) : undefined;
    if (!parts || !key || (username !== null && key.username !== username)) {
      await this.verifying(conn, () => verifyPlainSecret(parts?.secret ?? apiKey, decoyMaterial(username ?? '', parts?.keyId ?? 0, this.config.scramIterations)));
      return this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'unknown key', username);
    }
    if (!(await this.verifying(conn, () => verifyPlainSecret(parts.secret, key.material)))) return this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'wrong key', username);
    return this.acceptKey(conn, account, started, key, username);
  }

  private async acceptKey(conn: ConnectionInfo, account: string, started: number, key: ApiKeyRecord, username: string | null): Promise<LoginResult> {
    const u = this.users.byName(key.username);
    if (key.revoked || !u) return this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'revoked key or deleted user', username);
    if (isExpired(key)) return this.failed(conn, account, started, { type: 'EXPIRED' }, 'expired key', username);
    if (u.locked) return this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'account locked', username);
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
    this.#scram.set(conn.id, { exchange, key: user ? key : null, user, account: `key:${first.keyId}` });
    return exchange.serverFirst;
  }

  /** SCRAM step 2: the server-final message on success. */
  async scramFinish(conn: ConnectionInfo, rfcStr: string): Promise<{ result: LoginResult; serverFinal: string | null }> {
    const pending = this.#scram.get(conn.id);
    this.#scram.delete(conn.id);
    const account = pending?.account ?? 'key:?';
    await this.admit(conn, account);
    const started = Date.now();
    if (!pending) return { result: await this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'no SCRAM exchange in progress', null), serverFinal: null };
    const serverFinal = pending.exchange.finish(rfcStr);
    if (serverFinal === null || pending.key === null) return { result: await this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'wrong SCRAM proof', pending.user?.username ?? null), serverFinal: null };
    const result = await this.acceptKey(conn, account, started, pending.key, pending.key.username);
    return { result, serverFinal: result.type === 'SUCCESS' ? serverFinal : null };
  }

  /** Forget a half-done SCRAM exchange (another mechanism was started). */
  abandonScram(conn: ConnectionInfo): void {
    this.#scram.delete(conn.id);
  }

  /** `plainOnly`: a token made with attributes (a download's) is refused, as the web shell must. */
  async loginToken(conn: ConnectionInfo, token: string, options: { plainOnly?: boolean } = {}): Promise<LoginResult> {
    const account = 'token';
    await this.admit(conn, account);
    const started = Date.now();
    const key = tokenKey(token);
    const t = this.tokens.get(key);
    if (!t || (t.origin !== null && t.origin !== conn.origin) || (options.plainOnly === true && Object.keys(t.attrs).length > 0)) {
      return this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'unknown, expired, revoked or foreign token', null);
    }
    if (t.singleUse) await this.tokens.revoke([key]);
    const user = t.credentials.userId === null ? undefined : this.users.get(t.credentials.userId);
    // Same id and same name: ids of deleted users can be handed out again.
    if (t.credentials.userId !== null && (!user || user.locked || user.username !== t.credentials.username)) {
      return this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'user deleted or locked', t.credentials.username);
    }
    // The account's roles now, not when the token was made.
    const parent: Credentials = user ? { ...t.credentials, roles: [...user.roles] } : t.credentials;
    if (parent.apiKey) {
      const k = this.keys.get(parent.apiKey.id);
      if (!k || k.revoked || isExpired(k) || k.username !== parent.username) return this.failed(conn, account, started, { type: 'AUTH_ERR' }, 'the key behind the token is gone', parent.username);
    }
    const c: Credentials = { type: 'TOKEN', username: parent.username, userId: parent.userId, roles: parent.roles, loginId: randomUUID(), loginAt: Date.now(), parent };
    if (parent.apiKey) c.apiKey = parent.apiKey;
    return this.succeeded(conn, c, t.singleUse ? null : key);
  }

  async generateToken(conn: ConnectionInfo | null, credentials: Credentials, ttlSeconds: number, attrs: Record<string, unknown>, matchOrigin: boolean, singleUse: boolean): Promise<string> {
    const size = Buffer.byteLength(JSON.stringify(attrs));
    if (size > this.config.tokenAttrsBytes) throw new ValidationErrors([['attrs', `At most ${this.config.tokenAttrsBytes} bytes of JSON (got ${size})`, ERRNO.EINVAL]]);
    const now = Date.now();
    const token = randomBytes(48).toString('base64url');
    const origin = matchOrigin && conn !== null && conn.transport !== 'unix' ? conn.origin : null;
    // Tokens made from token sessions carry the original credentials.
    const base = credentials.type === 'TOKEN' && credentials.parent ? credentials.parent : credentials;
    const record: TokenRecord = { credentials: base, expires: now + ttlSeconds * 1000, ttlMs: ttlSeconds * 1000, origin, singleUse, attrs, storedAt: now, sessionId: conn?.id ?? null };
    const key = tokenKey(token);
    await this.tokens.add(key, record);
    // The session ended while the token was being stored: it must not outlive it.
    if (conn !== null && this.#sessions.get(conn.id) === undefined) {
      await this.tokens.revoke([key]);
      throw new CallError('The session ended while the token was being made', ERRNO.ECONNABORTED);
    }
    return token;
  }

  /** A token session's message keeps the token it logged in with alive. */
  touch(conn: ConnectionInfo): void {
    const key = this.#sessions.get(conn.id)?.loginToken;
    if (key) this.tokens.touch(key);
  }

  /** auth.logout: the session ends but the socket stays; its tokens are revoked. */
  async logout(conn: ConnectionInfo): Promise<void> {
    this.log.info({ conn: conn.id, user: conn.credentials?.username }, 'logout');
    this.#scram.delete(conn.id);
    const s = this.#sessions.get(conn.id);
    const ending = s ? this.end([s], 'Logged out', conn.id) : Promise.resolve();
    this.setCredentials(conn, null);
    await ending;
  }

  /** One audit line per state-changing call (arguments already redacted). */
  audit(credentials: Credentials, connection: ConnectionInfo, method: string, args: unknown[], ok: boolean): void {
    this.log.info({ audit: true, user: credentials.username, cred: credentials.type, conn: connection.id, remote: connection.remoteAddress, method, args, ok }, 'audit');
  }
}

