// One web shell: a login shell on a pseudo-terminal joined to a WebSocket. Raw pty bytes go to
// the client as binary frames; every frame from the client (binary or text) is written to the
// pty as it is. When the shell exits the socket is closed; when the socket closes the shell's
// process group is hung up, then killed. A client that stops reading pauses the shell (its
// output blocks) and is cut off after a while, as TrueNAS does.
import { spawn, type IPty } from '@lydell/node-pty';
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import type { RawData, WebSocket } from 'ws';

/** Output buffered towards the client before the shell is paused, and below which it resumes. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
/** A client that reads nothing for this long is cut off. */
const STALLED_MS = 600_000;
/** Between SIGHUP and SIGKILL of a shell whose socket closed. */
const KILL_GRACE_MS = 2000;

/** The daemon user's login shell, else bash, else sh. */
function loginShell(): string {
  const own = (() => {
    try {
      return userInfo().shell;
    } catch {
      return null;
    }
  })();
  for (const s of [own, '/bin/bash', '/bin/sh']) if (s && !s.endsWith('nologin') && !s.endsWith('/false') && existsSync(s)) return s;
  return '/bin/sh';
}

export interface PtySessionOptions {
  id: string;
  ws: WebSocket;
  cols?: number;
  rows?: number;
  /** Called once, when both the shell and the socket are gone. */
  onEnd: (session: PtySession) => void;
}

export class PtySession {
  readonly id: string;
  readonly pty: IPty;
  private readonly ws: WebSocket;
  private paused = false;
  private stallTimer: NodeJS.Timeout | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private exited = false;
  private ended = false;

  constructor(private readonly options: PtySessionOptions) {
    this.id = options.id;
    this.ws = options.ws;
    const home = homedir();
    this.pty = spawn(loginShell(), ['-l'], {
      name: 'xterm',
      cols: options.cols ?? 80,
      rows: options.rows ?? 24,
      cwd: existsSync(home) ? home : '/',
      env: { ...process.env, TERM: 'xterm', LC_ALL: 'C.UTF-8', HOME: home },
      // Bytes as the pty gives them, not decoded: the client's terminal decodes.
      encoding: null,
    });
    this.pty.onData((data) => this.toClient(data as unknown as Buffer));
    this.pty.onExit(() => {
      this.exited = true;
      if (this.killTimer) clearTimeout(this.killTimer);
      if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(1000, 'The shell exited');
      this.finish();
    });
  }

  /** Frames after the handshake: written to the pty as they are. */
  fromClient(data: RawData): void {
    if (this.exited) return;
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    (this.pty.write as (d: Buffer | string) => void)(buf);
  }

  private toClient(data: Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(data, { binary: true }, () => this.drained());
    if (!this.paused && this.ws.bufferedAmount > HIGH_WATER) {
      this.paused = true;
      this.pty.pause();
      this.stallTimer = setTimeout(() => this.ws.terminate(), STALLED_MS);
    }
  }

  private drained(): void {
    if (!this.paused || this.ws.bufferedAmount > LOW_WATER) return;
    this.paused = false;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
    if (!this.exited) this.pty.resume();
  }

  resize(cols: number, rows: number): void {
    if (!this.exited) this.pty.resize(cols, rows);
  }

  /** The socket closed: hang up the shell's process group, and kill it if it lingers. */
  socketClosed(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    if (this.exited) return this.finish();
    this.signal('SIGHUP');
    this.killTimer = setTimeout(() => this.signal('SIGKILL'), KILL_GRACE_MS);
    this.killTimer.unref();
  }

  private signal(sig: NodeJS.Signals): void {
    // The shell leads its own session and process group: its jobs go with it.
    try {
      process.kill(-this.pty.pid, sig);
    } catch {
      try {
        process.kill(this.pty.pid, sig);
      } catch {
        // already gone
      }
    }
  }

  /** The shell has exited (its socket closes too). */
  whenExited(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => this.pty.onExit(() => resolve()));
  }

  private finish(): void {
    if (this.ended || !this.exited) return;
    this.ended = true;
    this.options.onEnd(this);
  }
}
