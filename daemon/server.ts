// The listeners: one HTTP server on TCP and one on the unix socket, both upgrading
// /api/current, /api/v1 and the versioned paths to JSON-RPC 2.0 and /websocket to the legacy
// protocol. Frame limits, binary frames and dead peers are handled here, before any parsing.
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { Credentials } from './auth/credentials.js';
import type { Config } from './config.js';
import { DataDirError } from './errors.js';
import type { EventBus } from './events.js';
import type { HttpRouter } from './http.js';
import type { Logger } from './log.js';
import type { Observers } from './observers.js';
import type { Connection } from './rpc/connection.js';
import { JsonRpcConnection, JsonRpcHandler } from './rpc/jsonrpc.js';
import { LegacyConnection, LegacyHandler } from './rpc/legacy.js';
import type { Transport } from './rpc/transport.js';

/** API versions served (all speak the same framing; see PROTOCOL.md 1.1). */
export const API_VERSIONS = ['v25.04.0', 'v25.10.0', 'v26.0.0', 'v27.0.0'];

const JSONRPC_PATHS = new Set(['/api/current', '/api/v1', ...API_VERSIONS.map((v) => `/api/${v}`)]);

export interface ServerHooks {
  initialCredentials(conn: Connection): Credentials | null;
  /** `remote`: "address:port" of a TCP peer, "unix" on the socket. */
  connected(conn: Connection, remote: string): void;
  disconnected(connId: string): void;
  /** Told of connections opened and closed and of event frames dropped (metrics). */
  observers: Pick<Observers, 'connectionOpened' | 'connectionClosed' | 'eventsDropped'>;
}

/** A WebSocket path of a module's (the web shell): it gets the socket once the upgrade is done. */
export type UpgradeRoute = (ws: WebSocket, req: IncomingMessage, transport: 'tcp' | 'unix') => void;

/**
 * Pipelined frames arrive several per socket read and are answered in the microtasks that follow;
 * holding the socket corked until the event loop's check phase sends those answers in one write
 * instead of one syscall each (the largest per-call cost under load). `socket` is the one ws
 * writes to: handleUpgrade was given it.
 */
function coalesceWrites(socket: Socket): () => void {
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  return () => {
    if (corked) return;
    corked = true;
    socket.cork();
    setImmediate(uncork);
  };
}

export class Server {
  private readonly tcp: HttpServer;
  private readonly unix: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly jsonrpc: JsonRpcHandler;
  private readonly legacy: LegacyHandler;
  readonly connections = new Set<Connection>();
  private pingTimer: NodeJS.Timeout | null = null;
  /** Set once our unix listener is up: only then is the socket file ours to remove. */
  private ownsSocket = false;
  /** Modules' WebSocket paths: exact, or prefixes ending in '/'. */
  private readonly upgrades = new Map<string, UpgradeRoute>();

  constructor(
    private readonly config: Config,
    t: Transport,
    private readonly events: EventBus,
    private readonly router: HttpRouter,
    private readonly hooks: ServerHooks,
    private readonly log: Logger,
  ) {
    // Frame limits are enforced per connection state below; ws only guards against absurd sizes
    // (a UTF-16 character is at most 3 UTF-8 bytes inside the BMP, 4 outside).
    this.wss = new WebSocketServer({ noServer: true, maxPayload: config.limits.authFrameChars * 4 + 1024, perMessageDeflate: false });
    this.jsonrpc = new JsonRpcHandler(t);
    this.legacy = new LegacyHandler(t, events);
    this.tcp = this.httpServer('tcp');
    this.unix = this.httpServer('unix');
  }

