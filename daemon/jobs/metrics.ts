// Resource use of the processes a job runs (issue 19 item 7), as its module samples it: a series
// of at most MAX_POINTS points plus the peak resident memory and the total CPU time. The series
// stays bounded however long the job runs: when it is full, neighbouring points are merged (the
// later time and CPU total, the larger RSS, so peaks stay visible) and each point from then on
// stands for twice as many samples. Kept in the job record, never sent with the job itself:
// core.job_metrics returns it.
import { CallError, ERRNO } from '../errors.js';

export const MAX_POINTS = 120;

export interface MetricsPoint {
  /** Epoch ms of the point's last sample. */
  time: number;
  /** CPU seconds used by the job's processes so far. */
  cpu_seconds: number;
  /** Resident memory of the job's processes (the largest of the samples in the point). */
  rss_bytes: number;
}

export interface JobMetrics {
  points: MetricsPoint[];
  /** Samples each point stands for (doubles each time the series is merged). */
  step: number;
  /** Samples in the last point so far (fewer than `step`: it takes the next one too). */
  open: number;
  peak_rss_bytes: number;
  cpu_seconds: number;
}

/** What a module reports: CPU seconds used so far (never decreasing) and resident bytes now. */
export interface UsageSample {
  cpu_seconds: number;
  rss_bytes: number;
}

function checkSample(s: UsageSample): void {
  for (const k of ['cpu_seconds', 'rss_bytes'] as const) {
    if (typeof s[k] !== 'number' || !Number.isFinite(s[k]) || s[k] < 0) throw new CallError(`Job metrics: ${k} must be a finite number 0 or more`, ERRNO.EINVAL);
  }
}

/** `m` with one more sample taken at `time`; a new object (records are copied shallowly for the store). */
export function addSample(m: JobMetrics | undefined, sample: UsageSample, time: number): JobMetrics {
  checkSample(sample);
  const cpu = Math.max(m?.cpu_seconds ?? 0, sample.cpu_seconds);
  const point: MetricsPoint = { time, cpu_seconds: cpu, rss_bytes: sample.rss_bytes };
  const peak = Math.max(m?.peak_rss_bytes ?? 0, sample.rss_bytes);
  if (m === undefined) return { points: [point], step: 1, open: 1, peak_rss_bytes: peak, cpu_seconds: cpu };
  let { points, step, open } = m;
  if (open < step) {
    const last = points[points.length - 1]!;
    points = [...points.slice(0, -1), { ...point, rss_bytes: Math.max(last.rss_bytes, point.rss_bytes) }];
    open++;
  } else {
    points = [...points, point];
    open = 1;
  }
  if (points.length > MAX_POINTS) {
    const merged: MetricsPoint[] = [];
    for (let i = 0; i < points.length; i += 2) {
      const a = points[i]!;
      const b = points[i + 1];
      merged.push(b === undefined ? a : { time: b.time, cpu_seconds: b.cpu_seconds, rss_bytes: Math.max(a.rss_bytes, b.rss_bytes) });
    }
    // An odd count leaves the last point alone: it holds fewer samples than the new step.
    open = points.length % 2 === 1 ? open : step + open;
    points = merged;
    step *= 2;
  }
  return { points, step, open, peak_rss_bytes: peak, cpu_seconds: cpu };
}
