// Logging in (PROTOCOL.md 8.2): a password or an API key once, then a token from
// auth.generate_token kept in sessionStorage (per tab, never in a URL) so a reload or a reconnect
// logs in again with TOKEN_PLAIN. A token is only good for its ttl unless a token session uses it,
// so a fresh one replaces it well before that. Logging out, or the session being ended from the
// Sessions page, revokes the tokens in the daemon.
import { ConnectionLost, RpcError, type RpcClient } from './rpc.js';

const TOKEN_KEY = 'midship.token';
const TOKEN_TTL_S = 3600;
const TOKEN_REFRESH_MS = 20 * 60 * 1000;

export interface SessionInfo {
  username: string;
}

export type Credentials =
  | { kind: 'password'; username: string; password: string }
  | { kind: 'api_key'; username: string; apiKey: string };

export class LoginFailed extends Error {}

interface LoginResponse {
  response_type: string;
  user_info?: { pw_name?: string } | null;
}

function reasonOf(r: LoginResponse, kind: Credentials['kind'] | 'token'): string {
  switch (r.response_type) {
    case 'AUTH_ERR':
      return kind === 'password' ? 'Wrong username or password.' : kind === 'api_key' ? 'Wrong username or API key.' : 'Your session has ended. Please log in again.';
    case 'EXPIRED':
      return 'This credential has expired.';
    case 'DENIED':
      return 'This account may not use the API.';
    case 'OTP_REQUIRED':
      return 'This account needs a second factor, which this dashboard does not support.';
    default:
      return `Login refused (${r.response_type}).`;
  }
}

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function storeToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage refused (private mode): a reload will ask for the password again.
  }
}

export class Session {
  private refreshTimer: ReturnType<typeof setInterval> | null = null;
  private readonly listeners = new Set<(s: SessionInfo | null, reason: string | null) => void>();
  current: SessionInfo | null = null;

  constructor(private readonly rpc: RpcClient) {
    // After a reconnect: the stored token logs the new socket in, or the session is over.
    rpc.authenticate = async () => {
      if (this.current === null) return false;
      try {
        if ((await this.resume()) !== null) return true;
        this.ended('Your session has ended. Please log in again.');
      } catch (err) {
        // Lost again mid-login: the next reconnect tries again.
        if (!(err instanceof ConnectionLost)) this.ended(err instanceof LoginFailed ? err.message : 'Your session has ended. Please log in again.');
      }
      return false;
    };
  }

  onChange(fn: (s: SessionInfo | null, reason: string | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private ended(reason: string | null): void {
    if (this.refreshTimer !== null) clearInterval(this.refreshTimer);
    this.refreshTimer = null;
    this.current = null;
    this.rpc.setAuthenticated(false);
    this.rpc.dropSubscriptions();
    for (const fn of this.listeners) fn(null, reason);
  }

  private async loginEx(data: Record<string, unknown>, kind: Credentials['kind'] | 'token'): Promise<SessionInfo> {
    let r: LoginResponse;
    try {
      r = await this.rpc.callAnonymous<LoginResponse>('auth.login_ex', [data]);
    } catch (err) {
      if (err instanceof ConnectionLost) throw err;
      throw new LoginFailed(err instanceof RpcError ? err.message : `Cannot reach the daemon: ${(err as Error).message}`);
    }
    if (r.response_type !== 'SUCCESS') throw new LoginFailed(reasonOf(r, kind));
    this.rpc.setAuthenticated(true);
    const username = r.user_info?.pw_name ?? (typeof data.username === 'string' ? data.username : '?');
    this.current = { username };
    // A fresh token for the next reload (the pages need not wait for it). After a token login the
    // stored token is the one this session uses, kept alive by its calls: no new one is needed,
    // and reconnects do not pile up tokens against the per-user cap.
    if (kind !== 'token') void this.renewToken();
    this.startRefresh();
    for (const fn of this.listeners) fn(this.current, null);
    return this.current;
  }

  login(c: Credentials): Promise<SessionInfo> {
    if (c.kind === 'password') return this.loginEx({ mechanism: 'PASSWORD_PLAIN', username: c.username, password: c.password }, 'password');
    return this.loginEx({ mechanism: 'API_KEY_PLAIN', username: c.username, api_key: c.apiKey }, 'api_key');
  }

  /** Log in with the stored token (page load, reconnect); null when there is none or it failed. */
  async resume(): Promise<SessionInfo | null> {
    const token = storedToken();
    if (token === null) return null;
    try {
      return await this.loginEx({ mechanism: 'TOKEN_PLAIN', token }, 'token');
    } catch (err) {
      if (err instanceof LoginFailed) storeToken(null);
      throw err;
    }
  }

  private async renewToken(): Promise<void> {
    try {
      storeToken(await this.rpc.call<string>('auth.generate_token', [TOKEN_TTL_S]));
    } catch {
      // Keep the old one; the next refresh tries again.
    }
  }

  private startRefresh(): void {
    if (this.refreshTimer !== null) return;
    this.refreshTimer = setInterval(() => void this.renewToken(), TOKEN_REFRESH_MS);
  }

  async logout(): Promise<void> {
    storeToken(null);
    try {
      await this.rpc.callNow('auth.logout');
    } catch {
      // Not connected: the daemon ended the session with the socket.
    }
    this.ended(null);
  }
}
