// What to do when a cron job's scheduled run comes while earlier runs of it are still waiting or
// running. Pure decisions; the cron module carries them out (submit, drop, abort).
import type { OverlapPolicyT } from './schemas.js';

/** A run of the same cron job that has not ended (its job id and state). */
export interface ActiveRun {
  id: number;
  state: 'WAITING' | 'RUNNING';
}

export type OverlapDecision =
  /** Start the new run now. */
  | { action: 'START' }
  /** Submit it to wait until the running one ends. */
  | { action: 'QUEUE'; reason: string }
  /** Do not run it. */
  | { action: 'SKIP'; reason: string }
  /** Abort `cancel` (all active runs), then start the new one. */
  | { action: 'CANCEL_AND_START'; cancel: number[]; reason: string };

const jobList = (runs: readonly ActiveRun[]) => runs.map((r) => `job ${r.id} (${r.state})`).join(', ');

export function decideOverlap(policy: OverlapPolicyT, maxConcurrent: number, active: readonly ActiveRun[]): OverlapDecision {
  if (active.length === 0) return { action: 'START' };
  switch (policy) {
    case 'SKIP':
      return { action: 'SKIP', reason: `skipped: an earlier run has not ended: ${jobList(active)}` };
    case 'QUEUE_ONE': {
      const waiting = active.filter((r) => r.state === 'WAITING');
      if (waiting.length > 0) return { action: 'SKIP', reason: `skipped: a run is already queued: ${jobList(waiting)}` };
      return { action: 'QUEUE', reason: `queued behind ${jobList(active)}` };
    }
    case 'CANCEL_PREVIOUS':
      return { action: 'CANCEL_AND_START', cancel: active.map((r) => r.id), reason: `replaces ${jobList(active)}` };
    case 'ALLOW': {
      const cap = Math.max(1, Math.floor(maxConcurrent));
      if (active.length < cap) return { action: 'START' };
      return { action: 'SKIP', reason: `skipped: max_concurrent (${cap}) runs have not ended: ${jobList(active)}` };
    }
  }
}
