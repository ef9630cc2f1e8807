// Running `zpool` / `zfs`: always an argument array (never a shell), a fixed locale and time
// zone so the text we parse is the same everywhere (ctime dates come out in UTC), stderr kept
// for the error, a timeout, and an AbortSignal that ends the child.
import { spawn, type ChildProcess } from 'node:child_process';
import { ZfsCommandError, errnoFromMessage, zfsMessageFrom } from './errors.js';

export interface RunOptions {
  signal?: AbortSignal;
  /** Kill the command after this long (default 120 s); 0 means no limit. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
  /** Refuse output beyond this many bytes (default 256 MiB) rather than exhaust memory. */
  maxOutputBytes?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RawResult extends RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_OUTPUT = 256 * 1024 * 1024;
/** After SIGTERM, a command gets this long before SIGKILL. */
const KILL_GRACE_MS = 2000;

/** The environment every ZFS command runs with. */
export function commandEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C', LANG: 'C', TZ: 'UTC' };
}

/** Ends a child: SIGTERM, then SIGKILL if it is still there after a grace period. */
export function terminate(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, KILL_GRACE_MS);
  t.unref();
  child.once('exit', () => clearTimeout(t));
}

/** Runs a command to its end and reports how it ended, without judging the exit code. */
export function runRaw(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RawResult & { why: 'timeout' | 'aborted' | 'overflow' | null }> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(abortError(command, args));
      return;
    }
    const child = spawn(command, [...args], {
      env: commandEnv(),
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const max = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let why: 'timeout' | 'aborted' | 'overflow' | null = null;
    child.stdout!.on('data', (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > max) {
        why ??= 'overflow';
        terminate(child);
        return;
      }
      out.push(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      // stderr is only for the error message; a runaway one is cut, not accumulated.
      if (errBytes < 1024 * 1024) err.push(d);
      errBytes += d.length;
    });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => {}); // the command may exit without reading; its exit status tells
      child.stdin!.end(opts.input);
    }
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = timeoutMs > 0 ? setTimeout(() => { why ??= 'timeout'; terminate(child); }, timeoutMs) : null;
    const onAbort = () => { why ??= 'aborted'; terminate(child); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(new ZfsCommandError({
        command, args, exitCode: null, signal: null, stderr: '', zfsMessage: e.message,
        errno: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'ENOENT' : 'EFAULT',
        reason: `cannot run: ${e.message}`,
      }));
    });
    child.on('close', (exitCode, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode, signal, why });
    });
  });
}

function abortError(command: string, args: readonly string[]): ZfsCommandError {
  return new ZfsCommandError({ command, args, exitCode: null, signal: null, stderr: '', zfsMessage: '', errno: 'ECANCELED', reason: 'aborted' });
}

/** The error for a finished command that did not succeed. */
export function commandError(command: string, args: readonly string[], r: RawResult & { why: string | null }): ZfsCommandError {
  const zfsMessage = zfsMessageFrom(r.stderr);
  if (r.why === 'aborted') return new ZfsCommandError({ command, args, exitCode: r.exitCode, signal: r.signal, stderr: r.stderr, zfsMessage, errno: 'ECANCELED', reason: 'aborted' });
  if (r.why === 'timeout') return new ZfsCommandError({ command, args, exitCode: r.exitCode, signal: r.signal, stderr: r.stderr, zfsMessage, errno: 'ETIMEDOUT', reason: 'timed out' });
  if (r.why === 'overflow') return new ZfsCommandError({ command, args, exitCode: r.exitCode, signal: r.signal, stderr: r.stderr, zfsMessage, errno: 'EFAULT', reason: 'output too large' });
  return new ZfsCommandError({ command, args, exitCode: r.exitCode, signal: r.signal, stderr: r.stderr, zfsMessage, errno: errnoFromMessage(zfsMessage) });
}

/** Runs a command; resolves with its output when it exits 0, otherwise throws ZfsCommandError. */
export async function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await runRaw(command, args, opts);
  if (r.exitCode === 0 && r.why === null) return { stdout: r.stdout, stderr: r.stderr };
  throw commandError(command, args, r);
}

/** A command whose stdin or stdout is a stream (zfs send / zfs recv). */
export interface StreamingCommand {
  child: ChildProcess;
  /** Settles when the command ended: resolves on exit 0, rejects with ZfsCommandError otherwise. */
  done: Promise<void>;
}

/**
 * Starts a command with a piped stdin or stdout and no timeout (a stream takes as long as it
 * takes); the signal ends it.
 */
export function spawnStreaming(command: string, args: readonly string[], io: { stdin: 'pipe' | 'ignore'; stdout: 'pipe' | 'ignore' }, signal?: AbortSignal): StreamingCommand {
  const child = spawn(command, [...args], { env: commandEnv(), stdio: [io.stdin, io.stdout, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 1024 * 1024) stderr += d.toString('utf8');
  });
  let why: 'aborted' | null = null;
  const onAbort = () => { why = 'aborted'; terminate(child); };
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new ZfsCommandError({ command, args, exitCode: null, signal: null, stderr, zfsMessage: e.message, errno: 'EFAULT', reason: `cannot run: ${e.message}` }));
    });
    child.on('close', (exitCode, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (exitCode === 0 && why === null) resolve();
      else reject(commandError(command, args, { stdout: '', stderr, exitCode, signal: sig, why }));
    });
  });
  // A caller that only awaits the pipeline's overall result must not see an unhandled rejection here.
  done.catch(() => {});
  return { child, done };
}
