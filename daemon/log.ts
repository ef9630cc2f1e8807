// The one logger. Secrets never reach it in the first place (callers log redacted values);
// the redact paths are a second line of defence for fields that carry credentials by name.
import { pino, type Logger } from 'pino';
import type { Writable } from 'node:stream';

export type { Logger };

export function createLogger(level: string, destination: Writable | null): Logger {
  return pino(
    {
      level,
      base: { name: 'midshipd' },
      redact: {
        paths: ['password', '*.password', 'api_key', '*.api_key', 'key', '*.key', 'token', '*.token', 'otp_token', '*.otp_token'],
        censor: '********',
      },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
