// Pool usage and health from the storage module, when one is loaded: asked for by name
// (pool.query), never imported, so reporting, history and /metrics work the same without it.
// One answer is kept for a few seconds: the realtime samplers, the history and /metrics all ask,
// and pool.query may run `zpool`.
import type { App } from '#midship/module-api';
import type { PoolUsageMap } from '../host/realtime.js';

export interface PoolFacts {
  name: string;
  status: string | null;
  healthy: boolean | null;
  /** Bytes; null when the pool does not say (not imported). */
  size: number | null;
  allocated: number | null;
  free: number | null;
}

const FRESH_MS = 5000;

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class PoolSource {
  private facts: PoolFacts[] = [];
  private at = -Infinity;
  private pending: Promise<PoolFacts[]> | null = null;

  constructor(private readonly app: App) {}

  /** Whether a storage module is loaded. */
  get available(): boolean {
    return this.app.registry.get('pool.query') !== undefined;
  }

  /** The pools now (at most FRESH_MS old); [] without a storage module or when it fails. */
  read(): Promise<PoolFacts[]> {
    if (!this.available) return Promise.resolve([]);
    if (performance.now() - this.at < FRESH_MS) return Promise.resolve(this.facts);
    this.pending ??= this.app.call('pool.query', [])
      .then((pools) => {
        this.facts = (Array.isArray(pools) ? pools : []).flatMap((p: unknown) => {
          const o = p as Record<string, unknown>;
          if (typeof o?.name !== 'string') return [];
          return [{
            name: o.name,
            status: typeof o.status === 'string' ? o.status : null,
            healthy: typeof o.healthy === 'boolean' ? o.healthy : null,
            size: num(o.size),
            allocated: num(o.allocated),
            free: num(o.free),
          }];
        });
        this.at = performance.now();
        return this.facts;
      })
      .catch(() => this.facts)
      .finally(() => (this.pending = null));
    return this.pending;
  }

  /** The last answer without waiting (a sampler tick must not wait for `zpool`); starts a refresh when stale. */
  latest(): PoolFacts[] {
    if (this.available && performance.now() - this.at >= FRESH_MS) void this.read();
    return this.facts;
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
