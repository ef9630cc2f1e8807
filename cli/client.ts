// A small typed client for Midship / TrueNAS middlewared: JSON-RPC 2.0 over WebSocket
// (/api/current, also over a unix socket) and the legacy DDP-style protocol (/websocket).
//
//   const c = await Client.connect('ws+unix:///srv/midship/data/middlewared.sock');
//   const jobs = await c.call('core.get_jobs', [[['state', '=', 'RUNNING']]]);
//   const sub = await c.subscribe('core.get_jobs', (ev) => console.log(ev.msg, ev.id));
//   await c.close();
//
// Calls reject with ClientError / ValidationError (errors.ts). Job helpers are in jobs.ts,
// logins in auth.ts.
import { randomUUID } from 'node:crypto';
import { WebSocket, type RawData } from 'ws';
import { CallTimeoutError, ClientError, ConnectionError, fromErrorData, fromJsonRpcError } from './errors.js';
import { parseUri, type Endpoint } from './uri.js';

export interface CollectionUpdate {
  msg: 'added' | 'changed' | 'removed';
  collection: string;
  id?: unknown;
  fields?: unknown;
  extra?: unknown;
}

export interface ConnectOptions {
  /** Per-call timeout in ms (default 60 000); null: none. */
  timeoutMs?: number | null;
  /** How long the connection set-up may take (default 30 000, like midclt). */
  handshakeTimeoutMs?: number;
  /** Ask for new-style jobs (PROTOCOL.md 4.3); default true, as midclt does. */
  newStyleJobs?: boolean;
  /** Skip TLS certificate checks (wss://). */
  insecure?: boolean;
}

export interface CallOptions {
  /** Overrides the client's per-call timeout; null waits forever (new-style job calls). */
  timeoutMs?: number | null;
}

export type EventHandler = (ev: CollectionUpdate) => void;

export interface Subscription {
  /** The server's subscription id (JSON-RPC) or ours (legacy). */
  readonly id: string;
  readonly event: string;
  /** Resolves when an event source ends: null when it ended cleanly, else its error. */
  readonly ended: Promise<ClientError | null>;
  unsubscribe(): Promise<void>;
}

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: ClientError): void;
  timer: NodeJS.Timeout | null;
}

interface SubEntry {
  event: string;
  /** Plain events match by name; event sources (`name:{args}`) end with notify_unsubscribed. */
  source: boolean;
  handler: EventHandler;
  end(err: ClientError | null): void;
  id: string | null;
}

/** A call's timeout, and how long a dropped session keeps trying to come back, unless told otherwise. */
export const DEFAULT_TIMEOUT_MS = 60_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a failed connect attempt means for a person at a terminal. */
function connectFailure(ep: Endpoint, err: unknown): ConnectionError {
  const code = (err as { code?: string }).code ?? '';
  const text = (err as Error).message ?? String(err);
  const where = ep.socketPath ?? ep.uri;
  if (['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE'].includes(code)) {
    return new ConnectionError(
      `Failed to run middleware call. Daemon not running? Cannot connect to ${where} (${code}).\n` +
        'Start it with `npm start` (or `midshipd`), or point midclt at it with -u URI or the MIDCLT_URI environment variable.',
      true,
      err,
    );
  }
  if (code === 'EACCES') return new ConnectionError(`Permission denied on ${where}: the socket belongs to the user running the daemon.`, false, err);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new ConnectionError(`Cannot resolve the host of ${ep.uri} (${code}).`, code === 'EAI_AGAIN', err);
  return new ConnectionError(`Cannot connect to ${where}: ${text}`, true, err);
}

export class Client {
  /** True when job calls are answered new-style (the call returns when the job ends). */
  newStyleJobs = false;
  readonly closed: Promise<ConnectionError>;
  private readonly pending = new Map<string, Pending>();
  private readonly subs = new Set<SubEntry>();
  private readonly listeners = new Set<EventHandler>();
  private readonly closeListeners = new Set<(e: ConnectionError) => void>();
  private closeError: ConnectionError | null = null;
  private legacyConnected: ((ok: boolean) => void) | null = null;
  private readonly timeoutMs: number | null;

  private constructor(readonly endpoint: Endpoint, private readonly ws: WebSocket, opts: ConnectOptions) {
    this.timeoutMs = opts.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : opts.timeoutMs;
    ws.on('message', (data: RawData) => this.onFrame(data.toString()));
    this.closed = new Promise((resolve) => {
      ws.on('close', (code: number, reason: Buffer) => {
        const why = reason.toString();
        const err = new ConnectionError(`Connection closed (${code}${why ? `: ${why}` : ''})`, true);
        this.closeError = err;
        for (const p of this.pending.values()) {
          if (p.timer) clearTimeout(p.timer);
          p.reject(err);
        }
        this.pending.clear();
        this.legacyConnected?.(false);
        for (const l of this.closeListeners) l(err);
        resolve(err);
      });
    });
    // 'error' is always followed by 'close'; listening keeps it from being thrown.
    ws.on('error', () => undefined);
  }

