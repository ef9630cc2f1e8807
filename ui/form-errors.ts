// A failed call as the person who made it should read it: each validation error with the field it
// names (the prefix of the argument, e.g. `webhook_create.`, left out), or the daemon's reason.
import { RpcError } from './rpc.js';

export function errorLines(err: unknown, prefix: RegExp): string[] {
  if (err instanceof RpcError && err.validation.length > 0) {
    return err.validation.map(([attr, msg]) => {
      const field = attr.replace(prefix, '');
      return field === '' ? msg : `${field}: ${msg}`;
    });
  }
  return [err instanceof Error ? err.message : String(err)];
}
