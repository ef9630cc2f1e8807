// The engine's face to method modules: everything a module may use, nothing it may not.
import type { AbstractSublevel } from 'abstract-level';
import type { ClassicLevel } from 'classic-level';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { EventBus } from './events.js';
import type { JobManager } from './jobs/manager.js';
import type { Credentials } from './auth/credentials.js';
import type { JobHandle } from './jobs/handle.js';
import type { ConnectionInfo, Registry } from './registry.js';
import type { AuthService } from './auth/service.js';
import type { Downloads } from './jobs/download.js';

export type Sublevel<V = unknown> = AbstractSublevel<ClassicLevel<string, unknown>, string | Buffer | Uint8Array, string, V>;

export interface InternalCallOptions {
  /** Whose authority the call runs with; default: the daemon itself (full admin). */
  credentials?: Credentials | null;
  parentJob?: JobHandle | null;
  /** Check roles as for a client call (core.bulk does, on behalf of its caller). */
  authorize?: boolean;
  /** Told the job id when the method is a job (core.bulk reports it). */
  onJob?: (jobId: number) => void;
  /** The client connection the call is made for (its calls are audited, as core.bulk's are). */
  connection?: ConnectionInfo | null;
}

export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly registry: Registry;
  readonly events: EventBus;
  readonly jobs: JobManager;
  readonly auth: AuthService;
  readonly downloads: Downloads;
  /** A JSON-valued sublevel of the daemon's database, e.g. `app.sublevel('cronjob')`. */
  sublevel<V = unknown>(name: string): Sublevel<V>;
  /** Call a method from inside the daemon. Job methods resolve with the job's result. */
  call(name: string, args: unknown[], options?: InternalCallOptions): Promise<unknown>;
}
