// The one logger. Secrets never reach it in the first place (callers log redacted values);
// the redact paths are a second line of defence for fields that carry credentials by name.
// The latest lines are also kept in memory (LogTail): the daemon logs to stderr, which it cannot
// read back, and system.debug's bundle needs the tail of the log.
import { pino, type Logger } from 'pino';
import type { Writable } from 'node:stream';
import { REDACTED } from './redact.js';

export type { Logger };

/** The newest log lines, bounded in count and bytes (a ring: old lines fall off). */
export class LogTail {
  readonly #lines: string[] = [];
  #start = 0;
  #bytes = 0;

  constructor(private readonly maxLines = 2000, private readonly maxBytes = 1024 * 1024) {}

  push(line: string): void {
    this.#lines.push(line);
    this.#bytes += line.length;
    while (this.#lines.length - this.#start > this.maxLines || (this.#bytes > this.maxBytes && this.#lines.length - this.#start > 1)) {
      this.#bytes -= this.#lines[this.#start]!.length;
      this.#start++;
    }
    // Compact now and then rather than shifting on every line.
    if (this.#start > this.maxLines) {
      this.#lines.splice(0, this.#start);
      this.#start = 0;
    }
  }

  /** Oldest first; each line ends with its newline, as written. */
  lines(): string[] {
    return this.#lines.slice(this.#start);
  }
}

export function createLogger(level: string, destination: Writable | null, tail: LogTail | null = null): Logger {
  return pino(
    {
      level,
      base: { name: 'midshipd' },
      redact: {
        // Explicit paths only: wildcard paths cost on every line, and every call site already logs
        // redacted values (arguments go through the schemas' `secret` marks first).
        paths: ['password', 'api_key', 'key', 'token', 'otp_token', 'args.password', 'args.api_key', 'args.token'],
        censor: REDACTED,
      },
      // Every line as written (already redacted) is kept too; the stream is left as it was.
      ...(tail ? { hooks: { streamWrite: (s: string) => (tail.push(s), s) } } : {}),
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
