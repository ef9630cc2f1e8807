// Child processes of the bench: pinned to one core with taskset when it is there, started and
// awaited until they say they are ready, and stopped (or killed) afterwards. Nothing outlives
// the orchestrator: every child is killed on its exit.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Whether server and client can each get their own core. */
export function pinningAvailable(): { ok: boolean; why: string } {
  if (availableParallelism() < 2) return { ok: false, why: 'fewer than 2 cores available' };
  const probe = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return { ok: false, why: 'taskset not available' };
  return { ok: true, why: 'taskset' };
}

export interface Child {
  proc: ChildProcess;
  /** The last stderr lines, for when something goes wrong. */
  stderrTail(): string;
}

/** Start `node script args` (on `core` when given, with `env` over this process's), recording stderr and stdout. */
export function startNode(script: string, args: string[], core: number | null, nodeFlags: string[] = [], env: NodeJS.ProcessEnv = {}): Child {
  const argv = [...nodeFlags, script, ...args];
  const options = { stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } };
  const proc = core === null
    ? spawn(process.execPath, argv, options)
    : spawn('taskset', ['-c', String(core), process.execPath, ...argv], options);
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const tail: string[] = [];
  // Always read stderr: a full pipe would block the child's logger and skew its figures.
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    tail.push(chunk);
    if (tail.length > 50) tail.shift();
  });
  return { proc, stderrTail: () => tail.join('').slice(-4000) };
}

/** Resolves with the first line of `stream` (stdout or stderr) that `match` accepts. */
export function waitForLine(child: Child, stream: 'stdout' | 'stderr', match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = stream === 'stdout' ? child.proc.stdout! : child.proc.stderr!;
    let buf = '';
    const onData = (chunk: Buffer | string) => {
      buf += String(chunk);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (match(line)) {
          done();
          resolve(line);
          return;
        }
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`child exited (${code}) before it was ready:\n${child.stderrTail()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`child not ready within ${timeoutMs} ms:\n${child.stderrTail()}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      s.off('data', onData);
      child.proc.off('exit', onExit);
    };
    s.on('data', onData);
    child.proc.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL if the child is still there after `graceMs`. */
export function stop(child: Child, graceMs = 3000): Promise<void> {
  const p = child.proc;
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
    p.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

/** Collect a child's whole stdout and resolve when it exits 0; kill it after `timeoutMs`. */
export function runToEnd(child: Child, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
    child.proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`load client failed (${signal ?? code}):\n${child.stderrTail()}`));
    });
  });
}
