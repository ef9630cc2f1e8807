// One call, whatever the transport: authorize -> validate -> run (plain or as a job) -> audit.
// Method lookup happened before (unknown methods are answered by the transport, before any
// authentication, as the protocol requires).
import type { AuthService } from './auth/service.js';
import { hasAnyRole, type Credentials } from './auth/credentials.js';
import { CallError, ERRNO, isExpected } from './errors.js';
import type { JobHandle } from './jobs/handle.js';
import type { JobManager } from './jobs/manager.js';
import type { Logger } from './log.js';
import type { CallOutcome } from './observers.js';
import { FixedWindows } from './windows.js';
import { mayCall, type CallContext, type ConnectionInfo, type RegisteredMethod } from './registry.js';

export interface CallOptions {
  connection: ConnectionInfo | null;
  credentials: Credentials | null;
  messageId: string | number | null | undefined;
  /** Job methods return their job id at once (legacy) or their result when they end. */
  legacyJobs: boolean;
  parentJob: JobHandle | null;
  /** Whether to check authentication and roles (internal calls skip it unless asked). */
  authorize: boolean;
  onJob?: ((jobId: number) => void) | undefined;
}


/** What the dispatcher works with. */
export interface DispatchDeps {
  /** No-auth calls an unauthenticated TCP peer may make per method and minute. */
  anonCallsPerMinute: number;
  log: Logger;
  /** Token sessions are kept alive by use; state-changing calls are audited. */
  auth: Pick<AuthService, 'touch' | 'audit'>;
  jobs: Pick<JobManager, 'submit'>;
  /** Told how every client call ended and how long it took (metrics). */
  callEnded?(method: string, outcome: CallOutcome, seconds: number): void;
}

export class Dispatcher {
  /** No-auth calls of unauthenticated TCP peers per method and address (PROTOCOL.md 6.8). */
  readonly #anonCalls = new FixedWindows<{ start: number; count: number }>({ windowMs: 60_000, maxKeys: 10_000, create: (start) => ({ start, count: 0 }) });

  constructor(private readonly deps: DispatchDeps) {}

  /** Throws CallError when the caller may not call `m`. */
  async authorize(m: RegisteredMethod, credentials: Credentials | null, connection: ConnectionInfo | null): Promise<void> {
    const def = m.def;
    if (def.noAuth) {
      // Logins are left to the auth service's throttle: counting them here let anyone sharing an
      // address lock out the right password (21 calls a minute, right or wrong, meant EBUSY).
      if (credentials === null && connection?.transport === 'tcp' && def.name !== 'core.set_options' && !def.login) {
        if (++this.#anonCalls.open(`${def.name}\0${connection.remoteAddress}`, Date.now()).count > this.deps.anonCallsPerMinute) {
          await new Promise((r) => setTimeout(r, 1000 + Math.floor(Math.random() * 9000)));
          throw new CallError('Rate Limit Exceeded', ERRNO.EBUSY);
        }
      }
      return;
    }
    if (credentials === null) throw new CallError('Not authenticated', ERRNO.ENOTAUTHENTICATED);
    if (!mayCall(credentials, m)) throw new CallError('Not authorized', ERRNO.EACCES);
  }

  async call(m: RegisteredMethod, params: unknown[], o: CallOptions): Promise<unknown> {
    const observed = o.connection !== null && this.deps.callEnded !== undefined;
    if (!observed) return this.#call(m, params, o);
    const started = performance.now();
    let outcome: CallOutcome = 'exception';
    try {
      const result = await this.#call(m, params, o);
      outcome = 'success';
      return result;
    } catch (err) {
      if (isExpected(err)) outcome = 'error';
      throw err;
    } finally {
      this.deps.callEnded!(m.def.name, outcome, (performance.now() - started) / 1000);
    }
  }

  async #call(m: RegisteredMethod, params: unknown[], o: CallOptions): Promise<unknown> {
    if (o.authorize) await this.authorize(m, o.credentials, o.connection);
    if (o.credentials?.type === 'TOKEN' && o.connection !== null) this.deps.auth.touch(o.connection);
    let ok = false;
    let args: unknown[] = params;
    try {
      args = m.validateArgs(params);
      let result: unknown;
      if (m.def.job) {
        const job = await this.deps.jobs.submit(m, args, this.context(o));
        o.onJob?.(job.id);
        // Legacy callers get the id at once; an aborted job answers null (PROTOCOL.md 5.3): neither
        // is a result of the method's, so neither is redacted or checked against its schema.
        const answer = o.legacyJobs ? job.id : await job.outcome();
        if (o.legacyJobs || job.state === 'ABORTED') {
          ok = true;
          return answer;
        }
        result = answer;
      } else result = await this.runPlain(m, args, o);
      // Secrets are shown only to holders of the namespace's write role (PROTOCOL.md 8.5).
      if (m.writeRole !== null && o.credentials !== null && !hasAnyRole(o.credentials, [m.writeRole])) result = m.redactResult(result);
      if (m.validateResult && !m.validateResult(result)) {
        this.deps.log.error({ method: m.def.name, errors: m.validateResult.errors }, 'result does not match its schema');
        throw new Error(`Result of ${m.def.name} does not match its schema: ${JSON.stringify(m.validateResult.errors)}`);
      }
      ok = true;
      return result;
    } catch (err) {
      if (!isExpected(err)) this.deps.log.error({ err, method: m.def.name }, 'method raised an unexpected error');
      throw err;
    } finally {
      if (m.writes && o.credentials !== null && o.credentials.type !== 'INTERNAL' && o.connection !== null) {
        this.deps.auth.audit(o.credentials, o.connection, m.def.name, m.redactArgs(args) as unknown[], ok);
      }
    }
  }

  private context(o: CallOptions): CallContext {
    return { credentials: o.credentials, connection: o.connection, messageId: o.messageId, parentJob: o.parentJob };
  }

  private runPlain(m: RegisteredMethod, args: unknown[], o: CallOptions): unknown {
    return (m.def.handler as (ctx: CallContext, ...a: unknown[]) => unknown)(this.context(o), ...args);
  }

}
