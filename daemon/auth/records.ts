// A small table of records kept whole in memory and written through to its sublevel, each under
// its zero-padded id: the local users and the API keys. Ids only grow and are never handed out
// twice: a deletion stores the next id first (in the `meta` sublevel, whose keys sort before the
// digits), so not even a restart after deleting the newest record gives its id to another.
import { CallError, ERRNO } from '../errors.js';
import type { Sublevel } from '../storage.js';

const NEXT_ID = 'next_id';

function key(id: number): string {
  return String(id).padStart(10, '0');
}

export class RecordTable<T extends { id: number }> {
  readonly #byId = new Map<number, T>();
  #nextId = 1;
  readonly #meta: Sublevel<number>;

  /**
   * `what` names a record in errors, e.g. `API key` (“API key 7 does not exist”). `idsBelow`: ids
   * are never handed out from there on (the ids above belong to something else).
   */
  constructor(private readonly db: Sublevel<T>, private readonly what: string, private readonly idsBelow = Number.MAX_SAFE_INTEGER) {
    this.#meta = db.sublevel<string, number>('meta', { valueEncoding: 'json' }) as unknown as Sublevel<number>;
  }

  async open(): Promise<void> {
    // Records only: the meta sublevel's keys start with '!', before the digits.
    for await (const [, r] of this.db.iterator({ gte: '0', lt: ':' })) {
      this.#byId.set(r.id, r);
      this.#nextId = Math.max(this.#nextId, r.id + 1);
    }
    const next = await this.#meta.get(NEXT_ID);
    if (typeof next === 'number') this.#nextId = Math.max(this.#nextId, next);
  }

  get size(): number {
    return this.#byId.size;
  }

  all(): T[] {
    return [...this.#byId.values()];
  }

  get(id: number): T | undefined {
    return this.#byId.get(id);
  }

  /** The record `id`, or CallError ENOENT. */
  require(id: number): T {
    const r = this.#byId.get(id);
    if (!r) throw new CallError(`${this.what} ${id} does not exist`, ERRNO.ENOENT);
    return r;
  }

  /** A new record's id, taken now (a failed write leaves a gap, never a repeat). */
  takeId(): number {
    if (this.#nextId >= this.idsBelow) throw new CallError(`${this.what} ids are used up: they stay below ${this.idsBelow}`, ERRNO.ENOSPC);
    return this.#nextId++;
  }

  /** Store a record (new or changed); it is seen in memory once it is stored. */
  async put(record: T): Promise<void> {
    await this.db.put(key(record.id), record);
    this.#byId.set(record.id, record);
  }

  async delete(id: number): Promise<T> {
    const r = this.require(id);
    await this.#meta.put(NEXT_ID, this.#nextId);
    await this.db.del(key(id));
    this.#byId.delete(id);
    return r;
  }
}
