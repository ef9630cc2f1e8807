// Privilege never grows by itself: an account manager (ACCOUNT_WRITE) can hand out only what it
// holds, and only a full admin can touch accounts that hold more than the caller, set another
// user's password or mint API keys for someone else. A user cannot change its own roles.
import { CallError, ERRNO, ValidationErrors } from '../errors.js';
import { isFullAdmin, type Credentials } from './credentials.js';
import { isVocabularyRole, RENAMED_ROLES, roleGranted } from './roles.js';
import type { UserRecord } from './users.js';

/** Roles in `roles` that the caller does not hold (FULL_ADMIN holds everything). */
function rolesNotHeld(caller: Credentials | null, roles: readonly string[]): string[] {
  if (isFullAdmin(caller)) return [];
  const held = caller?.roles ?? [];
  return roles.filter((r) => !roleGranted(held, r));
}

/** Refuses roles the caller does not hold, one error per role at `<attr>.<index>`. */
export function checkMayGrant(caller: Credentials | null, roles: readonly string[], attr: string, errors: ValidationErrors): void {
  const missing = new Set(rolesNotHeld(caller, roles));
  roles.forEach((r, i) => {
    if (missing.has(r)) errors.add(`${attr}.${i}`, `You cannot grant ${r}: you do not hold it (only FULL_ADMIN grants roles it does not hold)`, ERRNO.EPERM);
  });
}

/** Whether the session belongs to local user `id`. */
export function isSelf(caller: Credentials | null, id: number): boolean {
  return caller !== null && caller.userId !== null && caller.userId === id;
}

/** A caller below FULL_ADMIN may only change or delete accounts that hold nothing it lacks. */
export function checkMayManage(caller: Credentials | null, target: UserRecord): void {
  if (isSelf(caller, target.id)) return;
  const missing = rolesNotHeld(caller, target.roles);
  if (missing.length > 0) {
    throw new CallError(`User '${target.username}' holds ${missing.join(', ')}, which you do not hold: only a full admin can change or delete this account`, ERRNO.EPERM);
  }
}

function sameRoles(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((r) => y.has(r));
}

/** The rules of user.update for one change; throws ValidationErrors / CallError. */
export function checkUserUpdate(caller: Credentials | null, target: UserRecord, change: { roles?: string[]; password?: string | null }, attr: string): void {
  checkMayManage(caller, target);
  const errors = new ValidationErrors();
  if (change.roles !== undefined && !sameRoles(change.roles, target.roles)) {
    if (isSelf(caller, target.id)) errors.add(`${attr}.roles`, 'You cannot change the roles of your own account', ERRNO.EPERM);
    else checkMayGrant(caller, change.roles, `${attr}.roles`, errors);
  }
  if (change.password !== undefined && !isSelf(caller, target.id) && !isFullAdmin(caller)) {
    errors.add(`${attr}.password`, "Only a full admin can set another user's password", ERRNO.EPERM);
  }
  errors.throwIfAny();
}

/** Whether the caller may create, change or delete API keys of `username`. */
export function mayHandleKeysOf(caller: Credentials | null, username: string): boolean {
  if (isFullAdmin(caller)) return true;
  return caller !== null && caller.userId !== null && caller.username === username;
}

/**
 * Refuses role names that are neither TrueNAS's (roles.ts) nor declared by a loaded module, one
 * error per role at `<attr>.<index>`; an old Midship name says which name replaced it.
 */
export function checkKnownRoles(roles: readonly string[], declared: ReadonlySet<string>, attr: string, errors: ValidationErrors): void {
  roles.forEach((r, i) => {
    if (isVocabularyRole(r) || declared.has(r)) return;
    const renamed = RENAMED_ROLES[r];
    errors.add(`${attr}.${i}`, renamed ? `${r} is now called ${renamed} (TrueNAS's name)` : `Unknown role ${r}: roles are TrueNAS's names, such as SYSTEM_CRON_WRITE, ACCOUNT_READ or READONLY_ADMIN`, ERRNO.EINVAL);
  });
}
