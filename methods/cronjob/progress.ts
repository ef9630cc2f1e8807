// Progress lines. A line on a command's stdout that is exactly one JSON object with
//   "progress": a fraction 0..1        (e.g. {"progress": 0.42, "description": "copying"}), or
//   "percent":  a number 0..100        (e.g. {"percent": 42}),
// optionally "description" (string) and "extra" (any JSON), and no other keys, sets the job's
// progress and is not written to the log. "counters" ({"success": n, "error": n, "ignore": n},
// whole numbers, each optional) sets the job's counters (progress.extra.counters), with or without
// a progress value. Anything else is ordinary output.
import { Value } from '@sinclair/typebox/value';
import { JobCounters } from '../../schemas/jobs.js';
import type { JobCountersT } from '#midship/module-api';

export interface ProgressUpdate {
  /** null: the line only reports counters. */
  percent: number | null;
  description: string | null;
  extra: unknown;
  /** Absent: the line reports none. */
  counters?: JobCountersT;
}

const KEYS = new Set(['progress', 'percent', 'description', 'extra', 'counters']);

export function parseProgressLine(line: string): ProgressUpdate | null {
  const text = line.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  if (!Object.keys(o).every((k) => KEYS.has(k))) return null;
  if ('description' in o && typeof o.description !== 'string') return null;
  const has = (k: string) => Object.hasOwn(o, k);
  if (has('counters') && !Value.Check(JobCounters, o.counters)) return null;
  let percent: number | null = null;
  if (has('progress') && !has('percent')) {
    if (typeof o.progress !== 'number' || !(o.progress >= 0 && o.progress <= 1)) return null;
    percent = o.progress * 100;
  } else if (has('percent') && !has('progress')) {
    if (typeof o.percent !== 'number' || !(o.percent >= 0 && o.percent <= 100)) return null;
    percent = o.percent;
  } else if (has('percent') || !has('counters')) {
    return null;
  }
  return { percent, description: typeof o.description === 'string' ? o.description : null, extra: has('extra') ? o.extra : null, ...(has('counters') ? { counters: o.counters as JobCountersT } : {}) };
}
