// reporting.realtime's producers: one sampler per distinct interval, shared by every subscriber
// of that interval, started by the first and stopped with the last (TrueNAS runs one producer per
// distinct argument the same way). The payload is built once per tick and handed to each.
import type { ArcReader } from '../host/arc.js';
import type { HostSample } from '../host/sampler.js';
import { SampleTicker } from '../host/ticker.js';
import type { RealtimePayloadT } from '../../schemas/host/realtime.js';

export type RealtimeListener = (payload: RealtimePayloadT) => void;

interface Group {
  ticker: SampleTicker;
  listeners: Set<RealtimeListener>;
  started: Promise<void>;
}

export interface RealtimeHubOptions {
  /** The payload of one sample (pools added by the caller). */
  payload: (sample: HostSample) => RealtimePayloadT;
  includeInterface: (name: string) => boolean;
  /** One ARC reader for every sampler (arc.ts: one zfs-fuse reading shell, not one per interval). */
  arc: ArcReader;
  onError: (err: unknown) => void;
  /** Distinct intervals at once: each holds a sampler and its open files. */
  maxGroups: number;
}

export class TooManyIntervals extends Error {}

export class RealtimeHub {
  private readonly groups = new Map<number, Group>();

  constructor(private readonly options: RealtimeHubOptions) {}

  /** Adds a listener at `seconds`; the function returned removes it (and stops the sampler it was the last of). */
  subscribe(seconds: number, listener: RealtimeListener): () => Promise<void> {
    let group = this.groups.get(seconds);
    if (!group) {
      if (this.groups.size >= this.options.maxGroups) throw new TooManyIntervals(`at most ${this.options.maxGroups} distinct intervals are sampled at once`);
      const listeners = new Set<RealtimeListener>();
      const ticker = new SampleTicker({
        intervalMs: seconds * 1000,
        // Options, not an instance: the ticker then owns the sampler and closes its files on stop.
        sampler: { includeInterface: this.options.includeInterface, arc: this.options.arc },
        onSample: (sample) => {
          if (listeners.size === 0) return;
          const payload = this.options.payload(sample);
          for (const l of listeners) l(payload);
        },
        onError: this.options.onError,
      });
      group = { ticker, listeners, started: ticker.start().catch(this.options.onError) };
      this.groups.set(seconds, group);
    }
    const g = group;
    g.listeners.add(listener);
    return async () => {
      if (!g.listeners.delete(listener) || g.listeners.size > 0) return;
      if (this.groups.get(seconds) === g) this.groups.delete(seconds);
      await g.started;
      await g.ticker.stop();
    };
  }

  /** The samplers running now: interval (s) and subscriber count. */
  samplers(): Array<{ interval: number; subscribers: number }> {
    return [...this.groups].map(([interval, g]) => ({ interval, subscribers: g.listeners.size })).sort((a, b) => a.interval - b.interval);
  }

  async stop(): Promise<void> {
    const groups = [...this.groups.values()];
    this.groups.clear();
    await Promise.all(groups.map(async (g) => {
      g.listeners.clear();
      await g.started;
      await g.ticker.stop();
    }));
  }
}
