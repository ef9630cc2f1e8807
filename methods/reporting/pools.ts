// The seam to the storage module (k-storage's pool.*), for reporting.realtime, the history,
// /metrics and system.debug. What the storage module must provide, and all that is used of it:
//
//   a method `pool.query`, called from inside the daemon with no arguments (by name: this module
//   never imports the storage module), answering a list of TrueNAS pool.query entries
//   (MODULES.md 5.1) of which these fields are read (StoragePool below):
//     name: string      status: string ("ONLINE", "DEGRADED", ...)      healthy: boolean
//     size, allocated, free: bytes (numbers), or null when the pool does not say
//
// Other fields are ignored; a missing or mistyped field reads as null; an entry without a name is
// left out. Without a module registering pool.query, the pools are an empty list everywhere
// (realtime `pools: {}`, no pool series in the history, no midship_pool_* metrics, no storage/
// files in the debug bundle) and nothing fails. One answer is kept for a few seconds: the
// realtime samplers, the history and /metrics all ask, and pool.query may run `zpool`. A
// pool.query that fails or does not answer within READ_BUDGET_MS leaves the last answer standing.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { App } from '#midship/module-api';
import { withDeadline } from '../host/deadline.js';
import type { PoolUsageMap } from '../host/realtime.js';

const Bytes = Type.Union([Type.Number({ minimum: 0 }), Type.Null()]);

/** The fields of a pool.query entry this seam reads. */
export const StoragePool = Type.Object({
  name: Type.String({ minLength: 1 }),
  status: Type.Union([Type.String(), Type.Null()]),
  healthy: Type.Union([Type.Boolean(), Type.Null()]),
  size: Bytes,
  allocated: Bytes,
  free: Bytes,
});
export type PoolFacts = Static<typeof StoragePool>;

/** One field of an entry as the seam reads it: the value when it has the field's type, else null. */
function field<K extends Exclude<keyof PoolFacts, 'name'>>(o: Record<string, unknown>, key: K): PoolFacts[K] {
  const v = o[key];
  return (Value.Check(StoragePool.properties[key], v) ? v : null) as PoolFacts[K];
}

/** A pool.query answer as the seam reads it (see the top of this file). */
export function toPoolFacts(answer: unknown): PoolFacts[] {
  if (!Array.isArray(answer)) return [];
  return answer.flatMap((p: unknown) => {
    if (p === null || typeof p !== 'object') return [];
    const o = p as Record<string, unknown>;
    if (!Value.Check(StoragePool.properties.name, o.name)) return [];
    return [{ name: o.name as string, status: field(o, 'status'), healthy: field(o, 'healthy'), size: field(o, 'size'), allocated: field(o, 'allocated'), free: field(o, 'free') }];
  });
}

const FRESH_MS = 5000;
/** How long a reader (a /metrics scrape) waits for pool.query before taking the last answer. */
const READ_BUDGET_MS = 5000;

export class PoolSource {
  private facts: PoolFacts[] = [];
  private at = -Infinity;
  private pending: Promise<PoolFacts[]> | null = null;

  constructor(private readonly app: App) {}

  /** Whether a storage module is loaded. */
  get available(): boolean {
    return this.app.registry.get('pool.query') !== undefined;
  }

  /** The pools now (at most FRESH_MS old); [] without a storage module; the last answer when it fails or is slow. */
  read(): Promise<PoolFacts[]> {
    if (!this.available) return Promise.resolve([]);
    if (performance.now() - this.at < FRESH_MS) return Promise.resolve(this.facts);
    return withDeadline(this.refresh(), READ_BUDGET_MS, () => this.facts);
  }

  /** The last answer without waiting (a sampler tick must not wait for `zpool`); starts a refresh when stale. */
  latest(): PoolFacts[] {
    if (this.available && performance.now() - this.at >= FRESH_MS) void this.refresh();
    return this.facts;
  }

  /** Asks pool.query, once at a time. */
  private refresh(): Promise<PoolFacts[]> {
    this.pending ??= this.app.call('pool.query', [])
      .then((answer) => {
        this.facts = toPoolFacts(answer);
        this.at = performance.now();
        return this.facts;
      })
      .catch(() => this.facts)
      .finally(() => (this.pending = null));
    return this.pending;
  }
}

/** Pools as reporting.realtime and the history carry them: {available, used, total} bytes. */
export function poolUsage(pools: PoolFacts[]): PoolUsageMap {
  const out: PoolUsageMap = {};
  for (const p of pools) {
    const stats: Record<string, number> = {};
    if (p.free !== null) stats.available = p.free;
    if (p.allocated !== null) stats.used = p.allocated;
    if (p.size !== null) stats.total = p.size;
    if (Object.keys(stats).length > 0) out[p.name] = stats;
  }
  return out;
}
