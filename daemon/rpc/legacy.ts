// The legacy DDP-style protocol at /websocket (PROTOCOL.md section 9): connect/connected,
// method/result, sub/ready/nosub, ping/pong. Jobs are always legacy style here.
import { randomUUID } from 'node:crypto';
import { CallError, ERRNO, errname, toLegacyError, type ErrorData } from '../errors.js';
import type { EventBus, EventFrame } from '../events.js';
import type { RegisteredMethod } from '../registry.js';
import { Connection } from './connection.js';
import { nestedDeeperThan } from './frames.js';
import type { Transport } from './transport.js';

export class LegacyConnection extends Connection {
  readonly protocol = 'legacy' as const;
  /** Set by a successful `connect`. */
  session: string | null = null;

  protected encodeEvent(frame: EventFrame): string {
    return frame.legacy();
  }

  sendUnsubscribed(collection: string, subId: string, error: ErrorData | null): void {
    const msg: Record<string, unknown> = { msg: 'nosub', id: subId, collection };
    if (error !== null) msg.error = { ...error, type: Array.isArray(error.extra) ? 'VALIDATION' : null, trace: null };
    this.sendText(JSON.stringify(msg));
  }
}

function legacyError(errno: number, reason: string): Record<string, unknown> {
  return { error: errno, errname: errname(errno), type: null, reason, trace: null, extra: null };
}

export class LegacyHandler {
  constructor(private readonly t: Transport, private readonly events: EventBus) {}

  onMessage(conn: LegacyConnection, text: string): void {
    if (nestedDeeperThan(text, this.t.limits.maxDepth)) {
      conn.close(1007, `JSON nested deeper than ${this.t.limits.maxDepth} levels`);
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      conn.close(1007, 'Invalid JSON');
      return;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      conn.close(1007, 'Message is not a JSON object');
      return;
    }
    const m = msg as Record<string, unknown>;
    if (conn.session === null) {
      if (m.msg === 'connect' && m.version === '1') {
        conn.session = randomUUID();
        conn.sendText(JSON.stringify({ msg: 'connected', session: conn.session }));
      } else conn.sendText('{"msg":"failed","version":"1"}');
      return;
    }
    switch (m.msg) {
      case 'method':
        this.onMethod(conn, m, text);
        return;
      case 'sub':
        this.onSub(conn, m);
        return;
      case 'unsub':
        if (typeof m.id === 'string') this.events.unsubscribe(conn.id, m.id);
        return;
      case 'ping':
        conn.sendText(JSON.stringify('id' in m ? { msg: 'pong', id: m.id } : { msg: 'pong' }));
        return;
      case 'connect':
        conn.sendText(JSON.stringify({ msg: 'connected', session: conn.session }));
        return;
      default:
        // DDP answers unknown messages with an error frame rather than a disconnect.
        conn.sendText(JSON.stringify({ msg: 'error', reason: 'Unknown message', offendingMessage: m }));
    }
  }

  private reply(conn: LegacyConnection, id: unknown, result: unknown): void {
    conn.sendText(JSON.stringify({ msg: 'result', id, result: result === undefined ? null : result }));
  }

  private replyError(conn: LegacyConnection, id: unknown, error: unknown): void {
    conn.sendText(JSON.stringify({ msg: 'result', id, error }));
  }

  private onMethod(conn: LegacyConnection, m: Record<string, unknown>, frame: string): void {
    const id = m.id;
    if (typeof m.method !== 'string') return this.replyError(conn, id, legacyError(ERRNO.EINVAL, "Message is missing the 'method' key"));
    if ('params' in m && !Array.isArray(m.params)) return this.replyError(conn, id, legacyError(ERRNO.EINVAL, "'params' must be an array"));
    const name = m.method;
    const dot = name.lastIndexOf('.');
    if (dot === -1) return this.replyError(conn, id, legacyError(ERRNO.EBADMSG, `[EBADMSG] Invalid method name '${name}'`));
    const method = this.t.registry.get(name);
    if (!method || (method.def.private && !conn.options.private_methods)) {
      return this.replyError(conn, id, legacyError(ERRNO.ENOMETHOD, `[ENOMETHOD] Method '${name.slice(dot + 1)}' not found in '${name.slice(0, dot)}'`));
    }
    if (conn.inFlight >= this.t.limits.maxInFlight) {
      return this.replyError(conn, id, legacyError(ERRNO.ETOOMANYREFS, `Maximum number of concurrent calls (${this.t.limits.maxInFlight}) has exceeded.`));
    }
    conn.inFlight++;
    void this.run(conn, method, (m.params as unknown[] | undefined) ?? [], id, frame);
  }

  private async run(conn: LegacyConnection, method: RegisteredMethod, params: unknown[], id: unknown, frame: string): Promise<void> {
    const wait = conn.acquire();
    if (wait) await wait;
    try {
      this.t.checkWireValues(method, params, frame);
      const result = await this.t.dispatcher.call(method, params, {
        connection: conn,
        credentials: conn.credentials,
        messageId: typeof id === 'string' || typeof id === 'number' ? id : null,
        legacyJobs: true,
        parentJob: null,
        authorize: true,
      });
      this.reply(conn, id, result);
    } catch (err) {
      this.t.logFailure(conn, method.def.name, err);
      this.replyError(conn, id, toLegacyError(err));
    } finally {
      conn.release();
      conn.inFlight--;
    }
  }

  private onSub(conn: LegacyConnection, m: Record<string, unknown>): void {
    const id = typeof m.id === 'string' ? m.id : randomUUID();
    if (typeof m.name !== 'string') return this.replyError(conn, id, legacyError(ERRNO.EINVAL, "'name' must be a string"));
    try {
      this.events.subscribe(conn.id, m.name, id);
      conn.sendText(JSON.stringify({ msg: 'ready', subs: [id] }));
    } catch (err) {
      const e = toLegacyError(err);
      // Refusals are reported with the bare reason and no trace (PROTOCOL.md 9.3).
      const reason = err instanceof CallError ? err.errmsg : e.reason;
      this.replyError(conn, id, { ...e, reason, trace: null });
    }
  }
}
