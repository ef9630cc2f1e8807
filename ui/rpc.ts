// The dashboard's only channel to the daemon: JSON-RPC 2.0 over one WebSocket at /api/current
// (PROTOCOL.md 2), the same public protocol any third-party dashboard uses. It reconnects by
// itself with backoff; after each reconnect it re-authenticates (through the `authenticate` hook)
// and subscribes again to every event still wanted, then tells listeners to reload what they
// show, since events sent while the socket was down are lost.

export type ConnState = 'connecting' | 'open' | 'reconnecting';

export interface CollectionUpdate {
  msg: 'added' | 'changed' | 'removed';
  collection: string;
  id?: number | string;
  fields?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** The error-data object of PROTOCOL.md 3.2, when the daemon sent one. */
export interface ErrorData {
  error: number;
  errname: string;
  reason: string;
  trace: { formatted?: string } | null;
  extra: unknown;
}

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: ErrorData | null,
  ) {
    super(data?.reason?.trim() || message);
  }

  get errname(): string | null {
    return this.data?.errname ?? null;
  }

  /** Validation errors as [attribute, message, errno] (code -32602), else []. */
  get validation(): Array<[string, string, number]> {
    const extra = this.data?.extra;
    if (this.code !== -32602 || !Array.isArray(extra)) return [];
    return extra.filter((e): e is [string, string, number] => Array.isArray(e) && e.length === 3 && typeof e[1] === 'string').map((e) => [String(e[0] ?? ''), e[1], Number(e[2])]);
  }
}

