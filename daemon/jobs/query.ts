// core.get_jobs over the whole durable history. Active and just-finished jobs come from memory
// (their stored copy may be stale), the rest from the store, through its method/state indexes
// when the filters allow, or its time indexes for `time_started.$date` / `time_finished.$date`
// ranges. Counts of a state and a time range (the dashboard's summary) read the store's counters.
// Listing by id (the default, and `-id` newest first) streams and stops after offset+limit; other
// orderings collect the candidates and sort them.
import type { Credentials } from '../auth/credentials.js';
import { isFullAdmin } from '../auth/credentials.js';
import { MatchNotFound } from '../errors.js';
import { applyQuery, checkOptions, compileFilters, parseIsoTimestamp, projectWith, type Filter } from '../query/index.js';
import type { Redactor } from '../redact.js';
import type { QueryOptionsT } from '../../schemas/query.js';
import type { TimeField, TimeRange } from './counters.js';
import type { JobManager } from './manager.js';
import type { ScanOptions } from './store.js';
import type { JobRecord } from './types.js';
import { jobToWire, type WireJob } from './wire.js';

export interface JobQueryContext {
  credentials: Credentials | null;
  /** Redactor of a method's result (null: show raw). */
  resultRedactor(method: string): Redactor | null;
  readRoles(method: string): readonly string[] | undefined;
}

type Visible = (r: JobRecord) => boolean;

const INDEXED = new Set(['state', 'method', 'parent_id']);
const TIME_FIELDS: ReadonlyMap<string, TimeField> = new Map([
  ['time_started.$date', 'time_started'],
  ['time_finished.$date', 'time_finished'],
]);

/** The ms bounds one `.$date` condition puts on its field, or null when it is not a plain bound. */
function timeBound(c: unknown): { field: TimeField; gte: number; lt: number } | null {
  if (!Array.isArray(c) || c.length !== 3 || typeof c[2] !== 'string') return null;
  const field = TIME_FIELDS.get(c[0] as string);
  const ms = parseIsoTimestamp(c[2]);
  if (field === undefined || ms === undefined) return null;
  switch (c[1]) {
    case '>': return { field, gte: ms + 1, lt: Infinity };
    case '>=': return { field, gte: ms, lt: Infinity };
    case '<': return { field, gte: 0, lt: ms };
    case '<=': return { field, gte: 0, lt: ms + 1 };
    case '=': return { field, gte: ms, lt: ms + 1 };
    default: return null;
  }
}

/** The range the top-level time conditions allow on the first time field they name. */
function timeRangeHint(filters: readonly unknown[]): TimeRange | undefined {
  let range: TimeRange | undefined;
  for (const c of filters) {
    const b = timeBound(c);
    if (b === null || (range !== undefined && b.field !== range.field)) continue;
    range = range === undefined ? b : { field: b.field, gte: Math.max(range.gte, b.gte), lt: Math.min(range.lt, b.lt) };
  }
  return range;
}

/**
 * Whether the indexes answer the filters exactly: every condition is an `=`/`in` on state or
 * method, or a time bound on the hinted range's field.
 */
function coveredByIndexes(filters: unknown[], range: TimeRange | undefined): boolean {
  return filters.every((c) => {
    if (!Array.isArray(c) || c.length !== 3) return false;
    if (INDEXED.has(c[0] as string)) return c[1] === '=' || (c[1] === 'in' && Array.isArray(c[2]));
    const b = timeBound(c);
    return b !== null && b.field === range?.field;
  });
}

function inRange(t: number | null, range: TimeRange): boolean {
  return t !== null && t >= range.gte && t < range.lt;
}

