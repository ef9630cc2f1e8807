// The query language of core.get_jobs and every *.query method (PROTOCOL.md 7): filters compiled
// once into predicates, then the option pipeline filter → count → order → get → offset → limit →
// select. The reference engine is Python, so comparisons follow Python's rules where JSON can
// express them (deep equality, code-point string order, re.match anchoring), and anything Python
// would raise a TypeError on is simply "does not match": a query never fails because of one odd
// entry.
import { CallError, ERRNO, ValidationErrors } from './errors.js';
import { compilePythonRegex, type LinearRegex } from './regex.js';
import type { QueryOptionsT } from '../schemas/query.js';

export type Predicate = (entry: unknown) => boolean;

/** Raised by `get: true` when nothing matched; surfaces as -32001 / EINVAL with trace class `MatchNotFound`. */
export class MatchNotFound extends Error {
  constructor() {
    super('MatchNotFound()');
    this.name = 'MatchNotFound';
  }
}

const MAX_DEPTH = 3;
const BASE_OPS = new Set(['=', '!=', '>', '>=', '<', '<=', '~', 'in', 'nin', 'rin', 'rnin', '^', '!^', '$', '!$']);
const DATE_OPS = new Set(['=', '!=', '>', '>=', '<', '<=']);

// ---------------------------------------------------------------------------------------------
// Small value helpers

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(o: Obj, key: string): unknown {
  // Own properties only: a field named `constructor` or `__proto__` must not reach the prototype.
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Python `==` on JSON values: structural, key order irrelevant, no bool/number coercion. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !deepEqual((a as Obj)[k], (b as Obj)[k])) return false;
  }
  return true;
}

/** Python compares str by code point; JS `<` compares UTF-16 units, which differs only past U+FFFF. */
function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) must sort after U+E000..U+FFFF.
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Python ordering where it is defined for the pair, undefined where Python would raise. */
function orderedCompare(x: unknown, y: unknown): number | undefined {
  if (typeof x === 'number' && typeof y === 'number') return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === 'string' && typeof y === 'string') return compareStrings(x, y);
  if (typeof x === 'boolean' && typeof y === 'boolean') return Number(x) - Number(y);
  if (Array.isArray(x) && Array.isArray(y)) {
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i++) {
      if (deepEqual(x[i], y[i])) continue;
      return orderedCompare(x[i], y[i]);
    }
    return x.length - y.length;
  }
  return undefined;
}

/** `x in container`: true/false, or undefined when Python would raise (wrong types). */
function contains(container: unknown, item: unknown): boolean | undefined {
  if (typeof container === 'string') return typeof item === 'string' ? container.includes(item) : undefined;
  if (Array.isArray(container)) {
    for (const el of container) if (deepEqual(el, item)) return true;
    return false;
  }
  return undefined;
}

// Lower-casing the upper-cased string approximates Python's str.casefold (e.g. "ß" folds to "ss").
function foldString(s: string): string {
  return s.toUpperCase().toLowerCase();
}

function fold(v: unknown): unknown {
  if (typeof v === 'string') return foldString(v);
  if (Array.isArray(v)) return v.map((el) => (typeof el === 'string' ? foldString(el) : el));
  return v;
}

/** Entry-side timestamps: epoch-ms numbers (in memory), `{"$date": ms}` (wire form) or Date. */
function toEpochMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  if (isObj(v) && typeof v.$date === 'number' && Number.isFinite(v.$date)) return v.$date;
  return undefined;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2})(?::?(\d{2}))?)?)?)?$/;

/**
 * Parse the ISO-8601 forms Python's datetime.fromisoformat accepts for a filter value
 * (date, optional time to any precision, optional Z/±hh[:mm[:ss]] offset) to epoch ms.
 * Naive times are taken as UTC, the daemon's clock for every stored timestamp.
 */
