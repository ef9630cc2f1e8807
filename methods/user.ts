// user.*: local accounts (issue 5). Passwords are hashed with scrypt and never returned.
// Privilege never grows by itself (privilege.ts): roles are granted only by holders, other users'
// passwords set only by full admins, and nobody changes their own roles.
// user.query and user.get_instance also list the host's users, read-only (user/host-users.ts).
import { arg, CallError, checkKnownRoles, checkMayGrant, checkMayManage, checkUserUpdate, ERRNO, HOST_USER_ID_BASE, isSelf, method, notFound, publicUser, queryMethod, Slots, ValidationErrors, type App, type ModuleDef, type ModuleFactory, type Static, type UserRecord } from '#midship/module-api';
import { AdministratorName, AdministratorOptions, AdministratorPassword, AnyUserEntry, DeleteResult, HasAdministrator, SetupAdministratorResult, UserCreate, UserEntry, UserId, UserUpdate } from '../schemas/user.js';
import { HostUsers, isSystemUid, type HostUser } from './user/host-users.js';

/** A working administrator: it can log in with a password and holds FULL_ADMIN. */
function isWorkingAdministrator(u: UserRecord): boolean {
  return !u.locked && u.password_hash !== null && u.roles.includes('FULL_ADMIN');
}

/** A Midship account as user.* return it: TrueNAS's fields for a local, non-builtin user, no password material. */
function accountEntry(u: UserRecord): Static<typeof UserEntry> {
  const pub = publicUser(u);
  return { ...pub, builtin: false, local: true, immutable: false, password_disabled: !pub.password_set, twofactor_auth_configured: false, smb: false, webshare: false };
}

/**
 * The names user.setup_local_administrator offers: an account of that name is the web UI's
 * administrator, even where the host has a system user so named (truenas_admin on TrueNAS). Root
 * among them stays reserved all the same (daemon/auth/names.ts).
 */
const ADMINISTRATOR_NAMES: ReadonlySet<string> = new Set(AdministratorName.anyOf.map((s) => s.const));

/** The user module, listing the host users of `etc` (/etc on a real system; tests hand another). */
export function userModuleReading(etc: string): ModuleFactory {
  return (app) => userModuleWith(app, etc);
}

export const userModule: ModuleFactory = userModuleReading('/etc');

