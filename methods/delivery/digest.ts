// HOURLY and DAILY alert policies: alerts raised or cleared for a service are collected in level
// and sent as one message when their window ends (windows are whole UTC hours or days; a window
// opens with its first alert, so a quiet hour sends nothing). Collected alerts survive a restart;
// a window that ended while the daemon was down is sent at open(). One alert counts once per
// window and change (raised, cleared), however often it flaps; past maxAlertsPerDigest the rest
// are only counted ("N more not listed"), so a storm of alerts cannot grow a digest without bound.
//
// Layout in the sublevel given (JSON values):
//   entry  <service>\x00<policy>\x00<raised|cleared>\x00<uuid> -> {at, alert}
//   window <service>\x00<policy>                               -> {first_at, omitted}
import type { AbstractSublevel } from 'abstract-level';
import type { AlertMessage, AlertSummary } from './alert-format.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { FieldErrors } from './field-errors.js';
import { DESTINATION_ID, type DeliveryDb, type QueueOp } from './queue-store.js';

export type DigestPolicy = 'HOURLY' | 'DAILY';
export type AlertChange = 'raised' | 'cleared';

const WINDOW_MS: Record<DigestPolicy, number> = { HOURLY: 3_600_000, DAILY: 86_400_000 };
const SEP = '\x00';

type Format = string | Buffer | Uint8Array;
type Sub<V> = AbstractSublevel<DeliveryDb, Format, string, V>;

interface StoredEntry {
  at: number;
  alert: AlertSummary;
}

interface StoredWindow {
  first_at: number;
  omitted: number;
}

interface Window {
  service: string;
  policy: DigestPolicy;
  firstAt: number;
  omitted: number;
  keys: Set<string>;
  timer: TimerHandle | null;
}

export interface DigestBufferOptions {
  db: DeliveryDb;
  hostname: string;
  /** Hands a digest on, e.g. to the delivery queue; resolves once it is stored there. */
  deliver: (service: string, message: AlertMessage) => Promise<void>;
  clock?: Clock;
  /** Alerts listed in one digest. Default 500. */
  maxAlertsPerDigest?: number;
  /** Wait before handing a digest on again after deliver() failed. Default 60 s. */
  redeliverDelayMs?: number;
  onError?: (err: unknown) => void;
}

export interface DigestStatus {
  count: number;
  omitted: number;
  /** When the window closes and the digest goes out (ms). */
  dueAt: number;
}

/** End of the window that `at` falls in. */
export function windowEnd(policy: DigestPolicy, at: number): number {
  const size = WINDOW_MS[policy];
  return Math.floor(at / size) * size + size;
}

export class DigestBuffer {
  private readonly entries: Sub<StoredEntry>;
  private readonly windowState: Sub<StoredWindow>;
  private readonly clock: Clock;
  private readonly maxAlerts: number;
  private readonly redeliverDelayMs: number;
  private readonly windows = new Map<string, Window>();
  private chain: Promise<unknown> = Promise.resolve();
  private state: 'new' | 'open' | 'closed' = 'new';

