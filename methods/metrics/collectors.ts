// The daemon's Prometheus metrics, in a registry of their own per daemon (prom-client's global
// registry would mix the daemons a test process runs). Counters move as the engine reports
// (EngineObserver); gauges are read when scraped.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { App, EngineObserver } from '#midship/module-api';
import type { PoolSource } from '../reporting/pools.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const JOB_BUCKETS = [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600];

export interface Metrics {
  registry: Registry;
  observer: EngineObserver;
  refreshPools(): Promise<void>;
}

export function createMetrics(app: App, pools: PoolSource): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const calls = new Counter({ name: 'midship_calls_total', help: 'Client calls answered, by method and outcome (success, error: refused or expected failure, exception: unexpected failure).', labelNames: ['method', 'outcome'], registers: [registry] });
  const callSeconds = new Histogram({ name: 'midship_call_duration_seconds', help: 'Time from dispatch to answer of client calls (job calls: until the job ended when the caller waits for it).', labelNames: ['method'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const opened = new Counter({ name: 'midship_connections_opened_total', help: 'WebSocket API connections opened.', labelNames: ['transport', 'protocol'], registers: [registry] });
  const connections = new Gauge({ name: 'midship_connections', help: 'WebSocket API connections open now.', labelNames: ['transport', 'protocol'], registers: [registry] });
  new Gauge({
    name: 'midship_subscriptions', help: 'Event subscriptions open now, over every connection.', registers: [registry],
    collect() { this.set(app.events.subscriptionCount()); },
  });
  new Gauge({
    name: 'midship_jobs', help: 'Jobs waiting or running now, by method and state.', labelNames: ['method', 'state'], registers: [registry],
    collect() {
      this.reset();
      for (const c of app.jobs.activeCounts()) this.set({ method: c.method, state: c.state }, c.count);
    },
  });
  const finished = new Counter({ name: 'midship_jobs_finished_total', help: 'Jobs ended (final state stored), by method and state.', labelNames: ['method', 'state'], registers: [registry] });
  const jobSeconds = new Histogram({ name: 'midship_job_duration_seconds', help: 'How long jobs ran, by method.', labelNames: ['method'], buckets: JOB_BUCKETS, registers: [registry] });
  const dropped = new Counter({ name: 'midship_events_dropped_total', help: 'Event frames a connection never got: coalesced while its socket was backed up, or queued when it was cut for not reading.', labelNames: ['reason'], registers: [registry] });

  // Pools, when a storage module is loaded (the seam of reporting/pools.ts, asked at most every few seconds).
  const poolGauge = (name: string, help: string) => new Gauge({ name, help, labelNames: ['pool'], registers: [registry] });
  const healthy = poolGauge('midship_pool_healthy', 'Whether the pool is healthy (1) or not (0).');
  const size = poolGauge('midship_pool_size_bytes', 'Pool size.');
  const allocated = poolGauge('midship_pool_allocated_bytes', 'Pool space allocated.');
  const free = poolGauge('midship_pool_free_bytes', 'Pool space free.');
  const status = new Gauge({ name: 'midship_pool_status', help: 'The pool status (ONLINE, DEGRADED, ...) as a label of value 1.', labelNames: ['pool', 'status'], registers: [registry] });
  const count = new Gauge({ name: 'midship_pools', help: 'Pools the storage module reports (0 without one).', registers: [registry] });

  /** Pool gauges as of now; run before each scrape is serialized. */
  async function refreshPools(): Promise<void> {
    for (const g of [healthy, size, allocated, free, status, count]) g.reset();
    if (!pools.available) return;
    const list = await pools.read();
    count.set(list.length);
    for (const p of list) {
      if (p.healthy !== null) healthy.set({ pool: p.name }, p.healthy ? 1 : 0);
      if (p.size !== null) size.set({ pool: p.name }, p.size);
      if (p.allocated !== null) allocated.set({ pool: p.name }, p.allocated);
      if (p.free !== null) free.set({ pool: p.name }, p.free);
      if (p.status !== null) status.set({ pool: p.name, status: p.status }, 1);
    }
  }

  const observer: EngineObserver = {
    callEnded(method, outcome, seconds) {
      calls.inc({ method, outcome });
      callSeconds.observe({ method }, seconds);
    },
    jobEnded(method, state, seconds) {
      finished.inc({ method, state });
      jobSeconds.observe({ method }, seconds);
    },
    connectionOpened(transport, protocol) {
      opened.inc({ transport, protocol });
      connections.inc({ transport, protocol });
    },
    connectionClosed(transport, protocol) {
      connections.dec({ transport, protocol });
    },
    eventsDropped(frames, reason) {
      dropped.inc({ reason }, frames);
    },
  };
  return { registry, observer, refreshPools };
}
