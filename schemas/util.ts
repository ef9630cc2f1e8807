// Helpers for building schemas out of other schemas.
import { Type, type TOptional, type TSchema } from '@sinclair/typebox';

/** The same properties, each optional: an update schema from the fields of a create schema. */
export function mapOptional<T extends Record<string, TSchema>>(fields: T): { [K in keyof T]: TOptional<T[K]> } {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: TOptional<T[K]> };
}

/**
 * A date-time as it goes over the wire: {"$date": <epoch ms>}. Written with patternProperties:
 * the real client decodes every object whose only key is `$date` as a date, schemas included,
 * so `"properties": {"$date": ...}` would make it drop core.get_methods (PROTOCOL.md 1.4).
 */
export function WireDate(options: { integer?: boolean } = {}) {
  return Type.Unsafe<{ $date: number }>({
    type: 'object',
    required: ['$date'],
    patternProperties: { '^\\$date$': { type: options.integer ? 'integer' : 'number' } },
    additionalProperties: false,
  });
}

/** A set as it goes over the wire: {"$set": [...]}, written like WireDate for the same reason. */
export function WireSet(items: TSchema) {
  return Type.Unsafe<{ $set: unknown[] }>({
    type: 'object',
    required: ['$set'],
    patternProperties: { '^\\$set$': { type: 'array', items } },
    additionalProperties: false,
  });
}