  /** Connect and set the connection up (core.set_options, or the legacy handshake). */
  static async connect(uri: string | Endpoint, opts: ConnectOptions = {}): Promise<Client> {
    const ep = typeof uri === 'string' ? parseUri(uri) : uri;
    const handshakeMs = opts.handshakeTimeoutMs ?? 30_000;
    const ws = new WebSocket(ep.wsAddress, {
      handshakeTimeout: handshakeMs,
      perMessageDeflate: false,
      rejectUnauthorized: !opts.insecure,
      maxPayload: 64 * 1024 * 1024,
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        ws.off('open', onOpen);
        reject(connectFailure(ep, err));
      };
      const onOpen = () => {
        ws.off('error', onError);
        resolve();
      };
      ws.once('error', onError);
      ws.once('open', onOpen);
      ws.once('unexpected-response', (_req, res) => {
        ws.off('error', onError);
        ws.on('error', () => undefined);
        reject(new ConnectionError(`${ep.uri}: the server answered HTTP ${res.statusCode} instead of a WebSocket upgrade (wrong path?)`, false));
        res.resume();
        ws.terminate();
      });
    });
    const c = new Client(ep, ws, opts);
    try {
      await c.handshake(opts, handshakeMs);
    } catch (err) {
      ws.terminate();
      throw err;
    }
    return c;
  }

  private async handshake(opts: ConnectOptions, ms: number): Promise<void> {
    if (this.endpoint.legacy) {
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), Math.min(ms, 10_000));
        this.legacyConnected = (v) => {
          clearTimeout(timer);
          this.legacyConnected = null;
          resolve(v);
        };
        this.sendFrame({ msg: 'connect', version: '1', support: ['1'], features: [] });
      });
      if (!ok) throw new ConnectionError(`${this.endpoint.uri}: the legacy handshake failed (no "connected")`, true);
      return;
    }
    const want = opts.newStyleJobs ?? true;
    const r = await this.call('core.set_options', [{ legacy_jobs: !want, private_methods: false, py_exceptions: false }], { timeoutMs: ms });
    this.newStyleJobs = isRecord(r) && r.legacy_jobs === false;
  }

  get isClosed(): boolean {
    return this.closeError !== null;
  }

  get legacy(): boolean {
    return this.endpoint.legacy;
  }

  private sendFrame(frame: unknown): void {
    if (this.closeError) throw this.closeError;
    this.ws.send(JSON.stringify(frame));
  }

  /** Send a call; `id` is known at once (new-style jobs are bound to it), `result` settles later. */
  send(method: string, params: unknown[] = [], opts: CallOptions = {}): { id: string; result: Promise<unknown> } {
    const id = randomUUID();
    const result = new Promise<unknown>((resolve, reject) => {
      if (this.closeError) return reject(this.closeError);
      const ms = opts.timeoutMs === undefined ? this.timeoutMs : opts.timeoutMs;
      const timer = ms === null ? null : setTimeout(() => {
        this.pending.delete(id);
        reject(new CallTimeoutError(method, ms));
      }, ms);
      this.pending.set(id, { method, resolve, reject, timer });
      const frame = this.legacy ? { msg: 'method', id, method, params } : { jsonrpc: '2.0', id, method, params };
      this.sendFrame(frame);
    });
    return { id, result };
  }

  async call<T = unknown>(method: string, params: unknown[] = [], opts: CallOptions = {}): Promise<T> {
    return (await this.send(method, params, opts).result) as T;
  }

  /** Liveness: `core.ping` ("pong"), or the legacy ping message (true). */
  async ping(): Promise<unknown> {
    if (!this.legacy) return this.call('core.ping');
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.pending.delete(id), reject(new CallTimeoutError('ping', 10_000))), 10_000);
      this.pending.set(id, { method: 'ping', resolve: () => resolve(true), reject, timer });
      this.sendFrame({ msg: 'ping', id });
    });
  }

  /** Every collection_update of the connection (whatever subscription it belongs to). */
  onEvent(handler: EventHandler): () => void {
    this.listeners.add(handler);
    return () => this.listeners.delete(handler);
  }

  onClose(cb: (e: ConnectionError) => void): () => void {
    if (this.closeError) {
      cb(this.closeError);
      return () => undefined;
    }
    this.closeListeners.add(cb);
    return () => this.closeListeners.delete(cb);
  }

  /** Subscribe to an event, an event source (`name:{json}`) or `*`. */
  async subscribe(event: string, handler: EventHandler): Promise<Subscription> {
    let end!: (e: ClientError | null) => void;
    const ended = new Promise<ClientError | null>((r) => (end = r));
    const entry: SubEntry = { event, source: /^[^:]+:[[{]/.test(event), handler, id: null, end: (e) => (this.subs.delete(entry), end(e)) };
    // Registered before asking: an event source may send events (or its end) before the answer.
    this.subs.add(entry);
    try {
      if (this.legacy) {
        entry.id = randomUUID();
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => (this.pending.delete(entry.id!), reject(new CallTimeoutError(`sub ${event}`, 10_000))), 10_000);
          this.pending.set(entry.id!, { method: `sub ${event}`, resolve: () => resolve(), reject, timer });
          this.sendFrame({ msg: 'sub', id: entry.id, name: event });
        });
      } else {
        entry.id = await this.call<string>('core.subscribe', [event]);
      }
    } catch (err) {
      this.subs.delete(entry);
      throw err;
    }
    return {
      id: entry.id!,
      event,
      ended,
      unsubscribe: async () => {
        if (!entry.source) this.subs.delete(entry);
        if (this.closeError) return;
        if (this.legacy) this.sendFrame({ msg: 'unsub', id: entry.id });
        else await this.call('core.unsubscribe', [entry.id]);
      },
    };
  }

  async close(): Promise<void> {
    if (!this.closeError) this.ws.close(1000);
    await this.closed;
  }

  private onFrame(text: string): void {
    let m: unknown;
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (!isRecord(m)) return;
    if (this.legacy) this.onLegacy(m);
    else this.onJsonRpc(m);
  }

  private settle(id: unknown, ok: boolean, value: unknown): void {
    if (typeof id !== 'string') {
      // An error with a null id belongs to every pending call (PROTOCOL.md 3.1).
      if (!ok && id === null) for (const pid of [...this.pending.keys()]) this.settle(pid, false, value);
      return;
    }
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if (ok) p.resolve(value);
    else p.reject(value as ClientError);
  }

  private onJsonRpc(m: Record<string, unknown>): void {
    if (m.method === 'collection_update' && isRecord(m.params)) return this.dispatch(m.params as unknown as CollectionUpdate);
    if (m.method === 'notify_unsubscribed' && isRecord(m.params)) {
      const p = m.params;
      const err = isRecord(p.error) ? fromErrorData(p.error, null, undefined, true) : null;
      return this.endSource(typeof p.collection === 'string' ? p.collection : '', null, err);
    }
    if ('error' in m) return this.settle(m.id, false, fromJsonRpcError(m.error));
    if ('result' in m) return this.settle(m.id, true, m.result);
  }

  private onLegacy(m: Record<string, unknown>): void {
    switch (m.msg) {
      case 'connected':
        this.legacyConnected?.(true);
        return;
      case 'failed':
        this.legacyConnected?.(false);
        return;
      case 'result': {
        const e = m.error;
        if (isRecord(e) && typeof e.error === 'number' && e.error !== 0) return this.settle(m.id, false, fromErrorData(e));
        return this.settle(m.id, true, m.result ?? null);
      }
      case 'pong':
        return this.settle(m.id, true, true);
      case 'ready':
        if (Array.isArray(m.subs)) for (const id of m.subs) this.settle(id, true, null);
        return;
      case 'nosub':
        return this.endSource(typeof m.collection === 'string' ? m.collection : '', typeof m.id === 'string' ? m.id : null, isRecord(m.error) ? fromErrorData(m.error) : null);
      case 'added':
      case 'changed':
      case 'removed': {
        const { msg: _msg, ...rest } = m;
        return this.dispatch({ msg: m.msg, ...rest } as unknown as CollectionUpdate);
      }
    }
  }

  private dispatch(ev: CollectionUpdate): void {
    for (const l of this.listeners) l(ev);
    for (const s of [...this.subs]) {
      if (s.event === ev.collection || s.event === '*') s.handler(ev);
    }
  }

  private endSource(collection: string, id: string | null, err: ClientError | null): void {
    for (const s of this.subs) {
      // Plain events never end this way, so a name match is an event source (with or without args).
      if ((id !== null && s.id === id) || (id === null && s.event === collection)) {
        s.end(err);
        return;
      }
    }
  }
}
