// The delivery engine (methods/delivery/) reports bad input as FieldErrors, with attribute paths;
// the alertservice and webhook modules answer them as ValidationErrors, one entry per field.
import { ERRNO, ValidationErrors } from '#midship/module-api';
import { FieldErrors } from './delivery/index.js';

/** Runs `fn`; FieldErrors it throws come out as ValidationErrors naming the same fields. */
export function asValidation<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FieldErrors) throw new ValidationErrors(err.errors.map((e) => [e.field, e.message, ERRNO.EINVAL]));
    throw err;
  }
}
