// Start a real daemon on a free port with a temp data dir, and talk to it over real WebSockets.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { defaultConfig, type Config } from '../../daemon/config.js';
import { Daemon } from '../../daemon/daemon.js';
import type { ModuleFactory } from '../../daemon/registry.js';
import { modules as builtIn } from '../../methods/index.js';
import { captureLog } from './log.js';
import { wireViolation } from './wire-check.js';

export interface TestDaemon {
  daemon: Daemon;
  port: number;
  dataDir: string;
  socketPath: string;
  url: string;
  /** Everything the daemon logged, as parsed pino lines. */
  logs: Array<Record<string, unknown>>;
  stop(): Promise<void>;
  /** Stop and remove the data dir. */
  cleanup(): Promise<void>;
}

export interface StartOptions extends Partial<Omit<Config, 'limits' | 'jobs'>> {
  limits?: Partial<Config['limits']>;
  jobs?: Partial<Config['jobs']>;
  /** The modules to load; default: the built-in ones (methods/index.ts), as midshipd loads. */
  modules?: readonly ModuleFactory[];
}

export async function startDaemon(o: StartOptions = {}): Promise<TestDaemon> {
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'midship-test-')));
  const { lines: logs, stream } = captureLog();
  const { modules, limits, jobs, ...rest } = o;
  const config = defaultConfig({
    logLevel: 'info',
    validateResults: true,
    ...rest,
    port: o.port ?? 0,
    dataDir,
    socketPath: o.socketPath ?? join(dataDir, 'middlewared.sock'),
    logDestination: stream,
    ...(limits ? { limits: limits as Config['limits'] } : {}),
    ...(jobs ? { jobs: jobs as Config['jobs'] } : {}),
  });
  const daemon = await Daemon.start(config, modules ?? builtIn);
  const stop = () => daemon.stop();
  return {
    daemon,
    port: daemon.port,
    dataDir,
    socketPath: config.socketPath,
    url: `ws://127.0.0.1:${daemon.port}/api/current`,
    logs,
    stop,
    cleanup: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type Message = Record<string, unknown> & { id?: unknown; error?: Record<string, unknown> & { data?: Record<string, unknown> }; result?: unknown; method?: string; params?: Record<string, unknown> };

/** A raw JSON-RPC / legacy client that records every frame it receives. */
export class Client {
  readonly ws: WebSocket;
  readonly received: Message[] = [];
  private waiters: Array<{ pred: (m: Message) => boolean; resolve: (m: Message) => void; reject: (err: Error) => void }> = [];
  /** Set when the daemon sent a frame the real client could not decode; every wait then fails. */
  wireError: Error | null = null;
  private nextId = 1;
  closeCode: number | null = null;
  closeReason = '';
  readonly closed: Promise<number>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      const m = JSON.parse(text) as Message | Message[];
      const violation = text.includes('"$') ? wireViolation(m, 'the daemon') : null;
      if (violation !== null && this.wireError === null) {
        this.wireError = violation;
        for (const w of this.waiters.splice(0)) w.reject(violation);
      }
      const list = Array.isArray(m) ? [{ batch: m } as Message] : [m];
      for (const msg of list) {
        this.received.push(msg);
        this.waiters = this.waiters.filter((w) => (w.pred(msg) ? (w.resolve(msg), false) : true));
      }
    });
    this.closed = new Promise((resolve) => ws.on('close', (code: number, reason: Buffer) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      resolve(code);
    }));
  }

  /**
   * `url` is ws://... or a unix socket path (then `path` is the HTTP path). `localAddress`: the
   * source address (e.g. 127.0.0.2) to look like another host.
   */
  static async connect(url: string, path = '/api/current', o: { localAddress?: string } = {}): Promise<Client> {
    const target = url.startsWith('ws') ? url : `ws+unix:${url}:${path}`;
    const ws = new WebSocket(target, o.localAddress === undefined ? {} : { localAddress: o.localAddress });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Client(ws);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  waitFor(pred: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    if (this.wireError) return Promise.reject(this.wireError);
    const seen = this.received.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting; last frames: ${JSON.stringify(this.received.slice(-5))}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)), reject: (e) => (clearTimeout(timer), reject(e)) });
    });
  }

  /** Send a JSON-RPC request and wait for its response (the whole message). */
  async request(method: string, params: unknown[] = []): Promise<Message> {
    const id = `r${this.nextId++}`;
    this.send({ jsonrpc: '2.0', id, method, params });
    return this.waitFor((m) => m.id === id && ('result' in m || 'error' in m));
  }

  /** Call and return the result, throwing the error object on failure. */
  async call(method: string, ...params: unknown[]): Promise<unknown> {
    const r = await this.request(method, params);
    if (r.error) throw Object.assign(new Error(JSON.stringify(r.error)), { rpc: r.error });
    return r.result;
  }

  close(): Promise<number> {
    this.ws.close();
    return this.closed;
  }
}
