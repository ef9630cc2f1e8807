// select (PROTOCOL.md 7.2): a string keeps that (dotted) field, rebuilding the nesting; a pair
// `[field, new_name]` keeps it under a new top-level name. Absent fields are left out, nulls kept.
import { CallError, ERRNO } from '../errors.js';
import { splitPath } from './paths.js';
import { isObj, own, pyRepr, type Obj } from './values.js';

export interface SelectItem {
  keys: string[];
  as: string | null;
}

/** Malformed items throw CallError (EINVAL), as the reference does when the query runs. */
export function compileSelect(select: readonly unknown[]): SelectItem[] {
  return select.map((item) => {
    if (typeof item === 'string') return { keys: splitPath(item), as: null };
    if (Array.isArray(item) && item.length === 2 && typeof item[0] === 'string' && typeof item[1] === 'string') {
      return { keys: splitPath(item[0]), as: item[1] };
    }
    throw new CallError(`select: ${pyRepr(item)}: expected a field name or a [field, new_name] pair of strings`, ERRNO.EINVAL);
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

/** The entry projected to `items`; an empty selection returns the entry itself. */
export function projectWith(entry: unknown, items: readonly SelectItem[]): unknown {
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

/** `select` applied to one entry (see compileSelect for the errors). */
export function project(entry: unknown, select: readonly unknown[]): unknown {
  return projectWith(entry, compileSelect(select));
}
