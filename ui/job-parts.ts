// Pieces shared by the jobs table and the detail panel.
import { useEffect, useState } from 'preact/hooks';
import { formatCount, formatDuration, isTerminal, STATE_LOOK, toMs, type JobState } from './format.js';
import { html } from './html.js';
import type { Job } from './jobs-store.js';

/** The current time, re-rendering every `ms` while `active` (durations of running jobs tick). */
export function useNow(active: boolean, ms = 1000): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setTick((n) => n + 1), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return Date.now();
}

export function StateBadge({ state }: { state: string }) {
  const look = STATE_LOOK[state as JobState] ?? { icon: '?', label: state };
  return html`<span class=${`state state-${state.toLowerCase()}`}><span class="icon" aria-hidden="true">${look.icon}</span> ${look.label}</span>`;
}

export function ProgressBar({ job }: { job: Job }) {
  const pct = Math.max(0, Math.min(100, job.progress?.percent ?? 0));
  const desc = job.progress?.description ?? '';
  return html`
    <div class="progress" data-testid="progress">
      <div class=${`bar bar-${job.state.toLowerCase()}`} role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${pct} aria-label=${`Job ${job.id} progress`}>
        <div class="fill" style=${{ width: `${pct}%` }}></div>
      </div>
      <div class="progress-text"><span class="pct">${pct}%</span>${desc ? html` <span class="pdesc">${desc}</span>` : null}</div>
    </div>`;
}

export function jobDuration(job: Job, now: number): string {
  const start = toMs(job.time_started);
  if (start === null) return '';
  if (job.state === 'WAITING') return '';
  const end = toMs(job.time_finished) ?? (isTerminal(job.state) ? start : now);
  return formatDuration(end - start);
}


/** The counters a job reported (progress.extra.counters), or null when it reported none. */
export function jobCounters(job: Job): { success?: number; error?: number; ignore?: number } | null {
  const extra = job.progress?.extra;
  const c = typeof extra === 'object' && extra !== null ? (extra as { counters?: unknown }).counters : undefined;
  return typeof c === 'object' && c !== null ? (c as { success?: number; error?: number; ignore?: number }) : null;
}

const COUNTER_LOOK = [
  ['success', '\u2714', 'success'],
  ['error', '\u2716', 'errors'],
  ['ignore', '\u25CB', 'ignored'],
] as const;

export function CountersLine({ job }: { job: Job }) {
  const c = jobCounters(job);
  if (c === null) return null;
  return html`<span class="counters" data-testid="counters">${COUNTER_LOOK.filter(([k]) => typeof c[k] === 'number').map(([k, icon, word]) => html`<span class=${`counter counter-${k}`} data-counter=${k}><span aria-hidden="true">${icon}</span> ${formatCount(c[k]!)} ${word}</span>`)}</span>`;
}
