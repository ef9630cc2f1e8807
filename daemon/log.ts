// The one logger. Secrets never reach it in the first place (callers log redacted values);
// the redact paths are a second line of defence for fields that carry credentials by name.
import { pino, type Logger } from 'pino';
import type { Writable } from 'node:stream';
import { REDACTED } from './redact.js';

export type { Logger };

export function createLogger(level: string, destination: Writable | null): Logger {
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
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
