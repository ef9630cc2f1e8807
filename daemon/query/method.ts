// The `<service>.query(filters, options)` method every CRUD service has (PROTOCOL.md 7), over
// entries a module already holds in memory.
import { Type } from '@sinclair/typebox';
import { method, type CallContext, type MethodDef } from '../registry.js';
import { arg } from '../schema.js';
import { QueryFilters, QueryOptions } from '../../schemas/query.js';
import { applyQuery } from './apply.js';
import { compileFilters } from './compile.js';

/**
 * `entries(ctx)` lists what the caller may see, in their natural order; it may resolve them later
 * (entries read from a file). `authOnly`: any logged-in session may call it (the entries are then
 * the caller's to narrow); otherwise the service's `<PREFIX>_READ` role is needed.
 */
export function queryMethod(name: string, description: string, entries: (ctx: CallContext) => Iterable<unknown> | Promise<Iterable<unknown>>, o: { authOnly?: boolean } = {}): MethodDef {
  return method(name, {
    description,
    authOnly: o.authOnly ?? false,
    args: [arg('filters', QueryFilters, { default: [] }), arg('options', QueryOptions, { default: {} as never })],
    result: Type.Unknown(),
    filterable: true,
    // Filters first: a malformed query is refused before any entry is listed.
    handler: async (ctx, filters, options) => {
      const filter = compileFilters(filters);
      return applyQuery(await entries(ctx), filter, options);
    },
  });
}
