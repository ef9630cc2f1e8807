// JSON-RPC 2.0 at /api/current (PROTOCOL.md sections 2-4), with the framing rules a generic
// JSON-RPC library does not express: exact -32600 texts, notifications executed but never
// answered, batches answered element by element, the concurrency limit, withheld job responses.
import type { Credentials } from '../auth/credentials.js';
import { ERRNO, RPC, errorData, toJsonRpcError, type ErrorData, type JsonRpcErrorObject } from '../errors.js';
import type { EventFrame } from '../events.js';
import { Connection } from './connection.js';
import { nestedDeeperThan } from './frames.js';
import type { Transport } from './transport.js';
import type { RegisteredMethod } from '../registry.js';

const NO_RESPONSE = null;

type Id = string | number | null;
type ErrorResponse = { jsonrpc: '2.0'; id: Id; error: JsonRpcErrorObject };
type Response = { jsonrpc: '2.0'; id: Id; result: unknown } | ErrorResponse;

export class JsonRpcConnection extends Connection {
  readonly protocol = 'jsonrpc' as const;

  protected encodeEvent(frame: EventFrame): string {
    return frame.jsonrpc();
  }

  sendUnsubscribed(collection: string, _subId: string, error: ErrorData | null): void {
    this.sendText(JSON.stringify({ jsonrpc: '2.0', method: 'notify_unsubscribed', params: { collection, error } }));
  }
}

function errorResponse(id: Id, err: unknown): ErrorResponse {
  return { jsonrpc: '2.0', id, error: toJsonRpcError(err) };
}

function protocolError(id: Id, code: number, message: string): ErrorResponse {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

/** Serialise a response; a result that cannot be encoded becomes -32603 (PROTOCOL.md 3.1). */
function encodeResponse(r: Response): string {
  try {
    return JSON.stringify(r);
  } catch (e) {
    const data = { ...errorData(e), error: ERRNO.EFAULT, errname: 'EFAULT' };
    return JSON.stringify({ jsonrpc: '2.0', id: r.id, error: { code: RPC.INTERNAL_ERROR, message: 'Failed to JSON serialize server message', data } });
  }
}

function shapeError(req: Record<string, unknown>): string | null {
  if (!('jsonrpc' in req)) return "Missing 'jsonrpc' member";
  if (req.jsonrpc !== '2.0') return "'jsonrpc' member must be of type string and must be exactly '2.0'";
  if ('id' in req) {
    const t = typeof req.id;
    if (!(req.id === null || t === 'string' || (t === 'number' && Number.isFinite(req.id)))) return "'id' member must be of type null, string or number";
  }
  if (!('method' in req)) return "Missing 'method' member";
  if (typeof req.method !== 'string') return "'method' member must be of type string";
  if ('params' in req && !Array.isArray(req.params)) return "'params' member must be of type array";
  return null;
}

export class JsonRpcHandler {
  constructor(private readonly t: Transport) {}

  onMessage(conn: JsonRpcConnection, text: string): void {
    const limits = this.t.limits;
    if (nestedDeeperThan(text, limits.maxDepth)) {
      conn.sendText(JSON.stringify(protocolError(null, RPC.INVALID_REQUEST, `JSON nested deeper than ${limits.maxDepth} levels`)));
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      conn.sendText(JSON.stringify(protocolError(null, RPC.PARSE_ERROR, (e as Error).message)));
      return;
    }
    if (Array.isArray(msg)) {
      this.onBatch(conn, msg, text);
      return;
    }
    if (msg === null || typeof msg !== 'object') {
      conn.sendText(JSON.stringify(protocolError(null, RPC.PARSE_ERROR, 'Invalid Message Format')));
      return;
    }
    const pending = this.handle(conn, msg as Record<string, unknown>, text);
    if (pending === NO_RESPONSE) return;
    if ('then' in pending) pending.then((r) => r && conn.sendText(encodeResponse(r)));
    else conn.sendText(encodeResponse(pending));
  }

  /** Batches are answered element by element, in one array (Midship differs here, section 0). */
  private onBatch(conn: JsonRpcConnection, items: unknown[], text: string): void {
    if (items.length === 0) {
      conn.sendText(JSON.stringify(protocolError(null, RPC.INVALID_REQUEST, 'Invalid Request: empty batch')));
      return;
    }
    const results = items.map((item) =>
      item !== null && typeof item === 'object' && !Array.isArray(item)
        ? this.handle(conn, item as Record<string, unknown>, text)
        : protocolError(null, RPC.INVALID_REQUEST, 'Invalid Request: batch element is not an object'),
    );
    void Promise.all(results).then((responses) => {
      const out = responses.filter((r): r is Response => r !== null);
      if (out.length > 0) conn.sendText(`[${out.map(encodeResponse).join(',')}]`);
    });
  }

  /** One request object; returns its response, a promise of it, or null for notifications. */
  private handle(conn: JsonRpcConnection, req: Record<string, unknown>, frame: string): Response | Promise<Response | null> | null {
    const hasId = 'id' in req;
    const id = (hasId ? req.id : null) as Id;
    const bad = shapeError(req);
    if (bad !== null) return hasId ? protocolError(hasId && bad.startsWith("'id'") ? null : id, RPC.INVALID_REQUEST, bad) : NO_RESPONSE;
    if (conn.inFlight >= this.t.limits.maxInFlight) {
      return hasId ? protocolError(id, RPC.TOO_MANY_CONCURRENT_CALLS, `Maximum number of concurrent calls (${this.t.limits.maxInFlight}) has exceeded`) : NO_RESPONSE;
    }
    const name = req.method as string;
    const m = this.t.registry.get(name);
    if (!m || (m.def.private && !conn.options.private_methods)) {
      return hasId ? protocolError(id, RPC.METHOD_NOT_FOUND, 'Method does not exist') : NO_RESPONSE;
    }
    const params = (req.params as unknown[] | undefined) ?? [];
    conn.inFlight++;
    return this.run(conn, m, params, id, conn.credentials, frame).then(
      (result) => (hasId ? { jsonrpc: '2.0' as const, id, result: result === undefined ? null : result } : NO_RESPONSE),
      (err: unknown) => {
        this.t.logFailure(conn, name, err);
        return hasId ? errorResponse(id, err) : NO_RESPONSE;
      },
    );
  }

  private async run(conn: JsonRpcConnection, m: RegisteredMethod, params: unknown[], id: Id, credentials: Credentials | null, frame: string): Promise<unknown> {
    const wait = conn.acquire();
    if (wait) await wait;
    const started = this.t.debug ? performance.now() : 0;
    try {
      this.t.checkWireValues(m, params, frame);
      return await this.t.dispatcher.call(m, params, {
        connection: conn,
        credentials,
        messageId: id,
        legacyJobs: conn.options.legacy_jobs,
        parentJob: null,
        authorize: true,
      });
    } finally {
      conn.release();
      conn.inFlight--;
      if (this.t.debug) this.t.log.debug({ conn: conn.id, method: m.def.name, ms: +(performance.now() - started).toFixed(3) }, 'call');
    }
  }
}

