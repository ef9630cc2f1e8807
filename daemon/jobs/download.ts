// core.download and core.job_download_logs hand out a URL with a single-use token; GET
// /_download/<job_id>?auth_token=... streams a job's output pipe or its log file (PROTOCOL.md 6.6).
//
// Memory stays bounded whatever the size: everything is streamed with backpressure. An unbuffered
// output is the job's pipe itself, piped into the HTTP response once a download starts (until then
// a job that honours write() === false simply waits). A buffered output ("collect it so the
// download can start after the job ended") is spooled to a file under <data-dir>/downloads, not
// kept in memory; so is a buffered log download, a copy of the log as it was when asked for.
// Spool files are removed once downloaded, when their window ends, and at every start.
//
// Status codes: 404 for a path that is not a job id; 401 for any token problem (missing,
// unknown, expired, used, bound to another job or address), answered before the job is looked up
// so an anonymous client cannot learn which ids exist; 410 when the token was good but the output
// or log is gone.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rm, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sendText } from '../http.js';
import type { Downloads as DownloadLinks } from '../module-api.js';
import type { JobManager } from './manager.js';

const UNBUFFERED_WINDOW_MS = 60_000;
const BUFFERED_WINDOW_MS = 3_600_000;
/** Bytes an unbuffered output holds before the job's write() says wait. */
const PIPE_HIGH_WATER = 64 * 1024;

interface Token {
  jobId: number;
  filename: string;
  /** Remote address the token is bound to; null when issued over the unix socket. */
  origin: string | null;
  expires: number;
  kind: 'output' | 'logs';
  /** A buffered log download: the copy made when it was asked for. */
  spool: string | null;
}

interface Output {
  /** What the job writes into. */
  stream: PassThrough;
  /** Buffered: the spool file, complete once `spooled` resolved. */
  spool: string | null;
  spooled: Promise<void> | null;
  taken: boolean;
  timer: NodeJS.Timeout | null;
}

/** A file name safe inside a quoted Content-Disposition: no paths, quotes or control characters. */
function sanitizeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^A-Za-z0-9._ -]/g, '_').replace(/^[. ]+/, '').slice(0, 200);
  return clean === '' ? 'download' : clean;
}

export class Downloads implements DownloadLinks {
  private readonly tokens = new Map<string, Token>();
  private readonly outputs = new Map<number, Output>();
  private readonly spoolDir: string;
  private spoolSeq = 0;

  constructor(private readonly jobs: JobManager, dataDir: string, private readonly tokenTtlMs: number) {
    this.spoolDir = join(dataDir, 'downloads');
  }

  /** Remove what a previous run left in the spool (its tokens died with it). */
  async open(): Promise<void> {
    await rm(this.spoolDir, { recursive: true, force: true });
    await mkdir(this.spoolDir, { recursive: true, mode: 0o700 });
  }

  /** Stop every window timer and drop the spool files (the daemon is stopping). */
  async close(): Promise<void> {
    for (const out of this.outputs.values()) if (out.timer) clearTimeout(out.timer);
    this.outputs.clear();
    this.tokens.clear();
    await rm(this.spoolDir, { recursive: true, force: true }).catch(() => undefined);
  }

  private spoolPath(what: string): string {
    return join(this.spoolDir, `${what}-${++this.spoolSeq}-${randomBytes(6).toString('hex')}`);
  }

