// A real pino logger whose lines a test can read (parsed), as the daemon's would be.
import { PassThrough } from 'node:stream';
import { createLogger, type Logger } from '../../daemon/log.js';

export interface CapturedLog {
  log: Logger;
  /** Every line logged so far, parsed. */
  lines: Array<Record<string, unknown>>;
  /** The stream to hand a daemon's config as its logDestination. */
  stream: PassThrough;
}

export function captureLog(level = 'info'): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new PassThrough();
  let partial = '';
  stream.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    for (const line of parts) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { log: createLogger(level, stream), lines, stream };
}
