// Login throttling that slows guessing without locking anyone out.
//
// - Failures are counted per (account, address): guesses at one account from one address slow
//   down only further attempts at that account from that address. Someone else's failures (another
//   account from the same address, or the same account from elsewhere) never delay a login.
// - Successes are not counted.
// - After `free` failures in a minute, each further attempt on that pair waits its turn: attempts
//   are spaced `delay` apart (growing with the failures, at most 10 s), one after another, so
//   opening more connections does not multiply the guessing rate. When the queue for a pair is
//   over a minute long the attempt is refused at once with EBUSY instead of piling up.
// - Password hashing runs on libuv's small thread pool, shared by everyone: at most two
//   verifications per address run at once, the rest wait in order, so one address cannot occupy
//   every thread.
// The same rules apply whether or not the connection is already logged in.
import { CallError, ERRNO } from '../errors.js';
import { Slots } from '../slots.js';
import { FixedWindows } from '../windows.js';

const WINDOW_MS = 60_000;
const MAX_DELAY_MS = 10_000;
const MAX_QUEUE_MS = 60_000;
const VERIFICATIONS_PER_ADDRESS = 2;
const MAX_TRACKED = 100_000;

interface Window {
  readonly start: number;
  failures: number;
  /** When the last queued attempt on this pair may run. */
  nextSlot: number;
}

export interface ThrottleConfig {
  /** Failures per pair and minute before attempts are spaced out. */
  failuresBeforeSlowdown: number;
  /** Spacing per failure beyond the free ones. */
  failDelayMs: number;
}

/** A wait that does not keep a stopping daemon's process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export class LoginThrottle {
  readonly #pairs = new FixedWindows<Window>({
    windowMs: WINDOW_MS,
    maxKeys: MAX_TRACKED,
    create: (start) => ({ start, failures: 0, nextSlot: 0 }),
    // A pair with attempts still queued is kept; forgetting it would only make logins slower anyway.
    keep: (w, now) => w.nextSlot > now,
  });
  /** Password checks running or waiting per address. */
  readonly #verifying = new Map<string, Slots>();

  constructor(
    private readonly config: ThrottleConfig,
    /** Told each attempt that has to wait or is refused (for the log). */
    private readonly onThrottled: (account: string, address: string, waitMs: number | 'refused') => void = () => undefined,
  ) {}

  /** Wait until an attempt at `account` from `address` may be checked; EBUSY when the queue is too long. */
  async admit(account: string, address: string): Promise<void> {
    const now = Date.now();
    const w = this.#pairs.get(`${account}\0${address}`, now);
    if (w === undefined) return;
    // The attempt after the last free failure already waits one step.
    const excess = w.failures - this.config.failuresBeforeSlowdown + 1;
    if (excess <= 0) return;
    const delay = Math.min(MAX_DELAY_MS, excess * this.config.failDelayMs);
    const at = Math.max(now, w.nextSlot) + delay;
    if (at - now > MAX_QUEUE_MS) {
      this.onThrottled(account, address, 'refused');
      throw new CallError(`Too many failed logins for this account from this address: try again in ${Math.ceil((w.nextSlot - now) / 1000)} s`, ERRNO.EBUSY);
    }
    w.nextSlot = at;
    this.onThrottled(account, address, at - now);
    await sleep(at - now);
  }

  failed(account: string, address: string): void {
    this.#pairs.open(`${account}\0${address}`, Date.now()).failures++;
  }

  /** Run a password or key verification, at most VERIFICATIONS_PER_ADDRESS at once per address. */
  async verify<T>(address: string, fn: () => Promise<T>): Promise<T> {
    let slots = this.#verifying.get(address);
    if (!slots) this.#verifying.set(address, (slots = new Slots(VERIFICATIONS_PER_ADDRESS)));
    try {
      return await slots.run(fn);
    } finally {
      if (slots.idle && this.#verifying.get(address) === slots) this.#verifying.delete(address);
    }
  }
}
