// zfs-fuse's kstats (/zfs-kstat/zfs/arcstats/<name>, one value per file), read by a small shell
// kept running beside the daemon rather than by the daemon itself.
//
// zfs-fuse answers these files from a user-space process that stalls when its pools are busy (for
// minutes on a loaded host). A read of a stalled FUSE file blocks the thread making it until the
// answer comes. In the daemon that thread would be one of libuv's four pool threads (shared with
// the database), and Node cannot even exit while one is blocked: process.exit() waits for the
// pool's threads. A child process blocked instead costs the daemon nothing: the daemon waits for
// its answer with a deadline, sends no new request while one is unanswered, and on close kills it.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';

// One request per line on stdin; the answer is a "name value" line per file read, then ".",
// written at once (one pipe read for the daemon, not one per line). Files missing at start are
// never looked for again (each look is a round trip to zfs-fuse); unreadable ones are left out; a
// closed stdin ends the loop. Builtins only: no fork per request.
const SCRIPT = `cd "$1" || exit 1
shift
for k in "$@"; do shift; [ -e "$k" ] && set -- "$@" "$k"; done
nl='
'
while read -r _; do
  out=
  for k in "$@"; do
    read -r v < "$k" && out="$out$k $v$nl"
  done
  printf '%s.\\n' "$out"
done`;

type Child = ChildProcessByStdio<Writable, Readable, null>;
/** The child's stdout as what it is at run time: a pipe socket, which can be unref'd. */
const pipe = (child: Child) => child.stdout as unknown as Socket;

/** Answers to one request: name -> value text. */
export type KstatValues = Map<string, string>;

export class FuseKstatReader {
  private child: Child | null = null;
  private buffered = '';
  private values: KstatValues = new Map();
  /** The request in flight: at most one, a stalled zfs-fuse is never asked twice. */
  private answer: { resolve: (v: KstatValues | null) => void; promise: Promise<KstatValues | null> } | null = null;
  private closed = false;

  constructor(private readonly dir: string, private readonly names: readonly string[]) {}

  /** The files' values, or null when the shell exited (no access, the directory went away). */
  request(): Promise<KstatValues | null> {
    if (this.answer) return this.answer.promise;
    if (this.closed) return Promise.resolve(null);
    const child = this.child ?? this.spawn();
    let resolve!: (v: KstatValues | null) => void;
    const promise = new Promise<KstatValues | null>((r) => (resolve = r));
    this.answer = { resolve, promise };
    // Kept alive while an answer is awaited, not while idle (the shell never holds up an exit).
    pipe(child).ref();
    child.stdin.write('\n');
    return promise;
  }

  private spawn(): Child {
    const child = spawn('/bin/sh', ['-c', SCRIPT, 'sh', this.dir, ...this.names], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child = child;
    // Only an awaited answer keeps the process alive (request), never the shell itself.
    child.unref();
    (child.stdin as unknown as Socket).unref();
    pipe(child).unref();
    child.stdin.on('error', () => {}); // EPIPE after it exited: the exit handler answers
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => this.take(chunk));
    // Its stdout closing is the end that keeps the process alive to be seen (the child is unref'd).
    child.stdout.once('close', () => this.gone(child));
    child.once('error', () => this.gone(child));
    child.once('exit', () => this.gone(child));
    return child;
  }

  private take(chunk: string): void {
    this.buffered += chunk;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      if (line === '.') {
        const done = this.values;
        this.values = new Map();
        const a = this.answer;
        this.answer = null;
        if (this.child) pipe(this.child).unref();
        a?.resolve(done);
        continue;
      }
      const sp = line.indexOf(' ');
      if (sp > 0) this.values.set(line.slice(0, sp), line.slice(sp + 1));
    }
  }

  private gone(child: Child): void {
    if (this.child !== child) return;
    this.child = null;
    this.buffered = '';
    this.values = new Map();
    const a = this.answer;
    this.answer = null;
    a?.resolve(null);
  }

  /** Kills the shell (a stuck one included) without waiting for it. */
  close(): void {
    this.closed = true;
    const child = this.child;
    if (child) {
      child.stdin.destroy();
      child.stdout.destroy();
      child.kill('SIGKILL');
      this.gone(child);
    }
  }
}
