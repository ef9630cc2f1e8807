// Per-job log files (`<dir>/<id>.log`, PROTOCOL.md 5.4): an asynchronous writer, a follower that
// streams a log while it grows (core.job_logs), and the excerpt stored with a finished job.
import { createReadStream } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
export { logsExcerpt } from './excerpt.js';

export function jobLogPath(dir: string, id: number): string {
  return join(dir, `${id}.log`);
}

export type ChunkListener = (chunk: string, offset: number) => void;

export interface JobLogWriterOptions {
  /**
   * Characters that may wait in memory while a write is in flight (default 4 MiB). Memory use is
   * at most about twice this: the text being written plus the text waiting.
   */
  maxPending?: number;
  /** The log file's size cap in bytes (default: none). See JobLogWriter. */
  maxBytes?: number;
}

const DEFAULT_MAX_PENDING = 4 * 1024 * 1024;
/** Of a capped log, at most this much of the end is kept (and a quarter of the cap at most). */
const MAX_TAIL_BYTES = 1024 * 1024;

/**
 * Appends text to one job's log file without ever blocking the event loop.
 *
 * - Order: text reaches the file in append() order; one write is in flight at a time and all text
 *   appended meanwhile goes out together in the next write, so bursts become few writes.
 * - Memory policy: when more than `maxPending` characters are waiting (the producer is faster than
 *   the disk), further text is dropped, not queued; once the backlog drains, a line
 *   `[... N characters of log output dropped ...]` records the loss in the file. Losing the middle
 *   of a flood of output is preferable to growing without bound or stalling the job.
 * - The file is created (truncated) by the first write or by close(), so byte offsets reported to
 *   chunk listeners are file positions.
 * - A failed write (disk full, directory gone) stops the log: `error` is set and later text is
 *   ignored. Logging never fails the job, so close() does not reject.
 * - Size cap (`maxBytes`): the file takes text until it is `maxBytes` minus the tail size; after
 *   that the latest text is kept in memory as a rolling tail (a quarter of the cap, at most 1 MiB)
 *   and written at close() behind a line `[... N bytes of log output skipped ...]`, starting at a
 *   line boundary. Followers see the head live, then the marker and the tail at the end.
 */
export class JobLogWriter {
  readonly path: string;
  /** The write error that stopped this log, if any. */
  error: Error | null = null;
  private readonly maxPending: number;
  /** Bytes the file takes before the rolling tail starts (Infinity: no cap). */
  private readonly headBytes: number;
  private readonly tailBytes: number;
  /** Bytes accepted into the file so far (written or waiting). */
  private accepted = 0;
  /** Non-null once the head is full: the latest text, oldest first, tailBytes at most. */
  private tail: string[] | null = null;
  private tailLength = 0;
  private skippedBytes = 0;
  private pending: string[] = [];
  private pendingChars = 0;
  private droppedChars = 0;
  private written = 0;
  private handle: FileHandle | null = null;
  private draining: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private hasEnded = false;
  private readonly chunkListeners = new Set<ChunkListener>();
  private readonly endListeners = new Set<() => void>();

  constructor(path: string, options: JobLogWriterOptions = {}) {
    this.path = path;
    this.maxPending = Math.max(1, options.maxPending ?? DEFAULT_MAX_PENDING);
    const max = options.maxBytes ?? Infinity;
    this.tailBytes = Number.isFinite(max) ? Math.max(1, Math.min(MAX_TAIL_BYTES, Math.floor(max / 4))) : 0;
    this.headBytes = Number.isFinite(max) ? Math.max(0, max - this.tailBytes) : Infinity;
  }

  /** Bytes that have reached the file. Always a chunk boundary, hence a UTF-8 character boundary. */
  get bytesWritten(): number {
    return this.written;
  }

  /** True once close() was called: append() ignores text from then on. */
  get closed(): boolean {
    return this.closing !== null;
  }

  /** True once everything was written, the file closed and the end listeners called. */
  get ended(): boolean {
    return this.hasEnded;
  }

