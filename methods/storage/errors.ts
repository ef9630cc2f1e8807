// The ZFS driver's errors as the wire knows them: a refused name or value becomes a validation
// error naming the field (under the method's attribute prefix), a missing feature a CallError
// EOPNOTSUPP that names it, a failed command a CallError with its errno and ZFS's own words.
import { CallError, ERRNO, ValidationErrors } from '#midship/module-api';
import { ZfsCommandError, ZfsInputError, ZfsParseError, ZfsUnsupportedError } from '../zfs/errors.js';

/** `e` as the error a client should get; anything that is not a driver error is returned as is. */
export function wireError(e: unknown, prefix = ''): unknown {
  if (e instanceof ZfsInputError) {
    const field = e.field === '' ? prefix : prefix === '' ? e.field : `${prefix}.${e.field}`;
    return new ValidationErrors([[field, e.message.slice(e.field.length + 2), ERRNO.EINVAL]]);
  }
  if (e instanceof ZfsUnsupportedError) return new CallError(e.message, ERRNO.EOPNOTSUPP);
  if (e instanceof ZfsCommandError) return new CallError(e.zfsMessage || e.message, ERRNO[e.errno]);
  if (e instanceof ZfsParseError) return new CallError(e.message, ERRNO.EFAULT);
  return e;
}

/** Runs a driver call, turning its errors into wire errors. */
export async function zfsCall<T>(fn: () => Promise<T>, prefix = ''): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw wireError(e, prefix);
  }
}

/** A feature the installed ZFS does not have, refused on the field that asked for it. */
export function unsupported(attribute: string, feature: string, flavor: string): ValidationErrors {
  return new ValidationErrors([[attribute, `${feature} is not supported by the installed ZFS (${flavor})`, ERRNO.EOPNOTSUPP]]);
}