  constructor(private readonly options: DigestBufferOptions) {
    const sub = <V>(name: string): Sub<V> => options.db.sublevel<string, V>(name, { valueEncoding: 'json' }) as Sub<V>;
    this.entries = sub<StoredEntry>('entry');
    this.windowState = sub<StoredWindow>('window');
    this.clock = options.clock ?? systemClock;
    this.maxAlerts = options.maxAlertsPerDigest ?? 500;
    this.redeliverDelayMs = options.redeliverDelayMs ?? 60_000;
  }

  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error('DigestBuffer.open() called twice');
    for await (const [key, w] of this.windowState.iterator()) {
      const [service, policy] = key.split(SEP) as [string, DigestPolicy];
      if (!(policy in WINDOW_MS)) continue;
      this.windows.set(key, { service, policy, firstAt: w.first_at, omitted: w.omitted, keys: new Set(), timer: null });
    }
    for await (const key of this.entries.keys()) {
      const parts = key.split(SEP);
      const w = this.windows.get(`${parts[0]}${SEP}${parts[1]}`);
      if (w) w.keys.add(key);
      // An entry without its window (a crash between the two writes cannot cause this, both go in
      // one batch) would never be sent; it is left for removeService() to clear.
    }
    this.state = 'open';
    for (const w of this.windows.values()) this.schedule(w);
  }

  async close(): Promise<void> {
    this.state = 'closed';
    for (const w of this.windows.values()) w.timer?.cancel();
    await this.chain;
  }

  /** Collects one alert change for a service's next digest; resolves once it is stored. */
  add(service: string, policy: DigestPolicy, change: AlertChange, alert: AlertSummary): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error('digest buffer is not open'));
    if (!DESTINATION_ID.test(service)) return Promise.reject(FieldErrors.one('service', 'Must be 1 to 200 printable ASCII characters without spaces'));
    if (!(policy in WINDOW_MS)) return Promise.reject(FieldErrors.one('policy', 'Must be HOURLY or DAILY'));
    return this.serial(async () => {
      const wkey = `${service}${SEP}${policy}`;
      const now = this.clock.now();
      let w = this.windows.get(wkey);
      const fresh = w === undefined;
      w ??= { service, policy, firstAt: now, omitted: 0, keys: new Set(), timer: null };
      const key = `${wkey}${SEP}${change}${SEP}${alert.uuid}`;
      const ops: QueueOp[] = [];
      if (w.keys.has(key) || w.keys.size < this.maxAlerts) {
        ops.push({ type: 'put', sublevel: this.entries, key, value: { at: now, alert } });
      } else {
        w.omitted++;
      }
      ops.push({ type: 'put', sublevel: this.windowState, key: wkey, value: { first_at: w.firstAt, omitted: w.omitted } });
      await this.options.db.batch(ops);
      if (ops.length === 2) w.keys.add(key);
      if (fresh) {
        this.windows.set(wkey, w);
        this.schedule(w);
      }
    });
  }

  status(service: string, policy: DigestPolicy): DigestStatus | null {
    const w = this.windows.get(`${service}${SEP}${policy}`);
    return w ? { count: w.keys.size, omitted: w.omitted, dueAt: windowEnd(w.policy, w.firstAt) } : null;
  }

  /** Drops whatever is collected for a service (alertservice.delete). */
  removeService(service: string): Promise<void> {
    return this.serial(async () => {
      for (const policy of Object.keys(WINDOW_MS)) {
        const wkey = `${service}${SEP}${policy}`;
        this.windows.get(wkey)?.timer?.cancel();
        this.windows.delete(wkey);
        await this.entries.clear({ gt: wkey + SEP, lt: wkey + '\x01' });
        await this.windowState.del(wkey);
      }
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private schedule(w: Window, at = windowEnd(w.policy, w.firstAt)): void {
    w.timer?.cancel();
    w.timer = null;
    if (this.state !== 'open') return;
    const flush = () => {
      w.timer = null;
      this.serial(() => this.flush(w)).catch((err: unknown) => this.options.onError?.(err));
    };
    // A window that ended while the daemon was down goes out now, whatever the clock's timers do.
    if (at <= this.clock.now()) flush();
    else w.timer = this.clock.setTimer(flush, at - this.clock.now());
  }

  private async flush(w: Window): Promise<void> {
    const wkey = `${w.service}${SEP}${w.policy}`;
    if (this.state !== 'open' || this.windows.get(wkey) !== w) return;
    const keys = [...w.keys];
    const values = await this.entries.getMany(keys);
    const raised: AlertSummary[] = [];
    const cleared: AlertSummary[] = [];
    keys.forEach((key, i) => {
      const entry = values[i];
      if (entry) (key.split(SEP)[2] === 'cleared' ? cleared : raised).push(entry.alert);
    });
    const from = windowEnd(w.policy, w.firstAt) - WINDOW_MS[w.policy];
    const message: AlertMessage = {
      kind: w.policy, hostname: this.options.hostname, raised, cleared,
      period: { from, to: from + WINDOW_MS[w.policy] }, omitted: w.omitted,
    };
    try {
      await this.options.deliver(w.service, message);
    } catch (err) {
      this.options.onError?.(err);
      this.schedule(w, this.clock.now() + this.redeliverDelayMs);
      return;
    }
    this.windows.delete(wkey);
    await this.options.db.batch([
      ...keys.map((key): QueueOp => ({ type: 'del', sublevel: this.entries, key })),
      { type: 'del', sublevel: this.windowState, key: wkey },
    ]);
  }
}
