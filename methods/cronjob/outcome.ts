// The seam for reporting how cron job runs end (alerts, webhooks). A run's retries are attempts
// inside its one cronjob.run job, so a run ends once, after its last attempt: the hook hears of it
// then and only then, never of a failed attempt that another follows. It is called after the
// run's final job record is stored (JobHandle.onEnd), once per run that started; a run aborted
// while it still waited never started and is not reported.
//
// makeCronjobModule({ onOutcome }) takes it. Connecting the alert framework is one line there:
//   onOutcome: (o) => o.state === 'FAILED' ? raise CronJobFailed for o.cronjob : o.state === 'SUCCESS' && clear it
// (the alert module may equally follow cronjob.run jobs as they end: it sees the same single end).

export interface CronRunOutcome {
  /** The cron job's id. */
  cronjob: number;
  /** Its description, or its command when it has none. */
  description: string;
  /** The cronjob.run job. */
  job_id: number;
  state: 'SUCCESS' | 'FAILED' | 'ABORTED';
  /** The job's error text when FAILED. */
  error: string | null;
  /** Attempts made (1 + retries used); 0 when the run was refused before its command started. */
  attempts: number;
  /** ISO time the run was scheduled for; null for a run asked for by hand. */
  scheduled_at: string | null;
  caught_up: boolean;
}

export type CronOutcomeHook = (outcome: CronRunOutcome) => void;
