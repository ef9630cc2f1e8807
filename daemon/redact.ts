// Secrets are marked in the schemas themselves (`{ secret: true }` on a property), so what is
// redacted in job arguments, results and the audit trail follows the declaration and cannot be
// forgotten in one place.
import type { TSchema } from '@sinclair/typebox';

export const REDACTED = '********';

export type Redactor = (value: unknown) => unknown;

type Schema = Record<string, unknown>;

const identity: Redactor = (v) => v;

function hasSecret(schema: unknown, seen = new Set<unknown>()): boolean {
  if (schema === null || typeof schema !== 'object' || seen.has(schema)) return false;
  seen.add(schema);
  const s = schema as Schema;
  if (s.secret === true) return true;
  return Object.values(s).some((v) => (Array.isArray(v) ? v.some((x) => hasSecret(x, seen)) : hasSecret(v, seen)));
}

function build(schema: Schema): Redactor {
  if (!hasSecret(schema)) return identity;
  if (schema.secret === true) return (v) => (v === null || v === undefined ? v : REDACTED);
  const branches = [...((schema.anyOf as Schema[]) ?? []), ...((schema.oneOf as Schema[]) ?? []), ...((schema.allOf as Schema[]) ?? [])];
  if (branches.length > 0) {
    // Apply every branch that marks secrets: a field secret in any shape is secret.
    const rs = branches.map(build).filter((r) => r !== identity);
    return (v) => rs.reduce((acc, r) => r(acc), v);
  }
  const props = schema.properties as Record<string, Schema> | undefined;
  const patterns = schema.patternProperties as Record<string, Schema> | undefined;
  const additional = schema.additionalProperties as Schema | boolean | undefined;
  if (props || patterns || typeof additional === 'object') {
    const byProp = new Map(Object.entries(props ?? {}).map(([k, s]) => [k, build(s)] as const));
    const patternRs = Object.entries(patterns ?? {}).map(([p, s]) => [new RegExp(p), build(s)] as const);
    const additionalR = typeof additional === 'object' ? build(additional) : identity;
    return (v) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const r = byProp.get(k) ?? patternRs.find(([re]) => re.test(k))?.[1] ?? additionalR;
        out[k] = r(x);
      }
      return out;
    };
  }
  const prefix = schema.prefixItems as Schema[] | undefined;
  const items = schema.items as Schema | Schema[] | undefined;
  if (prefix || items) {
    const tuple = prefix ?? (Array.isArray(items) ? items : null);
    const tupleRs = tuple?.map(build) ?? [];
    const restR = items && !Array.isArray(items) ? build(items) : identity;
    return (v) => (Array.isArray(v) ? v.map((x, i) => (tupleRs[i] ?? restR)(x)) : v);
  }
  return identity;
}

/** A redactor for one schema, or for a positional argument list given one schema per argument. */
export function redactBySchema(schema: TSchema | readonly TSchema[]): Redactor {
  if (Array.isArray(schema)) return build({ type: 'array', prefixItems: schema as unknown as Schema[] });
  return build(schema as unknown as Schema);
}
