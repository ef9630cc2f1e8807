// Cron jobs in level, in the module's sublevel:
//   rec:<10-digit id> -> CronRecord     meta:next_id -> number
//   cur:<10-digit id> -> epoch ms: the cron job's "last fired" cursor (everything scheduled up to
//                        it has been run or skipped; catch-up starts after it)
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
const CUR = 'cur:';
const NEXT_ID = 'meta:next_id';

function key(id: number, prefix = REC): string {
  return prefix + String(id).padStart(10, '0');
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

  /** Deletes the cron job and its cursor. */
  delete(id: number): Promise<void> {
    return this.serial(() =>
      this.db.batch([
        { type: 'del', key: key(id) },
        { type: 'del', key: key(id, CUR) },
      ]),
    );
  }

  /** Every stored cursor, by cron job id. */
  async loadCursors(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for await (const [k, v] of this.db.iterator({ gte: CUR, lt: 'cur;' })) if (typeof v === 'number') out.set(Number(k.slice(CUR.length)), v);
    return out;
  }

  /** Stores cursors in one batch; those of cron jobs deleted meanwhile are not written back. */
  putCursors(cursors: ReadonlyMap<number, number>, exists: (id: number) => boolean): Promise<void> {
    return this.serial(async () => {
      const ops = [...cursors].filter(([id]) => exists(id)).map(([id, at]) => ({ type: 'put' as const, key: key(id, CUR), value: at }));
      if (ops.length > 0) await this.db.batch(ops);
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    return this.#writes.run(fn);
  }
}
