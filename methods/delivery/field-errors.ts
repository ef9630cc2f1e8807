// Bad input to the delivery engine is reported field by field, with the attribute path the caller
// used (e.g. `attributes.url`), so a method module can turn it into ValidationErrors one to one
// without knowing which check failed. This folder does not import the engine, hence its own type.

export interface FieldError {
  /** Dotted attribute path, e.g. `webhook_create.url` or `attributes.port`. */
  field: string;
  message: string;
}

export class FieldErrors extends Error {
  readonly errors: FieldError[];

  constructor(errors: FieldError[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    this.name = 'FieldErrors';
    this.errors = errors;
  }

  static one(field: string, message: string): FieldErrors {
    return new FieldErrors([{ field, message }]);
  }
}

/** `a` + `b` as an attribute path: joinField('attributes', 'url') is `attributes.url`. */
export function joinField(prefix: string, name: string): string {
  if (prefix === '') return name;
  if (name === '') return prefix;
  return `${prefix}.${name}`;
}
