// Key layout of the history, in three JSON-valued sublevels of the sublevel it is given:
//   fine!<graph>\x1f<identifier>\x1f<ts>     -> [v1, v2, ...]             (10 s rows)
//   coarse!<graph>\x1f<identifier>\x1f<ts>   -> [[mean...], [min...], [max...]]  (5 min rows)
//   meta!series\x1f<graph>\x1f<identifier>   -> { graph, identifier, legend, lastSeen }
//   meta!cursor                              -> start (s) of the next 5 min bucket to roll up
// <ts> is epoch seconds in 11 zero-padded digits, so a series' rows sort by time and a time
// range is one key range. \x1f cannot occur in a graph, interface, disk or pool name.
export const SEP = '\x1f';

export function seriesId(graph: string, identifier: string | null): string {
  return `${graph}${SEP}${identifier ?? ''}`;
}

export function rowKey(series: string, ts: number): string {
  return `${series}${SEP}${String(Math.max(0, Math.floor(ts))).padStart(11, '0')}`;
}

export function rowTime(key: string): number {
  return Number(key.slice(key.lastIndexOf(SEP) + 1));
}

/** Keys of one series from `from` to `to` seconds, both included. */
export function rowRange(series: string, from: number, to: number): { gte: string; lte: string } {
  return { gte: rowKey(series, from), lte: rowKey(series, to) };
}

/** Every row of one series. */
export function seriesRange(series: string): { gte: string; lt: string } {
  return { gte: `${series}${SEP}`, lt: `${series}${SEP}\uffff` };
}

/** A name usable in a key: not empty, no control characters, not absurdly long. */
export function validName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name.length > 0 && name.length <= 255 && !/[\x00-\x1f]/.test(name);
}
