// Chains: on_success / on_failure / on_finish name cron jobs to start when a run ends. Which ones
// an outcome starts, and the update-time checks: targets exist, no job starts itself, and no
// cycle (A -> B -> A would run forever), reported with the path of the cycle.
import { CHAIN_FIELDS, type ChainField, type SchedulingData } from './schemas.js';
import type { ErrorSink } from './validate.js';

/** errno of a chain target that does not exist (ENOENT, as in daemon/errors.ts). */
const ENOENT = 2;

export type ChainEdges = Pick<SchedulingData, ChainField>;

/** How a run ended. An aborted run neither succeeded nor failed: only on_finish follows it. */
export type RunOutcome = 'SUCCESS' | 'FAILED' | 'ABORTED';

/** Cron jobs to start after a run with `outcome`, each once, in the order listed. */
export function chainTargets(edges: ChainEdges, outcome: RunOutcome): number[] {
  const first = outcome === 'SUCCESS' ? edges.on_success : outcome === 'FAILED' ? edges.on_failure : [];
  return [...new Set([...first, ...edges.on_finish])];
}

function successors(e: ChainEdges | undefined): number[] {
  return e === undefined ? [] : [...new Set(CHAIN_FIELDS.flatMap((f) => e[f]))];
}

export interface ChainCycle {
  /** The cycle, ending where it begins: [5, 7, 5]. */
  cycle: number[];
  /** From `start` to where the cycle closes: [3, 5, 7, 5] (equal to cycle when start is on it). */
  path: number[];
}

/**
 * A cycle reachable from `start` in the graph (all three kinds of edge count: any of them can
 * start the next run), or null. Iterative, so a long chain cannot overflow the stack.
 */
export function findCycle(graph: ReadonlyMap<number, ChainEdges>, start: number): ChainCycle | null {
  const state = new Map<number, 'open' | 'done'>();
  const path: number[] = [];
  const stack: Array<{ id: number; next: number[]; i: number }> = [];
  const enter = (id: number) => {
    state.set(id, 'open');
    path.push(id);
    stack.push({ id, next: successors(graph.get(id)), i: 0 });
  };
  enter(start);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.i === top.next.length) {
      state.set(top.id, 'done');
      stack.pop();
      path.pop();
      continue;
    }
    const n = top.next[top.i++]!;
    const s = state.get(n);
    if (s === 'open') return { cycle: [...path.slice(path.indexOf(n)), n], path: [...path, n] };
    if (s === undefined) enter(n);
  }
  return null;
}

/** Cron jobs whose chains name `id` (to refuse or clean up a delete). */
export function chainReferrers(graph: ReadonlyMap<number, ChainEdges>, id: number): number[] {
  return [...graph].filter(([, e]) => successors(e).includes(id)).map(([from]) => from);
}

/**
 * Checks the chains of job `id` (null on create: the job has no id yet, so nothing can lead back
 * to it) against the other jobs in `graph`. Errors under `${attr}.on_success.1` and so on.
 */
export function validateChains(id: number | null, edges: ChainEdges, graph: ReadonlyMap<number, ChainEdges>, attr: string, errors: ErrorSink): void {
  let ok = true;
  for (const f of CHAIN_FIELDS) {
    edges[f].forEach((target, i) => {
      if (target === id) {
        errors.add(`${attr}.${f}.${i}`, 'A cron job cannot start itself');
        ok = false;
      } else if (!graph.has(target)) {
        errors.add(`${attr}.${f}.${i}`, `Cron job ${target} does not exist`, ENOENT);
        ok = false;
      }
    });
  }
  if (!ok || id === null) return;
  const next = new Map(graph);
  next.set(id, edges);
  const found = findCycle(next, id);
  if (found === null) return;
  // Name the edge of this job the way into the cycle starts with.
  const via = found.path[1]!;
  const field = CHAIN_FIELDS.find((f) => edges[f].includes(via))!;
  const where = found.cycle[0] === id ? '' : ` (reached by ${found.path.slice(0, found.path.indexOf(found.cycle[0]!) + 1).join(' -> ')})`;
  errors.add(`${attr}.${field}.${edges[field].indexOf(via)}`, `Chains would form a cycle: ${found.cycle.join(' -> ')}${where}`);
}