  /** A single-use token for job `jobId`, valid tokenTtlMs; returns the URL path. */
  issue(jobId: number, filename: string, origin: string | null, kind: 'output' | 'logs', spool: string | null = null): string {
    this.sweep();
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, { jobId, filename: sanitizeFilename(filename), origin, expires: Date.now() + this.tokenTtlMs, kind, spool });
    if (spool !== null) setTimeout(() => this.sweep(), this.tokenTtlMs + 1000).unref();
    return `/_download/${jobId}?auth_token=${token}`;
  }

  /**
   * A token for job `jobId`'s log file. Buffered: the log is copied now, and that copy is what
   * the download returns, even if the log grows or is removed meanwhile.
   */
  async issueLogs(jobId: number, logsPath: string, filename: string, origin: string | null, buffered: boolean): Promise<string> {
    if (!buffered) return this.issue(jobId, filename, origin, 'logs');
    const spool = this.spoolPath(`log-${jobId}`);
    await copyFile(logsPath, spool);
    return this.issue(jobId, filename, origin, 'logs', spool);
  }

  /**
   * The pipe a downloadable job writes into. Unbuffered: it feeds the download directly and is
   * closed if nobody downloads within 60 s. Buffered: it is spooled to a file kept for an hour.
   */
  createOutput(buffered: boolean): { stream: PassThrough; attach(jobId: number): void } {
    const stream = new PassThrough({ highWaterMark: PIPE_HIGH_WATER });
    const out: Output = { stream, spool: null, spooled: null, taken: false, timer: null };
    if (buffered) {
      const spool = this.spoolPath('output');
      out.spool = spool;
      out.spooled = pipeline(stream, createWriteStream(spool, { flags: 'wx', mode: 0o600 }));
      // Observed here so a failure (disk full) never goes unhandled; the download reports it.
      out.spooled.catch(() => undefined);
    }
    return {
      stream,
      attach: (jobId) => {
        this.outputs.set(jobId, out);
        out.timer = setTimeout(() => this.expire(jobId, out), buffered ? BUFFERED_WINDOW_MS : UNBUFFERED_WINDOW_MS);
        out.timer.unref();
      },
    };
  }

  private expire(jobId: number, out: Output): void {
    if (this.outputs.get(jobId) === out) this.outputs.delete(jobId);
    if (out.taken) return;
    out.stream.destroy(new Error('Download window expired'));
    if (out.spool !== null) void unlink(out.spool).catch(() => undefined);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [k, t] of this.tokens) {
      if (t.expires >= now) continue;
      this.tokens.delete(k);
      if (t.spool !== null) void unlink(t.spool).catch(() => undefined);
    }
  }

  handle = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const idText = url.pathname.slice('/_download/'.length);
    if (!/^\d{1,15}$/.test(idText)) return sendText(res, 404, 'Not Found\n');
    const jobId = Number(idText);
    const token = url.searchParams.get('auth_token') ?? '';
    const t = this.tokens.get(token);
    const origin = req.socket.remoteAddress ?? null;
    if (!t || t.expires < Date.now() || t.jobId !== jobId || (t.origin !== null && t.origin !== origin)) {
      return sendText(res, 401, 'Invalid or expired token\n');
    }
    this.tokens.delete(token); // single use
    const headers = { 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${t.filename}"`, 'cache-control': 'no-store' };
    if (t.kind === 'logs') {
      const path = t.spool ?? (await this.jobs.getRecord(jobId))?.logs_path ?? null;
      if (path === null) return sendText(res, 410, 'Gone: the job or its log was removed\n');
      return this.sendFile(res, path, headers, t.spool !== null);
    }
    const out = this.outputs.get(jobId);
    if (!out || out.taken) return sendText(res, 410, 'Gone: the download window expired or the output was already taken\n');
    out.taken = true;
    this.outputs.delete(jobId);
    if (out.timer) clearTimeout(out.timer);
    if (out.spool !== null) {
      // Buffered: the download starts once the job's output is complete.
      try {
        await out.spooled;
      } catch (err) {
        void unlink(out.spool).catch(() => undefined);
        return sendText(res, 410, `Gone: the output could not be kept (${(err as Error).message})\n`);
      }
      return this.sendFile(res, out.spool, headers, true);
    }
    res.writeHead(200, headers);
    // pipeline: backpressure from the client reaches the job, and a client that goes away
    // destroys the pipe so the job's next write fails instead of filling memory.
    await pipeline(out.stream, res).catch(() => undefined);
  };

  /** Stream a file with backpressure; `remove`: it is a spool copy, deleted once opened. */
  private async sendFile(res: ServerResponse, path: string, headers: Record<string, string>, remove: boolean): Promise<void> {
    const file: Readable = createReadStream(path);
    try {
      await new Promise<void>((resolve, reject) => {
        file.once('open', () => resolve());
        file.once('error', reject);
      });
    } catch {
      if (remove) void unlink(path).catch(() => undefined);
      return sendText(res, 410, 'Gone: the log file was removed\n');
    }
    // A spool copy is unlinked once open: the open file stays readable, and nothing is left
    // behind however the download ends.
    if (remove) await unlink(path).catch(() => undefined);
    res.writeHead(200, headers);
    await pipeline(file, res).catch(() => res.destroy());
  }
}