  append(text: string): void {
    if (this.closing !== null || this.error !== null || text.length === 0) return;
    if (this.tail !== null) {
      this.keepTail(text);
      return;
    }
    if (this.headBytes !== Infinity) {
      const bytes = Buffer.byteLength(text);
      if (this.accepted + bytes > this.headBytes) {
        const [fits, rest] = splitAtByte(text, this.headBytes - this.accepted);
        if (fits.length > 0) this.acceptHead(fits);
        this.tail = [];
        this.keepTail(rest);
        return;
      }
    }
    this.acceptHead(text);
  }

  private acceptHead(text: string): void {
    // A single text larger than the limit is still taken when nothing waits: it is already in
    // memory, and refusing it would lose it for no gain.
    if (this.pendingChars > 0 && this.pendingChars + text.length > this.maxPending) {
      this.droppedChars += text.length;
      return;
    }
    if (this.droppedChars > 0) {
      this.enqueue(`\n[... ${this.droppedChars} characters of log output dropped ...]\n`);
      this.droppedChars = 0;
    }
    this.enqueue(text);
  }

  /** Past the head: keep only the latest tailBytes bytes. */
  private keepTail(text: string): void {
    const tail = this.tail!;
    tail.push(text);
    this.tailLength += Buffer.byteLength(text);
    while (tail.length > 1 && this.tailLength - Buffer.byteLength(tail[0]!) >= this.tailBytes) {
      const old = Buffer.byteLength(tail.shift()!);
      this.tailLength -= old;
      this.skippedBytes += old;
    }
    if (this.tailLength > this.tailBytes) {
      const [dropped, kept] = splitAtByte(tail[0]!, this.tailLength - this.tailBytes, true);
      const n = Buffer.byteLength(dropped);
      tail[0] = kept;
      this.tailLength -= n;
      this.skippedBytes += n;
    }
  }

  /** The marker and the tail of a capped log, from the first whole line of the tail. */
  private tailText(): string {
    let text = this.tail!.join('');
    if (this.skippedBytes > 0) {
      const nl = text.indexOf('\n');
      if (nl !== -1 && nl < text.length - 1) {
        this.skippedBytes += Buffer.byteLength(text.slice(0, nl + 1));
        text = text.slice(nl + 1);
      }
    }
    if (this.skippedBytes === 0) return text;
    return `\n[... ${this.skippedBytes} bytes of log output skipped: the log is capped at ${this.headBytes + this.tailBytes} bytes ...]\n${text}`;
  }

  /** `listener(chunk, offset)` runs after each chunk reached the file at byte `offset`. */
  onChunk(listener: ChunkListener): () => void {
    this.chunkListeners.add(listener);
    return () => this.chunkListeners.delete(listener);
  }

  /** `listener()` runs once the log is complete (at once, asynchronously, if it already is). */
  onEnd(listener: () => void): () => void {
    if (this.hasEnded) {
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) listener();
      });
      return () => {
        cancelled = true;
      };
    }
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  /** Writes what is waiting, closes the file and calls the end listeners. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    while (this.draining !== null) await this.draining;
    if (this.tail !== null && this.error === null) {
      const text = this.tailText();
      this.tail = null;
      if (text.length > 0) this.enqueue(text);
      while (this.draining !== null) await this.draining;
    }
    try {
      // A job that never logged still gets its (empty) file, so its excerpt is '' and not
      // "Log file was removed".
      if (this.handle === null && this.error === null) this.handle = await open(this.path, 'w', 0o600);
      await this.handle?.close();
    } catch (err) {
      this.error ??= err instanceof Error ? err : new Error(String(err));
    }
    this.handle = null;
    this.hasEnded = true;
    const listeners = [...this.endListeners];
    this.endListeners.clear();
    this.chunkListeners.clear();
    for (const listener of listeners) safeCall(() => listener());
  }

  private enqueue(text: string): void {
    if (this.headBytes !== Infinity) this.accepted += Buffer.byteLength(text);
    this.pending.push(text);
    this.pendingChars += text.length;
    this.draining ??= this.drain();
  }

  private async drain(): Promise<void> {
    try {
      this.handle ??= await open(this.path, 'w', 0o600);
      while (this.pending.length > 0) {
        const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
        this.pending = [];
        this.pendingChars = 0;
        const buf = Buffer.from(text, 'utf8');
        for (let done = 0; done < buf.length; ) {
          const { bytesWritten } = await this.handle.write(buf, done, buf.length - done, null);
          done += bytesWritten;
        }
        const offset = this.written;
        this.written += buf.length;
        for (const listener of [...this.chunkListeners]) safeCall(() => listener(text, offset));
      }
    } catch (err) {
      this.error = err instanceof Error ? err : new Error(String(err));
      this.pending = [];
      this.pendingChars = 0;
    } finally {
      this.draining = null;
    }
  }
}

/**
 * `text` cut after `bytes` UTF-8 bytes, on a character boundary: the first part is at most `bytes`
 * long, or (`atLeast`) at least `bytes` long.
 */
