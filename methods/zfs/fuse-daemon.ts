// zfs-fuse's `zpool`/`zfs` talk to a user-space daemon over /var/run/zfs/zfs_socket. If that
// daemon is not running, start it, and remember that we did: stop() ends only a daemon this
// handle started, never one that was already there.
import { spawn, type ChildProcess } from 'node:child_process';
import { findProgram } from './commands.js';
import { ZfsCommandError } from './errors.js';
import { runRaw } from './exec.js';

export interface ZfsDaemonHandle {
  /** True when this handle started zfs-fuse (and stop() will end it). */
  readonly startedByUs: boolean;
  readonly pid: number | null;
  /** Ends zfs-fuse if this handle started it; otherwise does nothing. */
  stop(): Promise<void>;
}

export interface EnsureOptions {
  zpool?: string;
  /** Path of the zfs-fuse program; found on PATH when absent. */
  zfsFuse?: string;
  /** How long to wait for a started daemon to answer (default 20 s). */
  startTimeoutMs?: number;
  signal?: AbortSignal;
}

/** What zfs-fuse's libzfs prints when it cannot reach its daemon. */
export const DAEMON_NOT_RUNNING = /Please make sure that the zfs-fuse daemon is running/;

async function answers(zpool: string, signal?: AbortSignal): Promise<{ ok: boolean; needsDaemon: boolean; text: string }> {
  const r = await runRaw(zpool, ['list', '-H', '-o', 'name'], { timeoutMs: 20_000, signal });
  const text = `${r.stdout}${r.stderr}`;
  return { ok: r.exitCode === 0 || /no pools available/.test(text), needsDaemon: DAEMON_NOT_RUNNING.test(text), text };
}

const notStarted: ZfsDaemonHandle = { startedByUs: false, pid: null, stop: async () => {} };

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export async function ensureZfsDaemon(opts: EnsureOptions = {}): Promise<ZfsDaemonHandle> {
  const zpool = opts.zpool ?? 'zpool';
  const first = await answers(zpool, opts.signal);
  if (first.ok || !first.needsDaemon) return notStarted;
  const program = opts.zfsFuse ?? findProgram('zfs-fuse');
  if (program === null) {
    throw new ZfsCommandError({ command: zpool, args: ['list'], exitCode: null, signal: null, stderr: first.text, zfsMessage: first.text.trim(), errno: 'ENOENT', reason: 'the zfs-fuse daemon is not running and the zfs-fuse program was not found' });
  }
  // Its own process group, so a Ctrl-C meant for us does not take the pools' daemon down too.
  const child = spawn(program, ['--no-daemon'], { stdio: 'ignore', detached: true });
  child.unref();
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  for (;;) {
    if (exited(child)) throw new ZfsCommandError({ command: program, args: ['--no-daemon'], exitCode: child.exitCode, signal: child.signalCode, stderr: '', zfsMessage: '', errno: 'EFAULT', reason: 'zfs-fuse exited while starting' });
    const now = await answers(zpool, opts.signal);
    if (now.ok) break;
    if (Date.now() > deadline || opts.signal?.aborted) {
      child.kill('SIGTERM');
      throw new ZfsCommandError({ command: program, args: ['--no-daemon'], exitCode: null, signal: null, stderr: now.text, zfsMessage: now.text.trim(), errno: 'ETIMEDOUT', reason: 'zfs-fuse did not start answering in time' });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    startedByUs: true,
    pid: child.pid ?? null,
    async stop() {
      if (exited(child)) return;
      child.kill('SIGTERM'); // zfs-fuse unmounts and syncs its pools on SIGTERM
      const t = setTimeout(() => { if (!exited(child)) child.kill('SIGKILL'); }, 30_000);
      await gone;
      clearTimeout(t);
    },
  };
}
