// The resources a job's processes used (core.job_metrics) as a small chart on its panel: resident
// memory and CPU use (cores: CPU seconds per second between points) as two SVG lines, with the
// peak and the total beside it. Plain SVG, no chart library; polled while the job runs.
import { useEffect, useState } from 'preact/hooks';
import { isTerminal, toMs } from './format.js';
import { html } from './html.js';
import type { Job } from './jobs-store.js';
import type { RpcClient } from './rpc.js';

interface Metrics {
  points: Array<{ time: unknown; cpu_seconds: number; rss_bytes: number }>;
  cpu_seconds: number | null;
  peak_rss_bytes: number | null;
}

const POLL_MS = 2000;
const W = 300;
const H = 60;

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** SVG polyline points for values over times, scaled into the chart box. */
function line(times: number[], values: number[], max: number): string {
  const t0 = times[0]!;
  const span = Math.max(1, times[times.length - 1]! - t0);
  return values.map((v, i) => `${((W * (times[i]! - t0)) / span).toFixed(1)},${(H - (H * v) / (max || 1)).toFixed(1)}`).join(' ');
}

export function MetricsChart({ rpc, job }: { rpc: RpcClient; job: Job }) {
  const [m, setM] = useState<Metrics | null>(null);
  const active = !isTerminal(job.state);
  useEffect(() => {
    let stopped = false;
    const load = () => rpc.call<Metrics>('core.job_metrics', [job.id]).then((x) => !stopped && setM(x), () => undefined);
    void load();
    const timer = active ? setInterval(load, POLL_MS) : null;
    return () => {
      stopped = true;
      if (timer !== null) clearInterval(timer);
    };
  }, [rpc, job.id, active]);
  if (m === null || m.points.length === 0) return null;
  const times = m.points.map((p) => toMs(p.time) ?? 0);
  const rss = m.points.map((p) => p.rss_bytes);
  const cores = m.points.map((p, i) => (i === 0 ? 0 : (p.cpu_seconds - m.points[i - 1]!.cpu_seconds) / Math.max(0.001, (times[i]! - times[i - 1]!) / 1000)));
  const many = m.points.length > 1;
  return html`
    <section class="metrics" aria-labelledby="metrics-title" data-testid="job-metrics">
      <h3 id="metrics-title">Resources</h3>
      <p class="metrics-facts">
        <span data-testid="peak-rss">Peak memory ${formatBytes(m.peak_rss_bytes ?? 0)}</span>
        <span data-testid="cpu-total">CPU ${(m.cpu_seconds ?? 0).toFixed(1)} s</span>
      </p>
      ${many ? html`
        <svg class="metrics-chart" viewBox=${`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label=${`Memory and CPU of job ${job.id} over time`}>
          <polyline class="line-rss" fill="none" points=${line(times, rss, Math.max(...rss))} />
          <polyline class="line-cpu" fill="none" points=${line(times, cores, Math.max(1, ...cores))} />
        </svg>
        <p class="muted small"><span class="key key-rss"></span> memory (peak ${formatBytes(Math.max(...rss))}) <span class="key key-cpu"></span> CPU (cores, up to ${Math.max(1, ...cores).toFixed(1)})</p>` : null}
    </section>`;
}
