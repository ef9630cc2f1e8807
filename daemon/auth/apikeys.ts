// API keys: "<id>-<64 alphanumerics>", shown once. Only SCRAM-SHA-512 material derived from the
// secret is stored (salt, iterations, stored_key, server_key), never the key itself.
import { randomInt } from 'node:crypto';
import type { Sublevel } from '../storage.js';
import { deriveScramMaterial, type ScramMaterial } from './scram.js';
import type { ApiKeys } from '../module-api.js';
import { RecordTable } from './records.js';

export interface ApiKeyRecord {
  id: number;
  name: string;
  username: string;
  created_at: number;
  expires_at: number | null;
  revoked: boolean;
  material: ScramMaterial;
}

export type PublicApiKey = Omit<ApiKeyRecord, 'material' | 'created_at' | 'expires_at'> & {
  user_identifier: string;
  keyhash: string;
  created_at: { $date: number };
  expires_at: { $date: number } | null;
  expired: boolean;
};

/** A change to an API key: a new name, a new expiry (null: never), or `reset` (a new secret). */
export interface KeyChange {
  name?: string;
  expires_at?: number | null;
  reset?: boolean;
}

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function secret64(): string {
  let s = '';
  for (let i = 0; i < 64; i++) s += ALPHANUM[randomInt(ALPHANUM.length)];
  return s;
}

export function isExpired(k: ApiKeyRecord, now = Date.now()): boolean {
  return k.expires_at !== null && k.expires_at <= now;
}

export function publicKey(k: ApiKeyRecord): PublicApiKey {
  const { material, created_at, expires_at, ...rest } = k;
  return {
    ...rest,
    user_identifier: k.username,
    // What identifies the stored material without revealing anything usable.
    keyhash: `pbkdf2_sha512$${material.iterations}$${material.salt}`,
    created_at: { $date: created_at },
    expires_at: expires_at === null ? null : { $date: expires_at },
    expired: isExpired(k),
  };
}

export class ApiKeyStore implements ApiKeys {
  readonly #table: RecordTable<ApiKeyRecord>;

  constructor(db: Sublevel<ApiKeyRecord>, private readonly iterations: number) {
    this.#table = new RecordTable(db, 'API key');
  }

  open(): Promise<void> {
    return this.#table.open();
  }

  all(): ApiKeyRecord[] {
    return this.#table.all();
  }

  get(id: number): ApiKeyRecord | undefined {
    return this.#table.get(id);
  }

  /** Returns the record and the key string, which is never stored. */
  async create(name: string, username: string, expiresAt: number | null): Promise<{ record: ApiKeyRecord; key: string }> {
    const id = this.#table.takeId();
    const secret = secret64();
    const record: ApiKeyRecord = { id, name, username, created_at: Date.now(), expires_at: expiresAt, revoked: false, material: await deriveScramMaterial(secret, this.iterations) };
    await this.#table.put(record);
    return { record, key: `${id}-${secret}` };
  }

  async update(id: number, data: KeyChange): Promise<{ record: ApiKeyRecord; key: string | null }> {
    const old = this.#table.require(id);
    const record = { ...old };
    if (data.name !== undefined) record.name = data.name;
    if (data.expires_at !== undefined) record.expires_at = data.expires_at;
    let key: string | null = null;
    if (data.reset) {
      const secret = secret64();
      record.material = await deriveScramMaterial(secret, this.iterations);
      record.revoked = false;
      key = `${id}-${secret}`;
    }
    await this.#table.put(record);
    return { record, key };
  }

  delete(id: number): Promise<ApiKeyRecord> {
    return this.#table.delete(id);
  }

  async deleteForUser(username: string): Promise<ApiKeyRecord[]> {
    const gone = this.all().filter((k) => k.username === username);
    for (const k of gone) await this.delete(k.id);
    return gone;
  }
}
