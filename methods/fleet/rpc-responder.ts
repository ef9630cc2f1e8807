// A host's answer to fleet calls: subscribes to `midship.<host>.rpc.>` in the host's queue group,
// verifies each request (verifier.ts), hands (method, params, user, roles) to the dispatcher the
// daemon supplies, and replies `{"result": …}` or `{"error": <JSON-RPC error object>}`. What the
// caller may do on this host is the dispatcher's decision (it caps the roles and audits), never
// the NATS server's: a permissive server can deliver a request, not make it valid.
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { RequestRefusedError, MalformedRequestError } from './errors.js';
import { AUTH_HEADER } from './envelope.js';
import { methodOfSubject, rpcQueue, rpcWildcard } from './subjects.js';
import type { RequestVerifier } from './verifier.js';

export interface FleetCall {
  method: string;
  params: unknown[];
  user: string;
  roles: string[];
  /** Key id of the signer that vouched for user and roles. */
  signer: string;
  subject: string;
}

/** Runs a verified call; a thrown error is turned into the reply's error object by `toError`. */
export type FleetDispatcher = (call: FleetCall) => Promise<unknown> | unknown;

/** A JSON-RPC 2.0 error object, as PROTOCOL.md 3 describes it (the daemon maps its own errors). */
export interface FleetErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type FleetReply = { result: unknown } | { error: FleetErrorObject };

const ERRNO = { EACCES: 13, EFAULT: 14, EBUSY: 16, EINVAL: 22 } as const;

/** A call error in the wire's shape (PROTOCOL.md 3.2), for failures the responder itself reports. */
export function callErrorObject(errname: keyof typeof ERRNO, reason: string, extra: unknown = null): FleetErrorObject {
  return {
    code: -32001,
    message: 'Method call error',
    data: { error: ERRNO[errname], errname, reason: `[${errname}] ${reason}`, trace: null, extra },
  };
}

/** Used when the daemon gives no mapping: the error's text as an EINVAL call error. */
export function defaultErrorObject(err: unknown): FleetErrorObject {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return callErrorObject('EINVAL', text);
}

export function refusalErrorObject(err: RequestRefusedError): FleetErrorObject {
  return callErrorObject(err.reason === 'busy' ? 'EBUSY' : 'EACCES', err.message, { fleet_refusal: err.reason });
}

export interface RpcResponderOptions {
  host: string;
  verifier: RequestVerifier;
  dispatch: FleetDispatcher;
  toError?: (err: unknown) => FleetErrorObject;
  /** Calls running at once; more are answered EBUSY at once rather than queued without bound. */
  maxInFlight?: number;
  /** Every refused request (for the audit log): why, and on which subject. */
  onRefused?: (err: RequestRefusedError, subject: string) => void;
  onError?: (err: Error) => void;
}

export const DEFAULT_MAX_IN_FLIGHT = 64;

export class RpcResponder {
  private sub: Subscription | null = null;
  private running = 0;
  private readonly maxInFlight: number;
  private readonly toError: (err: unknown) => FleetErrorObject;
  private readonly encoder = new TextEncoder();

  constructor(private readonly o: RpcResponderOptions) {
    this.maxInFlight = o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.toError = o.toError ?? defaultErrorObject;
  }

  get inFlight(): number {
    return this.running;
  }

  /** Subscribes on a (new) connection; nats.js keeps the subscription across reconnects. */
  attach(nc: NatsConnection): void {
    this.detach();
    this.sub = nc.subscribe(rpcWildcard(this.o.host), {
      queue: rpcQueue(this.o.host),
      callback: (err, msg) => {
        if (err) this.o.onError?.(err);
        else void this.handle(msg);
      },
    });
  }

  detach(): void {
    if (this.sub && !this.sub.isClosed()) this.sub.unsubscribe();
    this.sub = null;
  }

  private async handle(msg: Msg): Promise<void> {
    if (!msg.reply) return; // a publish, not a request: nobody to answer
    if (this.running >= this.maxInFlight) {
      this.reply(msg, { error: callErrorObject('EBUSY', `this host is running ${this.running} fleet calls; retry shortly`) });
      return;
    }
    this.running++;
    try {
      this.reply(msg, await this.answer(msg));
    } finally {
      this.running--;
    }
  }

  private async answer(msg: Msg): Promise<FleetReply> {
    let call: FleetCall;
    try {
      call = this.verified(msg);
    } catch (e) {
      // Anything but a refusal here is a bug; it still gets an answer, never a crash or silence.
      const refusal = e instanceof RequestRefusedError ? e : new MalformedRequestError((e as Error).message);
      this.o.onRefused?.(refusal, msg.subject);
      return { error: refusalErrorObject(refusal) };
    }
    try {
      return { result: await this.o.dispatch(call) };
    } catch (e) {
      return { error: this.toError(e) };
    }
  }

  private verified(msg: Msg): FleetCall {
    const v = this.o.verifier.verify(msg.subject, msg.data, msg.headers?.get(AUTH_HEADER));
    const method = methodOfSubject(msg.subject, this.o.host);
    if (method === null) throw new MalformedRequestError(`subject ${msg.subject} names no method`);
    let params: unknown = [];
    if (msg.data.length > 0) {
      try {
        params = JSON.parse(new TextDecoder().decode(msg.data));
      } catch {
        throw new MalformedRequestError('the body is not JSON');
      }
    }
    if (!Array.isArray(params)) throw new MalformedRequestError('the body must be a JSON array of params');
    return { method, params, user: v.user, roles: v.roles, signer: v.signer, subject: msg.subject };
  }

  private reply(msg: Msg, reply: FleetReply): void {
    let bytes: Uint8Array;
    try {
      bytes = this.encoder.encode(JSON.stringify(reply));
    } catch (e) {
      bytes = this.encoder.encode(JSON.stringify({ error: callErrorObject('EFAULT', `the result cannot be sent as JSON: ${(e as Error).message}`) }));
    }
    try {
      msg.respond(bytes);
    } catch (e) {
      // Typically a result larger than the server's max_payload: say so instead of going silent.
      try {
        msg.respond(this.encoder.encode(JSON.stringify({ error: callErrorObject('EFAULT', `the reply cannot be sent: ${(e as Error).message}`) })));
      } catch (again) {
        this.o.onError?.(again as Error);
      }
    }
  }
}
