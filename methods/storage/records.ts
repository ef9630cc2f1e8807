// A table of records with integer ids in the module's level sublevel, kept in memory too:
//   rec:<10-digit id> -> record        meta:next_id -> number
// A record and next_id are written in one batch, and every write goes through one Slots(1)
// (level does not promise that two batches land in the order they were issued), so ids are never
// handed out twice, even after the newest record was deleted and the daemon restarted. Writes
// land before the caller is answered.
import { Slots, type Sublevel } from '#midship/module-api';

const REC = 'rec:';
const NEXT_ID = 'meta:next_id';

function key(id: number): string {
  return REC + String(id).padStart(10, '0');
}

export class RecordTable<T extends { id: number }> {
  readonly #writes = new Slots(1);
  readonly #rows = new Map<number, T>();
  #nextId = 1;

  constructor(private readonly db: Sublevel<unknown>) {}

  async load(): Promise<void> {
    for await (const [, value] of this.db.iterator({ gte: REC, lt: 'rec;' })) {
      const r = value as T;
      this.#rows.set(r.id, r);
    }
    const stored = await this.db.get(NEXT_ID);
    const highest = Math.max(0, ...this.#rows.keys());
    this.#nextId = typeof stored === 'number' && stored > highest ? stored : highest + 1;
  }

  get(id: number): T | undefined {
    return this.#rows.get(id);
  }

  /** Every record, by id. */
  all(): T[] {
    return [...this.#rows.values()].sort((a, b) => a.id - b.id);
  }

  find(pred: (r: T) => boolean): T | undefined {
    for (const r of this.#rows.values()) if (pred(r)) return r;
    return undefined;
  }

  /** Stores a new record; its id is taken before the write, so two inserts never share one. */
  async insert(data: Omit<T, 'id'>): Promise<T> {
    const record = { ...data, id: this.#nextId++ } as T;
    const next = this.#nextId;
    await this.#writes.run(() => this.db.batch([
      { type: 'put', key: key(record.id), value: record },
      { type: 'put', key: NEXT_ID, value: next },
    ]));
    this.#rows.set(record.id, record);
    return record;
  }

  async put(record: T): Promise<T> {
    await this.#writes.run(() => this.db.put(key(record.id), record));
    this.#rows.set(record.id, record);
    return record;
  }

  async delete(id: number): Promise<boolean> {
    if (!this.#rows.has(id)) return false;
    await this.#writes.run(() => this.db.del(key(id)));
    this.#rows.delete(id);
    return true;
  }
}
