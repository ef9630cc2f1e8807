// What the two protocol handlers share: the limits, the registry, the dispatcher and the log.
import type { Limits } from '../config.js';
import type { Dispatcher } from '../dispatch.js';
import { isExpected } from '../errors.js';
import type { Logger } from '../log.js';
import type { Registry } from '../registry.js';
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

  /** One log line per failed call; unexpected errors were already logged with their stack. */
  logFailure(conn: Connection, method: string, err: unknown): void {
    if (isExpected(err)) this.log.info({ conn: conn.id, method, error: (err as Error).message.trimEnd() }, 'call failed');
  }
}
