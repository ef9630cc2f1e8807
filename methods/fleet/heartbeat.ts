// Writes this host's presence key: at once on every (re)connect, then every interval while
// connected. A beat that cannot be written (disconnected, slow server) is skipped, never queued:
// only the newest one means anything. The job counts come from the daemon through a callback.
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { checkHeartbeatMs, DEFAULT_HEARTBEAT_MS, type PresenceValue } from './presence.js';
import { PRESENCE_BUCKET } from './subjects.js';

export interface HeartbeatStats {
  jobs: Record<string, number>;
  outbox: { pending: number; dropped: number };
}

export interface HeartbeatOptions {
  host: string;
  version: string;
  intervalMs?: number;
  /** Job counts and outbox figures for this beat. */
  stats: () => HeartbeatStats | Promise<HeartbeatStats>;
  /** How long one put may take before the beat counts as missed. */
  putTimeoutMs?: number;
  now?: () => number;
  onError?: (err: Error) => void;
}

export class Heartbeat {
  readonly intervalMs: number;
  private kv: KV | null = null;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private beats = 0;
  private readonly startedAt: number;
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly o: HeartbeatOptions) {
    this.intervalMs = checkHeartbeatMs(o.intervalMs ?? DEFAULT_HEARTBEAT_MS);
    this.now = o.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** Heartbeats written so far. */
  get count(): number {
    return this.beats;
  }

  /** The connection is up: beat now and on every interval. */
  async attach(nc: NatsConnection): Promise<void> {
    if (this.stopped) return;
    this.kv = await new Kvm(jetstream(nc, { timeout: this.o.putTimeoutMs ?? 5000 })).open(PRESENCE_BUCKET);
    if (this.timer === null) {
      this.timer = setInterval(() => void this.beat('running'), this.intervalMs);
      this.timer.unref();
    }
    await this.beat('running');
  }

  detach(): void {
    this.kv = null;
  }

  /** Writes `state: "stopped"` (when connected) and ends the beats. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.writing;
    if (this.kv) await this.write('stopped');
    this.kv = null;
  }

  private beat(state: PresenceValue['state']): Promise<void> {
    if (this.kv === null || this.writing !== null) return Promise.resolve();
    this.writing = this.write(state).finally(() => (this.writing = null));
    return this.writing;
  }

  private async write(state: PresenceValue['state']): Promise<void> {
    const kv = this.kv;
    if (kv === null) return;
    try {
      const stats = await this.o.stats();
      const now = this.now();
      const value: PresenceValue = {
        v: 1, host: this.o.host, state, version: this.o.version, started_at: this.startedAt,
        uptime_s: Math.max(0, Math.floor((now - this.startedAt) / 1000)), interval_ms: this.intervalMs,
        beats: this.beats + 1, jobs: stats.jobs, outbox: stats.outbox,
      };
      await kv.put(this.o.host, JSON.stringify(value));
      this.beats++;
    } catch (e) {
      this.o.onError?.(new Error(`fleet: heartbeat not written: ${(e as Error).message}`));
    }
  }
}
