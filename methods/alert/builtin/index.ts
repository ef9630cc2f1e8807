// The alerts the daemon raises about itself: failed and missed cron runs, its data dir's free
// space, jobs stuck WAITING, its memory, API keys near expiry, repeated failed logins; and the
// storage alerts (storage.ts), which find nothing until the daemon has the storage module.
import type { AlertClassDef, AlertSourceDef, App, Sublevel } from '#midship/module-api';
import type { Clock, TimerHandle } from '../../delivery/clock.js';
import { Calendar } from '../../scheduling/index.js';
import { API_KEY_EXPIRED, API_KEY_EXPIRING, apiKeySource } from './api-keys.js';
import { raiseMissedCronRuns } from './cron-missed.js';
import { DATADIR_SPACE_CRITICAL, DATADIR_SPACE_LOW, dataDirSpaceSource } from './datadir-space.js';
import { FAILED_LOGINS, FailedLogins } from './failed-logins.js';
import { CRON_FAILURE_RULE, CRON_JOB_FAILED, CRON_JOB_MISSED, followJobFailures } from './job-failures.js';
import { DAEMON_MEMORY_HIGH, memorySource } from './memory.js';
import {
  DISK_ERRORS, POOL_USAGE_CRITICAL, POOL_USAGE_WARNING, REPLICATION_FAILED, SCRUB_FAILED, SCRUB_OVERDUE, SNAPSHOT_COUNT, SNAPSHOT_TASK_FAILED,
  STORAGE_FAILURE_RULES, storageSources, VOLUME_STATUS,
} from './storage.js';
import { JOBS_WAITING, WaitingJobs } from './waiting-jobs.js';

/** How often the daemon notes that it is up (for the cron runs it misses while down). */
const ALIVE_EVERY_MS = 60_000;

export interface BuiltinAlerts {
  classes: AlertClassDef[];
  sources: AlertSourceDef[];
  /** Notes the daemon is up from now on; returns when it was last up before (null: never). */
  start(): Promise<void>;
  /** Once every module has started: what the cron jobs missed. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

export function builtinAlerts(app: App, clock: Clock, meta: Sublevel<number>): BuiltinAlerts {
  const waiting = new WaitingJobs();
  const logins = new FailedLogins(clock);
  // Followed from the moment the module is made, so no job or login of this start is missed.
  const unfollow = [followJobFailures(app, [CRON_FAILURE_RULE, ...STORAGE_FAILURE_RULES]), waiting.follow(app), logins.follow(app)];
  let lastAlive: number | null = null;
  let startedAt = 0;
  let timer: TimerHandle | null = null;
  const noteAlive = () => meta.put('alive', clock.now());
  const beat = () => {
    timer = clock.setTimer(() => {
      noteAlive().catch((err: unknown) => app.log.error({ err }, 'noting the daemon is up failed'));
      beat();
    }, ALIVE_EVERY_MS);
  };
  return {
    classes: [
      CRON_JOB_FAILED, CRON_JOB_MISSED, DATADIR_SPACE_LOW, DATADIR_SPACE_CRITICAL, JOBS_WAITING, DAEMON_MEMORY_HIGH, API_KEY_EXPIRING, API_KEY_EXPIRED, FAILED_LOGINS,
      VOLUME_STATUS, DISK_ERRORS, POOL_USAGE_WARNING, POOL_USAGE_CRITICAL, SCRUB_OVERDUE, SNAPSHOT_COUNT, SCRUB_FAILED, SNAPSHOT_TASK_FAILED, REPLICATION_FAILED,
    ],
    sources: [dataDirSpaceSource(app.config.dataDir), waiting.source(), memorySource(), apiKeySource(app.auth.keys), logins.source(), ...storageSources(app)],
    async start() {
      lastAlive = (await meta.get('alive')) ?? null;
      startedAt = clock.now();
      await noteAlive();
      beat();
    },
    async ready() {
      await raiseMissedCronRuns(app, new Calendar(), lastAlive, startedAt);
    },
    async stop() {
      timer?.cancel();
      for (const f of unfollow) f();
      await noteAlive();
    },
  };
}
