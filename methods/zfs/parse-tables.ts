// Tab-separated (-H) output of `zfs get`, `zpool get`, `zfs list`, `zpool list`, `zfs holds`
// and `zfs send -nvP`. Names may contain spaces but never tabs or newlines (ZFS's naming
// rules), so a tab always separates columns. A property value set by someone else may contain
// a tab or a newline; those rows are reassembled instead of being misread.
import { ZfsParseError } from './errors.js';
import type { HoldRecord, PropertySourceKind, PropertyTable, PropertyValue } from './types.js';

/** Splits a row into exactly `n` columns; extra tabs belong to column `flexible` (a free-text value). */
export function splitColumns(line: string, n: number, flexible: number): string[] | null {
  const parts = line.split('\t');
  if (parts.length < n) return null;
  if (parts.length === n) return parts;
  const extra = parts.length - n;
  return [...parts.slice(0, flexible), parts.slice(flexible, flexible + extra + 1).join('\t'), ...parts.slice(flexible + extra + 1)];
}

/**
 * Rows of `n` tab-separated columns. A line with too few columns continues the previous one
 * (a value containing a newline); `flexible` is the column that may contain tabs and newlines.
 */
export function parseRows(text: string, n: number, flexible: number): string[][] {
  const rows: string[][] = [];
  let pending: string | null = null;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    const candidate: string = pending === null ? line : `${pending}\n${line}`;
    const cols = splitColumns(candidate, n, flexible);
    if (cols === null) {
      pending = candidate;
      continue;
    }
    rows.push(cols);
    pending = null;
  }
  if (pending !== null && pending.trim() !== '') throw new ZfsParseError(`${n}-column table`, pending);
  return rows;
}

/** "-", "default", "local", "inherited from tank/a", "received", "temporary". */
export function parseSource(text: string): { source: PropertySourceKind; from: string | null } {
  if (text === '-' || text === '') return { source: 'NONE', from: null };
  if (text === 'default') return { source: 'DEFAULT', from: null };
  if (text === 'local') return { source: 'LOCAL', from: null };
  if (text === 'temporary') return { source: 'TEMPORARY', from: null };
  if (text === 'received') return { source: 'RECEIVED', from: null };
  const m = /^inherited from (.+)$/.exec(text);
  if (m) return { source: 'INHERITED', from: m[1]! };
  throw new ZfsParseError('property source', text);
}

/** `zfs get -H -p -o name,property,value,source ...` or the same of `zpool get`. */
export function parseGetTable(text: string): PropertyTable {
  const table: PropertyTable = new Map();
  for (const [name, property, value, source] of parseRows(text, 4, 2)) {
    let props = table.get(name!);
    if (!props) {
      props = new Map();
      table.set(name!, props);
    }
    const pv: PropertyValue = { raw: value!, ...parseSource(source!) };
    props.set(property!, pv);
  }
  return table;
}

/** `zfs list -H -o a,b,c` / `zpool list -H -o a,b,c`: one record per row, keyed by column name. */
export function parseListTable(text: string, columns: readonly string[]): Array<Record<string, string>> {
  return parseRows(text, columns.length, columns.length - 1).map((cols) => Object.fromEntries(columns.map((c, i) => [c, cols[i]!])));
}

/** `zfs holds -H [-p] snap...`: "pool/ds@snap\ttag\ttimestamp" rows, grouped per snapshot. */
export function parseHolds(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [snap, tag] of parseRows(text, 3, 1)) {
    const list = out.get(snap!) ?? [];
    list.push(tag!);
    out.set(snap!, list);
  }
  return out;
}

/** Combines hold tags (when listable) with each snapshot's userrefs count. */
export function holdRecords(snapshots: readonly string[], userrefs: Map<string, number>, tags: Map<string, string[]> | null): HoldRecord[] {
  return snapshots.map((snapshot) => ({
    snapshot,
    tags: tags === null ? null : (tags.get(snapshot) ?? []),
    count: userrefs.get(snapshot) ?? 0,
  }));
}

/**
 * `zfs send -n -v -P ...` (OpenZFS): "full\tds@s\t1234", "incremental\ta\tds@b\t567", ...,
 * then "size\t<total>". Returns the total.
 */
export function parseSendEstimate(text: string): number {
  let size: number | null = null;
  for (const line of text.split('\n')) {
    const m = /^size\t(\d+)$/.exec(line.trim());
    if (m) size = Number(m[1]);
  }
  if (size === null) throw new ZfsParseError('zfs send -nvP output', text);
  return size;
}
