// reporting.get_data / netdata_get_data and reporting.graphs over the history store, with the
// result shapes of TrueNAS (plugins/reporting/graphs.py, netdata/graph_base.py): one entry per
// graph instance, rows [time, v1, v2, ...] of at most 2999 points, min/mean/max per series.
import { ReportingQueryError, UnknownGraphError } from './errors.js';
import { GRAPHS, graphDef, type GraphDef } from './graphs.js';
import type { HistoryRow, HistoryStore } from './store.js';
import type { AggregationsT, GetDataResponseT, GraphIdentifierT, GraphsItemT, ReportingQueryT, ReportingUnitT } from '../../../schemas/host/reporting.js';

export const UNIT_SECONDS: Record<ReportingUnitT, number> = {
  HOUR: 3600, DAY: 86400, WEEK: 7 * 86400, MONTH: 30 * 86400, YEAR: 365 * 86400,
};

/** What netdata is asked for by TrueNAS; the UI draws no more. */
export const MAX_POINTS = 2999;

/** The [start, end] seconds a query asks for, as TrueNAS's translate_query_params reads it. */
export function queryRange(query: ReportingQueryT, nowSeconds: number): { start: number; end: number } {
  const page = query.page ?? 1;
  if (query.unit) {
    for (const k of ['start', 'end'] as const) {
      if (query[k] !== undefined && query[k] !== null) {
        throw new ReportingQueryError(`reporting_query.${k}`, `'${k}' should only be used if "unit" attribute is not provided.`);
      }
    }
  }
  const end = Math.floor(query.end ?? nowSeconds);
  const unit = query.unit ?? (query.start === undefined || query.start === null ? 'HOUR' : null);
  const start = unit ? end - UNIT_SECONDS[unit] * page : Math.floor(query.start!);
  if (start > end) throw new ReportingQueryError('reporting_query.start', "'start' must not be after 'end'.");
  return { start, end };
}

interface Point { time: number; mean: Array<number | null>; min: Array<number | null>; max: Array<number | null> }

/** Averages rows into buckets of `outStep` seconds; min and max keep the extremes. */
function group(rows: HistoryRow[], outStep: number, width: number): Point[] {
  const out: Point[] = [];
  let cur: (Point & { sum: number[]; count: number[] }) | null = null;
  const flush = () => {
    if (!cur) return;
    out.push({ time: cur.time, mean: cur.sum.map((s, i) => (cur!.count[i]! > 0 ? Math.round((s / cur!.count[i]!) * 1000) / 1000 : null)), min: cur.min, max: cur.max });
  };
  for (const r of rows) {
    const t = Math.floor(r.time / outStep) * outStep;
    if (!cur || cur.time !== t) {
      flush();
      cur = { time: t, mean: [], sum: new Array<number>(width).fill(0), count: new Array<number>(width).fill(0), min: new Array(width).fill(null), max: new Array(width).fill(null) };
    }
    for (let i = 0; i < width; i++) {
      const v = r.mean[i];
      if (typeof v === 'number') {
        cur.sum[i]! += v;
        cur.count[i]!++;
      }
      const lo = r.min[i];
      const hi = r.max[i];
      if (typeof lo === 'number') cur.min[i] = cur.min[i] === null ? lo : Math.min(cur.min[i]!, lo);
      if (typeof hi === 'number') cur.max[i] = cur.max[i] === null ? hi : Math.max(cur.max[i]!, hi);
    }
  }
  flush();
  return out;
}

function aggregate(points: Point[], legend: string[], skipZero: boolean): AggregationsT {
  const agg: AggregationsT = { min: {}, mean: {}, max: {} };
  if (points.length === 0) return agg;
  legend.forEach((name, i) => {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let n = 0;
    for (const p of points) {
      const m = p.mean[i];
      if (typeof m !== 'number' || (skipZero && m === 0)) continue;
      sum += m;
      n++;
      const lo = p.min[i] ?? m;
      const hi = p.max[i] ?? m;
      if (!(skipZero && lo === 0)) min = Math.min(min, lo);
      max = Math.max(max, hi);
    }
    agg.mean[name] = n > 0 ? Math.round((sum / n) * 1000) / 1000 : 0;
    if (n > 0) {
      agg.min[name] = Number.isFinite(min) ? min : agg.mean[name]!;
      agg.max[name] = max;
    }
  });
  return agg;
}

async function instance(store: HistoryStore, def: GraphDef, identifier: string | null, shownAs: string | null, start: number, end: number, aggregated: boolean): Promise<GetDataResponseT> {
  const read = await store.read(def.name, def.usesIdentifiers ? identifier : null, start, end);
  const legend = read.legend.length > 0 ? read.legend : def.legend ?? [];
  const outStep = read.step * Math.max(1, Math.ceil((end - start) / read.step / MAX_POINTS));
  const points = group(read.rows, outStep, legend.length);
  const data: Array<Array<number | null>> = [];
  points.forEach((p, k) => {
    // A hole (the daemon was stopped) gets one row of nulls, so a chart breaks its line there.
    if (k > 0 && p.time - points[k - 1]!.time > 2 * outStep) data.push([points[k - 1]!.time + outStep, ...legend.map(() => null)]);
    data.push([p.time, ...p.mean]);
  });
  return {
    name: def.name,
    identifier: shownAs ?? def.name,
    data,
    legend: ['time', ...legend],
    start,
    end,
    aggregations: aggregated ? aggregate(points, legend, def.skipZeroInAggregation) : null,
  };
}

/**
 * One result per graph instance asked for. A graph with identifiers asked for without one
 * answers for each identifier it has; an identifier never seen answers with no rows.
 */
export async function getData(store: HistoryStore, graphs: GraphIdentifierT[], query: ReportingQueryT = {}, nowSeconds = store.nowSeconds()): Promise<GetDataResponseT[]> {
  const defs = graphs.map((g) => {
    const def = graphDef(g.name);
    if (!def) throw new UnknownGraphError(g.name);
    return def;
  });
  const { start, end } = queryRange(query, nowSeconds);
  const aggregated = query.aggregate ?? true;
  const out: GetDataResponseT[] = [];
  for (const [i, g] of graphs.entries()) {
    const def = defs[i]!;
    const identifier = g.identifier ?? null;
    if (def.usesIdentifiers && identifier === null) {
      for (const id of identifiersOf(store, def.name)) out.push(await instance(store, def, id, id, start, end, aggregated));
    } else {
      out.push(await instance(store, def, identifier, identifier, start, end, aggregated));
    }
  }
  return out;
}

function identifiersOf(store: HistoryStore, graph: string): string[] {
  return store.list().filter((s) => s.graph === graph && s.identifier !== null).map((s) => s.identifier!).sort();
}

/** reporting.graphs: every graph kept, with the identifiers it has rows for. */
export function listGraphs(store: HistoryStore): GraphsItemT[] {
  return GRAPHS.map((g) => ({
    name: g.name,
    title: g.title,
    vertical_label: g.vertical_label,
    identifiers: g.usesIdentifiers ? identifiersOf(store, g.name) : null,
  }));
}
