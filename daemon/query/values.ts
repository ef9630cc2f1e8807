// JSON values compared the way the reference engine (Python) compares them, where JSON can
// express it: deep equality, code-point string order, `in` on strings and lists, casefolding.
// Anything Python would raise a TypeError on answers "undefined", which callers read as "does not
// match": a query never fails because of one odd entry.

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Own properties only: a field named `constructor` or `__proto__` must not reach the prototype. */
export function own(o: Obj, key: string): unknown {
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
export function orderedCompare(x: unknown, y: unknown): number | undefined {
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
export function contains(container: unknown, item: unknown): boolean | undefined {
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

/** The casefolded value of the `C` operators: strings, and the strings of a list. */
export function fold(v: unknown): unknown {
  if (typeof v === 'string') return foldString(v);
  if (Array.isArray(v)) return v.map((el) => (typeof el === 'string' ? foldString(el) : el));
  return v;
}

/** The values without repeats (by deep equality), in their first order. */
export function uniqueValues(values: unknown[]): unknown[] {
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

/** A Python-ish repr for error messages, so they read like the reference's. */
export function pyRepr(v: unknown): string {
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

export function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}
