// Aggregated counts kept beside the job records, written in the same batches, so the summary
// questions ("how many jobs finished FAILED in the last 24 h", "how many finished jobs does this
// owner have") read a few dozen numbers instead of walking index keys (200,000 keys take about
// 300 ms to walk). Job times are whole seconds (types.ts), so per-second counters are exact;
// per-hour counters cover the middle of long ranges, per-second ones only the partial hours at
// the edges (at most 7,200 keys, fewer where no job ended).
//
// Keys (values are positive integers; a counter that reaches 0 is deleted):
//   o\0<owner>                              finished jobs of one owner (per-owner retention)
//   f\0<state>\0h\0<8-digit hour>           finished jobs by final state and hour of time_finished
//   f\0<state>\0s\0<11-digit second>        the same per second
//   s\0<state>\0h\0<8-digit hour>           jobs by stored state and hour of time_started
//   s\0<state>\0s\0<11-digit second>        the same per second
import { TERMINAL_STATES, type JobRecord, type JobState } from './types.js';

const SEP = '\x00';
const HOUR_S = 3600;

export type TimeField = 'time_started' | 'time_finished';
/** Counter key -> change. */
export type CounterDeltas = Map<string, number>;
/** The fields of a stored record that the counters depend on. */
export type Counted = Pick<JobRecord, 'state' | 'time_started' | 'time_finished' | 'owner'>;

/** Half-open range of epoch ms. */
export interface TimeRange {
  field: TimeField;
  gte: number;
  lt: number;
}

const kindOf = (field: TimeField): 's' | 'f' => (field === 'time_started' ? 's' : 'f');
const second = (ms: number): number => Math.floor(Math.max(0, ms) / 1000);
const secondKey = (s: number): string => String(s).padStart(11, '0');
const hourKey = (h: number): string => String(h).padStart(8, '0');

export function ownerCounterKey(owner: string | null | undefined): string {
  return `o${SEP}${owner ?? ''}`;
}

export const OWNER_COUNTER_PREFIX = `o${SEP}`;

function add(deltas: CounterDeltas, key: string, n: number): void {
  const v = (deltas.get(key) ?? 0) + n;
  if (v === 0) deltas.delete(key);
  else deltas.set(key, v);
}

function addTime(deltas: CounterDeltas, kind: 's' | 'f', state: JobState, ms: number, n: number): void {
  const s = second(ms);
  add(deltas, `${kind}${SEP}${state}${SEP}s${SEP}${secondKey(s)}`, n);
  add(deltas, `${kind}${SEP}${state}${SEP}h${SEP}${hourKey(Math.floor(s / HOUR_S))}`, n);
}

function addRecord(deltas: CounterDeltas, r: Counted, n: number): void {
  addTime(deltas, 's', r.state, r.time_started, n);
  if (TERMINAL_STATES.has(r.state) && r.time_finished !== null) {
    addTime(deltas, 'f', r.state, r.time_finished, n);
    add(deltas, ownerCounterKey(r.owner), n);
  }
}

/** The counter changes of one stored record going from `before` to `after` (null: absent). */
export function addTransition(deltas: CounterDeltas, before: Counted | null, after: Counted | null): void {
  if (before !== null) addRecord(deltas, before, -1);
  if (after !== null) addRecord(deltas, after, 1);
}

/** Counter key ranges ([gte, lt) on keys) whose values sum to the jobs of `state` with `field` in `range`. */
export function countRanges(state: string, range: TimeRange): Array<{ gte: string; lt: string }> {
  const kind = kindOf(range.field);
  // A job at second t (t*1000 ms) is in [gte, lt) when t >= gte/1000 and t < lt/1000.
  const sLo = Math.ceil(Math.max(0, range.gte) / 1000);
  const sHi = Math.min(1e11 - 1, Math.ceil(Math.max(0, range.lt) / 1000));
  if (sLo >= sHi) return [];
  const secs = (a: number, b: number) => ({ gte: `${kind}${SEP}${state}${SEP}s${SEP}${secondKey(a)}`, lt: `${kind}${SEP}${state}${SEP}s${SEP}${secondKey(b)}` });
  const hLo = Math.ceil(sLo / HOUR_S);
  const hHi = Math.floor(sHi / HOUR_S);
  if (hLo >= hHi) return [secs(sLo, sHi)];
  const out = [{ gte: `${kind}${SEP}${state}${SEP}h${SEP}${hourKey(hLo)}`, lt: `${kind}${SEP}${state}${SEP}h${SEP}${hourKey(hHi)}` }];
  if (sLo < hLo * HOUR_S) out.push(secs(sLo, hLo * HOUR_S));
  if (hHi * HOUR_S < sHi) out.push(secs(hHi * HOUR_S, sHi));
  return out;
}
