// query-filters (PROTOCOL.md 7.1) compiled once per call into a predicate, plus what a store can
// use to pick an index. Malformed filters are ValidationErrors on the attribute `filters` naming
// the problem; compiling is also the validation, so a call never walks its filters twice.
import { ERRNO, ValidationErrors } from '../errors.js';
import { toEpochMs, parseIsoTimestamp } from './dates.js';
import { anyAt, splitPath, toSegments } from './paths.js';
import { compilePythonRegex, type LinearRegex } from './regex.js';
import { contains, deepEqual, fold, orderedCompare, pyRepr, pyStr, uniqueValues } from './values.js';

export type Predicate = (entry: unknown) => boolean;

/** Compiled query-filters: pass it to applyQuery instead of the raw list to skip compiling again. */
export class Filter {
  constructor(
    /** Whether an entry matches every condition. */
    readonly match: Predicate,
    /**
     * Index hints: field → the only values it may equal for an entry to match, from the top-level
     * (AND) `=` and `in` conditions on plain top-level fields. Anything else is left to `match`,
     * so a store that ignores a hint is still right.
     */
    readonly equals: ReadonlyMap<string, unknown[]>,
    /** The top-level conditions as given (for stores with hints of their own, e.g. time ranges). */
    readonly conditions: readonly unknown[],
  ) {}
}

const MAX_DEPTH = 3;
const BASE_OPS = new Set(['=', '!=', '>', '>=', '<', '<=', '~', 'in', 'nin', 'rin', 'rnin', '^', '!^', '$', '!$']);
const DATE_OPS = new Set(['=', '!=', '>', '>=', '<', '<=']);

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

/** The equality hints of well-formed top-level conditions (see Filter.equals). */
function equalityHints(conds: readonly unknown[]): Map<string, unknown[]> {
  const equals = new Map<string, unknown[]>();
  for (const cond of conds) {
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
  return equals;
}

const NO_CONDITIONS = new Filter(() => true, new Map(), []);

/** Compile query-filters; throws ValidationErrors (attribute `filters`) when they are malformed. */
export function compileFilters(filters: unknown): Filter {
  if (filters instanceof Filter) return filters;
  if (filters === undefined) return NO_CONDITIONS; // the argument is optional
  if (!Array.isArray(filters)) fail(`Invalid filters ${pyRepr(filters)}: expected a list of conditions`);
  return new Filter(compileAll(filters, 0), equalityHints(filters), filters);
}
