// order_by (PROTOCOL.md 7.2): `field` ascending, `-field` descending, `nulls_first:` and
// `nulls_last:` prefixes. A total order over JSON values, so a sort never throws where Python
// would refuse to compare two types.
import { toEpochMs } from './dates.js';
import { splitPath, toSegments, valueAt, type Segment } from './paths.js';
import { orderedCompare } from './values.js';

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
  const v = valueAt(entry, segs) ?? null;
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
      if (a === null || b === null) {
        if (a === b) continue;
        const aFirst = key.nulls === 'first' || (key.nulls === null && !key.desc);
        return (a === null) === aFirst ? -1 : 1;
      }
      const c = totalCompare(a, b);
      if (c !== 0) return key.desc ? -c : c;
    }
    return ra.i - rb.i;
  });
  return rows.map((r) => r.entry);
}
