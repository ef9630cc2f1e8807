// The durable, at-least-once delivery queue behind job webhooks and alert services.
//
// - A delivery is written to level before its first try (enqueue() resolves after that).
// - Each destination is a lane: its deliveries go out one at a time, in the order queued. A
//   delivery that is being retried holds back the later ones of its lane (never overtaken), and
//   only those: lanes share nothing but the HTTP sender's overall concurrency cap.
// - Tries that fail with a retryable error are retried per the RetryPolicy, for up to maxAge;
//   a refused one (4xx) or one given up is recorded FAILED and the lane moves on.
// - After a restart, open() finds every waiting delivery with its try count and due time; the
//   owner hands each destination its transport again with setDestination().
// - Bounded: at most maxQueuedPerDestination deliveries and maxQueuedBytesPerDestination bytes
//   wait per destination; past that, enqueue() refuses the new delivery (DeliveryRefusedError)
//   and records it DROPPED in the destination's history, so what is already queued is never
//   thrown away to make room. At most bufferSize deliveries of a lane are held in memory, the
//   rest stay in level. The history keeps the newest keepAttempts entries per destination.
// A crash between a successful try and the write that records it means that delivery is sent
// again after the restart: receivers de-duplicate by delivery id.
import { randomUUID } from 'node:crypto';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { FieldErrors } from './field-errors.js';
import { GroupWriter } from './group-writer.js';
import { checkPolicy, DEFAULT_RETRY_POLICY, nextTryAt, type RetryPolicy, type TryOutcome } from './retry-policy.js';
import {
  DESTINATION_ID, QueueStore, seqKey,
  type AttemptStatus, type DeliveryAttempt, type DeliveryDb, type DestinationState, type QueueOp, type StoredItem,
} from './queue-store.js';

export interface DeliveryItem {
  destination: string;
  /** The delivery id, the same on every try. */
  id: string;
  event: string;
  payload: unknown;
  queuedAt: number;
  /** Tries made before this one. */
  tries: number;
}

export interface TryContext {
  /** Aborted when the queue closes or the destination is removed mid-try. */
  signal: AbortSignal;
  /** The queue clock's time at the start of the try (ms): sign with this, not Date.now(). */
  now: number;
}

/** How one destination is reached: HTTP POST, Slack, mail, ... */
export interface DeliveryTransport {
  /**
   * One try. Failures are outcomes, not exceptions; an exception is taken as a retryable failure,
   * except FieldErrors (a stored setting is invalid), which fails the delivery for good.
   */
  send(item: DeliveryItem, context: TryContext): Promise<TryOutcome>;
  /** Called when the transport is replaced or removed, or the queue closes. */
  close?(): void | Promise<void>;
}

export interface QueueLimits {
  maxQueuedPerDestination: number;
  maxQueuedBytesPerDestination: number;
  /** A single payload larger than this (as JSON) is refused. */
  maxPayloadBytes: number;
  /** Entries of webhook.deliveries(id) history kept per destination. */
  keepAttempts: number;
  /** Deliveries of one destination held in memory; the rest are read from level when due. */
  bufferSize: number;
}

export const DEFAULT_QUEUE_LIMITS: Readonly<QueueLimits> = {
  maxQueuedPerDestination: 10_000,
  maxQueuedBytesPerDestination: 64 * 1024 * 1024,
  maxPayloadBytes: 1024 * 1024,
  keepAttempts: 100,
  bufferSize: 64,
};

export interface FailingInfo {
  destination: string;
  /** When the first failure since the last success happened (ms). */
  since: number;
  lastError: string | null;
  lastStatusCode: number | null;
}

export interface DeliveryQueueOptions {
  db: DeliveryDb;
  clock?: Clock;
  policy?: Partial<RetryPolicy>;
  limits?: Partial<QueueLimits>;
  /** Source of jitter, [0, 1). */
  random?: () => number;
  /** Once per failing period: the destination has failed without a success for policy.failingAlertMs. */
  onFailing?: (info: FailingInfo) => void;
  /** A destination reported by onFailing has delivered again. */
  onRecovered?: (destination: string) => void;
  /** Every history entry, as it is recorded. */
  onAttempt?: (destination: string, attempt: DeliveryAttempt) => void;
  /** A level write failed (the deliveries involved may be sent again after a restart). */
  onError?: (err: unknown) => void;
}

