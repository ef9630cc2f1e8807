// The history outbox: every job change the fleet should see is first written to the host's own
// level store, in the same batch as the job itself (outboxOp() hands the caller the put to add),
// so the job and its fleet copy are never out of step after a crash, and the host never waits for
// NATS. A background loop publishes the entries in key order to the history stream while
// connected, deletes each one once JetStream acknowledged it, and starts over after a reconnect
// (backfill). An entry whose acknowledgement was lost is published again; the message id makes
// JetStream drop the second copy within the stream's duplicate window.
//
// Layout inside the sublevel the daemon hands over:
//   entries  <16-digit seq>  ->  "<msg id>\n<message body>"   (utf8)
//   meta     instance        ->  random id of this store       (utf8)
// The instance id is made once per store: job ids are unique within a store, so the message ids
// are unique across restarts and across a host that was set up anew. It is random, so a host that
// cannot read the stream cannot guess another host's ids to have its messages dropped as
// duplicates.
//
// Bounds (the documented policy): at most maxEntries entries and maxBytes bytes wait. When an
// entry would exceed either, outboxOp() returns null: the job is stored locally as usual, only
// its fleet copy is missing, and `dropped` counts it (the heartbeat reports it, so the gap shows
// in the fleet's host table). Entries already waiting are never thrown away for newer ones. A job
// larger than maxEntryBytes is trimmed (history-record.ts). Order is key order, i.e. the order in
// which outboxOp() was called; entries of batches that commit out of that order go out as they
// appear, so each job's own entries (added, then ended) always keep their order.
import { Sleeper } from './sleeper.js';
import { randomBytes } from 'node:crypto';
import type { AbstractLevel, AbstractSublevel } from 'abstract-level';
import { JetStreamApiError } from '@nats-io/jetstream';
import { FleetInputError } from './errors.js';
import { encodeRecord, type FleetJob } from './history-record.js';
import { historySubject } from './subjects.js';

type Format = string | Buffer | Uint8Array;
export type OutboxRoot = AbstractLevel<Format, string, unknown>;
/** A sublevel of the daemon's database, e.g. app.sublevel('fleet_outbox'). */
export type OutboxDb<R extends OutboxRoot = OutboxRoot> = AbstractSublevel<R, Format, string, unknown>;
type TextSub<R extends OutboxRoot> = AbstractSublevel<R, Format, string, string>;
/** A put the caller adds to its own batch (on the root database). */
export interface OutboxOp<R extends OutboxRoot = OutboxRoot> {
  type: 'put';
  sublevel: TextSub<R>;
  key: string;
  value: string;
}

/** How the outbox reaches the stream: resolves once JetStream acknowledged the message. */
export interface HistoryPublisher {
  publish(subject: string, body: Uint8Array, msgId: string): Promise<unknown>;
}

export interface OutboxLimits {
  maxEntries: number;
  maxBytes: number;
  /** Largest message body; keep it at or under the stream's max_msg_size. */
  maxEntryBytes: number;
}

export const DEFAULT_OUTBOX_LIMITS: Readonly<OutboxLimits> = {
  maxEntries: 100_000,
  maxBytes: 64 * 1024 * 1024,
  maxEntryBytes: 256 * 1024,
};

export interface OutboxStats {
  pending: number;
  bytes: number;
  /** Refused because the outbox was full or the job could not be trimmed to fit. */
  dropped: number;
  /** Acknowledged by JetStream since open (duplicates included). */
  published: number;
  /** Refused by JetStream for good (too large for the stream) and removed. */
  rejected: number;
}

export interface HistoryOutboxOptions<R extends OutboxRoot> {
  db: OutboxDb<R>;
  host: string;
  limits?: Partial<OutboxLimits>;
  /** Messages in flight at once (they are sent in order on one connection). */
  window?: number;
  /** Wait after a failed round before the next try while still connected. */
  retryMs?: number;
  /**
   * Watch every write of the database for entries (default true). A caller that knows when its
   * batches are written calls kick() instead: the database's write event costs every write of
   * the daemon (about 50 µs a job in the job bench), not only the outbox's.
   */
  watchWrites?: boolean;
  onError?: (err: Error) => void;
}

const SEQ_WIDTH = 16;
const INSTANCE_KEY = 'instance';
/** JSStreamMessageExceedsMaximumErr: the stream will never take this message. */
const TOO_LARGE = 10054;

const seqKey = (n: number): string => String(n).padStart(SEQ_WIDTH, '0');

export class HistoryOutbox<R extends OutboxRoot = OutboxRoot> {
  readonly limits: OutboxLimits;
  private readonly entries: TextSub<R>;
  private readonly meta: TextSub<R>;
  private readonly root: R;
  private readonly window: number;
  private readonly retryMs: number;
  private instanceId: string | null = null;
  private lastSeq = 0;
  private count = 0;
  private size = 0;
  private dropped = 0;
  private published = 0;
  private rejected = 0;
  private publisher: HistoryPublisher | null = null;
  private draining: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly sleeper = new Sleeper();
  private readonly onWrite: (ops: Array<{ type: string; key?: unknown }>) => void;