function userModuleWith(app: App, etc: string): ModuleDef {
  const auth = app.auth;
  const users = auth.users;
  const emit = (msg: 'added' | 'changed' | 'removed', id: number, fields?: unknown) => app.events.emit('user.query', msg, id, fields);
  const host = new HostUsers(etc, app.log);

  /** The host users, less those a Midship account of the same name hides (accounts come first). */
  const hostUsers = async (): Promise<HostUser[]> => {
    const taken = new Set(users.all().map((u) => u.username));
    return (await host.list()).filter((h) => !taken.has(h.username));
  };
  const hostUser = async (id: number) => (await hostUsers()).find((h) => h.id === id);

  /** Host users are read-only: their ids are refused by user.update and user.delete. */
  const refuseHostUser = async (id: number, change: 'change' | 'delete') => {
    if (id < HOST_USER_ID_BASE) return;
    const h = await hostUser(id);
    if (!h) throw notFound(`User ${id} does not exist`);
    throw new CallError(`User '${h.username}' (uid ${h.uid}) is a user of the host, read from ${etc}/passwd: Midship cannot ${change} it`, ERRNO.EPERM);
  };

  // Set-ups one at a time: two racing callers cannot both find no administrator and both make one.
  const setup = new Slots(1);
  const hasAdministrator = () => users.all().some(isWorkingAdministrator);

  const instance = (id: number) => {
    const u = users.get(id);
    if (!u) throw notFound(`User ${id} does not exist`);
    return u;
  };

  return {
    services: [{ name: 'user', type: 'crud', rolePrefix: 'ACCOUNT', cliDescription: 'Local user accounts' }],
    methods: [
      queryMethod(
        'user.query',
        `Query users (the shared query language): Midship's accounts (builtin false), then the host's users from ${etc}/passwd as TrueNAS shows its builtin users (builtin true, id ${HOST_USER_ID_BASE} + uid, locked, no password, no role; read-only, they cannot log in). A Midship account hides a host user of the same name. Password material is never returned.`,
        async () => [...users.all().map(accountEntry), ...(await hostUsers())],
      ),
      method('user.get_instance', {
        description: `One user by id: a Midship account, or a host user (id ${HOST_USER_ID_BASE} + uid).`,
        args: [arg('id', UserId)],
        result: AnyUserEntry,
        handler: async (_ctx, id) => {
          if (id < HOST_USER_ID_BASE) return accountEntry(instance(id));
          const h = await hostUser(id);
          if (!h) throw notFound(`User ${id} does not exist`);
          return h;
        },
      }),
      method('user.create', {
        description: 'Create a user: username, full_name, email, password (hashed with scrypt), roles, locked. Reserved names (root, daemon, nobody, system accounts, credential types) and the names of the host\'s system users are refused; roles the caller does not hold can only be granted by FULL_ADMIN.',
        args: [arg('user_create', UserCreate)],
        result: UserEntry,
        handler: async (ctx, data) => {
          const errors = new ValidationErrors();
          checkKnownRoles(data.roles ?? [], app.registry.declaredRoles, 'user_create.roles', errors);
          checkMayGrant(ctx.credentials, data.roles ?? [], 'user_create.roles', errors);
          // Such an account would hide the host user in user.query and pass for it in job records.
          const system = ADMINISTRATOR_NAMES.has(data.username) ? undefined : (await host.list()).find((h) => h.username === data.username && isSystemUid(h.uid));
          if (system) errors.add('user_create.username', `'${data.username}' is reserved for the host's system user of that name (uid ${system.uid}) and cannot be used`, ERRNO.EEXIST);
          errors.throwIfAny();
          const u = accountEntry(await users.create(data, 'user_create'));
          emit('added', u.id, u);
          return u;
        },
      }),
      method('user.update', {
        description: 'Change a user. Locking it ends its sessions; new roles apply to open sessions at once. Only FULL_ADMIN grants roles it does not hold, sets another user\'s password or changes a user holding roles the caller lacks; nobody changes their own roles. Host users are read-only (EPERM).',
        args: [arg('id', UserId), arg('user_update', UserUpdate)],
        result: UserEntry,
        handler: async (ctx, id, data) => {
          await refuseHostUser(id, 'change');
          const old = instance(id);
          const errors = new ValidationErrors();
          checkKnownRoles(data.roles ?? [], app.registry.declaredRoles, 'user_update.roles', errors);
          errors.throwIfAny();
          checkUserUpdate(ctx.credentials, old, data, 'user_update');
          const u = await users.update(id, data, 'user_update');
          if (u.locked && !old.locked) {
            auth.endSessions((c) => c.userId === id, 'Account locked');
            app.jobs.abortOwnedBy(u, 'Aborted: the account was locked');
          } else if (data.roles !== undefined) auth.refreshRoles(u);
          if (data.password !== undefined) {
            auth.endSessions((c) => c.userId === id && c.type === 'LOGIN_PASSWORD' && c.loginId !== ctx.credentials?.loginId, 'Password changed');
            // Tokens minted with the old password (perhaps by whoever made the change necessary) die too.
            await auth.revokeUserTokens(id);
          }
          const entry = accountEntry(u);
          emit('changed', id, entry);
          return entry;
        },
      }),
      method('user.delete', {
        description: 'Delete a user, its API keys, tokens and open sessions (not your own account, nor one holding roles you lack). Host users cannot be deleted (EPERM).',
        args: [arg('id', UserId)],
        result: DeleteResult,
        handler: async (ctx, id) => {
          await refuseHostUser(id, 'delete');
          const u = instance(id);
          if (isSelf(ctx.credentials, id)) throw new ValidationErrors([['id', 'You cannot delete your own account', ERRNO.EPERM]]);
          checkMayManage(ctx.credentials, u);
          await users.delete(id);
          const keys = await auth.keys.deleteForUser(u.username);
          auth.endSessions((c) => c.userId === id || keys.some((k) => c.apiKey?.id === k.id), 'User deleted');
          await auth.revokeUserTokens(id);
          app.jobs.abortOwnedBy(u, 'Aborted: the account was deleted');
          emit('removed', id);
          return true;
        },
      }),
      method('user.has_local_administrator_set_up', {
        description: 'Whether an administrator can log in: an unlocked FULL_ADMIN account with a password (the first start makes `admin`). No login needed: the web UI asks before signing in.',
        args: [],
        result: HasAdministrator,
        noAuth: true,
        handler: () => hasAdministrator(),
      }),
      method('user.setup_local_administrator', {
        description: 'Make `username` (admin, or truenas_admin as the TrueNAS web UI offers) a FULL_ADMIN with this password, unlocked. No login needed, and accepted only while user.has_local_administrator_set_up is false (EEXIST otherwise).',
        args: [arg('username', AdministratorName), arg('password', AdministratorPassword), arg('options', AdministratorOptions, { default: {} })],
        result: SetupAdministratorResult,
        noAuth: true,
        audit: true,
        handler: (_ctx, username, password) => setup.run(async () => {
          if (hasAdministrator()) throw new CallError('Local administrator is already set up', ERRNO.EEXIST);
          if (username === 'root') throw new ValidationErrors([['username', 'root is the unix-socket administrator and has no password: set up truenas_admin or admin', ERRNO.EINVAL]]);
          const existing = users.byName(username);
          const u = existing
            ? await users.update(existing.id, { password, roles: [...new Set([...existing.roles, 'FULL_ADMIN'])], locked: false }, 'setup_local_administrator')
            : await users.create({ username, full_name: 'Administrator', password, roles: ['FULL_ADMIN'] }, 'setup_local_administrator');
          if (existing) auth.refreshRoles(u);
          app.log.warn({ user: u.username, id: u.id }, 'local administrator set up (user.setup_local_administrator)');
          emit(existing ? 'changed' : 'added', u.id, accountEntry(u));
          return null;
        }),
      }),
    ],
    events: [{ name: 'user.query', description: 'Users added, changed or removed.', roles: ['ACCOUNT_READ'] }],
  };
}