export interface DestinationStatus {
  destination: string;
  queued: number;
  queued_bytes: number;
  /** A try is in flight now. */
  sending: boolean;
  /** When the first waiting delivery is due, if it is waiting for a retry (ms). */
  next_try_at: number | null;
  failing_since: number | null;
  failing_reported: boolean;
}

export type RefusalReason = 'queue_full' | 'payload_too_large';

export class DeliveryRefusedError extends Error {
  constructor(
    readonly destination: string,
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'DeliveryRefusedError';
  }
}

interface Entry {
  seq: number;
  item: StoredItem;
}

interface Lane {
  id: string;
  transport: DeliveryTransport | null;
  retired: DeliveryTransport[];
  /** Reserved at enqueue (before the write lands), released when a delivery leaves the queue. */
  count: number;
  bytes: number;
  lastSeq: number;
  /** Highest seq that left the queue (delivered, failed); level reads start after it. */
  doneSeq: number;
  lastTrySeq: number;
  /** The first waiting deliveries, contiguous from doneSeq + 1. */
  buffer: Entry[];
  state: DestinationState;
  pumping: Promise<void> | null;
  kickAgain: boolean;
  inflight: AbortController | null;
  timer: TimerHandle | null;
  removed: boolean;
}

const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,200}$/;

export class DeliveryQueue {
  readonly policy: Readonly<RetryPolicy>;
  readonly limits: Readonly<QueueLimits>;
  private readonly store: QueueStore;
  private readonly writer: GroupWriter<QueueOp>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly hooks: Pick<DeliveryQueueOptions, 'onFailing' | 'onRecovered' | 'onAttempt' | 'onError'>;
  private readonly lanes = new Map<string, Lane>();
  private state: 'new' | 'open' | 'closing' | 'closed' = 'new';

  constructor(options: DeliveryQueueOptions) {
    this.store = new QueueStore(options.db);
    this.writer = new GroupWriter<QueueOp>(options.db);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.policy = checkPolicy({ ...DEFAULT_RETRY_POLICY, ...options.policy });
    this.limits = { ...DEFAULT_QUEUE_LIMITS, ...options.limits };
    for (const [k, v] of Object.entries(this.limits)) {
      if (!(Number.isSafeInteger(v) && v >= 1)) throw new RangeError(`queue limit ${k} must be a positive integer`);
    }
    this.hooks = { onFailing: options.onFailing, onRecovered: options.onRecovered, onAttempt: options.onAttempt, onError: options.onError };
  }

  /** Loads what was waiting before a restart. Deliveries go out once their destination is set. */
  async open(): Promise<void> {
    if (this.state !== 'new') throw new Error('DeliveryQueue.open() called twice');
    const loaded = await this.store.load(this.limits.bufferSize, this.limits.keepAttempts);
    for (const [id, l] of loaded) {
      const lane = this.newLane(id);
      lane.count = l.count;
      lane.bytes = l.bytes;
      lane.lastSeq = l.lastSeq;
      lane.doneSeq = l.head.length > 0 ? l.head[0]!.seq - 1 : l.lastSeq;
      lane.buffer = l.head;
      lane.lastTrySeq = l.lastTrySeq;
      lane.state = l.state;
    }
    this.state = 'open';
  }

