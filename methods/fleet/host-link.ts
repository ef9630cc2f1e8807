// A host's link to its fleet: one NATS connection (connected in the background, reconnecting
// forever), the rpc responder, the presence heartbeat and the history outbox. Everything the
// daemon supplies comes in as arguments: its dispatcher, its error mapping, its job counts, a
// sublevel for the outbox. HostLink.open() touches only the local store before it returns; NATS
// being down or unreachable delays nothing.
import type { KeyObject } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { FleetConnection } from './connection.js';
import type { NatsCredentials } from './creds.js';
import type { RequestRefusedError } from './errors.js';
import { Heartbeat } from './heartbeat.js';
import type { FleetJob } from './history-record.js';
import { HistoryOutbox, type OutboxDb, type OutboxLimits, type OutboxOp, type OutboxRoot, type OutboxStats } from './outbox.js';
import { RpcResponder, type FleetDispatcher, type FleetErrorObject } from './rpc-responder.js';
import { DEFAULT_HISTORY_LIMITS, ensureStream, historyStreamConfig, presenceStreamConfig, type HistoryLimits } from './streams.js';
import { checkHostId, hostInboxPrefix } from './subjects.js';
import { RequestVerifier } from './verifier.js';

export interface HostLinkOptions<R extends OutboxRoot> {
  /** NATS URL(s), e.g. nats://127.0.0.1:4222 (several for a cluster). */
  servers: string | string[];
  host: string;
  credentials?: NatsCredentials;
  /** Trusted signer keys (parseTrustedKeys of --fleet-trust). */
  trusted: ReadonlyMap<string, KeyObject>;
  dispatch: FleetDispatcher;
  /** The daemon's error -> JSON-RPC error object mapping. */
  toError?: (err: unknown) => FleetErrorObject;
  /** The daemon's version, shown in the presence table. */
  version: string;
  /** Job counts by state for the heartbeat. */
  jobCounts: () => Record<string, number> | Promise<Record<string, number>>;
  /** Where the outbox lives: a sublevel of the daemon's database. */
  outboxDb: OutboxDb<R>;
  outboxLimits?: Partial<OutboxLimits>;
  /** False: the caller calls written() after each batch holding outbox ops (HistoryOutboxOptions.watchWrites). */
  watchWrites?: boolean;
  /** Used when this host creates a missing history stream. */
  historyLimits?: HistoryLimits;
  heartbeatMs?: number;
  reconnectWaitMs?: number;
  connectTimeoutMs?: number;
  /** Signature validity window (either way). */
  windowMs?: number;
  maxInFlight?: number;
  publishTimeoutMs?: number;
  /** Log lines: connection trouble, failed beats and publishes. Never thrown. */
  onError?: (err: Error) => void;
  /** Every refused call (audit). */
  onRefused?: (err: RequestRefusedError, subject: string) => void;
  now?: () => number;
}

export interface HostLinkStatus {
  connected: boolean;
  heartbeats: number;
  rpcInFlight: number;
  outbox: OutboxStats;
}

export class HostLink<R extends OutboxRoot = OutboxRoot> {
  readonly host: string;
  private readonly connection: FleetConnection;
  private readonly responder: RpcResponder;
  private readonly heartbeat: Heartbeat;
  private readonly outbox: HistoryOutbox<R>;
  private setupTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Settles once the server confirmed the responder's subscription on the current connection. */
  private subscribed: Promise<void> | null = null;

  private constructor(private readonly o: HostLinkOptions<R>, outbox: HistoryOutbox<R>) {
    this.host = o.host;
    this.outbox = outbox;
    this.connection = new FleetConnection({
      servers: o.servers,
      authenticator: o.credentials?.authenticator,
      inboxPrefix: hostInboxPrefix(o.host),
      name: `midship host ${o.host}`,
      reconnectWaitMs: o.reconnectWaitMs,
      connectTimeoutMs: o.connectTimeoutMs,
      onError: o.onError,
    });
    this.responder = new RpcResponder({
      host: o.host,
      verifier: new RequestVerifier({ trusted: o.trusted, windowMs: o.windowMs, now: o.now }),
      dispatch: o.dispatch,
      toError: o.toError,
      maxInFlight: o.maxInFlight,
      onRefused: o.onRefused,
      onError: o.onError,
    });
    this.heartbeat = new Heartbeat({
      host: o.host,
      version: o.version,
      intervalMs: o.heartbeatMs,
      now: o.now,
      onError: o.onError,
      stats: async () => {
        const s = this.outbox.stats();
        return { jobs: await o.jobCounts(), outbox: { pending: s.pending, dropped: s.dropped } };
      },
    });
  }

