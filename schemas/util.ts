// Helpers for building schemas out of other schemas.
import { Type, type TOptional, type TSchema } from '@sinclair/typebox';

/** The same properties, each optional: an update schema from the fields of a create schema. */
export function mapOptional<T extends Record<string, TSchema>>(fields: T): { [K in keyof T]: TOptional<T[K]> } {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: TOptional<T[K]> };
}
