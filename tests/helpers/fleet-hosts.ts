// Real midshipd processes in fleet mode (the built-in modules plus the test module), each with
// its own temp data dir, joined to a test fleet (helpers/nats.ts) through the MIDSHIP_FLEET_*
// environment. Stopped with SIGTERM (a clean stop) or SIGKILL (a crash), by pid.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnDaemon, type ChildDaemon } from './child.js';
import { Client } from './daemon.js';
import type { TestFleet } from './nats.js';

const alive = new Set<number>();
process.once('exit', () => {
  // A failed test must not leave daemons behind.
  for (const pid of alive) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

export interface FleetHost {
  host: string;
  dataDir: string;
  daemon: ChildDaemon;
  /** A client on the unix socket (the local administrator), opened once. */
  local(): Promise<Client>;
  /** SIGTERM and wait for the exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Stop (if running) and remove the data dir. */
  cleanup(): Promise<void>;
  /** Audit lines of fleet calls in the daemon's log so far. */
  fleetAudit(): Array<Record<string, unknown>>;
}

export interface HostOptions {
  /** Default: the fleet's server. */
  url?: string;
  dataDir?: string;
  heartbeatMs?: number;
  env?: Record<string, string>;
  /** No credentials (a server without authentication). */
  noCreds?: boolean;
}

export async function spawnHost(fleet: TestFleet, host: string, o: HostOptions = {}): Promise<FleetHost> {
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), `midship-fleet-${host}-`)));
  const env: Record<string, string> = {
    MIDSHIP_FLEET_URL: o.url ?? fleet.server.url,
    MIDSHIP_FLEET_HOST_ID: host,
    MIDSHIP_FLEET_TRUST: fleet.init.signerPubPath,
    MIDSHIP_FLEET_HEARTBEAT_MS: String(o.heartbeatMs ?? 500),
    ...(o.noCreds ? {} : { MIDSHIP_FLEET_CREDS: fleet.init.creds[host]! }),
    ...o.env,
  };
  const daemon = await spawnDaemon(dataDir, env);
  alive.add(daemon.child.pid!);
  void daemon.exited.then(() => alive.delete(daemon.child.pid!));
  let client: Client | null = null;
  let running = true;
  const stop = async (): Promise<number | null> => {
    if (client) await client.close().catch(() => undefined);
    client = null;
    if (!running) return daemon.child.exitCode;
    running = false;
    if (daemon.child.exitCode === null && daemon.child.signalCode === null) process.kill(daemon.child.pid!, 'SIGTERM');
    return daemon.exited;
  };
  return {
    host,
    dataDir,
    daemon,
    async local() {
      client ??= await Client.connect(daemon.socketPath);
      return client;
    },
    stop,
    async kill() {
      if (client) client.ws.terminate();
      client = null;
      if (!running) return;
      running = false;
      if (daemon.child.exitCode === null && daemon.child.signalCode === null) process.kill(daemon.child.pid!, 'SIGKILL');
      await daemon.exited;
    },
    async cleanup() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
    fleetAudit() {
      return daemon.stderr().split('\n').filter((l) => l.includes('"audit":true') && l.includes('"cred":"FLEET"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}
