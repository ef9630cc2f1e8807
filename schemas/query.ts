// The two positional arguments shared by core.get_jobs and every *.query method (PROTOCOL.md 7).
// The filters schema is deliberately loose: its structure (operators, arity, OR nesting, `.$date`
// values) is checked by daemon/query/compile.ts, which can name the precise problem; a JSON Schema
// mismatch deep inside a recursive union would only say "does not match anyOf".
import { Type, type Static } from '@sinclair/typebox';

export const QueryFilters = Type.Array(Type.Unknown(), {
  description: 'List of conditions that must all hold: [field, op, value] or ["OR", [branch, ...]]',
});

export type QueryFiltersT = Static<typeof QueryFilters>;

export const QueryOptions = Type.Object(
  {
    order_by: Type.Array(Type.String(), { default: [] }),
    limit: Type.Integer({ minimum: 0, maximum: 10000, default: 0 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
    count: Type.Boolean({ default: false }),
    get: Type.Boolean({ default: false }),
    // Entries are strings or [field, new_name] pairs; malformed pairs are reported when the query
    // runs (errno 22), as the reference does, so the schema does not look inside.
    select: Type.Array(Type.Unknown(), { default: [] }),
    extra: Type.Record(Type.String(), Type.Unknown(), { default: {} }),
    force_sql_filters: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export type QueryOptionsT = Static<typeof QueryOptions>;
