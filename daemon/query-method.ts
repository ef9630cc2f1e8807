// The `<service>.query(filters, options)` method every CRUD service has (PROTOCOL.md 7), over
// entries a module already holds in memory.
import { Type } from '@sinclair/typebox';
import { applyQuery, validateFilters } from './filters.js';
import { method, type CallContext, type MethodDef } from './registry.js';
import { arg } from './schema.js';
import { QueryFilters, QueryOptions } from '../schemas/query.js';

/** `authOnly`: any logged-in session may call it (the entries are then the caller's to narrow). */
export function queryMethod(name: string, description: string, entries: (ctx: CallContext) => Iterable<unknown>, o: { authOnly?: boolean } = {}): MethodDef {
  return method(name, {
    description,
    authOnly: o.authOnly ?? false,
    args: [arg('filters', QueryFilters, { default: [] }), arg('options', QueryOptions, { default: {} as never })],
    result: Type.Unknown(),
    filterable: true,
    handler: (ctx, filters, options) => {
      validateFilters(filters);
      return applyQuery(entries(ctx), filters, options);
    },
  });
}
