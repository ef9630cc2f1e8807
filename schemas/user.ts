// Argument and result schemas of user.* (issue 5). Passwords are accepted, never returned.
import { Type } from '@sinclair/typebox';
import { mapOptional, WireDate } from './util.js';

/** Roles a user may hold: the fixed ones and any `<AREA>_READ` / `<AREA>_WRITE` / `<AREA>_DELETE`. */
const Role = Type.String({ pattern: '^(FULL_ADMIN|READONLY_ADMIN|SHARING_ADMIN|[A-Z][A-Z0-9_]*_(READ|WRITE|DELETE))$' });

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
