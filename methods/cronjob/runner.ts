// One attempt of a cron job's command: `/bin/sh -c <command>` in its own process group (and
// session), its output split into lines, a timeout, and a stop that takes the whole group down:
// SIGTERM to the group, SIGKILL to the group when it is still alive after the grace period.
// An attempt ends when the shell has exited and its output pipes are closed, as cron's does: a
// background process that keeps stdout open keeps the attempt running (until the timeout).
// Processes that detached from the pipes are left alone when the shell ends normally.
import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { groupAlive, readStatSync, signalGroup } from './procfs.js';

export type StreamName = 'stdout' | 'stderr';
export type StopReason = 'timeout' | 'aborted' | 'interrupted';

/** Longer lines are cut into pieces of this many characters (a line never buffers without bound). */
const MAX_LINE_CHARS = 64 * 1024;
/** How often a running process group is checked (also while waiting for one to die). */
export const POLL_MS = 100;
/** After the group is gone, how long trailing output may take to drain. */
const DRAIN_MS = 1000;
/** After SIGKILL, how long to wait for the pipes before giving up on them. */
const AFTER_KILL_MS = 3000;

export interface AttemptOptions {
  command: string;
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL when the attempt times out. */
  killGraceMs: number;
  /** The lines of one read of a stream (never called per line: a chatty command reads in big chunks). */
  onLines(stream: StreamName, lines: string[]): void;
  /** Told each signal sent to the process group. */
  onSignal?(signal: NodeJS.Signals, reason: StopReason): void;
}

export type AttemptOutcome =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: string }
  | { kind: 'stopped'; reason: StopReason; code: number | null; signal: string | null }
  | { kind: 'spawn_failed'; error: Error };

export interface Attempt {
  /** The leader's pid, which is also the process group id (undefined when spawn failed). */
  readonly pid: number | undefined;
  /** The leader's start time from /proc (null where /proc is unavailable). */
  readonly starttime: number | null;
  readonly done: Promise<AttemptOutcome>;
  /** Take the process group down; the first reason wins, a shorter grace shortens the wait. */
  stop(reason: StopReason, graceMs: number): void;
}

/**
 * Splits a byte stream into lines (without the newline; a trailing `\r` is dropped too), handing
 * over all the lines of one chunk at once.
 */
class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';

  constructor(private readonly emit: (lines: string[]) => void) {}

  push(chunk: Buffer): void {
    this.buf += this.decoder.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (let nl = this.buf.indexOf('\n'); nl !== -1; nl = this.buf.indexOf('\n', start)) {
      lines.push(stripCr(this.buf.slice(start, nl)));
      start = nl + 1;
    }
    this.buf = this.buf.slice(start);
    while (this.buf.length > MAX_LINE_CHARS) {
      lines.push(this.buf.slice(0, MAX_LINE_CHARS));
      this.buf = this.buf.slice(MAX_LINE_CHARS);
    }
    if (lines.length > 0) this.emit(lines);
  }

  end(): void {
    this.buf += this.decoder.end();
    if (this.buf !== '') this.emit([stripCr(this.buf)]);
    this.buf = '';
  }
}

function stripCr(text: string): string {
  return text.endsWith('\r') ? text.slice(0, -1) : text;
}

class ChildAttempt implements Attempt {
  readonly pid: number | undefined;
  readonly starttime: number | null = null;
  readonly done: Promise<AttemptOutcome>;
  private readonly child: ChildProcess;
  private readonly onSignal: AttemptOptions['onSignal'];
  private resolve!: (o: AttemptOutcome) => void;
  private settled = false;
  private exited = false;
  private reason: StopReason | null = null;
  private killAt = Infinity;
  private killTimer: NodeJS.Timeout | null = null;
  private timeoutTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private giveUpTimer: NodeJS.Timeout | null = null;
  private exitCode: number | null = null;
  private exitSignal: string | null = null;

