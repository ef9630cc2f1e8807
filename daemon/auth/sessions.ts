// Sessions as TrueNAS names them (auth.sessions): every open connection that is logged in, with
// where it comes from, how it logged in and since when. A connection that has not logged in is
// tracked (so it can be found) but is not a session. Changes go out as `auth.sessions` events to
// session admins (AUTH_SESSIONS_READ) and to the sessions' own user; unix-socket sessions are
// internal, as in TrueNAS, and send no events.
import type { EventBus } from '../events.js';
import type { ConnectionInfo } from '../registry.js';
import { credentialsData, hasAnyRole, sameUser, type CredentialType, type Credentials } from './credentials.js';

export interface SessionState {
  conn: ConnectionInfo;
  /** "address:port", or "UNIX socket". */
  origin: string;
  /** When the connection logged in (null while it has not). */
  since: number | null;
  /** Hash of the token the session logged in with, if it did. */
  loginToken: string | null;
}

/** One auth.sessions entry, field for field TrueNAS's AuthSessionsEntry. */
export interface SessionEntry {
  id: string;
  current: boolean;
  internal: boolean;
  origin: string;
  credentials: CredentialType;
  credentials_data: Record<string, unknown>;
  created_at: { $date: number };
  secure_transport: boolean;
}

export const SESSIONS_EVENT = 'auth.sessions';
const SESSIONS_READ = 'AUTH_SESSIONS_READ';
export const SESSIONS_WRITE = 'AUTH_SESSIONS_WRITE';

function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\./.test(a);
}

/** Whether `caller` may see (`role` READ) or end (`role` WRITE) the session with `target` credentials. */
export function maySessionAct(caller: Credentials, target: Credentials, role: string): boolean {
  return hasAnyRole(caller, [role]) || sameUser(caller, target);
}

export class SessionTable {
  readonly #byId = new Map<string, SessionState>();

  constructor(private readonly events: EventBus) {}

  add(conn: ConnectionInfo, origin: string): SessionState {
    const s: SessionState = { conn, origin, since: conn.credentials === null ? null : Date.now(), loginToken: null };
    this.#byId.set(conn.id, s);
    return s;
  }

  get(id: string): SessionState | undefined {
    return this.#byId.get(id);
  }

  values(): IterableIterator<SessionState> {
    return this.#byId.values();
  }

  /** The connection is gone (or being closed by us): no longer a session. */
  remove(id: string): SessionState | undefined {
    const s = this.#byId.get(id);
    if (!s) return undefined;
    this.#byId.delete(id);
    if (s.since !== null) this.emit(s, 'removed', s.conn.credentials);
    return s;
  }

  /** The connection's credentials changed (a login, a logout, new roles). */
  update(s: SessionState, previous: Credentials | null, loginToken: string | null | undefined): void {
    const before = s.since;
    if (loginToken !== undefined) s.loginToken = loginToken;
    if (s.conn.credentials === null) {
      s.since = null;
      s.loginToken = null;
      if (before !== null) this.emit(s, 'removed', previous);
      return;
    }
    if (before === null) s.since = Date.now();
    this.emit(s, before === null ? 'added' : 'changed', s.conn.credentials);
  }

  /** Sessions that logged in with one of these tokens. */
  ridingOn(tokenKeys: ReadonlySet<string>): SessionState[] {
    return [...this.#byId.values()].filter((s) => s.loginToken !== null && tokenKeys.has(s.loginToken));
  }

  /** What `caller` may see, oldest first. */
  entries(caller: Credentials, currentId: string | null): SessionEntry[] {
    const out: SessionEntry[] = [];
    for (const s of this.#byId.values()) {
      const c = s.conn.credentials;
      if (c === null || s.since === null || !maySessionAct(caller, c, SESSIONS_READ)) continue;
      out.push(this.entry(s, c, currentId));
    }
    return out.sort((a, b) => a.created_at.$date - b.created_at.$date);
  }

  private entry(s: SessionState, c: Credentials, currentId: string | null): SessionEntry {
    return {
      id: s.conn.id,
      current: s.conn.id === currentId,
      internal: s.conn.transport === 'unix',
      origin: s.origin,
      credentials: c.type,
      credentials_data: credentialsData(c),
      created_at: { $date: s.since! },
      secure_transport: s.conn.transport === 'unix' || isLoopback(s.conn.remoteAddress),
    };
  }

  private emit(s: SessionState, msg: 'added' | 'changed' | 'removed', owner: Credentials | null): void {
    if (s.conn.transport === 'unix' || !this.events.hasListeners(SESSIONS_EVENT)) return;
    // The receiver is the subscriber: admins see every session, a user its own.
    const visible = (c: Credentials | null) => c !== null && (hasAnyRole(c, [SESSIONS_READ]) || (owner !== null && sameUser(c, owner)));
    if (msg === 'removed' || s.conn.credentials === null) {
      this.events.emit(SESSIONS_EVENT, 'removed', s.conn.id, { id: s.conn.id }, { visible });
      return;
    }
    const { current: _current, internal: _internal, ...fields } = this.entry(s, s.conn.credentials, null);
    this.events.emit(SESSIONS_EVENT, msg, s.conn.id, fields, { visible });
  }
}
