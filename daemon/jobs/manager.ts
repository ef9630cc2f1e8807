// Placeholder until the job engine lands: job methods are refused with ENOSYS.
import { CallError, ERRNO } from '../errors.js';
import type { CallContext, RegisteredMethod } from '../registry.js';

export interface SubmittedJob {
  readonly id: number;
  outcome(): Promise<unknown>;
}

export class JobManager {
  submit(m: RegisteredMethod, _args: unknown[], _ctx: CallContext): Promise<SubmittedJob> {
    return Promise.reject(new CallError(`${m.def.name}: the job engine is not available yet`, ERRNO.ENOSYS));
  }

  async open(): Promise<void> {}

  async close(): Promise<void> {}
}
