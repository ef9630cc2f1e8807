// Dotted field paths of filters, order_by and select: `a.b.0` walks objects and array indexes,
// `*` is any element of an array, `\.` is a literal dot inside a key.
import { isObj, own } from './values.js';

export interface Segment {
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

export function toSegments(keys: string[]): Segment[] {
  return keys.map((key) => ({ key, index: /^\d+$/.test(key) ? Number(key) : null, wildcard: key === '*' }));
}

/** Does any value the path resolves to satisfy `test`? A path that resolves to nothing: false. */
export function anyAt(value: unknown, segs: Segment[], i: number, test: (x: unknown) => boolean): boolean {
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

/**
 * The value at a path, or `undefined` when the field does not exist. With `*` segments the result
 * is the array of every value matched (undefined when none).
 */
export function valueAt(entry: unknown, segs: Segment[]): unknown {
  const found: unknown[] = [];
  anyAt(entry, segs, 0, (x) => {
    found.push(x);
    return false; // keep walking: collect every match
  });
  if (segs.some((s) => s.wildcard)) return found.length > 0 ? found : undefined;
  return found[0];
}

/** The value at a dotted path (see valueAt). */
export function getPath(entry: unknown, path: string): unknown {
  return valueAt(entry, toSegments(splitPath(path)));
}
