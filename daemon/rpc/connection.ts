// One WebSocket connection: who it is, its options, its calls in flight, and its outbound
// queue. Responses go straight to the socket; events go through a bounded queue so a client that
// stops reading cannot grow the daemon's memory: while the socket is backed up, unsent frames of
// the same key replace each other, and past the byte bound the connection is dropped.
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { Credentials } from '../auth/credentials.js';
import type { Limits } from '../config.js';
import type { ErrorData } from '../errors.js';
import type { EventFrame, Subscriber } from '../events.js';
import type { Logger } from '../log.js';
import type { ConnectionInfo, ConnectionOptions } from '../registry.js';
import { Slots } from '../slots.js';


export type Protocol = 'jsonrpc' | 'legacy';

export abstract class Connection implements Subscriber, ConnectionInfo {
  readonly id = randomUUID();
  readonly openedAt = Date.now();
  credentials: Credentials | null = null;
  options: ConnectionOptions = { legacy_jobs: true, private_methods: false, py_exceptions: false };
  /** Calls accepted and not yet answered (running + waiting for a run slot). */
  inFlight = 0;
  /** At most maxRunning calls execute at once; the rest wait in order. */
  readonly #running: Slots;
  alive = true;
  closed = false;
  private readonly pending = new Map<string, { text: string }>();
  private pendingBytes = 0;
  private seq = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  /** Told of event frames this connection never got (metrics); set by the server. */
  onEventsDropped: ((frames: number, reason: 'coalesced' | 'slow_consumer') => void) | null = null;

  abstract readonly protocol: Protocol;

  constructor(
    readonly ws: WebSocket,
    readonly transport: 'tcp' | 'unix',
    readonly remoteAddress: string,
    protected readonly limits: Limits,
    protected readonly log: Logger,
  ) {
    this.#running = new Slots(limits.maxRunning);
  }

  get origin(): string {
    return this.transport === 'unix' ? 'unix' : this.remoteAddress;
  }

  /** Frame size limit for the connection's current state (PROTOCOL.md 1.3). */
  get maxFrameChars(): number {
    return this.credentials === null ? this.limits.anonFrameChars : this.limits.authFrameChars;
  }

  handleClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.pending.clear();
    this.pendingBytes = 0;
  }

  /** Waits for a run slot (null: one was free and is taken); pair with release(). */
  acquire(): Promise<void> | null {
    return this.#running.acquire();
  }

  release(): void {
    this.#running.release();
  }

  /** Send a response or control frame now; checks the bound afterwards. */
  sendText(text: string): void {
    if (this.closed) return;
    this.ws.send(text);
    if (this.ws.bufferedAmount + this.pendingBytes > this.limits.sendBufferBytes) this.dropSlowConsumer();
  }

  protected abstract encodeEvent(frame: EventFrame): string;
  abstract sendUnsubscribed(collection: string, subId: string, error: ErrorData | null): void;

  sendEvent(frame: EventFrame): void {
    if (this.closed) return;
    const text = this.encodeEvent(frame);
    if (this.pending.size === 0 && this.ws.bufferedAmount < this.limits.eventHighWaterBytes) {
      this.ws.send(text);
      return;
    }
    const key = frame.coalesceKey ?? `#${this.seq++}`;
    const old = this.pending.get(key);
    if (old) {
      this.pendingBytes -= old.text.length;
      this.pending.delete(key);
      this.onEventsDropped?.(1, 'coalesced');
    }
    this.pending.set(key, { text });
    this.pendingBytes += text.length;
    if (this.ws.bufferedAmount + this.pendingBytes > this.limits.sendBufferBytes) {
      this.dropSlowConsumer();
      return;
    }
    this.flushTimer ??= setInterval(() => this.flush(), 20);
  }

  private flush(): void {
    for (const [key, item] of this.pending) {
      if (this.closed || this.ws.bufferedAmount >= this.limits.eventHighWaterBytes) return;
      this.pending.delete(key);
      this.pendingBytes -= item.text.length;
      this.ws.send(item.text);
    }
    if (this.pending.size === 0 && this.flushTimer) {
      clearInterval(this.flushTimer);
      this.flushTimer = null;
    }
  }

  private dropSlowConsumer(): void {
    if (this.closed) return;
    this.log.warn(
      { conn: this.id, remote: this.remoteAddress, buffered: this.ws.bufferedAmount, queued: this.pendingBytes },
      'closing slow consumer: unsent data passed the send buffer bound',
    );
    this.onEventsDropped?.(this.pending.size, 'slow_consumer');
    // The peer is not reading, so a close handshake would never complete: cut it now.
    this.ws.terminate();
    this.handleClosed();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.ws.close(code, reason);
    // Stop handling its frames at once; the socket follows when the handshake ends.
    this.handleClosed();
  }
}
