// core.download and core.job_download_logs hand out a URL with a single-use token; GET
// /_download/<job_id>?auth_token=... streams a job's output pipe or its log file (PROTOCOL.md 6.6).
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { sendText } from '../http.js';
import type { JobManager } from './manager.js';

export const TOKEN_TTL_MS = 300_000;
export const UNBUFFERED_WINDOW_MS = 60_000;
export const BUFFERED_WINDOW_MS = 3_600_000;

interface Token {
  jobId: number;
  filename: string;
  /** Remote address the token is bound to; null when issued over the unix socket. */
  origin: string | null;
  expires: number;
  kind: 'output' | 'logs';
}

interface Output {
  stream: PassThrough;
  buffered: boolean;
  chunks: Buffer[];
  ended: boolean;
  taken: boolean;
  timer: NodeJS.Timeout;
}

/** A file name safe inside a quoted Content-Disposition: no paths, quotes or control characters. */
export function sanitizeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^[. ]+/, '').slice(0, 200);
  return clean === '' ? 'download' : clean;
}

export class Downloads {
  private readonly tokens = new Map<string, Token>();
  private readonly outputs = new Map<number, Output>();

  constructor(private readonly jobs: JobManager, private readonly tokenTtlMs: number = TOKEN_TTL_MS) {}

  /** A single-use token for job `jobId`, valid 5 minutes; returns the URL path. */
  issue(jobId: number, filename: string, origin: string | null, kind: 'output' | 'logs'): string {
    this.sweep();
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, { jobId, filename: sanitizeFilename(filename), origin, expires: Date.now() + this.tokenTtlMs, kind });
    return `/_download/${jobId}?auth_token=${token}`;
  }

  /** The pipe a downloadable job writes into. Unbuffered: closed if nobody downloads within 60 s. */
  createOutput(buffered: boolean): { stream: PassThrough; attach(jobId: number): void } {
    const stream = new PassThrough();
    const out: Output = { stream, buffered, chunks: [], ended: false, taken: false, timer: setTimeout(() => undefined, 0) };
    if (buffered) {
      stream.on('data', (c: Buffer) => out.chunks.push(c));
      stream.on('end', () => (out.ended = true));
    }
    return {
      stream,
      attach: (jobId) => {
        this.outputs.set(jobId, out);
        clearTimeout(out.timer);
        out.timer = setTimeout(() => {
          this.outputs.delete(jobId);
          if (!out.taken) stream.destroy(new Error('Download window expired'));
        }, buffered ? BUFFERED_WINDOW_MS : UNBUFFERED_WINDOW_MS);
        out.timer.unref();
      },
    };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, t] of this.tokens) if (t.expires < now) this.tokens.delete(k);
  }

  handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const idText = url.pathname.slice('/_download/'.length);
    if (!/^\d+$/.test(idText)) return sendText(res, 404, 'Not Found\n');
    const jobId = Number(idText);
    const token = url.searchParams.get('auth_token') ?? '';
    const t = this.tokens.get(token);
    const origin = req.socket.remoteAddress ?? null;
    if (!t || t.expires < Date.now() || t.jobId !== jobId || (t.origin !== null && t.origin !== origin)) {
      const record = await this.jobs.getRecord(jobId);
      if (!record && !t) return sendText(res, 404, 'Not Found\n');
      return sendText(res, 403, 'Invalid or expired token\n');
    }
    this.tokens.delete(token); // single use
    const headers = { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${t.filename}"`, 'cache-control': 'no-store' };
    if (t.kind === 'logs') {
      const record = await this.jobs.getRecord(jobId);
      if (!record?.logs_path) return sendText(res, 404, 'Not Found\n');
      const file = createReadStream(record.logs_path);
      file.once('error', () => (res.headersSent ? res.destroy() : sendText(res, 410, 'Log file was removed\n')));
      file.once('open', () => {
        res.writeHead(200, headers);
        file.pipe(res);
      });
      return;
    }
    const out = this.outputs.get(jobId);
    if (!out || out.taken) return sendText(res, 410, 'Gone: the download window expired or the output was already taken\n');
    out.taken = true;
    this.outputs.delete(jobId);
    clearTimeout(out.timer);
    res.writeHead(200, headers);
    if (out.buffered) {
      for (const c of out.chunks) res.write(c);
      out.chunks = [];
      if (out.ended) res.end();
      else {
        out.stream.on('data', (c: Buffer) => res.write(c));
        out.stream.on('end', () => res.end());
      }
      return;
    }
    out.stream.pipe(res);
  };
}
