// The daemon's database with every write going through one place, so a storage fault (disk full,
// I/O error) is noticed once and handled the same way for every store: jobs, cron jobs, users,
// API keys, tokens.
//
// Why a failed write must stop all writes until the database is reopened: when LevelDB cannot
// append a batch to its write-ahead log it reports the error but leaves the torn record in the
// log, and later writes are appended after it. At the next open the log reader meets the torn
// record and drops the rest of its 32 KiB block ("dropping N bytes; Corruption" in db/LOG), so
// writes acknowledged after the fault silently disappear. Hence:
//   - native writes run one at a time (a write in flight beside the failing one could land after
//     the torn record); JobStore groups its own writes, so throughput comes from batching;
//   - the first error puts the store into a failed state: every write is refused with CallError
//     ENOSPC (or EIO) and the reason, and nothing reaches LevelDB;
//   - recovery closes and reopens the database (the reopen replays the log, drops the torn tail
//     after which nothing was written, stores the rest in a table and starts a new log) and
//     makes a synced test write; only then are writes accepted again. It is retried with backoff
//     and only tried once the file system has room, so a full disk does not close the database
//     (reads keep working while writes are refused).
// With `fsync` every write is synced (LevelDB `sync: true`): an acknowledged write then survives
// power loss, not only a crash of the process.
import { statfs } from 'node:fs/promises';
import type { AbstractLevel, AbstractSublevel } from 'abstract-level';
import { ClassicLevel } from 'classic-level';
import { CallError, ERRNO } from './errors.js';
import type { Logger } from './log.js';
import { Slots } from './slots.js';

type Format = string | Buffer | Uint8Array;

/**
 * A JSON-valued sublevel of the daemon's database, typed against abstract-level (not ClassicLevel)
 * so that code written for any level, such as the delivery queue, takes it as it is.
 */
export type Sublevel<V = unknown> = AbstractSublevel<AbstractLevel<Format, string, unknown>, Format, string, V>;

export interface StorageOptions {
  fsync: boolean;
  log: Logger;
  /** First delay before a recovery attempt; doubles up to 30 s while attempts fail. */
  retryMs?: number;
}

/** Free space the file system must have before a failed database is closed and reopened. */
const MIN_FREE_BYTES = 8 * 1024 * 1024;
const MAX_RETRY_MS = 30_000;
const PROBE_KEY = '\x00midship-storage-probe';

type WriteOptions = Record<string, unknown> & { sync?: boolean };
type Encoded = string | Uint8Array;
/** The implementation methods of abstract-level that ClassicLevel provides (not in its typings). */
interface NativeWrites {
  _put(key: Encoded, value: Encoded, options: WriteOptions): Promise<void>;
  _del(key: Encoded, options: WriteOptions): Promise<void>;
  _batch(operations: unknown[], options: WriteOptions): Promise<void>;
  _clear(options: WriteOptions): Promise<void>;
  _chainedBatch(): unknown;
}
interface Reopenable {
  readonly status: string;
  open(): Promise<void>;
}

const native = ClassicLevel.prototype as unknown as NativeWrites;
/** abstract-level's own chained batch, which commits through `_batch` (so through the guard). */
const defaultChainedBatch = (Object.getPrototypeOf(ClassicLevel.prototype) as NativeWrites)._chainedBatch;

/** The error every write gets while the store is failed: the original cause, and what happens next. */
function storageFailure(err: unknown, location: string): CallError {
  const e = err as { message?: string; cause?: { message?: string } };
  const text = (e.cause?.message ?? e.message ?? String(err)).trim();
  const noSpace = /no space left on device|ENOSPC|disk full/i.test(text);
  return new CallError(
    `The database in ${location} cannot be written (${text}); writes are refused until it has been reopened and a test write succeeded`,
    noSpace ? ERRNO.ENOSPC : ERRNO.EIO,
  );
}

export class GuardedLevel extends ClassicLevel<string, unknown> {
  private readonly fsync: boolean;
  private readonly log: Logger;
  private readonly firstRetryMs: number;
  private retryMs: number;
  /** Native writes, one at a time (see above). */
  readonly #writes = new Slots(1);
  private failure: CallError | null = null;
  /** Every sublevel made from this db: closed with it on a reopen, reopened after it. */
  private readonly sublevels = new Set<Reopenable>();
  private readonly recoveredListeners = new Set<() => void>();
  private retryTimer: NodeJS.Timeout | null = null;
  private shuttingDown = false;

