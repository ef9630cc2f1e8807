// Outbound HTTP for webhooks and alert services: undici with one keep-alive pool per origin, a
// deadline per request covering connect, headers and body, a cap on requests in flight (overall
// and per destination), and response bodies read only up to a small cap: a receiver can neither
// hold a request open forever nor make the daemon buffer megabytes it will never look at.
// Nothing here throws for an HTTP or network failure: every try ends in an HttpOutcome, which is
// what a delivery record shows.
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { ConcurrencyLimiter } from './limiter.js';
import { checkHttpUrl } from './url.js';

export interface HttpSenderOptions {
  /** Deadline of one request, connect to last body byte. Default 10 s. */
  timeoutMs?: number;
  /** Requests in flight over all destinations. Default 64. */
  maxConcurrent?: number;
  /** Requests in flight to one destination key (default key: the URL's origin). Default 8. */
  maxPerDestination?: number;
  /** Bytes of a response body kept; the rest is discarded unread. Default 4 KiB. */
  maxResponseBytes?: number;
  userAgent?: string;
}

export interface HttpRequest {
  url: string;
  /** The attribute the URL came from, named in the error when it is refused. Default `url`. */
  urlField?: string;
  method?: 'POST' | 'PUT';
  headers?: Record<string, string>;
  body: string;
  /** Which concurrency bucket the request counts against. Default: the URL's origin. */
  key?: string;
  /** Aborts the request (the outcome then has failure `aborted`). */
  signal?: AbortSignal;
  /** Overrides the sender's deadline for this request. */
  timeoutMs?: number;
}

/**
 * Why a try failed: the retry policy decides on this, never on error message text. `invalid`:
 * the request itself could not be made (e.g. a header value undici refuses); trying again
 * would not help.
 */
export type FailureKind = 'timeout' | 'connection' | 'http' | 'aborted' | 'invalid';

export interface HttpOutcome {
  /** null when no response arrived. */
  statusCode: number | null;
  durationMs: number;
  /** null for a 2xx answer. */
  failure: FailureKind | null;
  error: string | null;
  /** The Retry-After header as sent, if any. */
  retryAfter: string | null;
  /** The first maxResponseBytes of the body, as UTF-8. */
  body: string;
  bodyTruncated: boolean;
}

export const HTTP_DEFAULTS = {
  timeoutMs: 10_000,
  maxConcurrent: 64,
  maxPerDestination: 8,
  maxResponseBytes: 4096,
  userAgent: 'Midship-Delivery/1',
} as const;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

export class HttpSender {
  private readonly agent: Agent;
  private readonly limiter: ConcurrencyLimiter;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly userAgent: string;
  private closed = false;

  constructor(options: HttpSenderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? HTTP_DEFAULTS.timeoutMs;
    this.maxResponseBytes = options.maxResponseBytes ?? HTTP_DEFAULTS.maxResponseBytes;
    this.userAgent = options.userAgent ?? HTTP_DEFAULTS.userAgent;
    const perDestination = options.maxPerDestination ?? HTTP_DEFAULTS.maxPerDestination;
    this.limiter = new ConcurrencyLimiter(options.maxConcurrent ?? HTTP_DEFAULTS.maxConcurrent, perDestination);
    this.agent = new Agent({
      connections: perDestination,
      connect: { timeout: this.timeoutMs },
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  /** Requests in flight and waiting for a slot (for diagnostics and tests). */
  get load(): { running: number; waiting: number } {
    return { running: this.limiter.running, waiting: this.limiter.waiting };
  }

  /**
   * Sends one request. Rejects only for a URL that is not http(s) (FieldErrors naming
   * `urlField`) or after close(); every network or HTTP failure is a resolved outcome.
   */
  async send(req: HttpRequest): Promise<HttpOutcome> {
    const url = checkHttpUrl(req.url, req.urlField ?? 'url');
    if (this.closed) throw new Error('HttpSender is closed');
    return this.limiter.run(req.key ?? url.origin, () => this.attempt(url, req), req.signal);
  }

  private async attempt(url: URL, req: HttpRequest): Promise<HttpOutcome> {
    const started = performance.now();
    const deadline = new AbortController();
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const timer = setTimeout(() => deadline.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, deadline.signal]) : deadline.signal;
    const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
    try {
      const res = await request(url, {
        dispatcher: this.agent,
        method: req.method ?? 'POST',
        headers: { 'user-agent': this.userAgent, 'content-type': 'application/json', ...req.headers },
        body: req.body,
        signal,
      });
      const { text, truncated } = await readCapped(res.body, this.maxResponseBytes);
      const code = res.statusCode;
      const ok = code >= 200 && code < 300;
      const retryAfter = res.headers['retry-after'];
      return {
        statusCode: code,
        durationMs: elapsed(),
        failure: ok ? null : 'http',
        error: ok ? null : `HTTP ${code}${text.trim() ? `: ${oneLine(text, 200)}` : ''}`,
        retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
        body: text,
        bodyTruncated: truncated,
      };
    } catch (err) {
      const code = errorCode(err);
      const failure: FailureKind = req.signal?.aborted
        ? 'aborted'
        : deadline.signal.aborted || TIMEOUT_CODES.has(code)
          ? 'timeout'
          : code === 'UND_ERR_INVALID_ARG' ? 'invalid' : 'connection';
      const message = failure === 'timeout'
        ? `timed out after ${timeoutMs} ms`
        : failure === 'aborted' ? 'aborted' : describeError(err);
      return { statusCode: null, durationMs: elapsed(), failure, error: message, retryAfter: null, body: '', bodyTruncated: false };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the keep-alive connections; requests in flight are aborted. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.agent.destroy();
  }
}

/** Reads at most `cap` bytes, then drops the connection rather than draining a huge body. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, cap: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size + chunk.length > cap) {
      chunks.push(chunk.subarray(0, cap - size));
      size = cap;
      body.destroy();
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

function errorCode(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const cause = (err as { cause?: unknown }).cause;
    if (cause !== undefined) return errorCode(cause);
  }
  return '';
}

/** `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9` rather than undici's bare "fetch failed". */
function describeError(err: unknown): string {
  const code = errorCode(err);
  let e: unknown = err;
  // The innermost cause has the useful text (the socket error under undici's wrapper).
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  const message = e instanceof Error ? e.message : String(e);
  const text = code && !message.includes(code) ? `${code}: ${message}` : message;
  return oneLine(text, 300);
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
