// A connection that can be made again: connect + log in, and after a drop, reconnect with
// exponential backoff and log in again, giving up after a bounded time (issue 6 point 5).
import { login, type LoginOptions } from './auth.js';
import { Client, DEFAULT_TIMEOUT_MS, type ConnectOptions } from './client.js';
import { CallTimeoutError, ConnectionError } from './errors.js';

export interface SessionOptions {
  uri: string;
  connect?: ConnectOptions;
  login?: LoginOptions;
  /** Stop trying to reconnect after this long (default 60 s). */
  giveUpMs?: number;
  /** First retry delay (default 200 ms), doubled each attempt up to maxDelayMs (default 5 s). */
  firstDelayMs?: number;
  maxDelayMs?: number;
  onReconnecting?: (attempt: number, delayMs: number, err: Error) => void;
  onReconnected?: (client: Client) => void;
}

export class Session {
  private constructor(private readonly o: SessionOptions, public client: Client) {}

  private static async connectOnce(o: SessionOptions): Promise<Client> {
    const c = await Client.connect(o.uri, o.connect);
    try {
      await login(c, o.login ?? {});
    } catch (err) {
      await c.close().catch(() => undefined);
      throw err;
    }
    return c;
  }

  static async open(o: SessionOptions): Promise<Session> {
    return new Session(o, await Session.connectOnce(o));
  }

  /** A fresh, logged-in client after the current one dropped; throws ConnectionError on giving up. */
  async reconnect(): Promise<Client> {
    const giveUpMs = this.o.giveUpMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = Date.now() + giveUpMs;
    let delay = this.o.firstDelayMs ?? 200;
    const maxDelay = this.o.maxDelayMs ?? 5_000;
    let last: Error = new ConnectionError('Connection lost', true);
    for (let attempt = 1; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const wait = Math.min(delay, left);
      this.o.onReconnecting?.(attempt, wait, last);
      await new Promise((r) => setTimeout(r, wait));
      try {
        this.client = await Session.connectOnce(this.o);
        this.o.onReconnected?.(this.client);
        return this.client;
      } catch (err) {
        // A refused login or a wrong address will not heal by waiting.
        const retry = (err instanceof ConnectionError && err.retryable) || err instanceof CallTimeoutError;
        if (!retry) throw err;
        last = err;
      }
      delay = Math.min(delay * 2, maxDelay);
    }
    throw new ConnectionError(`Gave up reconnecting after ${Math.round(giveUpMs / 1000)} s: ${last.message.split('\n')[0]}`, false);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
