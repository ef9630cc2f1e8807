// core.get_jobs over the whole durable history. Active and just-finished jobs come from memory
// (their stored copy may be stale), the rest from the store, through its method/state indexes
// when the filters allow. Listing by id (the default, and `-id` newest first) streams and stops
// after offset+limit; other orderings collect the candidates and sort them.
import type { Credentials } from '../auth/credentials.js';
import { isFullAdmin } from '../auth/credentials.js';
import { MatchNotFound, applyQuery, compileFilters, filterHints, project, type Predicate } from '../filters.js';
import type { Redactor } from '../redact.js';
import type { QueryOptionsT } from '../../schemas/query.js';
import { mayRead, type JobManager } from './manager.js';
import type { JobRecord } from './types.js';
import { jobToWire, type WireJob } from './wire.js';

export interface JobQueryContext {
  credentials: Credentials | null;
  /** Redactor of a method's result (null: show raw). */
  resultRedactor(method: string): Redactor | null;
  readRoles(method: string): readonly string[] | undefined;
}

type Visible = (r: JobRecord) => boolean;

const INDEXED = new Set(['state', 'method']);

/** Whether every filter condition is an `=`/`in` on an indexed field (then index counts are exact). */
function coveredByIndexes(filters: unknown[]): boolean {
  return filters.every((c) => Array.isArray(c) && c.length === 3 && INDEXED.has(c[0] as string) && (c[1] === '=' || (c[1] === 'in' && Array.isArray(c[2]))));
}

function stringHints(values: unknown[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values.filter((v): v is string => typeof v === 'string');
}

export async function queryJobs(jobs: JobManager, filters: unknown[], options: QueryOptionsT, q: JobQueryContext): Promise<unknown> {
  const predicate: Predicate = compileFilters(filters);
  const admin = isFullAdmin(q.credentials);
  const visible: Visible = admin ? () => true : (r) => mayRead(q.credentials, r, q.readRoles(r.method));
  const hints = filterHints(filters).equals;
  const methods = stringHints(hints.get('method'));
  const states = stringHints(hints.get('state'));
  const scanFilter = { ...(methods ? { methods } : {}), ...(states ? { states } : {}) };
  const live = jobs.unflushed();
  const liveIds = new Set(live.map((j) => j.id));
  const toWire = (r: JobRecord): WireJob => jobToWire(r, q.resultRedactor(r.method));
  const matches = (r: JobRecord) => visible(r) && predicate(r);
  /** The whole pipeline over collected candidates (already visible to the caller). */
  const answer = (candidates: JobRecord[]): unknown => {
    const out = applyQuery(candidates, filters, { ...options, select: [] });
    if (typeof out === 'number') return out;
    if (Array.isArray(out)) return (out as JobRecord[]).map((r) => project(toWire(r), options.select));
    return project(toWire(out as JobRecord), options.select);
  };

  if (options.count && admin && coveredByIndexes(filters)) {
    // Index count, corrected for jobs whose stored copy is behind their live state.
    const hinted = (state: string | null, method: string) =>
      state !== null && (!states || states.includes(state)) && (!methods || methods.includes(method));
    let n = await jobs.store.count(scanFilter);
    for (const j of live) {
      if (hinted(j.persistedState, j.record.method)) n--;
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
  // applyQuery validates option combinations (get with offset/limit) before anything is read.
  applyQuery([], [], { ...options, get: false, count: false });
  if (options.get && (options.offset > 0 || options.limit > 1)) applyQuery([], [], options);
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
    return project(toWire(page[0]!), options.select);
  }
  return page.map((r) => project(toWire(r), options.select));
}
