// Argument and result schemas of user.* (issue 5). Passwords are accepted, never returned.
import { Type } from '@sinclair/typebox';
import { mapOptional, WireDate } from './util.js';

/** A role name; user.create/update check it against the vocabulary (daemon/auth/roles.ts) and the modules' own. */
const Role = Type.String({ pattern: '^[A-Z][A-Z0-9_]*$', maxLength: 64 });

/** The fields a client may set, shared by create and update. password null: no password login. */
const UserFields = {
  full_name: Type.String({ maxLength: 256 }),
  email: Type.Union([Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$', maxLength: 256 }), Type.Null()]),
  password: Type.Union([Type.String({ minLength: 8, maxLength: 1024, secret: true }), Type.Null()]),
  roles: Type.Array(Role, { maxItems: 100 }),
  locked: Type.Boolean(),
};

export const UserCreate = Type.Object({ username: Type.String({ minLength: 1, maxLength: 32 }), ...mapOptional(UserFields) }, { additionalProperties: false });

/** Only the fields given change; the username cannot. */
export const UserUpdate = Type.Object(mapOptional(UserFields), { additionalProperties: false });

/** A user as returned: no password material, only whether a password is set. */
export const UserEntry = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  full_name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.String()),
  locked: Type.Boolean(),
  password_set: Type.Boolean(),
  created_at: WireDate(),
  updated_at: WireDate(),
});

export const UserId = Type.Integer();

export const DeleteResult = Type.Boolean();

/** user.has_local_administrator_set_up: an unlocked FULL_ADMIN account with a password exists. */
export const HasAdministrator = Type.Boolean();

/**
 * user.setup_local_administrator: the account to make the administrator, by the administrators'
 * names only (anyone may call it while there is none: it must not hand them another account).
 * TrueNAS offers root and truenas_admin; root is Midship's unix-socket administrator, which has no
 * password, and is refused with a message saying so.
 */
export const AdministratorName = Type.Union([Type.Literal('admin'), Type.Literal('truenas_admin'), Type.Literal('root')]);
export const AdministratorPassword = UserFields.password.anyOf[0]!;
export const AdministratorOptions = Type.Object({ ec2: Type.Optional(Type.Null()) }, { additionalProperties: false });
export const SetupAdministratorResult = Type.Null();
