// cronjob.*: scheduled and on-demand commands as tracked jobs (issue 7). TrueNAS's cronjob shape
// (create/update/delete/query/get_instance/run) plus timeout, retries, environment, working
// directory, tags, next_run / last_run in query results, and a `cronjob.query` event.
//
// - Every run is a `cronjob.run` job (logs, abortable, lock `cronjob:<id>` unless the overlap
//   policy is ALLOW), so the execution history is the job history:
//   core.get_jobs [["method","=","cronjob.run"],["arguments.0","=",ID]].
// - The scheduler (issue 19, methods/scheduling/ on the module's clock, cronjob/scheduler.ts)
//   submits `cronjob.run(id, true, {scheduled_at, caught_up})` as an internal call; the overlap
//   policy decides what happens while earlier runs are active (cronjob/active.ts tracks them).
//   Runs missed while the daemon was down are caught up from a durable cursor (cronjob/cursors.ts).
//   A run's end starts its chain (on_success/on_failure/on_finish) as child jobs and is told to
//   the outcome hook (cronjob/outcome.ts).
// - Midship extensions beyond TrueNAS: schedule.second (6-field cron), timezone and jitter,
//   schedules, catch-up, overlap policies, retries with backoff, chains, timeout, environment
//   (values shown as "******"), working_directory, tags, next_run, last_run.
// - The child runs in its own process group; its pid, start time and boot id are stored with the
//   job so that after a crash the restart kills what is left of it (recovery.ts).
// Job log format: run.ts. Progress lines: progress.ts.
import { applyQuery, arg, CallError, ERRNO, method, notFound, queryMethod, Slots, Type, type App, type Credentials, type JobEnd, type JobHandle, type ModuleDef, type ModuleFactory } from '#midship/module-api';
import { QueryOptions } from '../schemas/query.js';
import { applyUpdate, normalizeCreate, redactEnvironment, upgradeRecord, validateData } from './cronjob/data.js';
import { bootId } from './cronjob/procfs.js';
import { killLeftover, parseRunInternal } from './cronjob/recovery.js';
import { KILL_GRACE_MS, STOP_GRACE_MS, runCronJob } from './cronjob/run.js';
import { UsageSampler } from './cronjob/usage.js';
import { ActiveRuns } from './cronjob/active.js';
import { CronScheduler } from './cronjob/scheduler.js';
import { CursorBook } from './cronjob/cursors.js';
import type { CronOutcomeHook, CronRunOutcome } from './cronjob/outcome.js';
import { CronJobCreate, CronJobEntry, CronJobUpdate, RunOrigin, RunResult, type CronJobEntryT, type LastRunT, type RunOriginT } from '../schemas/cronjob.js';
import { CronStore, type CronRecord } from './cronjob/store.js';
import { authorRefusal, cronAuthor, lookupUser, needsFullAdmin } from './cronjob/users.js';
import { Calendar, chainReferrers, chainTargets, decideOverlap, SystemClock, type ActiveRun, type Clock, type RandomSource, type ScheduledRun } from './scheduling/index.js';

const EVENT = 'cronjob.query';
const RUN = 'cronjob.run';
const Id = Type.Integer();