  /** Opens the outbox (local store only) and starts connecting in the background. */
  static async open<R extends OutboxRoot>(o: HostLinkOptions<R>): Promise<HostLink<R>> {
    const link = await HostLink.create(o);
    link.start();
    return link;
  }

  /**
   * Opens the outbox (local store only) without connecting: outboxOp() works from here on, calls
   * are answered once start() connected. The daemon creates the link before it loads the job
   * history and starts it once every module is ready.
   */
  static async create<R extends OutboxRoot>(o: HostLinkOptions<R>): Promise<HostLink<R>> {
    checkHostId(o.host, 'fleet_host_id');
    const outbox = new HistoryOutbox<R>({ db: o.outboxDb, host: o.host, limits: o.outboxLimits, watchWrites: o.watchWrites, onError: o.onError });
    await outbox.open();
    const link = new HostLink(o, outbox);
    link.connection.listen({
      connected: (nc, fresh) => {
        if (fresh) {
          link.responder.attach(nc);
          link.subscribed = nc.flush().catch(() => undefined);
        }
        link.setUp(nc).catch((e: unknown) => o.onError?.(new Error(`fleet: set-up failed: ${(e as Error).message}`)));
      },
      disconnected: () => {
        link.outbox.detach();
        link.heartbeat.detach();
      },
    });
    return link;
  }

  /** Starts connecting in the background; returns at once. */
  start(): void {
    if (!this.stopped) this.connection.start();
  }

  /** This store's instance id (part of every history message id). */
  get instance(): string {
    return this.outbox.instance;
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  /**
   * The put recording `job` for the fleet, for the caller's own batch (with the job's record);
   * null when the outbox is full. Call it when a job is added and when it ends.
   */
  outboxOp(job: FleetJob): OutboxOp<R> | null {
    return this.outbox.outboxOp(job);
  }

  /** A batch holding outbox ops was written (with watchWrites: false): publish it. */
  written(): void {
    this.outbox.kick();
  }

  status(): HostLinkStatus {
    return { connected: this.connected, heartbeats: this.heartbeat.count, rpcInFlight: this.responder.inFlight, outbox: this.outbox.stats() };
  }

  /** Resolves true once the link is connected and answering calls, false after `ms`. */
  async whenConnected(ms: number): Promise<boolean> {
    if ((await this.connection.whenConnected(ms)) === null) return false;
    await this.subscribed;
    return this.connected;
  }

  /** Resolves true once the outbox is empty, false after `ms`. */
  drained(ms: number): Promise<boolean> {
    return this.outbox.drained(ms);
  }

  /** A clean stop: presence `stopped`, pending replies sent, the connection drained. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.setupTimer) clearTimeout(this.setupTimer);
    await this.heartbeat.stop();
    await this.outbox.close();
    await this.connection.stop(true);
  }

  /** Per connection: the streams exist, then presence and history go out. Retried while connected. */
  private async setUp(nc: NatsConnection): Promise<void> {
    if (this.stopped) return;
    try {
      const jsm = await jetstreamManager(nc, { checkAPI: false });
      await ensureStream(jsm, presenceStreamConfig(this.o.historyLimits?.replicas ?? 1));
      await ensureStream(jsm, historyStreamConfig(this.o.historyLimits ?? DEFAULT_HISTORY_LIMITS));
    } catch (e) {
      this.o.onError?.(new Error(`fleet: streams not ready: ${(e as Error).message}`));
      if (this.setupTimer) clearTimeout(this.setupTimer);
      this.setupTimer = setTimeout(() => {
        this.setupTimer = null;
        const live = this.connection.nc;
        if (live) void this.setUp(live);
      }, this.o.reconnectWaitMs ?? 2000);
      this.setupTimer.unref();
      return;
    }
    if (this.stopped || this.connection.nc !== nc) return;
    const js = jetstream(nc, { timeout: this.o.publishTimeoutMs ?? 5000 });
    this.outbox.attach({ publish: (subject, body, msgId) => js.publish(subject, body, { msgID: msgId }) });
    await this.heartbeat.attach(nc);
  }
}