/** The socket closed while the call was outstanding; the call may or may not have run. */
export class ConnectionLost extends RpcError {
  constructor() {
    super(0, 'The connection to the daemon was lost', null);
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

interface Subscription {
  handlers: Set<(u: CollectionUpdate) => void>;
  onEnd: Set<(error: ErrorData | null) => void>;
  /** Server subscription id while subscribed on the current socket. */
  serverId: string | null;
  subscribing: Promise<void> | null;
}

export interface RpcOptions {
  url: string;
  /** Called after every reconnect before resubscribing; false: the session is gone. */
  authenticate?: () => Promise<boolean>;
  /** Backoff bounds in ms (tests shorten them). */
  minDelayMs?: number;
  maxDelayMs?: number;
}

export class RpcClient {
  private readonly url: string;
  private ws: WebSocket | null = null;
  /** Logged in on the current socket: calls other than logins wait for this. */
  private authed = false;
  private readyWaiters: Array<() => void> = [];
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly subs = new Map<string, Subscription>();
  private readonly stateListeners = new Set<(s: ConnState, attempt: number) => void>();
  private readonly readyListeners = new Set<() => void>();
  private openWaiters: Array<() => void> = [];
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closedByUs = false;
  state: ConnState = 'connecting';
  authenticate: (() => Promise<boolean>) | null;
  private readonly minDelay: number;
  private readonly maxDelay: number;

  constructor(options: RpcOptions) {
    this.url = options.url;
    this.authenticate = options.authenticate ?? null;
    this.minDelay = options.minDelayMs ?? 500;
    this.maxDelay = options.maxDelayMs ?? 10_000;
    this.connect();
  }

  onState(fn: (s: ConnState, attempt: number) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** After a reconnect (authenticated and resubscribed): reload what was shown. */
  onReconnected(fn: () => void): () => void {
    this.readyListeners.add(fn);
    return () => this.readyListeners.delete(fn);
  }

  private setState(s: ConnState): void {
    this.state = s;
    for (const fn of this.stateListeners) fn(s, this.attempt);
  }

  private connect(): void {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => void this.opened(ws);
    ws.onmessage = (e: MessageEvent) => this.onMessage(e.data);
    ws.onclose = () => this.onClose(ws);
  }

  private async opened(ws: WebSocket): Promise<void> {
    const reconnect = this.attempt > 0 || this.state === 'reconnecting';
    this.attempt = 0;
    this.setState('open');
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const w of waiters) w();
    if (!reconnect || this.authenticate === null) return;
    let ok = true;
    try {
      ok = await this.authenticate();
    } catch {
      ok = false;
    }
    if (this.ws !== ws) return;
    // Not ok: the session is gone (e.g. the daemon restarted); the app shows the login screen.
    if (!ok) return;
    this.setAuthenticated(true);
    await Promise.all([...this.subs.keys()].map((name) => this.serverSubscribe(name)));
    for (const fn of this.readyListeners) fn();
  }

  private onClose(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.authed = false;
    for (const p of this.pending.values()) p.reject(new ConnectionLost());
    this.pending.clear();
    for (const s of this.subs.values()) s.serverId = null;
    if (this.closedByUs) return;
    this.attempt++;
    this.setState('reconnecting');
    // Exponential backoff with jitter, so a restarted daemon is not hit by every tab at once.
    const base = Math.min(this.maxDelay, this.minDelay * 2 ** Math.min(this.attempt - 1, 10));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, base / 2 + Math.random() * (base / 2));
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    if (m.method === 'collection_update') {
      const u = m.params as CollectionUpdate;
      const sub = this.subs.get(u.collection);
      if (sub) for (const fn of sub.handlers) fn(u);
      return;
    }
    if (m.method === 'notify_unsubscribed') {
      const p = m.params as { collection: string; error: ErrorData | null };
      const sub = this.subs.get(p.collection);
      if (!sub) return;
      this.subs.delete(p.collection);
      for (const fn of sub.onEnd) fn(p.error);
      return;
    }
    const id = typeof m.id === 'string' ? m.id : null;
    const p = id === null ? undefined : this.pending.get(id);
    if (!p) return;
    this.pending.delete(id!);
    if ('error' in m && m.error) {
      const e = m.error as { code: number; message: string; data?: ErrorData };
      p.reject(new RpcError(e.code, e.message, e.data ?? null));
    } else p.resolve(m.result);
  }

  /** Resolves once the socket is open (immediately when it is). */
  whenOpen(): Promise<void> {
    if (this.ws?.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => this.openWaiters.push(resolve));
  }

  /** The socket is logged in (a login succeeded) or not (logout): calls wait while it is not. */
  setAuthenticated(yes: boolean): void {
    this.authed = yes;
    if (!yes) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private whenReady(): Promise<void> {
    if (this.authed && this.ws?.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** A call needing a session: waits until the socket is open and logged in. */
  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    await this.whenReady();
    return this.send<T>(method, params);
  }

  /** A call that needs no session (logins, core.ping). */
  async callAnonymous<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    await this.whenOpen();
    return this.send<T>(method, params);
  }

  /** Sent at once if the socket is open, else rejected: never delivered on a later socket. */
  callNow<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    return this.send<T>(method, params);
  }

  private send<T>(method: string, params: unknown[]): Promise<T> {
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return Promise.reject(new ConnectionLost());
    const id = `ui${this.nextId++}`;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  private serverSubscribe(name: string): Promise<void> {
    const sub = this.subs.get(name);
    if (!sub || sub.serverId !== null) return Promise.resolve();
    // One request at a time per name: a reconnect and a new subscriber may both ask.
    sub.subscribing ??= this.doSubscribe(name, sub).finally(() => (sub.subscribing = null));
    return sub.subscribing;
  }

  private async doSubscribe(name: string, sub: Subscription): Promise<void> {
    try {
      const sid = await this.call<string>('core.subscribe', [name]);
      // Unsubscribed meanwhile: drop the server side too.
      if (this.subs.get(name) !== sub) void this.send('core.unsubscribe', [sid]).catch(() => undefined);
      else sub.serverId = sid;
    } catch (err) {
      if (err instanceof ConnectionLost) return; // resubscribed after the reconnect
      this.subs.delete(name);
      const data = err instanceof RpcError ? err.data : null;
      for (const fn of sub.onEnd) fn(data ?? { error: 0, errname: 'EUNKNOWN', reason: (err as Error).message, trace: null, extra: null });
    }
  }

  /**
   * Follow event `name` (plain, or a source `name:{json}`). Several handlers of one name share
   * one server subscription. Resolves once the daemon has accepted it.
   */
  async subscribe(name: string, handler: (u: CollectionUpdate) => void, onEnd?: (error: ErrorData | null) => void): Promise<() => void> {
    let sub = this.subs.get(name);
    const fresh = sub === undefined;
    if (!sub) this.subs.set(name, (sub = { handlers: new Set(), onEnd: new Set(), serverId: null, subscribing: null }));
    sub.handlers.add(handler);
    if (onEnd) sub.onEnd.add(onEnd);
    const mine = sub;
    if (fresh) await this.serverSubscribe(name);
    return () => {
      mine.handlers.delete(handler);
      if (onEnd) mine.onEnd.delete(onEnd);
      if (mine.handlers.size > 0 || this.subs.get(name) !== mine) return;
      this.subs.delete(name);
      if (mine.serverId !== null && this.authed && this.ws?.readyState === WebSocket.OPEN) void this.send('core.unsubscribe', [mine.serverId]).catch(() => undefined);
    };
  }

  /** Forget every subscription without telling the daemon (after a logout the daemon did). */
  dropSubscriptions(): void {
    this.subs.clear();
  }

  close(): void {
    this.closedByUs = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close();
  }
}
