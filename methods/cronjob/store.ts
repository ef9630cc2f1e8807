// Cron jobs in level, in the module's sublevel:
//   rec:<10-digit id> -> CronRecord     meta:next_id -> number
// A record and next_id are written in one batch, and every write goes through one promise chain
// (level does not promise that two batches land in the order they were issued), so ids are never
// handed out twice, even after the newest cron job was deleted and the daemon restarted.
import { Slots, type Sublevel } from '#midship/module-api';
import type { CronJobEntryT } from '../../schemas/cronjob.js';
import type { CronAuthor } from './users.js';

/**
 * A cron job as stored: its entry without the computed next_run and last_run, environment values
 * in clear, and who last saved it (running as root or an unlisted user takes a full admin; never
 * returned).
 */
export type CronRecord = Omit<CronJobEntryT, 'next_run' | 'last_run'> & { author?: CronAuthor };
export type CronData = Omit<CronRecord, 'id'>;

const REC = 'rec:';
const NEXT_ID = 'meta:next_id';

function key(id: number): string {
  return REC + String(id).padStart(10, '0');
}

export class CronStore {
  readonly #writes = new Slots(1);

  constructor(private readonly db: Sublevel) {}

  async load(): Promise<{ records: CronRecord[]; nextId: number }> {
    const records: CronRecord[] = [];
    for await (const [, value] of this.db.iterator({ gte: REC, lt: 'rec;' })) records.push(value as CronRecord);
    const stored = await this.db.get(NEXT_ID);
    const highest = records.reduce((m, r) => Math.max(m, r.id), 0);
    const nextId = typeof stored === 'number' && stored > highest ? stored : highest + 1;
    return { records, nextId };
  }

  put(record: CronRecord, nextId: number): Promise<void> {
    return this.serial(() =>
      this.db.batch([
        { type: 'put', key: key(record.id), value: record },
        { type: 'put', key: NEXT_ID, value: nextId },
      ]),
    );
  }

  delete(id: number): Promise<void> {
    return this.serial(() => this.db.del(key(id)));
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    return this.#writes.run(fn);
  }
}