  /** Stops trying (tries in flight are aborted and stay queued) and waits for writes to land. */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    for (const lane of this.lanes.values()) {
      lane.timer?.cancel();
      lane.timer = null;
      lane.inflight?.abort(new Error('delivery queue closing'));
    }
    await Promise.all([...this.lanes.values()].map((l) => l.pumping));
    await this.writer.idle();
    for (const lane of this.lanes.values()) {
      await closeAll([...lane.retired, ...(lane.transport ? [lane.transport] : [])]);
      lane.retired = [];
    }
    this.state = 'closed';
  }

  /**
   * Registers (or replaces) how a destination is reached and starts delivering what waits for
   * it. A try in flight finishes on the old transport, which is closed afterwards.
   */
  setDestination(destination: string, transport: DeliveryTransport): void {
    this.mustBeOpen();
    checkDestinationId(destination);
    const lane = this.lanes.get(destination) ?? this.newLane(destination);
    if (lane.transport && lane.transport !== transport) lane.retired.push(lane.transport);
    lane.transport = transport;
    if (!lane.inflight) void closeAll(lane.retired.splice(0));
    this.kick(lane);
  }

  /** Forgets a destination: waiting deliveries, history and failing state are deleted. */
  async removeDestination(destination: string): Promise<void> {
    this.mustBeOpen();
    const lane = this.lanes.get(destination);
    if (lane) {
      lane.removed = true;
      lane.timer?.cancel();
      lane.inflight?.abort(new Error('destination removed'));
      this.lanes.delete(destination);
      void closeAll([...lane.retired, ...(lane.transport ? [lane.transport] : [])]);
    }
    await this.writer.exclusive(() => this.store.clearDestination(destination));
  }

  /** Destinations with anything stored (waiting deliveries, history), set or not. */
  destinations(): string[] {
    return [...this.lanes.keys()];
  }

  /**
   * Queues a delivery and resolves with its id once it is in level. Throws DeliveryRefusedError
   * when the destination's queue is full or the payload too large (recorded as DROPPED), and
   * FieldErrors for a destination never set or an event name that is not one.
   */
  async enqueue(destination: string, event: string, payload: unknown): Promise<string> {
    this.mustBeOpen();
    const lane = this.lanes.get(destination);
    if (!lane || !lane.transport) throw FieldErrors.one('destination', `Unknown delivery destination ${JSON.stringify(destination)}`);
    // Event names travel in a header (X-Midship-Event): nothing that could break out of it.
    if (typeof event !== 'string' || !EVENT_NAME.test(event)) throw FieldErrors.one('event', 'Must be 1 to 200 letters, digits and . _ : -');
    const json = JSON.stringify(payload ?? null);
    const size = Buffer.byteLength(json, 'utf8');
    const id = randomUUID();
    const now = this.clock.now();
    if (size > this.limits.maxPayloadBytes) {
      this.refuse(lane, id, event, now, 'payload_too_large', `Payload is ${size} bytes; the limit is ${this.limits.maxPayloadBytes}`);
    }
    if (lane.count >= this.limits.maxQueuedPerDestination || lane.bytes + size > this.limits.maxQueuedBytesPerDestination) {
      this.refuse(lane, id, event, now, 'queue_full', `Queue full: ${lane.count} deliveries (${lane.bytes} bytes) are waiting for ${destination}; the limits are ${this.limits.maxQueuedPerDestination} deliveries and ${this.limits.maxQueuedBytesPerDestination} bytes`);
    }
    const item: StoredItem = { id, event, payload: JSON.parse(json) as unknown, queued_at: now, tries: 0, next_at: now, size };
    const seq = ++lane.lastSeq;
    lane.count++;
    lane.bytes += size;
    try {
      await this.writer.write([{ type: 'put', sublevel: this.store.items, key: seqKey(destination, seq), value: item }]);
    } catch (err) {
      lane.count--;
      lane.bytes -= size;
      throw err;
    }
    // Keep the in-memory head contiguous; anything past it is read back from level in order.
    const last = lane.buffer.length > 0 ? lane.buffer[lane.buffer.length - 1]!.seq : lane.doneSeq;
    if (last === seq - 1 && lane.buffer.length < this.limits.bufferSize) lane.buffer.push({ seq, item });
    if (!lane.removed) this.kick(lane);
    return id;
  }

  /** The newest history entries of a destination, newest first. */
  async attempts(destination: string, limit = this.limits.keepAttempts): Promise<DeliveryAttempt[]> {
    await this.writer.idle();
    return this.store.readTries(destination, Math.max(1, Math.min(limit, this.limits.keepAttempts)));
  }

  status(destination: string): DestinationStatus | null {
    const lane = this.lanes.get(destination);
    if (!lane) return null;
    const head = lane.buffer[0];
    const waiting = head !== undefined && head.item.tries > 0;
    return {
      destination,
      queued: lane.count,
      queued_bytes: lane.bytes,
      sending: lane.inflight !== null,
      next_try_at: waiting ? head.item.next_at : null,
      failing_since: lane.state.failing_since,
      failing_reported: lane.state.failing_reported,
    };
  }

  /** Makes a delivery waiting for its retry due now (e.g. after the receiver was fixed). */
  retryNow(destination: string): void {
    this.mustBeOpen();
    const lane = this.lanes.get(destination);
    if (!lane) return;
    const head = lane.buffer[0];
    const now = this.clock.now();
    if (head && head.item.next_at > now) {
      head.item = { ...head.item, next_at: now };
      this.persist([{ type: 'put', sublevel: this.store.items, key: seqKey(lane.id, head.seq), value: head.item }]);
    }
    this.kick(lane);
  }

  /** Resolves when every write issued so far has landed. */
  flush(): Promise<void> {
    return this.writer.idle();
  }

  private mustBeOpen(): void {
    if (this.state !== 'open') throw new Error(`delivery queue is ${this.state === 'new' ? 'not open yet' : 'closed'}`);
  }

  private newLane(id: string): Lane {
    const lane: Lane = {
      id, transport: null, retired: [], count: 0, bytes: 0, lastSeq: 0, doneSeq: 0, lastTrySeq: 0, buffer: [],
      state: { failing_since: null, failing_reported: false }, pumping: null, kickAgain: false, inflight: null, timer: null, removed: false,
    };
    this.lanes.set(id, lane);
    return lane;
  }

  private kick(lane: Lane): void {
    if (this.state !== 'open') return;
    // A kick while the lane is pumping (even one about to return) must not be lost: it may be
    // the retry timer or a retryNow() the running pump has already looked past.
    if (lane.pumping) {
      lane.kickAgain = true;
      return;
    }
    lane.kickAgain = false;
    lane.pumping = this.pump(lane).finally(() => {
      lane.pumping = null;
      if (lane.kickAgain && !lane.removed) this.kick(lane);
    });
  }

  private live(lane: Lane): boolean {
    return this.state === 'open' && !lane.removed && lane.transport !== null;
  }

  private async pump(lane: Lane): Promise<void> {
    try {
      while (this.live(lane)) {
        const head = lane.buffer[0] ?? (await this.refill(lane));
        if (!head || !this.live(lane)) return;
        const now = this.clock.now();
        if (head.item.next_at > now) {
          lane.timer?.cancel();
          lane.timer = this.clock.setTimer(() => {
            lane.timer = null;
            this.kick(lane);
          }, head.item.next_at - now);
          return;
        }
        lane.timer?.cancel();
        lane.timer = null;
        const outcome = await this.tryOnce(lane, head, now);
        if (outcome.verdict === 'aborted' || lane.removed) return;
        this.settle(lane, head, outcome);
      }
    } catch (err) {
      // A level read failed; the lane starts again with the next enqueue or setDestination.
      this.hooks.onError?.(err);
    }
  }

  private async tryOnce(lane: Lane, head: Entry, now: number): Promise<TryOutcome> {
    const transport = lane.transport!;
    const controller = new AbortController();
    lane.inflight = controller;
    const item: DeliveryItem = {
      destination: lane.id, id: head.item.id, event: head.item.event, payload: head.item.payload,
      queuedAt: head.item.queued_at, tries: head.item.tries,
    };
    try {
      return await transport.send(item, { signal: controller.signal, now });
    } catch (err) {
      if (controller.signal.aborted) return { verdict: 'aborted', statusCode: null, durationMs: 0, error: null, retryAfterMs: null };
      const message = err instanceof Error ? err.message : String(err);
      return { verdict: err instanceof FieldErrors ? 'reject' : 'retry', statusCode: null, durationMs: 0, error: message, retryAfterMs: null };
    } finally {
      lane.inflight = null;
      if (lane.retired.length > 0) void closeAll(lane.retired.splice(0));
    }
  }

  private async refill(lane: Lane): Promise<Entry | undefined> {
    if (lane.count === 0) return undefined;
    const rows = await this.store.readItems(lane.id, lane.doneSeq, this.limits.bufferSize);
    for (const row of rows) {
      const last = lane.buffer.length > 0 ? lane.buffer[lane.buffer.length - 1]!.seq : lane.doneSeq;
      if (row.seq > last && lane.buffer.length < this.limits.bufferSize) lane.buffer.push(row);
    }
    return lane.buffer[0];
  }

  /** Records a finished try and moves the lane on: next delivery, or a wait for the retry. */
  private settle(lane: Lane, head: Entry, outcome: TryOutcome): void {
    const end = this.clock.now();
    const tryNo = head.item.tries + 1;
    const ops: QueueOp[] = [];
    const record = (status: AttemptStatus, error: string | null, nextTryAt: number | null) =>
      this.recordAttempt(lane, ops, {
        delivery_id: head.item.id, event: head.item.event, try: tryNo, at: end, status,
        status_code: outcome.statusCode, duration_ms: outcome.durationMs, error, next_try_at: nextTryAt,
      });

    if (outcome.verdict === 'delivered') {
      this.dequeue(lane, head, ops);
      record('SUCCESS', null, null);
      this.markSuccess(lane, ops);
    } else if (outcome.verdict === 'reject') {
      this.dequeue(lane, head, ops);
      record('FAILED', outcome.error, null);
      this.markFailure(lane, ops, end, outcome);
    } else {
      const at = nextTryAt(this.policy, head.item.queued_at, end, tryNo, outcome.retryAfterMs, this.random());
      if (at === null) {
        this.dequeue(lane, head, ops);
        const hours = Math.round((this.policy.maxAgeMs / 3_600_000) * 10) / 10;
        record('FAILED', `gave up after ${tryNo} tries over ${hours} h: ${outcome.error ?? 'unknown error'}`, null);
      } else {
        head.item = { ...head.item, tries: tryNo, next_at: at };
        ops.push({ type: 'put', sublevel: this.store.items, key: seqKey(lane.id, head.seq), value: head.item });
        record('RETRYING', outcome.error, at);
      }
      this.markFailure(lane, ops, end, outcome);
    }
    this.persist(ops);
  }

  private dequeue(lane: Lane, head: Entry, ops: QueueOp[]): void {
    lane.buffer.shift();
    lane.doneSeq = head.seq;
    lane.count--;
    lane.bytes -= head.item.size;
    ops.push({ type: 'del', sublevel: this.store.items, key: seqKey(lane.id, head.seq) });
  }

  private recordAttempt(lane: Lane, ops: QueueOp[], attempt: DeliveryAttempt): void {
    const seq = ++lane.lastTrySeq;
    ops.push({ type: 'put', sublevel: this.store.tries, key: seqKey(lane.id, seq), value: attempt });
    // Try sequence numbers are contiguous, so the entry falling out of the window is known.
    const old = seq - this.limits.keepAttempts;
    if (old >= 1) ops.push({ type: 'del', sublevel: this.store.tries, key: seqKey(lane.id, old) });
    this.hooks.onAttempt?.(lane.id, attempt);
  }

  private refuse(lane: Lane, id: string, event: string, now: number, reason: RefusalReason, message: string): never {
    const ops: QueueOp[] = [];
    this.recordAttempt(lane, ops, {
      delivery_id: id, event, try: 0, at: now, status: 'DROPPED', status_code: null, duration_ms: null, error: message, next_try_at: null,
    });
    this.persist(ops);
    throw new DeliveryRefusedError(lane.id, reason, message);
  }

  private markSuccess(lane: Lane, ops: QueueOp[]): void {
    if (lane.state.failing_since === null && !lane.state.failing_reported) return;
    const wasReported = lane.state.failing_reported;
    lane.state = { failing_since: null, failing_reported: false };
    ops.push({ type: 'del', sublevel: this.store.dests, key: lane.id });
    if (wasReported) this.hooks.onRecovered?.(lane.id);
  }

  private markFailure(lane: Lane, ops: QueueOp[], now: number, outcome: TryOutcome): void {
    const s = lane.state;
    let changed = false;
    if (s.failing_since === null) {
      lane.state = { failing_since: now, failing_reported: false };
      changed = true;
    }
    const since = lane.state.failing_since!;
    if (!lane.state.failing_reported && now - since >= this.policy.failingAlertMs) {
      lane.state = { failing_since: since, failing_reported: true };
      changed = true;
      this.hooks.onFailing?.({ destination: lane.id, since, lastError: outcome.error, lastStatusCode: outcome.statusCode });
    }
    if (changed) ops.push({ type: 'put', sublevel: this.store.dests, key: lane.id, value: lane.state });
  }

  private persist(ops: QueueOp[]): void {
    if (ops.length === 0) return;
    this.writer.write(ops).catch((err: unknown) => this.hooks.onError?.(err));
  }
}

function checkDestinationId(id: string): void {
  if (typeof id !== 'string' || !DESTINATION_ID.test(id)) {
    throw FieldErrors.one('destination', 'Must be 1 to 200 printable ASCII characters without spaces');
  }
}

async function closeAll(transports: DeliveryTransport[]): Promise<void> {
  for (const t of transports) {
    try {
      await t.close?.();
    } catch {
      // A transport that fails to close has nothing left to deliver; nothing to report.
    }
  }
}
