// The three servers under test, each its own process on the server core and each listening on a
// unix socket, so every row pays for the same transport. Midship is the real daemon, started as
// a user would start it (default modules and limits, info logging).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNode, stop, waitForLine, type Child } from './spawn.js';
import type { Expect } from './types.js';

export type ServerName = 'echo' | 'json-rpc-2.0' | 'midship';
export const SERVER_NAMES: ServerName[] = ['echo', 'json-rpc-2.0', 'midship'];

export interface RunningServer {
  name: ServerName;
  url: string;
  expect: Expect;
  child: Child;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const READY_MS = 15_000;

async function startPlain(name: ServerName, script: string, dir: string, core: number | null): Promise<RunningServer> {
  const socket = join(dir, `${name}.sock`);
  const child = startNode(here(script), [socket], core);
  await waitForLine(child, 'stdout', (l) => l === 'ready', READY_MS);
  return { name, url: `ws+unix:${socket}:/api/current`, expect: name === 'echo' ? 'echo' : 'pong', child };
}

/** `profileDir`: write a V8 CPU profile of the daemon there (node --cpu-prof) when it stops. */
async function startMidship(dir: string, core: number | null, profileDir: string | null): Promise<RunningServer> {
  const dataDir = join(dir, 'midship-data');
  const socket = join(dir, 'midship.sock');
  const flags = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const args = ['--port', '0', '--data-dir', dataDir, '--socket', socket, '--log-level', 'info'];
  const child = startNode(here('../daemon/main.js'), args, core, flags);
  // Logged once both listeners are up and the socket has its permissions.
  await waitForLine(child, 'stderr', (l) => l.includes('"msg":"midshipd listening"'), READY_MS);
  // The unix socket is the local administrator: authenticated, so no anonymous rate limit.
  return { name: 'midship', url: `ws+unix:${socket}:/api/current`, expect: 'pong', child };
}

export async function startServers(dir: string, core: number | null, profileDir: string | null): Promise<RunningServer[]> {
  const started: RunningServer[] = [];
  try {
    started.push(await startPlain('echo', './echo-server.js', dir, core));
    started.push(await startPlain('json-rpc-2.0', './jsonrpc2-server.js', dir, core));
    started.push(await startMidship(dir, core, profileDir));
  } catch (err) {
    await stopServers(started);
    throw err;
  }
  return started;
}

export async function stopServers(servers: RunningServer[]): Promise<void> {
  await Promise.all(servers.map((s) => stop(s.child)));
}
