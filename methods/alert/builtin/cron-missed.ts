// Cron jobs whose scheduled time passed while the daemon was down. The alert module notes the
// time every minute (and at a clean stop); at the next start, each enabled cron job's fire times
// between that note and the start are what it missed. A job that ran since the start (a catch-up
// run) missed nothing; the next run of a job clears its alert (job-failures.ts).
import type { App } from '#midship/module-api';
import { Calendar, type ScheduleT } from '../../scheduling/index.js';
import { CRON_JOB_MISSED } from './job-failures.js';

/** The parts of a cronjob.query entry this needs (schedules: the scheduling layer's extra ones). */
interface CronEntry {
  id: number;
  enabled: boolean;
  description: string;
  command: string;
  schedule: ScheduleT;
  schedules?: ScheduleT[];
  last_run: { state: string; time_finished: string | null } | null;
}

export interface MissedRun {
  id: number;
  description: string;
  missed: number;
  /** ISO time of the first missed run. */
  first: string;
}

/** Most fire times counted per job: an outage of years with a per-second schedule stays cheap. */
const MAX_COUNTED = 1000;

/** What each cron job of `entries` missed between `downSince` and `startedAt` (ms). */
export function missedRuns(calendar: Calendar, entries: readonly CronEntry[], downSince: number, startedAt: number): MissedRun[] {
  const out: MissedRun[] = [];
  for (const e of entries) {
    if (!e.enabled || downSince >= startedAt) continue;
    const ranSince = e.last_run !== null && (e.last_run.state === 'RUNNING' || e.last_run.state === 'WAITING' || (e.last_run.time_finished !== null && Date.parse(e.last_run.time_finished) >= startedAt));
    if (ranSince) continue;
    let compiled;
    try {
      compiled = [e.schedule, ...(e.schedules ?? [])].map((s) => calendar.compile(s));
    } catch {
      continue; // a zone this host does not know: its runs are not ours to count
    }
    const { times } = calendar.fireTimes(compiled, downSince, startedAt, MAX_COUNTED);
    if (times.length === 0) continue;
    out.push({ id: e.id, description: e.description || e.command, missed: times.length, first: new Date(times[0]!.at).toISOString() });
  }
  return out;
}

/** Raises CronJobMissed for what the cron jobs missed; nothing when there is no cron module. */
export async function raiseMissedCronRuns(app: App, calendar: Calendar, downSince: number | null, startedAt: number): Promise<void> {
  if (downSince === null || !app.registry.get('cronjob.query')) return;
  const entries = (await app.call('cronjob.query', [])) as CronEntry[];
  for (const m of missedRuns(calendar, entries, downSince, startedAt)) await app.alerts.raise(CRON_JOB_MISSED.name, m);
}