  constructor(private readonly o: HistoryOutboxOptions<R>) {
    this.limits = { ...DEFAULT_OUTBOX_LIMITS, ...o.limits };
    for (const [k, v] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(v) || v <= 0) throw new FleetInputError(`outbox_limits.${k}`, 'must be a positive integer');
    }
    this.window = o.window ?? 128;
    this.retryMs = o.retryMs ?? 1000;
    // Children of the root with the sublevel's path, so the puts fit the root's batch.
    this.root = o.db.db as unknown as R;
    const path = o.db.path();
    this.entries = this.root.sublevel<string, string>([...path, 'entries'], { valueEncoding: 'utf8' }) as unknown as TextSub<R>;
    this.meta = this.root.sublevel<string, string>([...path, 'meta'], { valueEncoding: 'utf8' }) as unknown as TextSub<R>;
    const prefix = this.entries.prefix;
    // Wakes the loop after any write that put an entry, however the caller batched it.
    this.onWrite = (ops) => {
      if (ops.some((op) => op.type === 'put' && typeof op.key === 'string' && op.key.startsWith(prefix))) this.kick();
    };
  }

  /** The random id of this store, part of every message id. */
  get instance(): string {
    if (this.instanceId === null) throw new Error('HistoryOutbox.open() first');
    return this.instanceId;
  }

  stats(): OutboxStats {
    return { pending: this.count, bytes: this.size, dropped: this.dropped, published: this.published, rejected: this.rejected };
  }

  async open(): Promise<void> {
    const existing = await this.meta.get(INSTANCE_KEY);
    if (existing !== undefined) this.instanceId = existing;
    else {
      this.instanceId = randomBytes(12).toString('base64url');
      await this.meta.put(INSTANCE_KEY, this.instanceId);
    }
    for await (const [key, value] of this.entries.iterator()) {
      this.count++;
      this.size += Buffer.byteLength(value);
      this.lastSeq = Number(key);
    }
    if (this.o.watchWrites !== false) this.root.on('write', this.onWrite);
  }

  /**
   * The put that records `job`'s current state for the fleet, to be written in the caller's own
   * batch; null when the outbox is full (counted in `dropped`). Never waits.
   */
  outboxOp(job: FleetJob): OutboxOp<R> | null {
    const rec = encodeRecord(this.o.host, this.instance, job, this.limits.maxEntryBytes);
    if (rec === null) {
      this.dropped++;
      return null;
    }
    const value = `${rec.msgId}\n${rec.body}`;
    const bytes = Buffer.byteLength(value);
    if (this.count + 1 > this.limits.maxEntries || this.size + bytes > this.limits.maxBytes) {
      this.dropped++;
      return null;
    }
    this.count++;
    this.size += bytes;
    return { type: 'put', sublevel: this.entries, key: seqKey(++this.lastSeq), value };
  }

  /** Connected: publish what waits. */
  attach(publisher: HistoryPublisher): void {
    this.publisher = publisher;
    this.kick();
  }

  /** Disconnected: stop publishing until the next attach. */
  detach(): void {
    this.publisher = null;
    this.sleeper.wake();
  }

  /** Something was written (or the link came back): run the loop unless it is running. */
  kick(): void {
    if (this.closed) return;
    if (this.draining) {
      // The running loop looks again before it ends; a retry pause is not cut short by writes.
      this.again = true;
      return;
    }
    this.draining = this.drain()
      .catch((e: unknown) => this.o.onError?.(new Error(`fleet: history outbox stopped: ${(e as Error).message}`)))
      .finally(() => {
        this.draining = null;
        // A write that came between the loop's last look and here would otherwise wait.
        if (this.again && this.publisher !== null) this.kick();
      });
  }

  /** Resolves true once nothing waits, false when `ms` passed first. For stop paths and tests. */
  async drained(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (this.count > 0 || this.draining !== null) {
      if (Date.now() >= end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.publisher = null;
    this.root.off('write', this.onWrite);
    this.sleeper.wake();
    await this.draining;
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      while (this.publisher !== null && !this.closed) {
        const head = await this.head();
        if (head.length === 0) break;
        const ok = await this.publishRound(this.publisher, head);
        if (!ok && this.publisher !== null && !this.closed) await this.sleeper.sleep(this.retryMs);
      }
    } while (this.again && this.publisher !== null && !this.closed);
  }

  private async head(): Promise<Array<[string, string]>> {
    return this.entries.iterator({ limit: this.window }).all();
  }

  /** Sends one window in order; deletes what was acknowledged. False when something must be retried. */
  private async publishRound(publisher: HistoryPublisher, head: Array<[string, string]>): Promise<boolean> {
    const encoder = new TextEncoder();
    const subject = historySubject(this.o.host);
    const results = await Promise.allSettled(head.map(([, value]) => {
      const nl = value.indexOf('\n');
      return publisher.publish(subject, encoder.encode(value.slice(nl + 1)), value.slice(0, nl));
    }));
    const done: string[] = [];
    let freed = 0;
    let failure: unknown = null;
    results.forEach((r, i) => {
      const [key, value] = head[i]!;
      if (r.status === 'fulfilled') {
        this.published++;
      } else if (r.reason instanceof JetStreamApiError && r.reason.code === TOO_LARGE) {
        this.rejected++;
        this.o.onError?.(new Error(`fleet: history entry ${value.slice(0, value.indexOf('\n'))} refused by the stream for good: ${r.reason.message}`));
      } else {
        failure ??= r.reason;
        return;
      }
      done.push(key);
      freed += Buffer.byteLength(value);
    });
    if (done.length > 0) {
      await this.entries.batch(done.map((key) => ({ type: 'del' as const, key })));
      this.count = Math.max(0, this.count - done.length);
      this.size = Math.max(0, this.size - freed);
    }
    if (failure !== null && this.publisher !== null) {
      this.o.onError?.(new Error(`fleet: history publish failed, will retry: ${(failure as Error).message ?? String(failure)}`));
    }
    return failure === null;
  }
}