  constructor(location: string, options: StorageOptions) {
    super(location, { valueEncoding: 'json' });
    this.fsync = options.fsync;
    this.log = options.log;
    this.firstRetryMs = options.retryMs ?? 1000;
    this.retryMs = this.firstRetryMs;
    const track = (sub: Reopenable & { hooks: GuardedLevel['hooks'] }): void => {
      this.sublevels.add(sub);
      sub.hooks.newsub.add(track as never);
    };
    this.hooks.newsub.add(track as never);
  }

  /** The refusal every write gets now, or null when the store is healthy. */
  get failed(): CallError | null {
    return this.failure;
  }

  /** `fn` runs each time the store becomes writable again after a failure; returns the unsubscriber. */
  onRecovered(fn: () => void): () => void {
    this.recoveredListeners.add(fn);
    return () => this.recoveredListeners.delete(fn);
  }

  /** Stop recovering and close (the daemon's stop). */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.#writes.drained();
    if (this.status === 'open' || this.status === 'opening') await this.close();
  }

  // ---- the write paths of abstract-level, all through guarded() ----

  async _put(key: Encoded, value: Encoded, options: WriteOptions): Promise<void> {
    return this.guarded(() => native._put.call(this, key, value, this.writeOptions(options)));
  }

  async _del(key: Encoded, options: WriteOptions): Promise<void> {
    return this.guarded(() => native._del.call(this, key, this.writeOptions(options)));
  }

  async _batch(operations: unknown[], options: WriteOptions): Promise<void> {
    return this.guarded(() => native._batch.call(this, operations, this.writeOptions(options)));
  }

  async _clear(options: WriteOptions): Promise<void> {
    return this.guarded(() => native._clear.call(this, options));
  }

  _chainedBatch(): unknown {
    return defaultChainedBatch.call(this);
  }

  private writeOptions(options: WriteOptions): WriteOptions {
    return this.fsync && options.sync !== true ? { ...options, sync: true } : options;
  }

  /** One native write at a time; refused while failed; the first error fails the store. */
  private guarded(write: () => Promise<void>): Promise<void> {
    return this.#writes.run(async () => {
      if (this.failure !== null) throw this.failure;
      try {
        await write();
      } catch (err) {
        throw this.fail(err);
      }
    });
  }

  private fail(err: unknown): CallError {
    if (this.failure !== null) return this.failure;
    this.failure = storageFailure(err, this.location);
    this.log.error({ err, errno: this.failure.errno }, 'database write failed: writes are refused until the database has been reopened');
    this.retryMs = this.firstRetryMs;
    this.scheduleRecovery();
    return this.failure;
  }

  private scheduleRecovery(): void {
    if (this.shuttingDown || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      // As a write: no write runs meanwhile, and writes issued during it wait for it.
      this.#writes.run(() => this.recover()).catch((err: unknown) => this.log.error({ err }, 'database recovery failed'));
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private async recover(): Promise<void> {
    if (this.failure === null || this.shuttingDown) return;
    try {
      const fs = await statfs(this.location);
      const free = fs.bavail * fs.bsize;
      if (free < MIN_FREE_BYTES) throw new Error(`only ${free} bytes free`);
      await this.close();
      await this.open();
      for (const sub of this.sublevels) if (sub.status === 'closed') await sub.open();
      const probe = { keyEncoding: 'utf8', valueEncoding: 'utf8', sync: true };
      await native._put.call(this, PROBE_KEY, String(Date.now()), probe);
      await native._del.call(this, PROBE_KEY, probe);
    } catch (err) {
      this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
      this.log.warn({ err: (err as Error).message, retryMs: this.retryMs }, 'database still not writable');
      this.scheduleRecovery();
      return;
    }
    this.failure = null;
    this.log.warn('database reopened and writable again');
    for (const fn of [...this.recoveredListeners]) {
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'a storage-recovery listener failed');
      }
    }
  }
}