export function parseIsoTimestamp(s: string): number | undefined {
  const m = ISO_RE.exec(s);
  if (!m) return undefined;
  const num = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
  const year = num(1);
  const month = num(2);
  const day = num(3);
  const hour = num(4);
  const minute = num(5);
  const second = num(6);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const monthDays = [31, year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (day < 1 || day > monthDays[month - 1]!) return undefined;
  let offsetMs = 0;
  if (m[9] !== undefined) {
    const oh = num(10);
    const om = num(11);
    const os = num(12);
    if (oh > 23 || om > 59 || os > 59) return undefined;
    offsetMs = (m[9] === '-' ? -1 : 1) * ((oh * 60 + om) * 60 + os) * 1000;
  }
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offsetMs;
}

/** A Python-ish repr for error messages, so they read like the reference's. */
function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') {
    const q = v.includes("'") && !v.includes('"') ? '"' : "'";
    return q + v.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`) + q;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (isObj(v)) return `{${Object.entries(v).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  return String(v);
}

function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

// ---------------------------------------------------------------------------------------------
// Paths

interface Segment {
  key: string;
  /** Set when the segment is all digits: indexes an array (still a plain key on an object). */
  index: number | null;
  /** `*`: any element of an array. */
  wildcard: boolean;
}

/** Split a dotted path; `\.` is a literal dot inside a key. */
export function splitPath(path: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i]!;
    if (ch === '\\' && path[i + 1] === '.') {
      cur += '.';
      i++;
    } else if (ch === '.') {
      out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}

function toSegments(keys: string[]): Segment[] {
  return keys.map((key) => ({ key, index: /^\d+$/.test(key) ? Number(key) : null, wildcard: key === '*' }));
}

/** Does any value the path resolves to satisfy `test`? A path that resolves to nothing: false. */
function anyAt(value: unknown, segs: Segment[], i: number, test: (x: unknown) => boolean): boolean {
  if (value === undefined) return false;
  if (i === segs.length) return test(value);
  const seg = segs[i]!;
  if (Array.isArray(value)) {
    if (seg.wildcard) {
      for (const el of value) if (anyAt(el, segs, i + 1, test)) return true;
      return false;
    }
    return seg.index !== null && seg.index < value.length ? anyAt(value[seg.index], segs, i + 1, test) : false;
  }
  return isObj(value) ? anyAt(own(value, seg.key), segs, i + 1, test) : false;
}

function collectAt(value: unknown, segs: Segment[], i: number, out: unknown[]): void {
  anyAt(value, segs, i, (x) => {
    out.push(x);
    return false; // keep walking: collect every match
  });
}

/**
 * The value at a dotted path, or `undefined` when the field does not exist. With `*` segments the
 * result is the array of every value matched (undefined when none).
 */
export function getPath(entry: unknown, path: string): unknown {
  const segs = toSegments(splitPath(path));
  const found: unknown[] = [];
  collectAt(entry, segs, 0, found);
  if (segs.some((s) => s.wildcard)) return found.length > 0 ? found : undefined;
  return found[0];
}

// ---------------------------------------------------------------------------------------------
// Filters

function fail(message: string): never {
  throw new ValidationErrors([['filters', message, ERRNO.EINVAL]]);
}

type Test = (x: unknown) => boolean;

function baseTest(op: string, y: unknown): Test {
  switch (op) {
    case '=':
      return (x) => deepEqual(x, y);
    case '!=':
      return (x) => !deepEqual(x, y);
    case '>':
      return (x) => (orderedCompare(x, y) ?? 0) > 0;
    case '>=':
      return (x) => { const c = orderedCompare(x, y); return c !== undefined && c >= 0; };
    case '<':
      return (x) => (orderedCompare(x, y) ?? 0) < 0;
    case '<=':
      return (x) => { const c = orderedCompare(x, y); return c !== undefined && c <= 0; };
    case 'in':
      return (x) => contains(y, x) === true;
    case 'nin':
      return (x) => x !== null && contains(y, x) === false;
    case 'rin':
      return (x) => x !== null && contains(x, y) === true;
    case 'rnin':
      return (x) => x !== null && contains(x, y) === false;
    case '^':
      return (x) => typeof x === 'string' && typeof y === 'string' && x.startsWith(y);
    case '!^':
      return (x) => typeof x === 'string' && typeof y === 'string' && !x.startsWith(y);
    case '$':
      return (x) => typeof x === 'string' && typeof y === 'string' && x.endsWith(y);
    case '!$':
      return (x) => typeof x === 'string' && typeof y === 'string' && !x.endsWith(y);
    default:
      return fail(`Invalid operation: ${op}`);
  }
}

function dateTest(op: string, y: number): Test {
  return (x) => {
    const t = toEpochMs(x);
    if (t === undefined) return false;
    switch (op) {
      case '=': return t === y;
      case '!=': return t !== y;
      case '>': return t > y;
      case '>=': return t >= y;
      case '<': return t < y;
      default: return t <= y;
    }
  };
}

function compileLeaf(cond: unknown[]): Predicate {
  const [field, op, value] = cond;
  if (typeof field !== 'string') fail(`Invalid filter ${pyRepr(cond)}: field must be a string`);
  if (typeof op !== 'string') fail(`Invalid operation: ${pyStr(op)}`);
  if (op === 'C~') fail('Invalid case-insensitive operation: C~');
  const caseless = op.length > 1 && op.startsWith('C') && BASE_OPS.has(op.slice(1));
  const base = caseless ? op.slice(1) : op;
  if (!BASE_OPS.has(base)) fail(`Invalid operation: ${op}`);

  let keys = splitPath(field);
  let test: Test;
  if (keys.length > 1 && keys[keys.length - 1] === '$date') {
    if (!DATE_OPS.has(base)) fail(`${op}: invalid timestamp operation.`);
    const ms = typeof value === 'string' ? parseIsoTimestamp(value) : undefined;
    if (ms === undefined) fail(`${pyStr(value)}: must be an ISO-8601 formatted timestamp string`);
    keys = keys.slice(0, -1);
    test = dateTest(base, ms);
  } else if (base === '~') {
    if (typeof value !== 'string') fail(`Invalid filter ${pyRepr(cond)}: regular expression must be a string`);
    let re: LinearRegex;
    try {
      re = compilePythonRegex(value);
    } catch (err) {
      fail(`Invalid regular expression ${pyRepr(value)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    test = (x) => {
      const s = x === null ? '' : x;
      return typeof s === 'string' && re.test(s);
    };
  } else if (caseless) {
    const inner = baseTest(base, fold(value));
    test = (x) => inner(fold(x));
  } else {
    test = baseTest(base, value);
  }
  const segs = toSegments(keys);
  return (entry) => anyAt(entry, segs, 0, test);
}

function compileOr(cond: unknown[], depth: number): Predicate {
  const branches = cond[1];
  if (!Array.isArray(branches)) fail(`Invalid filter ${pyRepr(cond)}: OR takes a list of branches`);
  if (branches.length === 0) fail('OR filter requires at least one branch.');
  const preds = branches.map((branch: unknown): Predicate => {
    if (!Array.isArray(branch) || branch.length === 0) fail(`Invalid OR branch ${pyRepr(branch)}`);
    // A branch whose first item is a list is a list of conditions (AND); otherwise it is one condition.
    return compileAll(Array.isArray(branch[0]) ? branch : [branch], depth + 1);
  });
  return (entry) => {
    for (const p of preds) if (p(entry)) return true;
    return false;
  };
}

function compileCondition(cond: unknown, depth: number): Predicate {
  if (!Array.isArray(cond)) fail(`Invalid filter ${pyRepr(cond)}`);
  if (cond.length === 3) return compileLeaf(cond);
  if (cond.length === 2 && cond[0] === 'OR') return compileOr(cond, depth);
  return fail(`Invalid filter ${pyRepr(cond)}`);
}

function compileAll(conds: unknown[], depth: number): Predicate {
  if (depth > MAX_DEPTH) fail('query-filters max recursion depth exceeded');
  const preds = conds.map((c) => compileCondition(c, depth));
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0]!;
  return (entry) => {
    for (const p of preds) if (!p(entry)) return false;
    return true;
  };
}

/** Compile filters into a predicate; throws ValidationErrors (attribute `filters`) when malformed. */
export function compileFilters(filters: unknown): Predicate {
  if (filters === undefined) return () => true; // the argument is optional
  if (!Array.isArray(filters)) fail(`Invalid filters ${pyRepr(filters)}: expected a list of conditions`);
  return compileAll(filters, 0);
}

/** Throws ValidationErrors with attribute `filters` if the filters are malformed. */
export function validateFilters(filters: unknown): void {
  compileFilters(filters);
}

// ---------------------------------------------------------------------------------------------
// Index hints

export interface FilterHints {
  /** field → the only values it may equal for an entry to match (top-level AND `=` / `in`). */
  equals: Map<string, unknown[]>;
}

function uniqueValues(values: unknown[]): unknown[] {
  const out: unknown[] = [];
  const prims = new Set<unknown>();
  for (const v of values) {
    if (typeof v !== 'object' || v === null) {
      if (prims.has(v)) continue;
      prims.add(v);
    } else if (out.some((o) => deepEqual(o, v))) {
      continue;
    }
    out.push(v);
  }
  return out;
}

/**
 * What a store can use to pick an index. Only top-level (AND) `=` and `in` conditions on a plain
 * top-level field qualify; anything else is left to the predicate, so omitting is always safe.
 */
export function filterHints(filters: unknown): FilterHints {
  const equals = new Map<string, unknown[]>();
  if (!Array.isArray(filters)) return { equals };
  for (const cond of filters) {
    if (!Array.isArray(cond) || cond.length !== 3) continue;
    const [field, op, value] = cond as [unknown, unknown, unknown];
    if (typeof field !== 'string' || /[.*\\]/.test(field)) continue;
    let allowed: unknown[];
    if (op === '=') allowed = [value];
    else if (op === 'in' && Array.isArray(value)) allowed = uniqueValues(value);
    else continue; // `in` on a string is a substring test: no finite value set
    const prev = equals.get(field);
    // Two conditions on one field must both hold: only values allowed by both remain.
    equals.set(field, prev === undefined ? allowed : prev.filter((p) => allowed.some((a) => deepEqual(p, a))));
  }
  return { equals };
}

// ---------------------------------------------------------------------------------------------
// Ordering

interface SortKey {
  segs: Segment[];
  desc: boolean;
  nulls: 'first' | 'last' | null;
}

function parseOrderKey(spec: string): SortKey {
  let s = spec;
  let nulls: SortKey['nulls'] = null;
  if (s.startsWith('nulls_first:')) {
    nulls = 'first';
    s = s.slice('nulls_first:'.length);
  } else if (s.startsWith('nulls_last:')) {
    nulls = 'last';
    s = s.slice('nulls_last:'.length);
  }
  const desc = s.startsWith('-');
  if (desc) s = s.slice(1);
  return { segs: toSegments(splitPath(s)), desc, nulls };
}

function sortValue(entry: unknown, segs: Segment[]): unknown {
  const found: unknown[] = [];
  collectAt(entry, segs, 0, found);
  const v = segs.some((s) => s.wildcard) ? (found.length > 0 ? found : null) : (found[0] ?? null);
  // Timestamps sort by instant whichever form they are in.
  return toEpochMs(v) ?? v;
}

function typeRank(v: unknown): number {
  if (typeof v === 'boolean') return 1;
  if (typeof v === 'number') return 2;
  if (typeof v === 'string') return 3;
  if (Array.isArray(v)) return 4;
  return 5;
}

/** A total order over non-null JSON values (Python has none across types; a sort must not throw). */
function totalCompare(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 4) {
    const x = a as unknown[];
    const y = b as unknown[];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const xi = x[i] ?? null;
      const yi = y[i] ?? null;
      if (xi === null || yi === null) {
        if (xi !== yi) return xi === null ? -1 : 1;
        continue;
      }
      const c = totalCompare(xi, yi);
      if (c !== 0) return c;
    }
    return x.length - y.length;
  }
  return orderedCompare(a, b) ?? 0;
}

/**
 * A sorted copy. The first key is primary; `-field` descends; `nulls_first:` / `nulls_last:` put
 * null (and missing) values at the head / tail, otherwise null sorts as the smallest value. Stable.
 */
export function sortEntries<T>(entries: Iterable<T>, orderBy: readonly string[]): T[] {
  const list = Array.from(entries);
  if (orderBy.length === 0) return list;
  const keys = orderBy.map(parseOrderKey);
  // Decorate once: a path lookup per comparison would repeat the work n·log n times.
  const rows = list.map((entry, i) => ({ entry, i, vals: keys.map((k) => sortValue(entry, k.segs)) }));
  rows.sort((ra, rb) => {
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      const a = ra.vals[k];
      const b = rb.vals[k];
      let c: number;
      if (a === null || b === null) {
        if (a === b) continue;
        const aFirst = key.nulls === 'first' || (key.nulls === null && !key.desc);
        c = (a === null) === aFirst ? -1 : 1;
        if (c !== 0) return c;
        continue;
      }
      c = totalCompare(a, b);
      if (c !== 0) return key.desc ? -c : c;
    }
    return ra.i - rb.i;
  });
  return rows.map((r) => r.entry);
}

// ---------------------------------------------------------------------------------------------
// Projection

interface SelectItem {
  keys: string[];
  as: string | null;
}

function compileSelect(select: readonly unknown[]): SelectItem[] {
  return select.map((item) => {
    if (typeof item === 'string') return { keys: splitPath(item), as: null };
    if (Array.isArray(item) && item.length === 2 && typeof item[0] === 'string' && typeof item[1] === 'string') {
      return { keys: splitPath(item[0]), as: item[1] };
    }
    throw new CallError(
      `select: ${pyRepr(item)}: expected a field name or a [field, new_name] pair of strings`,
      ERRNO.EINVAL,
    );
  });
}

/** Plain object traversal only: select does not index arrays. */
function lookupKeys(entry: unknown, keys: string[]): unknown {
  let v = entry;
  for (const k of keys) {
    if (!isObj(v)) return undefined;
    v = own(v, k);
  }
  return v;
}

function setOwn(o: Obj, key: string, value: unknown): void {
  // defineProperty, so a key named `__proto__` is data, not a prototype change.
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
}

function projectWith(entry: unknown, items: SelectItem[]): unknown {
  if (items.length === 0) return entry;
  const out: Obj = {};
  // Nodes this projection created may be written to; anything else is the caller's data.
  const mine = new WeakSet<object>([out]);
  for (const { keys, as } of items) {
    const value = lookupKeys(entry, keys);
    if (value === undefined) continue;
    if (as !== null) {
      setOwn(out, as, value);
      continue;
    }
    let node = out;
    for (const k of keys.slice(0, -1)) {
      const cur = own(node, k);
      let next: Obj;
      if (isObj(cur) && mine.has(cur)) next = cur;
      else {
        next = isObj(cur) ? { ...cur } : {};
        mine.add(next);
        setOwn(node, k, next);
      }
      node = next;
    }
    setOwn(node, keys[keys.length - 1]!, value);
  }
  return out;
}

/**
 * `select` projection: a string keeps that (dotted) field, rebuilding the nesting; a pair
 * `[field, new_name]` keeps it under a new top-level name. Absent fields are left out, nulls kept.
 * An empty select returns the entry itself. Malformed items throw CallError (EINVAL).
 */
export function project(entry: unknown, select: readonly unknown[]): unknown {
  return projectWith(entry, compileSelect(select));
}

// ---------------------------------------------------------------------------------------------
// The pipeline

export type QueryOptionsInput = Partial<QueryOptionsT>;

/**
 * filter → (count → return) → order → (get → first) → offset → limit → select.
 * Returns the list, the single entry (`get`), or the number of matches (`count`). Entries are
 * returned as given (not copied) unless `select` projects them.
 */
export function applyQuery<T>(entries: Iterable<T>, filters: unknown = [], options: QueryOptionsInput = {}): T[] | T | number {
  const orderBy = options.order_by ?? [];
  const limit = options.limit ?? 0;
  const offset = options.offset ?? 0;
  if (options.get === true && (offset > 0 || limit > 1)) {
    throw new CallError('Options `get` cannot be combined with `offset` or a `limit` above 1', ERRNO.EINVAL);
  }
  const items = compileSelect(options.select ?? []);
  const match = compileFilters(filters);

  if (options.count === true) {
    let n = 0;
    for (const e of entries) if (match(e)) n++;
    return n;
  }

  let selected: T[];
  if (orderBy.length === 0) {
    // Without ordering the stream can stop as soon as the page is full.
    const want = options.get === true ? 1 : limit === 0 ? Infinity : limit;
    selected = [];
    let skip = offset;
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
    const sorted = sortEntries(matched, orderBy);
    selected = options.get === true ? sorted.slice(0, 1) : sorted.slice(offset, limit === 0 ? undefined : offset + limit);
  }

  if (options.get === true) {
    if (selected.length === 0) throw new MatchNotFound();
    return projectWith(selected[0], items) as T;
  }
  return items.length === 0 ? selected : selected.map((e) => projectWith(e, items) as T);
}
