// user.*: local accounts (issue 5). Passwords are hashed with scrypt and never returned.
import { Type } from '@sinclair/typebox';
import type { App } from '../daemon/app.js';
import { publicUser } from '../daemon/auth/users.js';
import { ERRNO, ValidationErrors, notFound } from '../daemon/errors.js';
import { method, type ModuleDef } from '../daemon/registry.js';
import { arg } from '../daemon/schema.js';
import { queryMethod } from './query-method.js';

/** Roles a user may hold: the fixed ones and any `<AREA>_READ` / `<AREA>_WRITE`. */
const Role = Type.String({ pattern: '^(FULL_ADMIN|READONLY_ADMIN|SHARING_ADMIN|[A-Z][A-Z0-9_]*_(READ|WRITE|DELETE))$' });

const UserFields = {
  full_name: Type.String({ maxLength: 256 }),
  email: Type.Union([Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 256 }), Type.Null()]),
  password: Type.Union([Type.String({ minLength: 8, maxLength: 1024, secret: true }), Type.Null()]),
  roles: Type.Array(Role, { maxItems: 100 }),
  locked: Type.Boolean(),
};

const UserCreate = Type.Object({ username: Type.String({ minLength: 1, maxLength: 32 }), ...mapOptional(UserFields) }, { additionalProperties: false });
const UserUpdate = Type.Object(mapOptional(UserFields), { additionalProperties: false });

function mapOptional<T extends Record<string, import('@sinclair/typebox').TSchema>>(fields: T): { [K in keyof T]: import('@sinclair/typebox').TOptional<T[K]> } {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: import('@sinclair/typebox').TOptional<T[K]> };
}

const UserEntry = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  full_name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.String()),
  locked: Type.Boolean(),
  password_set: Type.Boolean(),
  created_at: Type.Object({ $date: Type.Number() }),
  updated_at: Type.Object({ $date: Type.Number() }),
});

export function userModule(app: App): ModuleDef {
  const auth = app.auth;
  const users = auth.users;
  const emit = (msg: 'added' | 'changed' | 'removed', id: number, fields?: unknown) => app.events.emit('user.query', msg, id, fields);

  const instance = (id: number) => {
    const u = users.get(id);
    if (!u) throw notFound(`User ${id} does not exist`);
    return u;
  };

  return {
    services: [{ name: 'user', type: 'crud', rolePrefix: 'ACCOUNT', cliDescription: 'Local user accounts' }],
    methods: [
      queryMethod('user.query', 'Query users (the shared query language). Password material is never returned.', () => users.all().map(publicUser)),
      method('user.get_instance', {
        description: 'One user by id.',
        args: [arg('id', Type.Integer())],
        result: UserEntry,
        handler: (_ctx, id) => publicUser(instance(id)),
      }),
      method('user.create', {
        description: 'Create a user: username, full_name, email, password (hashed with scrypt), roles, locked.',
        args: [arg('user_create', UserCreate)],
        result: UserEntry,
        handler: async (_ctx, data) => {
          const u = publicUser(await users.create(data, 'user_create'));
          emit('added', u.id, u);
          return u;
        },
      }),
      method('user.update', {
        description: 'Change a user. Locking it or removing it ends its sessions; new roles apply to open sessions at once.',
        args: [arg('id', Type.Integer()), arg('user_update', UserUpdate)],
        result: UserEntry,
        handler: async (ctx, id, data) => {
          const old = instance(id);
          if (ctx.credentials?.userId === id && data.roles !== undefined && old.roles.includes('FULL_ADMIN') && !data.roles.includes('FULL_ADMIN')) {
            throw new ValidationErrors([['user_update.roles', 'You cannot remove FULL_ADMIN from your own account', ERRNO.EPERM]]);
          }
          const u = await users.update(id, data);
          if (u.locked && !old.locked) auth.endSessions((c) => c.userId === id, 'Account locked');
          else if (data.roles !== undefined) auth.refreshRoles(u);
          if (data.password !== undefined) auth.endSessions((c) => c.userId === id && c.type === 'LOGIN_PASSWORD' && c.loginId !== ctx.credentials?.loginId, 'Password changed');
          const pub = publicUser(u);
          emit('changed', id, pub);
          return pub;
        },
      }),
      method('user.delete', {
        description: 'Delete a user, its API keys and its open sessions.',
        args: [arg('id', Type.Integer())],
        result: Type.Boolean(),
        handler: async (ctx, id) => {
          const u = instance(id);
          if (ctx.credentials?.userId === id) throw new ValidationErrors([['id', 'You cannot delete your own account', ERRNO.EPERM]]);
          await users.delete(id);
          const keys = await auth.keys.deleteForUser(u.username);
          auth.endSessions((c) => c.userId === id || keys.some((k) => c.apiKey?.id === k.id), 'User deleted');
          emit('removed', id);
          return true;
        },
      }),
    ],
    events: [{ name: 'user.query', description: 'Users added, changed or removed.', roles: ['ACCOUNT_READ'] }],
  };
}