  private httpServer(transport: 'tcp' | 'unix'): HttpServer {
    const server = createServer((req, res) => this.router.handle(req, res, (err) => this.log.error({ err, url: req.url }, 'http handler failed'), transport));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(transport, req, socket, head));
    server.on('clientError', (_err, socket: Socket) => socket.destroy());
    return server;
  }

  /** Hand WebSocket upgrades of `path` to `route` (a path ending in '/' is a prefix). */
  addUpgrade(path: string, route: UpgradeRoute): void {
    if (JSONRPC_PATHS.has(path) || path === '/websocket' || this.upgrades.has(path)) throw new Error(`the WebSocket path ${path} is taken`);
    this.upgrades.set(path, route);
  }

  private upgradeRoute(path: string): UpgradeRoute | undefined {
    const exact = this.upgrades.get(path);
    if (exact) return exact;
    for (const [p, route] of this.upgrades) if (p.endsWith('/') && path.startsWith(p)) return route;
    return undefined;
  }

  private upgrade(transport: 'tcp' | 'unix', req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0]!;
    const protocol = JSONRPC_PATHS.has(path) ? 'jsonrpc' : path === '/websocket' ? 'legacy' : null;
    const route = protocol === null ? this.upgradeRoute(path) : undefined;
    if (protocol === null && route === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!originAllowed(req, this.config.allowedOrigins)) {
      this.log.info({ origin: req.headers.origin, transport }, 'websocket upgrade refused: origin not allowed');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.on('error', () => socket.destroy());
    if (route !== undefined) {
      this.wss.handleUpgrade(req, socket, head, (ws) => route(ws, req, transport));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(transport, protocol!, ws, req));
  }

  private accept(transport: 'tcp' | 'unix', protocol: 'jsonrpc' | 'legacy', ws: WebSocket, req: IncomingMessage): void {
    const remote = transport === 'unix' ? 'unix' : `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    const conn = protocol === 'jsonrpc'
      ? new JsonRpcConnection(ws, transport, req.socket.remoteAddress ?? 'unknown', this.config.limits, this.log)
      : new LegacyConnection(ws, transport, req.socket.remoteAddress ?? 'unknown', this.config.limits, this.log);
    conn.credentials = this.hooks.initialCredentials(conn);
    conn.onEventsDropped = (frames, reason) => this.hooks.observers.eventsDropped(frames, reason);
    this.connections.add(conn);
    this.hooks.observers.connectionOpened(transport, protocol);
    this.events.attach(conn);
    this.hooks.connected(conn, remote);
    this.log.info({ conn: conn.id, remote, transport, path: req.url, protocol }, 'connection open');
    ws.on('pong', () => (conn.alive = true));
    const coalesce = coalesceWrites(req.socket);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // Only while calls are already in flight: a lone call is answered with no added wait.
      if (conn.inFlight > 0) coalesce();
      this.onFrame(conn, data, isBinary);
    });
    ws.on('error', (err) => this.log.debug({ conn: conn.id, err: err.message }, 'websocket error'));
    ws.on('close', (code: number) => {
      conn.handleClosed();
      this.connections.delete(conn);
      this.events.detach(conn.id);
      this.hooks.disconnected(conn.id);
      this.hooks.observers.connectionClosed(transport, protocol);
      this.log.info({ conn: conn.id, remote, code, ms: Date.now() - conn.openedAt }, 'connection closed');
    });
  }

  private onFrame(conn: Connection, data: RawData, isBinary: boolean): void {
    if (conn.closed) return;
    if (isBinary) {
      conn.close(1003, 'Binary frames are not accepted');
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
    if (text.length > conn.maxFrameChars) {
      if (conn.credentials === null) conn.close(1007, `Anonymous connection max message length is ${Math.round(conn.maxFrameChars / 1024)} kB`);
      else conn.close(1009, `Max message length is ${Math.round(conn.maxFrameChars / 1024)} kB`);
      return;
    }
    try {
      if (conn instanceof JsonRpcConnection) this.jsonrpc.onMessage(conn, text);
      else this.legacy.onMessage(conn as LegacyConnection, text);
    } catch (err) {
      this.log.error({ err, conn: conn.id }, 'unexpected failure handling a frame');
      conn.close(1011, 'Internal error');
    }
  }

  async listen(): Promise<{ port: number; socketPath: string }> {
    await new Promise<void>((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(this.config.port, this.config.host, () => {
        this.tcp.off('error', reject);
        resolve();
      });
    });
    const socketPath = this.config.socketPath;
    await mkdir(dirname(socketPath), { recursive: true });
    await removeStaleSocket(socketPath);
    await new Promise<void>((resolve, reject) => {
      this.unix.once('error', reject);
      this.unix.listen(socketPath, () => {
        this.unix.off('error', reject);
        resolve();
      });
    });
    this.ownsSocket = true;
    await chmod(socketPath, 0o600);
    const interval = this.config.limits.pingIntervalMs;
    if (interval > 0) {
      this.pingTimer = setInterval(() => this.pingAll(), interval);
      this.pingTimer.unref();
    }
    return { port: (this.tcp.address() as AddressInfo).port, socketPath };
  }

  /** A peer that did not answer the previous ping within one interval is gone. */
  private pingAll(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        this.log.info({ conn: conn.id }, 'dropping dead peer (no pong)');
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  /** Close every connection with 1001 and stop listening. */
  async close(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    const closing = [...this.connections].map((conn) => new Promise<void>((resolve) => {
      if (conn.ws.readyState === conn.ws.CLOSED) return resolve();
      const timer = setTimeout(() => {
        conn.ws.terminate();
        resolve();
      }, 1000);
      conn.ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      conn.close(1001, 'Server shutting down');
    }));
    const stopListening = (s: HttpServer) => new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
    await Promise.all(closing);
    await Promise.all([stopListening(this.tcp), stopListening(this.unix)]);
    if (this.ownsSocket) await unlink(this.config.socketPath).catch(() => undefined);
  }
}

/**
 * Browsers send Origin on every WebSocket upgrade, and a page on any site may try one: only the
 * daemon's own origin (the dashboard) and configured ones pass. Non-browser clients send no Origin.
 */
function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null"
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && url.host.toLowerCase() === (req.headers.host ?? '').toLowerCase()) return true;
  return allowed.includes(url.origin);
}

/**
 * A socket file left by a daemon that died is removed; one that still accepts connections belongs
 * to a running daemon (possibly on another data dir) and is never taken over, nor is a path that
 * is not a socket at all.
 */
async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => null);
  if (st === null) return;
  if (!st.isSocket()) throw new DataDirError(`${path} exists and is not a socket`, 'move it away, or choose another --socket');
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw new DataDirError(`the unix socket ${path} is in use by another running process`, 'stop it, or choose another --socket');
  await unlink(path).catch(() => undefined);
}
