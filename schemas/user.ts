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

/**
 * The fields of TrueNAS's user entry (middlewared api/v26_0_0/user.py UserEntry) that both kinds of
 * user.query entry have, Midship's accounts and the host's users, so the filters clients send
 * (["builtin", "=", false], ["local", "=", true], ["username", "~", ...]) mean what they mean on
 * TrueNAS. No password material in either.
 */
const EntryFields = {
  id: Type.Integer(),
  username: Type.String(),
  full_name: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  roles: Type.Array(Type.String()),
  locked: Type.Boolean(),
  /** true: one of the host's users; false: a Midship account. */
  builtin: Type.Boolean(),
  /** Not from a directory service (Midship has none). */
  local: Type.Literal(true),
  immutable: Type.Boolean(),
  password_disabled: Type.Boolean(),
  twofactor_auth_configured: Type.Literal(false),
  smb: Type.Literal(false),
  webshare: Type.Literal(false),
};

/** A Midship account as returned: only whether a password is set, and when it was made and changed. */
export const UserEntry = Type.Object({
  ...EntryFields,
  builtin: Type.Literal(false),
  immutable: Type.Literal(false),
  password_set: Type.Boolean(),
  created_at: WireDate(),
  updated_at: WireDate(),
});

const None = Type.Array(Type.Never(), { maxItems: 0 });

/** A host user's primary group, as TrueNAS nests it in a user entry (its datastore row). */
export const HostGroupRef = Type.Object({
  id: Type.Integer(),
  bsdgrp_gid: Type.Integer(),
  /** null when /etc/group has no group of that gid. */
  bsdgrp_group: Type.Union([Type.String(), Type.Null()]),
  bsdgrp_builtin: Type.Literal(true),
  bsdgrp_smb: Type.Literal(false),
  bsdgrp_sudo_commands: None,
  bsdgrp_sudo_commands_nopasswd: None,
});

/**
 * One of the host's users (/etc/passwd), in the shape TrueNAS gives its builtin users. Read-only
 * and powerless by construction: locked, no password, no role, no API key, no sudo; whom a cron job
 * may run as is decided elsewhere (--cron-users), never by this entry.
 */
export const HostUserEntry = Type.Object({
  ...EntryFields,
  builtin: Type.Literal(true),
  immutable: Type.Literal(true),
  locked: Type.Literal(true),
  password_disabled: Type.Literal(true),
  roles: None,
  email: Type.Null(),
  uid: Type.Integer({ minimum: 0 }),
  unixhash: Type.Null(),
  smbhash: Type.Null(),
  home: Type.String(),
  shell: Type.String(),
  userns_idmap: Type.Null(),
  group: HostGroupRef,
  /** The entry ids (not gids) of the user's other groups, as TrueNAS lists them. */
  groups: Type.Array(Type.Integer()),
  ssh_password_enabled: Type.Literal(false),
  sshpubkey: Type.Null(),
  sudo_commands: None,
  sudo_commands_nopasswd: None,
  sid: Type.Null(),
  last_password_change: Type.Null(),
  password_age: Type.Null(),
  password_history: Type.Null(),
  password_change_required: Type.Literal(false),
  api_keys: None,
});

/** What user.query and user.get_instance answer: an account, or a host user. */
export const AnyUserEntry = Type.Union([UserEntry, HostUserEntry]);

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