/** The lock of cron job `id`'s runs: one at a time. */
function runLock(id: number): string {
  return `cronjob:${id}`;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** A run to start: scheduled (with its origin and cursor) or chained (with the job that ended). */
interface RunRequest {
  id: number;
  origin: RunOriginT | null;
  /** The cursor to store once it is submitted; null: not a scheduled run. */
  cursor: number | null;
  /** The job whose end started it (parent_id of the new job). */
  parent: JobHandle | null;
}

/** What a daemon's cron module is made with; tests pass a VirtualClock and pin the zone and jitter. */
export interface CronjobOptions {
  /** What schedules run on; default the system clock. */
  clock?: Clock;
  /** Zone rules and the zone of schedules without `timezone`; default the host's zone. */
  calendar?: Calendar;
  /** The random source of schedule jitter and retry jitter; default Math.random. */
  random?: RandomSource;
  /** Told how each run ended, after its last attempt (cronjob/outcome.ts): the seam for alerts and webhooks. */
  onOutcome?: CronOutcomeHook;
}

/** The cron module with its clock and calendar (a new Calendar per daemon unless one is given). */
export function makeCronjobModule(options: CronjobOptions = {}): ModuleFactory {
  return (app) => cronModule(app, options);
}

/** The cron module as midshipd loads it: the system clock, the host's zone. */
export const cronjobModule: ModuleFactory = makeCronjobModule();

function cronModule(app: App, options: CronjobOptions): ModuleDef {
  const clock = options.clock ?? new SystemClock();
  const random = options.random ?? Math.random;
  const calendar = options.calendar ?? new Calendar();
  const store = new CronStore(app.sublevel('cronjob'));
  const records = new Map<number, CronRecord>();
  const lastRuns = new Map<number, LastRunT>();
  /** Handlers of runs in progress, by job id: the daemon's stop interrupts and awaits them. */
  const running = new Map<number, { stop: AbortController; done: Promise<unknown> }>();
  const active = new ActiveRuns();
  /** Caught-up runs of each cron job waiting for the one before them to end. */
  const backlog = new Map<number, ScheduledRun[]>();
  const cursors = new CursorBook(store, (id) => records.has(id), (err) => app.log.error({ err }, 'cannot store cron job cursors'));
  const scheduler = new CronScheduler({
    clock,
    calendar,
    random,
    onRun: (run) => fire(run),
    onCursor: (id, at) => cursors.advance(id, at),
    onError: (err, id) => app.log.error({ err, cronjob: id }, 'scheduling a cron job run failed'),
  });
  const usage = new UsageSampler();
  let nextId = 1;
  let boot: string | null = null;
  let stopping = false;
  // create/update/delete one at a time: validation awaits, and ids and records must not race.
  const writes = new Slots(1);
  const serial = <T>(fn: () => Promise<T>): Promise<T> => writes.run(fn);

  const entry = ({ author: _author, ...r }: CronRecord): CronJobEntryT => {
    return {
      ...r,
      schedule: { ...r.schedule },
      schedules: r.schedules.map((s) => ({ ...s })),
      environment: redactEnvironment(r.environment),
      tags: [...r.tags],
      next_run: iso(scheduler.next(r.id)),
      last_run: lastRuns.get(r.id) ?? null,
    };
  };

  const emit = (msg: 'added' | 'changed' | 'removed', id: number): void => {
    if (!app.events.hasListeners(EVENT)) return;
    const r = records.get(id);
    if (msg === 'removed' || r === undefined) app.events.emit(EVENT, 'removed', id);
    else app.events.emit(EVENT, msg, id, entry(r));
  };

  const validation = (caller: Credentials | null, self: number | null) => ({ calendar, now: clock.now(), caller, allowed: app.config.cronRunAsUsers, self, chains: records });

  const getRecord = (id: number): CronRecord => {
    const r = records.get(id);
    if (!r) throw notFound(`CronJob ${id} does not exist`);
    return r;
  };

  const noteRun = (cronId: number, run: LastRunT): void => {
    const prev = lastRuns.get(cronId);
    if (prev && prev.job_id > run.job_id) return;
    lastRuns.set(cronId, run);
    if (records.has(cronId)) emit('changed', cronId);
  };

  /** The runs of cron job `id` not ended: the module's own, and a run asked for by hand waiting for the lock. */
  function activeRuns(id: number): ActiveRun[] {
    const list = active.list(id);
    const holder = app.jobs.lockHolder(runLock(id));
    if (holder !== null && !list.some((r) => r.id === holder)) list.push({ id: holder, state: 'WAITING' });
    return list;
  }

  /** A scheduled time came (or was missed while the daemon was down: caughtUp). */
  function fire(run: ScheduledRun): void {
    const r = records.get(run.jobId);
    if (stopping || !r || !r.enabled) return;
    if (run.caughtUp) return catchUp(run);
    startUnderPolicy({ id: run.jobId, origin: { scheduled_at: iso(run.scheduledAt)!, caught_up: false }, cursor: run.cursor, parent: null }, 'scheduled');
  }

  /** What the overlap policy of the cron job says to a new run while earlier ones are active. */
  function startUnderPolicy(req: RunRequest, kind: 'scheduled' | 'chained'): void {
    const { id } = req;
    const r = records.get(id)!;
    const decision = decideOverlap(r.overlap_policy, r.max_concurrent, activeRuns(id));
    const about = { cronjob: id, scheduled_at: req.origin?.scheduled_at, parent: req.parent?.id };
    switch (decision.action) {
      case 'SKIP':
        app.log.info({ ...about, reason: decision.reason }, `cron job still running: ${kind} run skipped`);
        // Skipped is handled; but while missed runs are still being caught up the cursor stays
        // with them, so that a crash meanwhile runs them at the next start.
        if (req.cursor !== null && !backlog.has(id)) cursors.advance(id, req.cursor);
        return;
      case 'QUEUE':
        app.log.info({ ...about, reason: decision.reason }, `cron job still running: ${kind} run queued`);
        return void submit(req);
      case 'CANCEL_AND_START': {
        app.log.info({ ...about, reason: decision.reason }, `cron job still running: earlier runs aborted for the ${kind} one`);
        // Runs still being submitted (no id yet) cannot be aborted: the new one queues behind them.
        const aborts = decision.cancel.filter((jobId) => jobId > 0).map((jobId) => app.call('core.job_abort', [jobId]).catch((err: unknown) => app.log.warn({ cronjob: id, job: jobId, err }, 'cannot abort an earlier run')));
        // Aborted first: a waiting one must leave the lock's queue before the new one joins it.
        return void submit(req, Promise.all(aborts));
      }
      case 'START':
        return void submit(req);
    }
  }

  /** Starts a run (after `before`); resolves when it has ended, whatever the outcome. */
  function submit(req: RunRequest, before: Promise<unknown> = Promise.resolve()): Promise<void> {
    const { id } = req;
    // Counted as active from now: a due time firing meanwhile sees it.
    const submission = active.submitting(id);
    const onJob = (jobId: number) => {
      submission.submitted(jobId);
      if (req.cursor !== null) cursors.advance(id, req.cursor);
    };
    return before
      .then(() => app.call(RUN, [id, true, req.origin], { onJob, parentJob: req.parent }))
      .then(
        () => undefined,
        (err: unknown) => app.log.info({ cronjob: id, error: (err as Error).message }, 'cron job run did not succeed'),
      )
      .finally(() => submission.ended());
  }

  /** A run of cron job `id` ended: its chain starts the cron jobs that follow this outcome, as child jobs. */
  function followChain(id: number, end: JobEnd, parent: JobHandle): void {
    const r = records.get(id);
    if (stopping || r === undefined) return;
    for (const target of chainTargets(r, end.state)) {
      const t = records.get(target);
      if (t === undefined) continue;
      if (!t.enabled) {
        app.log.info({ cronjob: target, parent: end.id }, 'chained cron job is disabled: not started');
        continue;
      }
      startUnderPolicy({ id: target, origin: null, cursor: null, parent }, 'chained');
    }
  }

  /**
   * Runs missed while the daemon was down come all at once, oldest first: each cron job's run one
   * after another, whatever the overlap policy (with SKIP, catch_up ALL would otherwise run one).
   */
  function catchUp(run: ScheduledRun): void {
    const queued = backlog.get(run.jobId);
    if (queued !== undefined) return void queued.push(run);
    backlog.set(run.jobId, [run]);
    void (async () => {
      const queue = backlog.get(run.jobId)!;
      try {
            for (let next = queue.shift(); next !== undefined && !stopping && records.get(next.jobId)?.enabled === true; next = queue.shift()) {
          await submit({ id: next.jobId, origin: { scheduled_at: iso(next.scheduledAt)!, caught_up: true }, cursor: next.cursor, parent: null });
        }
      } finally {
        backlog.delete(run.jobId);
      }
    })();
  }

  /** A run ended after its last attempt: the outcome hook hears of it (cronjob/outcome.ts). */
  function report(outcome: CronRunOutcome): void {
    if (!options.onOutcome) return;
    try {
      options.onOutcome(outcome);
    } catch (err) {
      app.log.error({ err, cronjob: outcome.cronjob, job: outcome.job_id }, 'the cron outcome hook failed');
    }
  }

  /** The run-as rule again at run time: the allow-list or the author's standing may have changed. */
  async function checkRunAs(r: CronRecord): Promise<void> {
    const target = await lookupUser(r.user);
    if (target === null || !needsFullAdmin(target, app.config.cronRunAsUsers)) return; // a missing user fails the run by itself
    const why = authorRefusal(r.author, app.auth.users);
    if (why !== null) throw new CallError(`Cron job ${r.id} runs as ${r.user}, which takes a full admin, but ${why}: a full admin must save it again (cronjob.update)`, ERRNO.EPERM);
  }

  /** Kill what runs interrupted by a crash left behind (their jobs are already FAILED). */
  async function recoverInterrupted(): Promise<void> {
    await Promise.all(
      app.jobs.interrupted
        .filter((rec) => rec.method === RUN)
        .map(async (rec) => {
          const run = parseRunInternal(rec.internal);
          if (run === null) return;
          const result = await killLeftover(run, KILL_GRACE_MS);
          app.log.warn({ job: rec.id, pgid: run.pgid, result }, result === 'killed' ? 'killed the process group of an interrupted cron job run' : 'interrupted cron job run left no process behind');
        }),
    );
  }

  /** last_run of every cron job from the job history (newest first, stops when all are known). */
  async function loadLastRuns(): Promise<void> {
    if (records.size === 0) return;
    for await (const rec of app.jobs.history({ methods: [RUN], reverse: true })) {
      const id = rec.arguments[0];
      if (typeof id !== 'number' || !records.has(id) || lastRuns.has(id)) continue;
      lastRuns.set(id, { job_id: rec.id, state: rec.state, time_finished: iso(rec.time_finished) });
      if (lastRuns.size === records.size) break;
    }
  }

  return {
    services: [{ name: 'cronjob', type: 'crud', rolePrefix: 'SYSTEM_CRON', cliDescription: 'Scheduled and on-demand commands, each run a tracked job' }],
    methods: [
      queryMethod(
        'cronjob.query',
        'Query cron jobs (filters, options as every *.query). Entries add next_run (ISO time, null when disabled) and last_run {job_id, state, time_finished}; environment values read "******".',
        () => [...records.values()].sort((a, b) => a.id - b.id).map(entry),
      ),

      method('cronjob.get_instance', {
        description: 'The cron job `id`.',
        args: [arg('id', Id), arg('options', QueryOptions, { default: {} as never })],
        result: Type.Unknown(),
        handler: (_ctx, id, options) => {
          const e = entry(getRecord(id));
          return options.select.length === 0 ? e : applyQuery([e], [], { select: options.select, get: true });
        },
      }),

      method('cronjob.create', {
        description: 'Create a cron job. schedule fields use cron syntax (schedule.second is a Midship extension). stdout/stderr true: that stream is not kept in the run\'s log. Returns the new cron job.',
        args: [arg('cron_job_create', CronJobCreate)],
        result: CronJobEntry,
        handler: (ctx, data) =>
          serial(async () => {
            const d = normalizeCreate(data);
            await validateData(d, 'cron_job_create', validation(ctx.credentials, null));
            const r: CronRecord = { id: nextId, ...d, author: cronAuthor(ctx.credentials) };
            await store.put(r, nextId + 1);
            nextId++;
            records.set(r.id, r);
            scheduler.set(r);
            emit('added', r.id);
            return entry(r);
          }),
      }),

      method('cronjob.update', {
        description: 'Update cron job `id`: given fields replace the stored ones, schedule fields merge one by one; an environment value sent back as "******" keeps the stored value. Returns the cron job.',
        args: [arg('id', Id), arg('cron_job_update', CronJobUpdate)],
        result: CronJobEntry,
        handler: (ctx, id, data) =>
          serial(async () => {
            const old = getRecord(id);
            const d = applyUpdate(old, data);
            await validateData(d, 'cron_job_update', validation(ctx.credentials, id));
            const r: CronRecord = { id, ...d, author: cronAuthor(ctx.credentials) };
            await store.put(r, nextId);
            records.set(id, r);
            scheduler.set(r);
            emit('changed', id);
            return entry(r);
          }),
      }),

      method('cronjob.delete', {
        description: 'Delete cron job `id` (a run in progress goes on; its history stays in core.get_jobs). Refused while other cron jobs\' chains start it.',
        args: [arg('id', Id)],
        result: Type.Boolean(),
        handler: (_ctx, id) =>
          serial(async () => {
            getRecord(id);
            const referrers = chainReferrers(records, id);
            if (referrers.length > 0) {
              throw new CallError(`Cron job ${id} is started by the chains (on_success, on_failure, on_finish) of cron job${referrers.length > 1 ? 's' : ''} ${referrers.join(', ')}: take it out of them first`, ERRNO.EBUSY);
            }
            await store.delete(id);
            records.delete(id);
            scheduler.remove(id);
            cursors.forget(id);
            lastRuns.delete(id);
            emit('removed', id);
            return true;
          }),
      }),

      method(RUN, {
        description:
          'Run cron job `id` now, as a job: /bin/sh -c in its own process group, as its user, with timeout and retries. stdout lines {"progress": 0..1} or {"percent": 0..100} (optional "description") set the progress. Result {exit_code, duration, attempts}. skip_disabled: refuse when the cron job is disabled. origin: why the run was started, set by the scheduler (scheduled_at, caught_up); absent for runs asked for by hand.',
        args: [arg('id', Id), arg('skip_disabled', Type.Boolean(), { default: false }), arg('origin', Type.Union([RunOrigin, Type.Null()]), { default: null })],
        result: RunResult,
        job: {
          // ALLOW lets runs overlap (the module keeps them to max_concurrent); the other policies run one at a time.
          lock: ([id]) => (records.get(id)?.overlap_policy === 'ALLOW' ? null : runLock(id)),
          lockQueueSize: 1,
          abortable: true,
          logs: true,
          readRoles: ['SYSTEM_CRON_READ'],
          tags: ([id]) => records.get(id)?.tags ?? [],
          // A run asked for by hand keeps TrueNAS's arguments [id, skip_disabled]; the scheduler's
          // runs add their origin, so history can be filtered by it (arguments.2.caught_up).
          redactArgs: (args) => (args[2] === null ? [args[0], args[1]] : args),
          description: ([id]) => {
            const r = records.get(id);
            const what = r ? r.description || r.command : `#${id}`;
            return `Cron job: ${what.length > 200 ? `${what.slice(0, 200)}...` : what}`;
          },
        },
        handler: async (_ctx, job, id, skipDisabled, origin) => {
          const r = getRecord(id);
          if (skipDisabled && !r.enabled) throw new CallError('Cron job is disabled', ERRNO.EINVAL);
          if (stopping) throw new CallError('The daemon is shutting down', ERRNO.ESHUTDOWN);
          noteRun(id, { job_id: job.id, state: 'RUNNING', time_finished: null });
          active.running(id, job.id);
          let attempts = 0;
          job.onEnd((end) => {
            active.ended(id, end.id);
            noteRun(id, { job_id: end.id, state: end.state, time_finished: iso(end.time_finished) });
            report({ cronjob: id, description: r.description || r.command, job_id: end.id, state: end.state, error: end.error, attempts, scheduled_at: origin?.scheduled_at ?? null, caught_up: origin?.caught_up ?? false });
            followChain(id, end, job);
          });
          // After noteRun: a refused run shows as this cron job's last run.
          await checkRunAs(r);
          const stop = new AbortController();
          const done = runCronJob({
            job, record: structuredClone(r), stopSignal: stop.signal, bootId: boot, log: app.log, clock, random, usage,
            onAttempt: (n) => (attempts = n),
          });
          running.set(job.id, { stop, done });
          try {
            return await done;
          } finally {
            running.delete(job.id);
          }
        },
      }),
    ],
    events: [
      {
        name: EVENT,
        description: 'Cron job changes: added, changed (also when a run starts or ends: last_run), removed. Fields as in cronjob.query.',
        roles: ['SYSTEM_CRON_READ'],
      },
    ],

    async start() {
      boot = await bootId();
      const loaded = await store.load();
      nextId = loaded.nextId;
      for (const r of loaded.records) records.set(r.id, upgradeRecord(r));
      await recoverInterrupted();
      await loadLastRuns();
      await cursors.load();
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      for (const r of records.values()) scheduler.set(r, cursors.get(r.id));
      scheduler.start();
      const cpu = process.cpuUsage(cpu0);
      const enabled = [...records.values()].filter((r) => r.enabled).length;
      // CPU time beside wall time: on a busy host the wall time says more about the host.
      app.log.info({ cronJobs: records.size, enabled, ms: Math.round(performance.now() - t0), cpuMs: Math.round((cpu.user + cpu.system) / 1000) }, 'cron jobs scheduled');
    },

    async stop() {
      stopping = true;
      scheduler.stop();
      const runs = [...running.values()];
      for (const r of runs) r.stop.abort();
      // Each run sends SIGTERM, then SIGKILL after STOP_GRACE_MS; the engine waits for jobs after this.
      await Promise.race([Promise.allSettled(runs.map((r) => r.done)), new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS + 1500))]);
      await cursors.settled();
    },
  };
}

export type { CronOutcomeHook, CronRunOutcome } from './cronjob/outcome.js';
