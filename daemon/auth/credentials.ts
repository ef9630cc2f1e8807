// Who a session is. Set by a login (or by arriving on the unix socket) and consulted by every
// authorization check. Which role grants which is the vocabulary's business (roles.ts).
import { roleGranted } from './roles.js';

/** FLEET: a call a trusted fleet signer vouched for (methods/fleet-host), with the host's role cap applied. */
export type CredentialType = 'UNIX_SOCKET' | 'LOGIN_PASSWORD' | 'API_KEY' | 'TOKEN' | 'INTERNAL' | 'FLEET';

export interface Credentials {
  type: CredentialType;
  username: string;
  /** User id in the user store (null for the unix-socket root and internal callers). */
  userId: number | null;
  roles: readonly string[];
  loginId: string;
  loginAt: number;
  apiKey?: { id: number; name: string };
  /** For token sessions: the credentials the token was generated from. */
  parent?: Credentials;
}

export function isFullAdmin(c: Credentials | null): boolean {
  return c !== null && (c.type === 'INTERNAL' || c.roles.includes('FULL_ADMIN'));
}

/** True when the credentials hold any of `roles` (an empty list means full admin only). */
export function hasAnyRole(c: Credentials | null, roles: readonly string[]): boolean {
  if (c === null) return false;
  if (isFullAdmin(c)) return true;
  return roles.some((r) => roleGranted(c.roles, r));
}

/** TrueNAS's `credentials_data` of a session (PROTOCOL.md 5.1); a token's names what it came from. */
export function credentialsData(c: Credentials): Record<string, unknown> {
  if (c.type === 'TOKEN' && c.parent) {
    return { parent: { credentials: c.parent.type, credentials_data: credentialsData(c.parent) }, login_id: c.loginId, username: c.username };
  }
  const data: Record<string, unknown> = { username: c.username, login_id: c.loginId, login_at: { $date: c.loginAt } };
  if (c.apiKey) data.api_key = { id: c.apiKey.id, name: c.apiKey.name };
  return data;
}

/** The `credentials` object of a job (PROTOCOL.md 5.1). */
export function jobCredentials(c: Credentials | null): { type: string; data: Record<string, unknown> } | null {
  if (c === null || c.type === 'INTERNAL') return null;
  return { type: c.type, data: credentialsData(c) };
}

/** Whether two credentials belong to the same local user (by id, never by name). */
export function sameUser(a: Credentials, b: Credentials): boolean {
  return a.userId !== null && a.userId === b.userId;
}

export const INTERNAL_CREDENTIALS: Credentials = {
  type: 'INTERNAL',
  username: 'root',
  userId: null,
  roles: ['FULL_ADMIN'],
  loginId: 'internal',
  loginAt: 0,
};
