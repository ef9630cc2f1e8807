// `*.query` and `*.get_instance` over entries read from ZFS (asynchronously, unlike the engine's
// queryMethod over memory): filters are compiled first, so a malformed query never runs a
// command, and the entry reader gets the compiled filter's index hints (`id = x`) and the
// options' `extra` to read no more than it must.
import { applyQuery, arg, compileFilters, method, notFound, Type, type CallContext, type Filter, type MethodDef, type QueryOptionsT, type TSchema } from '#midship/module-api';
import { QueryFilters, QueryOptions } from '../../schemas/query.js';

export type EntryReader<T> = (filter: Filter, extra: Record<string, unknown>, ctx: CallContext) => Promise<Iterable<T>>;

/** The values `field` must equal for an entry to match (from `=` / `in` at the top level), else null. */
export function hinted(filter: Filter, field: string): unknown[] | null {
  return filter.equals.get(field) ?? null;
}

export function asyncQueryMethod<T>(name: string, description: string, read: EntryReader<T>): MethodDef {
  return method(name, {
    description,
    args: [arg('filters', QueryFilters, { default: [] }), arg('options', QueryOptions, { default: {} as never })],
    result: Type.Unknown(),
    filterable: true,
    handler: async (ctx, filters, options) => {
      const filter = compileFilters(filters);
      return applyQuery(await read(filter, options.extra ?? {}, ctx), filter, options as Partial<QueryOptionsT>);
    },
  });
}

/**
 * `<service>.get_instance(id, options)`: the one entry with that id, or a not-found error naming
 * it (`id` is `idSchema`: an integer for tasks and pools, a string for datasets and snapshots).
 */
export function getInstanceMethod<T>(name: string, description: string, idSchema: TSchema, result: TSchema, read: EntryReader<T>): MethodDef {
  return method(name, {
    description,
    args: [arg('id', idSchema), arg('options', QueryOptions, { default: {} as never })],
    result,
    handler: async (ctx, id, options) => {
      const filter = compileFilters([['id', '=', id]]);
      const o = options as Partial<QueryOptionsT>;
      const found = applyQuery(await read(filter, o.extra ?? {}, ctx), filter, { ...o, get: false, limit: 0, offset: 0 }) as T[];
      if (found.length === 0) throw notFound(`${typeof id === 'string' ? JSON.stringify(id) : String(id)} does not exist`);
      const [entry] = applyQuery([found[0]!], [], { select: o.select ?? [] }) as unknown[];
      return entry;
    },
  });
}
