// Method arguments are positional. Each argument is declared once, as a JSON Schema built with
// TypeBox, so the TypeScript type of a handler's parameters is derived from the very object ajv
// validates against: the two cannot drift apart.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Static, TSchema } from '@sinclair/typebox';
import { ERRNO, ValidationErrors } from './errors.js';

export interface ArgSpec<S extends TSchema = TSchema> {
  readonly name: string;
  readonly schema: S;
  /** Absent arguments take this value (deep-copied per call); without it the argument is required. */
  readonly default?: Static<S>;
  readonly hasDefault: boolean;
}

export function arg<S extends TSchema>(name: string, schema: S, options?: { default: Static<S> }): ArgSpec<S> {
  return options === undefined
    ? { name, schema, hasDefault: false }
    : { name, schema, default: options.default, hasDefault: true };
}

/** The tuple of handler parameter types for a list of argument specs. */
export type ArgsOf<T extends readonly ArgSpec[]> = { -readonly [K in keyof T]: T[K] extends ArgSpec<infer S> ? Static<S> : never };

export type JsonSchema = Record<string, unknown>;

/** Strip TypeBox's symbol keys so the schema can be served as plain JSON. */
export function plainSchema(schema: TSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

/** `core.get_methods` `accepts`: one array schema of the positional arguments. */
export function argsJsonSchema(args: readonly ArgSpec[]): JsonSchema {
  return {
    type: 'array',
    prefixItems: args.map((a) => ({
      ...plainSchema(a.schema),
      title: a.name,
      _name_: a.name,
      ...(a.hasDefault ? { default: a.default } : {}),
    })),
    minItems: args.filter((a) => !a.hasDefault).length,
    maxItems: args.length,
    items: false,
  };
}

export type ArgsValidator = (params: unknown[]) => unknown[];

/** Compiles schemas once; one instance per Daemon. */
export class SchemaCompiler {
  private readonly ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false });

  compile(schema: TSchema): ValidateFunction {
    return this.ajv.compile(schema);
  }

  /** A function that fills defaults, validates and returns the full argument list, or throws ValidationErrors. */
  compileArgs(args: readonly ArgSpec[]): ArgsValidator {
    const validators = args.map((a) => ({ spec: a, validate: this.ajv.compile(a.schema) }));
    const max = args.length;
    return (params) => {
      // Created only on the first error: an Error captures a stack trace, which cost more than
      // the whole rest of a core.ping call when it was made for every call.
      let errors: ValidationErrors | null = null;
      if (params.length > max) {
        throw new ValidationErrors().add('', `Too many arguments (expected ${max}, found ${params.length})`);
      }
      const out = new Array<unknown>(max);
      for (let i = 0; i < max; i++) {
        const { spec, validate } = validators[i]!;
        let value = params[i];
        if (value === undefined) {
          if (!spec.hasDefault) {
            (errors ??= new ValidationErrors()).add(spec.name, 'Field required');
            continue;
          }
          value = spec.default === undefined ? undefined : structuredClone(spec.default);
        }
        // ajv fills defaults of nested properties in place; wrap so a scalar can be replaced too.
        if (!validate(value)) {
          for (const e of validate.errors ?? []) (errors ??= new ValidationErrors()).add(attributePath(spec.name, e), messageOf(e), ERRNO.EINVAL);
        }
        out[i] = value;
      }
      errors?.throwIfAny();
      return out;
    };
  }
}

/** ajv errors as ValidationErrors entries under `prefix` ('' for none); `fallback` names a whole-value error. */
export function toValidationErrors(errors: readonly ErrorObject[], prefix: string, fallback: string): ValidationErrors {
  const out = new ValidationErrors();
  for (const e of errors) out.add(attributePath(prefix, e) || fallback, messageOf(e), ERRNO.EINVAL);
  return out;
}

function attributePath(argName: string, e: ErrorObject): string {
  const parts = argName === '' ? [] : [argName];
  for (const seg of e.instancePath.split('/').slice(1)) parts.push(seg.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'required' && typeof params.missingProperty === 'string') parts.push(params.missingProperty);
  if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    parts.push(params.additionalProperty);
  }
  return parts.join('.');
}

function messageOf(e: ErrorObject): string {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return 'Field required';
    case 'additionalProperties':
      return 'Extra inputs are not permitted';
    case 'type':
      return `Input should be a valid ${String(params.type)}`;
    case 'enum':
      return `Input should be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `Input should be ${JSON.stringify(params.allowedValue)}`;
    case 'maximum':
      return `Input should be less than or equal to ${String(params.limit)}`;
    case 'minimum':
      return `Input should be greater than or equal to ${String(params.limit)}`;
    case 'exclusiveMaximum':
      return `Input should be less than ${String(params.limit)}`;
    case 'exclusiveMinimum':
      return `Input should be greater than ${String(params.limit)}`;
    case 'maxLength':
      return `String should have at most ${String(params.limit)} characters`;
    case 'minLength':
      return `String should have at least ${String(params.limit)} characters`;
    case 'maxItems':
      return `List should have at most ${String(params.limit)} items`;
    case 'minItems':
      return `List should have at least ${String(params.limit)} items`;
    case 'pattern':
      return `String should match pattern '${String(params.pattern)}'`;
    default:
      return e.message ?? 'Invalid value';
  }
}
