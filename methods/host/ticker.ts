// Runs a HostSampler every `intervalMs` and hands each sample on: one ticker per distinct
// reporting.realtime interval (shared by its subscribers), and one at 10 s feeding the history.
// Ticks keep to a fixed grid (no drift); a tick whose sample is still being read (a hung FUSE
// file) is skipped rather than stacked.
import { HostSampler, type HostSample, type HostSamplerOptions } from './sampler.js';

export interface SampleTickerOptions {
  intervalMs: number;
  /** A sampler to use (the ticker then does not close it), or options for its own. */
  sampler?: HostSampler | HostSamplerOptions;
  onSample: (sample: HostSample) => void;
  onError?: (err: unknown) => void;
}

export class SampleTicker {
  private readonly sampler: HostSampler;
  private readonly ownsSampler: boolean;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private next = 0;
  private running = false;

  constructor(private readonly options: SampleTickerOptions) {
    if (!(options.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    this.ownsSampler = !(options.sampler instanceof HostSampler);
    this.sampler = options.sampler instanceof HostSampler ? options.sampler : new HostSampler(options.sampler ?? {});
  }

  /** Reads the first counters (rates need two readings); the first sample follows one interval later. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.sampler.sample();
    if (!this.running) return; // stopped while the first reading was taken
    this.next = performance.now() + this.options.intervalMs;
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    const now = performance.now();
    // Behind by whole intervals (a suspended process, a slow tick): skip them, keep the grid.
    while (this.next <= now) this.next += this.options.intervalMs;
    this.timer = setTimeout(() => this.tick(), this.next - now);
    this.timer.unref();
  }

  private tick(): void {
    if (!this.running) return;
    // This tick takes its slot on the grid. A timer may fire a fraction of a millisecond before
    // `next` (setTimeout rounds the delay down): without this, schedule() would see the slot
    // still ahead and tick a second time a moment later.
    this.next += this.options.intervalMs;
    if (!this.inFlight) {
      this.inFlight = this.sampler.sample()
        .then((s) => {
          if (this.running) this.options.onSample(s);
        })
        .catch((err: unknown) => this.options.onError?.(err))
        .finally(() => (this.inFlight = null));
    }
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    if (this.ownsSampler) await this.sampler.close();
  }
}
