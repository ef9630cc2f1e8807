// The query pipeline of core.get_jobs and every *.query method (PROTOCOL.md 7): filter → count →
// order → get → offset → limit → select, over entries a caller already has. Comparisons follow
// Python's rules where JSON can express them (values.ts); the reference engine is Python.
import { CallError, ERRNO, MatchNotFound } from '../errors.js';
import type { QueryOptionsT } from '../../schemas/query.js';
import { compileFilters } from './compile.js';
import { sortEntries } from './order.js';
import { compileSelect, projectWith, type SelectItem } from './projection.js';

export type QueryOptionsInput = Partial<QueryOptionsT>;

/** query-options checked and compiled; what every pipeline runs with. */
export interface CheckedOptions {
  orderBy: readonly string[];
  limit: number;
  offset: number;
  count: boolean;
  get: boolean;
  select: SelectItem[];
}

/** Refuses option combinations the reference refuses, and malformed select items (CallError EINVAL). */
export function checkOptions(options: QueryOptionsInput): CheckedOptions {
  const limit = options.limit ?? 0;
  const offset = options.offset ?? 0;
  const get = options.get === true;
  if (get && (offset > 0 || limit > 1)) throw new CallError('Options `get` cannot be combined with `offset` or a `limit` above 1', ERRNO.EINVAL);
  return { orderBy: options.order_by ?? [], limit, offset, count: options.count === true, get, select: compileSelect(options.select ?? []) };
}

/**
 * Runs the pipeline: returns the list, the single entry (`get`; MatchNotFound when none), or the
 * number of matches (`count`). `filters` are raw query-filters or a Filter compiled before (they
 * are compiled, and so validated, first). Entries are returned as given (not copied) unless
 * `select` projects them.
 */
export function applyQuery<T>(entries: Iterable<T>, filters: unknown = [], options: QueryOptionsInput = {}): T[] | T | number {
  const match = compileFilters(filters).match;
  const o = checkOptions(options);

  if (o.count) {
    let n = 0;
    for (const e of entries) if (match(e)) n++;
    return n;
  }

  let selected: T[];
  if (o.orderBy.length === 0) {
    // Without ordering the stream can stop as soon as the page is full.
    const want = o.get ? 1 : o.limit === 0 ? Infinity : o.limit;
    selected = [];
    let skip = o.offset;
    for (const e of entries) {
      if (!match(e)) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      selected.push(e);
      if (selected.length >= want) break;
    }
  } else {
    const matched: T[] = [];
    for (const e of entries) if (match(e)) matched.push(e);
    const sorted = sortEntries(matched, o.orderBy);
    selected = o.get ? sorted.slice(0, 1) : sorted.slice(o.offset, o.limit === 0 ? undefined : o.offset + o.limit);
  }

  if (o.get) {
    if (selected.length === 0) throw new MatchNotFound();
    return projectWith(selected[0], o.select) as T;
  }
  return o.select.length === 0 ? selected : selected.map((e) => projectWith(e, o.select) as T);
}