  constructor(o: AttemptOptions) {
    this.done = new Promise((r) => (this.resolve = r));
    this.onSignal = o.onSignal;
    this.child = spawn('/bin/sh', ['-c', o.command], {
      cwd: o.cwd,
      env: o.env,
      ...(o.uid === undefined ? {} : { uid: o.uid }),
      ...(o.gid === undefined ? {} : { gid: o.gid }),
      // setsid(): the shell leads a new session and process group whose id is its pid, so one
      // kill(-pgid) reaches everything it started (unless something left the group on purpose).
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid;
    if (this.pid !== undefined) this.starttime = readStatSync(this.pid)?.starttime ?? null;
    const splitters = {
      stdout: new LineSplitter((lines) => o.onLines('stdout', lines)),
      stderr: new LineSplitter((lines) => o.onLines('stderr', lines)),
    };
    const wire = (name: StreamName, s: Readable | null) => {
      s?.on('data', (d: Buffer) => {
        splitters[name].push(d);
        // One read per turn of the event loop: libuv reads a flooded pipe up to 32 times per
        // wakeup, and a command printing millions of lines must not hold the daemon that long.
        s.pause();
        setImmediate(() => s.resume());
      });
      s?.on('end', () => splitters[name].end());
      s?.on('error', () => undefined);
    };
    wire('stdout', this.child.stdout);
    wire('stderr', this.child.stderr);
    this.child.on('error', (error) => {
      if (this.pid === undefined) this.settle({ kind: 'spawn_failed', error });
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.exitCode = code;
      this.exitSignal = signal;
    });
    this.child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      this.exitCode ??= code;
      this.exitSignal ??= signal;
      this.finish();
    });
    if (this.pid !== undefined) {
      this.timeoutTimer = setTimeout(() => this.stop('timeout', o.killGraceMs), o.timeoutMs);
    }
  }

  stop(reason: StopReason, graceMs: number): void {
    if (this.settled || this.pid === undefined) return;
    if (this.reason === null) {
      this.reason = reason;
      if (signalGroup(this.pid, 'SIGTERM')) this.onSignal?.('SIGTERM', reason);
      this.poll();
    }
    const at = Date.now() + graceMs;
    if (at >= this.killAt) return;
    this.killAt = at;
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.kill(), graceMs);
  }

  private kill(): void {
    this.killTimer = null;
    if (this.settled || this.pid === undefined) return;
    if (signalGroup(this.pid, 'SIGKILL')) this.onSignal?.('SIGKILL', this.reason!);
    // Pipes held open by a process that left the group (or one stuck in the kernel) must not
    // keep the job alive forever.
    this.giveUpTimer = setTimeout(() => this.abandonPipes(), AFTER_KILL_MS);
  }

  /** While stopping: once the leader has exited and the group is empty, let output drain, then close. */
  private poll(): void {
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      if (this.settled) return;
      void groupAlive(this.pid!).then((alive) => {
        if (this.settled) return;
        if (this.exited && !alive) {
          if (this.killTimer) clearTimeout(this.killTimer);
          this.killTimer = null;
          this.giveUpTimer ??= setTimeout(() => this.abandonPipes(), DRAIN_MS);
          return;
        }
        this.poll();
      });
    }, POLL_MS);
  }

  private abandonPipes(): void {
    if (this.settled) return;
    this.child.stdout?.destroy();
    this.child.stderr?.destroy();
    // 'close' follows once the leader has exited; if even that never comes, settle anyway.
    if (!this.exited) setTimeout(() => this.finish(), AFTER_KILL_MS).unref();
  }

  private finish(): void {
    if (this.reason !== null) {
      this.settle({ kind: 'stopped', reason: this.reason, code: this.exitCode, signal: this.exitSignal });
    } else if (this.exitCode !== null) {
      this.settle({ kind: 'exited', code: this.exitCode });
    } else {
      this.settle({ kind: 'signaled', signal: this.exitSignal ?? 'unknown' });
    }
  }

  private settle(o: AttemptOutcome): void {
    if (this.settled) return;
    this.settled = true;
    for (const t of [this.killTimer, this.timeoutTimer, this.pollTimer, this.giveUpTimer]) if (t) clearTimeout(t);
    this.resolve(o);
  }
}

export function startAttempt(o: AttemptOptions): Attempt {
  return new ChildAttempt(o);
}
