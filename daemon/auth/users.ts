// Local accounts, in level. Few enough to keep a copy in memory for lookups by name; every change
// is written through. Password hashes never leave this file except to verify a login.
import { ERRNO, ValidationErrors } from '../errors.js';
import type { Sublevel } from '../storage.js';
import { checkNoControlChars, checkNotReserved } from './names.js';
import { hashPassword } from './password.js';
import type { Users } from '../module-api.js';
import { RecordTable } from './records.js';

export interface UserRecord {
  id: number;
  username: string;
  full_name: string;
  email: string | null;
  password_hash: string | null;
  roles: string[];
  locked: boolean;
  created_at: number;
  updated_at: number;
}

/** A user as returned by user.* methods: no password material. */
export type PublicUser = Omit<UserRecord, 'password_hash' | 'created_at' | 'updated_at'> & {
  created_at: { $date: number };
  updated_at: { $date: number };
  password_set: boolean;
};

/** What user.create stores (the password is hashed; roles are deduplicated). */
export interface NewUser {
  username: string;
  full_name?: string;
  email?: string | null;
  password?: string | null;
  roles?: string[];
  locked?: boolean;
}

/** A change to a user: given fields replace the stored ones (password null: none). */
export type UserChange = Omit<NewUser, 'username'>;

const USERNAME_PATTERN = /^[a-z_][a-z0-9_.-]{0,31}$/;

/**
 * user.query lists the host's users too, each as id HOST_USER_ID_BASE + uid (TrueNAS's id for
 * users it does not store, BASE_SYNTHETIC_DATASTORE_ID). Local accounts' ids stay below it, so the
 * two can never meet: an id names one account, whichever table it came from.
 */
export const HOST_USER_ID_BASE = 100_000_000;

export function publicUser(u: UserRecord): PublicUser {
  const { password_hash, created_at, updated_at, ...rest } = u;
  return { ...rest, password_set: password_hash !== null, created_at: { $date: created_at }, updated_at: { $date: updated_at } };
}

export class UserStore implements Users {
  readonly #table: RecordTable<UserRecord>;
  /** Names being written by create(): taken, though not in the table until stored. */
  readonly #creating = new Set<string>();

  constructor(db: Sublevel<UserRecord>) {
    this.#table = new RecordTable(db, 'User', HOST_USER_ID_BASE);
  }

  open(): Promise<void> {
    return this.#table.open();
  }

  get size(): number {
    return this.#table.size;
  }

  all(): UserRecord[] {
    return this.#table.all();
  }

  get(id: number): UserRecord | undefined {
    return this.#table.get(id);
  }

  byName(username: string): UserRecord | undefined {
    for (const u of this.#table.all()) if (u.username === username) return u;
    return undefined;
  }

  async create(data: NewUser, attr: string): Promise<UserRecord> {
    const errors = new ValidationErrors();
    if (!USERNAME_PATTERN.test(data.username)) errors.add(`${attr}.username`, 'Username must start with a letter or _ and contain only a-z, 0-9, _, . and - (at most 32 characters)');
    else if (this.byName(data.username)) errors.add(`${attr}.username`, `A user named '${data.username}' already exists`, ERRNO.EEXIST);
    else checkNotReserved(data.username, `${attr}.username`, errors);
    if (data.full_name !== undefined) checkNoControlChars(data.full_name, `${attr}.full_name`, errors);
    errors.throwIfAny();
    const now = Date.now();
    const u: UserRecord = {
      id: this.#table.takeId(),
      username: data.username,
      full_name: data.full_name ?? '',
      email: data.email ?? null,
      password_hash: data.password ? await hashPassword(data.password) : null,
      roles: [...new Set(data.roles ?? [])],
      locked: data.locked ?? false,
      created_at: now,
      updated_at: now,
    };
    // A concurrent create may have taken the name while the password was being hashed.
    if (this.byName(u.username) || this.#creating.has(u.username)) throw new ValidationErrors([[`${attr}.username`, `A user named '${u.username}' already exists`, ERRNO.EEXIST]]);
    this.#creating.add(u.username);
    try {
      await this.#table.put(u); // stored first: a failed write leaves no user behind
    } finally {
      this.#creating.delete(u.username);
    }
    return u;
  }

  async update(id: number, data: UserChange, attr = 'user_update'): Promise<UserRecord> {
    const old = this.#table.require(id);
    const errors = new ValidationErrors();
    if (data.full_name !== undefined) checkNoControlChars(data.full_name, `${attr}.full_name`, errors);
    errors.throwIfAny();
    const u: UserRecord = { ...old, updated_at: Date.now() };
    if (data.full_name !== undefined) u.full_name = data.full_name;
    if (data.email !== undefined) u.email = data.email;
    if (data.roles !== undefined) u.roles = [...new Set(data.roles)];
    if (data.locked !== undefined) u.locked = data.locked;
    if (data.password !== undefined) u.password_hash = data.password === null ? null : await hashPassword(data.password);
    await this.#table.put(u);
    return u;
  }

  delete(id: number): Promise<UserRecord> {
    return this.#table.delete(id);
  }
}
