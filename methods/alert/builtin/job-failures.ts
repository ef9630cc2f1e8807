// Alerts about jobs that ended: a task that FAILED raises a one-shot alert for that task, its next
// SUCCESS clears it (TrueNAS's CronJobFailed, ScrubFailed, ...). Read from the jobs as they end
// (App.jobs.observe), so any module's job counts without the module doing anything.
//
// Only the last attempt counts. A module that runs its retries as separate jobs marks a failed
// attempt that another will follow with `internal.final === false` (job.setInternal), and no
// alert is raised for it: the deferral is the scheduler's to decide, the rule is here. A module
// may also raise and clear these classes itself (the key is the task's id: the same alert).
import type { AlertClassDef, App, JobRecord } from '#midship/module-api';

export interface JobFailureRule {
  /** The job method whose runs are followed. */
  method: string;
  klass: AlertClassDef;
  /** The task a run belongs to (its alert's key), from the job's arguments. */
  task(args: readonly unknown[]): unknown;
  /** One-shot classes cleared by any run of the task, whatever its outcome (e.g. "missed"). */
  clearsOnRun?: string[];
  /** Whether a job with these arguments is a run at all (pool.scrub.scrub also stops and pauses). */
  counts?(args: readonly unknown[]): boolean;
}

const ERROR_CHARS = 500;

export const CRON_JOB_FAILED: AlertClassDef = {
  name: 'CronJobFailed',
  category: 'TASKS',
  level: 'WARNING',
  title: 'Cron Job Failed',
  text: 'Cron job %(id)s failed: %(error)s (job %(job_id)d, %(description)s)',
  oneShot: true,
  key: (a) => (a as { id: unknown }).id,
};

export const CRON_JOB_MISSED: AlertClassDef = {
  name: 'CronJobMissed',
  category: 'TASKS',
  level: 'WARNING',
  title: 'Cron Job Missed Its Schedule',
  text: 'Cron job %(id)s (%(description)s) missed %(missed)d scheduled run(s) while the daemon was down, the first at %(first)s',
  oneShot: true,
  key: (a) => (a as { id: unknown }).id,
};

/** Whether a FAILED run is the last attempt there will be (see the file's comment). */
export function isFinalRun(record: Pick<JobRecord, 'internal'>): boolean {
  return record.internal?.final !== false;
}

/**
 * What an ended job means for the alerts of `rules`: raise (FAILED, final attempt), clear
 * (SUCCESS), or nothing (ABORTED, a job still going, a method no rule follows).
 */
export function jobOutcome(rules: ReadonlyMap<string, JobFailureRule>, r: Readonly<JobRecord>): { rule: JobFailureRule; raise: boolean } | null {
  const rule = rules.get(r.method);
  if (!rule || (rule.counts && !rule.counts(r.arguments))) return null;
  if (r.state === 'SUCCESS') return { rule, raise: false };
  if (r.state === 'FAILED' && isFinalRun(r)) return { rule, raise: true };
  return null;
}

/** Follows the jobs of `rules` and raises and clears their alerts. */
export function followJobFailures(app: App, rules: readonly JobFailureRule[]): () => void {
  const byMethod = new Map(rules.map((r) => [r.method, r]));
  return app.jobs.observe((r, msg) => {
    if (msg !== 'changed' || !byMethod.has(r.method)) return;
    const ended = r.state === 'SUCCESS' || r.state === 'FAILED' || r.state === 'ABORTED';
    if (!ended) return;
    const rule = byMethod.get(r.method)!;
    if (rule.counts && !rule.counts(r.arguments)) return;
    const id = rule.task(r.arguments);
    const fail = (err: unknown) => app.log.error({ err, job: r.id }, 'an alert for an ended job could not be stored');
    for (const klass of rule.clearsOnRun ?? []) app.alerts.clear(klass, { id }).catch(fail);
    const outcome = jobOutcome(byMethod, r);
    if (outcome === null) return;
    const error = (r.error ?? 'failed').replace(/\s+/g, ' ').trim();
    if (outcome.raise) {
      app.alerts.raise(rule.klass.name, {
        id, job_id: r.id, description: r.description ?? r.method,
        error: error.length > ERROR_CHARS ? `${error.slice(0, ERROR_CHARS)}…` : error,
      }).catch(fail);
    } else {
      app.alerts.clear(rule.klass.name, { id }).catch(fail);
    }
  });
}

/** Cron runs; the storage tasks' rules are in storage.ts. */
export const CRON_FAILURE_RULE: JobFailureRule = { method: 'cronjob.run', klass: CRON_JOB_FAILED, task: (args) => args[0], clearsOnRun: [CRON_JOB_MISSED.name] };