function stringHints(values: unknown[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values.filter((v): v is string => typeof v === 'string');
}

/** What the store's indexes can narrow compiled filters to (every record found is still matched). */
export function scanHints(filter: Filter): Pick<ScanOptions, 'methods' | 'states' | 'range' | 'parents'> {
  const methods = stringHints(filter.equals.get('method'));
  const states = stringHints(filter.equals.get('state'));
  const parents = parentHints(filter.equals.get('parent_id'));
  const range = timeRangeHint(filter.conditions);
  return { ...(methods ? { methods } : {}), ...(states ? { states } : {}), ...(parents ? { parents } : {}), ...(range ? { range } : {}) };
}

/** parent_id values as the parent index keys them (null: 0); a value no job's parent_id can hold matches nothing. */
function parentHints(values: unknown[] | undefined): number[] | undefined {
  if (values === undefined) return undefined;
  return values.filter((v) => v === null || (Number.isSafeInteger(v) && (v as number) > 0)).map((v) => (v === null ? 0 : (v as number)));
}

export async function queryJobs(jobs: JobManager, filters: unknown[], options: QueryOptionsT, q: JobQueryContext): Promise<unknown> {
  // Compiled (and so validated) once; every path below uses this one.
  const filter = compileFilters(filters);
  const checked = checkOptions(options);
  const predicate = filter.match;
  const admin = isFullAdmin(q.credentials);
  const visible: Visible = admin ? () => true : (r) => jobs.mayRead(q.credentials, r, q.readRoles(r.method));
  const hints = filter.equals;
  const scanFilter = scanHints(filter);
  const { methods, states, parents, range } = scanFilter;
  const live = jobs.unflushed();
  const liveIds = new Set(live.map((j) => j.record.id));
  const toWire = (r: JobRecord): WireJob => jobToWire(r, q.resultRedactor(r.method));
  const matches = (r: JobRecord) => visible(r) && predicate(r);
  /** The whole pipeline over collected candidates (already visible to the caller). */
  const answer = (candidates: JobRecord[]): unknown => {
    const out = applyQuery(candidates, filter, { ...options, select: [] });
    if (typeof out === 'number') return out;
    if (Array.isArray(out)) return (out as JobRecord[]).map((r) => projectWith(toWire(r), checked.select));
    return projectWith(toWire(out as JobRecord), checked.select);
  };

  if (options.count && admin && coveredByIndexes(filters, range)) {
    // Index count, corrected for jobs whose stored copy is behind their live state.
    const storedMatches = (j: (typeof live)[number]): boolean => {
      const state = j.stored;
      if (state === null || (states && !states.includes(state)) || (methods && !methods.includes(j.record.method))) return false;
      if (parents && !parents.includes(j.record.parent_id ?? 0)) return false;
      if (range === undefined) return true;
      const finished = state === 'SUCCESS' || state === 'FAILED' || state === 'ABORTED';
      return inRange(range.field === 'time_started' ? j.record.time_started : finished ? j.record.time_finished : null, range);
    };
    let n = await jobs.store.count(scanFilter);
    for (const j of live) {
      if (storedMatches(j)) n--;
      if (!j.record.transient && matches(j.record)) n++;
    }
    return n;
  }

  // `["id", "=", N]` / `["id", "in", [...]]`: read those records directly (a dashboard opening a
  // job by its link must not walk the history down to it).
  const idHints = hints.get('id');
  if (idHints !== undefined && idHints.every((v) => Number.isSafeInteger(v))) {
    const ids = [...new Set(idHints as number[])];
    const candidates: JobRecord[] = [];
    const stored = await jobs.store.getMany(ids.filter((id) => !liveIds.has(id)));
    for (const r of [...live.map((j) => j.record).filter((r) => ids.includes(r.id)), ...stored]) if (r !== undefined && visible(r)) candidates.push(r);
    return answer(candidates.sort((a, b) => a.id - b.id));
  }

  const orderBy = options.order_by;
  const byId = orderBy.length === 0 || (orderBy.length === 1 && (orderBy[0] === 'id' || orderBy[0] === '-id'));
  if (!byId || options.count) {
    const candidates: JobRecord[] = live.map((j) => j.record).filter((r) => visible(r));
    for await (const r of jobs.store.scan(scanFilter)) if (!liveIds.has(r.id) && visible(r)) candidates.push(r);
    return answer(candidates);
  }

  const reverse = orderBy[0] === '-id';
  const want = options.get ? 1 : options.limit === 0 ? Infinity : options.limit;
  const mem = live.map((j) => j.record).filter(matches).sort((a, b) => (reverse ? b.id - a.id : a.id - b.id));
  const page: JobRecord[] = [];
  let skip = options.offset;
  let mi = 0;
  const take = (r: JobRecord): boolean => {
    if (skip > 0) {
      skip--;
      return page.length < want;
    }
    page.push(r);
    return page.length < want;
  };
  let more = true;
  const scan = jobs.store.scan({ ...scanFilter, reverse });
  try {
    for await (const r of scan) {
      if (liveIds.has(r.id)) continue;
      while (more && mi < mem.length && (reverse ? mem[mi]!.id > r.id : mem[mi]!.id < r.id)) more = take(mem[mi++]!);
      if (!more) break;
      if (matches(r)) more = take(r);
      if (!more) break;
    }
  } finally {
    await scan.return(undefined);
  }
  while (more && mi < mem.length) more = take(mem[mi++]!);
  if (options.get) {
    if (page.length === 0) throw new MatchNotFound();
    return projectWith(toWire(page[0]!), checked.select);
  }
  return page.map((r) => projectWith(toWire(r), checked.select));
}
