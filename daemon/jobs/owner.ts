// Who a job belongs to: a stable identity, never a name. A user is `user:<id>:<created_at>`, so
// a user created later under the same name, or under an id a deleted user once had, owns nothing
// of the old one's; a principal without a user id is its credential type and name
// (`UNIX_SOCKET:root`, which a Midship user called `root` is not); a token acts for the
// credentials it was made from; internal jobs have no owner (only full admins see them).
import type { Credentials } from '../auth/credentials.js';

/** The user store's answer for a user id (undefined: no such user now). */
export type UserLookup = (id: number) => { created_at: number } | undefined;

export function userOwner(user: { id: number; created_at: number }): string {
  return `user:${user.id}:${user.created_at}`;
}

export function jobOwner(c: Credentials | null, users: UserLookup): string | null {
  if (c === null || c.type === 'INTERNAL') return null;
  if (c.type === 'TOKEN' && c.parent !== undefined) return jobOwner(c.parent, users);
  if (c.userId !== null) {
    const u = users(c.userId);
    return u === undefined ? `user:${c.userId}:gone` : userOwner({ id: c.userId, created_at: u.created_at });
  }
  return `${c.type}:${c.username}`;
}
