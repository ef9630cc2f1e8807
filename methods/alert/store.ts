// The current alerts, in memory and in level (one record per alert, keyed by uuid). An alert is
// identified by (source, class, key): raised again, or reported again by its source, it keeps its
// uuid and first-seen time, across restarts too; cleared, it is deleted. Every change is made one
// at a time (Slots(1)), stored before it is applied in memory and told to the listener, so what a
// client hears of is what a restart finds.
import { randomUUID } from 'node:crypto';
import { Slots, type Sublevel } from '#midship/module-api';

export interface StoredAlert {
  uuid: string;
  /** The source that reported it; '' for alerts raised by a module (raise/clear). */
  source: string;
  klass: string;
  args: unknown;
  /** JSON (sorted keys) of the class's key of the args. */
  key: string;
  /** First seen, ms. */
  datetime: number;
  last_occurrence: number;
  dismissed: boolean;
}

/** What happened to an alert; `previous` is the alert before a change. */
export type AlertChange =
  | { kind: 'added'; alert: StoredAlert }
  | { kind: 'changed'; alert: StoredAlert; previous: StoredAlert }
  | { kind: 'removed'; alert: StoredAlert; reason: 'cleared' | 'dismissed' };

export interface Drafted {
  klass: string;
  args: unknown;
  key: string;
}

/** JSON with object keys sorted at every depth (Python's json.dumps(sort_keys=True) keys). */
export function stableJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
  });
}

const identity = (a: Pick<StoredAlert, 'source' | 'klass' | 'key'>) => `${a.source}\x00${a.klass}\x00${a.key}`;

export class AlertStore {
  readonly #byUuid = new Map<string, StoredAlert>();
  readonly #byIdentity = new Map<string, StoredAlert>();
  readonly #slots = new Slots(1);

  constructor(
    private readonly db: Sublevel<StoredAlert>,
    private readonly onChange: (changes: AlertChange[]) => void,
  ) {}

  /** Loads the stored alerts; those `keep` refuses (a class no module declares now) are deleted. */
  async load(keep: (a: StoredAlert) => boolean): Promise<StoredAlert[]> {
    const dropped: StoredAlert[] = [];
    for await (const [, a] of this.db.iterator()) {
      if (keep(a)) this.#put(a);
      else dropped.push(a);
    }
    if (dropped.length > 0) await this.db.batch(dropped.map((a) => ({ type: 'del' as const, key: a.uuid })));
    return dropped;
  }

  all(): IterableIterator<StoredAlert> {
    return this.#byUuid.values();
  }

  get(uuid: string): StoredAlert | undefined {
    return this.#byUuid.get(uuid);
  }

  /** Raised by a module: added, or refreshed (args, last occurrence) with its uuid kept. */
  raise(d: Drafted, now: number): Promise<void> {
    return this.#change(() => {
      const current = this.#byIdentity.get(identity({ source: '', ...d }));
      return current ? [this.#refresh(current, d, now)] : [this.#new('', d, now)];
    });
  }

  /** Cleared by a module; no alert of that class and key: nothing happens. */
  clear(klass: string, key: string): Promise<void> {
    return this.#change(() => {
      const current = this.#byIdentity.get(identity({ source: '', klass, key }));
      return current ? [{ kind: 'removed', alert: current, reason: 'cleared' }] : [];
    });
  }

  /** A source's run: what it reports now is what it has; what it stopped reporting is cleared. */
  sync(source: string, drafts: readonly Drafted[], now: number): Promise<void> {
    return this.#change(() => {
      const changes: AlertChange[] = [];
      const seen = new Set<string>();
      for (const d of drafts) {
        const id = identity({ source, ...d });
        if (seen.has(id)) continue; // reported twice in one run: one alert
        seen.add(id);
        const current = this.#byIdentity.get(id);
        changes.push(current ? this.#refresh(current, d, now) : this.#new(source, d, now));
      }
      for (const a of this.#byUuid.values()) {
        if (a.source === source && !seen.has(identity(a))) changes.push({ kind: 'removed', alert: a, reason: 'cleared' });
      }
      return changes;
    });
  }

  /** Dismissed: `remove` (one-shot classes) deletes it, otherwise it is marked dismissed. Unknown uuid: nothing. */
  dismiss(uuid: string, remove: boolean): Promise<void> {
    return this.#change(() => {
      const a = this.#byUuid.get(uuid);
      if (!a) return [];
      if (remove) return [{ kind: 'removed', alert: a, reason: 'dismissed' }];
      return a.dismissed ? [] : [{ kind: 'changed', alert: { ...a, dismissed: true }, previous: a }];
    });
  }

  restore(uuid: string): Promise<void> {
    return this.#change(() => {
      const a = this.#byUuid.get(uuid);
      return a && a.dismissed ? [{ kind: 'changed', alert: { ...a, dismissed: false }, previous: a }] : [];
    });
  }

  /** Waits for every change asked for so far. */
  idle(): Promise<void> {
    return this.#slots.run(async () => undefined);
  }

  #new(source: string, d: Drafted, now: number): AlertChange {
    const alert: StoredAlert = { uuid: randomUUID(), source, klass: d.klass, args: d.args, key: d.key, datetime: now, last_occurrence: now, dismissed: false };
    return { kind: 'added', alert };
  }

  /**
   * The same alert seen again. Only new args make a stored change (and a CHANGED event): the last
   * occurrence alone moves in memory, or every source run would write every alert every minute.
   */
  #refresh(current: StoredAlert, d: Drafted, now: number): AlertChange {
    if (stableJson(current.args) === stableJson(d.args)) {
      current.last_occurrence = now;
      return { kind: 'changed', alert: current, previous: current };
    }
    return { kind: 'changed', alert: { ...current, args: d.args, last_occurrence: now }, previous: current };
  }

  #change(plan: () => AlertChange[]): Promise<void> {
    return this.#slots.run(async () => {
      const changes = plan().filter((c) => c.kind !== 'changed' || c.alert !== c.previous);
      if (changes.length === 0) return;
      await this.db.batch(changes.map((c) => (c.kind === 'removed'
        ? { type: 'del' as const, key: c.alert.uuid }
        : { type: 'put' as const, key: c.alert.uuid, value: c.alert })));
      for (const c of changes) {
        if (c.kind === 'removed') this.#drop(c.alert);
        else this.#put(c.alert);
      }
      this.onChange(changes);
    });
  }

  #put(a: StoredAlert): void {
    this.#byUuid.set(a.uuid, a);
    this.#byIdentity.set(identity(a), a);
  }

  #drop(a: StoredAlert): void {
    this.#byUuid.delete(a.uuid);
    if (this.#byIdentity.get(identity(a))?.uuid === a.uuid) this.#byIdentity.delete(identity(a));
  }
}
