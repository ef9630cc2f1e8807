// Catch-up after downtime: which runs a job missed between its durable "last fired" cursor and
// now, and which of them to run. Pure computation: the engine fires what this returns.
import type { Calendar, CompiledSchedule, FireTime } from './calendar.js';
import type { CatchUpModeT } from './schemas.js';

/** With catch_up ALL, at most this many missed runs per job are run at one start; the rest are dropped. */
export const MAX_CATCH_UP_RUNS = 1000;

export interface CatchUpRun {
  /** The missed scheduled time this run stands for (ONE: the oldest in the window). */
  scheduledAt: number;
  /** The cursor to store once this run is started: everything up to it has been handled. */
  cursor: number;
  /** Which schedule produced it. */
  schedule: number;
}

export interface CatchUpPlan {
  /** Oldest first. */
  runs: CatchUpRun[];
  /** Missed runs were left out: older than the window, folded into ONE, or beyond the cap. */
  dropped: boolean;
  /** More runs were missed in the window than the cap allowed. */
  capped: boolean;
  /** The job's cursor after the plan: `now` when anything was missed, else unchanged. */
  cursor: number;
  /** When nothing was missed: the job's next fire time after the cursor (null: never), to arm. */
  next?: FireTime | null;
}

export interface CatchUpSettings {
  /** Seconds back from `now`; 0: nothing is caught up. */
  windowS: number;
  mode: CatchUpModeT;
  /** ALL: the most runs per job (default MAX_CATCH_UP_RUNS). */
  maxRuns?: number;
}

/**
 * Runs missed in (cursor, now]. Only those scheduled at or after now - window are run: ALL runs
 * each (oldest first, at most maxRuns), ONE runs once for all of them. The work is bounded by the
 * runs returned, not by the length of the outage: times before the window are never enumerated.
 */
export function planCatchUp(calendar: Calendar, schedules: readonly CompiledSchedule[], cursor: number, now: number, s: CatchUpSettings): CatchUpPlan {
  const first = calendar.nextOf(schedules, cursor);
  if (first === null || first.at > now) return { runs: [], dropped: false, capped: false, cursor, next: first };
  const windowStart = now - Math.max(0, s.windowS) * 1000;
  const dropped = first.at < windowStart;
  if (s.windowS <= 0) return { runs: [], dropped: true, capped: false, cursor: now };
  // The first missed time inside the window (times before it are skipped over, not listed).
  const from = dropped ? calendar.nextOf(schedules, windowStart - 1) : first;
  if (from === null || from.at > now) return { runs: [], dropped, capped: false, cursor: now };
  if (s.mode === 'ONE') {
    const more = calendar.nextOf(schedules, from.at);
    return { runs: [{ scheduledAt: from.at, cursor: now, schedule: from.schedule }], dropped: dropped || (more !== null && more.at <= now), capped: false, cursor: now };
  }
  const { times, capped } = calendar.fireTimes(schedules, from.at - 1, now, s.maxRuns ?? MAX_CATCH_UP_RUNS);
  const runs = times.map((t) => ({ scheduledAt: t.at, cursor: t.at, schedule: t.schedule }));
  // The last run also accounts for what the cap left out.
  if (runs.length > 0) runs[runs.length - 1]!.cursor = now;
  return { runs, dropped: dropped || capped, capped, cursor: now };
}
