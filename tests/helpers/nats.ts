// Real nats-server processes for the fleet tests: one server or a 3-node JetStream cluster, on
// free 127.0.0.1 ports, with temporary stores, stopped by pid (and killed when the test process
// exits, so a failed test leaves no server behind). Without nats-server the tests are skipped with
// one line, unless MIDSHIP_REQUIRE_NATS=1 (CI), where a missing server is a failure.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test as uvuTest } from 'uvu';
import { fleetInit, parseTrustedKeys, type FleetInitResult } from '../../methods/fleet/index.js';
import { TempDb } from './delivery.js';

export const NATS_HINT =
  'install it with `apt-get install -y nats-server` (Debian), or point MIDSHIP_NATS_SERVER at a binary; MIDSHIP_REQUIRE_NATS=1 makes this a failure';

export function natsServerPath(): string | null {
  const fromEnv = process.env.MIDSHIP_NATS_SERVER;
  const candidates = fromEnv ? [fromEnv] : ['/usr/sbin/nats-server', '/usr/bin/nats-server', ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'nats-server'))];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}

type TestFn = (name: string, fn: () => Promise<void> | void) => void;

/** `test` when nats-server exists; otherwise a one-line skip, or a failure when it is required. */
export function natsTest(test: typeof uvuTest = uvuTest): TestFn {
  if (natsServerPath() !== null) return test;
  if (process.env.MIDSHIP_REQUIRE_NATS === '1') {
    return (name) => test(name, () => {
      throw new Error(`nats-server is required (MIDSHIP_REQUIRE_NATS=1) but was not found: ${NATS_HINT}`);
    });
  }
  console.log(`SKIPPING fleet tests: nats-server not found; ${NATS_HINT}`);
  return (name, fn) => test.skip(name, fn);
}

/** A port free right now on 127.0.0.1 (the server binds it moments later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export class NatsServer {
  private child: ChildProcess | null = null;
  private log = '';

  constructor(readonly confPath: string, readonly port: number) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Everything the server wrote since it was last started. */
  output(): string {
    return this.log;
  }

  /** Starts the server and resolves once it accepts clients. */
  async start(readyMs = 30_000): Promise<this> {
    if (this.child) throw new Error('already running');
    const bin = natsServerPath();
    if (bin === null) throw new Error(`nats-server not found: ${NATS_HINT}`);
    this.log = '';
    const child = spawn(bin, ['-c', this.confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    const deadline = Date.now() + readyMs;
    while (!/Server is ready/.test(this.log)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nats-server exited: ${this.log}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`nats-server not ready after ${readyMs} ms: ${this.log}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return this;
  }

  /** SIGTERM by pid and wait for the exit (SIGKILL after 10 s). */
  async stop(): Promise<void> {
    await this.signal('SIGTERM', 10_000);
  }

  /** SIGKILL: the server vanishes as in a crash or a pulled cable. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 10_000);
  }

  private async signal(sig: NodeJS.Signals, ms: number): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(child.pid!, sig);
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(t);
  }
}

export interface NatsCluster {
  nodes: NatsServer[];
  urls: string[];
  dir: string;
  stop(): Promise<void>;
}

/**
 * A 3-node JetStream cluster; `confFor(i, ports)` writes node i's configuration text (every node
 * gets its own client port, route port and store under `dir`).
 */
export async function startCluster(
  confFor: (i: number, p: { port: number; routePort: number; routes: string[]; storeDir: string; name: string }) => string,
  size = 3,
): Promise<NatsCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-nats-cluster-'));
  const ports: Array<{ port: number; routePort: number }> = [];
  for (let i = 0; i < size; i++) ports.push({ port: await freePort(), routePort: await freePort() });
  const nodes: NatsServer[] = [];
  for (let i = 0; i < size; i++) {
    const routes = ports.filter((_, j) => j !== i).map((p) => `nats-route://127.0.0.1:${p.routePort}`);
    const confPath = join(dir, `node${i}.conf`);
    await writeFile(confPath, confFor(i, { ...ports[i]!, routes, storeDir: join(dir, `store${i}`), name: `n${i}` }));
    nodes.push(new NatsServer(confPath, ports[i]!.port));
  }
  await Promise.all(nodes.map((n) => n.start()));
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    dir,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A one-server fleet as `fleet init` makes it, running: the conf, creds, signer key, the server. */
export interface TestFleet {
  init: FleetInitResult;
  server: NatsServer;
  trusted: ReturnType<typeof parseTrustedKeys>;
  stop(): Promise<void>;
}

export async function startFleet(hosts: string[]): Promise<TestFleet> {
  const dir = await mkdtemp(join(tmpdir(), 'midship-fleet-'));
  const port = await freePort();
  const init = await fleetInit(dir, { hosts, natsPort: port });
  const server = await new NatsServer(init.confPath, port).start();
  const trusted = parseTrustedKeys(await readFile(init.signerPubPath, 'utf8'), init.signerPubPath);
  return {
    init, server, trusted,
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The sublevel a host link is given, as the daemon's app.sublevel('fleet_outbox') would be. */
export function outboxDb(t: TempDb) {
  return t.db.sublevel<string, unknown>('fleet_outbox', { valueEncoding: 'json' });
}

// A real classic-level database in a temp dir that can be closed and reopened (a restart).
export { TempDb };
