// What the two protocol handlers share: the limits, the registry, the dispatcher and the log.
import type { Limits } from '../config.js';
import type { Dispatcher } from '../dispatch.js';
import { findEjsonProblem } from '../ejson.js';
import { ERRNO, ValidationErrors, isExpected } from '../errors.js';
import type { Logger } from '../log.js';
import type { Registry, RegisteredMethod } from '../registry.js';
import type { Connection } from './connection.js';

export class Transport {
  readonly debug: boolean;

  constructor(
    readonly limits: Limits,
    readonly registry: Registry,
    readonly dispatcher: Dispatcher,
    readonly log: Logger,
  ) {
    this.debug = log.isLevelEnabled('debug');
  }

  /**
   * Refuses arguments holding an object the real client would take for an ejson value without it
   * being a well-formed one (PROTOCOL.md 1.4): stored, it would later be echoed in responses and
   * events that client cannot decode. `frame` is the raw text: most frames mention no `"$` at all.
   */
  checkWireValues(m: RegisteredMethod, params: unknown[], frame: string): void {
    if (!frame.includes('"$')) return;
    const problem = findEjsonProblem(params);
    if (problem === null) return;
    const [index, ...rest] = problem.keys;
    const name = m.def.args[index as number]?.name ?? String(index);
    throw new ValidationErrors([[[name, ...rest].join('.'), problem.message, ERRNO.EINVAL]]);
  }

  /** One log line per failed call; unexpected errors were already logged with their stack. */
  logFailure(conn: Connection, method: string, err: unknown): void {
    if (isExpected(err)) this.log.info({ conn: conn.id, method, error: (err as Error).message.trimEnd() }, 'call failed');
  }
}
