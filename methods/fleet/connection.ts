// A NATS connection that never holds anyone up: start() returns at once, the first connect is
// tried in the background until it succeeds (an unreachable server must not delay the daemon's
// start-up nor any local call), and from then on nats.js reconnects forever. Should the client
// give up anyway (it does after repeated authorization errors, or when the server closes it for
// good), a new connection is made the same way. Listeners learn of every (re)connect and
// disconnect and set up again what a fresh connection needs.
import { Sleeper } from './sleeper.js';
import { connect, type Authenticator, type NatsConnection } from '@nats-io/transport-node';

export interface FleetConnectionOptions {
  servers: string | string[];
  authenticator?: Authenticator;
  /** Replies come to `<inboxPrefix>.…`; permissions narrow each identity to its own. */
  inboxPrefix: string;
  /** Shown by the server's monitoring (connz). */
  name: string;
  /** Wait between connect attempts (before the first connect and between reconnects). */
  reconnectWaitMs?: number;
  /** How long one attempt may take (TCP + handshake). */
  connectTimeoutMs?: number;
  /** Problems worth a log line: failed attempts, server errors. Never thrown. */
  onError?: (err: Error) => void;
}

export interface ConnectionListener {
  /** A connection is up: `fresh` when it is a new NatsConnection (subscriptions must be made anew). */
  connected?(nc: NatsConnection, fresh: boolean): void;
  disconnected?(): void;
}

export const DEFAULT_RECONNECT_WAIT_MS = 2000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

export class FleetConnection {
  private current: NatsConnection | null = null;
  private up = false;
  private stopped = false;
  private started = false;
  private readonly listeners = new Set<ConnectionListener>();
  private readonly waiters = new Set<() => void>();
  private readonly sleeper = new Sleeper();
  private loop: Promise<void> | null = null;
  private attempting = false;
  private readonly reconnectWaitMs: number;
  private readonly connectTimeoutMs: number;

  constructor(private readonly o: FleetConnectionOptions) {
    this.reconnectWaitMs = o.reconnectWaitMs ?? DEFAULT_RECONNECT_WAIT_MS;
    this.connectTimeoutMs = o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  }

  /** The live connection, or null while there is none. */
  get nc(): NatsConnection | null {
    return this.up ? this.current : null;
  }

  get connected(): boolean {
    return this.up;
  }

  listen(l: ConnectionListener): () => void {
    this.listeners.add(l);
    if (this.up && this.current) l.connected?.(this.current, true);
    return () => this.listeners.delete(l);
  }

  /** Begins connecting in the background and returns at once. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.loop = this.run();
  }

  /** Resolves with the connection once it is up (or null when stopped first, or `ms` passed). */
  whenConnected(ms = Infinity): Promise<NatsConnection | null> {
    if (this.up && this.current) return Promise.resolve(this.current);
    if (this.stopped) return Promise.resolve(null);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.up ? this.current : null);
      };
      const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
      this.waiters.add(done);
    });
  }

  /**
   * Ends the connection: `drain` lets pending replies and publishes go out first (a clean stop);
   * otherwise it is closed at once.
   */
  async stop(drain = true): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.sleeper.wake();
    const nc = this.current;
    if (nc && !nc.isClosed()) {
      try {
        if (drain && this.up) await nc.drain();
        else await nc.close();
      } catch {
        await nc.close().catch(() => undefined);
      }
    }
    // An attempt in progress cannot be aborted; it closes its connection itself when it ends.
    if (!this.attempting) await this.loop;
    this.setUp(false);
    for (const w of [...this.waiters]) w();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let nc: NatsConnection;
      this.attempting = true;
      try {
        nc = await connect({
          servers: this.o.servers,
          authenticator: this.o.authenticator,
          inboxPrefix: this.o.inboxPrefix,
          name: this.o.name,
          timeout: this.connectTimeoutMs,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: this.reconnectWaitMs,
          // A server restarted with a stale user list must not make a host give up for good.
          ignoreAuthErrorAbort: true,
          noAsyncTraces: true,
        });
      } catch (e) {
        this.attempting = false;
        if (this.stopped) return;
        this.o.onError?.(new Error(`fleet: cannot connect to ${String(this.o.servers)}: ${(e as Error).message}`));
        await this.sleeper.sleep(this.reconnectWaitMs);
        continue;
      }
      this.attempting = false;
      if (this.stopped) {
        await nc.close().catch(() => undefined);
        return;
      }
      this.current = nc;
      this.setUp(true, nc, true);
      await this.watch(nc);
      this.setUp(false);
      if (!this.stopped) await this.sleeper.sleep(this.reconnectWaitMs);
    }
  }

  /** Follows one connection's status until it is closed. */
  private async watch(nc: NatsConnection): Promise<void> {
    const closed = nc.closed().then((err) => {
      if (err && !this.stopped) this.o.onError?.(new Error(`fleet: connection closed: ${err.message}`));
    });
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.setUp(false);
        else if (s.type === 'reconnect') this.setUp(true, nc, false);
        else if (s.type === 'error') this.o.onError?.(new Error(`fleet: ${s.error.message}`));
      }
    })().catch(() => undefined);
    await closed;
  }

  private setUp(up: boolean, nc?: NatsConnection, fresh = false): void {
    if (up === this.up && !fresh) return;
    this.up = up;
    for (const l of [...this.listeners]) {
      try {
        if (up) l.connected?.(nc!, fresh);
        else l.disconnected?.();
      } catch (e) {
        this.o.onError?.(e as Error);
      }
    }
    if (up) for (const w of [...this.waiters]) w();
  }
}