function splitAtByte(text: string, bytes: number, atLeast = false): [string, string] {
  const buf = Buffer.from(text, 'utf8');
  let cut = Math.max(0, Math.min(bytes, buf.length));
  const step = atLeast ? 1 : -1;
  while (cut > 0 && cut < buf.length && (buf[cut]! & 0xc0) === 0x80) cut += step;
  return [buf.toString('utf8', 0, cut), buf.toString('utf8', cut)];
}

/** A listener's failure is its own problem; it must not stop the log or the other listeners. */
function safeCall(fn: () => void): void {
  try {
    fn();
  } catch {
    // ignored on purpose (see above)
  }
}

/**
 * Sends a job's log to `onData`: everything the file holds, then each chunk the writer appends,
 * with no gap and no repeat. The file is read only up to the writer's bytesWritten at the moment
 * of subscribing; chunks arriving during that read are held back and sent afterwards. Resolves
 * when the writer has ended (at once after the file content when `writer` is null, i.e. the job
 * already finished) or when `signal` aborts. A missing file counts as empty.
 */
export async function followLog(
  path: string,
  writer: JobLogWriter | null,
  onData: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return;
  if (writer === null) {
    await readRange(path, 0, Infinity, onData, signal);
    return;
  }

  let live = false; // true once the file part was sent: chunks then go straight out
  const held: string[] = [];
  let failure: unknown = null;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  let ended = false;

  const deliver = (text: string): void => {
    if (failure !== null || signal.aborted) return;
    try {
      onData(text);
    } catch (err) {
      failure = err;
      finish();
    }
  };
  // Subscribe and take the offset in the same synchronous step: every chunk after `upTo` comes
  // through the listener, everything before it is in the file.
  const upTo = writer.bytesWritten;
  const offChunk = writer.onChunk((chunk, offset) => {
    if (offset < upTo) return; // cannot happen, kept as a guard against duplicates
    if (live) deliver(chunk);
    else held.push(chunk);
  });
  const offEnd = writer.onEnd(() => {
    ended = true;
    if (live) finish();
  });
  const onAbort = (): void => finish();
  signal.addEventListener('abort', onAbort, { once: true });

  try {
    if (upTo > 0) await readRange(path, 0, upTo, deliver, signal);
    for (const chunk of held) deliver(chunk);
    held.length = 0;
    live = true;
    if (ended || writer.ended) finish();
    await done;
  } finally {
    offChunk();
    offEnd();
    signal.removeEventListener('abort', onAbort);
  }
  if (failure !== null) throw failure;
}

/** Streams bytes [start, end) of a file as text, decoding UTF-8 across read boundaries. */
async function readRange(
  path: string,
  start: number,
  end: number,
  onData: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const stream = createReadStream(path, end === Infinity ? { start } : { start, end: end - 1 });
  const decoder = new StringDecoder('utf8');
  try {
    for await (const piece of stream as AsyncIterable<Buffer>) {
      if (signal.aborted) return;
      const text = decoder.write(piece);
      if (text.length > 0) onData(text);
    }
    const rest = decoder.end();
    if (rest.length > 0 && !signal.aborted) onData(rest);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  } finally {
    stream.destroy();
  }
}

/** Deletes a job's log file; one that is already gone is fine. */
export async function removeLog(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ENOENT';
}
